// `bnlens bench`: how fast the engine trains and probes, per workload and backend, and (with --peer) how that
// compares with the hand-written NumPy/OpenBLAS peer (../shared/peer/numpy_probe.py) on the same workload.
//
// Every figure goes through the engine's own code path: each variant is a VariantRun (src/engine/train.ts)
// stepped exactly as `bnlens analyze` steps it (probes at probed steps, no ICS/eval steps), in its own engine
// process, and the two variants run concurrently, one process per core — so the two-variant wall time is
// what a user waits for one step of an analysis with two variants.
//
// Workloads:
//   mlp  MLP 784-512-512-512-10 (bench/mlp-784-512x3-10.json), batch 128, SGD lr 0.1, 8 probes at
//        η = linspace(0.5·lr, 4·lr): the peer's workload (random normal x [128, 784], random labels, one
//        fixed batch).
//   cnn  examples/vgg-mnist.json on the MNIST digits, batch 64.
//   dln  examples/deep-linear.json (25 × Dense 10×10), the file's settings: 1000 examples as one batch.
//
// FLOPs are counted analytically from the layer shapes, matrix products and convolutions only (elementwise
// work is left out): a Dense layer's forward pass is 2·B·in·out, a Conv2D's 2·B·OH·OW·KH·KW·Cin·Cout; a
// gradient evaluation is the forward pass plus the weight gradient of every layer plus the input gradient of
// every layer but the first (whose input is the data): 3F − F₁. A probed step is (1 + #η) gradient
// evaluations — the work the peer does too; the engine's extra forward pass for batch accuracy and BatchNorm
// statistics is not counted. A training step is one gradient evaluation.

import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { AnalyzeConfig, BackendChoice, VariantName } from '../protocol';
import { resolveConfig } from '../engine/analyze';
import { initBackend, wasmKernelReport } from '../engine/backend';
import { etaGrid } from '../engine/config';
import { batchIterator, BATCH_STREAM, type Dataset } from '../engine/data';
import { UserError } from '../engine/errors';
import type { TF, Tensor } from '../engine/network/forward';
import { loadNetwork, type LoadedNetwork } from '../engine/network/load';
import type { ShapeInfo } from '../engine/network/shapes';
import type { LayerNode } from '../engine/network/ir';
import { Rng } from '../engine/rng';
import { loadData } from '../engine/data/forNetwork';
import { VariantRun } from '../engine/train';
import { deriveVariants } from '../engine/variants';
import { helpText, numberFlag, parseArgs, type FlagSpec } from './args';
import { reportFailure } from './failure';

export const WORKLOADS = ['mlp', 'cnn', 'dln'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];
const VARIANTS: VariantName[] = ['standard', 'batchnorm'];
const CHILD_ENV = 'BNLENS_BENCH_CHILD';
const WARMUP_STEPS = 2;

interface WorkloadDef {
  model: string;
  request: Partial<AnalyzeConfig>;
  /** The peer's data: random normal inputs and random labels, one fixed batch. */
  randomBatch?: boolean;
  peer: boolean;
}

function workloadDef(name: WorkloadName, root: string): WorkloadDef {
  switch (name) {
    case 'mlp':
      return { model: join(root, 'bench', 'mlp-784-512x3-10.json'), request: { batch: 128, lr: 0.1, etaRange: [0.5, 4], etaCount: 8, loss: 'softmax-ce' }, randomBatch: true, peer: true };
    case 'cnn':
      return { model: join(root, 'examples', 'vgg-mnist.json'), request: { batch: 64, dataset: 'mnist' }, peer: false };
    case 'dln':
      return { model: join(root, 'examples', 'deep-linear.json'), request: { batch: 1000 }, peer: false };
  }
}

/** The repository root: the folder above dist/ (bundle) or src/cli (sources) holding bench/. */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'bench', 'mlp-784-512x3-10.json')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new UserError('bnlens bench: cannot find the bench/ folder of the repository; run bench from a checkout of bnlens');
}

// ------------------------------------------------------------------------------------------- FLOPs

