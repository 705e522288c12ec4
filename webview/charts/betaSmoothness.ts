// (c) "Effective" β-smoothness (Santurkar et al. Fig. 4c): one line per variant,
// β_t = max_η ‖∇L(x − η·g) − g‖₂ / ‖η·g‖₂.
import type { Report } from '../../src/protocol';
import { fmt, isNum } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { byStep, drawLine } from './draw';

export const title = 'Effective β-smoothness';

export function caption(_report: Report | null): string {
  return 'β = max over η of ‖∇L(x − η·g) − ∇L(x)‖₂ / ‖η·g‖₂: the largest change of the gradient per unit distance moved ' + 'along it (a local Lipschitz constant of the gradient). Lower is smoother.';
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const series = visible.map((v) => ({
    v,
    pts: v.steps.filter((s) => s.lossAtEta.length > 0 || isNum(s.beta)).map((s) => ({ step: s.step, v: s.beta })),
    idx: byStep(v.steps),
  }));
  const values = series.flatMap((s) => s.pts.map((p) => p.v).filter(isNum));
  const steps = [...new Set(series.flatMap((s) => s.pts.filter((p) => isNum(p.v)).map((p) => p.step)))].sort((a, b) => a - b);
  renderChart(container, report, size, theme, state, {
    key: 'beta-smoothness',
    title,
    xLabel: 'training step',
    emptyText: report ? 'Waiting for the first probed step…' : 'No report',
    steps,
    panels: [
      {
        label: 'effective β',
        scale: 'auto',
        values,
        draw(g, ctx) {
          for (const s of series) drawLine(g, ctx, s.v.name, s.pts, { cls: 'beta' });
        },
        points: (step) => series.map((s) => ({ variant: s.v.name, value: s.idx.get(step)?.beta as number })),
      },
    ],
    describe(step) {
      return series.flatMap((s) => {
        const r = s.idx.get(step);
        return r && isNum(r.beta) ? [{ variant: s.v.name, text: `β ${fmt(r.beta)}` }] : [];
      });
    },
  });
};
