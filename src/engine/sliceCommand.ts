// `bnlens slice` and the extension's "Loss Surface at Step…": random-direction slices of the loss surface
// (Li et al. 2018) of the file as written or of its variants, at the file's weights, other weights, or the
// weights a run reaches after N steps, on one fixed batch. The maths is in probes/slice.ts; this module
// gathers the weights, the batch and the directions, and spreads the grid over engine processes.

import { writeFileSync } from 'node:fs';
import type { AnalyzeConfig, SliceRequest, SliceResult, SliceVariant, VariantName } from '../protocol';
import { resolveConfig } from './analyze';
import { initBackend, type ActiveBackend } from './backend';
import { etaGrid } from './config';
import { batchIterator, BATCH_STREAM, takeRows, type Dataset, type DataSplit } from './data';
import { UserError } from './errors';
import { ForwardModel, type ForwardOptions, type Tensor, type TF } from './network/forward';
import { initialWeights, loadNetwork, paramKey, type LoadedNetwork } from './network/load';
import { inferShapes, type ShapeInfo } from './network/shapes';
import { lossAndGrads, type Batch, type ProbeSetup } from './probes/lossAndGrads';
import { evaluatePoints, gridPoints, isIgnored, linspace, makeDirections, type ParamMeta, type SliceDirections } from './probes/slice';
import { Rng } from './rng';
import { loadData, mergeSplits } from './data/forNetwork';
import { batchTensors } from './tensors';
import { VariantRun } from './train';
import { shapeLoss, type SlicePart } from './sliceMerge';
import { asWrittenIsDistinct, deriveVariants, type Variant } from './variants';

/** Seed stream of the fixed probe batch drawn from the training data. */
export const SLICE_BATCH_STREAM = 3103;

export const SLICE_DEFAULTS = {
  dims: 2 as 1 | 2,
  range: [-1, 1] as [number, number],
  points: 21,
  directions: 'random' as const,
  norm: 'filter' as const,
  ignore: 'biasbn' as const,
  bn: 'train' as const,
  seed: 0,
  batch: 1024,
  backend: 'auto' as const,
};

export type ResolvedSlice = Required<Omit<SliceRequest, 'data' | 'weights' | 'atStep' | 'train' | 'variants' | 'parallel'>> & Pick<SliceRequest, 'data' | 'weights' | 'atStep' | 'train' | 'variants'>;

export const BN_NOTE =
  'BatchNorm in training mode (batch statistics), as every other probe of BatchNorm Lens; the anchors ' + '(tomgoldstein/loss-landscape, Li et al. 2018) evaluate in evaluation mode — `--bn eval` gives theirs.';

/** Checks a request and fills the defaults; every problem is one UserError line. */
export function resolveSlice(req: SliceRequest): ResolvedSlice {
  const r = { ...SLICE_DEFAULTS, ...Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined)) } as ResolvedSlice;
  const bad = (msg: string): never => {
    throw new UserError(`bnlens slice: ${msg}`);
  };
  if (r.dims !== 1 && r.dims !== 2) bad(`--dims must be 1 or 2, got ${r.dims}`);
  if (!Array.isArray(r.range) || r.range.length !== 2 || !r.range.every(Number.isFinite) || !(r.range[0] < r.range[1]))
    bad(`--range must be two numbers lo,hi with lo < hi, e.g. --range -1,1; got ${JSON.stringify(r.range)}`);
  if (!Number.isInteger(r.points) || r.points < 2 || r.points > 401) bad(`--points must be a whole number from 2 to 401, got ${r.points}`);
  if (!['random', 'gradient-random'].includes(r.directions)) bad(`--directions must be random or gradient-random, got '${r.directions}'`);
  if (!['filter', 'layer', 'none'].includes(r.norm)) bad(`--norm must be filter, layer or none, got '${r.norm}'`);
  if (!['biasbn', 'none'].includes(r.ignore)) bad(`--ignore must be biasbn or none, got '${r.ignore}'`);
  if (!['train', 'eval'].includes(r.bn)) bad(`--bn must be train or eval, got '${r.bn}'`);
  if (!Number.isInteger(r.seed)) bad(`--seed must be a whole number, got ${r.seed}`);
  if (!Number.isInteger(r.batch) || r.batch < 1) bad(`--batch must be a whole number ≥ 1, got ${r.batch}`);
  if (r.atStep !== undefined && (!Number.isInteger(r.atStep) || r.atStep < 0)) bad(`--at-step must be a whole number ≥ 0, got ${r.atStep}`);
  if (r.atStep !== undefined && r.weights) bad('give either --weights or --at-step, not both');
  return r;
}

