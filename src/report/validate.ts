// A hand-written structural validator of the report document (schema 'bnlens-report', version 1), as it is
// stored: the JSON text `bnlens analyze --out` writes, parsed back. Every field's type, the enumerations,
// and the consistency between fields (array lengths against report.eta, steps in increasing order, …).
// The first problem found is returned as one line that starts with its JSON path, e.g.
//     variants[1].steps[3].lossAtEta: expected 8 numbers, got 7
// The field-by-field description, units and the version policy are in SCHEMA.md beside this file.
//
// JSON cannot hold NaN or ±Infinity: JSON.stringify writes them as null. The fields where the engine can
// produce a non-finite value in a run that goes on (probes far along the gradient, held-out losses of a
// network that is blowing up, statistics of overflowing activations) are typed "finite number or null";
// everywhere else a number must be finite. Validate the parsed JSON, not the in-memory report object
// (whose NaN would be rejected): `validateReport(JSON.parse(JSON.stringify(report)))`.
//
// Unknown fields are allowed by default (version 1 may gain optional fields, see SCHEMA.md);
// `{ strict: true }` rejects them too, which the tests use to catch a field added without documenting it.

import { REPORT_SCHEMA, REPORT_VERSION, VARIANT_NAMES, type LossName, type Report } from '../protocol';

export type ValidationResult = { ok: true; report: Report } | { ok: false; error: string };

export interface ValidateOptions {
  /** Reject fields the schema does not define. */
  strict?: boolean;
}

class Invalid extends Error {}

type Obj = Record<string, unknown>;

const LOSSES = ['softmax-ce', 'mse', 'binary-ce'] as const;
const BACKENDS = ['node', 'wasm', 'cpu'] as const;
const FORMATS = ['tfjs-layers', 'keras2', 'keras3', 'pytorch', 'keras-python', 'onnx'] as const;

const KEYS = {
  report: ['schema', 'version', 'createdAt', 'complete', 'stopReason', 'config', 'model', 'dataset', 'run', 'eta', 'variants', 'summary', 'runs', 'sweep', 'slices'],
  config: ['model', 'dataset', 'loss', 'variants', 'steps', 'batch', 'lr', 'momentum', 'probeEvery', 'etaRange', 'etaCount', 'icsEvery', 'evalEvery', 'seed', 'backend', 'hessianEvery', 'hessianBn', 'hessianTop', 'pythonModel', 'inputShape', 'weights', 'lrs', 'evalBatch'],
  model: ['path', 'format', 'name', 'layers', 'layout', 'weightsSource'],
  sourceLayer: ['name', 'className', 'outputShape', 'params'],
  dataset: ['name', 'trainSize', 'testSize', 'inputShape', 'outputs', 'loss'],
  run: ['backend', 'backendReason', 'tfjsVersion', 'bnlensVersion', 'node', 'platform', 'wallMs', 'parallelProcesses'],
  variant: ['name', 'description', 'layers', 'steps', 'layerStats', 'evals', 'diverged'],
  variantLayer: ['name', 'className', 'sourceLayer', 'inserted', 'outputShape', 'params'],
  step: ['step', 'loss', 'accuracy', 'gradNorm', 'lossAtEta', 'gradChange', 'beta', 'curvatureAtEta', 'hessian'],
  hessian: ['lambdaMax', 'lambdaMin', 'top', 'trace', 'traceStdErr', 'traceSamples', 'gHg', 'density', 'residual', 'bn', 'dimension', 'hvps', 'ms'],
  density: ['nodes', 'weights', 'runs'],
  layerStat: ['step', 'layer', 'sourceLayer', 'icsL2', 'icsCos', 'actMean', 'actStd', 'hist', 'weightNorm', 'gradNorm', 'gamma', 'beta'],
  hist: ['min', 'max', 'counts'],
  moments: ['mean', 'std', 'min', 'max'],
  evalRec: ['step', 'loss', 'accuracy', 'batchStatsLoss', 'batchStatsAccuracy', 'batchStatsBatch', 'movingStatsSteps', 'movingStatsInitWeight'],
  divergence: ['step', 'reason'],
  lrRun: ['lr', 'eta', 'variants', 'summary'],
  sweep: ['lrs', 'largestStableLr'],
  slice: ['schema', 'version', 'createdAt', 'model', 'dims', 'alphas', 'betas', 'directions', 'norm', 'ignore', 'bn', 'batch', 'batchSource', 'seed', 'variant', 'step', 'loss', 'centerLoss', 'directionCosine', 'variants', 'backend', 'backendReason', 'tfjsVersion', 'processes', 'wallMs', 'pointsPerSecond', 'note'],
  sliceVariant: ['variant', 'step', 'loss', 'centerLoss', 'directionCosine', 'etaPerAlpha', 'gradNorm', 'sliceParams'],
  summary: ['variant', 'finalLoss', 'finalAccuracy', 'testLoss', 'testAccuracy', 'testLossBatchStats', 'testAccuracyBatchStats', 'movingStatsWarmingUp', 'meanBandWidth', 'meanGradChange', 'meanBeta', 'maxBeta', 'meanCurvature', 'meanDescentFreeCurvature', 'meanLambdaMax', 'diverged'],
} as const;

