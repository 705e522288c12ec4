// Every chart legible from a 260 px side bar to a full-width panel: at 260, 400 and 1000 px the bounding
// box of every text element (tick labels, axis titles, legends, headers, captions, summary cells) is
// measured, and no two overlap and none is cut off; the tooltip stays inside the view at the right edge;
// the step axis of a 40-step run is labelled beyond its middle. Runs the webview bundle in Chromium with a
// stubbed VS Code API (the same page the side bar shows).
//   node --import tsx --test test/e2e/html-report-legibility.test.ts   (screenshots in test-artifacts/legibility/)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Report } from '../../src/protocol';
import { makeReport, viaJson } from '../unit/webview-fixture';
import { describeProblems, TEXT_OVERLAPS_SOURCE, type TextProblems } from '../harness/textOverlaps';
import { ensureBundle, launch, nextFrame, openWebview, post, screenshot } from './html-report-helpers';

let browser: Browser;

before(async () => {
  ensureBundle();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A 40-step run of every variant, one diverging, with values spanning decades (log axes). */
function hardReport(): Report {
  const r = viaJson(makeReport({ steps: 40, icsEvery: 4, evalEvery: 10, variants: ['standard', 'batchnorm', 'noisy-batchnorm', 'l1', 'l2', 'linf', 'as-written'], diverge: { variant: 'standard', step: 31 } }));
  for (const v of r.variants) {
    for (const s of v.steps) {
      const k = 10 ** ((s.step % 9) - 3);
      s.lossAtEta = s.lossAtEta.map((x) => (x === null ? null : x * k * 1234.5));
      s.beta = s.beta === null ? null : s.beta * k * 1000;
    }
  }
  return r;
}

async function openAll(page: Page): Promise<void> {
  // Unfold every card and open every explanation: everything a user can bring up must be legible. Cards that
  // do not apply to the report (the sweep's and the slices' on a single-lr run) are hidden and cannot be opened.
  for (const sel of ['.bn-card:not([hidden]).is-collapsed .bn-card-toggle', 'details.bn-summary-box:not([open]) > summary', '.bn-card:not([hidden]) .bn-info[aria-expanded="false"]'])
    // Query and click in one evaluation: locator.evaluateAll resolves the elements in an earlier round trip,
    // and a redraw in between would leave it clicking detached copies.
    await page.evaluate((s) => document.querySelectorAll(s).forEach((e) => (e as HTMLElement).click()), sel);
  await nextFrame(page);
  await nextFrame(page);
}

describe('the text-overlap check itself', () => {
  test('finds two overlapping SVG labels, an HTML label under one, and text cut by an overflow box', async () => {
    const page = await browser.newPage({ viewport: { width: 300, height: 300 } });
    await page.setContent(`<body style="margin:0;font:13px sans-serif">
      <svg width="300" height="100"><text x="10" y="20">0.001</text><text x="30" y="20">0.002</text><text x="200" y="60">alone</text></svg>
      <div style="width:80px;overflow:hidden;white-space:nowrap">a label much wider than its box</div>
      <p>fine text</p></body>`);
    const r = (await page.evaluate(`(${TEXT_OVERLAPS_SOURCE})(1)`)) as TextProblems;
    assert.equal(r.overlaps.length, 1, describeProblems(r));
    assert.deepEqual([r.overlaps[0].a.text, r.overlaps[0].b.text], ['0.001', '0.002']);
    assert.equal(r.clipped.length, 1, describeProblems(r));
    assert.match(r.clipped[0].box.text, /a label much wider/);
    await page.close();
  });
});

describe('charts legible at 260, 400 and 1000 px', () => {
  for (const width of [260, 400, 1000]) {
    test(`${width} px: no overlapping or clipped text anywhere, tooltip inside at the right edge`, async () => {
      const { page, problems } = await openWebview(browser, { width, height: 900 });
      await post(page, {
        type: 'context',
        context: {
          file: '/w/deep-linear.json',
          fileName: 'deep-linear.json',
          phase: 'idle',
          runs: [
            { id: 'a', label: 'Dec 1, 23:10 · 40 steps', detail: 'standard, batchnorm · lr 0.1', complete: true },
            { id: 'b', label: 'Dec 1, 23:20 · stopped at step 8 of 40', detail: '', complete: false },
          ],
          shown: 'a',
          activeNetwork: 'deep-linear.json',
        },
      });
      await post(page, { type: 'report', report: hardReport(), live: false });
      if (width < 520) assert.ok((await page.locator('.bn-card.is-collapsed').count()) > 0, 'narrow: the per-layer cards start folded');
      await openAll(page);
      assert.equal(await page.locator('details.bn-summary-box[open]').count(), 1, 'the summary table is open (and measured)');
      const result = (await page.evaluate(`(${TEXT_OVERLAPS_SOURCE})(1)`)) as TextProblems;
      await screenshot(page, `legibility/webview-${width}`);
      assert.ok(result.boxes > 100, `measured ${result.boxes} text boxes`);
      assert.equal(result.overlaps.length + result.clipped.length, 0, `${width} px:\n${describeProblems(result)}`);

      // The 40-step axis is labelled past its middle (not only 0 and 20).
      const xTicks = await page.locator('[data-chart="beta-smoothness"] .bn-axis-x .tick text').allTextContents();
      const labelled = xTicks.filter((t) => t !== '').map(Number);
      assert.ok(Math.max(...labelled) >= 30, `x ticks at ${width} px: ${labelled.join(', ')}`);

      // Tooltip at the right edge: moved to the last step, it stays inside the view.
      const plot = page.locator('[data-chart="loss-landscape"] .bn-overlay');
      await plot.scrollIntoViewIfNeeded();
      const box = (await plot.boundingBox())!;
      await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
      const tip = page.locator('[data-chart="loss-landscape"] .bn-tooltip');
      await tip.waitFor({ state: 'visible' });
      const t = (await tip.boundingBox())!;
      assert.ok(t.x >= 0 && t.x + t.width <= width + 0.5, `tooltip ${Math.round(t.x)}…${Math.round(t.x + t.width)} inside 0…${width}`);
      await screenshot(page, `legibility/webview-${width}-tooltip`);
      assert.deepEqual(problems, []);
      await page.context().close();
    });
  }
});
