// Layout and axes: the panels stacked under the legend, each with its y scale fitted to its values, the shared
// x axis, grid lines, axis labels and the divergence markers; then the chart's own drawing in each panel.
import * as d3 from 'd3';
import type { Theme } from '../theme';
import type { ChartSpec, G, Panel, XScale, YScale } from './chartTypes';
import { fitText, thinTickLabels } from './axisText';
import { fitDomain, logTickValues, stepTickValues, tickLabel, useLog, xTickValues } from './scales';

/** A panel as laid out: its group, y scale and vertical place in the svg. */
export interface LaidPanel {
  panel: Panel;
  g: G;
  y: YScale;
  yLog: boolean;
  top: number;
  h: number;
  hasData: boolean;
}

export interface PanelsPlace {
  /** Left margin (the y axis and its label live in it). */
  left: number;
  top: number;
  plotW: number;
  totalH: number;
  gap: number;
  compact: boolean;
  fontSize: number;
}

const tickFmt = d3.format('~s');

/** How many y ticks a panel `h` px tall gets. */
function yTickCount(h: number, compact: boolean): number {
  return Math.max(2, Math.floor(h / (compact ? 32 : 40)));
}

/**
 * The left margin the panels need: the widest y tick label, the tick, a gap and the rotated axis title, so
 * that the title never runs over the tick labels (measured with the chart's own font).
 */
export function leftMargin(svg: d3.Selection<SVGSVGElement, unknown, null, undefined>, spec: ChartSpec, o: { totalH: number; gap: number; compact: boolean; fontSize: number; min: number }): number {
  const weightSum = d3.sum(spec.panels, (p) => p.weight ?? 1);
  const measure = svg.append('text').attr('visibility', 'hidden');
  const width = (t: string) => {
    measure.text(t);
    return (measure.node() as SVGTextElement).getComputedTextLength?.() || t.length * o.fontSize * 0.62;
  };
  let widest = 0;
  for (const panel of spec.panels) {
    const h = (o.totalH * (panel.weight ?? 1)) / weightSum;
    const log = useLog(panel.scale, panel.values);
    const fitted = panel.fixed ?? fitDomain(panel.values, log);
    if (!panel.fixed && (fitted === null || panel.values.length === 0)) continue;
    const y: YScale = (log ? d3.scaleLog() : d3.scaleLinear()).domain(fitted ?? [0, 1]);
    const n = yTickCount(h, o.compact);
    const f = panel.tickFormat ?? (log ? (y as d3.ScaleLogarithmic<number, number>).tickFormat(n, tickLabel as unknown as string) : tickLabel);
    for (const v of panel.ticks ?? (log ? logTickValues(y, n) : y.ticks(n))) widest = Math.max(widest, width(f(v)));
  }
  measure.remove();
  return Math.max(o.min, Math.ceil(widest + 6 + 3 + o.fontSize + 6));
}

