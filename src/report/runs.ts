// The run dimension of a report: one entry per learning rate. A single-lr report (every report written
// before sweeps existed) is a sweep of one, so readers of the sweep need no second code path.

import type { LrRun, Report, SummaryRow, SweepSummary, VariantName, VariantReport } from '../protocol';

/** Every learning rate's run, in config order: the report's own `variants` first, then `runs`. */
export function allRuns(report: Report): LrRun[] {
  return [{ lr: report.config.lr, eta: report.eta, variants: report.variants, summary: report.summary }, ...(report.runs ?? [])];
}

/** The run that holds `lr` (absent or config.lr: the report's own variants). */
export function runFor(report: Report, lr: number | undefined): { variants: VariantReport[] } | undefined {
  if (lr === undefined || lr === report.config.lr) return report;
  return report.runs?.find((r) => r.lr === lr);
}

export function isSweep(report: Report): boolean {
  return (report.runs?.length ?? 0) > 0;
}

/** Per variant, the largest learning rate whose run did not diverge (null when every one did). */
export function sweepSummary(report: Report): SweepSummary {
  const runs = allRuns(report);
  const names = report.variants.map((v) => v.name);
  return {
    lrs: runs.map((r) => r.lr),
    largestStableLr: names.map((variant) => {
      const stable = runs.filter((r) => r.variants.some((v) => v.name === variant && v.diverged === null)).map((r) => r.lr);
      return { variant, lr: stable.length ? Math.max(...stable) : null };
    }),
  };
}

/** The summary row of `variant` at every lr, for the sweep table and the accuracy-vs-lr chart. */
export function rowsByLr(report: Report, variant: VariantName): { lr: number; row: SummaryRow | undefined; run: VariantReport | undefined }[] {
  return allRuns(report).map((r) => ({ lr: r.lr, row: r.summary.find((s) => s.variant === variant), run: r.variants.find((v) => v.name === variant) }));
}

/** The sweep as a fixed-width table for the terminal: one row per (variant, lr). */
export function sweepTable(report: Report): string {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
  const num = (x: number | null | undefined) => (x === null || x === undefined ? '—' : Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toFixed(4));
  const head = ['variant', 'lr', 'final loss', 'batch acc', 'test acc', 'diverged'];
  const body: string[][] = [];
  for (const v of report.variants)
    for (const { lr, row } of rowsByLr(report, v.name)) body.push([v.name, String(lr), num(row?.finalLoss), pct(row?.finalAccuracy), pct(row?.testAccuracy), row?.diverged ? `at step ${row.diverged.step}` : 'no']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const s = report.sweep ?? sweepSummary(report);
  const stable = s.largestStableLr.map((x) => `${x.variant} ${x.lr ?? 'none'}`).join(', ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line), '', `Largest learning rate that did not diverge: ${stable}.`].join('\n');
}
