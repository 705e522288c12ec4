// The noise of Santurkar et al. Algorithm 1 (src/engine/noise.ts) as the engine draws it, checked by its sample
// statistics over many draws with tolerances from the sample sizes (5 standard errors: a false alarm has odds
// below 1e-6 per check); its layout on a conv layer's output (per sample AND spatial position, one μ_j/σ_j per
// channel); and, through a real run, that the probes of a noisy step reuse that step's noise.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import { initBackend } from '../../src/engine/backend';
import { etaGrid, DEFAULT_CONFIG } from '../../src/engine/config';
import type { TF } from '../../src/engine/network/forward';
import { loadNetwork } from '../../src/engine/network/load';
import { drawNoise, NOISE } from '../../src/engine/noise';
import { Rng } from '../../src/engine/rng';
import { loadData } from '../../src/engine/data/forNetwork';
import { VariantRun } from '../../src/engine/train';
import { deriveVariants } from '../../src/engine/variants';
import { tempDir, tfjsModel, writeNpzData } from './analyze-fixtures';

const Z = 5;
const dir = tempDir('noise');

const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};
const variance = (a: ArrayLike<number>) => {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return s / (a.length - 1);
};

test('constants are the paper’s: n_μ 0.5, n_σ 1.25, r_μ = r_σ = 0.1', () => {
  assert.deepEqual({ ...NOISE }, { nMu: 0.5, nSigma: 1.25, rMu: 0.1, rSigma: 0.1 });
});

test('drawNoise: per-unit μ_j ~ U(−0.5, 0.5), σ_j ~ U(1, 1.25); m ~ U(μ_j ± 0.1), s ~ N(σ_j, 0.1)', () => {
  const rng = new Rng(7, 99);
  const draws = 400;
  const count = 500;
  const units = 16;
  const muHat: number[] = [];
  const sigmaHat: number[] = [];
  // Pooled within-unit statistics (residuals about each unit's own centre).
  let shiftVarSum = 0;
  let scaleVarSum = 0;
  let scaleWithin1 = 0;
  let scaleThird = 0;
  let n = 0;
  for (let d = 0; d < draws; d++) {
    const { scale, shift } = drawNoise(rng, count, units);
    assert.equal(scale.length, count * units);
    assert.equal(shift.length, count * units);
    for (let j = 0; j < units; j++) {
      const m = new Float64Array(count);
      const s = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        m[i] = shift[i * units + j];
        s[i] = scale[i * units + j];
      }
      // m_{i,j} lies within an interval of width 2·r_μ = 0.2 inside [−0.6, 0.6].
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of m) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assert.ok(hi - lo <= 0.2 + 1e-6, `draw ${d} unit ${j}: shift spread ${hi - lo} > 2·r_μ`);
      assert.ok(lo >= -0.6 - 1e-6 && hi <= 0.6 + 1e-6, `draw ${d} unit ${j}: shift outside [−0.6, 0.6]`);
      const mu = mean(m);
      const sg = mean(s);
      // The unit centres themselves: μ̂ within n_μ (+ 5 s.e. of the mean of U(±0.1): 0.2/√12/√count).
      assert.ok(Math.abs(mu) <= 0.5 + Z * (0.2 / Math.sqrt(12 * count)), `μ̂ ${mu} outside [−0.5, 0.5]`);
      assert.ok(sg >= 1 - Z * (0.1 / Math.sqrt(count)) && sg <= 1.25 + Z * (0.1 / Math.sqrt(count)), `σ̂ ${sg} outside [1, 1.25]`);
      muHat.push(mu);
      sigmaHat.push(sg);
      for (let i = 0; i < count; i++) {
        shiftVarSum += (m[i] - mu) ** 2;
        const r = s[i] - sg;
        scaleVarSum += r * r;
        scaleThird += r * r * r;
        if (Math.abs(r) <= 0.1) scaleWithin1++;
        n++;
      }
    }
  }
  const N = muHat.length; // draws × units unit-centres
  // μ_j ~ U(−0.5, 0.5): mean 0, variance 1/12 (plus the tiny within-unit sampling variance 0.04/12/count).
  const muVar = 1 / 12 + 0.04 / 12 / count;
  assert.ok(Math.abs(mean(muHat)) <= Z * Math.sqrt(muVar / N), `mean μ̂ ${mean(muHat)}`);
  // Var of a sample variance of a uniform: (μ4 − σ⁴)/N with μ4 = 1/80 for U(−½, ½).
  assert.ok(Math.abs(variance(muHat) - 1 / 12) <= Z * Math.sqrt((1 / 80 - 1 / 144) / N) + 0.04 / 12 / count, `var μ̂ ${variance(muHat)} vs 1/12`);
  // σ_j ~ U(1, 1.25): mean 1.125, variance 0.25²/12.
  const sVar = 0.0625 / 12 + 0.01 / count;
  assert.ok(Math.abs(mean(sigmaHat) - 1.125) <= Z * Math.sqrt(sVar / N), `mean σ̂ ${mean(sigmaHat)} vs 1.125`);
  assert.ok(Math.abs(variance(sigmaHat) - 0.0625 / 12) <= Z * Math.sqrt((0.25 ** 4 / 80 - (0.0625 / 12) ** 2) / N) + 0.01 / count, `var σ̂ ${variance(sigmaHat)}`);
  // Within a unit: m uniform of half-width r_μ (variance 0.01/3), s normal with sd r_σ 0.1.
  const shiftVar = shiftVarSum / n;
  assert.ok(Math.abs(shiftVar - 0.04 / 12) <= Z * Math.sqrt((0.2 ** 4 / 80 - (0.04 / 12) ** 2) / n) + 0.04 / 12 / count, `within-unit shift variance ${shiftVar}`);
  const scaleVar = scaleVarSum / n;
  assert.ok(Math.abs(scaleVar - 0.01) <= Z * Math.sqrt((2 * 0.01 ** 2) / n) + 0.01 / count, `within-unit scale variance ${scaleVar} vs r_σ² = 0.01`);
  // Normal, not uniform: P(|s − σ| ≤ r_σ) = 0.6827 (a uniform with the same variance would give 0.577).
  const p = scaleWithin1 / n;
  assert.ok(Math.abs(p - 0.6827) <= Z * Math.sqrt((0.6827 * 0.3173) / n) + 0.003, `P(|s−σ|≤0.1) = ${p}`);
  assert.ok(Math.abs(scaleThird / n) <= Z * Math.sqrt((15 * 1e-6) / n), 'scale noise is skewed');
  // Time-varying: consecutive draws have unrelated μ_j (correlation ≈ 0).
  let cov = 0;
  for (let k = units; k < N; k++) if (Math.floor(k / units) % 2 === 1) cov += muHat[k] * muHat[k - units];
  const pairs = (N / units / 2) * units;
  assert.ok(Math.abs(cov / pairs) <= (Z * (1 / 12)) / Math.sqrt(pairs), `μ of consecutive draws correlate: ${cov / pairs}`);
});

