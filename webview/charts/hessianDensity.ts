// The Hessian's eigenvalue density (stochastic Lanczos quadrature, PyHessian's method) at the step picked in
// the card's step slider — the nearest step with a Hessian measure at or before it (default: the last).
// Each Ritz value θ_k with weight w_k is drawn as a Gaussian of width σ (a fixed fraction of the spectrum's
// range), so the curve integrates to 1; the y axis is logarithmic, as in PyHessian's plots.
import type { HessianMeasure, Report } from '../../src/protocol';
import { fmt } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { drawLine } from './draw';

export const title = 'Hessian eigenvalue density';

export function caption(_report: Report | null): string {
  return (
    'Density of the Hessian’s eigenvalues by stochastic Lanczos quadrature (Ritz values and weights from Lanczos runs ' +
    'with Rademacher starts, each smoothed by a Gaussian of 1% of the spectrum’s width), at the Hessian step nearest ' +
    'before the step picked with the slider. Mass far to the right means sharp directions.'
  );
}

/** The Hessian measure of each variant at the latest Hessian step ≤ `step` (or the last one). */
function pick(report: Report, step: number | null, hidden: ReadonlySet<string>): { name: string; step: number; h: HessianMeasure }[] {
  return report.variants
    .filter((v) => !hidden.has(v.name))
    .flatMap((v) => {
      const hs = v.steps.filter((s) => s.hessian && (step === null || s.step <= step));
      const s = hs[hs.length - 1];
      return s ? [{ name: v.name, step: s.step, h: s.hessian! }] : [];
    });
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const chosen = report ? pick(report, state.etaStep, state.hidden) : [];
  const lo = Math.min(...chosen.map((c) => c.h.lambdaMin));
  const hi = Math.max(...chosen.map((c) => c.h.lambdaMax));
  const width = Math.max(hi - lo, 1e-12);
  const sigma = 0.01 * width;
  const grid = chosen.length ? Array.from({ length: 241 }, (_, i) => lo - 0.05 * width + (1.1 * width * i) / 240) : [];
  const density = (h: HessianMeasure, x: number) => h.density.nodes.reduce((a, t, k) => a + (h.density.weights[k] * Math.exp(-((x - t) ** 2) / (2 * sigma * sigma))) / (sigma * Math.sqrt(2 * Math.PI)), 0);
  const floor = 1e-6 / width;
  const series = chosen.map((c) => ({ ...c, pts: grid.map((x) => ({ step: x, v: Math.max(density(c.h, x), floor) })) }));
  const steps = [...new Set(chosen.map((c) => c.step))];
  renderChart(container, report, size, theme, state, {
    key: 'hessian-density',
    title: steps.length ? `${title} — step ${steps.join(', ')}` : title,
    xLabel: 'eigenvalue',
    emptyText: !report ? 'No report' : 'No Hessian measures',
    steps: grid,
    x: { domain: grid.length ? [grid[0], grid[grid.length - 1]] : [0, 1], what: 'eigenvalue', cursorLabel: (x) => `λ ${fmt(x)}` },
    panels: [
      {
        label: 'density',
        scale: 'log',
        values: series.flatMap((s) => s.pts.map((p) => p.v)),
        draw(g, ctx) {
          for (const s of series) drawLine(g, ctx, s.name, s.pts, { cls: 'density' });
        },
      },
    ],
    describe(x) {
      return series.map((s) => ({ variant: s.name, text: `density ${fmt(density(s.h, x))} (step ${s.step})` }));
    },
  });
};
