// The Hessian's extremes through training (issue 12): per variant, λ_max as a line and the band from λ_min
// to λ_max, with gᵀHg/‖g‖² (the curvature along the gradient) as markers, at the steps with Hessian measures
// (`bnlens analyze --hessian-every N`).
import type { Report } from '../../src/protocol';
import { fmt } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { drawBand, drawLine, drawMarkers, unionSteps, type BandPt, type Pt } from './draw';

export const title = 'Hessian eigenvalues';

export function caption(report: Report | null): string {
  const bn = report?.config.hessianBn === 'eval' ? 'moving (inference) BatchNorm statistics, as PyHessian' : 'BatchNorm in training mode, like every probe';
  return (
    `Line: the largest eigenvalue λ_max of the Hessian of the batch loss; band: λ_min … λ_max; diamonds: gᵀHg/‖g‖². ` +
    `Exact Hessian-vector products, Lanczos with full reorthogonalization, on the step's batch, ${bn}. ` +
    'Needs bnlens analyze --hessian-every N.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const series = visible.map((v) => {
    const hs = v.steps.filter((s) => s.hessian);
    return {
      v,
      band: hs.map((s) => ({ step: s.step, lo: s.hessian!.lambdaMin, hi: s.hessian!.lambdaMax })) as BandPt[],
      max: hs.map((s) => ({ step: s.step, v: s.hessian!.lambdaMax })) as Pt[],
      gHg: hs.map((s) => ({ step: s.step, v: s.hessian!.gHg })) as Pt[],
      at: new Map(hs.map((s) => [s.step, s.hessian!])),
    };
  });
  const values = series.flatMap((s) => s.band.flatMap((b) => [b.lo, b.hi]));
  renderChart(container, report, size, theme, state, {
    key: 'hessian-spectrum',
    title,
    xLabel: 'training step',
    emptyText: !report ? 'No report' : report.config.hessianEvery ? 'Hessian measure pending…' : 'No Hessian measures',
    steps: unionSteps(series.map((s) => s.max)),
    panels: [
      {
        label: 'eigenvalue',
        scale: 'linear',
        values,
        draw(g, ctx) {
          for (const s of series) {
            drawBand(g, ctx, s.v.name, s.band);
            drawLine(g, ctx, s.v.name, s.max, { cls: 'lambda-max', dots: true });
            drawMarkers(g, ctx, s.v.name, s.gHg, 'ghg');
          }
        },
        points: (step) => series.map((s) => ({ variant: s.v.name, value: s.at.get(step)?.lambdaMax as number })),
      },
    ],
    describe(step) {
      return series.flatMap((s) => {
        const h = s.at.get(step);
        return h ? [{ variant: s.v.name, text: `λ_max ${fmt(h.lambdaMax)} · λ_min ${fmt(h.lambdaMin)} · tr ${fmt(h.trace)} ± ${fmt(h.traceStdErr)} · gᵀHg/‖g‖² ${fmt(h.gHg)}` }] : [];
      });
    },
  });
};
