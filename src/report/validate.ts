// Checks a report document (schema 'bnlens-report', version 1) as it is stored: the JSON text `bnlens analyze
// --out` writes, parsed back. Two layers:
//   1. The JSON Schema (report.schema.json beside this file, the single source of the report's structure; the
//      extension registers it for saved reports, and test/unit/report-schema.test.ts checks src/protocol.ts
//      and SCHEMA.md against it): every field's type, range and enumeration, validated with ajv.
//   2. The rules a schema cannot state, here by hand: the η grid against config, steps in increasing order on
//      the probe/ICS grids and below config.steps, record counts of a complete run, layer names of a variant,
//      variants and summary rows in config order, diverged consistency.
// The first problem found is returned as one line that starts with its JSON path, e.g.
//     variants[1].steps[3].lossAtEta: expected 8 numbers, got 7
//
// JSON cannot hold NaN or ±Infinity: JSON.stringify writes them as null, and the schema types the fields where
// the engine can produce them as "number or null". A NaN in an in-memory report is named as such.
//
// Unknown fields are allowed by default (version 1 may gain optional fields, see SCHEMA.md);
// `{ strict: true }` rejects them too, which the tests use to catch a field added without documenting it.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { REPORT_SCHEMA, REPORT_VERSION, type Report, type SliceResult } from '../protocol';
import schema from './report.schema.json';

export type ValidationResult = { ok: true; report: Report } | { ok: false; error: string };

export interface ValidateOptions {
  /** Reject fields the schema does not define. */
  strict?: boolean;
}

/** The JSON Schema of a report, as registered with VS Code for saved reports. */
export const REPORT_JSON_SCHEMA: object = schema;

class Invalid extends Error {}

type Obj = Record<string, unknown>;

/** Stands for a NaN or ±Infinity in an in-memory document, so the schema check names it at its path. */
class NonFinite {
  constructor(readonly value: number) {}
}

let compiled: { lax: ValidateFunction; strict: ValidateFunction } | null = null;

function validators(): { lax: ValidateFunction; strict: ValidateFunction } {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: false, verbose: true, strictTuples: false });
  // Annotations for other readers of the schema: the type generator (tsType) and VS Code (errorMessage).
  ajv.addKeyword('tsType');
  ajv.addKeyword('errorMessage');
  compiled = { lax: ajv.compile(schema), strict: ajv.compile(closed(schema) as object) };
  return compiled;
}

/** The schema with `additionalProperties: false` on every object that lists its properties. */
function closed(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(closed);
  if (!s || typeof s !== 'object') return s;
  const o: Obj = {};
  for (const [k, v] of Object.entries(s)) o[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Obj).map(([p, x]) => [p, closed(x)])) : closed(v);
  if (o.properties && !('additionalProperties' in o)) o.additionalProperties = false;
  if (o.$id) o.$id = `${o.$id as string}#strict`;
  return o;
}

