// The main job: train the network's variants side by side on the same batches, measure at every probed
// step what Santurkar et al. measure, and build one report. A library function first — the CLI, the
// extension's engine process and the tests are thin callers that pass onEvent and an AbortSignal.

import { REPORT_SCHEMA, REPORT_VERSION, type AnalyzeConfig, type AnalyzeRequest, type BackendName, type EngineToHost, type LossName, type Report } from '../protocol';
import { EtaHelpers, etaProcessesFor } from './etaHelpers';
import { DEFAULT_CONFIG, etaGrid, readConfigValues, SWEEP_DEFAULTS } from './config';
import { batchIterator, BATCH_STREAM } from './data';
import { UserError } from './errors';
import type { LayerNode } from './network/ir';
import { layerShapeInSource, shapeInSourceLayout } from './network/layout';
import { isPythonFile, openNetwork, type LoadedNetwork, type NetworkReadOptions } from './network/load';
import { peekInputShape } from './data/peek';
import { paramCount } from './network/shapes';
import { gib, largestFittingBatch, networkSize, planMemory, trainBytes } from './memory';
import { analyzeInProcesses, defaultParallelism, findWorkerScript, groupVariants, IN_PROCESS_ENV } from './parallel';
import { Rng } from './rng';
import { loadData } from './data/forNetwork';
import { inputShape } from './network/modelIO';
import { summarize } from '../report/summary';
import { startRun } from './startup';
import { batchTensors } from './tensors';
import { VariantRun } from './train';
import { asWrittenIsDistinct, deriveVariants } from './variants';
import { BNLENS_VERSION } from './version';
import { analyzeSweep } from './sweep';

export type EventSink = (e: EngineToHost) => void;

/** Defaults < the file's own `userDefinedMetadata.bnlens` < what the caller set. */
export function resolveConfig(req: AnalyzeRequest, net: LoadedNetwork): AnalyzeConfig {
  const fromFile = net.defaults ? readConfigValues(net.defaults, 'userDefinedMetadata.bnlens', net.spec.file) : {};
  const given = Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined)) as AnalyzeRequest;
  const c: AnalyzeConfig = { ...DEFAULT_CONFIG, ...fromFile, ...given, model: req.model };
  if (c.dataset === 'auto') c.dataset = autoDataset(net.spec.layers);
  // A single lr given by the caller overrides a sweep in the file's own settings.
  if (given.lr !== undefined && given.lrs === undefined) delete c.lrs;
  if (c.lrs && c.lrs.length > 1) {
    if (given.probeEvery === undefined && fromFile.probeEvery === undefined) c.probeEvery = SWEEP_DEFAULTS.probeEvery;
    if (given.icsEvery === undefined && fromFile.icsEvery === undefined) c.icsEvery = SWEEP_DEFAULTS.icsEvery;
  } else delete c.lrs;
  return c;
}

/** MNIST for 28×28 inputs, the deep-linear-network data for a network without any nonlinearity, else Gaussian clusters. */
export function autoDataset(layers: LayerNode[]): string {
  const shape = inputShape(layers);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 784 && (shape.length === 1 || (shape[0] === 28 && shape[1] === 28))) return 'mnist';
  const nonlinear = layers.some((l) => l.kind === 'relu' || l.kind === 'pool' || l.kind === 'batchnorm' || ((l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'activation') && l.activation !== 'linear'));
  return nonlinear ? 'gaussian' : 'dln';
}

export interface AnalyzeOptions {
  /** Engine processes to spread the variants over; default one per core (1 = everything in this process). */
  parallel?: number;
}