/** Forward FLOPs of the matrix products and convolutions, per example; and those of the first such layer. */
export function forwardFlopsPerExample(layers: LayerNode[], info: ShapeInfo): { total: number; first: number } {
  let total = 0;
  let first = -1;
  for (const p of info.params) {
    if (p.role !== 'kernel') continue;
    const layer = layers.find((l) => l.name === p.layer);
    let f = 0;
    if (layer?.kind === 'dense') f = 2 * p.shape[0] * p.shape[1];
    else if (layer?.kind === 'conv2d') {
      const out = info.shapes.get(layer.name)!;
      const [kh, kw, ci, co] = p.shape;
      f = 2 * out[0] * out[1] * kh * kw * ci * co;
    } else continue;
    if (first < 0) first = f;
    total += f;
  }
  return { total, first: Math.max(first, 0) };
}

export function gradientEvalFlops(layers: LayerNode[], info: ShapeInfo, batch: number): number {
  const f = forwardFlopsPerExample(layers, info);
  return batch * (3 * f.total - f.first);
}

// ------------------------------------------------------------------------------------------- child

interface ChildSpec {
  workload: WorkloadName;
  variant: VariantName;
  backend: BackendChoice;
  steps: number;
  root: string;
  profile: boolean;
}

export interface ChildResult {
  variant: VariantName;
  backend: string;
  /** This process alone, ms per step. */
  msPerProbedStep: number;
  msPerTrainStep: number;
  /** CPU time of this process per step: less sensitive than wall time to other load on the machine. */
  cpuMsPerProbedStep: number;
  cpuMsPerTrainStep: number;
  flopsPerProbedStep: number;
  flopsPerTrainStep: number;
  peakRssMB: number;
  tensorsAtEnd: number;
  /** tf.memory().numTensors after each measured step. */
  tensorsPerStep: number[];
  finalLoss: number;
  kernels: { wrapped: string[]; replaced: string[]; added: string[]; viaCpu: string[] } | null;
  /** Kernels that ran through the cpu fallback, with calls and ms. */
  fallbackCalls: Record<string, { calls: number; ms: number }>;
  profile?: Array<{ kernel: string; calls: number; ms: number }>;
}

type ParentMsg = { type: 'go'; phase: 'probe' | 'train' } | { type: 'quit' };
type ChildMsg = { type: 'ready' } | { type: 'phaseDone'; phase: 'probe' | 'train' } | { type: 'result'; result: ChildResult } | { type: 'error'; message: string };

function randomDataset(net: LoadedNetwork, batch: number, seed: number): Dataset {
  const rng = new Rng(seed, 4242);
  const width = 784;
  const x = new Float32Array(batch * width);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = rng.int(10);
  void net;
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

/** Wraps every kernel of the active backend with a timer (wasm and cpu run synchronously). */
function instrumentKernels(tf: TF, backendName: string, only?: Set<string>): Map<string, { calls: number; ms: number }> {
  const stats = new Map<string, { calls: number; ms: number }>();
  const t = tf as unknown as {
    getKernelsForBackend(b: string): Array<{ kernelName: string; backendName: string; kernelFunc: (...a: unknown[]) => unknown }>;
    unregisterKernel(k: string, b: string): void;
    registerKernel(c: unknown): void;
  };
  for (const k of t.getKernelsForBackend(backendName)) {
    if (only && !only.has(k.kernelName)) continue;
    const s = { calls: 0, ms: 0 };
    stats.set(k.kernelName, s);
    const run = k.kernelFunc;
    const wrapped = { ...k, kernelFunc: (...a: unknown[]) => {
      const t0 = performance.now();
      try {
        return run(...a);
      } finally {
        s.ms += performance.now() - t0;
        s.calls++;
      }
    } };
    t.unregisterKernel(k.kernelName, backendName);
    t.registerKernel(wrapped);
  }
  return stats;
}

export interface VariantBench {
  run: VariantRun;
  nextBatch: () => { x: Tensor; y: Tensor; n: number; owned: boolean };
  config: AnalyzeConfig;
  tf: TF;
  backendName: string;
  flopsPerProbedStep: number;
  flopsPerTrainStep: number;
}

/** One variant of one workload, set up the way `bnlens analyze` sets it up. */
export async function setupVariant(workload: WorkloadName, variant: VariantName, backend: BackendChoice, root: string): Promise<VariantBench> {
  const def = workloadDef(workload, root);
  const net = loadNetwork(def.model);
  const config = resolveConfig({ ...def.request, model: def.model, backend, variants: [variant], icsEvery: 0, evalEvery: 0, probeEvery: 1 }, net);
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
      y: ds.loss === 'softmax-ce' ? tf.tensor1d(b.labels!, 'int32') : tf.tensor(b.targets!, [b.n, ds.outputs], 'float32'),
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
  return { run, nextBatch, config, tf, backendName: active.name, flopsPerProbedStep: (1 + etas.length) * g, flopsPerTrainStep: g };
}

/** Steps `count` times as analyze does; probed or plain. Returns ms per step and the tensor count after each. */
export async function stepMany(b: VariantBench, t0: number, count: number, probed: boolean): Promise<{ ms: number; cpuMs: number; tensors: number[]; loss: number }> {
  b.config.probeEvery = probed ? 1 : Number.MAX_SAFE_INTEGER;
  const tensors: number[] = [];
  let loss = NaN;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const batch = b.nextBatch();
    try {
      const out = await b.run.step(t0 + i, batch, batch.n);
      if (out.record) loss = out.record.loss;
      if (out.diverged) throw new Error(`variant ${b.run.variant.name} diverged at step ${t0 + i}: ${out.diverged.reason}`);
    } finally {
      if (batch.owned) b.tf.dispose([batch.x, batch.y]);
    }
    tensors.push(b.tf.memory().numTensors);
    await new Promise((r) => setImmediate(r));
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: (performance.now() - start) / count, cpuMs: (cpu.user + cpu.system) / 1000 / count, tensors, loss };
}