export function validateReport(x: unknown, opts: ValidateOptions = {}): ValidationResult {
  const v = opts.strict ? validators().strict : validators().lax;
  const doc = hasNonFinite(x) ? markNonFinite(x) : x;
  if (!v(doc)) return { ok: false, error: schemaError(firstError(v.errors!)) };
  try {
    checkRules(x as Report);
    return { ok: true, report: x as Report };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}

// ---------------------------------------------------------------- schema errors as one line

const describe = (v: unknown): string => {
  if (v instanceof NonFinite) return String(v.value);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v;
};

const TYPE_WORDS: Record<string, string> = {
  number: 'a finite number',
  integer: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** `/variants/1/steps/3` → `variants[1].steps[3]`. */
function jsonPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

/**
 * The error to show. Ajv stops at the first failing keyword, but an `anyOf` (a slice's 1-D or 2-D loss) lists
 * the failure of every alternative: the one that got deepest into the value is the alternative meant.
 */
function firstError(errors: ErrorObject[]): ErrorObject {
  if (!errors.some((e) => e.keyword === 'anyOf')) return errors[0];
  const depth = (e: ErrorObject) => e.instancePath.split('/').length;
  return errors.filter((e) => e.keyword !== 'anyOf').reduce((best, e) => (depth(e) > depth(best) ? e : best));
}

function schemaError(e: ErrorObject): string {
  const path = jsonPath(e.instancePath);
  const at = (p: string, msg: string) => `${p || '(report)'}: ${msg}`;
  const got = describe(e.data);
  const custom = (e.parentSchema as { errorMessage?: string } | undefined)?.errorMessage;
  if (custom && e.keyword !== 'required' && e.keyword !== 'additionalProperties') return at(path, `${custom}, got ${got}`);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return at(path ? `${path}.${String(p.missingProperty)}` : String(p.missingProperty), 'missing');
    case 'additionalProperties':
      return at(path ? `${path}.${String(p.additionalProperty)}` : String(p.additionalProperty), 'is not a field of this schema');
    case 'type': {
      const types = ([] as string[]).concat(p.type as string | string[]);
      return at(path, `expected ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}, got ${got}`);
    }
    case 'const':
      if (path === 'version') return at(path, `expected ${REPORT_VERSION}, got ${got} (this reader understands ${REPORT_SCHEMA} version ${REPORT_VERSION})`);
      return at(path, `expected ${JSON.stringify(p.allowedValue)}, got ${got}`);
    case 'enum':
      return at(path, `expected one of ${(p.allowedValues as string[]).join(', ')}, got ${got}`);
    case 'minimum':
      return at(path, `expected at least ${String(p.limit)}, got ${got}`);
    case 'exclusiveMinimum':
      return at(path, `expected more than ${String(p.limit)}, got ${got}`);
    case 'maximum':
      return at(path, `expected at most ${String(p.limit)}, got ${got}`);
    case 'exclusiveMaximum':
      return at(path, `expected less than ${String(p.limit)}, got ${got}`);
    case 'minItems':
      return at(path, `expected at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}, got ${got}`);
    case 'maxItems':
    case 'additionalItems':
      return at(path, `expected at most ${String(p.limit)} items, got ${got}`);
    case 'uniqueItems':
      return at(path, `expected each item once, got items ${String(p.j)} and ${String(p.i)} equal`);
    case 'pattern':
      return at(path, p.pattern === '\\S' ? `expected a non-empty string, got ${got}` : `expected a string matching ${String(p.pattern)}, got ${got}`);
    default:
      return at(path, `${e.message ?? e.keyword}, got ${got}`);
  }
}

function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(hasNonFinite);
  if (v && typeof v === 'object') return Object.values(v).some(hasNonFinite);
  return false;
}

function markNonFinite(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : new NonFinite(v);
  if (Array.isArray(v)) return v.map(markNonFinite);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, markNonFinite(x)]));
  return v;
}

// ---------------------------------------------------------------- rules a schema cannot state

function fail(path: string, msg: string): never {
  throw new Invalid(`${path || '(report)'}: ${msg}`);
}

/** Runs on a document the schema accepted, so every field has its type. */
function checkRules(r: Report): void {
  if (Number.isNaN(Date.parse(r.createdAt))) fail('createdAt', `expected an ISO 8601 UTC time like 2026-01-31T12:00:00.000Z, got ${describe(r.createdAt)}`);
  if (r.complete && r.stopReason !== null) fail('stopReason', `expected null for a complete report, got ${describe(r.stopReason)}`);
  const config = r.config;
  if (config.etaRange[1] < config.etaRange[0]) fail('config.etaRange', `expected lo ≤ hi, got [${config.etaRange.join(', ')}]`);

  const names = checkLrRun(r, '', config.lr, r, false);
  if (r.runs || r.sweep || config.lrs) checkSweep(r, names);
  r.slices?.forEach((s, i) => checkSlice(s, `slices[${i}]`));
}

/** The eta, variants and summary of one learning rate's run: the report's own, or an entry of `runs`. */
function checkLrRun(run: Pick<Report, 'eta' | 'variants' | 'summary'>, at: string, lr: number, r: Report, partial: boolean): string[] {
  const path = (k: string) => (at ? `${at}.${k}` : k);
  const config = r.config;
  // The η grid: etaCount values evenly spaced over the etaRange multiples of lr.
  if (run.eta.length !== config.etaCount) fail(path('eta'), `expected ${config.etaCount} numbers, got ${run.eta.length}`);
  const [lo, hi] = config.etaRange;
  run.eta.forEach((e, k) => {
    const want = config.etaCount === 1 ? lo * lr : lr * (lo + ((hi - lo) * k) / (config.etaCount - 1));
    if (Math.abs(e - want) > 1e-9 * Math.abs(want)) fail(path(`eta[${k}]`), `expected ${want} (lr ${lr} × the η range [${lo}, ${hi}] at point ${k} of ${config.etaCount}), got ${e}`);
  });

  const names = run.variants.map((v) => v.name);
  if (names.length === 0 && !partial) fail(path('variants'), 'expected at least one variant');
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) fail(path('variants'), `variant "${dup}" appears twice`);
  // The variants run are the configured ones in order; only 'as-written' may be left out (when the file
  // already is one of the derived networks), and a cancelled sweep's run may lack those it never started.
  const expected = config.variants.filter((n) => names.includes(n) || (n !== 'as-written' && !partial));
  if (expected.join() !== names.join()) fail(path('variants'), `expected the variants of config.variants in order (${expected.join(', ')}), got ${names.join(', ')}`);
  run.variants.forEach((v, i) => checkVariant(v, path(`variants[${i}]`), r, run.eta));

  const summary = run.summary;
  if (r.complete && summary.length !== names.length) fail(path('summary'), `expected one row per variant (${names.length}) in a complete report, got ${summary.length}`);
  if (summary.length !== 0 && summary.length !== names.length) fail(path('summary'), `expected no rows or one per variant (${names.length}), got ${summary.length}`);
  summary.forEach((s, i) => {
    const p = path(`summary[${i}]`);
    if (s.variant !== names[i]) fail(`${p}.variant`, `expected "${names[i]}" (rows follow the order of variants), got ${describe(s.variant)}`);
    const own = run.variants[i].diverged;
    if (JSON.stringify(s.diverged) !== JSON.stringify(own)) fail(`${p}.diverged`, `expected the variant's own diverged value ${JSON.stringify(own)}, got ${JSON.stringify(s.diverged)}`);
  });
  return names;
}

