// The legend: one item per variant (✕step when it diverged); click, Enter or Space shows or hides it, ← → move
// between items.
import type * as d3 from 'd3';
import type { VariantReport } from '../../src/protocol';
import type { Theme } from '../theme';
import type { ChartState } from './chartTypes';

export interface LegendPlace {
  /** Where the first item starts. */
  left: number;
  /** Items wrap to a new row past this x. */
  maxX: number;
  /** A new row starts here when an item does not fit (the original layout's wrap test). */
  wrapAfter: number;
  top: number;
  fontSize: number;
}

/** Draws the legend; returns the y below it. */
export function drawLegend(svg: d3.Selection<SVGSVGElement, unknown, null, undefined>, variants: VariantReport[], state: ChartState, theme: Theme, place: LegendPlace): number {
  const fs = place.fontSize;
  const legend = svg.append('g').attr('class', 'bn-legend').attr('role', 'toolbar').attr('aria-label', 'Variants (press Enter to show or hide)');
  let lx = place.left;
  let ly = place.top;
  const rowH = fs + 8;
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
    if (lx + w > place.maxX && lx > place.wrapAfter) {
      lx = place.left;
      ly += rowH;
    }
    item.attr('transform', `translate(${lx},${ly})`);
    ring
      .attr('x', -3)
      .attr('y', -fs)
      .attr('width', w + 6)
      .attr('height', fs + 5);
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
  return variants.length ? ly + 8 : fs + 14;
}