interface Prepared {
  variant: Variant;
  step: number | null;
  info: ShapeInfo;
  model: ForwardModel;
  metas: ParamMeta[];
  weights: Float32Array[];
  moving: Map<string, { mean: Float32Array; variance: Float32Array }>;
}

export interface SliceShare {
  /** This process evaluates the points k, k + of, k + 2·of, … of the grid. */
  k: number;
  of: number;
}

export interface SliceRunOptions {
  share?: SliceShare;
  /** Where to write the directions (--save-directions), from the process that has share 0. */
  saveDirections?: string;
  onProgress?: (done: number, total: number) => void;
  /** After each chunk of points: this process's share so far (finished variants, and the one under way with the points done). */
  onPartial?: (part: SlicePart) => void;
  /** A backend already started by the caller. */
  backend?: ActiveBackend;
}

export type { SlicePart };

/** The slice in this process (all points, or the share given). */
export async function runSlice(req: SliceRequest, opts: SliceRunOptions = {}): Promise<SlicePart> {
  const t0 = performance.now();
  const r = resolveSlice(req);
  const net = loadNetwork(r.model);
  const train = trainingConfig(r, net);
  const ds = loadData(net, r.data ?? train.dataset, train.loss, train.seed);
  const backend = opts.backend ?? (await initBackend(r.backend));
  const tf = backend.tf as unknown as TF;
  const names = variantNames(r, net, train);
  const { split, source } = sliceBatch(r, ds, train.dataset);
  const alphas = linspace(r.range[0], r.range[1], r.points);
  const betas = r.dims === 2 ? linspace(r.range[0], r.range[1], r.points) : null;
  const all = gridPoints(alphas, betas);
  const share = opts.share ?? { k: 0, of: 1 };
  const mine = all.filter((_, i) => i % share.of === share.k);
  const total = mine.length * names.length;
  const batch = batchTensors(tf, ds, split);
  const variants: SliceVariant[] = [];
  const points: [number, number][][] = [];
  const saved: { variant: string; metas: ParamMeta[]; dirs: SliceDirections }[] = [];
  const build = (vs: SliceVariant[], wallMs: number): SliceResult => ({
    schema: 'bnlens-slice',
    version: 1,
    createdAt: new Date().toISOString(),
    model: r.model,
    dims: r.dims,
    alphas,
    ...(betas ? { betas } : {}),
    directions: r.directions,
    norm: r.norm,
    ignore: r.ignore,
    bn: r.bn,
    batch: split.n,
    batchSource: source,
    seed: r.seed,
    variant: vs[0].variant,
    step: vs[0].step,
    loss: vs[0].loss,
    centerLoss: vs[0].centerLoss,
    directionCosine: vs[0].directionCosine,
    variants: vs,
    backend: backend.name,
    backendReason: backend.reason,
    tfjsVersion: backend.tfjsVersion,
    processes: 1,
    wallMs,
    pointsPerSecond: (all.length * names.length) / (wallMs / 1000),
    note: r.bn === 'train' ? BN_NOTE : 'BatchNorm in evaluation mode (moving statistics), as the anchors (Li et al. 2018) evaluate.',
  });
  try {
    for (const [v, name] of names.entries()) {
      const p = await prepare(tf, name, r, net, ds, train);
      const forward: ForwardOptions = r.bn === 'train' ? { training: true } : { training: false, moving: new Map([...p.moving].map(([k, m]) => [k, { mean: tf.tensor(m.mean), variance: tf.tensor(m.variance) }])) };
      const setup: ProbeSetup = { tf, model: p.model, loss: ds.loss, forward };
      const w = p.metas.map((m, k) => tf.tensor(p.weights[k], m.shape, 'float32'));
      let grad: Float32Array[] | undefined;
      let center: number;
      {
        const { value, grads } = lossAndGrads(setup, w, batch);
        center = (await value.data())[0];
        if (r.directions === 'gradient-random') grad = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
        tf.dispose([value, ...grads]);
      }
      if (!Number.isFinite(center)) throw new UserError(`bnlens slice: the loss of variant ${name} at its weights is ${center}; nothing to slice`);
      const dirs = makeDirections(p.weights, p.metas, { dims: r.dims, kind: r.directions, norm: r.norm, ignore: r.ignore, seed: r.seed }, grad);
      saved.push({ variant: name, metas: p.metas, dirs });
      const d1 = p.metas.map((m, k) => tf.tensor(dirs.d1[k], m.shape, 'float32'));
      const d2 = dirs.d2 ? p.metas.map((m, k) => tf.tensor(dirs.d2![k], m.shape, 'float32')) : null;
      // Everything of this variant but its losses is known now: the snapshots for the live charts carry it.
      const meta = {
        variant: name,
        step: p.step,
        centerLoss: center,
        directionCosine: dirs.cosine,
        etaPerAlpha: dirs.etaPerAlpha,
        gradNorm: dirs.gradNorm,
        sliceParams: p.metas.reduce((a, m, k) => a + (isIgnored(m, r.ignore) ? 0 : p.weights[k].length), 0),
      };
      const done: [number, number][] = [];
      const onChunk = (n: number, chunk: ArrayLike<number>) => {
        for (let i = 0; i < chunk.length; i++) done.push([mine[n - chunk.length + i].index, chunk[i]]);
        opts.onProgress?.(v * mine.length + n, total);
        if (opts.onPartial) {
          const sofar = [...variants, { ...meta, loss: shapeLoss(alphas, betas, new Map(done)) }];
          opts.onPartial({ result: build(sofar, performance.now() - t0), points: [...points, [...done]] });
        }
      };
      let losses: number[];
      try {
        losses = await evaluatePoints(setup, w, d1, d2, batch, mine, forward, 16, onChunk);
      } finally {
        tf.dispose([...w, ...d1, ...(d2 ?? [])]);
        if (forward.moving) for (const m of forward.moving.values()) tf.dispose([m.mean, m.variance]);
      }
      points.push(mine.map((pt, i) => [pt.index, losses[i]]));
      variants.push({ ...meta, loss: shapeLoss(alphas, betas, new Map(mine.map((pt, i) => [pt.index, losses[i]]))) });
    }
  } finally {
    tf.dispose([batch.x, batch.y]);
  }
  if (opts.saveDirections && share.k === 0) writeDirections(opts.saveDirections, saved, r);
  const result = build(variants, performance.now() - t0);
  return { result, points };
}

