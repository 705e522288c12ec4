// What the hover and the code lens say about one layer: pure functions of (layer, report), so they are
// unit-tested without VS Code. The hover provider (hover.ts) and lens provider (codeLens.ts) only find
// the layer under the cursor and wrap the Markdown.
import type { LayerStatRecord, Moments, Report, VariantLayerInfo, VariantReport } from '../protocol';
import { extentText, progressText, runProgress } from '../report/progress';
import { WARMING_UP_INIT_WEIGHT } from '../report/summary';

/** What the file itself says about a layer (name, class; shape and parameters when they could be inferred). */
export interface LayerFacts {
  name: string;
  className: string;
  outputShape: (number | null)[] | null;
  params: number | null;
}

export interface HoverLinks {
  /** `command:` URI that starts an analysis of this file. */
  analyze: string;
  /** `command:` URI that opens the report panel. */
  openReport: string;
}

/** 3 significant digits, exponent form for very large/small magnitudes, '—' for missing. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  const s = a >= 1e5 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(3)));
  return s.replace(/^-/, '−');
}

export function fmtInt(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  return Math.round(x).toLocaleString('en-US');
}

export function fmtShape(shape: (number | null)[] | null | undefined): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

/** ↑ / ↓ when the last value differs from the first by more than 5 % of the larger magnitude, → otherwise. */
export function trend(values: readonly (number | null | undefined)[]): '' | '↑' | '↓' | '→' {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (xs.length < 2) return '';
  const first = xs[0];
  const last = xs[xs.length - 1];
  const scale = Math.max(Math.abs(first), Math.abs(last));
  if (scale === 0 || Math.abs(last - first) <= 0.05 * scale) return '→';
  return last > first ? '↑' : '↓';
}

function escapeMd(s: string): string {
  return s.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, '\\$1');
}

/** The variant's counterpart of source layer `name` (not an inserted layer). */
export function variantLayerFor(v: VariantReport, name: string): VariantLayerInfo | undefined {
  return v.layers.find((l) => !l.inserted && l.name === name) ?? v.layers.find((l) => !l.inserted && l.sourceLayer === name);
}

/** Layers a variant inserted after source layer `name` (e.g. the BatchNorm of the 'batchnorm' variant). */
export function insertedAfter(v: VariantReport, name: string): VariantLayerInfo[] {
  return v.layers.filter((l) => l.inserted && l.sourceLayer === name);
}

function statsOf(v: VariantReport, layerName: string): LayerStatRecord[] {
  return v.layerStats.filter((r) => r.layer === layerName).sort((a, b) => a.step - b.step);
}

function cell(records: LayerStatRecord[], pick: (r: LayerStatRecord) => number | null | undefined): string {
  if (!records.length) return '—';
  const last = pick(records[records.length - 1]);
  const t = trend(records.map(pick));
  return t ? `${fmt(last)} ${t}` : fmt(last);
}

function moments(label: string, m: Moments | undefined): string | null {
  if (!m) return null;
  return `${label} mean ${fmt(m.mean)}, std ${fmt(m.std)}, range ${fmt(m.min)} … ${fmt(m.max)}`;
}

/** Facts for the layer, preferring the engine's numbers from the report. */
export function layerFacts(fromFile: LayerFacts, report: Report | null): LayerFacts {
  const m = report?.model.layers.find((l) => l.name === fromFile.name);
  if (!m) return fromFile;
  return { name: m.name, className: m.className || fromFile.className, outputShape: m.outputShape ?? fromFile.outputShape, params: m.params ?? fromFile.params };
}

function runState(report: Report, running: boolean): string {
  if (running) return `running, ${progressText(runProgress(report))}`;
  return `${extentText(report)}${!report.complete && report.stopReason && report.stopReason !== 'cancelled' ? ` (${report.stopReason})` : ''}`;
}