export function validateReport(x: unknown, opts: ValidateOptions = {}): ValidationResult {
  try {
    new Checker(opts.strict === true).report(x);
    return { ok: true, report: x as Report };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v;
};

class Checker {
  constructor(private readonly strict: boolean) {}

  private fail(path: string, msg: string): never {
    throw new Invalid(`${path || '(report)'}: ${msg}`);
  }

  private obj(v: unknown, path: string, keys: readonly string[], optional: readonly string[] = []): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${describe(v)}`);
    const o = v as Obj;
    for (const k of keys) if (!(k in o) && !optional.includes(k)) this.fail(join(path, k), 'missing');
    if (this.strict) for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(join(path, k), 'is not a field of this schema');
    return o;
  }

  private str(v: unknown, path: string, nonEmpty = false): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${describe(v)}`);
    if (nonEmpty && v.trim() === '') this.fail(path, 'expected a non-empty string');
    return v;
  }

  private bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${describe(v)}`);
    return v;
  }

  private oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
    if (typeof v !== 'string' || !options.includes(v as T)) this.fail(path, `expected one of ${options.join(', ')}, got ${describe(v)}`);
    return v as T;
  }

  /** A finite number (JSON holds no other kind), with optional bounds. */
  private num(v: unknown, path: string, o: { int?: boolean; min?: number; gt?: number; max?: number; lt?: number } = {}): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a finite number, got ${describe(v)}`);
    if (o.int && !Number.isInteger(v)) this.fail(path, `expected a whole number, got ${v}`);
    if (o.min !== undefined && v < o.min) this.fail(path, `expected at least ${o.min}, got ${v}`);
    if (o.gt !== undefined && !(v > o.gt)) this.fail(path, `expected more than ${o.gt}, got ${v}`);
    if (o.max !== undefined && v > o.max) this.fail(path, `expected at most ${o.max}, got ${v}`);
    if (o.lt !== undefined && !(v < o.lt)) this.fail(path, `expected less than ${o.lt}, got ${v}`);
    return v;
  }

  /** A finite number, or null where the engine's value was NaN/±Infinity (or is absent by definition). */
  private numOrNull(v: unknown, path: string, o: { min?: number; max?: number; int?: boolean } = {}): number | null {
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a finite number or null, got ${describe(v)}`);
    return this.num(v, path, o);
  }

  private arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${describe(v)}`);
    return v;
  }

  /** An array of `length` finite numbers (or null entries when `nullable`). */
  private numbers(v: unknown, path: string, length: number | null, o: { nullable?: boolean; min?: number; int?: boolean; gt?: number } = {}): (number | null)[] {
    const a = this.arr(v, path);
    if (length !== null && a.length !== length) this.fail(path, `expected ${length} numbers, got ${a.length}`);
    return a.map((e, i) => (o.nullable ? this.numOrNull(e, `${path}[${i}]`, o) : this.num(e, `${path}[${i}]`, o)));
  }

  private shape(v: unknown, path: string): void {
    const a = this.arr(v, path);
    if (a.length < 1) this.fail(path, 'expected [null, ...dimensions], got an empty array');
    if (a[0] !== null) this.fail(`${path}[0]`, `expected null (the batch dimension), got ${describe(a[0])}`);
    a.slice(1).forEach((d, i) => (d === null ? undefined : this.num(d, `${path}[${i + 1}]`, { int: true, min: 0 })));
  }

  report(x: unknown): void {
    const r = this.obj(x, '', KEYS.report, ['runs', 'sweep', 'slices']);
    if (r.schema !== REPORT_SCHEMA) this.fail('schema', `expected "${REPORT_SCHEMA}", got ${describe(r.schema)}`);
    if (r.version !== REPORT_VERSION)
      this.fail('version', `expected ${REPORT_VERSION}, got ${describe(r.version)} (this reader understands ${REPORT_SCHEMA} version ${REPORT_VERSION})`);
    const created = this.str(r.createdAt, 'createdAt');
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(created) || Number.isNaN(Date.parse(created)))
      this.fail('createdAt', `expected an ISO 8601 UTC time like 2026-01-31T12:00:00.000Z, got ${describe(created)}`);
    const complete = this.bool(r.complete, 'complete');
    if (complete && r.stopReason !== null) this.fail('stopReason', `expected null for a complete report, got ${describe(r.stopReason)}`);
    if (r.stopReason !== null) this.str(r.stopReason, 'stopReason', true);

    const config = this.config(r.config);
    this.model(r.model);
    const loss = this.dataset(r.dataset);
    this.run(r.run);

    const names = this.lrRun(r, '', config, loss, complete, false);

    if ('runs' in r || 'sweep' in r || config.lrs) {
      if (!config.lrs) this.fail('config.lrs', 'missing: a report with runs or a sweep lists its learning rates');
      if (config.lrs[0] !== config.lr) this.fail('config.lr', `expected the sweep's first learning rate ${config.lrs[0]}, got ${config.lr}`);
      const runs = this.arr(r.runs, 'runs');
      if (runs.length !== config.lrs.length - 1) this.fail('runs', `expected one run per learning rate after the first (${config.lrs.length - 1}), got ${runs.length}`);
      runs.forEach((run, i) => {
        const p = `runs[${i}]`;
        const o = this.obj(run, p, KEYS.lrRun);
        const lr = this.num(o.lr, `${p}.lr`, { gt: 0 });
        if (lr !== config.lrs![i + 1]) this.fail(`${p}.lr`, `expected ${config.lrs![i + 1]} (config.lrs[${i + 1}]), got ${lr}`);
        // A cancelled sweep may not have reached every (lr, variant) pair.
        this.lrRun(o, p, { ...config, lr }, loss, complete, !complete);
      });
      if ('sweep' in r) {
        const s = this.obj(r.sweep, 'sweep', KEYS.sweep);
        const lrs = this.numbers(s.lrs, 'sweep.lrs', config.lrs.length, { gt: 0 });
        if (lrs.join() !== config.lrs.join()) this.fail('sweep.lrs', `expected config.lrs (${config.lrs.join(', ')}), got ${lrs.join(', ')}`);
        this.arr(s.largestStableLr, 'sweep.largestStableLr').forEach((e, i) => {
          const q = `sweep.largestStableLr[${i}]`;
          const o = this.obj(e, q, ['variant', 'lr']);
          if (o.variant !== names[i]) this.fail(`${q}.variant`, `expected "${names[i]}" (the order of variants), got ${describe(o.variant)}`);
          const lr = this.numOrNull(o.lr, `${q}.lr`);
          if (lr !== null && !config.lrs!.includes(lr)) this.fail(`${q}.lr`, `expected one of config.lrs or null, got ${lr}`);
        });
      }
    }
    if ('slices' in r) this.arr(r.slices, 'slices').forEach((x, i) => this.slice(x, `slices[${i}]`));
  }

  /** The eta, variants and summary of one learning rate's run (the report's own, or an entry of runs). */
  private lrRun(r: Obj, at: string, config: ReturnType<Checker['config']>, loss: LossName, complete: boolean, partial: boolean): string[] {
    const path = (k: string) => (at ? `${at}.${k}` : k);
    const eta = this.numbers(r.eta, path('eta'), config.etaCount, { gt: 0 }) as number[];
    const [lo, hi] = config.etaRange;
    eta.forEach((e, k) => {
      const want = config.etaCount === 1 ? lo * config.lr : config.lr * (lo + ((hi - lo) * k) / (config.etaCount - 1));
      if (Math.abs(e - want) > 1e-9 * Math.abs(want)) this.fail(path(`eta[${k}]`), `expected ${want} (lr ${config.lr} × the η range [${lo}, ${hi}] at point ${k} of ${config.etaCount}), got ${e}`);
    });

    const variants = this.arr(r.variants, path('variants'));
    if (variants.length === 0 && !partial) this.fail(path('variants'), 'expected at least one variant');
    const names: string[] = [];
    variants.forEach((v, i) => names.push(this.variant(v, path(`variants[${i}]`), { eta, config, loss, complete })));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) this.fail(path('variants'), `variant "${dup}" appears twice`);
    // The variants run are the configured ones in order; only 'as-written' may be left out (when the file
    // already is one of the derived networks).
    const expected = config.variants.filter((n) => names.includes(n) || (n !== 'as-written' && !partial));
    if (expected.join() !== names.join()) this.fail(path('variants'), `expected the variants of config.variants in order (${expected.join(', ')}), got ${names.join(', ')}`);

    const summary = this.arr(r.summary, path('summary'));
    if (complete && summary.length !== names.length) this.fail(path('summary'), `expected one row per variant (${names.length}) in a complete report, got ${summary.length}`);
    if (summary.length !== 0 && summary.length !== names.length) this.fail(path('summary'), `expected no rows or one per variant (${names.length}), got ${summary.length}`);
    summary.forEach((s, i) => this.summaryRow(s, path(`summary[${i}]`), names[i], (variants[i] as Obj).diverged));
    return names;
  }

  /** A loss-surface slice (`bnlens slice`, "Loss Surface at Step…"). */
  private slice(v: unknown, p: string): void {
    const o = this.obj(v, p, KEYS.slice, ['betas']);
    if (o.schema !== 'bnlens-slice') this.fail(`${p}.schema`, `expected "bnlens-slice", got ${describe(o.schema)}`);
    if (o.version !== 1) this.fail(`${p}.version`, `expected 1, got ${describe(o.version)}`);
    const dims = this.num(o.dims, `${p}.dims`, { int: true, min: 1, max: 2 });
    const alphas = this.numbers(o.alphas, `${p}.alphas`, null);
    const betas = dims === 2 ? this.numbers(o.betas, `${p}.betas`, null) : null;
    this.oneOf(o.directions, `${p}.directions`, ['random', 'gradient-random']);
    this.oneOf(o.norm, `${p}.norm`, ['filter', 'layer', 'none']);
    this.oneOf(o.ignore, `${p}.ignore`, ['biasbn', 'none']);
    this.oneOf(o.bn, `${p}.bn`, ['train', 'eval']);
    this.num(o.batch, `${p}.batch`, { int: true, min: 1 });
    this.num(o.seed, `${p}.seed`, { int: true });
    this.num(o.processes, `${p}.processes`, { int: true, min: 1 });
    for (const k of ['wallMs', 'pointsPerSecond'] as const) this.num(o[k], `${p}.${k}`, { min: 0 });
    for (const k of ['createdAt', 'model', 'batchSource', 'backendReason', 'tfjsVersion', 'note'] as const) this.str(o[k], `${p}.${k}`);
    this.oneOf(o.backend, `${p}.backend`, BACKENDS);
    const vs = this.arr(o.variants, `${p}.variants`);
    if (vs.length === 0) this.fail(`${p}.variants`, 'expected at least one variant');
    vs.forEach((x, i) => {
      const q = `${p}.variants[${i}]`;
      const s = this.obj(x, q, KEYS.sliceVariant);
      this.oneOf(s.variant, `${q}.variant`, VARIANT_NAMES);
      if (s.step !== null) this.num(s.step, `${q}.step`, { int: true, min: 0 });
      this.num(s.centerLoss, `${q}.centerLoss`);
      if (s.directionCosine !== null || dims === 2) this.num(s.directionCosine, `${q}.directionCosine`, { min: -1 - 1e-6, max: 1 + 1e-6 });
      this.numOrNull(s.etaPerAlpha, `${q}.etaPerAlpha`, { min: 0 });
      this.numOrNull(s.gradNorm, `${q}.gradNorm`, { min: 0 });
      this.num(s.sliceParams, `${q}.sliceParams`, { int: true, min: 0 });
      if (betas) {
        const rows = this.arr(s.loss, `${q}.loss`);
        if (rows.length !== betas.length) this.fail(`${q}.loss`, `expected ${betas.length} rows (one per beta), got ${rows.length}`);
        rows.forEach((row, j) => this.numbers(row, `${q}.loss[${j}]`, alphas.length, { nullable: true }));
      } else this.numbers(s.loss, `${q}.loss`, alphas.length, { nullable: true });
      if (i === 0 && JSON.stringify(s.loss) !== JSON.stringify(o.loss)) this.fail(`${p}.loss`, 'expected the first variant’s loss');
    });
  }

  private config(v: unknown): { etaCount: number; etaRange: [number, number]; lr: number; steps: number; probeEvery: number; icsEvery: number; variants: string[]; lrs?: number[] } {
    const p = 'config';
    const c = this.obj(v, p, KEYS.config, ['hessianEvery', 'hessianBn', 'hessianTop', 'pythonModel', 'inputShape', 'weights', 'lrs', 'evalBatch']);
    if ('hessianEvery' in c) this.num(c.hessianEvery, `${p}.hessianEvery`, { int: true, min: 0 });
    if ('hessianBn' in c) this.oneOf(c.hessianBn, `${p}.hessianBn`, ['train', 'eval']);
    if ('hessianTop' in c) this.num(c.hessianTop, `${p}.hessianTop`, { int: true, min: 1 });
    this.str(c.model, `${p}.model`, true);
    this.str(c.dataset, `${p}.dataset`, true);
    this.oneOf(c.loss, `${p}.loss`, [...LOSSES, 'auto']);
    const vs = this.arr(c.variants, `${p}.variants`);
    if (vs.length === 0) this.fail(`${p}.variants`, 'expected at least one variant');
    vs.forEach((n, i) => this.oneOf(n, `${p}.variants[${i}]`, VARIANT_NAMES));
    const steps = this.num(c.steps, `${p}.steps`, { int: true, min: 1 });
    this.num(c.batch, `${p}.batch`, { int: true, min: 1 });
    const lr = this.num(c.lr, `${p}.lr`, { gt: 0 });
    this.num(c.momentum, `${p}.momentum`, { min: 0, lt: 1 });
    const probeEvery = this.num(c.probeEvery, `${p}.probeEvery`, { int: true, min: 1 });
    const range = this.numbers(c.etaRange, `${p}.etaRange`, 2, { gt: 0 }) as number[];
    if (range[1] < range[0]) this.fail(`${p}.etaRange`, `expected lo ≤ hi, got [${range.join(', ')}]`);
    const etaCount = this.num(c.etaCount, `${p}.etaCount`, { int: true, min: 1 });
    const icsEvery = this.num(c.icsEvery, `${p}.icsEvery`, { int: true, min: 0 });
    this.num(c.evalEvery, `${p}.evalEvery`, { int: true, min: 0 });
    if (c.evalBatch !== undefined) this.num(c.evalBatch, `${p}.evalBatch`, { int: true, min: 1 });
    this.num(c.seed, `${p}.seed`, { int: true });
    this.oneOf(c.backend, `${p}.backend`, ['auto', ...BACKENDS]);
    let lrs: number[] | undefined;
    if ('lrs' in c) {
      lrs = this.numbers(c.lrs, `${p}.lrs`, null, { gt: 0 }) as number[];
      if (lrs.length < 2) this.fail(`${p}.lrs`, `expected at least two learning rates (a sweep), got ${lrs.length}`);
      if (new Set(lrs).size !== lrs.length) this.fail(`${p}.lrs`, 'expected each learning rate once');
    }
    return { etaCount, etaRange: [range[0], range[1]], lr, steps, probeEvery, icsEvery, variants: vs as string[], lrs };
  }

  private model(v: unknown): void {
    const m = this.obj(v, 'model', KEYS.model, ['layout', 'weightsSource']);
    this.str(m.path, 'model.path', true);
    this.oneOf(m.format, 'model.format', FORMATS);
    this.str(m.name, 'model.name');
    if (m.layout !== undefined) this.oneOf(m.layout, 'model.layout', ['NHWC', 'NCHW'] as const);
    if (m.weightsSource !== undefined) this.str(m.weightsSource, 'model.weightsSource', true);
    const layers = this.arr(m.layers, 'model.layers');
    if (layers.length === 0) this.fail('model.layers', 'expected at least one layer');
    layers.forEach((l, i) => {
      const p = `model.layers[${i}]`;
      const o = this.obj(l, p, KEYS.sourceLayer);
      this.str(o.name, `${p}.name`, true);
      this.str(o.className, `${p}.className`, true);
      this.shape(o.outputShape, `${p}.outputShape`);
      this.num(o.params, `${p}.params`, { int: true, min: 0 });
    });
  }

  private dataset(v: unknown): (typeof LOSSES)[number] {
    const p = 'dataset';
    const d = this.obj(v, p, KEYS.dataset);
    this.str(d.name, `${p}.name`, true);
    this.num(d.trainSize, `${p}.trainSize`, { int: true, min: 1 });
    this.num(d.testSize, `${p}.testSize`, { int: true, min: 0 });
    const shape = this.numbers(d.inputShape, `${p}.inputShape`, null, { int: true, min: 1 });
    if (shape.length === 0) this.fail(`${p}.inputShape`, 'expected at least one dimension');
    this.num(d.outputs, `${p}.outputs`, { int: true, min: 1 });
    return this.oneOf(d.loss, `${p}.loss`, LOSSES);
  }

  private run(v: unknown): void {
    const p = 'run';
    const r = this.obj(v, p, KEYS.run, ['parallelProcesses']);
    if ('parallelProcesses' in r) this.num(r.parallelProcesses, `${p}.parallelProcesses`, { int: true, min: 1 });
    this.oneOf(r.backend, `${p}.backend`, BACKENDS);
    for (const k of ['backendReason', 'tfjsVersion', 'bnlensVersion', 'node', 'platform'] as const) this.str(r[k], `${p}.${k}`, true);
    if (typeof r.wallMs !== 'object' || r.wallMs === null || Array.isArray(r.wallMs)) this.fail(`${p}.wallMs`, `expected an object of milliseconds, got ${describe(r.wallMs)}`);
    for (const [k, ms] of Object.entries(r.wallMs as Obj)) this.num(ms, `${p}.wallMs.${k}`, { min: 0 });
  }

  private variant(
    v: unknown,
    p: string,
    ctx: { eta: number[]; config: ReturnType<Checker['config']>; loss: (typeof LOSSES)[number]; complete: boolean },
  ): string {
    const o = this.obj(v, p, KEYS.variant);
    const name = this.oneOf(o.name, `${p}.name`, VARIANT_NAMES);
    this.str(o.description, `${p}.description`);

    const layers = this.arr(o.layers, `${p}.layers`);
    if (layers.length === 0) this.fail(`${p}.layers`, 'expected at least one layer');
    const layerNames = new Set<string>();
    layers.forEach((l, i) => {
      const q = `${p}.layers[${i}]`;
      const L = this.obj(l, q, KEYS.variantLayer);
      const n = this.str(L.name, `${q}.name`, true);
      if (layerNames.has(n)) this.fail(`${q}.name`, `layer name "${n}" appears twice`);
      layerNames.add(n);
      this.str(L.className, `${q}.className`, true);
      if (L.sourceLayer !== null) this.str(L.sourceLayer, `${q}.sourceLayer`, true);
      const inserted = this.bool(L.inserted, `${q}.inserted`);
      if (inserted && L.sourceLayer === null) this.fail(`${q}.sourceLayer`, 'an inserted layer must name the source layer it follows, got null');
      this.shape(L.outputShape, `${q}.outputShape`);
      this.num(L.params, `${q}.params`, { int: true, min: 0 });
    });

    let diverged: { step: number } | null = null;
    if (o.diverged !== null) diverged = this.divergence(o.diverged, `${p}.diverged`, ctx.config.steps);

    const steps = this.arr(o.steps, `${p}.steps`);
    let prev = -1;
    steps.forEach((s, i) => {
      const q = `${p}.steps[${i}]`;
      const S = this.obj(s, q, KEYS.step, ['curvatureAtEta', 'hessian']);
      if ('curvatureAtEta' in S) this.numbers(S.curvatureAtEta, `${q}.curvatureAtEta`, ctx.eta.length, { nullable: true });
      if ('hessian' in S) this.hessian(S.hessian, `${q}.hessian`);
      const t = this.num(S.step, `${q}.step`, { int: true, min: 0, max: ctx.config.steps - 1 });
      if (t <= prev) this.fail(`${q}.step`, `expected steps in increasing order, got ${t} after ${prev}`);
      if (t % ctx.config.probeEvery !== 0) this.fail(`${q}.step`, `expected a multiple of config.probeEvery (${ctx.config.probeEvery}), got ${t}`);
      if (diverged && t > diverged.step) this.fail(`${q}.step`, `the variant diverged at step ${diverged.step}, yet has a record for step ${t}`);
      prev = t;
      this.num(S.loss, `${q}.loss`);
      if (ctx.loss === 'mse') {
        if (S.accuracy !== null) this.fail(`${q}.accuracy`, `expected null (the loss is mse), got ${describe(S.accuracy)}`);
      } else this.num(S.accuracy, `${q}.accuracy`, { min: 0, max: 1 });
      this.num(S.gradNorm, `${q}.gradNorm`, { min: 0 });
      this.numbers(S.lossAtEta, `${q}.lossAtEta`, ctx.eta.length, { nullable: true });
      this.numbers(S.gradChange, `${q}.gradChange`, ctx.eta.length, { nullable: true, min: 0 });
      this.numOrNull(S.beta, `${q}.beta`, { min: 0 });
    });
    // A complete run probes every probeEvery-th step of a variant that did not diverge.
    if (ctx.complete && !diverged) {
      const want = Math.ceil(ctx.config.steps / ctx.config.probeEvery);
      if (steps.length !== want)
        this.fail(`${p}.steps`, `expected ${want} records in a complete run (${ctx.config.steps} steps, probed every ${ctx.config.probeEvery}), got ${steps.length}`);
    }

    const stats = this.arr(o.layerStats, `${p}.layerStats`);
    prev = -1;
    stats.forEach((s, i) => {
      const q = `${p}.layerStats[${i}]`;
      const R = this.obj(s, q, KEYS.layerStat, ['gamma', 'beta']);
      const t = this.num(R.step, `${q}.step`, { int: true, min: 0, max: ctx.config.steps - 1 });
      if (t < prev) this.fail(`${q}.step`, `expected records in step order, got ${t} after ${prev}`);
      if (ctx.config.icsEvery > 0 && t % ctx.config.icsEvery !== 0) this.fail(`${q}.step`, `expected a multiple of config.icsEvery (${ctx.config.icsEvery}), got ${t}`);
      if (ctx.config.icsEvery === 0) this.fail(`${q}.step`, 'config.icsEvery is 0, so there should be no layer statistics');
      prev = t;
      const layer = this.str(R.layer, `${q}.layer`, true);
      if (!layerNames.has(layer)) this.fail(`${q}.layer`, `"${layer}" is not a layer of this variant`);
      if (R.sourceLayer !== null) this.str(R.sourceLayer, `${q}.sourceLayer`, true);
      this.numOrNull(R.icsL2, `${q}.icsL2`, { min: 0 });
      this.numOrNull(R.icsCos, `${q}.icsCos`, { min: -1 - 1e-6, max: 1 + 1e-6 });
      this.numOrNull(R.actMean, `${q}.actMean`);
      this.numOrNull(R.actStd, `${q}.actStd`, { min: 0 });
      const h = this.obj(R.hist, `${q}.hist`, KEYS.hist);
      const hmin = this.numOrNull(h.min, `${q}.hist.min`);
      const hmax = this.numOrNull(h.max, `${q}.hist.max`);
      if (hmin !== null && hmax !== null && hmin > hmax) this.fail(`${q}.hist`, `min ${hmin} is above max ${hmax}`);
      const counts = this.numbers(h.counts, `${q}.hist.counts`, null, { int: true, min: 0 });
      if (counts.length === 0) this.fail(`${q}.hist.counts`, 'expected at least one bin');
      this.numOrNull(R.weightNorm, `${q}.weightNorm`, { min: 0 });
      this.numOrNull(R.gradNorm, `${q}.gradNorm`, { min: 0 });
      for (const k of ['gamma', 'beta'] as const) {
        if (!(k in R)) continue;
        const m = this.obj(R[k], `${q}.${k}`, KEYS.moments);
        for (const f of KEYS.moments) this.numOrNull(m[f], `${q}.${k}.${f}`, f === 'std' ? { min: 0 } : {});
      }
    });

    const evals = this.arr(o.evals, `${p}.evals`);
    prev = -1;
    evals.forEach((e, i) => {
      const q = `${p}.evals[${i}]`;
      const E = this.obj(e, q, KEYS.evalRec, ['batchStatsLoss', 'batchStatsAccuracy', 'batchStatsBatch', 'movingStatsSteps', 'movingStatsInitWeight']);
      const t = this.num(E.step, `${q}.step`, { int: true, min: 0, max: ctx.config.steps });
      if (t < prev) this.fail(`${q}.step`, `expected evaluations in step order, got ${t} after ${prev}`);
      prev = t;
      this.numOrNull(E.loss, `${q}.loss`);
      if (ctx.loss === 'mse') {
        if (E.accuracy !== null) this.fail(`${q}.accuracy`, `expected null (the loss is mse), got ${describe(E.accuracy)}`);
      } else this.num(E.accuracy, `${q}.accuracy`, { min: 0, max: 1 });
      if (E.batchStatsLoss !== undefined) this.numOrNull(E.batchStatsLoss, `${q}.batchStatsLoss`);
      if (E.batchStatsAccuracy !== undefined && E.batchStatsAccuracy !== null) this.num(E.batchStatsAccuracy, `${q}.batchStatsAccuracy`, { min: 0, max: 1 });
      if (E.batchStatsBatch !== undefined) this.num(E.batchStatsBatch, `${q}.batchStatsBatch`, { int: true, min: 1 });
      if (E.movingStatsSteps !== undefined) this.num(E.movingStatsSteps, `${q}.movingStatsSteps`, { int: true, min: 0 });
      if (E.movingStatsInitWeight !== undefined) this.num(E.movingStatsInitWeight, `${q}.movingStatsInitWeight`, { min: 0, max: 1 });
    });
    return name;
  }

  private hessian(v: unknown, p: string): void {
    const h = this.obj(v, p, KEYS.hessian);
    const hi = this.num(h.lambdaMax, `${p}.lambdaMax`);
    const lo = this.num(h.lambdaMin, `${p}.lambdaMin`);
    if (lo > hi) this.fail(`${p}.lambdaMin`, `${lo} is above lambdaMax ${hi}`);
    const top = this.numbers(h.top, `${p}.top`, null) as number[];
    if (top.length === 0) this.fail(`${p}.top`, 'expected at least one eigenvalue');
    if (top.some((t, i) => i > 0 && t > top[i - 1])) this.fail(`${p}.top`, 'expected eigenvalues in descending order');
    this.num(h.trace, `${p}.trace`);
    this.num(h.traceStdErr, `${p}.traceStdErr`, { min: 0 });
    this.num(h.traceSamples, `${p}.traceSamples`, { int: true, min: 1 });
    this.numOrNull(h.gHg, `${p}.gHg`);
    const d = this.obj(h.density, `${p}.density`, KEYS.density);
    const nodes = this.numbers(d.nodes, `${p}.density.nodes`, null);
    this.numbers(d.weights, `${p}.density.weights`, nodes.length, { min: 0 });
    this.num(d.runs, `${p}.density.runs`, { int: true, min: 1 });
    this.num(h.residual, `${p}.residual`, { min: 0 });
    this.oneOf(h.bn, `${p}.bn`, ['train', 'eval']);
    this.num(h.dimension, `${p}.dimension`, { int: true, min: 1 });
    this.num(h.hvps, `${p}.hvps`, { int: true, min: 1 });
    this.num(h.ms, `${p}.ms`, { min: 0 });
  }

  private divergence(v: unknown, p: string, steps: number): { step: number } {
    const d = this.obj(v, p, KEYS.divergence);
    const step = this.num(d.step, `${p}.step`, { int: true, min: 0, max: steps - 1 });
    this.str(d.reason, `${p}.reason`, true);
    return { step };
  }

  private summaryRow(v: unknown, p: string, variant: string, diverged: unknown): void {
    const s = this.obj(v, p, KEYS.summary, ['meanCurvature', 'meanDescentFreeCurvature', 'meanLambdaMax', 'testLossBatchStats', 'testAccuracyBatchStats', 'movingStatsWarmingUp']);
    for (const k of ['meanCurvature', 'meanDescentFreeCurvature', 'meanLambdaMax'] as const) if (k in s) this.numOrNull(s[k], `${p}.${k}`);
    if (s.variant !== variant) this.fail(`${p}.variant`, `expected "${variant}" (rows follow the order of variants), got ${describe(s.variant)}`);
    this.numOrNull(s.finalLoss, `${p}.finalLoss`);
    this.numOrNull(s.finalAccuracy, `${p}.finalAccuracy`, { min: 0, max: 1 });
    this.numOrNull(s.testLoss, `${p}.testLoss`);
    this.numOrNull(s.testAccuracy, `${p}.testAccuracy`, { min: 0, max: 1 });
    for (const k of ['meanBandWidth', 'meanGradChange', 'meanBeta', 'maxBeta'] as const) this.numOrNull(s[k], `${p}.${k}`, { min: 0 });
    if (s.diverged !== null) this.divergence(s.diverged, `${p}.diverged`, Number.MAX_SAFE_INTEGER);
    if (JSON.stringify(s.diverged) !== JSON.stringify(diverged)) this.fail(`${p}.diverged`, `expected the variant's own diverged value ${JSON.stringify(diverged)}, got ${JSON.stringify(s.diverged)}`);
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