test('conv layer: one noise value per sample AND spatial position, one (μ_j, σ_j) per channel', async () => {
  const backend = await initBackend('cpu');
  const tf = backend.tf as unknown as TF;
  const path = join(dir, 'conv.json');
  writeFileSync(
    path,
    JSON.stringify(
      tfjsModel({
        name: 'c',
        inputShape: [6, 6, 1],
        layers: [
          { type: 'Conv2D', name: 'conv', filters: 3, kernel: [3, 3], activation: 'relu', useBias: true },
          { type: 'Flatten', name: 'flat' },
          { type: 'Dense', name: 'out', units: 2, activation: 'softmax', useBias: true },
        ],
      }),
    ),
  );
  const data = writeNpzData(dir, 'c', 10, [6, 6, 1], 2);
  const net = loadNetwork(path);
  const config = { ...DEFAULT_CONFIG, model: path, dataset: data, loss: 'softmax-ce' as const, variants: ['noisy-batchnorm' as const] };
  const ds = loadData(net, data, 'auto', 0);
  const [variant] = deriveVariants(net.spec, ['noisy-batchnorm']);
  const run = new VariantRun(tf, variant, net, ds, config, etaGrid(config));
  try {
    const noise = (run as unknown as { noiseFor(b: number): Map<string, { scale: import('@tensorflow/tfjs-core').Tensor; shift: import('@tensorflow/tfjs-core').Tensor }> }).noiseFor(5);
    assert.deepEqual([...noise.keys()], ['conv_bn']);
    const { scale, shift } = noise.get('conv_bn')!;
    assert.deepEqual(scale.shape, [5, 4, 4, 3]);
    assert.deepEqual(shift.shape, [5, 4, 4, 3]);
    const s = (await scale.data()) as Float32Array;
    const m = (await shift.data()) as Float32Array;
    for (let c = 0; c < 3; c++) {
      const ms: number[] = [];
      const ss: number[] = [];
      for (let i = 0; i < 5 * 16; i++) {
        ms.push(m[i * 3 + c]);
        ss.push(s[i * 3 + c]);
      }
      // Distinct at every (sample, position): no broadcasting over H, W or the batch.
      assert.equal(new Set(ms).size, 80, `channel ${c}: shift repeats across samples/positions`);
      assert.equal(new Set(ss).size, 80, `channel ${c}: scale repeats across samples/positions`);
      // One μ_c for the whole channel: all 80 shifts within one 0.2-wide interval.
      assert.ok(Math.max(...ms) - Math.min(...ms) <= 0.2 + 1e-6, `channel ${c}: shifts span more than 2·r_μ`);
    }
    // Different positions of the same sample and channel differ too (e.g. (0,0) vs (0,1) of sample 0).
    assert.notEqual(m[0 * 3], m[1 * 3]);
    tf.dispose([...noise.values()].flatMap((n) => [n.scale, n.shift]));
  } finally {
    run.dispose();
  }
});