/** A learning-rate sweep: config.lrs, one run per lr after the first, and the sweep's summary. */
function checkSweep(r: Report, names: string[]): void {
  const lrs = r.config.lrs;
  if (!lrs) return fail('config.lrs', 'missing: a report with runs or a sweep lists its learning rates');
  if (lrs[0] !== r.config.lr) fail('config.lr', `expected the sweep's first learning rate ${lrs[0]}, got ${r.config.lr}`);
  const runs = r.runs ?? [];
  if (runs.length !== lrs.length - 1) fail('runs', `expected one run per learning rate after the first (${lrs.length - 1}), got ${runs.length}`);
  runs.forEach((run, i) => {
    if (run.lr !== lrs[i + 1]) fail(`runs[${i}].lr`, `expected ${lrs[i + 1]} (config.lrs[${i + 1}]), got ${run.lr}`);
    checkLrRun(run, `runs[${i}]`, run.lr, r, !r.complete);
  });
  if (!r.sweep) return;
  if (r.sweep.lrs.join() !== lrs.join()) fail('sweep.lrs', `expected config.lrs (${lrs.join(', ')}), got ${r.sweep.lrs.join(', ')}`);
  r.sweep.largestStableLr.forEach((e, i) => {
    const q = `sweep.largestStableLr[${i}]`;
    if (e.variant !== names[i]) fail(`${q}.variant`, `expected "${names[i]}" (the order of variants), got ${describe(e.variant)}`);
    if (e.lr !== null && !lrs.includes(e.lr)) fail(`${q}.lr`, `expected one of config.lrs or null, got ${e.lr}`);
  });
}

/** A loss-surface slice: the grid's shape follows dims, and the top-level fields are those of the first variant. */
function checkSlice(s: SliceResult, p: string): void {
  const twoD = s.dims === 2;
  if (twoD && !s.betas) fail(`${p}.betas`, 'missing: a 2-D slice has a second axis');
  if (!twoD && s.betas) fail(`${p}.betas`, 'expected no betas in a 1-D slice');
  const grid = (loss: SliceResult['loss'], q: string) => {
    if (s.betas) {
      if (loss.length !== s.betas.length) fail(q, `expected ${s.betas.length} rows (one per beta), got ${loss.length}`);
      loss.forEach((row, j) => {
        if (!Array.isArray(row)) fail(`${q}[${j}]`, `expected a row of ${s.alphas.length} numbers, got ${describe(row)}`);
        if (row.length !== s.alphas.length) fail(`${q}[${j}]`, `expected ${s.alphas.length} numbers (one per alpha), got ${row.length}`);
      });
    } else {
      if (loss.length !== s.alphas.length) fail(q, `expected ${s.alphas.length} numbers (one per alpha), got ${loss.length}`);
      loss.forEach((x, i) => Array.isArray(x) && fail(`${q}[${i}]`, `expected a number or null in a 1-D slice, got ${describe(x)}`));
    }
  };
  s.variants.forEach((v, i) => {
    const q = `${p}.variants[${i}]`;
    grid(v.loss, `${q}.loss`);
    if (twoD && v.directionCosine === null) fail(`${q}.directionCosine`, 'expected a number in a 2-D slice, got null');
  });
  const first = s.variants[0];
  for (const k of ['variant', 'step', 'loss', 'centerLoss', 'directionCosine'] as const)
    if (JSON.stringify(s[k]) !== JSON.stringify(first[k])) fail(`${p}.${k}`, `expected that of variants[0] (${describe(first[k])}), got ${describe(s[k])}`);
}