export function layPanels(svg: d3.Selection<SVGSVGElement, unknown, null, undefined>, spec: ChartSpec, x: XScale, divergences: { name: string; step: number }[], theme: Theme, place: PanelsPlace): LaidPanel[] {
  const { plotW, compact, gap, totalH } = place;
  const fs = place.fontSize;
  const weightSum = d3.sum(spec.panels, (p) => p.weight ?? 1);
  // As many x ticks as fit; labels that would still collide are thinned once drawn.
  const xTicks = Math.max(2, Math.floor(plotW / (compact ? 48 : 64)));
  const laid: LaidPanel[] = [];
  let py = place.top;
  spec.panels.forEach((panel, pi) => {
    const h = (totalH * (panel.weight ?? 1)) / weightSum;
    const log = useLog(panel.scale, panel.values);
    const fitted = panel.fixed ?? fitDomain(panel.values, log);
    const y: YScale = (log ? d3.scaleLog() : d3.scaleLinear()).domain(fitted ?? (log ? [0.1, 10] : [0, 1])).range([h, 0]);
    const g = svg
      .append('g')
      .attr('class', 'bn-panel')
      .attr('data-panel', pi)
      .attr('data-scale', log ? 'log' : 'linear')
      .attr('data-width', plotW)
      .attr('data-height', h)
      .attr('data-y-domain', y.domain().join(','))
      .attr('data-x-domain', x.domain().join(','))
      .attr('transform', `translate(${place.left},${py})`);
    // grid + axes
    const yTicks = yTickCount(h, compact);
    const yFormat = panel.tickFormat ?? (log ? (y as d3.ScaleLogarithmic<number, number>).tickFormat(yTicks, tickLabel as unknown as string) : tickLabel);
    const empty = !panel.fixed && (fitted === null || panel.values.length === 0);
    const yAxis = d3
      .axisLeft(y)
      .ticks(yTicks)
      .tickSizeOuter(0)
      .tickFormat((d) => yFormat(d as number));
    if (empty) yAxis.tickValues([]);
    else if (panel.ticks) yAxis.tickValues(panel.ticks);
    else if (log) yAxis.tickValues(logTickValues(y, yTicks));
    const gy = g.append('g').attr('class', 'bn-axis bn-axis-y').call(yAxis);
    gy.selectAll<SVGGElement, number>('.tick')
      .filter((d) => yFormat(d) !== '')
      .select('line')
      .clone()
      .attr('class', 'bn-grid')
      .attr('x2', plotW)
      .attr('stroke', theme.grid)
      .attr('stroke-opacity', 0.7);
    const gx = g
      .append('g')
      .attr('class', 'bn-axis bn-axis-x')
      .attr('transform', `translate(0,${h})`)
      .call(
        d3
          .axisBottom(x)
          .tickValues(spec.x ? xTickValues(x, xTicks, !!spec.x.log) : stepTickValues(x, xTicks))
          .tickSizeOuter(0)
          .tickFormat(pi === spec.panels.length - 1 ? (d) => (spec.x ? tickLabel(d as number) : tickFmt(d as number)) : () => ''),
      );
    for (const ax of [gx, gy]) {
      ax.attr('font-size', null).attr('font-family', null);
      ax.selectAll('.domain').attr('stroke', theme.muted);
      ax.selectAll('.tick line:not(.bn-grid)').attr('stroke', theme.muted);
      ax.selectAll('.tick text').attr('fill', theme.muted);
    }
    thinTickLabels(gx, 'x');
    thinTickLabels(gy, 'y');
    // y label, shortened to the panel's height
    const yLabel = g
      .append('text')
      .attr('class', 'bn-axis-label')
      .attr('transform', `translate(${-place.left + fs},${h / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .attr('fill', theme.muted)
      .text(panel.label + (log && !/log/.test(panel.label) ? ' (log)' : ''));
    fitText(yLabel.node() as SVGTextElement, h);
    const data = g.append('g').attr('class', 'bn-data');
    data.append('clipPath').attr('id', `clip-${spec.key}-${pi}`).append('rect').attr('width', plotW).attr('height', h);
    data.attr('clip-path', `url(#clip-${spec.key}-${pi})`);
    const hasData = fitted !== null && panel.values.length > 0;
    if (hasData) panel.draw(data, { x, y, yLog: log, width: plotW, height: h, theme });
    drawDivergences(g, x, divergences, theme, { h, plotW, fs, labels: pi === 0 });
    laid.push({ panel, g, y, yLog: log, top: py, h, hasData });
    py += h + gap;
  });
  return laid;
}

/** A dashed line at the step where a variant diverged; the first panel also names it. */
function drawDivergences(g: G, x: XScale, divergences: { name: string; step: number }[], theme: Theme, o: { h: number; plotW: number; fs: number; labels: boolean }): void {
  for (const d of divergences) {
    const xx = x(d.step);
    g.append('line')
      .attr('class', 'bn-diverged')
      .attr('data-variant', d.name)
      .attr('x1', xx)
      .attr('x2', xx)
      .attr('y1', 0)
      .attr('y2', o.h)
      .attr('stroke', theme.variantColor(d.name))
      .attr('stroke-width', 1.5)
      .attr('stroke-dasharray', '4 3');
    if (o.labels) {
      const label = g.append('text').attr('class', 'bn-diverged-label').attr('data-variant', d.name).attr('y', o.fs).attr('fill', theme.variantColor(d.name));
      // Measured, not guessed: the label goes right of the marker, else left of it, else shortened, so it
      // never runs into the axis or out of a narrow side bar.
      const place = (text: string): boolean => {
        label.text(text);
        const w = (label.node() as SVGTextElement | null)?.getComputedTextLength?.() ?? 0;
        if (xx + 4 + w <= o.plotW) label.attr('x', xx + 4).attr('text-anchor', 'start');
        else if (xx - 4 - w >= 0) label.attr('x', xx - 4).attr('text-anchor', 'end');
        else return false;
        return true;
      };
      if (!place(`✕ ${d.name} diverged @ ${d.step}`) && !place(`✕ @ ${d.step}`)) label.remove();
    }
  }
}