/** The hover's Markdown for one layer. `running` says whether `report` is still being written. */
export function hoverMarkdown(file: LayerFacts, report: Report | null, links: HoverLinks, running = false): string {
  const f = layerFacts(file, report);
  const head = `**${escapeMd(f.name || '(unnamed)')}** · \`${f.className}\` · output \`${fmtShape(f.outputShape)}\` · ${fmtInt(f.params)} params`;
  const lines = [head, ''];
  if (!report) {
    lines.push(
      `No analysis of this network yet. [Analyze BatchNorm](${links.analyze}) trains it with and without BatchNorm and shows here, per layer: gradient and weight norms, internal covariate shift, activation statistics.`,
    );
    return lines.join('\n');
  }
  const rows: string[] = [];
  const extras: string[] = [];
  for (const v of report.variants) {
    const vl = variantLayerFor(v, f.name);
    const normalizes = (vl && /batchnorm/i.test(vl.className)) || insertedAfter(v, f.name).some((l) => /batchnorm/i.test(l.className));
    const warming = normalizes ? warmingUpNote(v) : null;
    if (warming) extras.push(warming);
    if (vl) {
      const recs = statsOf(v, vl.name);
      rows.push(
        `| ${escapeMd(v.name)} | ${cell(recs, (r) => r.gradNorm)} | ${cell(recs, (r) => r.weightNorm)} | ${cell(recs, (r) => r.icsL2)} | ${cell(recs, (r) => r.icsCos)} | ${cell(recs, (r) => r.actMean)} | ${cell(recs, (r) => r.actStd)} |`,
      );
      const last = recs[recs.length - 1];
      const own = [moments('γ', last?.gamma), moments('β', last?.beta)].filter(Boolean);
      if (own.length) extras.push(`*${escapeMd(v.name)}*: ${own.join(' · ')}`);
    }
    for (const ins of insertedAfter(v, f.name)) {
      const recs = statsOf(v, ins.name);
      const last = recs[recs.length - 1];
      // Normalization layers only (a variant may also move the activation after the inserted BatchNorm).
      if (!/norm|^l(1|2|inf)\b/i.test(ins.className) && !last?.gamma && !last?.beta) continue;
      const parts = [moments('γ', last?.gamma), moments('β', last?.beta)].filter(Boolean);
      if (last) parts.push(`activations mean ${cell(recs, (r) => r.actMean)}, std ${cell(recs, (r) => r.actStd)}`);
      extras.push(`*${escapeMd(v.name)}* inserts \`${ins.className}\` ${escapeMd(ins.name)} after this layer${parts.length ? `: ${parts.join(' · ')}` : ' (no statistics yet)'}`);
    }
  }
  if (rows.length) {
    lines.push('| variant | ‖∇W‖ | ‖W‖ | ICS ℓ2 | ICS cos | act mean | act std |', '|---|--:|--:|--:|--:|--:|--:|', ...rows, '');
  } else {
    lines.push('This layer is not in the last run (was the file changed since?).', '');
  }
  for (const e of extras) lines.push(e, '');
  lines.push(`*Last value and trend over the run (${runState(report, running)}). [Open report](${links.openReport})*`);
  return lines.join('\n');
}

/**
 * Early in a run a BatchNorm variant's moving statistics still hold much of their initial values, so its
 * held-out numbers understate it; said on the BatchNorm layers' hover with the held-out batch's own figures.
 */
function warmingUpNote(v: VariantReport): string | null {
  const e = v.evals[v.evals.length - 1];
  if (!e || (e.movingStatsInitWeight ?? 0) <= WARMING_UP_INIT_WEIGHT) return null;
  const pct = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');
  const figures =
    e.accuracy !== null
      ? `held-out accuracy ${pct(e.accuracy)} with them, ${pct(e.batchStatsAccuracy)} with each held-out batch's own statistics`
      : `held-out loss ${fmt(e.loss)} with them, ${fmt(e.batchStatsLoss)} with each held-out batch's own statistics`;
  return `*${escapeMd(v.name)}*: BatchNorm moving statistics still warming up at step ${e.step} (${pct(e.movingStatsInitWeight)} of their initial values left): ${figures}`;
}

