// The HTML of the VS Code webviews (the `bnlens.charts` side bar view and the report panel): the chart
// bundle and its stylesheet from the extension (asWebviewUri), a strict Content-Security-Policy with a
// fresh nonce, no remote resource.
import { randomBytes } from 'node:crypto';
import { escapeHtml } from './html';

export interface WebviewHtmlOptions {
  /** webview.cspSource */
  cspSource: string;
  /** A fresh random nonce per render (see makeNonce). */
  nonce: string;
  /** asWebviewUri(dist/webview.js) */
  scriptUri: string;
  /** asWebviewUri(dist/webview.css) */
  styleUri: string;
  title: string;
}

export function makeNonce(): string {
  return randomBytes(18)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '');
}

/**
 * The charts write styles only through the CSSOM (element.style), which CSP does not restrict, so the
 * policy needs no 'unsafe-inline'. img-src allows data:/blob: for the PNG export (SVG drawn on a canvas).
 */
export function webviewCsp(cspSource: string, nonce: string): string {
  return ["default-src 'none'", `script-src 'nonce-${nonce}'`, `style-src ${cspSource}`, `font-src ${cspSource}`, `img-src ${cspSource} data: blob:`].join('; ');
}

export function renderWebviewHtml(o: WebviewHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(o.nonce)) throw new Error('renderWebviewHtml: the nonce must be base64 or hex');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(webviewCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<main id="bnlens-root" class="bnlens-root" aria-label="${escapeHtml(o.title)}"></main>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
