// Probe helpers (src/engine/etaHelpers.ts): a probed step's η split between a variant's process and the
// helpers it forks must give the very float32 numbers of one process evaluating them all — with one variant,
// with two (in this process and in parallel engine processes), with noisy BatchNorm — and a helper that dies
// or a cancelled run must neither lose the run nor leave a process behind. Needs dist/worker.js (`npm run build`).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { analyze } from '../../src/engine/analyze';
import { etaProcessesFor, etaShares } from '../../src/engine/etaHelpers';
import { findWorkerScript } from '../../src/engine/parallel';
import type { AnalyzeRequest, EngineToHost, Report, VariantName } from '../../src/protocol';
import { ROOT } from './analyze-fixtures';

const mlp = join(ROOT, 'examples', 'mlp-mnist.json');
const base = (variants: VariantName[]): AnalyzeRequest => ({ model: mlp, variants, steps: 4, batch: 32, icsEvery: 2, evalEvery: 0, backend: 'wasm' });

/** What the probe measured, step by step: the numbers a split probe must reproduce exactly. */
const probes = (r: Report) =>
  r.variants.map((v) => ({
    name: v.name,
    steps: v.steps.map((s) => ({ step: s.step, loss: s.loss, gradNorm: s.gradNorm, lossAtEta: s.lossAtEta, gradChange: s.gradChange, beta: s.beta, curvatureAtEta: s.curvatureAtEta })),
  }));

/** The helpers of an in-process run: this test process's children that run the worker script (tsx has its own). */
function children(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'worker\\.js'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

async function noChildrenLeft(): Promise<void> {
  for (let i = 0; i < 50 && children().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const left = children();
  const what = left.length ? execFileSync('ps', ['-o', 'pid,stat,etime,args', '-p', left.join(',')], { encoding: 'utf8' }) : '';
  assert.deepEqual(left, [], `no helper left running:\n${what}`);
}

async function run(req: AnalyzeRequest, parallel = 1, onEvent: (e: EngineToHost) => void = () => undefined, signal?: AbortSignal) {
  const logs: string[] = [];
  const report = await analyze(
    req,
    (e) => {
      if (e.type === 'log' && e.level !== 'info') logs.push(e.message);
      onEvent(e);
    },
    signal,
    { parallel },
  );
  return { report, logs };
}

test('the worker script is built (npm run build): the helpers run it', () => {
  assert.ok(findWorkerScript(), 'dist/worker.js');
});

test('η shares: contiguous, in order, the trainer never the larger share; auto uses the cores left per engine process', () => {
  assert.deepEqual(etaShares(8, 2), [
    [0, 4],
    [4, 8],
  ]);
  assert.deepEqual(etaShares(8, 3), [
    [0, 2],
    [2, 5],
    [5, 8],
  ]);
  assert.deepEqual(etaShares(1, 1), [[0, 1]]);
  // 2 cores: two variant processes get no helper, one variant one helper; 8 cores and 2 variants: 3 each.
  assert.equal(etaProcessesFor('auto', 2, 8, 2), 1);
  assert.equal(etaProcessesFor('auto', 1, 8, 2), 2);
  // Unset: no helpers (they were slower on the 2-core test machine).
  assert.equal(etaProcessesFor(undefined, 1, 8, 8), 1);
  assert.equal(etaProcessesFor('auto', 2, 8, 8), 4);
  // Never more processes than η, never fewer than one.
  assert.equal(etaProcessesFor('auto', 1, 3, 16), 3);
  assert.equal(etaProcessesFor(6, 1, 4, 2), 4);
  assert.equal(etaProcessesFor('auto', 4, 8, 2), 1);
});

test('one variant: the probe split over 1 and 2 helpers equals the single-process probe exactly', async () => {
  const counts: number[] = [];
  const alone = await run({ ...base(['batchnorm']), etaProcesses: 1 }, 1, (e) => void (e.type === 'step' && counts.push(tf.memory().numTensors)));
  assert.equal(alone.report.run.wallMs.probeWait, undefined, 'no helpers asked for, none used');
  for (const n of [2, 3]) {
    const tensors: number[] = [];
    const split = await run({ ...base(['batchnorm']), etaProcesses: n }, 1, (e) => void (e.type === 'step' && tensors.push(tf.memory().numTensors)));
    // Relative to the first step: each analysis leaves two tensors behind, with or without helpers.
    const fromFirst = (c: number[]) => c.map((x) => x - c[0]);
    assert.deepEqual(fromFirst(tensors), fromFirst(counts), "the trainer's tensors step by step: as without helpers");
    assert.equal(split.report.config.etaProcesses, n);
    assert.equal(typeof split.report.run.wallMs.probeWait, 'number', `${n} processes: the helpers shared the η`);
    assert.deepEqual(split.logs, [], 'no helper warning');
    assert.deepEqual(probes(split.report), probes(alone.report), `${n} processes`);
    assert.ok(probes(alone.report)[0].steps.length === 4);
  }
  await noChildrenLeft();
});

test('two variants with noisy BatchNorm, in this process and in two engine processes: the same numbers with helpers', async () => {
  const req = base(['standard', 'noisy-batchnorm']);
  const alone = await run({ ...req, etaProcesses: 1 });
  const inProcess = await run({ ...req, etaProcesses: 2 });
  assert.equal(typeof inProcess.report.run.wallMs.probeWait, 'number');
  assert.deepEqual(probes(inProcess.report), probes(alone.report));
  const forked = await run({ ...req, etaProcesses: 2 }, 2);
  assert.equal(forked.report.run.parallelProcesses, 2);
  assert.equal(typeof forked.report.run.wallMs.probeWait, 'number', 'the engine processes forked helpers too');
  assert.deepEqual(forked.logs, []);
  assert.deepEqual(probes(forked.report), probes(alone.report));
  await noChildrenLeft();
});

test('a helper that dies mid-run: one warning, the run completes with the same numbers, nothing left behind', async () => {
  const req = { ...base(['batchnorm']), steps: 6 };
  const alone = await run({ ...req, etaProcesses: 1 });
  let killed = 0;
  const hurt = await run({ ...req, etaProcesses: 3 }, 1, (e) => {
    if (e.type === 'step' && e.record.step === 1)
      for (const pid of children().slice(0, 1)) {
        process.kill(pid, 'SIGKILL');
        killed++;
      }
  });
  assert.equal(killed, 1);
  assert.equal(hurt.report.complete, true);
  assert.equal(hurt.logs.length, 1, hurt.logs.join('\n'));
  assert.match(hurt.logs[0], /^batchnorm: a probe helper stopped unexpectedly \(signal SIGKILL\); this variant's process evaluates every η itself from now on$/);
  assert.deepEqual(probes(hurt.report), probes(alone.report));
  await noChildrenLeft();
});

test('cancelling a run ends its helpers', async () => {
  const controller = new AbortController();
  let seen: number[] = [];
  const r = await run(
    { ...base(['batchnorm']), steps: 50, etaProcesses: 2 },
    1,
    (e) => {
      if (e.type === 'step' && e.record.step === 1) {
        seen = children();
        controller.abort();
      }
    },
    controller.signal,
  );
  assert.equal(r.report.complete, false);
  assert.equal(seen.length, 1, 'one helper ran');
  await noChildrenLeft();
});
