// The scaffolding every chart shares: title, legend (click / Enter / Space toggles a variant), stacked
// panels with axes built fresh from the data, divergence markers, a step cursor with a tooltip that shows
// exact values (pointer, or arrow keys once the plot has focus). A chart module only says what to draw.
import * as d3 from 'd3';
import type { Report, StepRecord, VariantReport } from '../../src/protocol';
import { band, isNum } from '../model';
import type { Theme } from '../theme';

export interface ChartSize {
  width: number;
  height: number;
  /** Narrow side bar: fewer ticks, smaller margins. */
  compact: boolean;
}

export interface ChartState {
  /** Variant names switched off in the legend. */
  hidden: ReadonlySet<string>;
  /** Source layer chosen in the layer picker (per-layer charts). */
  layer: string | null;
  /** Step picked in the η-profile's step slider (null: the last probed step). */
  etaStep: number | null;
  toggleVariant(name: string): void;
}

/** Every chart module exports one of these. */
export type ChartRender = (container: HTMLElement, report: Report | null, size: ChartSize, theme: Theme, state: ChartState) => void;

export type YScale = d3.ScaleContinuousNumeric<number, number>;
export type XScale = d3.ScaleContinuousNumeric<number, number>;
export type G = d3.Selection<SVGGElement, unknown, null, undefined>;

export interface PanelContext {
  x: XScale;
  y: YScale;
  width: number;
  height: number;
  theme: Theme;
}

export interface Panel {
  /** Y axis label, with units. */
  label: string;
  scale: 'log' | 'linear' | 'auto';
  /** Every value drawn in the panel (visible variants only); the y domain is fitted to them. */
  values: number[];
  /** A fixed domain (accuracy: [0, 1]); otherwise fitted. */
  fixed?: [number, number];
  tickFormat?: (v: number) => string;
  /** Relative height among the chart's panels. */
  weight?: number;
  draw(g: G, ctx: PanelContext): void;
  /** Fixed y tick values (e.g. one per ridge of a ridgeline); otherwise d3's. */
  ticks?: number[];
  /** Points highlighted by the cursor at a step (at an x value, and in a lane when the chart has lanes). */
  points?(step: number, lane: number): { variant: string; value: number }[];
}

export interface TooltipRow {
  variant: string;
  text: string;
}

export interface ChartSpec {
  key: string;
  title: string;
  xLabel: string;
  panels: Panel[];
  /** The steps the cursor can visit, ascending (the x values, when `x` is given). */
  steps: number[];
  describe(step: number, lane: number): TooltipRow[];
  /**
   * An x axis that is not the training step (η, an activation value): its domain, log or linear, the
   * tooltip heading. No divergence markers are drawn on it (the legend still says ✕step).
   */
  x?: { domain: [number, number]; log?: boolean; cursorLabel(v: number, lane: number): string; what: string };
  /**
   * Horizontal lanes in the first panel (a ridgeline's rows): ↑/↓ or the pointer's height pick one, and
   * `describe` / `points` get its index. `at` maps a y value of the first panel to a lane.
   */
  lanes?: { count: number; at(yValue: number): number; initial?: number };
  /** Shown over the plot when there is nothing to draw yet. */
  emptyText: string;
}

const cursorMemory = new WeakMap<HTMLElement, number>();
const laneMemory = new WeakMap<HTMLElement, number>();

/**
 * The y domain: the finite data range (positive values only for a log scale), widened by 5% of the span
 * on each side (in log space for a log scale); a single value gets a range around it.
 */
export function fitDomain(values: number[], log: boolean): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!isNum(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return null;
  if (log) {
    let a = Math.log10(lo);
    let b = Math.log10(hi);
    if (b - a < 1e-9) (a -= 0.5), (b += 0.5);
    const pad = 0.05 * (b - a);
    return [10 ** (a - pad), 10 ** (b + pad)];
  }
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const d = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1;
    return [lo - d, hi + d];
  }
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

/** 'auto': a log scale when every value is positive and they span more than 30×. */
export function useLog(kind: Panel['scale'], values: number[]): boolean {
  if (kind !== 'auto') return kind === 'log';
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!isNum(v)) continue;
    if (v <= 0) return false;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo < hi && hi / lo > 30;
}

