// The charts in a real browser (Debian Chromium through playwright-core): the standalone HTML report
// written by `bnlens analyze --html`, and the VS Code webview page under its strict CSP with a stubbed
// acquireVsCodeApi. Geometry is checked against scale math done here, independently of d3.
// Run: node --import tsx --test test/e2e/html-report.test.ts   (screenshots land in test-artifacts/)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { EngineToHost, Report } from '../../src/protocol';
import { emptyReport, makeReport, viaJson } from '../unit/webview-fixture';
import { ensureBundle, launch, nextFrame, openStandalone, openWebview, pathPoints, post, screenshot } from './html-report-helpers';

const CHARTS = ['loss-landscape', 'grad-predictiveness', 'beta-smoothness', 'training', 'layer-ics', 'layer-activations'];
const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** 6 significant digits, as the tooltips promise. */
const six = (v: number) => String(Number(v.toPrecision(6)));

/** The loss-landscape y mapping, re-derived: log10 of the data range, padded by 5% of its span on each side. */
function lossLandscapeY(report: Report, visible: string[], height: number): (v: number) => number {
  const vals: number[] = [];
  for (const v of report.variants) {
    if (!visible.includes(v.name)) continue;
    for (const s of v.steps) {
      for (const x of s.lossAtEta) if (fin(x) && x > 0) vals.push(x);
      if (fin(s.loss) && s.loss > 0) vals.push(s.loss);
    }
  }
  const a = Math.log10(Math.min(...vals));
  const b = Math.log10(Math.max(...vals));
  const lo = a - 0.05 * (b - a);
  const hi = b + 0.05 * (b - a);
  return (v) => height * (1 - (Math.log10(v) - lo) / (hi - lo));
}

function stepX(report: Report, visible: string[], width: number): (s: number) => number {
  const steps = report.variants
    .filter((v) => visible.includes(v.name))
    .flatMap((v) => [...v.steps.map((s) => s.step), ...(v.diverged ? [v.diverged.step] : [])]);
  const s0 = Math.min(...steps);
  const s1 = Math.max(...steps);
  return (s) => (width * (s - s0)) / (s1 - s0);
}

async function panelBox(page: Page, chart: string) {
  return page.$eval(`[data-chart="${chart}"] .bn-panel[data-panel="0"]`, (g) => ({
    width: Number(g.getAttribute('data-width')),
    height: Number(g.getAttribute('data-height')),
  }));
}

async function seriesCount(page: Page, chart: string, variant: string): Promise<number> {
  return page.locator(`[data-chart="${chart}"] svg .series[data-variant="${variant}"]`).count();
}

