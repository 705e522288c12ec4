// Curvature along the gradient, descent taken out (issue 12): per variant, the band over η at each probed
// step of κ_G(η) = gᵀ(g − ∇L(x − η·g)) / (η‖g‖²) and, below it, of κ_L(η) = 2·(ℓ(η) − L + η‖g‖²)/(η²‖g‖²)
// where float32 resolves it (src/report/curvature.ts). Reports without κ_G still get the κ_L panel.
import type { Report } from '../../src/protocol';
import { resolvedDescentFreeCurvature } from '../../src/report/curvature';
import { band, fmt } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { drawBand, probeBands, unionSteps } from './draw';

export const title = 'Curvature along the gradient';

export function caption(_report: Report | null): string {
  return (
    'κ_G(η) = gᵀ(g − ∇L(x − η·g)) / (η‖g‖²): how fast the slope along the gradient falls over a step of η — the ' +
    'curvature along g averaged over the step (→ gᵀHg/‖g‖² as η → 0). κ_L(η) = 2(ℓ(η) − L + η‖g‖²) / (η²‖g‖²): the ' +
    'curvature left in the loss once the first-order descent η‖g‖² is taken out. Unlike the loss band, neither counts ' +
    'how fast the network descends. Bands over the probed η; lower is smoother. κ_L is left out where float32 cannot ' +
    'resolve the loss difference (tiny η or ‖g‖), i.e. where its rounding bound exceeds a tenth of its value.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const eta = report?.eta ?? [];
  const visible = (report?.variants ?? []).filter((v) => !state.hidden.has(v.name));
  const kG = probeBands(visible, (s) => s.curvatureAtEta ?? []);
  const kLof = (s: { loss: number; gradNorm: number; lossAtEta: (number | null)[] }) => resolvedDescentFreeCurvature(s.loss, s.gradNorm, eta, s.lossAtEta);
  const kL = probeBands(visible, kLof);
  const hasG = kG.values.length > 0;
  renderChart(container, report, size, theme, state, {
    key: 'curvature-along-gradient',
    title,
    xLabel: 'training step',
    emptyText: report ? 'Waiting for the first probed step…' : 'No report',
    steps: unionSteps([...kG.bands.map((b) => b.pts), ...kL.bands.map((b) => b.pts)]),
    panels: [
      ...(hasG
        ? [
            {
              label: 'κ_G (gradient)',
              scale: 'auto' as const,
              values: kG.values,
              draw(g: Parameters<typeof drawBand>[0], ctx: Parameters<typeof drawBand>[1]) {
                for (const b of kG.bands) drawBand(g, ctx, b.v.name, b.pts, Math.min(ctx.theme.bandOpacity + 0.1, 0.45));
              },
            },
          ]
        : []),
      {
        label: 'κ_L (loss)',
        scale: 'auto',
        values: kL.values,
        draw(g, ctx) {
          for (const b of kL.bands) drawBand(g, ctx, b.v.name, b.pts, Math.min(ctx.theme.bandOpacity + 0.1, 0.45));
        },
      },
    ],
    describe(step) {
      return visible.flatMap((v) => {
        const s = v.steps.find((r) => r.step === step);
        if (!s) return [];
        const g = band(s.curvatureAtEta ?? []);
        const l = band(kLof(s));
        const parts = [g ? `κ_G ${fmt(g.lo)} – ${fmt(g.hi)}` : null, l ? `κ_L ${fmt(l.lo)} – ${fmt(l.hi)}` : null].filter(Boolean);
        return parts.length ? [{ variant: v.name, text: parts.join(' · ') }] : [];
      });
    },
  });
};
