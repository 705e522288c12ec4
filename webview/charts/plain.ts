// Small drawing helpers for the charts that are not "value against training step" (slices, the sweep):
// an svg sized like every chart, a title, x/y axes in the theme, a note when there is nothing to draw.
import * as d3 from 'd3';
import type { Theme } from '../theme';
import type { ChartSize } from './chartTypes';

export type Svg = d3.Selection<SVGSVGElement, unknown, null, undefined>;
export type Sel = d3.Selection<SVGGElement, unknown, null, undefined>;

export function fontSize(size: ChartSize, theme: Theme): number {
  return size.compact ? Math.max(theme.fontSize - 1.5, 10) : theme.fontSize - 1;
}

/** A fresh svg in `container`, named for screen readers (one per chart: the export takes the first svg of the card). */
export function chartSvg(container: HTMLElement, key: string, width: number, height: number, theme: Theme, fs: number, title: string): Svg {
  container.replaceChildren();
  container.classList.add('bn-chart');
  container.dataset.chart = key;
  const svg = d3
    .select(container)
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'bn-svg')
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('font-family', theme.font)
    .attr('font-size', fs)
    .attr('fill', theme.fg)
    .attr('role', 'group')
    .attr('aria-label', title);
  svg.append('title').text(title);
  return svg;
}

/** chartSvg with the title drawn in the svg. */
export function freshSvg(container: HTMLElement, key: string, width: number, height: number, theme: Theme, fs: number, title: string): Svg {
  const svg = chartSvg(container, key, width, height, theme, fs, title);
  svg
    .append('text')
    .attr('class', 'bn-title')
    .attr('x', 8)
    .attr('y', fs + 4)
    .attr('font-weight', 600)
    .attr('font-size', fs + 1)
    .text(title);
  return svg;
}

export function emptyNote(svg: Svg, width: number, height: number, theme: Theme, text: string): void {
  svg
    .append('text')
    .attr('class', 'bn-empty')
    .attr('x', width / 2)
    .attr('y', height / 2)
    .attr('text-anchor', 'middle')
    .attr('fill', theme.muted)
    .text(text);
}

/** Axes of a plot area at (0,0)–(w,h) of `g`, styled like the frame's. */
export function axes(
  g: Sel,
  x: d3.AxisScale<number>,
  y: d3.AxisScale<number>,
  w: number,
  h: number,
  theme: Theme,
  o: { xLabel?: string; yLabel?: string; xTicks?: number; yTicks?: number; xFormat?: (v: number) => string; yFormat?: (v: number) => string; fs: number },
): void {
  const xa = d3.axisBottom(x).ticks(o.xTicks ?? 5);
  if (o.xFormat) xa.tickFormat((v) => o.xFormat!(Number(v)));
  const ya = d3.axisLeft(y).ticks(o.yTicks ?? 5);
  if (o.yFormat) ya.tickFormat((v) => o.yFormat!(Number(v)));
  const decades = logDecades(y);
  if (decades) ya.tickValues(decades);
  const gx = g.append('g').attr('class', 'bn-axis bn-axis-x').attr('transform', `translate(0,${h})`).call(xa);
  const gy = g.append('g').attr('class', 'bn-axis bn-axis-y').call(ya);
  for (const a of [gx, gy]) {
    a.selectAll('path, line').attr('stroke', theme.grid);
    a.selectAll('text')
      .attr('fill', theme.muted)
      .attr('font-size', o.fs - 1);
  }
  if (o.xLabel)
    g.append('text')
      .attr('x', w / 2)
      .attr('y', h + o.fs * 2.4)
      .attr('text-anchor', 'middle')
      .attr('fill', theme.muted)
      .text(o.xLabel);
  if (o.yLabel)
    g.append('text')
      .attr('transform', `translate(${-o.fs * 2.9},${h / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .attr('fill', theme.muted)
      .text(o.yLabel);
}

/** Compact number for labels: 3 significant digits. */
export function short(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** On a log scale spanning a decade or more: the powers of ten inside it (at most about 6), else null. */
function logDecades(y: d3.AxisScale<number>): number[] | null {
  const sc = y as unknown as { base?: () => number; domain(): number[] };
  if (typeof sc.base !== 'function') return null;
  const [a, b] = sc
    .domain()
    .map((v) => Math.log10(v))
    .sort((p, q) => p - q);
  const lo = Math.ceil(a - 1e-9);
  const hi = Math.floor(b + 1e-9);
  if (hi < lo) return null;
  const stride = Math.max(1, Math.ceil((hi - lo + 1) / 6));
  const out: number[] = [];
  for (let e = lo; e <= hi; e += stride) out.push(Math.pow(10, e));
  return out;
}

/** A colour key of the variants in one row under the title (the sweep charts draw no interactive legend). */
export function variantKey(svg: Svg, names: readonly string[], theme: Theme, fs: number): void {
  names.forEach((n, k) => {
    const lx = 8 + k * 130;
    svg
      .append('rect')
      .attr('x', lx)
      .attr('y', fs * 1.9)
      .attr('width', 10)
      .attr('height', 10)
      .attr('fill', theme.variantColor(n));
    svg
      .append('text')
      .attr('x', lx + 14)
      .attr('y', fs * 1.9 + 9)
      .attr('font-size', fs - 1)
      .text(n);
  });
}
