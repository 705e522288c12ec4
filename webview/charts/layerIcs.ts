// (e1) Internal covariate shift of one layer (Santurkar et al. Def. 2.1, Fig. 3): ‖G − G′‖₂ and cos∠(G, G′),
// where G′ is the layer's gradient after the earlier layers took their update.
import type { Report } from '../../src/protocol';
import { fmt, isNum, layerRecords } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { byStep, drawLine, unionSteps } from './draw';

export const title = 'Internal covariate shift';

export function caption(_report: Report | null): string {
  return (
    'ICS of the chosen layer: the ℓ2 difference and the cosine between its gradient before and after the earlier ' +
    'layers’ update (cos 1 is no shift). The paper finds BatchNorm networks often show as much or more ICS, yet train better.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const layer = state.layer;
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const series = visible.map((v) => {
    const recs = layer ? layerRecords(v, layer, 'ics').filter((r) => isNum(r.icsL2) || isNum(r.icsCos)) : [];
    return { v, recs, idx: byStep(recs) };
  });
  const few = series.every((s) => s.recs.length <= 60);
  renderChart(container, report, size, theme, state, {
    key: 'layer-ics',
    title: layer ? `${title} — ${layer}` : title,
    xLabel: 'training step',
    emptyText: !report ? 'No report' : layer ? 'No ICS measurement for this layer yet' : 'No layer statistics yet',
    steps: unionSteps(series.map((s) => s.recs)),
    panels: [
      {
        label: '‖G − G′‖₂',
        scale: 'auto',
        values: series.flatMap((s) => s.recs.map((r) => r.icsL2)).filter(isNum),
        draw(g, ctx) {
          for (const s of series)
            drawLine(
              g,
              ctx,
              s.v.name,
              s.recs.map((r) => ({ step: r.step, v: r.icsL2 })),
              { cls: 'ics-l2', dots: few },
            );
        },
        points: (step) => series.map((s) => ({ variant: s.v.name, value: s.idx.get(step)?.icsL2 as number })),
      },
      {
        label: 'cos∠(G, G′)',
        scale: 'linear',
        values: series.flatMap((s) => s.recs.map((r) => r.icsCos)).filter(isNum),
        draw(g, ctx) {
          for (const s of series)
            drawLine(
              g,
              ctx,
              s.v.name,
              s.recs.map((r) => ({ step: r.step, v: r.icsCos })),
              { cls: 'ics-cos', dots: few },
            );
        },
        points: (step) => series.map((s) => ({ variant: s.v.name, value: s.idx.get(step)?.icsCos as number })),
      },
    ],
    describe(step) {
      return series.flatMap((s) => {
        const r = s.idx.get(step);
        return r ? [{ variant: s.v.name, text: `ℓ2 ${fmt(r.icsL2)} · cos ${fmt(r.icsCos)}${r.layer !== layer ? ` (${r.layer})` : ''}` }] : [];
      });
    },
  });
};
