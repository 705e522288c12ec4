// The charts in a real browser (Debian Chromium through playwright-core): the standalone HTML report
// written by `bnlens analyze --html`, and the VS Code webview page under its strict CSP with a stubbed
// acquireVsCodeApi. Geometry is checked against scale math done here, independently of d3.
// Run: node --import tsx --test test/e2e/html-report.test.ts   (screenshots land in test-artifacts/)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { EngineToHost, Report } from '../../src/protocol';
import { emptyReport, makeReport, viaJson } from '../unit/webview-fixture';
import { join } from 'node:path';
import { ARTIFACTS, ensureBundle, launch, nextFrame, openStandalone, openWebview, pathPoints, post, screenshot } from './html-report-helpers';

/** Charts whose x axis is the training step (they mark divergence steps). */
const STEP_CHARTS = ['loss-landscape', 'grad-predictiveness', 'beta-smoothness', 'training', 'layer-ics', 'layer-activations'];
const CHARTS = [...STEP_CHARTS, 'layer-histogram', 'eta-profile'];
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
  const steps = report.variants.filter((v) => visible.includes(v.name)).flatMap((v) => [...v.steps.map((s) => s.step), ...(v.diverged ? [v.diverged.step] : [])]);
  const s0 = Math.min(...steps);
  const s1 = Math.max(...steps);
  return (s) => (width * (s - s0)) / (s1 - s0);
}

/** The source layer's activation records of a variant, chosen here from the fixture's layer list: the last variant layer that maps to it. */
function actRecords(v: Report['variants'][number], layer: string) {
  const name = [...v.layers].reverse().find((l) => l.sourceLayer === layer)!.name;
  return v.layerStats.filter((r) => r.layer === name).sort((a, b) => a.step - b.step);
}

/** count / (total · bin width), or null for a histogram that is no density (non-finite range). */
function densities(h: { min: number | null; max: number | null; counts: number[] }): number[] | null {
  if (!fin(h.min) || !fin(h.max) || h.max <= h.min) return null;
  const total = h.counts.reduce((a, b) => a + b, 0);
  const w = (h.max - h.min) / h.counts.length;
  return total > 0 ? h.counts.map((c) => c / (total * w)) : null;
}

/** Area enclosed by a polygon (shoelace), in px². */
function polygonArea(pts: { x: number; y: number }[]): number {
  let a = 0;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i];
    const q = pts[(i + 1) % pts.length];
    a += p.x * q.y - q.x * p.y;
  }
  return Math.abs(a) / 2;
}

/** A panel's y mapping for scale 'auto', re-derived: log when all values are positive and span > 30×, 5% padding. */
function autoY(vals: number[], height: number): (v: number) => number {
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const log = lo > 0 && hi / lo > 30;
  const f = log ? Math.log10 : (v: number) => v;
  const a = f(lo);
  const b = f(hi);
  const p = 0.05 * (b - a);
  return (v) => height * (1 - (f(v) - (a - p)) / (b + p - (a - p)));
}

