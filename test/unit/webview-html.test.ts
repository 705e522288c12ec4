// The HTML report and webview page builders, and the pure helpers the charts share (no browser).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { renderReportHtml, scriptForInline } from '../../src/report/html';
import { makeNonce, renderWebviewHtml } from '../../src/report/webviewHtml';
import { applyEvent, band, fmt, layerRecords, sourceLayers, summaryRows } from '../../webview/model';
import { emptyReport, independentSummary, makeReport, viaJson } from './webview-fixture';

const assets = { script: 'window.x = "</script>"; /* <!-- */', css: 'body{color:red}' };

test('the report JSON is embedded inert and parses back to the same report', () => {
  const r = viaJson(makeReport({ steps: 5 }));
  r.model.name = '</script><script>alert(1)</script> \u2028 \u2029 <!-- &';
  const html = renderReportHtml(r, assets);
  const m = /<script type="application\/json" id="bnlens-report">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m);
  assert.ok(!/<\/script|<!--|\u2028|\u2029/i.test(m[1]));
  assert.deepEqual(JSON.parse(m[1]), r);
  assert.equal(html.match(/<\/script>/gi)?.length, 2, 'only the two real script ends');
  assert.ok(!/https?:\/\//.test(html.replace(/content="[^"]*"/g, '')), 'no URL the page could load');
});

test('the report page CSP allows exactly the inlined script and style (sha256)', () => {
  const html = renderReportHtml(viaJson(makeReport({ steps: 3 })), assets);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1].replace(/&#39;/g, "'");
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
  const h = (s: string) => createHash('sha256').update(s).digest('base64');
  assert.ok(csp.includes(`script-src 'sha256-${h(script)}'`));
  assert.ok(csp.includes(`style-src 'sha256-${h(style)}'`));
  assert.match(csp, /^default-src 'none'/);
  assert.equal(script, scriptForInline(assets.script));
  assert.ok(!script.includes('</script'));
});

test('the webview page: nonce-only scripts, no inline style, no remote origin', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  const html = renderWebviewHtml({ cspSource: 'https://x.vscode-cdn.net', nonce, scriptUri: 'https://x.vscode-cdn.net/dist/webview.js', styleUri: 'https://x.vscode-cdn.net/dist/webview.css', title: 'Charts <b>' });
  const csp = /content="([^"]*)"/.exec(html)![1].replace(/&#39;/g, "'");
  assert.equal(csp, `default-src 'none'; script-src 'nonce-${nonce}'; style-src https://x.vscode-cdn.net; font-src https://x.vscode-cdn.net; img-src https://x.vscode-cdn.net data: blob:`);
  assert.ok(!csp.includes('unsafe'));
  assert.ok(html.includes(`<script nonce="${nonce}" src="https://x.vscode-cdn.net/dist/webview.js"></script>`));
  assert.ok(html.includes('Charts &lt;b&gt;'));
  assert.throws(() => renderWebviewHtml({ cspSource: 'a', nonce: "x' 'unsafe-inline", scriptUri: '', styleUri: '', title: '' }));
});

test('summary rows computed for a partial report match an independent computation', () => {
  const r = viaJson(makeReport({ steps: 50, diverge: { variant: 'standard', step: 30 }, complete: false }));
  assert.deepEqual(r.summary, []);
  const rows = summaryRows(r);
  for (const [i, v] of r.variants.entries()) {
    const want = independentSummary(v);
    for (const k of ['finalLoss', 'finalAccuracy', 'meanBandWidth', 'meanGradChange', 'meanBeta', 'maxBeta'] as const) {
      const a = rows[i][k];
      const b = want[k];
      assert.ok(a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b))), `${v.name} ${k}: ${a} vs ${b}`);
    }
    assert.deepEqual(rows[i].diverged, v.diverged);
  }
  assert.equal(rows[0].diverged?.step, 30);
});

test('live events fill an empty report in place; out-of-order and repeated steps stay sorted', () => {
  const full = makeReport({ steps: 6 });
  let r = applyEvent(null, { type: 'started', report: emptyReport({ steps: 6 }) }).report;
  const progress = { done: 0, total: 6, etaMs: null };
  for (const t of [0, 1, 3, 2, 3]) r = applyEvent(r, { type: 'step', variant: 'batchnorm', record: full.variants[1].steps[t], progress }).report;
  assert.deepEqual(
    r!.variants[1].steps.map((s) => s.step),
    [0, 1, 2, 3],
  );
  assert.equal(applyEvent(r, { type: 'step', variant: 'linf', record: full.variants[1].steps[4], progress }).changed, false);
  applyEvent(r, { type: 'diverged', variant: 'standard', info: { step: 3, reason: 'nan' } });
  assert.deepEqual(r!.variants[0].diverged, { step: 3, reason: 'nan' });
  assert.equal(applyEvent(r, { type: 'log', level: 'info', message: 'x' }).changed, false);
});

test('layers map across variants by sourceLayer: ICS from the kernel layer, activations after the inserted norm', () => {
  const r = makeReport({ steps: 21 });
  assert.deepEqual(sourceLayers(r), ['conv2d_1', 'max_pooling2d_1', 'flatten_1', 'dense_1', 'dense_2']);
  const bn = r.variants[1];
  assert.deepEqual([...new Set(layerRecords(bn, 'dense_1', 'ics').map((x) => x.layer))], ['dense_1']);
  assert.deepEqual([...new Set(layerRecords(bn, 'dense_1', 'act').map((x) => x.layer))], ['batch_normalization_2']);
  assert.deepEqual([...new Set(layerRecords(r.variants[0], 'dense_1', 'act').map((x) => x.layer))], ['dense_1']);
});

test('band and number formatting', () => {
  assert.deepEqual(band([3, null, 1, NaN, 2]), { lo: 1, hi: 3, finite: 3, total: 5 });
  assert.equal(band([null, null]), null);
  assert.equal(fmt(0.123456789), '0.123457');
  assert.equal(fmt(1234.56789), '1234.57');
  assert.equal(fmt(1.5e-7), '1.5e-7');
  assert.equal(fmt(null), '—');
  assert.equal(fmt(Infinity), '∞');
});