/** The settings of the run a slice belongs to: the data set for the batch, and the training of --at-step. */
function trainingConfig(r: ResolvedSlice, net: LoadedNetwork): AnalyzeConfig {
  return resolveConfig({ ...(r.train ?? {}), model: r.model, backend: r.backend }, net);
}

function variantNames(r: ResolvedSlice, net: LoadedNetwork, train: AnalyzeConfig): VariantName[] {
  if (r.variants && r.variants.length) return r.variants;
  if (r.atStep === undefined) return ['as-written'];
  return train.variants.filter((v) => v !== 'as-written' || asWrittenIsDistinct(net.spec));
}

/** The whole --data file (as `bnlens probe`), or `batch` training examples drawn with the seed. */
function sliceBatch(r: ResolvedSlice, ds: Dataset, dataset: string): { split: DataSplit; source: string } {
  if (r.data) {
    const all = mergeSplits(ds.train, ds.test);
    return { split: all, source: `the whole of ${r.data} (${all.n} examples)` };
  }
  if (ds.train.n <= r.batch) return { split: ds.train, source: `all ${ds.train.n} training examples of ${dataset}` };
  const rows = new Rng(r.seed, SLICE_BATCH_STREAM).permutation(ds.train.n).subarray(0, r.batch);
  const b = takeRows(ds.train, rows);
  return { split: { n: b.n, x: b.x, labels: b.labels, targets: b.targets }, source: `${b.n} training examples of ${dataset} drawn with seed ${r.seed}` };
}

async function prepare(tf: TF, name: VariantName, r: ResolvedSlice, net: LoadedNetwork, ds: Dataset, train: AnalyzeConfig): Promise<Prepared> {
  const [variant] = name === 'as-written' ? [{ name, description: '', layers: net.spec.layers, outputs: net.spec.outputs } as Variant] : deriveVariants(net.spec, [name]);
  const info = name === 'as-written' ? net.info : inferShapes(variant.layers, net.spec.file, net.text);
  const model = new ForwardModel(variant.layers, variant.outputs[0], info, ds.loss === 'softmax-ce');
  const metas: ParamMeta[] = info.params.map((p) => ({ layer: p.layer, role: p.role, shape: p.shape }));
  if (r.atStep !== undefined) return { ...(await trainTo(tf, variant, r.atStep, net, ds, train)), variant, info, model, metas };
  let values = initialWeights({ spec: { ...net.spec, layers: variant.layers }, info, text: net.text }, train.seed, name === 'as-written');
  if (r.weights) values = weightsFrom(r.weights, info, values);
  return {
    variant,
    step: null,
    info,
    model,
    metas,
    weights: info.params.map((p) => values.get(paramKey(p.layer, p.role))!),
    moving: movingFrom(info, values),
  };
}

