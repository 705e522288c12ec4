// The step cursor: a vertical line with dots on every series and a tooltip with the exact values, driven by
// the pointer or, once the plot has focus, by the arrow keys (↑/↓ pick a lane of a ridgeline). The cursor's
// step and lane survive redraws (live data, theme change, legend toggled by keyboard).
import * as d3 from 'd3';
import { isNum } from '../model';
import type { Theme } from '../theme';
import type { ChartSpec, XScale } from './chartTypes';
import type { LaidPanel } from './panels';

const cursorMemory = new WeakMap<HTMLElement, number>();
const laneMemory = new WeakMap<HTMLElement, number>();

export interface CursorPlace {
  /** Left margin: the plot starts here. */
  left: number;
  /** Top of the plot when there are no panels. */
  top: number;
  totalH: number;
  plotW: number;
  width: number;
  height: number;
}

/**
 * Adds the focusable plot area, cursor and tooltip; returns what to call once focus has been put back after
 * a redraw, to show the cursor where it was.
 */
export function attachCursor(
  container: HTMLElement,
  svg: d3.Selection<SVGSVGElement, unknown, null, undefined>,
  spec: ChartSpec,
  x: XScale,
  laid: LaidPanel[],
  theme: Theme,
  place: CursorPlace,
): (focusKey: string | null) => void {
  const { left, width, height } = place;
  const plotW = place.plotW;
  const cursorStep = cursorMemory.get(container);
  const plotTop = laid[0]?.top ?? place.top;
  const plotBottom = laid.length ? laid[laid.length - 1].top + laid[laid.length - 1].h : place.top + place.totalH;
  const focusable = svg
    .append('g')
    .attr('class', 'bn-plot-area bn-no-export')
    .attr('data-key', 'plot')
    .attr('tabindex', spec.steps.length ? 0 : -1)
    .attr('role', 'application')
    .attr('aria-label', `${spec.title}: use the left and right arrow keys to read the values at each ${spec.x?.what ?? 'step'}` + (spec.lanes ? ', the up and down arrow keys to change the row' : ''))
    .attr('transform', `translate(${left},${plotTop})`);
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
  cursor
    .append('line')
    .attr('y1', 0)
    .attr('y2', plotBottom - plotTop)
    .attr('stroke', theme.muted)
    .attr('stroke-dasharray', '2 2');
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
        if (!isNum(p.value) || (l.yLog && p.value <= 0)) continue;
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
    // Inside the chart: flipped to the cursor's left at the right edge, wrapped when wider than the chart.
    tip.style.maxWidth = `${Math.max(120, width - 4)}px`;
    const tw = tip.offsetWidth;
    let tipLeft = left + xx + 14;
    if (tipLeft + tw > width - 2) tipLeft = left + xx - 14 - tw;
    tipLeft = Math.max(2, Math.min(tipLeft, width - tw - 2));
    const topPx = Math.min(Math.max((pointerY ?? plotTop) - 10, 0), Math.max(0, height - tip.offsetHeight));
    tip.style.left = `${tipLeft}px`;
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
    } else if (ev.key === 'Escape') {
      hide();
      return;
    }
    if (next !== null) {
      ev.preventDefault();
      show(next);
    }
  });

  return (focusKey) => {
    if (cursorStep !== undefined && steps.length && index < 0 && focusKey === 'plot') show(nearest(x(cursorStep)));
  };
}