function checkVariant(o: Report['variants'][number], p: string, r: Report, eta: number[]): void {
  const config = r.config;
  const mse = r.dataset.loss === 'mse';
  const layerNames = new Set<string>();
  o.layers.forEach((L, i) => {
    const q = `${p}.layers[${i}]`;
    if (layerNames.has(L.name)) fail(`${q}.name`, `layer name "${L.name}" appears twice`);
    layerNames.add(L.name);
    if (L.inserted && L.sourceLayer === null) fail(`${q}.sourceLayer`, 'an inserted layer must name the source layer it follows, got null');
  });

  const diverged = o.diverged;
  if (diverged && diverged.step > config.steps - 1) fail(`${p}.diverged.step`, `expected at most ${config.steps - 1}, got ${diverged.step}`);

  let prev = -1;
  o.steps.forEach((S, i) => {
    const q = `${p}.steps[${i}]`;
    const t = S.step;
    if (t > config.steps - 1) fail(`${q}.step`, `expected at most ${config.steps - 1}, got ${t}`);
    if (t <= prev) fail(`${q}.step`, `expected steps in increasing order, got ${t} after ${prev}`);
    if (t % config.probeEvery !== 0) fail(`${q}.step`, `expected a multiple of config.probeEvery (${config.probeEvery}), got ${t}`);
    if (diverged && t > diverged.step) fail(`${q}.step`, `the variant diverged at step ${diverged.step}, yet has a record for step ${t}`);
    prev = t;
    if (mse && S.accuracy !== null) fail(`${q}.accuracy`, `expected null (the loss is mse), got ${describe(S.accuracy)}`);
    if (!mse && S.accuracy === null) fail(`${q}.accuracy`, 'expected a finite number, got null');
    for (const k of ['lossAtEta', 'gradChange', 'curvatureAtEta'] as const) if (S[k] && S[k].length !== eta.length) fail(`${q}.${k}`, `expected ${eta.length} numbers, got ${S[k].length}`);
    const h = S.hessian;
    if (h) {
      if (h.lambdaMin > h.lambdaMax) fail(`${q}.hessian.lambdaMin`, `${h.lambdaMin} is above lambdaMax ${h.lambdaMax}`);
      if (h.top.some((t, i) => i > 0 && t > h.top[i - 1])) fail(`${q}.hessian.top`, 'expected eigenvalues in descending order');
      if (h.density.weights.length !== h.density.nodes.length) fail(`${q}.hessian.density.weights`, `expected ${h.density.nodes.length} numbers, got ${h.density.weights.length}`);
    }
  });
  // A complete run probes every probeEvery-th step of a variant that did not diverge.
  if (r.complete && !diverged) {
    const want = Math.ceil(config.steps / config.probeEvery);
    if (o.steps.length !== want) fail(`${p}.steps`, `expected ${want} records in a complete run (${config.steps} steps, probed every ${config.probeEvery}), got ${o.steps.length}`);
  }

  prev = -1;
  o.layerStats.forEach((R, i) => {
    const q = `${p}.layerStats[${i}]`;
    const t = R.step;
    if (t > config.steps - 1) fail(`${q}.step`, `expected at most ${config.steps - 1}, got ${t}`);
    if (t < prev) fail(`${q}.step`, `expected records in step order, got ${t} after ${prev}`);
    if (config.icsEvery === 0) fail(`${q}.step`, 'config.icsEvery is 0, so there should be no layer statistics');
    if (t % config.icsEvery !== 0) fail(`${q}.step`, `expected a multiple of config.icsEvery (${config.icsEvery}), got ${t}`);
    prev = t;
    if (!layerNames.has(R.layer)) fail(`${q}.layer`, `"${R.layer}" is not a layer of this variant`);
    if (R.hist.min !== null && R.hist.max !== null && R.hist.min > R.hist.max) fail(`${q}.hist`, `min ${R.hist.min} is above max ${R.hist.max}`);
  });

  prev = -1;
  o.evals.forEach((E, i) => {
    const q = `${p}.evals[${i}]`;
    if (E.step > config.steps) fail(`${q}.step`, `expected at most ${config.steps}, got ${E.step}`);
    if (E.step < prev) fail(`${q}.step`, `expected evaluations in step order, got ${E.step} after ${prev}`);
    prev = E.step;
    if (mse && E.accuracy !== null) fail(`${q}.accuracy`, `expected null (the loss is mse), got ${describe(E.accuracy)}`);
    if (!mse && E.accuracy === null) fail(`${q}.accuracy`, 'expected a finite number, got null');
  });
}