/** The x domain: first to last step; a single step gets ±0.5 around it. */
export function fitSteps(steps: number[]): [number, number] {
  if (steps.length === 0) return [0, 1];
  const lo = d3.min(steps)!;
  const hi = d3.max(steps)!;
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

const tickFmt = d3.format('~s');

/** Ticks of a value axis (η, activations): d3's nice ticks; on a log axis only the decades (1, 2, 5 if few). */
function xTickValues(x: XScale, count: number, log: boolean): number[] {
  const t = x.ticks(count);
  if (!log) return t;
  const decades = t.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  if (decades.length >= 2) return decades;
  return t.filter((v) => /^[125]/.test(v.toExponential()));
}

/** Axis tick labels: short, no SI prefixes (0.5, not 500m), exponents only for very large or small values. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

export function renderChart(container: HTMLElement, report: Report | null, size: ChartSize, theme: Theme, state: ChartState, spec: ChartSpec): void {
  const active = document.activeElement;
  const focusKey = active instanceof Element && container.contains(active) ? active.getAttribute('data-key') : null;
  const cursorStep = cursorMemory.get(container);
  container.replaceChildren();
  container.classList.add('bn-chart');
  container.dataset.chart = spec.key;

  const { width, height, compact } = size;
  const fs = compact ? Math.max(theme.fontSize - 1.5, 10) : theme.fontSize - 1;
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
    .attr('aria-label', spec.title);
  svg.append('title').text(spec.title);

  const m = { left: compact ? 48 : 62, right: compact ? 10 : 16 };
  // ---- title
  svg
    .append('text')
    .attr('class', 'bn-title')
    .attr('x', m.left - (compact ? 40 : 50))
    .attr('y', fs + 4)
    .attr('font-weight', 600)
    .attr('font-size', fs + 1)
    .text(spec.title);

  // ---- legend
  const variants = report?.variants ?? [];
  const legend = svg.append('g').attr('class', 'bn-legend').attr('role', 'toolbar').attr('aria-label', 'Variants (press Enter to show or hide)');
  let lx = m.left - (compact ? 40 : 50);
  let ly = 2 * fs + 14;
  const rowH = fs + 8;
  const maxX = width - m.right;
  const items: SVGGElement[] = [];
  variants.forEach((v, i) => {
    const hidden = state.hidden.has(v.name);
    const color = theme.variantColor(v.name);
    const item = legend
      .append('g')
      .attr('class', 'bn-legend-item' + (hidden ? ' is-hidden' : ''))
      .attr('data-variant', v.name)
      .attr('data-key', `legend:${v.name}`)
      .attr('tabindex', 0)
      .attr('role', 'button')
      .attr('aria-pressed', String(!hidden))
      .attr('aria-label', `${v.name}${v.diverged ? `, diverged at step ${v.diverged.step}` : ''}: ${hidden ? 'hidden' : 'shown'}`);
    const ring = item.append('rect').attr('class', 'bn-focus-ring').attr('rx', 3).attr('fill', 'none').attr('stroke', theme.focus).attr('stroke-width', 1.5);
    item
      .append('rect')
      .attr('x', 0)
      .attr('y', -fs + 2)
      .attr('width', 12)
      .attr('height', fs - 2)
      .attr('rx', 2)
      .attr('fill', hidden ? 'none' : color)
      .attr('stroke', color)
      .attr('stroke-width', 1.5);
    const label = item
      .append('text')
      .attr('x', 17)
      .attr('y', 0)
      .attr('fill', hidden ? theme.muted : theme.fg)
      .attr('text-decoration', hidden ? 'line-through' : null)
      .text(v.name + (v.diverged ? ` ✕${v.diverged.step}` : ''));
    const tw = (label.node() as SVGTextElement).getComputedTextLength() || label.text().length * fs * 0.6;
    const w = 17 + tw;
    if (lx + w > maxX && lx > m.left - 50) {
      lx = m.left - (compact ? 40 : 50);
      ly += rowH;
    }
    item.attr('transform', `translate(${lx},${ly})`);
    ring.attr('x', -3).attr('y', -fs).attr('width', w + 6).attr('height', fs + 5);
    lx += w + 16;
    const node = item.node()!;
    items.push(node);
    item.on('click', () => state.toggleVariant(v.name));
    item.on('keydown', (ev: KeyboardEvent) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        state.toggleVariant(v.name);
      } else if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        ev.preventDefault();
        const j = (i + (ev.key === 'ArrowRight' ? 1 : items.length - 1)) % items.length;
        items[j]?.focus();
      }
    });
  });
  const legendBottom = variants.length ? ly + 8 : fs + 14;

  // ---- panels
  const xLabelH = compact ? 36 : 40;
  const top = legendBottom + 8;
  const plotW = Math.max(width - m.left - m.right, 20);
  const gap = compact ? 14 : 18;
  const totalH = Math.max(height - top - xLabelH - gap * (spec.panels.length - 1), 40);
  const weightSum = d3.sum(spec.panels, (p) => p.weight ?? 1);

  const hiddenSet = state.hidden;
  const divergences = spec.x ? [] : variants.filter((v) => v.diverged && !hiddenSet.has(v.name)).map((v) => ({ name: v.name, step: v.diverged!.step }));
  const xSteps = spec.steps.concat(divergences.map((d) => d.step));
  // Nothing yet: the axis spans the planned run, so live steps fill it from the left.
  const x: XScale = spec.x
    ? (spec.x.log ? d3.scaleLog() : d3.scaleLinear()).domain(spec.x.domain).range([0, plotW])
    : d3
        .scaleLinear()
        .domain(xSteps.length ? fitSteps(xSteps) : [0, Math.max(1, report?.config?.steps ?? 1)])
        .range([0, plotW]);
  const xTicks = Math.max(2, Math.floor(plotW / (compact ? 70 : 90)));

  interface Laid {
    panel: Panel;
    g: G;
    y: YScale;
    top: number;
    h: number;
    hasData: boolean;
  }
  const laid: Laid[] = [];
  let py = top;
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
      .attr('transform', `translate(${m.left},${py})`);
    // grid + axes
    const yTicks = Math.max(2, Math.floor(h / (compact ? 32 : 40)));
    const yFormat = panel.tickFormat ?? (log ? (y as d3.ScaleLogarithmic<number, number>).tickFormat(yTicks, tickLabel as unknown as string) : tickLabel);
    const empty = !panel.fixed && (fitted === null || panel.values.length === 0);
    const yAxis = d3.axisLeft(y).ticks(yTicks).tickSizeOuter(0).tickFormat((d) => yFormat(d as number));
    if (empty) yAxis.tickValues([]);
    else if (panel.ticks) yAxis.tickValues(panel.ticks);
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
          .tickValues(spec.x ? xTickValues(x, xTicks, !!spec.x.log) : x.ticks(xTicks).filter((t) => Number.isInteger(t)))
          .tickSizeOuter(0)
          .tickFormat(pi === spec.panels.length - 1 ? (d) => (spec.x ? tickLabel(d as number) : tickFmt(d as number)) : () => ''),
      );
    for (const ax of [gx, gy]) {
      ax.attr('font-size', null).attr('font-family', null);
      ax.selectAll('.domain').attr('stroke', theme.muted);
      ax.selectAll('.tick line:not(.bn-grid)').attr('stroke', theme.muted);
      ax.selectAll('.tick text').attr('fill', theme.muted);
    }
    // y label
    g.append('text')
      .attr('class', 'bn-axis-label')
      .attr('transform', `translate(${-m.left + fs},${h / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .attr('fill', theme.muted)
      .text(panel.label + (log && !/log/.test(panel.label) ? ' (log)' : ''));
    const data = g.append('g').attr('class', 'bn-data');
    data.append('clipPath').attr('id', `clip-${spec.key}-${pi}`).append('rect').attr('width', plotW).attr('height', h);
    data.attr('clip-path', `url(#clip-${spec.key}-${pi})`);
    const hasData = fitted !== null && panel.values.length > 0;
    if (hasData) panel.draw(data, { x, y, width: plotW, height: h, theme });
    // divergence markers
    for (const d of divergences) {
      const xx = x(d.step);
      g.append('line')
        .attr('class', 'bn-diverged')
        .attr('data-variant', d.name)
        .attr('x1', xx)
        .attr('x2', xx)
        .attr('y1', 0)
        .attr('y2', h)
        .attr('stroke', theme.variantColor(d.name))
        .attr('stroke-width', 1.5)
        .attr('stroke-dasharray', '4 3');
      if (pi === 0)
        g.append('text')
          .attr('class', 'bn-diverged-label')
          .attr('data-variant', d.name)
          .attr('x', xx + (xx > plotW - 90 ? -4 : 4))
          .attr('y', fs)
          .attr('text-anchor', xx > plotW - 90 ? 'end' : 'start')
          .attr('fill', theme.variantColor(d.name))
          .text(`✕ ${d.name} diverged @ ${d.step}`);
    }
    laid.push({ panel, g, y, top: py, h, hasData });
    py += h + gap;
  });

  // x label
  svg
    .append('text')
    .attr('class', 'bn-axis-label')
    .attr('x', m.left + plotW / 2)
    .attr('y', height - 4)
    .attr('text-anchor', 'middle')
    .attr('fill', theme.muted)
    .text(spec.xLabel);

  if (spec.steps.length === 0 || laid.every((l) => !l.hasData)) {
    svg
      .append('text')
      .attr('class', 'bn-empty')
      .attr('x', m.left + plotW / 2)
      .attr('y', laid.length ? laid[0].top + laid[0].h / 2 : top + totalH / 2)
      .attr('text-anchor', 'middle')
      .attr('fill', theme.muted)
      .text(spec.emptyText);
  }

  // ---- cursor + tooltip
  const plotTop = laid[0]?.top ?? top;
  const plotBottom = laid.length ? laid[laid.length - 1].top + laid[laid.length - 1].h : top + totalH;
  const focusable = svg
    .append('g')
    .attr('class', 'bn-plot-area bn-no-export')
    .attr('data-key', 'plot')
    .attr('tabindex', spec.steps.length ? 0 : -1)
    .attr('role', 'application')
    .attr(
      'aria-label',
      `${spec.title}: use the left and right arrow keys to read the values at each ${spec.x?.what ?? 'step'}` +
        (spec.lanes ? ', the up and down arrow keys to change the row' : ''),
    )
    .attr('transform', `translate(${m.left},${plotTop})`);
  focusable
    .append('rect')
    .attr('class', 'bn-focus-ring')
    .attr('x', -2)
    .attr('y', -2)
    .attr('width', plotW + 4)
    .attr('height', plotBottom - plotTop + 4)
    .attr('fill', 'none')
    .attr('stroke', theme.focus)
    .attr('stroke-width', 1.5);
  const overlay = focusable
    .append('rect')
    .attr('class', 'bn-overlay')
    .attr('width', plotW)
    .attr('height', plotBottom - plotTop)
    .attr('fill', 'transparent');
  const cursor = focusable.append('g').attr('class', 'bn-cursor').attr('display', 'none').attr('pointer-events', 'none');
  cursor.append('line').attr('y1', 0).attr('y2', plotBottom - plotTop).attr('stroke', theme.muted).attr('stroke-dasharray', '2 2');
  const dots = cursor.append('g');

  const tip = document.createElement('div');
  tip.className = 'bn-tooltip';
  tip.setAttribute('role', 'tooltip');
  tip.hidden = true;
  container.appendChild(tip);

  const steps = spec.steps;
  let index = -1;
  const lanes = spec.lanes;
  let lane = Math.max(0, Math.min((lanes?.count ?? 1) - 1, laneMemory.get(container) ?? lanes?.initial ?? 0));
  const show = (i: number, pointerY?: number) => {
    if (steps.length === 0) return;
    index = Math.max(0, Math.min(steps.length - 1, i));
    if (lanes && pointerY !== undefined && laid[0]) {
      const yv = laid[0].y.invert(pointerY - laid[0].top);
      if (Number.isFinite(yv)) lane = Math.max(0, Math.min(lanes.count - 1, lanes.at(yv)));
    }
    if (lanes) laneMemory.set(container, lane);
    const step = steps[index];
    cursorMemory.set(container, step);
    const xx = x(step);
    cursor.attr('display', null).attr('transform', `translate(${xx},0)`);
    dots.selectAll('*').remove();
    for (const l of laid) {
      for (const p of l.panel.points?.(step, lane) ?? []) {
        if (!isNum(p.value) || (l.y.domain()[0] > 0 && p.value <= 0)) continue;
        dots
          .append('circle')
          .attr('cx', 0)
          .attr('cy', l.top - plotTop + l.y(p.value))
          .attr('r', 3.5)
          .attr('fill', theme.variantColor(p.variant))
          .attr('stroke', theme.bg)
          .attr('stroke-width', 1);
      }
    }
    tip.replaceChildren();
    const head = document.createElement('div');
    head.className = 'bn-tooltip-head';
    head.textContent = spec.x ? spec.x.cursorLabel(step, lane) : `step ${step}`;
    tip.appendChild(head);
    const rows = spec.describe(step, lane);
    for (const r of rows) {
      const row = document.createElement('div');
      row.className = 'bn-tooltip-row';
      row.dataset.variant = r.variant;
      const sw = document.createElement('span');
      sw.className = 'bn-swatch';
      sw.style.background = theme.variantColor(r.variant);
      const name = document.createElement('span');
      name.className = 'bn-tooltip-variant';
      name.textContent = r.variant;
      const val = document.createElement('span');
      val.className = 'bn-tooltip-value';
      val.textContent = r.text;
      row.append(sw, name, val);
      tip.appendChild(row);
    }
    if (rows.length === 0) {
      const row = document.createElement('div');
      row.textContent = 'no values at this step';
      tip.appendChild(row);
    }
    tip.hidden = false;
    const tw = tip.offsetWidth;
    let left = m.left + xx + 14;
    if (left + tw > width - 2) left = Math.max(2, m.left + xx - 14 - tw);
    const topPx = Math.min(Math.max((pointerY ?? plotTop) - 10, 0), Math.max(0, height - tip.offsetHeight));
    tip.style.left = `${left}px`;
    tip.style.top = `${topPx}px`;
  };
  const hide = () => {
    index = -1;
    cursor.attr('display', 'none');
    tip.hidden = true;
    cursorMemory.delete(container);
  };
  const nearest = (px: number) => {
    const s = x.invert(px);
    const i = d3.bisectLeft(steps, s);
    if (i <= 0) return 0;
    if (i >= steps.length) return steps.length - 1;
    return s - steps[i - 1] <= steps[i] - s ? i - 1 : i;
  };
  overlay.on('pointermove', (ev: PointerEvent) => {
    const [px, pyy] = d3.pointer(ev, focusable.node());
    show(nearest(px), pyy + plotTop);
  });
  overlay.on('pointerleave', () => {
    if (document.activeElement !== focusable.node()) hide();
  });
  focusable.on('focus', () => {
    if (index < 0) show(cursorStep !== undefined ? nearest(x(cursorStep)) : steps.length - 1);
  });
  focusable.on('blur', hide);
  focusable.on('keydown', (ev: KeyboardEvent) => {
    const big = ev.shiftKey ? 10 : 1;
    let next: number | null = null;
    if (ev.key === 'ArrowRight') next = (index < 0 ? steps.length - 1 : index) + big;
    else if (ev.key === 'ArrowLeft') next = (index < 0 ? steps.length - 1 : index) - big;
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = steps.length - 1;
    else if (lanes && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
      lane = Math.max(0, Math.min(lanes.count - 1, lane + (ev.key === 'ArrowDown' ? 1 : -1)));
      next = index < 0 ? steps.length - 1 : index;
    }
    else if (ev.key === 'Escape') {
      hide();
      return;
    }
    if (next !== null) {
      ev.preventDefault();
      show(next);
    }
  });

  // restore focus and cursor across redraws (live data, theme change, legend toggled by keyboard)
  if (focusKey) {
    const el = container.querySelector<SVGElement>(`[data-key="${CSS.escape(focusKey)}"]`);
    el?.focus();
  }
  if (cursorStep !== undefined && steps.length && index < 0 && focusKey === 'plot') show(nearest(x(cursorStep)));
}

// ---------------------------------------------------------------- drawing helpers

export interface Pt {
  step: number;
  v: number | null;
}
export interface BandPt {
  step: number;
  lo: number;
  hi: number;
}

function clampFor(y: YScale) {
  const [d0] = y.domain();
  const log = d0 > 0 && (y as unknown as { base?: unknown }).base !== undefined;
  return (v: number) => (log ? Math.max(v, d0 / 10) : v);
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
  const c = clampFor(ctx.y);
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
  const log = (ctx.y as unknown as { base?: unknown }).base !== undefined;
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
  const log = (ctx.y as unknown as { base?: unknown }).base !== undefined;
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
