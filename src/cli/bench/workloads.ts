// The bench's workloads: which network, data and settings each one runs, and how one variant of it is set up
// in an engine process — exactly as `bnlens analyze` sets it up (resolveConfig, deriveVariants, VariantRun).
//
// Every workload measures a probed step and a plain training step of both variants. A workload can add
// phases of its own (`extraPhases`: e.g. one Hessian line, one slice point); each is timed the same way and
// reported under `phases` in the JSON line. To add a workload: append a WorkloadDef to WORKLOAD_DEFS.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AnalyzeConfig, BackendChoice, VariantName } from '../../protocol';
import { resolveConfig } from '../../engine/analyze';
import { initBackend } from '../../engine/backend';
import { etaGrid } from '../../engine/config';
import { batchIterator, BATCH_STREAM, type Dataset } from '../../engine/data';
import { UserError } from '../../engine/errors';
import type { TF, Tensor } from '../../engine/network/forward';
import { targetTensor } from '../../engine/network/forward';
import { loadNetwork, type LoadedNetwork } from '../../engine/network/load';
import { Rng } from '../../engine/rng';
import { loadData } from '../../engine/data/forNetwork';
import { VariantRun } from '../../engine/train';
import { deriveVariants } from '../../engine/variants';
import { gradientEvalFlops } from './flops';
import { lossAndGrads } from '../../engine/probes/lossAndGrads';
import { hessianVectorProduct } from '../../engine/probes/hvp';
import { SLICE_WORKLOAD } from './sliceWorkload';

/** A measured operation beyond the probed and the training step. */
export interface PhaseDef {
  /** Key in the JSON line's `phases`. */
  name: string;
  /** What one unit is, for the human output ("Hessian line", "slice point"). */
  unit: string;
  /** Matrix-product/convolution FLOPs of one unit (0 when not counted). */
  flops(b: VariantBench): number;
  /** Runs one unit; i counts from 0 within the phase (warm-up units included). */
  run(b: VariantBench, i: number): Promise<void>;
}

export interface WorkloadDef {
  name: string;
  /** One line for --help and the README. */
  summary: string;
  /** The network file, from the repository root. */
  model: string;
  request: Partial<AnalyzeConfig>;
  /** The peer's data: random normal inputs and random labels, one fixed batch. */
  randomBatch?: boolean;
  /** Which workload of the NumPy peer (bench/peer) computes the same thing, if any. */
  peer?: string;
  extraPhases?: PhaseDef[];
}

/**
 * One gradient evaluation and one exact Hessian-vector product on the same batch, timed the same way, so the
 * JSON line gives their ratio (a Hessian measurement of `bnlens analyze --hessian-every` is `hessian.hvps`
 * products). FLOPs: a gradient evaluation as counted elsewhere; the product is left uncounted (0).
 */
function hessianPhases(): PhaseDef[] {
  const state = new WeakMap<VariantBench, { x: Tensor; y: Tensor; v: Tensor[] }>();
  const fixed = (b: VariantBench) => {
    let s = state.get(b);
    if (!s) {
      const batch = b.nextBatch();
      const params = b.run.parameters();
      s = { x: batch.x, y: batch.y, v: params.map((p) => b.tf.randomNormal(p.shape, 0, 1, 'float32', 7)) };
      state.set(b, s);
    }
    return s;
  };
  const setup = (b: VariantBench) => ({ tf: b.tf, model: b.run.model, loss: b.dataset.loss, forward: { training: true } });
  return [
    {
      name: 'gradient',
      unit: 'gradient evaluation',
      flops: (b) => b.flopsPerTrainStep,
      async run(b) {
        const s = fixed(b);
        const r = lossAndGrads(setup(b), b.run.parameters(), { x: s.x, y: s.y });
        await r.value.data();
        await Promise.all(r.grads.map((g) => g.data()));
        b.tf.dispose([r.value, ...r.grads]);
      },
    },
    {
      name: 'hvp',
      unit: 'Hessian-vector product',
      flops: () => 0,
      async run(b) {
        const s = fixed(b);
        const hv = hessianVectorProduct({ ...setup(b), params: b.run.parameters(), x: s.x, y: s.y }, s.v);
        await Promise.all(hv.map((t) => t.data()));
        b.tf.dispose(hv);
      },
    },
  ];
}

