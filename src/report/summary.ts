// The end-of-run summary: one row per variant, computed from the report alone, so the CLI table, the
// HTML page and the extension show the same numbers for a report opened later.

import type { Report, SummaryRow, VariantReport } from '../protocol';
import { meanOf, resolvedDescentFreeCurvature } from './curvature';

const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
const mean = (xs: number[]) => {
  const f = finite(xs);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null;
};

/** A step's values only when every one is a finite number: JSON carries NaN and ±Infinity as null. */
const allFinite = (xs: readonly (number | null)[]): number[] | null => (xs.length > 0 && xs.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (xs as number[]) : null);

/** κ_G (when the report has it), κ_L (from the loss fields, where float32 resolves it), λ_max (when measured). */
function curvatureSummary(v: VariantReport, eta: readonly number[] | undefined): Partial<SummaryRow> {
  const out: Partial<SummaryRow> = {};
  if (v.steps.some((s) => s.curvatureAtEta)) out.meanCurvature = meanOf(v.steps.map((s) => (s.curvatureAtEta ? meanOf(s.curvatureAtEta) : null)));
  if (eta && eta.length) out.meanDescentFreeCurvature = meanOf(v.steps.flatMap((s) => resolvedDescentFreeCurvature(s.loss, s.gradNorm, eta, s.lossAtEta)));
  const hs = v.steps.filter((s) => s.hessian);
  if (hs.length) out.meanLambdaMax = meanOf(hs.map((s) => s.hessian!.lambdaMax));
  return out;
}

/** Moving statistics still carrying more of their initial values (mean 0, variance 1) than this are "warming up". */
export const WARMING_UP_INIT_WEIGHT = 0.05;

export function summarizeVariant(v: VariantReport, eta?: readonly number[]): SummaryRow {
  const last = [...v.steps].reverse().find((s) => Number.isFinite(s.loss));
  const lastAccurate = [...v.steps].reverse().find((s) => typeof s.accuracy === 'number' && Number.isFinite(s.accuracy));
  const lastEval = v.evals[v.evals.length - 1];
  const betas = finite(v.steps.map((s) => s.beta ?? NaN));
  return {
    variant: v.name,
    finalLoss: last ? last.loss : null,
    finalAccuracy: lastAccurate ? lastAccurate.accuracy : null,
    testLoss: lastEval ? lastEval.loss : null,
    testAccuracy: lastEval ? lastEval.accuracy : null,
    ...(lastEval && lastEval.batchStatsLoss !== undefined
      ? {
          testLossBatchStats: lastEval.batchStatsLoss ?? null,
          testAccuracyBatchStats: lastEval.batchStatsAccuracy ?? null,
          movingStatsWarmingUp: (lastEval.movingStatsInitWeight ?? 0) > WARMING_UP_INIT_WEIGHT,
        }
      : {}),
    meanBandWidth: mean(
      v.steps.map((s) => {
        const l = allFinite(s.lossAtEta);
        return l ? Math.max(...l) - Math.min(...l) : NaN;
      }),
    ),
    meanGradChange: mean(
      v.steps.map((s) => {
        const d = allFinite(s.gradChange);
        return d ? d.reduce((a, b) => a + b, 0) / d.length : NaN;
      }),
    ),
    meanBeta: mean(betas),
    maxBeta: betas.length ? Math.max(...betas) : null,
    ...curvatureSummary(v, eta),
    diverged: v.diverged,
  };
}

export function summarize(report: Report): SummaryRow[] {
  return report.variants.map((v) => summarizeVariant(v, report.eta));
}

/** The summary as a fixed-width text table for the terminal. */
export function summaryTable(rows: SummaryRow[]): string {
  const fmt = (x: number | null, digits = 4) => (x === null ? '—' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(digits));
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
  // Curvature columns only for reports that have them (older reports lack κ_G; λ_max needs --hessian-every).
  const hasKappa = rows.some((r) => r.meanCurvature !== undefined);
  const hasLambda = rows.some((r) => r.meanLambdaMax !== undefined);
  const extraHead = [...(hasKappa ? ['mean κ_G'] : []), ...(hasLambda ? ['mean λ_max'] : [])];
  const extra = (r: SummaryRow) => [...(hasKappa ? [fmt(r.meanCurvature ?? null, 3)] : []), ...(hasLambda ? [fmt(r.meanLambdaMax ?? null, 3)] : [])];
  // The batch-statistics column appears when some variant has BatchNorm; a * marks moving statistics still warming up.
  const bs = rows.some((r) => r.testAccuracyBatchStats !== undefined);
  const head = ['variant', 'final loss', 'batch acc', 'test loss', 'test acc', ...(bs ? ['test acc (own BN stats)'] : []), 'loss band', 'grad change', 'mean β', 'max β', ...extraHead, 'diverged'];
  const body = rows.map((r) => [
    r.variant,
    fmt(r.finalLoss),
    pct(r.finalAccuracy),
    // The warming-up mark goes on the accuracy, or on the loss where there is none (mse).
    `${fmt(r.testLoss)}${r.movingStatsWarmingUp && r.testAccuracy === null ? '*' : ''}`,
    `${pct(r.testAccuracy)}${r.movingStatsWarmingUp && r.testAccuracy !== null ? '*' : ''}`,
    ...(bs ? [r.testAccuracyBatchStats === undefined ? '' : pct(r.testAccuracyBatchStats)] : []),
    fmt(r.meanBandWidth),
    fmt(r.meanGradChange),
    fmt(r.meanBeta, 3),
    fmt(r.maxBeta, 3),
    ...extra(r),
    r.diverged ? `at step ${r.diverged.step}` : 'no',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const table = [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)];
  if (rows.some((r) => r.movingStatsWarmingUp))
    table.push(
      '* BatchNorm moving statistics still warming up (they hold more than 5% of their initial values): held-out numbers with them understate the network; "own BN stats" normalizes each held-out batch with its own statistics.',
    );
  return table.join('\n');
}
