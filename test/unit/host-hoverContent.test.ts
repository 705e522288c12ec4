// Hover and code-lens text as pure functions of (layer, report).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeLensTitle, fmt, hoverMarkdown, meanBeta, modelLensTitle, trend } from '../../src/host/hoverContent';
import { report, stat, step, variant } from './host-helpers';

const links = { analyze: 'command:bnlens.analyze?x', openReport: 'command:bnlens.openReportPanel' };
const fileFacts = { name: 'dense_1', className: 'Dense', outputShape: [null, 16], params: 12560 };

function sample() {
  const std = variant('standard', {
    steps: [step(1, 10), step(2, 9.6)],
    layerStats: [stat(2, 'dense_1', { gradNorm: 0.5, icsCos: 0.7, weightNorm: 3 }), stat(4, 'dense_1', { gradNorm: 0.25, icsCos: 0.71, weightNorm: 3.01, icsL2: 0.25 })],
  });
  const bn = variant('batchnorm', {
    steps: [step(1, 4), step(2, 4.2)],
    layers: [
      ...variant('batchnorm').layers.slice(0, 1),
      { name: 'dense_1_bn', className: 'BatchNormalization', sourceLayer: 'dense_1', inserted: true, outputShape: [null, 16], params: 64 },
      { name: 'dense_1_act', className: 'Activation', sourceLayer: 'dense_1', inserted: true, outputShape: [null, 16], params: 0 },
      ...variant('batchnorm').layers.slice(1),
    ],
    layerStats: [
      stat(4, 'dense_1', { icsCos: 0.93, gradNorm: 0.1 }),
      stat(4, 'dense_1_bn', { sourceLayer: 'dense_1', icsL2: null, icsCos: null, weightNorm: null, gamma: { mean: 1.02, std: 0.05, min: 0.9, max: 1.1 }, beta: { mean: 0.01, std: 0.02, min: -0.04, max: 0.05 } }),
    ],
  });
  return report([std, bn]);
}

test('fmt and trend', () => {
  assert.equal(fmt(0.0213456), '0.0213');
  assert.equal(fmt(-1234.5), '−1230');
  assert.equal(fmt(1.5e-7), '1.50e-7');
  assert.equal(fmt(null), '—');
  assert.equal(fmt(NaN), 'NaN');
  assert.equal(trend([1, 2]), '↑');
  assert.equal(trend([2, 1]), '↓');
  assert.equal(trend([1, 1.01]), '→');
  assert.equal(trend([1]), '');
  assert.equal(trend([null, 1, NaN, 3]), '↑');
});

test('before any run: facts and a command link to start one', () => {
  const md = hoverMarkdown(fileFacts, null, links);
  assert.match(md, /^\*\*dense\\_1\*\* · `Dense` · output `\[null, 16\]` · 12,560 params/);
  assert.match(md, /\[Analyze BatchNorm\]\(command:bnlens\.analyze\?x\)/);
});

test('after a run: one row per variant with last value and trend; inserted BatchNorm γ/β', () => {
  const md = hoverMarkdown(fileFacts, sample(), links);
  const rows = md.split('\n').filter((l) => l.startsWith('| '));
  assert.equal(rows.length, 3);
  // standard: gradNorm 0.5 → 0.25 (↓), weightNorm 3 → 3.01 (→), ICS l2 0.5 → 0.25 (↓), cos 0.7 → 0.71 (→)
  assert.equal(rows[1], '| standard | 0.25 ↓ | 3.01 → | 0.25 ↓ | 0.71 → | 0.1 → | 1 → |');
  // batchnorm has a single record: no trend arrows
  assert.equal(rows[2], '| batchnorm | 0.1 | 3 | 0.5 | 0.93 | 0.1 | 1 |');
  assert.match(md, /\*batchnorm\* inserts `BatchNormalization` dense\\_1\\_bn after this layer: γ mean 1\.02, std 0\.05, range 0\.9 … 1\.1 · β mean 0\.01/);
  assert.doesNotMatch(md, /dense\\_1\\_act/, 'the moved activation is not listed');
  assert.match(md, /stopped at step 3 of 4/);
  assert.match(md, /\[Open report\]\(command:bnlens\.openReportPanel\)/);
});