/** β̄: the mean β-smoothness of a variant (the summary's, or over its steps so far). */
export function meanBeta(report: Report, v: VariantReport): number | null {
  const s = report.summary.find((r) => r.variant === v.name);
  if (s && s.meanBeta !== null && s.meanBeta !== undefined) return s.meanBeta;
  const xs = v.steps.map((r) => r.beta).filter((b): b is number => typeof b === 'number' && Number.isFinite(b));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

const BASELINES = new Set(['standard', 'as-written']);

/** Normalized variants first, then the baselines, keeping report order within each group. */
function lensOrder(variants: readonly VariantReport[]): VariantReport[] {
  return [...variants.filter((v) => !BASELINES.has(v.name)), ...variants.filter((v) => BASELINES.has(v.name))];
}

/**
 * The model-level lens at the top of the file, e.g. "BatchNorm Lens: batchnorm β̄ 4.1 vs standard 9.8 —
 * 2.4× smoother · 200 steps": the landscape result of the run.
 */
export function modelLensTitle(report: Report, running = false): string | null {
  const vs = lensOrder(report.variants);
  if (!vs.length) return null;
  const betas = vs.map((v) => ({ name: v.name, beta: meanBeta(report, v) }));
  const parts = [`BatchNorm Lens: ${betas.map((b, i) => `${b.name}${i === 0 ? ' β̄' : ''} ${fmt(b.beta)}`).join(' vs ')}`];
  const norm = betas[0];
  const base = betas.find((b) => BASELINES.has(b.name));
  if (base && norm !== base && norm.beta !== null && base.beta !== null && norm.beta > 0 && base.beta > 0) {
    const ratio = base.beta / norm.beta;
    parts[0] += ratio >= 1 ? ` — ${fmt(ratio)}× smoother` : ` — ${fmt(1 / ratio)}× less smooth`;
  }
  parts.push(running ? `running, ${progressText(runProgress(report))}` : extentText(report));
  return parts.join(' · ');
}

/** The last finite value of a layer statistic in a variant, null when it has none. */
function lastOf(v: VariantReport, layerName: string, pick: (r: LayerStatRecord) => number | null | undefined): number | null {
  const vl = variantLayerFor(v, layerName);
  if (!vl) return null;
  const recs = statsOf(v, vl.name);
  for (let i = recs.length - 1; i >= 0; i--) {
    const x = pick(recs[i]);
    if (typeof x === 'number' && Number.isFinite(x)) return x;
  }
  return null;
}

/**
 * One line above a layer with that layer's own facts per variant, e.g. "ICS ℓ2 batchnorm 0.012 vs standard
 * 0.054 · act std 0.98 vs 1.3". ICS is left out where it is zero in every variant (the first kernel layer:
 * no earlier layer moves before it), and the line is omitted when the layer has no statistics.
 */
export function codeLensTitle(layerName: string, report: Report, running = false): string | null {
  const vs = lensOrder(report.variants).filter((v) => variantLayerFor(v, layerName));
  if (!vs.length) return null;
  const parts: string[] = [];
  const ics = vs.map((v) => lastOf(v, layerName, (r) => r.icsL2));
  if (ics.some((x) => x !== null && x !== 0)) parts.push(`ICS ℓ2 ${vs.map((v, i) => `${v.name} ${fmt(ics[i])}`).join(' vs ')}`);
  const spread = vs.map((v) => lastOf(v, layerName, (r) => r.actStd));
  if (spread.some((x) => x !== null)) parts.push(`act std ${parts.length ? spread.map(fmt).join(' vs ') : vs.map((v, i) => `${v.name} ${fmt(spread[i])}`).join(' vs ')}`);
  if (!parts.length) return null;
  if (running) parts.push('running…');
  return parts.join(' · ');
}
