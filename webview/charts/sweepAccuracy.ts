// Learning-rate sweep, final held-out result against the learning rate (Santurkar et al. Fig. 1, right):
// per variant, the last held-out accuracy (or loss, for mse) at each lr, log lr axis; a diverged run is a ✕
// on the lr axis, the largest lr that did not diverge is ringed.
import * as d3 from 'd3';
import type { Report } from '../../src/protocol';
import { isSweep, rowsByLr, sweepSummary } from '../../src/report/runs';
import type { ChartRender } from './chartTypes';
import { axes, emptyNote, fontSize, freshSvg, short, variantKey, type Sel } from './plain';

export const title = 'Learning-rate sweep: held-out result against lr';

export function applies(report: Report | null): boolean {
  return !!report && isSweep(report);
}

export function caption(report: Report | null): string {
  const mse = report?.dataset.loss === 'mse';
  return (
    `The last held-out ${mse ? 'loss' : 'accuracy'} of every run (with BatchNorm’s moving statistics), against the learning rate (log scale). ` +
    '✕ on the axis: the run diverged. Ringed: the largest learning rate at which the variant did not diverge.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const fs = fontSize(size, theme);
  const { width, height } = size;
  const svg = freshSvg(container, 'sweep-accuracy', width, height, theme, fs, title);
  if (!report || !isSweep(report)) {
    emptyNote(svg, width, height, theme, 'Not a learning-rate sweep (bnlens analyze --lr 0.01,0.1,0.5)');
    return;
  }
  const mse = report.dataset.loss === 'mse';
  const names = report.variants.map((v) => v.name).filter((n) => !state.hidden.has(n));
  const stable = new Map((report.sweep ?? sweepSummary(report)).largestStableLr.map((x) => [x.variant, x.lr]));
  const series = names.map((n) => ({
    name: n,
    pts: rowsByLr(report, n).map((r) => ({ lr: r.lr, v: mse ? (r.row?.testLoss ?? null) : (r.row?.testAccuracy ?? null), diverged: r.run?.diverged ?? null })),
  }));
  const lrs = series[0]?.pts.map((p) => p.lr) ?? [];
  const m = { l: fs * 4.2, r: 16, t: fs * 4, b: fs * 3.2 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const x = d3
    .scaleLog()
    .domain([Math.min(...lrs) / 1.3, Math.max(...lrs) * 1.3])
    .range([0, w]);
  const vals = series.flatMap((s) => s.pts.map((p) => p.v)).filter((v): v is number => v !== null);
  const y = mse
    ? d3
        .scaleLog()
        .domain(vals.length ? [Math.min(...vals) / 2, Math.max(...vals) * 2] : [0.01, 1])
        .nice()
        .range([h, 0])
    : d3.scaleLinear().domain([0, 1]).range([h, 0]);
  variantKey(svg, names, theme, fs);
  const g = svg.append('g').attr('transform', `translate(${m.l},${m.t})`) as Sel;
  axes(g, x, y, w, h, theme, { fs, xLabel: 'learning rate (log scale)', yLabel: mse ? 'held-out loss' : 'held-out accuracy', xFormat: short, yFormat: mse ? short : (v) => `${Math.round(v * 100)}%` });
  g.select('.bn-axis-x').call((a) =>
    (a as unknown as d3.Selection<SVGGElement, unknown, null, undefined>).call(
      d3
        .axisBottom(x)
        .tickValues(lrs)
        .tickFormat((v) => short(Number(v))),
    ),
  );
  g.selectAll('.bn-axis-x text').attr('fill', theme.muted);
  g.selectAll('.bn-axis-x path, .bn-axis-x line').attr('stroke', theme.grid);
  for (const s of series) {
    const color = theme.variantColor(s.name);
    const ok = s.pts.filter((p) => p.v !== null && !p.diverged) as { lr: number; v: number }[];
    g.append('path')
      .attr('data-variant', s.name)
      .attr('fill', 'none')
      .attr('stroke', color)
      .attr('stroke-width', 1.8)
      .attr(
        'd',
        d3
          .line<{ lr: number; v: number }>()
          .x((p) => x(p.lr))
          .y((p) => y(p.v))(ok),
      );
    for (const p of s.pts) {
      if (p.diverged || p.v === null) {
        g.append('text')
          .attr('class', 'bn-diverged')
          .attr('data-variant', s.name)
          .attr('x', x(p.lr))
          .attr('y', h - 4)
          .attr('text-anchor', 'middle')
          .attr('fill', color)
          .attr('font-weight', 700)
          .text('✕')
          .append('title')
          .text(p.diverged ? `${s.name} at lr ${p.lr}: diverged at step ${p.diverged.step} (${p.diverged.reason})` : `${s.name} at lr ${p.lr}: no held-out result`);
        continue;
      }
      g.append('circle')
        .attr('data-variant', s.name)
        .attr('cx', x(p.lr))
        .attr('cy', y(p.v))
        .attr('r', 3.5)
        .attr('fill', color)
        .append('title')
        .text(`${s.name} at lr ${p.lr}: held-out ${mse ? `loss ${p.v}` : `accuracy ${(100 * p.v).toFixed(2)}%`}`);
      if (stable.get(s.name) === p.lr) g.append('circle').attr('cx', x(p.lr)).attr('cy', y(p.v)).attr('r', 7).attr('fill', 'none').attr('stroke', color).attr('stroke-width', 1.5);
    }
  }
};
