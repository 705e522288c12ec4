// The event reducer shared by host and webview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent, markStopped } from '../../src/report/applyEvent';
import { report, stat, step } from './host-helpers';

test('events before started are ignored; started/finished replace the document', () => {
  assert.equal(applyEvent(null, { type: 'step', variant: 'standard', record: step(1, 1), progress: { done: 1, total: 2, etaMs: null } }), null);
  const r = report();
  assert.equal(applyEvent(null, { type: 'started', report: r }), r);
  const fin = { ...report(), complete: true };
  assert.equal(applyEvent(r, { type: 'finished', report: fin }), fin);
});

test('step, layerStats, eval, diverged land in their variant; unknown variants ignored', () => {
  let r = applyEvent(null, { type: 'started', report: report() })!;
  r = applyEvent(r, { type: 'step', variant: 'batchnorm', record: step(1, 2), progress: { done: 1, total: 8, etaMs: 100 } })!;
  r = applyEvent(r, { type: 'step', variant: 'batchnorm', record: step(2, 3), progress: { done: 2, total: 8, etaMs: 100 } })!;
  r = applyEvent(r, { type: 'step', variant: 'batchnorm', record: step(2, 4), progress: { done: 2, total: 8, etaMs: 100 } })!; // resent step replaces
  r = applyEvent(r, { type: 'layerStats', variant: 'standard', records: [stat(2, 'dense_1'), stat(2, 'dense_2')] })!;
  r = applyEvent(r, { type: 'eval', variant: 'standard', record: { step: 2, loss: 1.5, accuracy: 0.5 } })!;
  r = applyEvent(r, { type: 'diverged', variant: 'standard', info: { step: 3, reason: 'loss NaN' } })!;
  r = applyEvent(r, { type: 'step', variant: 'l1', record: step(1, 1), progress: { done: 3, total: 8, etaMs: 100 } })!;
  r = applyEvent(r, { type: 'log', level: 'info', message: 'x' })!;
  const [std, bn] = r.variants;
  assert.deepEqual(
    bn.steps.map((s) => [s.step, s.beta]),
    [
      [1, 2],
      [2, 4],
    ],
  );
  assert.equal(std.layerStats.length, 2);
  assert.deepEqual(std.evals, [{ step: 2, loss: 1.5, accuracy: 0.5 }]);
  assert.deepEqual(std.diverged, { step: 3, reason: 'loss NaN' });
  assert.equal(std.steps.length, 0);
});

test('failed marks the report; markStopped keeps an existing reason', () => {
  const r = applyEvent(report(), { type: 'failed', message: 'boom' })!;
  assert.equal(r.stopReason, 'failed: boom');
  assert.equal(markStopped(r, 'cancelled').stopReason, 'failed: boom');
  assert.equal(markStopped(report(), 'cancelled').stopReason, 'cancelled');
});
