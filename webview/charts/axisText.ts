// Text on axes that must stay legible however narrow the chart: tick labels that would collide are thinned,
// a label longer than its room is shortened with an ellipsis. Measured on the drawn SVG, so they hold for
// any font, size and number format.
import type { G } from './chartTypes';

/** Hides tick labels that would overlap their neighbour, keeping the first and the last. */
export function thinTickLabels(axis: G, dir: 'x' | 'y'): void {
  const labels = axis
    .selectAll<SVGTextElement, unknown>('.tick text')
    .nodes()
    .filter((n) => (n.textContent ?? '') !== '');
  if (labels.length < 3 || typeof labels[0].getBBox !== 'function') return;
  const box = (n: SVGTextElement): [number, number] => {
    const b = n.getBBox();
    const m = (n.parentNode as SVGGElement).transform.baseVal.consolidate()?.matrix;
    const o = dir === 'x' ? (m?.e ?? 0) : (m?.f ?? 0);
    return dir === 'x' ? [o + b.x, o + b.x + b.width] : [o + b.y, o + b.y + b.height];
  };
  const boxes = labels.map(box);
  const order = labels.map((_, i) => i).sort((a, b) => boxes[a][0] - boxes[b][0]);
  const gapPx = dir === 'x' ? 6 : 2;
  const last = order[order.length - 1];
  const kept: number[] = [order[0]];
  for (const i of order.slice(1)) {
    const clearsPrev = boxes[i][0] >= boxes[kept[kept.length - 1]][1] + gapPx;
    const clearsLast = i === last || boxes[i][1] + gapPx <= boxes[last][0];
    if (i === last) {
      // the last label wins over the one before it
      while (kept.length > 1 && boxes[i][0] < boxes[kept[kept.length - 1]][1] + gapPx) kept.pop();
      kept.push(i);
    } else if (clearsPrev && clearsLast) kept.push(i);
  }
  const keep = new Set(kept);
  labels.forEach((n, i) => {
    if (!keep.has(i)) n.textContent = '';
  });
}

/** Shortens an SVG text with an ellipsis until it fits `max` pixels; the full text goes to a tooltip. */
export function fitText(node: SVGTextElement, max: number): void {
  const full = node.textContent ?? '';
  if (typeof node.getComputedTextLength !== 'function' || node.getComputedTextLength() <= max) return;
  let s = full;
  while (s.length > 3 && node.getComputedTextLength() > max) {
    s = s.slice(0, -2);
    node.textContent = `${s.trimEnd()}…`;
  }
  const t = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  t.textContent = full;
  node.appendChild(t);
}
