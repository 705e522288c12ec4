// The slice and sweep charts in a real browser (Debian Chromium): `bnlens slice --html` draws one contour
// panel per variant on one colour scale with labelled levels and the weights marked at (0, 0), and only
// that chart; a 1-D slice draws one curve per variant; a sweep report draws a panel per learning rate and
// the held-out result against lr with ✕ for a diverged run. Positions are checked against scale math here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { analyze } from '../../src/engine/analyze';
import type { Report, SliceResult } from '../../src/protocol';
import { readReportAssets, renderReportHtml } from '../../src/report/html';
import { renderSliceHtml } from '../../src/report/sliceHtml';
import { buildFixture, MLP_BN } from '../reference/fixtures';
import { ARTIFACTS, DIST, ensureBundle, launch, ROOT } from './html-report-helpers';

let browser: Browser;
before(async () => {
  ensureBundle();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function open(html: string, name: string, chart: string): Promise<{ page: Page; problems: string[] }> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.html`);
  writeFileSync(file, html);
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector(`[data-chart="${chart}"] svg`);
  await page.locator(`section.bn-card[data-chart="${chart}"]`).screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  return { page, problems };
}

function slice(args: string[], out: string): SliceResult {
  execFileSync(process.execPath, [join(ROOT, 'bin', 'bnlens.js'), 'slice', ...args, '--out', out, '--quiet', '--backend', 'wasm', '--parallel', '1'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(out, 'utf8'));
}

test('bnlens slice --html: a contour panel per variant on one colour scale, labelled levels, the weights at (0, 0), no other chart', async () => {
  const fx = buildFixture(MLP_BN, { n: 32, loss: 'softmax-ce', classes: 5 }, 3101);
  const s = slice([fx.modelPath, '--data', fx.dataPath, '--variants', 'standard,batchnorm', '--points', '9', '--range', '-2,2'], join(fx.dir, 'slice.json'));
  const { page, problems } = await open(renderSliceHtml(s, readReportAssets(DIST)), 'slice-2d', 'slice-surface');
  assert.deepEqual(problems, []);
  const card = page.locator('section.bn-card[data-chart="slice-surface"]');
  assert.equal(await page.locator('section.bn-card[data-chart="loss-landscape"]').isVisible(), false, 'the training charts are hidden on a slice page');
  assert.equal(await card.locator('.bn-slice-panel').count(), 2);
  assert.deepEqual(await card.locator('.bn-slice-panel').evaluateAll((els) => els.map((e) => e.getAttribute('data-variant'))), ['standard', 'batchnorm']);
  assert.ok((await card.locator('.bn-contour-labels text').count()) >= 2, 'levels are labelled');
  assert.equal(await card.locator('.bn-colour-legend').count(), 1, 'one colour legend for both panels');
  // One colour scale: a level has the same fill in both panels.
  const fills = await card.locator('.bn-slice-panel').evaluateAll((panels) =>
    panels.map((p) =>
      Object.fromEntries(
        Array.from(p.querySelectorAll('path'))
          .filter((x) => x.querySelector('title'))
          .map((x) => [x.querySelector('title')!.textContent!.replace(/^[^:]*: /, ''), x.getAttribute('fill')]),
      ),
    ),
  );
  const shared = Object.keys(fills[0]).filter((k) => k in fills[1]);
  assert.ok(shared.length >= 3, `levels drawn in both panels: ${shared.join(', ')}`);
  for (const k of shared) assert.equal(fills[0][k], fills[1][k], `${k}: same colour in both panels`);
  // The weights' marker sits at α = β = 0 of the axes: here the middle of the plot (range −2…2).
  const geo = await card
    .locator('.bn-slice-panel')
    .first()
    .evaluate((p) => {
      const c = p.querySelector('circle.bn-center')!;
      const r = p.querySelector('rect')!;
      return { cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')), w: Number(r.getAttribute('width')), h: Number(r.getAttribute('height')) };
    });
  assert.ok(Math.abs(geo.cx - geo.w / 2) < 0.5 && Math.abs(geo.cy - geo.h / 2) < 0.5, `centre marker at (${geo.cx}, ${geo.cy}) of a ${geo.w}×${geo.h} plot`);
  // Every grid point has its exact value on hover.
  const titles = await card.locator('.bn-slice-cells title').allTextContents();
  assert.equal(titles.length, 2 * 81);
  const v = s.variants[0].loss as number[][];
  assert.ok(titles.includes(`standard: α -2, β -2, loss ${v[0][0]}`), `first cell's tooltip, e.g. ${titles[0]}`);
});

