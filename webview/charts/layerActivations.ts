// (e2) Distributional stability of one layer (Santurkar et al. Fig. 2): mean ± std of its output activations
// over training (batch, height and width pooled).
import type { Report } from '../../src/protocol';
import { fmt, isNum, layerRecords } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { type BandPt, byStep, drawBand, drawLine, unionSteps } from './draw';

export const title = 'Activations';

export function caption(_report: Report | null): string {
  return 'Line: mean of the chosen layer’s output activations; band: mean ± one standard deviation. For a layer followed by ' + 'an inserted normalisation, the statistics are taken after it (the block’s output).';
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const layer = state.layer;
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const series = visible.map((v) => {
    const recs = layer ? layerRecords(v, layer, 'act').filter((r) => isNum(r.actMean)) : [];
    const pts: BandPt[] = recs.filter((r) => isNum(r.actStd)).map((r) => ({ step: r.step, lo: (r.actMean as number) - (r.actStd as number), hi: (r.actMean as number) + (r.actStd as number) }));
    return { v, recs, pts, idx: byStep(recs) };
  });
  const values = series.flatMap((s) => s.pts.flatMap((p) => [p.lo, p.hi]).concat(s.recs.map((r) => r.actMean as number)));
  renderChart(container, report, size, theme, state, {
    key: 'layer-activations',
    title: layer ? `${title} — ${layer}` : title,
    xLabel: 'training step',
    emptyText: !report ? 'No report' : layer ? 'No activation statistics for this layer yet' : 'No layer statistics yet',
    steps: unionSteps(series.map((s) => s.recs)),
    panels: [
      {
        label: 'activation mean ± std',
        scale: 'linear',
        values,
        draw(g, ctx) {
          for (const s of series) drawBand(g, ctx, s.v.name, s.pts, ctx.theme.bandOpacity * 0.8);
          for (const s of series)
            drawLine(
              g,
              ctx,
              s.v.name,
              s.recs.map((r) => ({ step: r.step, v: r.actMean })),
              { cls: 'act-mean', dots: s.recs.length <= 60 },
            );
        },
        points: (step) => series.map((s) => ({ variant: s.v.name, value: s.idx.get(step)?.actMean as number })),
      },
    ],
    describe(step) {
      return series.flatMap((s) => {
        const r = s.idx.get(step);
        return r ? [{ variant: s.v.name, text: `mean ${fmt(r.actMean)} ± std ${fmt(r.actStd)}${r.layer !== layer ? ` (${r.layer})` : ''}` }] : [];
      });
    },
  });
};
