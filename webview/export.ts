// Export a chart: the SVG with every computed style inlined (so it looks the same outside the webview),
// and a PNG made by drawing that SVG onto a canvas. Only CSSOM writes (style.setProperty), never a
// `style` attribute string, so this works under the webview's strict Content-Security-Policy.

import type { WebviewToHost } from '../src/protocol';

const PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'stroke-linejoin',
  'stroke-linecap',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'text-decoration',
  'visibility',
  'display',
];

export function serializeSvg(svg: SVGSVGElement, background: string): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = [svg as Element, ...Array.from(svg.querySelectorAll('*'))];
  const dst = [clone as Element, ...Array.from(clone.querySelectorAll('*'))];
  for (let i = 0; i < src.length; i++) {
    const cs = getComputedStyle(src[i]);
    const style = (dst[i] as SVGElement).style;
    for (const p of PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) style.setProperty(p, v);
    }
  }
  for (const el of Array.from(clone.querySelectorAll('.bn-no-export, .bn-focus-ring'))) el.remove();
  // On screen the card's header carries the title; the image gets it back in a row of its own.
  const title = clone.querySelector<SVGTextElement>('.bn-title');
  const extra = titleSpace(svg);
  if (title && extra > 0) {
    title.style.setProperty('display', 'inline');
    title.removeAttribute('display');
    const body = document.createElementNS('http://www.w3.org/2000/svg', 'g');
    body.setAttribute('transform', `translate(0,${extra})`);
    for (const child of Array.from(clone.childNodes)) if (child !== title && child.nodeName !== 'title') body.appendChild(child);
    clone.appendChild(body);
    const w = svg.width.baseVal.value;
    const h = svg.height.baseVal.value + extra;
    clone.setAttribute('height', String(h));
    clone.setAttribute('viewBox', `0 0 ${w} ${h}`);
  }
  for (const el of Array.from(clone.querySelectorAll('[tabindex]'))) el.removeAttribute('tabindex');
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('version', '1.1');
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', background);
  clone.insertBefore(bg, clone.firstChild);
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(clone);
}

/** Height of the title row an exported image adds above the chart (0 for a chart without a title). */
export function titleSpace(svg: SVGSVGElement): number {
  const title = svg.querySelector<SVGTextElement>('.bn-title');
  if (!title?.textContent) return 0;
  return Math.ceil(Number(title.getAttribute('font-size')) || 13) + 10;
}

/** PNG data URL of an SVG document, at `scale` device pixels per CSS pixel. */
export async function svgToPng(svgText: string, width: number, height: number, scale = 2): Promise<string> {
  const img = new Image();
  img.width = width;
  img.height = height;
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svgText);
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('export: no 2D canvas context');
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/png');
}

/** Standalone page: save through a download link. */
export function download(filename: string, data: string, mime: string): void {
  const url = data.startsWith('data:') ? data : URL.createObjectURL(new Blob([data], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  if (url.startsWith('blob:')) setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Exports the chart drawn in `host`: inside VS Code the host shows a save dialog; in the standalone report the
 * browser downloads the file. Returns the data (svg text or PNG data URL).
 */
export async function exportChart(host: HTMLElement | undefined, id: string, format: 'svg' | 'png', background: string, vscode: { postMessage(msg: WebviewToHost): void } | null): Promise<string> {
  const svg = host?.querySelector('svg');
  if (!svg) throw new Error(`no chart '${id}'`);
  const text = serializeSvg(svg, background);
  const data = format === 'svg' ? text : await svgToPng(text, svg.width.baseVal.value, svg.height.baseVal.value + titleSpace(svg));
  if (vscode) vscode.postMessage({ type: 'export', chart: id, format, data });
  else download(`bnlens-${id}.${format}`, data, format === 'svg' ? 'image/svg+xml' : 'image/png');
  return data;
}