function movingFrom(info: ShapeInfo, values: Map<string, Float32Array>): Prepared['moving'] {
  const m: Prepared['moving'] = new Map();
  for (const s of info.state) {
    const e = m.get(s.layer) ?? ({} as { mean: Float32Array; variance: Float32Array });
    e[s.role === 'moving_mean' ? 'mean' : 'variance'] = values.get(paramKey(s.layer, s.role))!;
    m.set(s.layer, e);
  }
  return m;
}

/** Weights of the same layers from another tfjs model.json (its shards beside it). */
function weightsFrom(file: string, info: ShapeInfo, base: Map<string, Float32Array>): Map<string, Float32Array> {
  const other = loadNetwork(file);
  if (!other.spec.weights) throw new UserError('--weights: this model.json has no weightsManifest; give one saved with its weights', file);
  const theirs = initialWeights(other, 0, false);
  const out = new Map(base);
  for (const p of [...info.params, ...info.state]) {
    const key = paramKey(p.layer, p.role);
    const v = theirs.get(key);
    const need = p.shape.reduce((a, b) => a * b, 1);
    if (!v) throw new UserError(`--weights: no weight "${key}" in this file; it must have the same layers as the model`, file);
    if (v.length !== need) throw new UserError(`--weights: "${key}" has ${v.length} values, the model needs [${p.shape.join(', ')}]`, file);
    out.set(key, v);
  }
  return out;
}

/** The weights after `steps` SGD steps of the run's settings: the same batches, the same updates as `bnlens analyze`. */
async function trainTo(tf: TF, variant: Variant, steps: number, net: LoadedNetwork, ds: Dataset, config: AnalyzeConfig): Promise<Pick<Prepared, 'step' | 'weights' | 'moving'>> {
  if (steps > config.steps) throw new UserError(`bnlens slice: --at-step ${steps} is beyond the run's ${config.steps} steps`);
  // Probes and statistics do not change the weights; leaving them out only saves time.
  const quiet: AnalyzeConfig = { ...config, probeEvery: Number.MAX_SAFE_INTEGER, icsEvery: 0, evalEvery: 0 };
  const run = new VariantRun(tf, variant, net, ds, quiet, etaGrid(config));
  try {
    const batchSize = Math.min(config.batch, ds.train.n);
    const batches = batchIterator(ds.train, batchSize, new Rng(config.seed, BATCH_STREAM));
    for (let t = 0; t < steps; t++) {
      const b = batches.next().value!;
      const batch: Batch = batchTensors(tf, ds, b);
      try {
        // Step 0 is probed (0 mod anything is 0); the probe reads, it does not move the weights.
        const out = await run.step(t, batch, b.n);
        if (out.diverged) throw new UserError(`bnlens slice: variant ${variant.name} diverged at step ${out.diverged.step} (${out.diverged.reason}); choose an earlier --at-step`);
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
    }
    const { params, moving } = run.current;
    const weights = await Promise.all(params.map(async (p) => Float32Array.from((await p.data()) as Float32Array)));
    const m: Prepared['moving'] = new Map();
    for (const [k, v] of moving) m.set(k, { mean: Float32Array.from((await v.mean.data()) as Float32Array), variance: Float32Array.from((await v.variance.data()) as Float32Array) });
    return { step: steps, weights, moving: m };
  } finally {
    run.dispose();
  }
}

/**
 * `--save-directions`: one JSON object with, per variant, the parameters in model order (layer, role,
 * shape) and d₁, d₂ as flat arrays in row-major order (tfjs layout: Dense [in, out], Conv2D
 * [kh, kw, in, out]). Values are the float32 numbers the slice used, written exactly.
 */
function writeDirections(path: string, saved: { variant: string; metas: ParamMeta[]; dirs: SliceDirections }[], r: ResolvedSlice): void {
  const doc = {
    schema: 'bnlens-slice-directions',
    version: 1,
    norm: r.norm,
    ignore: r.ignore,
    directions: r.directions,
    seed: r.seed,
    variants: saved.map((s) => ({
      variant: s.variant,
      directionCosine: s.dirs.cosine,
      etaPerAlpha: s.dirs.etaPerAlpha,
      params: s.metas.map((m, k) => ({ layer: m.layer, role: m.role, shape: m.shape, d1: Array.from(s.dirs.d1[k]), d2: s.dirs.d2 ? Array.from(s.dirs.d2[k]) : null })),
    })),
  };
  writeFileSync(path, JSON.stringify(doc));
}

export type { Tensor };