export async function analyze(req: AnalyzeRequest, onEvent: EventSink = () => {}, signal?: AbortSignal, opts: AnalyzeOptions = {}): Promise<Report> {
  const tStart = performance.now();
  const wallMs: Record<string, number> = {};
  const t0 = performance.now();
  const net = await openNetwork(req.model, readOptionsFor(req));
  if (net.spec.weightsSource) onEvent({ type: 'log', level: 'info', message: `weights read from ${net.spec.weightsSource}` });
  // Once per analysis: the engine processes forked for the variants read the same file again.
  if (!process.env[IN_PROCESS_ENV]) for (const note of net.notes ?? []) onEvent({ type: 'log', level: 'warn', message: note });
  const config = resolveConfig(req, net);
  const names = config.variants.filter((v) => v !== 'as-written' || asWrittenIsDistinct(net.spec));
  if (names.length < config.variants.length) onEvent({ type: 'log', level: 'info', message: "variant 'as-written' left out: the file is already one of the other variants" });
  config.variants = names;
  if (config.lrs) {
    // Fail fast on bad data here, before any run starts.
    loadData(net, config.dataset, config.loss, config.seed);
    return analyzeSweep(config, onEvent, signal, opts);
  }
  const parallel = opts.parallel ?? defaultParallelism(names.length);
  // Memory: checked from the shapes before any data, weight or backend memory is allocated.
  const size = networkSize(
    deriveVariants(net.spec, names).map((v) => v.layers),
    net.spec.file,
    net.text,
  );
  const batchChosen = req.batch !== undefined || (net.defaults !== null && net.defaults.batch !== undefined);
  if (!batchChosen) {
    // Nobody chose the batch: a default that does not fit (224×224 MobileNets at 128) becomes the largest that does.
    const fits = largestFittingBatch(size, config.batch, config.backend, parallel);
    if (fits < config.batch) {
      onEvent({
        type: 'log',
        level: 'warn',
        message: `the default batch ${config.batch} does not fit in memory for this network (about ${gib(trainBytes(size, config.batch))}); using batch ${fits} — set --batch to choose`,
      });
      config.batch = fits;
    }
  }
  const plan = planMemory(size, { batch: config.batch, evalBatch: config.evalBatch, backend: config.backend, processes: parallel, file: net.spec.file });
  config.evalBatch = plan.evalChunk;
  const worker = parallel > 1 ? findWorkerScript() : null;
  // Resolved here, where the engine processes are known; the processes forked below get the number.
  config.etaProcesses = etaProcessesFor(config.etaProcesses, worker ? parallel : 1, config.etaCount);
  if (worker) {
    // Fail fast on bad data here, before any process is forked.
    loadData(net, config.dataset, config.loss, config.seed);
    return analyzeInProcesses(config, groupVariants(names, parallel), worker, onEvent, signal);
  }
  wallMs.load = performance.now() - t0;
  const { ds, backend, tf, ms } = await startRun(net, config);
  wallMs.load += ms.load;
  wallMs.backend = ms.backend;
  if (ds.train.n === 0) throw new UserError(`data set '${config.dataset}' has no training examples`);

  const variants = deriveVariants(net.spec, names);
  const etas = etaGrid(config);
  const batchSize = Math.min(config.batch, ds.train.n);
  if (batchSize < config.batch) onEvent({ type: 'log', level: 'warn', message: `batch ${config.batch} is larger than the ${ds.train.n} training examples; using batches of ${batchSize}` });
  const runs = variants.map((v) => new VariantRun(tf, v, net, ds, config, etas));
  startEtaHelpers(runs, config, backend.name, ds.loss, onEvent);

  const report: Report = {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    createdAt: new Date().toISOString(),
    complete: false,
    stopReason: null,
    config,
    model: {
      path: net.spec.file,
      format: net.spec.format,
      name: net.spec.name,
      ...(net.spec.layout === 'NCHW' ? { layout: net.spec.layout } : {}),
      ...(net.spec.weightsSource ? { weightsSource: net.spec.weightsSource } : {}),
      layers: net.spec.layers
        .filter((l) => l.kind !== 'input' || existsSyntheticInput(net, l))
        .map((l) => ({
          name: l.name,
          className: l.className,
          outputShape: [null, ...layerShapeInSource(net.spec, l.name, net.info.shapes.get(l.name)!)],
          params: paramCount(net.info, l.name),
        })),
    },
    dataset: {
      name: ds.description ? `${ds.name} — ${ds.description}` : ds.name,
      trainSize: ds.train.n,
      testSize: ds.test.n,
      inputShape: shapeInSourceLayout(ds.inputShape, net.spec.layout),
      outputs: ds.outputs,
      loss: ds.loss,
    },
    run: {
      backend: backend.name,
      backendReason: backend.reason,
      tfjsVersion: backend.tfjsVersion,
      bnlensVersion: BNLENS_VERSION,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      wallMs,
      parallelProcesses: 1,
    },
    eta: etas,
    variants: runs.map((r) => r.report),
    summary: [],
  };
  onEvent({ type: 'started', report: structuredClone(report) });

  const batches = batchIterator(ds.train, batchSize, new Rng(config.seed, BATCH_STREAM));
  const total = config.steps * runs.length;
  let done = 0;
  const tTrain = performance.now();
  let stopReason: string | null = null;
  try {
    for (let t = 0; t < config.steps; t++) {
      if (signal?.aborted) {
        stopReason = 'cancelled';
        break;
      }
      const b = batches.next().value!;
      const batch = batchTensors(tf, ds, b);
      try {
        for (const run of runs) {
          if (run.diverged) {
            done++;
            continue;
          }
          if (config.evalEvery > 0 && t % config.evalEvery === 0 && t > 0) {
            onEvent({ type: 'phase', variant: run.variant.name, step: t, phase: 'eval' });
            const e = await run.evaluate(t, ds.test);
            if (e) onEvent({ type: 'eval', variant: run.variant.name, record: e });
          }
          if (run.hessianDue(t)) onEvent({ type: 'phase', variant: run.variant.name, step: t, phase: 'hessian' });
          const out = await run.step(t, batch, b.n);
          done++;
          const elapsed = performance.now() - tTrain;
          const progress = { done, total, etaMs: done > 0 ? (elapsed / done) * (total - done) : null };
          if (out.record) onEvent({ type: 'step', variant: run.variant.name, record: out.record, progress });
          if (out.layerStats.length) onEvent({ type: 'layerStats', variant: run.variant.name, records: out.layerStats });
          if (out.diverged) onEvent({ type: 'diverged', variant: run.variant.name, info: out.diverged });
          if (out.warning) onEvent({ type: 'log', level: 'warn', message: `${run.variant.name}: ${out.warning}` });
          if (out.helperWarning) onEvent({ type: 'log', level: 'warn', message: `${run.variant.name}: ${out.helperWarning}` });
        }
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
      // Let the event loop run: a cancel message or Ctrl-C arrives between steps.
      await new Promise((r) => setImmediate(r));
    }
    for (const run of runs) {
      const e = await run.evaluate(stopReason ? -1 : config.steps, ds.test);
      if (e) {
        if (stopReason) e.step = run.report.steps.length ? run.report.steps[run.report.steps.length - 1].step + 1 : 0;
        onEvent({ type: 'eval', variant: run.variant.name, record: e });
      }
    }
  } finally {
    wallMs.train = performance.now() - tTrain;
    for (const k of ['gradient', 'probe', 'ics', 'update', 'eval'] as const) wallMs[k] = runs.reduce((a, r) => a + r.wallMs[k], 0);
    const hessianMs = runs.reduce((a, r) => a + r.wallMs.hessian, 0);
    if (hessianMs > 0) wallMs.hessian = hessianMs;
    // The time the variants' processes waited for their probe helpers, past their own share of the η.
    if (runs.some((r) => r.sharedProbes > 0)) wallMs.probeWait = runs.reduce((a, r) => a + r.wallMs.probeWait, 0);
    wallMs.total = performance.now() - tStart;
    runs.forEach((r) => r.dispose());
  }
  report.complete = stopReason === null;
  report.stopReason = stopReason;
  report.summary = summarize(report);
  onEvent({ type: 'finished', report });
  return report;
}

/** etaProcesses − 1 probe helpers per variant, forked now so that they start while the data and the first step do. */
function startEtaHelpers(runs: VariantRun[], config: AnalyzeConfig, backend: BackendName, loss: LossName, onEvent: EventSink): void {
  const helpers = (typeof config.etaProcesses === 'number' ? config.etaProcesses : 1) - 1;
  if (helpers < 1 || config.steps < 1) return;
  const worker = findWorkerScript();
  if (!worker) {
    onEvent({ type: 'log', level: 'info', message: 'no probe helpers: dist/worker.js was not found beside the engine' });
    return;
  }
  for (const run of runs) run.useEtaHelpers(new EtaHelpers(worker, helpers, { config, variant: run.variant.name, backend, loss }));
}

/** An InputLayer that the file itself wrote (not the one the parser adds for batch_input_shape). */
function existsSyntheticInput(net: LoadedNetwork, l: LayerNode): boolean {
  return net.text.includes(`"${l.name}"`);
}

/** What a Python network needs from the request: the model choice, its input shape, its weights. */
export function readOptionsFor(req: Pick<AnalyzeRequest, 'model' | 'pythonModel' | 'inputShape' | 'weights' | 'dataset'>): NetworkReadOptions {
  if (!isPythonFile(req.model)) return {};
  const d = (req.dataset ?? '').toLowerCase();
  const imageSide = d === 'mnist' ? 28 : /cifar/.test(d) ? 32 : undefined;
  return { pythonModel: req.pythonModel, inputShape: req.inputShape ?? peekInputShape(req.dataset), weights: req.weights, imageSide };
}
