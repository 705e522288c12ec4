// What the hover and the code lens say about one layer: pure functions of (layer, report), so they are
// unit-tested without VS Code. The hover provider (hover.ts) and lens provider (codeLens.ts) only find
// the layer under the cursor and wrap the Markdown.
import type { LayerStatRecord, Moments, Report, VariantLayerInfo, VariantReport } from '../protocol';

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

function lastStep(report: Report): number {
  let s = 0;
  for (const v of report.variants) for (const r of v.steps) s = Math.max(s, r.step);
  return s;
}

function runState(report: Report, running: boolean): string {
  const done = lastStep(report);
  if (running) return `running, step ${done} of ${report.config.steps}`;
  if (report.complete) return `${report.config.steps} steps`;
  return `stopped at step ${done} of ${report.config.steps}${report.stopReason ? ` (${report.stopReason})` : ''}`;
}

/** The hover's Markdown for one layer. `running` says whether `report` is still being written. */
export function hoverMarkdown(file: LayerFacts, report: Report | null, links: HoverLinks, running = false): string {
  const f = layerFacts(file, report);
  const head = `**${escapeMd(f.name || '(unnamed)')}** · \`${f.className}\` · output \`${fmtShape(f.outputShape)}\` · ${fmtInt(f.params)} params`;
  const lines = [head, ''];
  if (!report) {
    lines.push(`No analysis of this network yet. [Analyze BatchNorm](${links.analyze}) trains it with and without BatchNorm and shows here, per layer: gradient and weight norms, internal covariate shift, activation statistics.`);
    return lines.join('\n');
  }
  const rows: string[] = [];
  const extras: string[] = [];
  for (const v of report.variants) {
    const vl = variantLayerFor(v, f.name);
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

/** One line above the layer, e.g. "batchnorm β̄ 4.1 vs standard 9.8 · ICS cos 0.93 vs 0.71". */
export function codeLensTitle(layerName: string, report: Report, running = false): string | null {
  const vs = lensOrder(report.variants);
  if (!vs.length) return null;
  const betas = vs.map((v, i) => `${i === 0 ? `${v.name} β̄ ` : `${v.name} `}${fmt(meanBeta(report, v))}`);
  const parts = [betas.join(' vs ')];
  const cos = vs.map((v) => {
    const vl = variantLayerFor(v, layerName);
    const recs = vl ? statsOf(v, vl.name).filter((r) => r.icsCos !== null) : [];
    return recs.length ? recs[recs.length - 1].icsCos : null;
  });
  if (cos.some((c) => c !== null)) parts.push(`ICS cos ${cos.map(fmt).join(' vs ')}`);
  if (running) parts.push('running…');
  else if (!report.complete) parts.push('partial');
  return parts.join(' · ');
}
