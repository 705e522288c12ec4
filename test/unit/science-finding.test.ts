// The paper's central qualitative finding (Santurkar et al. 2018, Fig. 4), reproduced with the real engine on
// real MNIST digits at small settings: averaged over the run, the batchnorm variant's loss band (max − min of
// L(x − η·g) over the η grid) and its effective β-smoothness are smaller than the standard variant's.
// The means are recomputed here from the steps (and checked against the report's summary).
//
// Measured before writing the assertions (wasm backend, 60 steps unless said; see the final report of the
// task for every number): MLP 784-100-50-10, lr 0.1, batch 128, seeds 0–2: band 0.35–0.45 → 0.31, β 7.9–9.3 →
// 4.3–4.5; MLP 784-256-128-10 (examples/mlp-mnist.json) the same picture. NOT asserted, because it does not
// hold: at lr 0.05 the band of the batchnorm MLP is the larger one (0.34 vs 0.14) — the band also counts the
// loss decrease along the gradient, (η_max − η_min)·‖g‖² to first order, and the BatchNorm network has the
// larger gradient (mean ‖g‖ 1.67 vs 1.10); its β is then no smaller either (6.3 vs 6.0).
// Deep linear network (examples/deep-linear.json, its own settings: mse, batch 1000, lr 0.01, η ∈ [0.01, 30]·lr),
// 30 steps: the band is smaller with BatchNorm for every seed tried (0–3; also at 60 steps), so it is asserted;
// β is NOT robust there: the BatchNorm variant sits at β ≈ 190 throughout while the standard one is either far
// rougher (seeds 0, 2, 3) or settles below it (seed 1: mean 301 vs 262 at 30 steps, 166 vs 227 at 60 steps),
// so β is reported for the DLN, not asserted.
//
// Also: the first probed step of the standard variant equals `bnlens probe` on the same initial weights and the
// same first batch (exported to .npz by NumPy) — tying the training loop to the probe, which
// test/unit/probe-vs-reference.test.ts verifies against a float64 reference.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import { batchIterator, BATCH_STREAM, loadDataset } from '../../src/engine/data';
import { Rng } from '../../src/engine/rng';
import type { Report, VariantReport } from '../../src/protocol';
import { Comparison, runProbe } from '../reference/cli';
import { EXAMPLES, py, tempDir, tfjsModel } from './analyze-fixtures';

const dir = tempDir('science');
const mlp = join(dir, 'mlp.json');
writeFileSync(
  mlp,
  JSON.stringify(
    tfjsModel({
      name: 'mlp_small',
      inputShape: [784],
      layers: [
        { type: 'Dense', name: 'h1', units: 100, activation: 'relu', useBias: true },
        { type: 'Dense', name: 'h2', units: 50, activation: 'relu', useBias: true },
        { type: 'Dense', name: 'out', units: 10, activation: 'softmax', useBias: true },
      ],
    }),
  ),
);

/** Mean over steps of (max − min over η of lossAtEta) and of β; every value must be finite. */
function means(v: VariantReport): { band: number; beta: number } {
  let band = 0;
  let beta = 0;
  for (const s of v.steps) {
    const l = s.lossAtEta as (number | null)[];
    assert.ok(l.every((x) => typeof x === 'number' && Number.isFinite(x)) && typeof s.beta === 'number' && Number.isFinite(s.beta), `${v.name} step ${s.step}: non-finite probe`);
    band += Math.max(...(l as number[])) - Math.min(...(l as number[]));
    beta += s.beta;
  }
  return { band: band / v.steps.length, beta: beta / v.steps.length };
}

function compare(r: Report, label: string, t: { diagnostic(s: string): void }) {
  const [std, bn] = r.variants;
  assert.deepEqual([std.name, bn.name], ['standard', 'batchnorm']);
  assert.equal(std.diverged, null);
  assert.equal(bn.diverged, null);
  assert.equal(std.steps.length, r.config.steps);
  const s = means(std);
  const b = means(bn);
  for (const [i, m] of [s, b].entries()) {
    assert.ok(Math.abs(r.summary[i].meanBandWidth! - m.band) <= 1e-9 * m.band, `${label}: summary band ${r.summary[i].meanBandWidth} vs ${m.band}`);
    assert.ok(Math.abs(r.summary[i].meanBeta! - m.beta) <= 1e-9 * m.beta, `${label}: summary β ${r.summary[i].meanBeta} vs ${m.beta}`);
  }
  const line = `${label}: band standard ${s.band.toPrecision(4)} batchnorm ${b.band.toPrecision(4)}; β standard ${s.beta.toPrecision(4)} batchnorm ${b.beta.toPrecision(4)}`;
  t.diagnostic(line);
  return { s, b, line };
}

