// (f) The probes at one step against η (Santurkar et al. Fig. 11): per variant, the loss ℓ(η) = L(x − η·g)
// and the gradient change d(η) = ‖∇L(x − η·g) − g‖₂ at every probed step length, at the step picked in the
// card's step slider (default: the last probed step).
import type { Report, StepRecord } from '../../src/protocol';
import { fmt, isNum, profileStep } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { drawLine } from './draw';
import { fitSteps } from './scales';

export const title = 'Loss and gradient change against η';

export function caption(_report: Report | null): string {
  return (
    'At the step picked with the slider: the loss ℓ(η) = L(x − η·g) and the gradient change d(η) = ‖∇L(x − η·g) − ∇L(x)‖₂ ' +
    'for each probed step length η (the paper’s Fig. 11). A flat ℓ and a low, slowly growing d mean the gradient can be trusted far.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const step = report ? profileStep(report, state.etaStep) : null;
  const eta = report?.eta ?? [];
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const series = visible.map((v) => ({ v, rec: step === null ? undefined : v.steps.find((s) => s.step === step) }));
  // η in ascending order (the report's order is the engine's; lines need it sorted)
  const order = eta
    .map((_, k) => k)
    .filter((k) => isNum(eta[k]))
    .sort((a, b) => eta[a] - eta[b]);
  const at = (rec: StepRecord | undefined, pick: 'lossAtEta' | 'gradChange') => order.map((k) => ({ step: eta[k], v: rec?.[pick]?.[k] ?? null }));
  const values = (pick: 'lossAtEta' | 'gradChange') => series.flatMap((s) => (s.rec?.[pick] ?? []).filter(isNum));
  const etaSorted = [...new Set(eta.filter(isNum))].sort((a, b) => a - b);
  const spread = etaSorted.length > 1 && etaSorted[0] > 0 ? etaSorted[etaSorted.length - 1] / etaSorted[0] : 1;
  const withData = series.some((s) => s.rec && s.rec.lossAtEta.length > 0);
  const index = new Map(eta.map((e, k) => [e, k]));
  const few = eta.length <= 40;
  renderChart(container, report, size, theme, state, {
    key: 'eta-profile',
    title: step === null ? title : `${title} — step ${step}`,
    xLabel: 'step length η',
    emptyText: !report ? 'No report' : step === null ? 'Waiting for the first probed step…' : `No probe at step ${step}`,
    steps: withData ? etaSorted : [],
    x: {
      domain: etaSorted.length ? fitSteps(etaSorted) : [0, 1],
      log: spread > 30,
      what: 'step length η',
      cursorLabel: (e) => `η ${fmt(e)} · step ${step}`,
    },
    panels: [
      {
        label: 'loss ℓ(η)',
        scale: 'auto',
        values: values('lossAtEta'),
        draw(g, ctx) {
          for (const s of series) if (s.rec) drawLine(g, ctx, s.v.name, at(s.rec, 'lossAtEta'), { cls: 'eta-loss', dots: few });
          // a variant without a probe at this step says why (it diverged earlier, or was not probed here)
          const missing = series.filter((s) => !s.rec);
          missing.forEach((s, i) => {
            const d = s.v.diverged;
            g.append('text')
              .attr('class', 'bn-note')
              .attr('data-variant', s.v.name)
              .attr('x', ctx.width - 4)
              .attr('y', 14 + i * 15)
              .attr('text-anchor', 'end')
              .attr('fill', ctx.theme.variantColor(s.v.name))
              .text(d && step !== null && step > d.step ? `✕ ${s.v.name} diverged @ ${d.step}` : `${s.v.name}: no probe at this step`);
          });
        },
        points: (e) => series.map((s) => ({ variant: s.v.name, value: s.rec?.lossAtEta[index.get(e) ?? -1] as number })),
      },
      {
        label: 'grad. change d(η)',
        scale: 'auto',
        values: values('gradChange'),
        draw(g, ctx) {
          for (const s of series) if (s.rec) drawLine(g, ctx, s.v.name, at(s.rec, 'gradChange'), { cls: 'eta-grad', dots: few });
        },
        points: (e) => series.map((s) => ({ variant: s.v.name, value: s.rec?.gradChange[index.get(e) ?? -1] as number })),
      },
    ],
    describe(e) {
      const k = index.get(e) ?? -1;
      return series.map((s) => ({
        variant: s.v.name,
        text: s.rec ? `ℓ ${fmt(s.rec.lossAtEta[k])} · d ${fmt(s.rec.gradChange[k])}` : s.v.diverged && step !== null && step > s.v.diverged.step ? `diverged at step ${s.v.diverged.step}` : 'no probe at this step',
      }));
    },
  });
};