test('report numbers win over the file-inferred ones; unknown layer says so', () => {
  const md = hoverMarkdown({ name: 'dense_2', className: 'Dense', outputShape: null, params: null }, sample(), links, true);
  assert.match(md, /output `\[null, 10\]` · 170 params/);
  assert.match(md, /running, step 3 of 4/);
  const md2 = hoverMarkdown({ name: 'new_layer', className: 'Dense', outputShape: null, params: null }, sample(), links);
  assert.match(md2, /output `\?` · — params/);
  assert.match(md2, /not in the last run/);
});

test('code lens: the model-level result at the top, per-layer facts above each layer', () => {
  const r = sample();
  assert.equal(meanBeta(r, r.variants[1]), 4.1);
  // mean β of the steps (10, 9.6) and (4, 4.2): 9.8 and 4.1, ratio 2.39
  assert.equal(modelLensTitle(r), 'BatchNorm Lens: batchnorm β̄ 4.1 vs standard 9.8 — 2.39× smoother · stopped at step 3 of 4');
  // dense_1: the last ICS ℓ2 per variant (0.5 for batchnorm, 0.25 for standard) and activation std
  assert.equal(codeLensTitle('dense_1', r), 'ICS ℓ2 batchnorm 0.5 vs standard 0.25 · act std 1 vs 1');
  assert.equal(codeLensTitle('dense_2', r), null, 'no statistics for the layer: no lens');
  assert.equal(codeLensTitle('dense_1', r, true), 'ICS ℓ2 batchnorm 0.5 vs standard 0.25 · act std 1 vs 1 · running…');
  // the first kernel layer has ICS 0 by definition: not shown as if it said something
  for (const v of r.variants) for (const x of v.layerStats) x.icsL2 = 0;
  assert.equal(codeLensTitle('dense_1', r), 'act std batchnorm 1 vs standard 1');
  r.complete = true;
  r.summary = [{ variant: 'standard', finalLoss: 1, finalAccuracy: null, testLoss: null, testAccuracy: null, meanBandWidth: null, meanGradChange: null, meanBeta: 9, maxBeta: 10, diverged: null }];
  assert.equal(modelLensTitle(r), 'BatchNorm Lens: batchnorm β̄ 4.1 vs standard 9 — 2.2× smoother · 4 steps');
});

test('BatchNorm moving statistics still warming up: the BatchNorm layers say so with the held-out batch’s own figures', () => {
  const r = sample();
  const bn = r.variants[1];
  // 0.9^8 = 43% of the initial statistics left after 8 averaged steps: warming up.
  bn.evals = [{ step: 8, loss: 2.1, accuracy: 0.113, batchStatsLoss: 0.4, batchStatsAccuracy: 0.896, batchStatsBatch: 128, movingStatsSteps: 8, movingStatsInitWeight: 0.43 }];
  const md = hoverMarkdown(fileFacts, r, links);
  assert.match(md, /\*batchnorm\*: BatchNorm moving statistics still warming up at step 8 \(43\.0% of their initial values left\): held-out accuracy 11\.3% with them, 89\.6% with each held-out batch's own statistics/);
  assert.doesNotMatch(md, /\*standard\*: BatchNorm moving/, 'a variant without BatchNorm has no such line');
  // Not on a layer without BatchNorm after it, and not once the statistics have settled (≤ 5% left).
  assert.doesNotMatch(hoverMarkdown({ name: 'dense_2', className: 'Dense', outputShape: null, params: null }, r, links), /warming up/);
  bn.evals = [{ ...bn.evals[0], step: 60, movingStatsSteps: 60, movingStatsInitWeight: 0.9 ** 60 }];
  assert.doesNotMatch(hoverMarkdown(fileFacts, r, links), /warming up/);
  // mse: no accuracy, so the losses.
  bn.evals = [{ ...bn.evals[0], accuracy: null, batchStatsAccuracy: null, movingStatsInitWeight: 0.2 }];
  assert.match(hoverMarkdown(fileFacts, r, links), /held-out loss 2\.1 with them, 0\.4 with each held-out batch's own statistics/);
});
