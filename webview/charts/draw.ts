// Drawing inside a panel (bands, lines, markers, decimated to the pixels there are) and the small data helpers
// the chart modules share.
import * as d3 from 'd3';
import type { StepRecord, VariantReport } from '../../src/protocol';
import { band, isNum } from '../model';
import type { G, PanelContext, XScale } from './chartTypes';

export interface Pt {
  step: number;
  v: number | null;
}
export interface BandPt {
  step: number;
  lo: number;
  hi: number;
}

/** On a log axis a band end ≤ 0 is drawn a decade below the axis (off the plot) instead of at -∞. */
function clampFor(ctx: PanelContext) {
  const [d0] = ctx.y.domain();
  return (v: number) => (ctx.yLog ? Math.max(v, d0 / 10) : v);
}

/**
 * More points than pixels: keep, per pixel column, the band's envelope (lowest lo, highest hi), so long runs
 * draw fast and look the same. Exact values stay in the tooltip.
 */
export function decimateBand(data: BandPt[], x: XScale): BandPt[] {
  if (data.length <= 2 * Math.abs(x.range()[1] - x.range()[0])) return data;
  const out: BandPt[] = [];
  let col = NaN;
  let cur: BandPt | null = null;
  for (const d of data) {
    const c = Math.round(x(d.step));
    if (c !== col || !cur) {
      if (cur) out.push(cur);
      col = c;
      cur = { ...d };
    } else {
      cur.lo = Math.min(cur.lo, d.lo);
      cur.hi = Math.max(cur.hi, d.hi);
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** Per pixel column, the first, lowest, highest and last point (in step order): a line that looks the same. */
export function decimateLine(data: Pt[], x: XScale): Pt[] {
  if (data.length <= 4 * Math.abs(x.range()[1] - x.range()[0])) return data;
  const out: Pt[] = [];
  let bucket: Pt[] = [];
  let col = NaN;
  const flush = () => {
    if (!bucket.length) return;
    const ok = bucket.filter((d) => isNum(d.v));
    if (ok.length < bucket.length) {
      // keep gaps (non-finite values) visible
      out.push(...bucket.filter((d, i) => i === 0 || i === bucket.length - 1 || !isNum(d.v)));
    } else {
      let lo = ok[0];
      let hi = ok[0];
      for (const d of ok) {
        if ((d.v as number) < (lo.v as number)) lo = d;
        if ((d.v as number) > (hi.v as number)) hi = d;
      }
      const keep = new Set([ok[0], lo, hi, ok[ok.length - 1]]);
      out.push(...ok.filter((d) => keep.has(d)));
    }
    bucket = [];
  };
  for (const d of data) {
    const c = Math.round(x(d.step));
    if (c !== col) {
      flush();
      col = c;
    }
    bucket.push(d);
  }
  flush();
  return out;
}

export function drawBand(g: G, ctx: PanelContext, variant: string, all: BandPt[], opacity?: number): void {
  const data = decimateBand(all, ctx.x);
  const c = clampFor(ctx);
  const area = d3
    .area<BandPt>()
    .x((d) => ctx.x(d.step))
    .y0((d) => ctx.y(c(d.lo)))
    .y1((d) => ctx.y(c(d.hi)));
  g.append('path')
    .datum(data)
    .attr('class', 'series band')
    .attr('data-variant', variant)
    .attr('fill', ctx.theme.variantColor(variant))
    .attr('fill-opacity', opacity ?? ctx.theme.bandOpacity)
    .attr('stroke', ctx.theme.variantColor(variant))
    .attr('stroke-opacity', 0.5)
    .attr('stroke-width', data.length > 1 ? 0.6 : 2)
    .attr('d', area);
}

export function drawLine(g: G, ctx: PanelContext, variant: string, all: Pt[], opts: { cls?: string; width?: number; dash?: string; dots?: boolean } = {}): void {
  const data = decimateLine(all, ctx.x);
  const log = ctx.yLog;
  const ok = (d: Pt) => isNum(d.v) && (!log || d.v > 0);
  const color = ctx.theme.variantColor(variant);
  const line = d3
    .line<Pt>()
    .defined(ok)
    .x((d) => ctx.x(d.step))
    .y((d) => ctx.y(d.v as number));
  g.append('path')
    .datum(data)
    .attr('class', `series line ${opts.cls ?? ''}`.trim())
    .attr('data-variant', variant)
    .attr('fill', 'none')
    .attr('stroke', color)
    .attr('stroke-width', opts.width ?? 1.6)
    .attr('stroke-linejoin', 'round')
    .attr('stroke-dasharray', opts.dash ?? null)
    .attr('d', line);
  const defined = data.filter(ok);
  // dots where a line cannot show the data: few points, or isolated points between gaps
  if (opts.dots || defined.length <= 1) {
    g.append('g')
      .attr('class', `series dots ${opts.cls ?? ''}`.trim())
      .attr('data-variant', variant)
      .selectAll('circle')
      .data(defined)
      .join('circle')
      .attr('cx', (d) => ctx.x(d.step))
      .attr('cy', (d) => ctx.y(d.v as number))
      .attr('r', 2.2)
      .attr('fill', color);
  }
}

export function drawMarkers(g: G, ctx: PanelContext, variant: string, data: Pt[], cls: string): void {
  const log = ctx.yLog;
  const pts = data.filter((d) => isNum(d.v) && (!log || d.v > 0));
  const sym = d3.symbol(d3.symbolDiamond, 42);
  g.append('g')
    .attr('class', `series markers ${cls}`)
    .attr('data-variant', variant)
    .selectAll('path')
    .data(pts)
    .join('path')
    .attr('transform', (d) => `translate(${ctx.x(d.step)},${ctx.y(d.v as number)})`)
    .attr('d', sym)
    .attr('fill', ctx.theme.bg)
    .attr('stroke', ctx.theme.variantColor(variant))
    .attr('stroke-width', 1.6);
}

/** Union of the steps in several ascending lists. */
export function unionSteps(lists: { step: number }[][]): number[] {
  const s = new Set<number>();
  for (const l of lists) for (const r of l) s.add(r.step);
  return [...s].sort((a, b) => a - b);
}

/** Index of records by step. */
export function byStep<T extends { step: number }>(list: T[]): Map<number, T> {
  return new Map(list.map((r) => [r.step, r]));
}

/**
 * Per variant, the band [min, max] over η of one per-step probe (lossAtEta or gradChange) at each probed
 * step, with every band end collected for the y scale.
 */
export function probeBands(variants: VariantReport[], pick: (s: StepRecord) => (number | null)[]) {
  const values: number[] = [];
  const bands = variants.map((v) => {
    const pts: BandPt[] = [];
    for (const s of v.steps) {
      const b = band(pick(s));
      if (b) {
        pts.push({ step: s.step, lo: b.lo, hi: b.hi });
        values.push(b.lo, b.hi);
      }
    }
    return { v, pts, idx: byStep(v.steps) };
  });
  return { bands, values };
}