let browser: Browser;
before(async () => {
  ensureBundle();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

describe('standalone HTML report', () => {
  const report = viaJson(makeReport({ steps: 120, variants: ['standard', 'batchnorm', 'noisy-batchnorm'] }));
  const names = report.variants.map((v) => v.name);
  let page: Page;
  let problems: string[];

  before(async () => {
    ({ page, problems } = await openStandalone(browser, report, 'report-light', { colorScheme: 'light' }));
  });
  after(async () => {
    await page.context().close();
  });

  test('every chart draws an SVG with data paths for every variant; summary table and metadata are there', async () => {
    for (const chart of CHARTS) {
      assert.equal(await page.locator(`[data-chart="${chart}"] svg.bn-svg`).count(), 1, chart);
      for (const v of names) assert.ok((await seriesCount(page, chart, v)) > 0, `${chart}: no path for ${v}`);
    }
    const rows = await page.$$eval('#bnlens-summary tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-variant')));
    assert.deepEqual(rows, names);
    const text = await page.textContent('.bn-meta');
    assert.match(text ?? '', /mnist-cnn/);
    assert.match(text ?? '', /lr 0\.1/);
    await screenshot(page, 'report-light');
    assert.deepEqual(problems, []);
  });

  test('the loss band spans min..max of lossAtEta at each step (pixel positions vs independent scale math)', async () => {
    const { width, height } = await panelBox(page, 'loss-landscape');
    const y = lossLandscapeY(report, names, height);
    const x = stepX(report, names, width);
    for (const v of report.variants) {
      const d = await page.getAttribute(`[data-chart="loss-landscape"] path.band[data-variant="${v.name}"]`, 'd');
      const pts = pathPoints(d ?? '');
      const n = v.steps.length;
      assert.equal(pts.length, 2 * n, `${v.name}: band has a top and a bottom point per step`);
      for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
        const s = v.steps[i];
        const max = Math.max(...(s.lossAtEta as number[]));
        const min = Math.min(...(s.lossAtEta as number[]));
        assert.ok(Math.abs(pts[i].x - x(s.step)) < 1, `${v.name} step ${s.step}: x ${pts[i].x} vs ${x(s.step)}`);
        assert.ok(Math.abs(pts[i].y - y(max)) < 1, `${v.name} step ${s.step}: band top ${pts[i].y} vs y(max) ${y(max)}`);
        const bottom = pts[2 * n - 1 - i];
        assert.ok(Math.abs(bottom.y - y(min)) < 1, `${v.name} step ${s.step}: band bottom ${bottom.y} vs y(min) ${y(min)}`);
      }
      // the training-loss line
      const line = pathPoints((await page.getAttribute(`[data-chart="loss-landscape"] path.line.loss[data-variant="${v.name}"]`, 'd')) ?? '');
      assert.equal(line.length, n);
      assert.ok(Math.abs(line[7].y - y(v.steps[7].loss)) < 1);
    }
  });

  test('the tooltip shows the exact values at the hovered step, and arrow keys move it', async () => {
    const { width } = await panelBox(page, 'loss-landscape');
    const x = stepX(report, names, width);
    const overlay = await page.locator('[data-chart="loss-landscape"] .bn-overlay').boundingBox();
    assert.ok(overlay);
    const step = 57;
    await page.mouse.move(overlay.x + x(step), overlay.y + 20);
    const tip = page.locator('[data-chart="loss-landscape"] .bn-tooltip');
    await tip.waitFor({ state: 'visible' });
    const text = (await tip.textContent()) ?? '';
    assert.equal(await tip.locator('.bn-tooltip-head').textContent(), `step ${step}`);
    for (const v of report.variants) {
      const s = v.steps.find((r) => r.step === step)!;
      assert.ok(text.includes(`${v.name}loss ${six(s.loss)}`), `${v.name} loss ${six(s.loss)} in «${text}»`);
      assert.ok(text.includes(`band ${six(Math.min(...(s.lossAtEta as number[])))} – ${six(Math.max(...(s.lossAtEta as number[])))}`), `${v.name} band in «${text}»`);
    }
    await screenshot(page, 'report-tooltip');
    await page.mouse.move(0, 0);
    // keyboard: focus the plot, the cursor starts at the last step, ← moves one step, Shift+← ten
    await page.focus('[data-chart="beta-smoothness"] .bn-plot-area');
    const btip = page.locator('[data-chart="beta-smoothness"] .bn-tooltip');
    await btip.waitFor({ state: 'visible' });
    const head = btip.locator('.bn-tooltip-head');
    assert.equal(await head.textContent(), 'step 119');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Shift+ArrowLeft');
    assert.equal(await head.textContent(), 'step 108');
    const bt = (await btip.textContent()) ?? '';
    const b108 = report.variants[1].steps[108].beta;
    assert.ok(bt.includes(`β ${six(b108 as number)}`), bt);
    await page.keyboard.press('Escape');
    assert.equal(await btip.isVisible(), false);
  });

  test('the legend toggles a variant (click and keyboard) and the scales refit', async () => {
    await page.click('[data-chart="loss-landscape"] .bn-legend-item[data-variant="standard"]');
    for (const chart of CHARTS) assert.equal(await seriesCount(page, chart, 'standard'), 0, chart);
    assert.equal(await page.getAttribute('[data-chart="training"] .bn-legend-item[data-variant="standard"]', 'aria-pressed'), 'false');
    // the y domain is fitted to the visible variants only
    const { width, height } = await panelBox(page, 'loss-landscape');
    const visible = ['batchnorm', 'noisy-batchnorm'];
    const y = lossLandscapeY(report, visible, height);
    const bn = report.variants[1];
    const pts = pathPoints((await page.getAttribute('[data-chart="loss-landscape"] path.band[data-variant="batchnorm"]', 'd')) ?? '');
    assert.ok(Math.abs(pts[30].y - y(Math.max(...(bn.steps[30].lossAtEta as number[])))) < 1);
    assert.ok(Math.abs(pts[30].x - stepX(report, visible, width)(30)) < 1);
    await screenshot(page, 'report-standard-hidden');
    // keyboard: focus survives the redraw; Enter shows the variant again, → moves along the legend
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-key'));
    assert.equal(focused, 'legend:standard');
    await page.keyboard.press('Enter');
    for (const chart of CHARTS) assert.ok((await seriesCount(page, chart, 'standard')) > 0, chart);
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), 'legend:batchnorm');
    await page.keyboard.press(' ');
    assert.equal(await seriesCount(page, 'beta-smoothness', 'batchnorm'), 0);
    await screenshot(page, 'report-legend-focus');
    await page.keyboard.press(' ');
    assert.ok((await seriesCount(page, 'beta-smoothness', 'batchnorm')) > 0);
    assert.deepEqual(problems, []);
  });

  test('the layer picker switches both per-layer charts (layers map across variants by sourceLayer)', async () => {
    const sel = '[data-chart="layer-activations"] select';
    const options = await page.$$eval(`${sel} option`, (os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(options, ['conv2d_1', 'max_pooling2d_1', 'flatten_1', 'dense_1', 'dense_2']);
    await page.selectOption(sel, 'dense_1');
    await nextFrame(page);
    assert.equal(await page.inputValue('[data-chart="layer-ics"] select'), 'dense_1');
    assert.match((await page.textContent('[data-chart="layer-ics"] .bn-title')) ?? '', /dense_1/);
    // batchnorm: ICS from the dense layer itself, activations after the inserted batch_normalization_2
    const bn = report.variants.find((v) => v.name === 'batchnorm')!;
    const act = bn.layerStats.filter((r) => r.layer === 'batch_normalization_2');
    const ics = bn.layerStats.filter((r) => r.layer === 'dense_1');
    const h = (await page.$eval('[data-chart="layer-activations"] .bn-panel', (g) => g.getAttribute('data-y-domain')))!.split(',').map(Number);
    const height = (await panelBox(page, 'layer-activations')).height;
    const pts = pathPoints((await page.getAttribute('[data-chart="layer-activations"] path.line[data-variant="batchnorm"]', 'd')) ?? '');
    assert.equal(pts.length, act.length);
    const yAct = (v: number) => height * (1 - (v - h[0]) / (h[1] - h[0]));
    assert.ok(Math.abs(pts[3].y - yAct(act[3].actMean as number)) < 1);
    const l2 = pathPoints((await page.getAttribute('[data-chart="layer-ics"] path.line.ics-l2[data-variant="batchnorm"]', 'd')) ?? '');
    assert.equal(l2.length, ics.length);
    await page.selectOption(sel, 'conv2d_1');
    await nextFrame(page);
  });

  test('a theme switch redraws with the theme colours (body class, then VS Code CSS variables)', async () => {
    const stroke = () => page.getAttribute('[data-chart="beta-smoothness"] path.line[data-variant="batchnorm"]', 'stroke');
    const light = await stroke();
    await page.evaluate(() => document.body.classList.add('vscode-dark'));
    await nextFrame(page);
    const dark = await stroke();
    assert.notEqual(dark, light);
    const axisDark = await page.$eval('[data-chart="beta-smoothness"] .bn-axis-y .tick text', (t) => t.getAttribute('fill'));
    await screenshot(page, 'report-dark');
    await page.evaluate(() => document.documentElement.style.setProperty('--vscode-charts-blue', '#123456'));
    await nextFrame(page);
    assert.equal(await stroke(), '#123456');
    await page.evaluate(() => {
      document.documentElement.style.removeProperty('--vscode-charts-blue');
      document.body.classList.replace('vscode-dark', 'vscode-high-contrast');
    });
    await nextFrame(page);
    const axisHc = await page.$eval('[data-chart="beta-smoothness"] .bn-axis-y .tick text', (t) => t.getAttribute('fill'));
    assert.notEqual(axisHc, axisDark);
    await screenshot(page, 'report-high-contrast');
    await page.evaluate(() => document.body.classList.remove('vscode-high-contrast'));
    await nextFrame(page);
    assert.equal(await stroke(), light);
    assert.deepEqual(problems, []);
  });

  test('export: SVG text with inline styles, a PNG data URL, a download link in the standalone page', async () => {
    const svg = await page.evaluate(() => (window as unknown as { bnlens: { exportChart(c: string, f: string): Promise<string> } }).bnlens.exportChart('loss-landscape', 'svg'));
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
    // parsed and drawn in a blank page: the exported file must stand on its own
    const blank = await page.context().newPage();
    const parsed = await blank.evaluate(async (text) => {
      const img = new Image();
      img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(text);
      await img.decode();
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      const root = doc.documentElement;
      const band = doc.querySelector('path.band[data-variant="batchnorm"]') as SVGElement | null;
      return {
        error: doc.querySelector('parsererror')?.textContent ?? null,
        ns: root.namespaceURI,
        width: root.getAttribute('width'),
        bands: doc.querySelectorAll('path.band').length,
        interactive: doc.querySelectorAll('.bn-no-export, [tabindex]').length,
        bandStyle: band?.getAttribute('style') ?? '',
        title: doc.querySelector('.bn-title')?.textContent,
        imgWidth: img.naturalWidth,
      };
    }, svg);
    await blank.close();
    assert.equal(parsed.imgWidth, Number(await page.getAttribute('[data-chart="loss-landscape"] svg', 'width')));
    assert.equal(parsed.error, null);
    assert.equal(parsed.ns, 'http://www.w3.org/2000/svg');
    assert.equal(parsed.bands, 3);
    assert.equal(parsed.interactive, 0);
    assert.match(parsed.bandStyle, /fill: rgb\(/);
    assert.match(parsed.bandStyle, /fill-opacity: 0\.\d+/);
    assert.equal(parsed.title, 'Loss landscape along the gradient');
    const png = await page.evaluate(() => (window as unknown as { bnlens: { exportChart(c: string, f: string): Promise<string> } }).bnlens.exportChart('training', 'png'));
    assert.match(png, /^data:image\/png;base64,/);
    const bytes = Buffer.from(png.slice('data:image/png;base64,'.length), 'base64');
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svgWidth = Number(await page.getAttribute('[data-chart="training"] svg', 'width'));
    assert.equal(bytes.readUInt32BE(16), 2 * svgWidth, 'PNG at 2× the chart size');
    assert.ok(bytes.length > 10_000, 'the PNG has content');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-chart="grad-predictiveness"] button[data-export="svg"]')]);
    assert.equal(download.suggestedFilename(), 'bnlens-grad-predictiveness.svg');
    const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-chart="layer-ics"] button[data-export="png"]')]);
    assert.equal(pngDownload.suggestedFilename(), 'bnlens-layer-ics.png');
    assert.deepEqual(problems, []);
  });
});

