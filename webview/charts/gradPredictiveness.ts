// (b) Gradient predictiveness (Santurkar et al. Fig. 4b): per variant, the band [min_η, max_η] of
// ‖∇L(x − η·g) − g‖₂ at each probed step.
import type { Report } from '../../src/protocol';
import { band, fmt } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { drawBand, probeBands, unionSteps } from './draw';

export const title = 'Gradient predictiveness';

export function caption(_report: Report | null): string {
  return (
    'Band: the smallest and largest change of the gradient ‖∇L(x − η·g) − ∇L(x)‖₂ over the probed step lengths η. ' + 'A low, narrow band means the gradient at x predicts the gradient a step away: larger steps are safe.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const { bands, values } = probeBands(visible, (s) => s.gradChange);
  renderChart(container, report, size, theme, state, {
    key: 'grad-predictiveness',
    title,
    xLabel: 'training step',
    emptyText: report ? 'Waiting for the first probed step…' : 'No report',
    steps: unionSteps(bands.map((b) => b.pts)),
    panels: [
      {
        label: 'ℓ2 gradient change',
        scale: 'auto',
        values,
        draw(g, ctx) {
          for (const b of bands) drawBand(g, ctx, b.v.name, b.pts, Math.min(ctx.theme.bandOpacity + 0.1, 0.45));
        },
      },
    ],
    describe(step) {
      return bands.flatMap((b) => {
        const s = b.idx.get(step);
        const r = s && band(s.gradChange);
        return r ? [{ variant: b.v.name, text: `${fmt(r.lo)} – ${fmt(r.hi)}` }] : [];
      });
    },
  });
};