const mlpReports = new Map<number, Report>();

for (const seed of [0, 1]) {
  test(`MNIST MLP 784-100-50-10, lr 0.1, 60 steps, batch 128, seed ${seed}: batchnorm has the smaller mean band and β`, async (t) => {
    const r = await analyze({ model: mlp, dataset: 'mnist', variants: ['standard', 'batchnorm'], steps: 60, batch: 128, lr: 0.1, icsEvery: 0, evalEvery: 0, backend: 'wasm', seed });
    mlpReports.set(seed, r);
    const { s, b, line } = compare(r, `mlp seed ${seed}`, t);
    assert.ok(b.band < s.band, line);
    assert.ok(b.beta < s.beta, line);
  });
}

for (const seed of [0, 1]) {
  test(`deep linear network (example settings), 30 steps, seed ${seed}: batchnorm has the smaller mean band`, async (t) => {
    const r = await analyze({ model: EXAMPLES[2], variants: ['standard', 'batchnorm'], steps: 30, icsEvery: 0, evalEvery: 0, backend: 'wasm', seed });
    assert.deepEqual([r.config.lr, r.config.batch, r.config.etaRange, r.dataset.loss], [0.01, 1000, [0.01, 30], 'mse'], 'the example’s own settings apply');
    const { s, b, line } = compare(r, `dln seed ${seed}`, t);
    assert.ok(b.band < s.band, line);
  });
}

test('the first probed step of `standard` equals `bnlens probe` at the same initial weights on the same first batch', async () => {
  const r = mlpReports.get(0) ?? (await analyze({ model: mlp, dataset: 'mnist', variants: ['standard'], steps: 1, batch: 128, lr: 0.1, icsEvery: 0, evalEvery: 0, backend: 'wasm', seed: 0 }));
  // The run's first batch: the training split of the same data set and seed, the batch order's own stream.
  const ds = loadDataset('mnist', { inputShape: [784], outputs: 10, loss: 'auto' }, { seed: 0 });
  const first = batchIterator(ds.train, 128, new Rng(0, BATCH_STREAM)).next().value!;
  assert.equal(first.n, 128);
  writeFileSync(join(dir, 'x.bin'), Buffer.from(first.x.buffer, first.x.byteOffset, first.x.byteLength));
  writeFileSync(join(dir, 'y.bin'), Buffer.from(first.labels!.buffer, first.labels!.byteOffset, first.labels!.byteLength));
  const npz = join(dir, 'batch.npz');
  py(
    dir,
    `x = np.fromfile(D + '/x.bin', dtype='<f4').reshape(128, 784)
y = np.fromfile(D + '/y.bin', dtype='<i4').astype(np.int64)
assert x.min() >= 0 and x.max() <= 1 and set(y.tolist()) <= set(range(10))
np.savez(${JSON.stringify(npz)}, x=x, y=y)`,
  );
  const out = await runProbe([mlp, '--data', npz, '--eta', r.eta.join(','), '--seed', '0', '--backend', 'wasm']);
  const s = r.variants[0].steps[0];
  assert.equal(s.step, 0);
  const cmp = new Comparison('standard step 0 vs bnlens probe');
  cmp.check('loss', s.loss, out.loss);
  cmp.check('gradNorm', s.gradNorm, out.gradNorm);
  r.eta.forEach((eta, k) => {
    cmp.check(`lossAtEta[η=${eta}]`, s.lossAtEta[k], out.lossAtEta[k]);
    cmp.check(`gradChange[η=${eta}]`, s.gradChange[k], out.gradChange[k]);
  });
  cmp.check('beta', s.beta, out.beta);
  assert.equal(cmp.failures.length, 0, cmp.report());
});