describe('standalone report edge cases', () => {
  test('a report with zero steps renders every chart empty, without errors', async () => {
    const { page, problems } = await openStandalone(browser, viaJson(emptyReport()), 'report-empty');
    for (const chart of CHARTS) {
      assert.equal(await page.locator(`[data-chart="${chart}"] svg`).count(), 1);
      assert.equal(await page.locator(`[data-chart="${chart}"] .bn-empty`).count(), 1, chart);
      assert.equal(await page.locator(`[data-chart="${chart}"] path.series`).count(), 0);
    }
    await page.focus('[data-chart="training"] .bn-legend-item');
    await page.keyboard.press('Enter');
    await screenshot(page, 'report-empty');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('a diverged variant (non-finite numbers, null in JSON) renders with the divergence step marked', async () => {
    const report = viaJson(makeReport({ diverge: { variant: 'standard', step: 70 }, complete: false }));
    const std = report.variants[0];
    assert.equal(std.steps[std.steps.length - 1].loss, null, 'the fixture really has a non-finite loss');
    const { page, problems } = await openStandalone(browser, report, 'report-diverged', { colorScheme: 'dark', width: 820 });
    const { width } = await panelBox(page, 'loss-landscape');
    const x = stepX(report, ['standard', 'batchnorm'], width);
    for (const chart of CHARTS) {
      const line = page.locator(`[data-chart="${chart}"] line.bn-diverged[data-variant="standard"]`).first();
      assert.equal(await line.count(), 1, chart);
      // the per-step charts share the x domain of the steps (the per-layer ones span the measured steps)
      if (!chart.startsWith('layer-')) assert.ok(Math.abs(Number(await line.getAttribute('x1')) - x(70)) < 1, chart);
    }
    assert.match((await page.textContent('[data-chart="loss-landscape"] .bn-diverged-label')) ?? '', /standard diverged @ 70/);
    assert.match((await page.textContent('#bnlens-summary tr[data-variant="standard"]')) ?? '', /step 70: loss is not finite/);
    // the tooltip at the diverged step says which η were non-finite
    await page.focus('[data-chart="loss-landscape"] .bn-plot-area');
    await page.keyboard.press('Home');
    for (let i = 0; i < 70; i++) await page.keyboard.press('ArrowRight');
    const tip = (await page.textContent('[data-chart="loss-landscape"] .bn-tooltip')) ?? '';
    assert.match(tip, /^step 70standard/);
    assert.match(tip, /standardloss — · band .* \(3 η non-finite\)/);
    await screenshot(page, 'report-diverged');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('a long run is drawn at pixel resolution and keeps the band envelope', async () => {
    const report = viaJson(makeReport({ steps: 4000, icsEvery: 200, evalEvery: 500 }));
    const { page, problems } = await openStandalone(browser, report, 'report-long', { width: 1000 });
    const { width, height } = await panelBox(page, 'loss-landscape');
    const names = report.variants.map((v) => v.name);
    const y = lossLandscapeY(report, names, height);
    for (const v of report.variants) {
      const pts = pathPoints((await page.getAttribute(`[data-chart="loss-landscape"] path.band[data-variant="${v.name}"]`, 'd')) ?? '');
      assert.ok(pts.length <= 2 * (width + 2), `${v.name}: ${pts.length} points for ${width}px`);
      const top = Math.min(...pts.map((p) => p.y));
      const bottom = Math.max(...pts.map((p) => p.y));
      const max = Math.max(...v.steps.flatMap((s) => s.lossAtEta as number[]));
      const min = Math.min(...v.steps.flatMap((s) => s.lossAtEta as number[]));
      assert.ok(Math.abs(top - y(max)) < 1, `${v.name}: top ${top} vs ${y(max)}`);
      assert.ok(Math.abs(bottom - y(min)) < 1, `${v.name}: bottom ${bottom} vs ${y(min)}`);
    }
    // the tooltip still has every step
    await page.focus('[data-chart="loss-landscape"] .bn-plot-area');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.textContent('[data-chart="loss-landscape"] .bn-tooltip-head'), 'step 3998');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('an mse run (no accuracy) draws the training chart with one panel', async () => {
    const { page, problems } = await openStandalone(browser, viaJson(makeReport({ mse: true, steps: 40 })), 'report-mse', { width: 1000 });
    assert.equal(await page.locator('[data-chart="training"] .bn-panel').count(), 1);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('hostile strings in the report cannot break out of the embedded JSON', async () => {
    const report = viaJson(makeReport({ steps: 10 }));
    report.model.name = '</script><script>window.__pwned=1</script>\u2028\u2029<!--';
    report.variants[0].description = '</SCRIPT>';
    const { page, problems } = await openStandalone(browser, report, 'report-hostile');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.ok((await page.title()).includes('</script>'));
    assert.ok((await seriesCount(page, 'loss-landscape', 'standard')) > 0);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

describe('VS Code webview (strict CSP, stubbed acquireVsCodeApi)', () => {
  test('ready → live report filled step by step → toggles and layer kept in state → export to the host', async () => {
    const { page, problems } = await openWebview(browser, { width: 1200 });
    const full = viaJson(makeReport({ steps: 30, icsEvery: 5, evalEvery: 10 }));
    const start = viaJson(emptyReport({ steps: 30, icsEvery: 5, evalEvery: 10 }));
    await post(page, { type: 'report', report: start, live: true });
    assert.equal(await page.locator('[data-chart="loss-landscape"] .bn-empty').count(), 1);
    // a burst of events: steps, layer stats, evals arrive one by one (redraw throttled to one per frame)
    const events: EngineToHost[] = [];
    for (let t = 0; t < 30; t++) {
      for (const v of full.variants) {
        events.push({ type: 'step', variant: v.name, record: v.steps[t], progress: { done: t + 1, total: 30, etaMs: 1000 * (30 - t) } });
        const ls = v.layerStats.filter((r) => r.step === t);
        if (ls.length) events.push({ type: 'layerStats', variant: v.name, records: ls });
        const ev = v.evals.find((e) => e.step === t);
        if (ev) events.push({ type: 'eval', variant: v.name, record: ev });
      }
      if (t === 14) {
        await page.evaluate((evs) => evs.forEach((event) => window.postMessage({ type: 'event', event }, '*')), events.splice(0));
        // live redraws may be spaced out for big reports: wait for the frame that has them all
        await page.waitForFunction(() => (document.querySelector('[data-chart="loss-landscape"] path.line[data-variant="batchnorm"]')?.getAttribute('d')?.match(/L/g)?.length ?? 0) >= 14);
        const pts = pathPoints((await page.getAttribute('[data-chart="loss-landscape"] path.line[data-variant="batchnorm"]', 'd')) ?? '');
        assert.equal(pts.length, 15, 'half-way: 15 steps drawn');
        assert.match((await page.textContent('.bn-status')) ?? '', /running: step 14 of 30 \(50%\)/);
        await screenshot(page, 'webview-live');
      }
    }
    await page.evaluate((evs) => evs.forEach((event) => window.postMessage({ type: 'event', event }, '*')), events);
    await post(page, { type: 'event', event: { type: 'diverged', variant: 'standard', info: { step: 29, reason: 'loss exploded' } } });
    await page.waitForSelector('[data-chart="beta-smoothness"] line.bn-diverged[data-variant="standard"]', { state: 'attached' });
    for (const chart of CHARTS) {
      for (const v of ['standard', 'batchnorm']) assert.ok((await seriesCount(page, chart, v)) > 0, `${chart} ${v}`);
    }
    const pts = pathPoints((await page.getAttribute('[data-chart="loss-landscape"] path.band[data-variant="standard"]', 'd')) ?? '');
    assert.equal(pts.length, 60);
    assert.equal(await page.locator('[data-chart="beta-smoothness"] line.bn-diverged[data-variant="standard"]').count(), 1);
    await post(page, { type: 'event', event: { type: 'finished', report: full } });
    assert.match((await page.textContent('.bn-status')) ?? '', /30 steps, complete/);
    assert.equal(await page.locator('.bn-summary-live table tbody tr').count(), 2);

    // UI state goes to vscode.setState
    await page.click('[data-chart="training"] .bn-legend-item[data-variant="standard"]');
    await page.selectOption('[data-chart="layer-ics"] select', 'dense_1');
    await nextFrame(page);
    const state = await page.evaluate(() => (window as unknown as { __state: { hidden: string[]; layer: string; report: Report } }).__state);
    assert.deepEqual(state.hidden, ['standard']);
    assert.equal(state.layer, 'dense_1');
    assert.equal(state.report.variants[1].steps.length, 30);

    // export goes to the host
    await page.click('[data-chart="loss-landscape"] button[data-export="svg"]');
    await page.click('[data-chart="layer-ics"] button[data-export="png"]');
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.filter((m) => m.type === 'export').length === 2);
    const exports = await page.evaluate(() =>
      (window as unknown as { __posted: { type: string; chart: string; format: string; data: string }[] }).__posted
        .filter((m) => m.type === 'export')
        .map((m) => ({ chart: m.chart, format: m.format, head: m.data.slice(0, 30) })),
    );
    assert.deepEqual(exports, [
      { chart: 'loss-landscape', format: 'svg', head: '<?xml version="1.0" encoding="' },
      { chart: 'layer-ics', format: 'png', head: 'data:image/png;base64,iVBORw0K' },
    ]);
    await post(page, { type: 'exported', path: '/home/u/loss.svg' });
    assert.match((await page.textContent('.bn-status')) ?? '', /Saved \/home\/u\/loss\.svg/);
    await screenshot(page, 'webview-panel-dark');
    assert.deepEqual(problems, [], 'no page error, console error or CSP violation');
    await page.context().close();

    // hide/show or reload: the state comes back from getState before the host says anything
    const again = await openWebview(browser, { width: 360, height: 900, state, kind: 'vscode-light' });
    await nextFrame(again.page);
    assert.equal(await seriesCount(again.page, 'beta-smoothness', 'standard'), 0);
    assert.ok((await seriesCount(again.page, 'beta-smoothness', 'batchnorm')) > 0);
    assert.equal(await again.page.inputValue('[data-chart="layer-activations"] select'), 'dense_1');
    assert.equal(await again.page.locator('.bnlens-root.bn-compact').count(), 1, 'narrow side bar: compact layout');
    await screenshot(again.page, 'webview-sidebar-light');
    assert.deepEqual(again.problems, []);
    await again.page.context().close();
  });

  test('no report: an empty state with an Open report button that asks the host', async () => {
    const { page, problems } = await openWebview(browser, { width: 340 });
    await post(page, { type: 'report', report: null, live: false });
    await page.click('.bn-status button');
    const posted = await page.evaluate(() => (window as unknown as { __posted: { type: string }[] }).__posted.map((m) => m.type));
    assert.deepEqual(posted, ['ready', 'openReport']);
    await screenshot(page, 'webview-sidebar-empty');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
