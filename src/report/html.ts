// The self-contained HTML report of `bnlens analyze --html report.html`: one file, no network. The chart
// bundle (dist/webview.js + dist/webview.css, the same code as the VS Code webview) and the report JSON are
// inlined; a static summary table and the run metadata are readable without script.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../protocol';
import { SUMMARY_COLUMNS, summaryRows } from '../../webview/model';

export interface ReportAssets {
  /** The browser bundle, dist/webview.js. */
  script: string;
  /** Its stylesheet, dist/webview.css. */
  css: string;
}

/** Reads the chart bundle built by esbuild.mjs from a dist folder (the CLI passes its own directory). */
export function readReportAssets(distDir: string): ReportAssets {
  const script = readFileSync(join(distDir, 'webview.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  const css = readFileSync(join(distDir, 'webview.css'), 'utf8').replace(/\/\*# sourceMappingURL=\S+ \*\/\s*$/, '');
  return { script, css };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON that is safe inside <script type="application/json">: no `</script`, no `<!--` (every `<` is
 * escaped), and U+2028/U+2029 escaped so the text is also valid JavaScript.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline script text that cannot close its <script> element early. */
export function scriptForInline(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function cssForInline(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

export function renderReportHtml(report: Report, assets: ReportAssets): string {
  const script = scriptForInline(assets.script);
  const css = cssForInline(assets.css);
  // No network at all: only the inlined script and style run; images only from data:/blob: (PNG export).
  const csp = ["default-src 'none'", `script-src ${sha256(script)}`, `style-src ${sha256(css)}`, 'img-src data: blob:', "base-uri 'none'", "form-action 'none'"].join('; ');
  const title = `BatchNorm Lens — ${report.model?.name || report.model?.path || 'report'}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bnlens ${escapeHtml(report.run?.bnlensVersion ?? '')}">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>
<body class="bn-standalone">
<header class="bn-page-header bnlens-root">
<h1>${escapeHtml(title)}</h1>
<p>How BatchNorm changes the optimization landscape of this network: loss and gradient probed along the gradient at every step (Santurkar et al., NeurIPS 2018).</p>
${renderMeta(report)}
<h2 class="bn-section-title">Summary</h2>
${renderSummaryTable(report)}
<h2 class="bn-section-title">Charts</h2>
</header>
<main id="bnlens-root" class="bnlens-root"></main>
<script type="application/json" id="bnlens-report">${jsonForScript(report)}</script>
<script>${script}</script>
</body>
</html>
`;
}

export function renderSummaryTable(report: Report): string {
  const head = SUMMARY_COLUMNS.map((c) => `<th title="${escapeHtml(c.title)}">${escapeHtml(c.header)}</th>`).join('');
  const rows = summaryRows(report)
    .map((r) => {
      const cells = SUMMARY_COLUMNS.map((c, i) => {
        const cls = i === SUMMARY_COLUMNS.length - 1 && r.diverged ? ' class="bn-diverged-cell"' : '';
        return `<td${cls} data-label="${escapeHtml(c.header)}">${escapeHtml(c.cell(r))}</td>`;
      }).join('');
      return `<tr data-variant="${escapeHtml(r.variant)}">${cells}</tr>`;
    })
    .join('\n');
  return `<div class="bn-table-wrap"><table class="bn-summary" id="bnlens-summary"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div>`;
}

function renderMeta(report: Report): string {
  const c = report.config;
  const r = report.run;
  const done = Math.max(0, ...report.variants.map((v) => v.steps[v.steps.length - 1]?.step ?? 0));
  const eta = report.eta?.length ? `${report.eta.length} values, ${fmtNum(Math.min(...report.eta))} … ${fmtNum(Math.max(...report.eta))}` : '—';
  const status = report.complete ? 'complete' : report.stopReason ? `stopped at step ${done}: ${report.stopReason}` : `partial (step ${done})`;
  const rows: [string, string][] = [
    ['model', `${report.model?.name ?? ''} (${report.model?.format ?? '?'}) — ${report.model?.path ?? ''}`],
    [
      'dataset',
      `${report.dataset?.name ?? ''}: ${report.dataset?.trainSize ?? '?'} train / ${report.dataset?.testSize ?? '?'} test, input ${JSON.stringify(report.dataset?.inputShape ?? [])}, loss ${report.dataset?.loss ?? c?.loss}`,
    ],
    ['training', c ? `${c.steps} steps, batch ${c.batch}, lr ${c.lr}, momentum ${c.momentum}, seed ${c.seed}` : '—'],
    ['probes', c ? `every ${c.probeEvery} step(s); η ∈ [${c.etaRange[0]}, ${c.etaRange[1]}] × lr: ${eta}; ICS every ${c.icsEvery}, held-out eval every ${c.evalEvery}` : eta],
    ['variants', report.variants.map((v) => v.name).join(', ')],
    ['status', status],
    ['run', r ? `backend ${r.backend} (${r.backendReason}), tfjs ${r.tfjsVersion}, bnlens ${r.bnlensVersion}, node ${r.node}, ${r.platform}` : '—'],
    [
      'wall time',
      r?.wallMs
        ? Object.entries(r.wallMs)
            .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
            .join(', ') || '—'
        : '—',
    ],
    ['created', report.createdAt ?? '—'],
  ];
  return `<dl class="bn-meta">${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

function fmtNum(v: number): string {
  return String(Number(v.toPrecision(4)));
}
