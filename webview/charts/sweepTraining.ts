// Learning-rate sweep, training curves (Santurkar et al. Fig. 1, left): one small panel per learning rate,
// training loss on the probed steps per variant, on one shared log-scale loss axis; a diverged run ends in ✕.
import * as d3 from 'd3';
import type { Report } from '../../src/protocol';
import { allRuns, isSweep } from '../../src/report/runs';
import type { ChartRender } from './chartTypes';
import { axes, emptyNote, fontSize, freshSvg, short, variantKey, type Sel } from './plain';

export const title = 'Learning-rate sweep: training loss';

export function applies(report: Report | null): boolean {
  return !!report && isSweep(report);
}

export function caption(report: Report | null): string {
  const every = report?.config.probeEvery ?? 1;
  return (
    `One panel per learning rate: the loss on the training batch at every ${every > 1 ? `${every}th ` : ''}step (the probed steps), per variant, on one shared log scale. ` +
    '✕ marks where a run diverged (loss or weights not finite); the run stopped there. The paper’s Fig. 1: BatchNorm keeps training at learning rates where the standard network does not.'
  );
}

export const render: ChartRender = (container, report, size, theme, state) => {
  const fs = fontSize(size, theme);
  if (!report || !isSweep(report)) {
    const svg = freshSvg(container, 'sweep-training', size.width, size.height, theme, fs, title);
    emptyNote(svg, size.width, size.height, theme, 'Not a learning-rate sweep (bnlens analyze --lr 0.01,0.1,0.5)');
    return;
  }
  const runs = allRuns(report);
  const names = report.variants.map((v) => v.name).filter((n) => !state.hidden.has(n));
  const perRow = Math.max(1, Math.min(runs.length, Math.floor(size.width / (size.compact ? 150 : 190))));
  const rows = Math.ceil(runs.length / perRow);
  const m = { l: fs * 3.8, r: 8, t: fs * 1.8, b: fs * 2.9 };
  const cellW = (size.width - 8) / perRow;
  const w = cellW - m.l - m.r;
  const h = Math.max(70, Math.min(w * 0.75, 150));
  const legendH = fs * 2.2;
  const height = fs * 2 + legendH + rows * (h + m.t + m.b);
  const svg = freshSvg(container, 'sweep-training', size.width, height, theme, fs, title);
  variantKey(svg, names, theme, fs);
  const losses = runs.flatMap((r) => r.variants.filter((v) => names.includes(v.name)).flatMap((v) => v.steps.map((s) => s.loss))).filter((x) => x > 0 && Number.isFinite(x));
  const lo = losses.length ? Math.min(...losses) : 0.1;
  const hi = losses.length ? Math.max(...losses) : 1;
  const y = d3
    .scaleLog()
    .domain([lo, Math.max(hi, lo * 1.01)])
    .nice()
    .range([h, 0]);
  const x = d3.scaleLinear().domain([0, report.config.steps]).range([0, w]);
  runs.forEach((run, k) => {
    const g = svg
      .append('g')
      .attr('class', 'bn-sweep-panel')
      .attr('data-lr', run.lr)
      .attr('transform', `translate(${4 + (k % perRow) * cellW + m.l},${fs * 2 + legendH + Math.floor(k / perRow) * (h + m.t + m.b) + m.t})`) as Sel;
    g.append('text')
      .attr('x', w / 2)
      .attr('y', -fs * 0.5)
      .attr('text-anchor', 'middle')
      .attr('font-weight', 600)
      .text(`lr ${run.lr}`);
    axes(g, x, y, w, h, theme, { fs, xTicks: 3, yTicks: 3, yFormat: short, xLabel: 'step' });
    for (const v of run.variants) {
      if (!names.includes(v.name)) continue;
      const color = theme.variantColor(v.name);
      const pts = v.steps.filter((s) => s.loss > 0).map((s) => [s.step, s.loss] as [number, number]);
      g.append('path')
        .attr('data-variant', v.name)
        .attr('fill', 'none')
        .attr('stroke', color)
        .attr('stroke-width', 1.6)
        .attr(
          'd',
          d3
            .line<[number, number]>()
            .x((p) => x(p[0]))
            .y((p) => y(p[1]))(pts),
        )
        .append('title')
        .text(`${v.name} at lr ${run.lr}`);
      for (const [t, l] of pts) g.append('circle').attr('cx', x(t)).attr('cy', y(l)).attr('r', 1.8).attr('fill', color).append('title').text(`${v.name}, lr ${run.lr}, step ${t}: loss ${l}`);
      if (v.diverged) {
        const last = pts[pts.length - 1];
        const cx = x(v.diverged.step);
        const cy = last ? y(last[1]) : 0;
        g.append('text')
          .attr('class', 'bn-diverged')
          .attr('data-variant', v.name)
          .attr('x', cx)
          .attr('y', cy + fs / 3)
          .attr('text-anchor', 'middle')
          .attr('fill', color)
          .attr('font-weight', 700)
          .text('✕')
          .append('title')
          .text(`${v.name} diverged at step ${v.diverged.step}: ${v.diverged.reason}`);
      }
    }
  });
};
