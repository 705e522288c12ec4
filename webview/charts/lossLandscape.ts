// (a) Loss landscape along the gradient (Santurkar et al. Fig. 4a): per variant, the band
// [min_η, max_η] of L(x − η·g) at each probed step, log-scale loss, with the training loss line on top.
import type { Report } from '../../src/protocol';
import { band, fmt, isNum } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { drawBand, drawLine, probeBands, unionSteps } from './draw';

export const title = 'Loss landscape along the gradient';

export function caption(report: Report | null): string {
  const eta = report?.eta ?? [];
  const range = eta.length ? ` η ∈ [${fmt(Math.min(...eta), 3)}, ${fmt(Math.max(...eta), 3)}] (${eta.length} values)` : '';
  return (
    `Shaded band: the lowest and highest loss L(x − η·g) on the step's batch over the step lengths${range}; ` +
    'line: the training loss. A narrow band means a smooth, predictable landscape. ' +
    'Note: the band also counts the loss decrease along the gradient, so a faster-training net can have a wider band.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const { bands, values } = probeBands(visible, (s) => s.lossAtEta);
  for (const v of visible) for (const s of v.steps) if (isNum(s.loss)) values.push(s.loss);
  renderChart(container, report, size, theme, state, {
    key: 'loss-landscape',
    title,
    xLabel: 'training step',
    emptyText: report ? 'Waiting for the first probed step…' : 'No report',
    steps: unionSteps(visible.map((v) => v.steps)),
    panels: [
      {
        label: 'loss (log scale)',
        scale: 'log',
        values,
        draw(g, ctx) {
          for (const b of bands) drawBand(g, ctx, b.v.name, b.pts);
          for (const b of bands)
            drawLine(
              g,
              ctx,
              b.v.name,
              b.v.steps.map((s) => ({ step: s.step, v: s.loss })),
              { cls: 'loss' },
            );
        },
        points: (step) => bands.map((b) => ({ variant: b.v.name, value: b.idx.get(step)?.loss as number })),
      },
    ],
    describe(step) {
      return bands.flatMap((b) => {
        const s = b.idx.get(step);
        if (!s) return [];
        const r = band(s.lossAtEta);
        const diverged = r && r.finite < r.total ? ` (${r.total - r.finite} η non-finite)` : '';
        return [
          {
            variant: b.v.name,
            text: `loss ${fmt(s.loss)} · band ${r ? `${fmt(r.lo)} – ${fmt(r.hi)}` : '—'}${diverged}`,
          },
        ];
      });
    },
  });
};
