// Pure data helpers shared by the charts, the webview entry and the HTML report (src/report/html.ts).
// No DOM, no d3: everything here runs in Node too.
import type { EngineToHost, LayerStatRecord, Report, SummaryRow, VariantReport } from '../src/protocol';
import { applyEvent as applyReportEvent } from '../src/report/applyEvent';
import { summarizeVariant } from '../src/report/summary';

/** A finite number (JSON turns NaN/Infinity into null, so a diverged run's numbers may be null). */
export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Range of the finite values of one probe row; null when none is finite. */
export function band(values: readonly (number | null)[] | undefined): { lo: number; hi: number; finite: number; total: number } | null {
  if (!values || values.length === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  let finite = 0;
  for (const v of values) {
    if (!isNum(v)) continue;
    finite++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return finite ? { lo, hi, finite, total: values.length } : null;
}

/** Exact-enough text for a value in tooltips and tables: 6 significant digits. */
export function fmt(v: number | null | undefined, digits = 6): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e7) return String(Number(v.toPrecision(digits)));
  return v.toExponential(digits - 1).replace(/\.?0+e/, 'e');
}

export function fmtPercent(v: number | null | undefined): string {
  return isNum(v) ? `${Number((v * 100).toPrecision(4))}%` : '—';
}

// ---------------------------------------------------------------- live updates

/**
 * Applies one engine event with the one reducer the host uses too, and says whether the charts need a redraw.
 */
export function applyEvent(report: Report | null, ev: EngineToHost): { report: Report | null; changed: boolean } {
  const next = applyReportEvent(report, ev);
  const known = !('variant' in ev) || (next?.variants.some((v) => v.name === ev.variant) ?? false);
  return { report: next, changed: ev.type !== 'log' && ev.type !== 'phase' && next !== null && known };
}

// ---------------------------------------------------------------- layers

/** Source-layer names that have statistics in some variant, in the order of the model file. */
export function sourceLayers(report: Report): string[] {
  const seen = new Set<string>();
  for (const v of report.variants) for (const r of v.layerStats) if (r.sourceLayer) seen.add(r.sourceLayer);
  const order = report.model.layers.map((l) => l.name).filter((n) => seen.has(n));
  for (const n of seen) if (!order.includes(n)) order.push(n);
  return order;
}

/** The default layer: the first source layer with an ICS measurement, else the first with any statistics. */
export function defaultLayer(report: Report): string | null {
  const layers = sourceLayers(report);
  const withIcs = layers.filter((name) => report.variants.some((v) => v.layerStats.some((r) => r.sourceLayer === name && isNum(r.icsL2))));
  // The first kernel layer has no layer before it to move, so its ICS is 0 by definition: start at the next.
  const shifting = withIcs.find((name) => report.variants.some((v) => v.layerStats.some((r) => r.sourceLayer === name && isNum(r.icsL2) && r.icsL2 !== 0)));
  return shifting ?? withIcs[0] ?? layers[0] ?? null;
}

/**
 * Records of one source layer in one variant.
 * 'ics': the layer that carries the kernel (ICS is defined for parameterised layers), preferring the
 *        layer written in the file over an inserted one.
 * 'act': the output of the block the source layer became, i.e. the last variant layer that maps to it
 *        (after an inserted normalisation layer, where its effect on the distribution shows).
 */
export function layerRecords(variant: VariantReport, sourceLayer: string, kind: 'ics' | 'act'): LayerStatRecord[] {
  const recs = variant.layerStats.filter((r) => r.sourceLayer === sourceLayer);
  if (recs.length === 0) return [];
  const names = [...new Set(recs.map((r) => r.layer))];
  const info = new Map(variant.layers.map((l, i) => [l.name, { ...l, index: i }]));
  let chosen: string;
  if (kind === 'ics') {
    const withIcs = names.filter((n) => recs.some((r) => r.layer === n && isNum(r.icsL2)));
    const pool = withIcs.length ? withIcs : names;
    chosen = pool.find((n) => info.get(n)?.inserted === false) ?? pool[0];
  } else {
    chosen = names.reduce((a, b) => ((info.get(b)?.index ?? -1) > (info.get(a)?.index ?? -1) ? b : a));
  }
  return recs.filter((r) => r.layer === chosen).sort((a, b) => a.step - b.step);
}

// ---------------------------------------------------------------- summary

/** The report's summary rows, computed from the steps for a report that has none yet (live, or partial). */
export function summaryRows(report: Report): SummaryRow[] {
  return report.variants.map((v) => {
    const given = report.summary?.find((s) => s.variant === v.name);
    return given ?? computeSummary(v);
  });
}