test('a noisy step’s probes reuse the step’s noise: L(x − ηg) follows the first-order descent L − η‖g‖² for small η', async () => {
  const path = join(dir, 'mlp.json');
  writeFileSync(
    path,
    JSON.stringify(
      tfjsModel({
        name: 'm',
        inputShape: [12],
        layers: [
          { type: 'Dense', name: 'h1', units: 16, activation: 'tanh', useBias: true },
          { type: 'Dense', name: 'h2', units: 16, activation: 'tanh', useBias: true },
          { type: 'Dense', name: 'out', units: 4, activation: 'softmax', useBias: true },
        ],
      }),
    ),
  );
  // tanh, not ReLU: a ReLU unit crossing zero between two η makes the gradient jump (a kink of the landscape),
  // which is real but would hide what this test looks for.
  const data = writeNpzData(dir, 'm', 80, [12], 4);
  // Tiny η (1e-3·lr … 5e-3·lr): a probe with the step's own noise moves the loss by −η‖g‖² + O(η·‖g‖·gradChange);
  // a fresh noise draw would move it by the noise's own effect, which the last assertion shows is far larger.
  const r = await analyze({
    model: path,
    dataset: data,
    variants: ['batchnorm', 'noisy-batchnorm'],
    steps: 4,
    batch: 32,
    lr: 0.1,
    etaRange: [0.01, 0.05],
    etaCount: 5,
    icsEvery: 0,
    evalEvery: 0,
    backend: 'cpu',
    seed: 5,
  });
  const noisy = r.variants.find((v) => v.name === 'noisy-batchnorm')!;
  const clean = r.variants.find((v) => v.name === 'batchnorm')!;
  assert.equal(noisy.steps.length, 4);
  for (const s of noisy.steps) {
    const g2 = s.gradNorm ** 2;
    // The gradient at x − ηg, with the step's noise, tends to g linearly as η → 0 (gradChange/η ≈ ‖Hg‖, the same
    // for every small η); with a redrawn noise it would stay at the noise's effect on the gradient.
    const slopes = (s.gradChange as number[]).map((d, k) => d / r.eta[k]);
    for (const sl of slopes) assert.ok(sl <= 2 * slopes[0] && sl >= 0.5 * slopes[0], `step ${s.step}: gradChange/η ${slopes} is not ≈ constant`);
    assert.ok((s.gradChange[0] as number) < 0.05 * s.gradNorm, `step ${s.step}: gradChange at η ${r.eta[0]} is ${s.gradChange[0]}, not ≪ ‖g‖ ${s.gradNorm}`);
    r.eta.forEach((eta, k) => {
      const predicted = s.loss - eta * g2;
      // |ℓ(η) − L + η‖g‖²| = |∫₀^η (g(u) − g)·g du| ≤ η‖g‖ max_u‖g(u) − g‖; gradChange grows with η here, so
      // the measured gradChange at the largest η bounds it; plus float32 rounding of the losses.
      const bound = eta * s.gradNorm * Math.max(...(s.gradChange as number[])) + 1e-5 * Math.abs(s.loss) + 1e-6;
      assert.ok(Math.abs((s.lossAtEta[k] as number) - predicted) <= bound, `step ${s.step} η ${eta}: ℓ ${s.lossAtEta[k]} vs L − η‖g‖² = ${predicted} (bound ${bound})`);
    });
  }
  // Same initial weights and batch, same BatchNorm: step 0 of batchnorm and noisy-batchnorm differ only by the noise,
  // and that difference dwarfs the bound above — a probe with redrawn noise could not pass it.
  const diff = Math.abs(noisy.steps[0].loss - clean.steps[0].loss);
  const s0 = noisy.steps[0];
  const maxBound = r.eta[r.eta.length - 1] * s0.gradNorm * Math.max(...(s0.gradChange as number[])) + 1e-5 * s0.loss;
  assert.ok(diff > 10 * maxBound, `noise changes the loss by ${diff}, not ≫ the probe bound ${maxBound}`);
});