/** A screenshot of one chart's card (test-artifacts/<name>.png), to look at a chart at its real size. */
async function cardShot(page: Page, chart: string, name: string): Promise<void> {
  await page.locator(`section.bn-card[data-chart="${chart}"]`).screenshot({ path: join(ARTIFACTS, `${name}.png`) });
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

  test('activation histograms: a ridge per variant at 5 evenly spaced recorded steps, each a density of area 1', async () => {
    const layer = 'dense_1';
    await page.selectOption('[data-chart="layer-histogram"] select', layer);
    await nextFrame(page);
    // shared picker: the ICS and activation charts follow
    assert.equal(await page.inputValue('[data-chart="layer-activations"] select'), layer);
    assert.match((await page.textContent('[data-chart="layer-histogram"] .bn-title')) ?? '', /dense_1/);
    const recorded = [
      ...new Set(
        report.variants.flatMap((v) =>
          actRecords(v, layer)
            .filter((r) => densities(r.hist))
            .map((r) => r.step),
        ),
      ),
    ].sort((a, b) => a - b);
    const rows = [0, 1, 2, 3, 4].map((i) => recorded[Math.round((i * (recorded.length - 1)) / 4)]);
    assert.deepEqual(rows, [0, 30, 60, 80, 110]);
    // the x domain: the ranges of the drawn histograms, padded 5% each side
    const ends = report.variants.flatMap((v) =>
      actRecords(v, layer)
        .filter((r) => rows.includes(r.step))
        .flatMap((r) => [r.hist.min as number, r.hist.max as number]),
    );
    const x0 = Math.min(...ends) - 0.05 * (Math.max(...ends) - Math.min(...ends));
    const x1 = Math.max(...ends) + 0.05 * (Math.max(...ends) - Math.min(...ends));
    const panel = await page.$eval('[data-chart="layer-histogram"] .bn-panel', (g) => ({
      x: g.getAttribute('data-x-domain')!.split(',').map(Number),
      width: Number(g.getAttribute('data-width')),
    }));
    assert.ok(Math.abs(panel.x[0] - x0) < 1e-9 && Math.abs(panel.x[1] - x1) < 1e-9, `x domain ${panel.x} vs ${[x0, x1]}`);
    const pxPerX = panel.width / (x1 - x0);
    // every ridge, with its record's densities computed here
    const ridges: { variant: string; step: number; pts: { x: number; y: number }[]; dens: number[]; rec: Report['variants'][number]['layerStats'][number] }[] = [];
    for (const v of report.variants) {
      const paths = await page.$$eval(`[data-chart="layer-histogram"] path.ridge[data-variant="${v.name}"]`, (ps) => ps.map((p) => ({ step: Number(p.getAttribute('data-step')), d: p.getAttribute('d') ?? '' })));
      assert.deepEqual(
        paths.map((p) => p.step),
        rows,
        `${v.name}: one ridge per row`,
      );
      for (const p of paths) {
        const rec = actRecords(v, layer).find((r) => r.step === p.step)!;
        ridges.push({ variant: v.name, step: p.step, pts: pathPoints(p.d), dens: densities(rec.hist)!, rec });
      }
    }
    // pixels per unit density: the tallest drawn peak over the largest density computed here
    const peakPx = (r: (typeof ridges)[number]) => r.pts[0].y - Math.min(...r.pts.map((q) => q.y));
    const maxDensity = Math.max(...ridges.map((r) => Math.max(...r.dens)));
    const pxPerDensity = Math.max(...ridges.map(peakPx)) / maxDensity;
    for (const r of ridges) {
      assert.equal(r.pts.length, 2 * r.dens.length + 2, `${r.variant}@${r.step}: closed step outline`);
      assert.ok(Math.abs(r.pts[0].y - r.pts[r.pts.length - 1].y) < 1e-6, 'starts and ends on its baseline');
      assert.ok(Math.abs(r.pts[0].x - (r.rec.hist.min! - x0) * pxPerX) < 0.5, `${r.variant}@${r.step}: starts at the histogram's min`);
      assert.ok(Math.abs(r.pts[r.pts.length - 1].x - (r.rec.hist.max! - x0) * pxPerX) < 0.5, `${r.variant}@${r.step}: ends at its max`);
      const integral = polygonArea(r.pts) / (pxPerX * pxPerDensity);
      assert.ok(Math.abs(integral - 1) < 0.01, `${r.variant}@${r.step}: density integrates to ${integral}`);
      assert.ok(Math.abs(peakPx(r) / pxPerDensity - Math.max(...r.dens)) < 0.01 * maxDensity, `${r.variant}@${r.step}: peak height`);
    }
    // the chosen step (60): the same density on the same scale for every variant, though the ranges differ
    const at60 = ridges.filter((r) => r.step === 60);
    assert.equal(at60.length, 3);
    assert.ok(new Set(at60.map((r) => (r.rec.hist.max! - r.rec.hist.min!).toFixed(6))).size > 1, 'the variants really have different ranges');
    // tooltip: keyboard to the 60 row, exact density / bin / count of the bin under the cursor
    await page.focus('[data-chart="layer-histogram"] .bn-plot-area');
    const tip = page.locator('[data-chart="layer-histogram"] .bn-tooltip');
    await tip.waitFor({ state: 'visible' });
    assert.match((await tip.locator('.bn-tooltip-head').textContent()) ?? '', /step 110$/);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Home');
    const head = (await tip.locator('.bn-tooltip-head').textContent()) ?? '';
    assert.match(head, /^activation .* · step 60$/);
    const xv = Number(head.replace(/^activation (\S+) .*$/, '$1').replace('−', '-'));
    const text = (await tip.textContent()) ?? '';
    for (const r of at60) {
      const e = (r.rec.hist.max! - r.rec.hist.min!) / 20;
      const j = Math.floor((xv - r.rec.hist.min!) / e);
      if (j < 0 || j > 19) assert.ok(text.includes(`${r.variant}outside`), `${r.variant} outside in «${text}»`);
      else assert.ok(text.includes(`${r.variant}density ${six(r.dens[j])}`) && text.includes(`${r.rec.hist.counts[j]} of ${r.rec.hist.counts.reduce((a, b) => a + b, 0)}`), `${r.variant} bin ${j} in «${text}»`);
    }
    for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
    const mid = (await tip.textContent()) ?? '';
    assert.match(mid, /batchnormdensity [\d.e-]+ · bin \[/);
    await screenshot(page, 'report-histogram-tooltip');
    await cardShot(page, 'layer-histogram', 'card-histogram-1400');
    await page.keyboard.press('Escape');
    await page.selectOption('[data-chart="layer-histogram"] select', 'conv2d_1');
    await nextFrame(page);
    assert.deepEqual(problems, []);
  });

  test('η profile: ℓ(η) and d(η) at the step picked with the slider, points at the independent pixel positions', async () => {
    const title = () => page.textContent('[data-chart="eta-profile"] .bn-title');
    assert.match((await title()) ?? '', /— step 119$/, 'default: the last probed step');
    const slider = page.locator('[data-chart="eta-profile"] input[type="range"]');
    await slider.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await nextFrame(page);
    const step = 116;
    assert.match((await title()) ?? '', new RegExp(`— step ${step}$`));
    assert.equal(await page.textContent('[data-chart="eta-profile"] output'), String(step));
    assert.equal(await slider.getAttribute('aria-valuetext'), `step ${step}`);
    const box = await panelBox(page, 'eta-profile');
    const e0 = Math.min(...report.eta);
    const e1 = Math.max(...report.eta);
    const x = (e: number) => (box.width * (e - e0)) / (e1 - e0);
    const recs = report.variants.map((v) => v.steps.find((s) => s.step === step)!);
    const yLoss = autoY(
      recs.flatMap((r) => r.lossAtEta as number[]),
      box.height,
    );
    const h1 = await page.$eval('[data-chart="eta-profile"] .bn-panel[data-panel="1"]', (g) => Number(g.getAttribute('data-height')));
    const yGrad = autoY(
      recs.flatMap((r) => r.gradChange as number[]),
      h1,
    );
    for (const [vi, v] of report.variants.entries()) {
      const loss = pathPoints((await page.getAttribute(`[data-chart="eta-profile"] path.line.eta-loss[data-variant="${v.name}"]`, 'd')) ?? '');
      assert.equal(loss.length, report.eta.length);
      report.eta.forEach((e, k) => {
        assert.ok(Math.abs(loss[k].x - x(e)) < 0.5, `${v.name} η ${e}: x ${loss[k].x} vs ${x(e)}`);
        assert.ok(Math.abs(loss[k].y - yLoss(recs[vi].lossAtEta[k] as number)) < 0.5, `${v.name} η ${e}: ℓ at ${loss[k].y} vs ${yLoss(recs[vi].lossAtEta[k] as number)}`);
      });
      const grad = pathPoints((await page.getAttribute(`[data-chart="eta-profile"] path.line.eta-grad[data-variant="${v.name}"]`, 'd')) ?? '');
      assert.ok(Math.abs(grad[3].y - yGrad(recs[vi].gradChange[3] as number)) < 0.5, `${v.name}: d(η₃)`);
    }
    // tooltip: η and the values at it
    await page.focus('[data-chart="eta-profile"] .bn-plot-area');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    const tip = page.locator('[data-chart="eta-profile"] .bn-tooltip');
    assert.equal(await tip.locator('.bn-tooltip-head').textContent(), `η ${six(report.eta[1])} · step ${step}`);
    const text = (await tip.textContent()) ?? '';
    for (const [vi, v] of report.variants.entries()) assert.ok(text.includes(`${v.name}ℓ ${six(recs[vi].lossAtEta[1] as number)} · d ${six(recs[vi].gradChange[1] as number)}`), text);
    await screenshot(page, 'report-eta-tooltip');
    await cardShot(page, 'eta-profile', 'card-eta-1400');
    await page.keyboard.press('Escape');
    // back to following the newest step
    await slider.focus();
    await page.keyboard.press('End');
    await nextFrame(page);
    assert.match((await title()) ?? '', /— step 119$/);
    assert.deepEqual(problems, []);
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
    // Every export in the standalone page is also a download: each is awaited here, so a late one (a busy
    // machine) cannot be taken for the next.
    const [svgDownload, svg] = await Promise.all([
      page.waitForEvent('download'),
      page.evaluate(() => (window as unknown as { bnlens: { exportChart(c: string, f: string): Promise<string> } }).bnlens.exportChart('loss-landscape', 'svg')),
    ]);
    assert.equal(svgDownload.suggestedFilename(), 'bnlens-loss-landscape.svg');
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
    const [pngExport, png] = await Promise.all([
      page.waitForEvent('download'),
      page.evaluate(() => (window as unknown as { bnlens: { exportChart(c: string, f: string): Promise<string> } }).bnlens.exportChart('training', 'png')),
    ]);
    assert.equal(pngExport.suggestedFilename(), 'bnlens-training.png');
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
    await cardShot(page, 'eta-profile', 'card-eta-empty');
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
    for (const chart of STEP_CHARTS) {
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
    await cardShot(page, 'layer-histogram', 'card-histogram-diverged');
    // histograms: standard's rows stop before 70 (its step-70 histogram has no finite range), later rows say why
    const ridgeSteps = await page.$$eval('[data-chart="layer-histogram"] path.ridge[data-variant="standard"]', (ps) => ps.map((p) => Number(p.getAttribute('data-step'))));
    assert.deepEqual(ridgeSteps, [0, 30, 60]);
    assert.equal(await page.locator('[data-chart="layer-histogram"] .bn-note[data-variant="standard"]').count(), 2);
    // η profile: at the last step only batchnorm has a probe; at step 70 standard's non-finite ℓ(η) leave gaps
    assert.equal(await seriesCount(page, 'eta-profile', 'standard'), 0);
    assert.match((await page.textContent('[data-chart="eta-profile"] .bn-note')) ?? '', /standard diverged @ 70/);
    await page.focus('[data-chart="eta-profile"] input[type="range"]');
    await page.keyboard.press('Home');
    for (let i = 0; i < 70; i++) await page.keyboard.press('ArrowRight');
    await nextFrame(page);
    assert.match((await page.textContent('[data-chart="eta-profile"] .bn-title')) ?? '', /step 70$/);
    const finite = std.steps[70].lossAtEta.filter((v) => v !== null).length;
    assert.equal(pathPoints((await page.getAttribute('[data-chart="eta-profile"] path.line.eta-loss[data-variant="standard"]', 'd')) ?? '').length, finite);
    await cardShot(page, 'eta-profile', 'card-eta-diverged-70');
    await cardShot(page, 'eta-profile', 'card-eta-diverged');
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
        assert.match((await page.textContent('.bn-status')) ?? '', /running: step 15 of 30 \(50%\) · standard 15, batchnorm 15/);
        await screenshot(page, 'webview-live');
        // A long part of a step is named while it runs, until that variant's step arrives.
        await post(page, { type: 'event', event: { type: 'phase', variant: 'batchnorm', step: 15, phase: 'hessian' } });
        assert.match((await page.textContent('.bn-status')) ?? '', /standard 15, batchnorm 15 · .* · batchnorm: Hessian at step 15…/);
      }
    }
    await page.evaluate((evs) => evs.forEach((event) => window.postMessage({ type: 'event', event }, '*')), events);
    // Live redraws of a big report are spaced out (webview/redraw.ts): wait for the one with the last step.
    await page.waitForFunction(() => /step 30 of 30/.test(document.querySelector('.bn-status')?.textContent ?? ''), null, { timeout: 10_000 });
    assert.doesNotMatch((await page.textContent('.bn-status')) ?? '', /Hessian/, "the variant's next step ends the named phase");
    await post(page, { type: 'event', event: { type: 'diverged', variant: 'standard', info: { step: 29, reason: 'loss exploded' } } });
    await page.waitForSelector('[data-chart="beta-smoothness"] line.bn-diverged[data-variant="standard"]', { state: 'attached' });
    for (const chart of CHARTS) {
      for (const v of ['standard', 'batchnorm']) assert.ok((await seriesCount(page, chart, v)) > 0, `${chart} ${v}`);
    }
    const pts = pathPoints((await page.getAttribute('[data-chart="loss-landscape"] path.band[data-variant="standard"]', 'd')) ?? '');
    assert.equal(pts.length, 60);
    assert.equal(await page.locator('[data-chart="beta-smoothness"] line.bn-diverged[data-variant="standard"]').count(), 1);
    await post(page, { type: 'event', event: { type: 'finished', report: full } });
    assert.match((await page.textContent('.bn-status')) ?? '', /complete: 30 steps/);
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
    await cardShot(again.page, 'layer-histogram', 'card-histogram-360');
    await cardShot(again.page, 'eta-profile', 'card-eta-360');
    assert.deepEqual(again.problems, []);
    await again.page.context().close();
  });

  test("the summary a user unfolds stays open when the view redraws before the fold's toggle event arrives", async () => {
    const { page, problems } = await openWebview(browser, { width: 300 });
    const report = viaJson(makeReport({ steps: 6, variants: ['standard', 'batchnorm'] }));
    await post(page, { type: 'report', report, live: true });
    assert.equal(await page.locator('details.bn-summary-box[open]').count(), 0, 'narrow: the summary starts folded');
    // The browser delivers 'toggle' a task after the click; a redraw can come first (a resize, a burst of
    // steps). Hold the event back until the next live update has redrawn the view, then let it through.
    await page.evaluate(() => {
      const w = window as unknown as { __heldToggle?: Event[] };
      w.__heldToggle = [];
      window.addEventListener(
        'toggle',
        (e) => {
          if (w.__heldToggle && e.isTrusted) {
            e.stopImmediatePropagation();
            w.__heldToggle.push(e);
          }
        },
        true,
      );
      document.querySelector<HTMLElement>('details.bn-summary-box > summary')!.click();
    });
    await post(page, { type: 'report', report, live: true });
    await nextFrame(page);
    assert.ok((await page.evaluate(() => (window as unknown as { __heldToggle: Event[] }).__heldToggle.length)) >= 1, "the click's toggle event was held back");
    await page.evaluate(() => {
      const w = window as unknown as { __heldToggle?: Event[] };
      const held = w.__heldToggle!;
      w.__heldToggle = undefined;
      for (const e of held) e.target!.dispatchEvent(new Event('toggle'));
    });
    assert.equal(await page.locator('details.bn-summary-box[open]').count(), 1, 'the summary is still open after the redraw');
    await post(page, { type: 'report', report, live: false });
    assert.equal(await page.locator('details.bn-summary-box[open]').count(), 1, 'and after the next one');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('no report: an empty state with an Open report button that asks the host', async () => {
    const { page, problems } = await openWebview(browser, { width: 340 });
    await post(page, { type: 'report', report: null, live: false });
    assert.equal(await page.locator('.bn-grid').isVisible(), false, 'no empty axes under the empty state');
    for (const action of ['analyze', 'openExample', 'openReport']) await page.click(`.bn-status button[data-action="${action}"]`);
    const posted = await page.evaluate(() => (window as unknown as { __posted: { type: string; action?: string }[] }).__posted.map((m) => m.action ?? m.type));
    assert.deepEqual(posted, ['ready', 'analyze', 'openExample', 'openReport']);
    await screenshot(page, 'webview-sidebar-empty');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