export const computeSummary = summarizeVariant;

// ---------------------------------------------------------------- summary table (shared by the webview and the HTML report)

export interface SummaryColumn {
  header: string;
  title: string;
  cell(row: SummaryRow): string;
}

export const SUMMARY_COLUMNS: SummaryColumn[] = [
  { header: 'variant', title: 'Network variant', cell: (r) => r.variant },
  { header: 'final loss', title: 'Training loss at the last finite step', cell: (r) => fmt(r.finalLoss, 4) },
  { header: 'final acc.', title: 'Batch accuracy at the last step', cell: (r) => fmtPercent(r.finalAccuracy) },
  { header: 'held-out loss', title: 'Loss of the last held-out evaluation', cell: (r) => fmt(r.testLoss, 4) },
  {
    header: 'held-out acc.',
    title: 'Accuracy of the last held-out evaluation (BatchNorm with its moving statistics; * = still warming up, see the next column)',
    cell: (r) => `${fmtPercent(r.testAccuracy)}${r.movingStatsWarmingUp ? '*' : ''}`,
  },
  {
    header: 'held-out acc. (own BN stats)',
    title: 'Variants with BatchNorm: the same held-out examples, each held-out batch normalized with its own statistics (training mode) instead of the moving averages, which lag early in a run',
    cell: (r) => (r.testAccuracyBatchStats === undefined ? '' : fmtPercent(r.testAccuracyBatchStats)),
  },
  { header: 'mean band width', title: 'Mean over steps of max_η − min_η of L(x − η·g)', cell: (r) => fmt(r.meanBandWidth, 4) },
  { header: 'mean grad. change', title: 'Mean over steps and η of ‖∇L(x − η·g) − g‖₂', cell: (r) => fmt(r.meanGradChange, 4) },
  { header: 'mean β', title: 'Mean effective β-smoothness', cell: (r) => fmt(r.meanBeta, 4) },
  { header: 'max β', title: 'Largest effective β-smoothness', cell: (r) => fmt(r.maxBeta, 4) },
  { header: 'diverged', title: 'Step at which training diverged', cell: (r) => (r.diverged ? `step ${r.diverged.step}: ${r.diverged.reason}` : 'no') },
];

// ---------------------------------------------------------------- per-step probes and histograms

/** Steps at which some variant has a probe along the gradient (lossAtEta recorded), ascending. */
export function probedSteps(report: Report): number[] {
  const s = new Set<number>();
  for (const v of report.variants) for (const r of v.steps) if (r.lossAtEta.length > 0) s.add(r.step);
  return [...s].sort((a, b) => a - b);
}

/** The η-profile step: the chosen one when it was probed, else the last probed step (null: none yet). */
export function profileStep(report: Report, chosen: number | null): number | null {
  const steps = probedSteps(report);
  if (chosen !== null && steps.includes(chosen)) return chosen;
  return steps.length ? steps[steps.length - 1] : null;
}

export interface Density {
  /** Bin edges (counts.length + 1 of them, ascending). */
  edges: number[];
  /** count / (total · bin width) per bin: the histogram as a probability density (integrates to 1). */
  density: number[];
  counts: number[];
  total: number;
}

/**
 * A stored histogram as a density. Null when it cannot be one: min or max not finite (null in JSON),
 * max ≤ min (zero-width bins), no bins, or no counts.
 */
export function histDensity(h: LayerStatRecord['hist'] | undefined): Density | null {
  if (!h || !isNum(h.min) || !isNum(h.max) || !(h.max > h.min) || !Array.isArray(h.counts) || h.counts.length === 0) return null;
  const n = h.counts.length;
  let total = 0;
  for (const c of h.counts) if (isNum(c) && c > 0) total += c;
  if (!(total > 0)) return null;
  const w = (h.max - h.min) / n;
  const edges = Array.from({ length: n + 1 }, (_, i) => (i === n ? (h.max as number) : (h.min as number) + i * w));
  const counts = h.counts.map((c) => (isNum(c) && c > 0 ? c : 0));
  return { edges, counts, total, density: counts.map((c) => c / (total * w)) };
}

/** Up to k evenly spaced entries of an ascending list, always the first and the last. */
export function evenlySpaced<T>(list: readonly T[], k: number): T[] {
  if (list.length <= k) return [...list];
  const out: T[] = [];
  for (let i = 0; i < k; i++) {
    const j = Math.round((i * (list.length - 1)) / (k - 1));
    if (out[out.length - 1] !== list[j]) out.push(list[j]);
  }
  return out;
}