export const WORKLOAD_DEFS: WorkloadDef[] = [
  {
    name: 'mlp',
    summary: 'MLP 784-512-512-512-10 (bench/mlp-784-512x3-10.json), batch 128, 8 η, random batch: the NumPy peer’s workload',
    model: 'bench/mlp-784-512x3-10.json',
    request: { batch: 128, lr: 0.1, etaRange: [0.5, 4], etaCount: 8, loss: 'softmax-ce' },
    randomBatch: true,
    peer: 'mlp',
    extraPhases: hessianPhases(),
  },
  {
    name: 'cnn',
    summary: 'examples/vgg-mnist.json on the MNIST digits, batch 64, 8 η (the peer times the same network on random images)',
    model: 'examples/vgg-mnist.json',
    request: { batch: 64, dataset: 'mnist' },
    peer: 'cnn',
    extraPhases: hessianPhases(),
  },
  {
    name: 'dln',
    summary: 'examples/deep-linear.json (25 × Dense 10×10), the file’s settings: 1000 examples as one batch',
    model: 'examples/deep-linear.json',
    request: { batch: 1000 },
  },
  SLICE_WORKLOAD,
];

export const WORKLOADS = WORKLOAD_DEFS.map((w) => w.name);
export type WorkloadName = string;

export function workloadDef(name: WorkloadName): WorkloadDef {
  const d = WORKLOAD_DEFS.find((w) => w.name === name);
  if (!d) throw new UserError(`bnlens bench: --workload must be one of ${WORKLOADS.join(', ')}, got '${name}'`);
  return d;
}

/** The repository root: the folder above dist/ (bundle) or src/cli/bench (sources) holding bench/. */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'bench', 'mlp-784-512x3-10.json')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new UserError('bnlens bench: cannot find the bench/ folder of the repository; run bench from a checkout of bnlens');
}

/** Random normal inputs and random labels, one fixed batch: the data of the NumPy peer's mlp workload. */
function randomDataset(net: LoadedNetwork, batch: number, seed: number): Dataset {
  void net;
  const rng = new Rng(seed, 4242);
  const width = 784;
  const x = new Float32Array(batch * width);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = rng.int(10);
  return {
    name: 'random',
    description: 'random normal inputs and random labels, one fixed batch (the NumPy peer’s data)',
    inputShape: [784],
    outputs: 10,
    loss: 'softmax-ce',
    train: { n: batch, x, labels },
    test: { n: 0, x: new Float32Array(0), labels: new Int32Array(0) },
  };
}

export interface VariantBench {
  workload: WorkloadDef;
  run: VariantRun;
  net: LoadedNetwork;
  dataset: Dataset;
  nextBatch: () => { x: Tensor; y: Tensor; n: number; owned: boolean };
  config: AnalyzeConfig;
  etas: number[];
  tf: TF;
  backendName: string;
  flopsPerProbedStep: number;
  flopsPerTrainStep: number;
}

/** One variant of one workload, set up the way `bnlens analyze` sets it up. */
export async function setupVariant(workload: WorkloadName, variant: VariantName, backend: BackendChoice, root: string): Promise<VariantBench> {
  const def = workloadDef(workload);
  const model = join(root, def.model);
  const net = loadNetwork(model);
  const config = resolveConfig({ ...def.request, model, backend, variants: [variant], icsEvery: 0, evalEvery: 0, probeEvery: 1 }, net);
  const ds = def.randomBatch ? randomDataset(net, config.batch, config.seed) : loadData(net, config.dataset, config.loss, config.seed);
  const active = await initBackend(config.backend);
  const tf = active.tf as unknown as TF;
  const [v] = deriveVariants(net.spec, [variant]);
  const etas = etaGrid(config);
  const run = new VariantRun(tf, v, net, ds, config, etas);
  const batchSize = Math.min(config.batch, ds.train.n);
  const makeBatch = (b: { x: Float32Array; labels?: Int32Array; targets?: Float32Array; n: number }) =>
    tf.tidy(() => ({
      x: tf.tensor(b.x, [b.n, ...ds.inputShape], 'float32'),
      y: targetTensor(tf, ds.loss, b, ds.outputs),
    }));
  let nextBatch: VariantBench['nextBatch'];
  if (def.randomBatch) {
    const fixed = makeBatch(ds.train);
    nextBatch = () => ({ ...fixed, n: ds.train.n, owned: false });
  } else {
    const it = batchIterator(ds.train, batchSize, new Rng(config.seed, BATCH_STREAM));
    nextBatch = () => {
      const b = it.next().value!;
      return { ...makeBatch(b), n: b.n, owned: true };
    };
  }
  const g = gradientEvalFlops(v.layers, run.info, batchSize);
  return {
    workload: def,
    run,
    net,
    dataset: ds,
    nextBatch,
    config,
    etas,
    tf,
    backendName: active.name,
    flopsPerProbedStep: (1 + etas.length) * g,
    flopsPerTrainStep: g,
  };
}