async function childMain(spec: ChildSpec): Promise<void> {
  const send = (m: ChildMsg) => new Promise<void>((r) => process.send!(m, () => r()));
  const waitFor = () => new Promise<ParentMsg>((r) => process.once('message', (m) => r(m as ParentMsg)));
  const b = await setupVariant(spec.workload, spec.variant, spec.backend, spec.root);
  const tf = b.tf;
  const fallback = new Set(wasmKernelReport()?.viaCpu ?? []);
  const fallbackStats = b.backendName === 'wasm' ? instrumentKernels(tf, 'wasm', spec.profile ? undefined : fallback) : new Map();
  // Warm-up: first calls compile, allocate the heap, fill caches.
  await stepMany(b, 0, WARMUP_STEPS, true);
  for (const s of fallbackStats.values()) {
    s.calls = 0;
    s.ms = 0;
  }
  await send({ type: 'ready' });
  let m = await waitFor();
  if (m.type !== 'go') process.exit(0);
  const probe = await stepMany(b, WARMUP_STEPS, spec.steps, true);
  const probeProfile = [...fallbackStats].map(([kernel, s]) => ({ kernel, calls: s.calls / spec.steps, ms: s.ms / spec.steps }));
  await send({ type: 'phaseDone', phase: 'probe' });
  m = await waitFor();
  if (m.type !== 'go') process.exit(0);
  const train = await stepMany(b, WARMUP_STEPS + spec.steps, spec.steps, false);
  await send({ type: 'phaseDone', phase: 'train' });
  const report = wasmKernelReport();
  const result: ChildResult = {
    variant: spec.variant,
    backend: b.backendName,
    msPerProbedStep: probe.ms,
    msPerTrainStep: train.ms,
    cpuMsPerProbedStep: probe.cpuMs,
    cpuMsPerTrainStep: train.cpuMs,
    flopsPerProbedStep: b.flopsPerProbedStep,
    flopsPerTrainStep: b.flopsPerTrainStep,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    tensorsAtEnd: tf.memory().numTensors,
    tensorsPerStep: [...probe.tensors, ...train.tensors],
    finalLoss: probe.loss,
    kernels: b.backendName === 'wasm' && report ? report : null,
    fallbackCalls: Object.fromEntries([...fallbackStats].filter(([k, s]) => fallback.has(k) && s.calls > 0)),
  };
  if (spec.profile)
    result.profile = probeProfile.filter((p) => p.calls > 0).sort((a, b2) => b2.ms - a.ms);
  await send({ type: 'result', result });
  process.exit(0);
}

// ------------------------------------------------------------------------------------------- parent

