// (e3) Distributional view of one layer (Santurkar et al. Fig. 2, 7): the stored histograms of the chosen
// layer's output activations at up to five evenly spaced recorded steps, as a ridgeline — one row per step
// (earliest at the top), one density outline per variant in each row, x = activation value.
import * as d3 from 'd3';
import type { LayerStatRecord, Report, VariantReport } from '../../src/protocol';
import { type Density, evenlySpaced, fmt, histDensity, layerRecords } from '../model';
import type { ChartRender } from './chartTypes';
import { renderChart } from './frame';
import { fitDomain } from './scales';

export const title = 'Activation histograms';

/** Rows drawn at most. */
export const MAX_ROWS = 5;

export function caption(_report: Report | null): string {
  return (
    'The chosen layer’s output activations at up to five evenly spaced recorded steps (earliest at the top), each ' +
    'histogram as a density (count ÷ (total · bin width)), so every outline has area 1 and variants with different ' +
    'ranges compare: a narrow distribution is tall. Same layer output as the Activations chart; ↑/↓ pick a row.'
  );
}

interface Ridge {
  rec: LayerStatRecord;
  d: Density;
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const layer = state.layer;
  const variants = report?.variants ?? [];
  // Rows: from the steps of every variant (so toggling a variant keeps the rows), histograms that are densities.
  const byVariant = new Map<VariantReport, Map<number, Ridge>>();
  for (const v of variants) {
    const m = new Map<number, Ridge>();
    for (const rec of layer ? layerRecords(v, layer, 'act') : []) {
      const d = histDensity(rec.hist);
      if (d) m.set(rec.step, { rec, d });
    }
    byVariant.set(v, m);
  }
  const allSteps = [...new Set([...byVariant.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const rows = evenlySpaced(allSteps, MAX_ROWS);
  const n = rows.length;
  const visible = variants.filter((v) => !state.hidden.has(v.name));
  const drawn = visible.map((v) => ({ v, ridges: rows.map((s) => byVariant.get(v)!.get(s)) }));
  const present = drawn.flatMap((s) => s.ridges.filter((r): r is Ridge => !!r));

  // Row i's baseline sits at n − 1 − i; a ridge rises at most H rows (they overlap, as ridgelines do).
  const H = n > 1 ? 1.5 : 0.9;
  const maxD = d3.max(present, (r) => d3.max(r.d.density)) ?? 1;
  const k = maxD > 0 ? H / maxD : 1;
  const base = (i: number) => n - 1 - i;
  const yDomain: [number, number] = [-0.06, Math.max(n - 1, 0) + H + 0.06];
  const xDomain = fitDomain(
    present.flatMap((r) => [r.d.edges[0], r.d.edges[r.d.edges.length - 1]]),
    false,
  ) ?? [0, 1];
  const cols = size.compact ? 48 : 96;
  const xs = present.length ? d3.range(cols).map((j) => xDomain[0] + ((j + 0.5) * (xDomain[1] - xDomain[0])) / cols) : [];
  const binAt = (d: Density, xv: number) => {
    const e = d.edges;
    if (xv < e[0] || xv > e[e.length - 1]) return -1;
    return Math.min(d.counts.length - 1, Math.max(0, d3.bisectRight(e, xv) - 1));
  };
  const stepLabel = new Map(rows.map((s, i) => [base(i), `${s}`]));

  renderChart(container, report, size, theme, state, {
    key: 'layer-histogram',
    title: layer ? `${title} — ${layer}` : title,
    xLabel: 'activation value',
    emptyText: !report ? 'No report' : layer ? 'No activation histograms for this layer yet' : 'No layer statistics yet',
    steps: xs,
    x: {
      domain: xDomain,
      what: 'activation value',
      cursorLabel: (xv, lane) => `activation ${fmt(xv, 4)} · step ${rows[lane] ?? '—'}`,
    },
    lanes: { count: Math.max(n, 1), initial: n - 1, at: (yv) => n - 1 - Math.floor(yv + 0.1) },
    panels: [
      {
        label: 'training step',
        scale: 'linear',
        values: present.length ? yDomain : [],
        fixed: present.length ? yDomain : undefined,
        ticks: rows.map((_, i) => base(i)),
        tickFormat: (v) => stepLabel.get(v) ?? '',
        draw(g, ctx) {
          const line = d3
            .line<[number, number]>()
            .x((p) => ctx.x(p[0]))
            .y((p) => ctx.y(p[1]));
          rows.forEach((step, i) => {
            const b = base(i);
            for (const s of drawn) {
              const r = s.ridges[i];
              if (!r) continue;
              // The histogram's outline, closed along the baseline: exact bins, area = 1 in data units.
              const e = r.d.edges;
              const pts: [number, number][] = [[e[0], b]];
              r.d.density.forEach((d, j) => pts.push([e[j], b + d * k], [e[j + 1], b + d * k]));
              pts.push([e[e.length - 1], b]);
              const color = ctx.theme.variantColor(s.v.name);
              g.append('path')
                .datum(pts)
                .attr('class', 'series ridge')
                .attr('data-variant', s.v.name)
                .attr('data-step', step)
                .attr('data-baseline', ctx.y(b))
                .attr('fill', color)
                .attr('fill-opacity', ctx.theme.bandOpacity * 0.7)
                .attr('stroke', color)
                .attr('stroke-width', 1.4)
                .attr('stroke-linejoin', 'round')
                .attr('d', line);
            }
            g.append('line').attr('class', 'ridge-baseline').attr('x1', 0).attr('x2', ctx.width).attr('y1', ctx.y(b)).attr('y2', ctx.y(b)).attr('stroke', ctx.theme.muted).attr('stroke-opacity', 0.6);
          });
          // a row a variant has no histogram in, because it diverged before: say so on the row (over the ridges)
          rows.forEach((step, i) => {
            const b = base(i);
            const gone = drawn.filter((s) => !s.ridges[i] && s.v.diverged && step > s.v.diverged.step);
            gone.forEach((s, gi) => {
              g.append('text')
                .attr('class', 'bn-note')
                .attr('data-variant', s.v.name)
                .attr('x', ctx.width - 4)
                .attr('y', ctx.y(b) - 4 - gi * 14)
                .attr('text-anchor', 'end')
                .attr('fill', ctx.theme.variantColor(s.v.name))
                .text(`✕ ${s.v.name} diverged @ ${s.v.diverged!.step}`);
            });
          });
        },
        points: (xv, lane) =>
          drawn.flatMap((s) => {
            const r = s.ridges[lane];
            if (!r) return [];
            const j = binAt(r.d, xv);
            return [{ variant: s.v.name, value: base(lane) + (j < 0 ? 0 : r.d.density[j] * k) }];
          }),
      },
    ],
    describe(xv, lane) {
      return drawn.map((s) => {
        const r = s.ridges[lane];
        if (!r) {
          const why = s.v.diverged && rows[lane] > s.v.diverged.step ? `diverged at step ${s.v.diverged.step}` : 'no histogram at this step';
          return { variant: s.v.name, text: why };
        }
        const j = binAt(r.d, xv);
        const e = r.d.edges;
        const where = r.rec.layer !== layer ? ` (${r.rec.layer})` : '';
        if (j < 0) return { variant: s.v.name, text: `outside [${fmt(e[0], 4)}, ${fmt(e[e.length - 1], 4)}]${where}` };
        return {
          variant: s.v.name,
          text: `density ${fmt(r.d.density[j])} · bin [${fmt(e[j], 4)}, ${fmt(e[j + 1], 4)}) · ${r.d.counts[j]} of ${r.d.total}${where}`,
        };
      });
    },
  });
};
