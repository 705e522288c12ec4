// Legibility check for a rendered page: the bounding box of every piece of visible text (SVG <text>, and
// each text node of HTML elements, measured with a Range so that a wrapped label is its real lines), then
// every pair whose boxes overlap, and every box cut by the edge of the viewport or of an element that clips
// its content. Runs in the page; passed as a string because tsx's helpers do not exist there.

export interface TextBox {
  text: string;
  where: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface TextProblems {
  boxes: number;
  overlaps: { a: TextBox; b: TextBox; area: number }[];
  clipped: { box: TextBox; by: string }[];
}

/** Source of a function `(tolerancePx) => TextProblems` to `page.evaluate`. */
export const TEXT_OVERLAPS_SOURCE = `(tol) => {
  const boxes = [];
  const label = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      const id = e.getAttribute && (e.getAttribute('data-chart') || e.getAttribute('class'));
      parts.push(e.tagName.toLowerCase() + (id ? '.' + String(id).split(' ')[0] : ''));
    }
    return parts.join(' < ');
  };
  const visible = (el) => {
    // Content the browser does not render (a closed <details>, content-visibility) still has boxes when asked.
    if (typeof el.checkVisibility === 'function' && !el.checkVisibility()) return false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || Number(cs.opacity) === 0) return false;
      if (e.hasAttribute && e.hasAttribute('hidden')) return false;
      if (e.getAttribute && e.getAttribute('display') === 'none') return false;
    }
    return true;
  };
  // SVG text (tick labels, axis titles, legends, markers): the element's own box.
  for (const t of document.querySelectorAll('svg text')) {
    const s = (t.textContent || '').trim();
    if (!s || !visible(t)) continue;
    if (t.closest('title')) continue;
    const r = t.getBoundingClientRect();
    if (r.width < 0.5 || r.height < 0.5) continue;
    boxes.push({ text: s.slice(0, 60), where: label(t), x: r.left, y: r.top, w: r.width, h: r.height, node: t });
  }
  // HTML text: every non-empty text node outside SVG, measured line by line.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const s = (n.textContent || '').trim();
    const el = n.parentElement;
    if (!s || !el || el.closest('svg') || el.closest('script,style,title,option,select') || !visible(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width < 0.5 || r.height < 0.5) continue;
      boxes.push({ text: s.slice(0, 60), where: label(el), x: r.left, y: r.top, w: r.width, h: r.height, node: el, html: true });
    }
  }
  // Selects show their chosen option.
  for (const sel of document.querySelectorAll('select')) {
    if (!visible(sel)) continue;
    const r = sel.getBoundingClientRect();
    if (r.width >= 0.5) boxes.push({ text: 'select:' + (sel.value || '').slice(0, 40), where: label(sel), x: r.left, y: r.top, w: r.width, h: r.height, node: sel });
  }
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.node === b.node) continue;
      if (a.node.contains(b.node) || b.node.contains(a.node)) continue;
      const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      if (w > tol && h > tol) overlaps.push({ a, b, area: Math.round(w * h) });
    }
  }
  const clipped = [];
  const vw = document.documentElement.clientWidth;
  for (const b of boxes) {
    if (b.x < -tol || b.x + b.w > vw + tol) clipped.push({ box: b, by: 'the viewport (' + vw + ' px)' });
    for (let e = b.html ? b.node : b.node.parentElement; e && e !== document.documentElement; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
      const r = e.getBoundingClientRect();
      if (b.x < r.left - tol || b.x + b.w > r.right + tol) {
        clipped.push({ box: b, by: label(e) + ' (overflow ' + cs.overflowX + ')' });
        break;
      }
    }
  }
  const strip = (b) => ({ text: b.text, where: b.where, x: Math.round(b.x), y: Math.round(b.y), w: Math.round(b.w), h: Math.round(b.h) });
  return {
    boxes: boxes.length,
    overlaps: overlaps.map((o) => ({ a: strip(o.a), b: strip(o.b), area: o.area })),
    clipped: clipped.map((c) => ({ box: strip(c.box), by: c.by })),
  };
}`;

/** One line per problem, for an assertion message. */
export function describeProblems(p: TextProblems): string {
  const lines = [
    ...p.overlaps.map((o) => `overlap ${o.area}px²: "${o.a.text}" (${o.a.where}) × "${o.b.text}" (${o.b.where}) at ${o.a.x},${o.a.y}`),
    ...p.clipped.map((c) => `clipped by ${c.by}: "${c.box.text}" (${c.box.where}) x ${c.box.x}…${c.box.x + c.box.w}`),
  ];
  return lines.slice(0, 40).join('\n') + (lines.length > 40 ? `\n… ${lines.length - 40} more` : '');
}