function forkChild(spec: ChildSpec): ChildProcess {
  const entry = process.argv[1];
  return fork(entry, ['bench'], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(spec) },
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

class ChildHandle {
  private queue: ChildMsg[] = [];
  private waiters: Array<(m: ChildMsg) => void> = [];
  private exited: string | null = null;
  constructor(readonly proc: ChildProcess, readonly variant: VariantName) {
    proc.on('message', (m) => this.push(m as ChildMsg));
    proc.on('exit', (code, signal) => {
      this.exited = `engine process for ${variant} exited (${signal ?? `code ${code}`})`;
      this.push({ type: 'error', message: this.exited });
    });
  }
  private push(m: ChildMsg) {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }
  async next<T extends ChildMsg['type']>(type: T): Promise<Extract<ChildMsg, { type: T }>> {
    const m = this.queue.shift() ?? (await new Promise<ChildMsg>((r) => this.waiters.push(r)));
    if (m.type === 'error') throw new Error(`${this.variant}: ${m.message}`);
    if (m.type !== type) throw new Error(`${this.variant}: expected ${type}, got ${m.type}`);
    return m as Extract<ChildMsg, { type: T }>;
  }
  send(m: ParentMsg) {
    this.proc.send(m);
  }
}

export interface BenchLine {
  workload: WorkloadName;
  backend: string;
  steps: number;
  /** Wall time of one probed step of both variants, run concurrently in two engine processes. */
  twoVariantMsPerProbedStep: number;
  /** Wall time of one plain training step of both variants, concurrently. */
  msPerTrainStep: number;
  /** Matrix-product/convolution GFLOP/s of the two concurrent variants over the probed steps. */
  gflops: number;
  trainGflops: number;
  peakRssMB: number;
  tensorsAtEnd: number;
  /** Whether every variant's tensor count stayed the same from step to step. */
  tensorsSteady: boolean;
  perVariant: Record<string, { msPerProbedStep: number; msPerTrainStep: number; cpuMsPerProbedStep: number; cpuMsPerTrainStep: number; peakRssMB: number; tensorsAtEnd: number; finalLoss: number }>;
  /** os.loadavg()[0] after the run, and the cores: wall times mean little on a machine busy with other work. */
  loadAverage: number;
  cores: number;
  fallbackCalls: Record<string, { calls: number; ms: number }>;
  peerMsPerProbedStep?: number | null;
  peerMsPerTrainStep?: number | null;
  ratioToPeer?: number | null;
  profile?: Record<string, Array<{ kernel: string; calls: number; ms: number }>>;
}

async function benchPair(workload: WorkloadName, backend: BackendChoice, steps: number, root: string, profile: boolean): Promise<BenchLine> {
  const handles = VARIANTS.map((variant) => new ChildHandle(forkChild({ workload, variant, backend, steps, root, profile }), variant));
  try {
    await Promise.all(handles.map((h) => h.next('ready')));
    const phase = async (p: 'probe' | 'train') => {
      const t0 = performance.now();
      handles.forEach((h) => h.send({ type: 'go', phase: p }));
      await Promise.all(handles.map((h) => h.next('phaseDone')));
      return (performance.now() - t0) / steps;
    };
    const probeMs = await phase('probe');
    const trainMs = await phase('train');
    const results = (await Promise.all(handles.map((h) => h.next('result')))).map((m) => m.result);
    const flopsProbe = results.reduce((a, r) => a + r.flopsPerProbedStep, 0);
    const flopsTrain = results.reduce((a, r) => a + r.flopsPerTrainStep, 0);
    const fallbackCalls: BenchLine['fallbackCalls'] = {};
    for (const r of results)
      for (const [k, s] of Object.entries(r.fallbackCalls)) {
        const f = (fallbackCalls[k] ??= { calls: 0, ms: 0 });
        f.calls += s.calls;
        f.ms += s.ms;
      }
    const line: BenchLine = {
      workload,
      backend: results[0].backend,
      steps,
      twoVariantMsPerProbedStep: round(probeMs),
      msPerTrainStep: round(trainMs),
      gflops: round(flopsProbe / (probeMs * 1e6)),
      trainGflops: round(flopsTrain / (trainMs * 1e6)),
      peakRssMB: round(Math.max(...results.map((r) => r.peakRssMB))),
      tensorsAtEnd: results.reduce((a, r) => a + r.tensorsAtEnd, 0),
      tensorsSteady: results.every((r) => r.tensorsPerStep.every((n) => n === r.tensorsPerStep[0])),
      perVariant: Object.fromEntries(
        results.map((r) => [r.variant, { msPerProbedStep: round(r.msPerProbedStep), msPerTrainStep: round(r.msPerTrainStep), cpuMsPerProbedStep: round(r.cpuMsPerProbedStep), cpuMsPerTrainStep: round(r.cpuMsPerTrainStep), peakRssMB: round(r.peakRssMB), tensorsAtEnd: r.tensorsAtEnd, finalLoss: r.finalLoss }]),
      ),
      fallbackCalls,
      loadAverage: round(loadavg()[0]),
      cores: availableParallelism(),
    };
    if (profile) line.profile = Object.fromEntries(results.map((r) => [r.variant, (r.profile ?? []).map((p) => ({ ...p, ms: round(p.ms, 3) }))]));
    return line;
  } finally {
    for (const h of handles) if (h.proc.exitCode === null) h.proc.kill();
  }
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function peerPath(root: string): string {
  return resolve(root, '..', 'shared', 'peer', 'numpy_probe.py');
}

function runPeer(root: string, steps: number): { ms: number; train: number } {
  const path = peerPath(root);
  if (!existsSync(path))
    throw new UserError(`bnlens bench --peer: the NumPy peer is not at ${path} (expected ../shared/peer/numpy_probe.py beside the repository); run without --peer`);
  let ms = 0;
  let train = 0;
  for (const bn of [false, true]) {
    const r = spawnSync('python3', [path, 'bench', ...(bn ? ['--bn'] : []), '--steps', String(steps)], { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      throw new UserError(`bnlens bench --peer: the NumPy peer failed (${r.error?.message ?? r.stderr.trim().split('\n').pop()}); it needs python3 with numpy`);
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms_per_probed_step: number; ms_per_train_step: number };
    ms += line.ms_per_probed_step;
    train += line.ms_per_train_step;
  }
  return { ms, train };
}

const FLAGS: Record<string, FlagSpec> = {
  workload: { value: true, help: `one of ${WORKLOADS.join(', ')} (default: all)` },
  backend: { value: true, help: 'wasm | cpu | node | auto (default auto: the embedded default here)' },
  steps: { value: true, help: 'measured probed steps and plain training steps each (default 20)' },
  peer: { value: false, help: 'also run the NumPy peer (../shared/peer/numpy_probe.py) on the mlp workload and print the ratio' },
  json: { value: false, help: 'one JSON line per workload and backend' },
  profile: { value: false, help: 'also time every kernel over the probed steps (ms per probed step, per variant)' },
  help: { value: false, help: 'this help' },
};

const USAGE = 'Usage: bnlens bench [--workload mlp|cnn|dln] [--backend auto|wasm|cpu|node] [--steps N] [--peer] [--json]';

export async function benchMain(argv: string[]): Promise<number> {
  const child = process.env[CHILD_ENV];
  if (child) {
    try {
      await childMain(JSON.parse(child) as ChildSpec);
    } catch (e) {
      process.send?.({ type: 'error', message: String((e as Error)?.stack ?? e) } satisfies ChildMsg);
      return reportFailure(e);
    }
    return 0;
  }
  try {
    const args = parseArgs(argv, FLAGS, 'bench');
    if (args.flags.has('help')) {
      process.stdout.write(helpText(USAGE, FLAGS));
      return 0;
    }
    if (args.positional.length) throw new UserError(`bnlens bench: unexpected argument '${args.positional[0]}' (${USAGE.replace('Usage: ', '')})`);
    const w = args.flags.get('workload');
    if (w !== undefined && !(WORKLOADS as readonly string[]).includes(String(w))) throw new UserError(`bnlens bench: --workload must be one of ${WORKLOADS.join(', ')}, got '${String(w)}'`);
    const b = String(args.flags.get('backend') ?? 'auto');
    if (!['auto', 'wasm', 'cpu', 'node'].includes(b)) throw new UserError(`bnlens bench: --backend must be auto, wasm, cpu or node, got '${b}'`);
    const steps = numberFlag(args, 'steps', 'bench', { integer: true, min: 1 }) ?? 20;
    const json = args.flags.has('json');
    const root = repoRoot();
    const workloads = w ? [w as WorkloadName] : [...WORKLOADS];
    const peer = args.flags.has('peer');
    if (peer && !existsSync(peerPath(root)))
      throw new UserError(`bnlens bench --peer: the NumPy peer is not at ${peerPath(root)} (expected ../shared/peer/numpy_probe.py beside the repository); run without --peer`);
    if (!json) process.stdout.write(`bnlens bench: ${steps} probed + ${steps} training steps per variant after ${WARMUP_STEPS} warm-up steps; variants standard and batchnorm run concurrently in two engine processes\n`);
    for (const wl of workloads) {
      const line = await benchPair(wl, b as BackendChoice, steps, root, args.flags.has('profile'));
      if (peer && workloadDef(wl, root).peer) {
        const p = runPeer(root, steps);
        line.peerMsPerProbedStep = round(p.ms);
        line.peerMsPerTrainStep = round(p.train);
        line.ratioToPeer = round(line.twoVariantMsPerProbedStep / p.ms);
      }
      process.stdout.write(json ? `${JSON.stringify(line)}\n` : humanLine(line));
    }
    if (!json)
      process.stdout.write(
        '\nGFLOP/s counts matrix products and convolutions only (Dense 2·B·in·out, Conv2D 2·B·OH·OW·KH·KW·Cin·Cout per forward pass; a gradient evaluation 3F − F(first layer); a probed step 1 + #η gradient evaluations), over the wall time of both variants.\n' +
          (peer ? 'The peer runs its two variants one after the other (NumPy/OpenBLAS on all cores); its figure is their sum.\n' : ''),
      );
    return 0;
  } catch (e) {
    return reportFailure(e);
  }
}

/** Whether the engine processes waited for the cores (wall time well above their CPU time). */
function busy(l: BenchLine): boolean {
  return Object.values(l.perVariant).some((v) => v.msPerProbedStep > 1.25 * v.cpuMsPerProbedStep);
}

function humanLine(l: BenchLine): string {
  const v = Object.entries(l.perVariant)
    .map(([k, s]) => `${k}: ${s.msPerProbedStep.toFixed(1)} ms wall, ${s.cpuMsPerProbedStep.toFixed(1)} ms CPU`)
    .join(', ');
  const fb = Object.entries(l.fallbackCalls).map(([k, s]) => `${k} ×${s.calls} (${s.ms.toFixed(1)} ms)`);
  let out =
    `\n${l.workload} on ${l.backend}:\n` +
    `  probed step, both variants:   ${l.twoVariantMsPerProbedStep.toFixed(1)} ms   (${v})\n` +
    `  training step, both variants: ${l.msPerTrainStep.toFixed(1)} ms   (${Object.entries(l.perVariant).map(([k, s]) => `${k}: ${s.cpuMsPerTrainStep.toFixed(1)} ms CPU`).join(', ')})\n` +
    `  GFLOP/s: ${l.gflops.toFixed(1)} probing, ${l.trainGflops.toFixed(1)} training\n` +
    `  peak RSS ${l.peakRssMB.toFixed(0)} MB per engine process; tensors alive at the end ${l.tensorsAtEnd} (${l.tensorsSteady ? 'steady from step to step' : 'CHANGING from step to step: a leak'})\n` +
    `  load average ${l.loadAverage.toFixed(1)} on ${l.cores} cores${busy(l) ? '; wall time well above CPU time: other work shared the cores, wall times are inflated' : ''}\n` +
    (fb.length ? `  cpu fallback: ${fb.join(', ')}\n` : '');
  if (l.peerMsPerProbedStep != null)
    out += `  NumPy peer: ${l.peerMsPerProbedStep.toFixed(1)} ms per probed step, ${l.peerMsPerTrainStep!.toFixed(1)} ms per training step (both variants); ratio project/peer ${l.ratioToPeer!.toFixed(2)}\n`;
  if (l.profile)
    for (const [variant, rows] of Object.entries(l.profile))
      out += `  kernels of ${variant} (ms per step): ${rows.slice(0, 15).map((r) => `${r.kernel} ${r.ms.toFixed(2)}`).join(', ')}\n`;
  return out;
}
