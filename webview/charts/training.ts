// (d) Training loss and batch accuracy per step, with the held-out evaluations as markers.
import type { Report } from '../../src/protocol';
import { fmt, fmtPercent, isNum } from '../model';
import type { ChartRender, Panel } from './chartTypes';
import { renderChart } from './frame';
import { byStep, drawLine, drawMarkers, unionSteps } from './draw';

export const title = 'Training loss and accuracy';

export function caption(_report: Report | null): string {
  const bs = (_report?.variants ?? []).some((v) => v.evals.some((e) => isNum(e.batchStatsAccuracy)));
  return `Lines: loss and accuracy on each step’s training batch (before the update). Diamonds: held-out evaluations${bs ? ' (hollow: BatchNorm with its moving statistics; filled: each held-out batch with its own statistics — early in a run the moving averages lag)' : ''}.`;
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

export const render: ChartRender = (container, report, size, theme, state) => {
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const data = visible.map((v) => ({ v, idx: byStep(v.steps), evals: byStep(v.evals) }));
  const hasAcc = report?.dataset?.loss === 'softmax-ce' || (report?.variants ?? []).some((v) => v.steps.some((s) => isNum(s.accuracy)) || v.evals.some((e) => isNum(e.accuracy)));
  const lossValues = visible.flatMap((v) => [...v.steps.map((s) => s.loss), ...v.evals.map((e) => e.loss)]).filter(isNum);
  const panels: Panel[] = [
    {
      label: 'loss',
      scale: 'auto',
      values: lossValues,
      weight: hasAcc ? 1.1 : 1,
      draw(g, ctx) {
        for (const d of data) {
          drawLine(
            g,
            ctx,
            d.v.name,
            d.v.steps.map((s) => ({ step: s.step, v: s.loss })),
            { cls: 'loss' },
          );
          drawMarkers(
            g,
            ctx,
            d.v.name,
            d.v.evals.map((e) => ({ step: e.step, v: e.loss })),
            'eval-loss',
          );
        }
      },
      points: (step) => data.map((d) => ({ variant: d.v.name, value: d.idx.get(step)?.loss as number })),
    },
  ];
  if (hasAcc)
    panels.push({
      label: 'accuracy',
      scale: 'linear',
      values: visible.flatMap((v) => [...v.steps.map((s) => s.accuracy), ...v.evals.map((e) => e.accuracy), ...v.evals.map((e) => e.batchStatsAccuracy)]).filter(isNum),
      fixed: [0, 1],
      tickFormat: pct,
      draw(g, ctx) {
        for (const d of data) {
          drawLine(
            g,
            ctx,
            d.v.name,
            d.v.steps.map((s) => ({ step: s.step, v: s.accuracy })),
            { cls: 'accuracy', width: 1.3 },
          );
          drawMarkers(
            g,
            ctx,
            d.v.name,
            d.v.evals.map((e) => ({ step: e.step, v: e.accuracy })),
            'eval-accuracy',
          );
          const own = d.v.evals.filter((e) => isNum(e.batchStatsAccuracy)).map((e) => ({ step: e.step, v: e.batchStatsAccuracy as number }));
          if (own.length) {
            drawMarkers(g, ctx, d.v.name, own, 'eval-accuracy-batchstats');
            g.selectAll(`.eval-accuracy-batchstats[data-variant="${d.v.name}"] path`).attr('fill', ctx.theme.variantColor(d.v.name));
          }
        }
      },
      points: (step) => data.map((d) => ({ variant: d.v.name, value: d.idx.get(step)?.accuracy as number })),
    });
  renderChart(container, report, size, theme, state, {
    key: 'training',
    title,
    xLabel: 'training step',
    emptyText: report ? 'Waiting for the first step…' : 'No report',
    steps: unionSteps(visible.flatMap((v) => [v.steps, v.evals])),
    panels,
    describe(step) {
      return data.flatMap((d) => {
        const s = d.idx.get(step);
        const e = d.evals.get(step);
        if (!s && !e) return [];
        const parts: string[] = [];
        if (s) parts.push(`loss ${fmt(s.loss)}`, ...(isNum(s.accuracy) ? [`acc ${fmtPercent(s.accuracy)}`] : []));
        if (e) parts.push(`held-out loss ${fmt(e.loss)}`, ...(isNum(e.accuracy) ? [`acc ${fmtPercent(e.accuracy)}`] : []));
        if (e && isNum(e.batchStatsAccuracy))
          parts.push(
            `with its own BN statistics ${fmtPercent(e.batchStatsAccuracy)}${(e.movingStatsInitWeight ?? 0) > 0.05 ? ` (moving statistics warming up: ${Math.round(100 * (e.movingStatsInitWeight ?? 0))}% initial values after ${e.movingStatsSteps} steps)` : ''}`,
          );
        return [{ variant: d.v.name, text: parts.join(' · ') }];
      });
    },
  });
};
