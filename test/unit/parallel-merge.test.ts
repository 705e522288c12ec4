// The merge of engine processes' streams into one report, with a stand-in engine whose timing is chosen:
// a process that finishes before another has even started must not be taken for a crash.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeInProcesses, groupVariants } from '../../src/engine/parallel';
import { DEFAULT_CONFIG } from '../../src/engine/config';
import type { EngineToHost } from '../../src/protocol';

const worker = join(__dirname, '..', 'fixtures', 'fake-engine-worker.js');

test('a process that finishes before the other starts is merged, not reported as a crash', async () => {
  const events: EngineToHost[] = [];
  const config = { ...DEFAULT_CONFIG, model: 'm.json', variants: ['standard', 'batchnorm'] as const, steps: 1 };
  const report = await analyzeInProcesses({ ...config, variants: [...config.variants] }, groupVariants([...config.variants], 2), worker, (e) => events.push(e));
  assert.equal(report.complete, true);
  assert.deepEqual(
    report.variants.map((v) => [v.name, v.steps.length]),
    [
      ['standard', 1],
      ['batchnorm', 1],
    ],
  );
  assert.deepEqual(
    report.variants.map((v) => v.steps[0].loss),
    [1, 2],
  );
  // One merged 'started' before any step, one 'finished' at the end, both variants' steps in between.
  assert.equal(events[0].type, 'started');
  assert.equal(events.filter((e) => e.type === 'started').length, 1);
  assert.equal(events[events.length - 1].type, 'finished');
  assert.equal(events.filter((e) => e.type === 'step').length, 2);
  // Wall time is the longer process's; the summary covers both variants.
  assert.equal(report.run.wallMs.train, 7);
  assert.equal(report.run.parallelProcesses, 2);
  assert.deepEqual(
    report.summary.map((s) => s.variant),
    ['standard', 'batchnorm'],
  );
});

test('groups deal variants round-robin and never leave a group empty', () => {
  assert.deepEqual(groupVariants(['standard', 'batchnorm', 'l1'], 2), [['standard', 'l1'], ['batchnorm']]);
  assert.deepEqual(groupVariants(['standard'], 2), [['standard']]);
});