test('a slice still being evaluated draws the points done as coloured cells and says how many are to go', async () => {
  const fx = buildFixture(MLP_BN, { n: 32, loss: 'softmax-ce', classes: 5 }, 3103);
  const s = slice([fx.modelPath, '--data', fx.dataPath, '--variants', 'standard,batchnorm', '--points', '9'], join(fx.dir, 'slice.json'));
  // As the host merges it mid-way: a third of the first variant's points done, the second's not begun.
  const live: SliceResult = structuredClone(s);
  live.variants[0].loss = (s.variants[0].loss as number[][]).map((row, j) => row.map((x, i) => ((j * 9 + i) % 3 === 0 ? x : null)));
  live.variants[1].loss = (s.variants[1].loss as number[][]).map((row) => row.map(() => null));
  const done = 27;
  live.pending = 2 * 81 - done;
  const { page, problems } = await open(renderSliceHtml(live, readReportAssets(DIST)), 'slice-2d-live', 'slice-surface');
  assert.deepEqual(problems, []);
  const card = page.locator('section.bn-card[data-chart="slice-surface"]');
  assert.equal(await card.locator('.bn-slice-panel[data-variant="standard"] .bn-slice-live rect').count(), done, 'one cell per point done');
  assert.equal(await card.locator('.bn-slice-panel[data-variant="batchnorm"] .bn-slice-live rect').count(), 0);
  assert.equal(await card.locator('.bn-slice-panel g[clip-path] path').count(), 0, 'no contours from a partial grid');
  assert.match((await card.locator('svg').first().textContent()) ?? '', new RegExp(`evaluating, ${2 * 81 - done} points to go`));
  const tips = await card.locator('.bn-slice-panel[data-variant="standard"] .bn-slice-cells title').allTextContents();
  assert.ok(tips.includes('standard: α -1, β -1, loss ' + (s.variants[0].loss as number[][])[0][0]), 'a point done has its value');
  assert.ok(
    tips.some((t) => t.endsWith('not evaluated yet')),
    'a point to come says so',
  );
  // The finished slice: contours, no live cells, nothing to go.
  const fin = await open(renderSliceHtml(s, readReportAssets(DIST)), 'slice-2d-finished', 'slice-surface');
  const finCard = fin.page.locator('section.bn-card[data-chart="slice-surface"]');
  assert.ok((await finCard.locator('.bn-slice-panel g[clip-path] path').count()) > 0, 'contours');
  assert.equal(await finCard.locator('.bn-slice-live').count(), 0);
  assert.doesNotMatch((await finCard.locator('svg').first().textContent()) ?? '', /evaluating/);
});

test('a 1-D slice draws one curve per variant through every point; a sweep draws one panel per lr and ✕ for a diverged run', async () => {
  const fx = buildFixture(MLP_BN, { n: 32, loss: 'softmax-ce', classes: 5 }, 3102);
  const s = slice([fx.modelPath, '--data', fx.dataPath, '--variants', 'standard,batchnorm', '--points', '7', '--dims', '1'], join(fx.dir, 'slice1.json'));
  const one = await open(renderSliceHtml(s, readReportAssets(DIST)), 'slice-1d', 'slice-surface');
  assert.deepEqual(one.problems, []);
  const paths = one.page.locator('section.bn-card[data-chart="slice-surface"] path.bn-line');
  assert.equal(await paths.count(), 2);
  const dots = await one.page.locator('section.bn-card[data-chart="slice-surface"] g[data-variant="batchnorm"] circle').count();
  assert.equal(dots, 7);

  const sweep: Report = JSON.parse(
    JSON.stringify(
      await analyze({ model: fx.modelPath, dataset: fx.dataPath, loss: 'softmax-ce', variants: ['standard', 'batchnorm'], lr: 0.05, lrs: [0.05, 1e6], steps: 6, batch: 16, probeEvery: 2, evalEvery: 0, backend: 'wasm' }),
    ),
  );
  const div = sweep.runs![0].variants.find((v) => v.name === 'standard')!.diverged;
  assert.ok(div, 'the standard network diverges at lr 1e6');
  const two = await open(renderReportHtml(sweep, readReportAssets(DIST)), 'sweep', 'sweep-training');
  assert.deepEqual(two.problems, []);
  assert.equal(await two.page.locator('section.bn-card[data-chart="sweep-training"] .bn-sweep-panel').count(), 2);
  assert.deepEqual(await two.page.locator('section.bn-card[data-chart="sweep-training"] .bn-sweep-panel').evaluateAll((els) => els.map((e) => e.getAttribute('data-lr'))), ['0.05', '1000000']);
  const acc = two.page.locator('section.bn-card[data-chart="sweep-accuracy"]');
  assert.ok(await acc.isVisible());
  assert.ok((await acc.locator('text.bn-diverged[data-variant="standard"]').count()) >= 1, '✕ for the diverged run');
  assert.ok((await acc.locator('text.bn-diverged title').allTextContents()).some((t) => t.includes(`diverged at step ${div.step}`)));
  assert.ok(await two.page.locator('section.bn-card[data-chart="loss-landscape"]').isVisible(), 'a sweep report keeps the training charts (its first lr)');
});
