// `bnlens probe`, run as a user runs it, against the independent float64 reference (test/reference/net64.ts)
// on seeded networks: MLP without/with BatchNorm, a CNN with BatchNorm + max pooling + flatten, a deep linear
// network with mse, and the functional-API form of a BN MLP; each on the wasm and cpu backends.
// Every field is compared (tolerance rule: see test/reference/cli.ts, 1e-3 relative with a documented
// floor for values near zero).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, Comparison, runProbe, tfjsCoreVersion } from '../reference/cli';
import { AVGPOOL_SAME, BINARY_CNN, BINARY_MLP, MAXPOOL_SAME, MOBILE_LAYERS, buildFixture, CNN_BN, CNN_EXTRA, DLN, MLP, MLP_BN, MLP_FUNCTIONAL, type DataSpec, type NetSpec } from '../reference/fixtures';
import { probe64 } from '../reference/net64';

interface Case {
  spec: NetSpec;
  data: DataSpec;
  etas: number[];
  icsLr: number;
}

const DEFAULT_ETAS = [0.01, 0.05, 0.1];

const CASES: Case[] = [
  { spec: MLP, data: { n: 32, loss: 'softmax-ce', classes: 5 }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  { spec: MLP_BN, data: { n: 32, loss: 'softmax-ce', classes: 5 }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  { spec: CNN_BN, data: { n: 8, loss: 'softmax-ce', classes: 5, labelDtype: 'int32' }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  // DLN (6 × Dense 10×10, no bias, mse): its effective smoothness here is β ≈ 100 (‖g‖ ≈ 34, loss ≈ 11), so
  // η ∈ {1e-3, 3e-3, 1e-2} moves the gradient by 10–100 % of ‖g‖ — far above float32's ~1e-6 relative
  // resolution, so gradChange/betaAtEta are resolved to ≪ 1e-3 — while every step still decreases the loss
  // (η·β ≤ 1). The default grid (up to 0.1) would overshoot by ×10 into a region where the loss explodes,
  // and the paper's own DLN grid (lr/100 with lr = 1e-6) would move the gradient by ~1e-6 relative, which
  // float32 cannot resolve. ics-lr 0.01 for the same reason: the earlier layers' step changes G by 20–60 %.
  { spec: DLN, data: { n: 32, loss: 'mse', targetDim: 10 }, etas: [0.001, 0.003, 0.01], icsLr: 0.01 },
  { spec: MLP_FUNCTIONAL, data: { n: 32, loss: 'softmax-ce', classes: 5 }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  // Layer options beyond the required set (see CNN_EXTRA).
  { spec: CNN_EXTRA, data: { n: 6, loss: 'softmax-ce', classes: 3 }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  // AveragePooling2D 'same' with partial windows: tfjs's forward averages over the in-bounds cells (as TF),
  // but its AvgPoolGrad kernel (cpu, and wasm which uses it) divides by the full window size — the engine
  // must not inherit that inconsistency.
  { spec: AVGPOOL_SAME, data: { n: 6, loss: 'softmax-ce', classes: 3 }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  { spec: MAXPOOL_SAME, data: { n: 6, loss: 'softmax-ce', classes: 3 }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  // Issue 11: ZeroPadding2D, DepthwiseConv2D, SeparableConv2D, grouped Conv2D, Cropping2D, UpSampling2D, Rescaling.
  { spec: MOBILE_LAYERS, data: { n: 6, loss: 'softmax-ce', classes: 3 }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  // Binary cross-entropy from one sigmoid unit (the sigmoid dropped for the logit), inside Dense and as an Activation layer.
  { spec: BINARY_MLP, data: { n: 16, loss: 'binary-ce' }, etas: DEFAULT_ETAS, icsLr: 0.1 },
  { spec: BINARY_CNN, data: { n: 8, loss: 'binary-ce' }, etas: DEFAULT_ETAS, icsLr: 0.1 },
];

const summary: string[] = [];

CASES.forEach((c, i) => {
  const fx = buildFixture(c.spec, c.data, 1000 + i);
  const ref = probe64(fx.net, fx.x, fx.y, fx.loss, c.etas, c.icsLr);
  for (const backend of BACKENDS) {
    test(`probe ${c.spec.name} (${fx.loss}) on ${backend} matches the float64 reference`, async (t) => {
      const out = await runProbe([fx.modelPath, '--data', fx.dataPath, '--loss', fx.loss, '--eta', c.etas.join(','), '--ics-lr', String(c.icsLr), '--backend', backend]);
      const cmp = new Comparison(`${c.spec.name}/${backend}`);
      cmp.check('loss', out.loss, ref.loss);
      cmp.check('gradNorm', out.gradNorm, ref.gradNorm);
      if (!Array.isArray(out.eta) || out.eta.length !== c.etas.length || out.eta.some((e, k) => e !== c.etas[k])) cmp.fail(`eta: ${JSON.stringify(out.eta)} is not the list given (${c.etas})`);
      for (const field of ['lossAtEta', 'gradChange', 'betaAtEta'] as const) {
        if (!Array.isArray(out[field]) || out[field].length !== c.etas.length) {
          cmp.fail(`${field}: expected ${c.etas.length} values, got ${JSON.stringify(out[field])}`);
          continue;
        }
        c.etas.forEach((eta, k) => cmp.check(`${field}[η=${eta}]`, out[field][k], ref[field][k]));
      }
      cmp.check('beta', out.beta, ref.beta);
      // κ_G's natural scale is β(η) (|gᵀΔ| ≤ ‖g‖·‖Δ‖): a κ_G tiny next to β is resolved absolutely, as gradChange is.
      c.etas.forEach((eta, k) => cmp.check(`curvatureAtEta[η=${eta}]`, out.curvatureAtEta?.[k], ref.curvatureAtEta[k], ref.betaAtEta[k]));
      // κ_L divides a float32 loss difference by η²‖g‖²: compare it within its own rounding bound (the same
      // bound the engine uses to decide where it is resolved), or 1e-3 relative where that is larger.
      c.etas.forEach((eta, k) => {
        const bound = (2 * 1e-6 * (Math.abs(ref.loss) + Math.abs(ref.lossAtEta[k]))) / (eta * eta * ref.gradNorm ** 2);
        const a = out.descentFreeCurvatureAtEta?.[k];
        const r = ref.descentFreeCurvatureAtEta[k];
        if (typeof a !== 'number' || !(Math.abs(a - r) <= Math.max(1e-3 * Math.abs(r), bound)))
          cmp.fail(`descentFreeCurvatureAtEta[η=${eta}]: CLI ${a} vs reference ${r} (allowed ${Math.max(1e-3 * Math.abs(r), bound).toExponential(2)})`);
      });
      if (Array.isArray(out.betaAtEta) && out.beta !== Math.max(...out.betaAtEta)) cmp.fail(`beta ${out.beta} is not max(betaAtEta) = ${Math.max(...out.betaAtEta)}`);
      const names = Array.isArray(out.ics) ? out.ics.map((e) => e.layer) : [];
      if (JSON.stringify(names) !== JSON.stringify(fx.kernelLayers)) cmp.fail(`ics layers ${JSON.stringify(names)} are not the kernel layers in model order ${JSON.stringify(fx.kernelLayers)}`);
      else
        ref.ics.forEach((r, k) => {
          cmp.check(`ics[${r.layer}].l2`, out.ics[k].l2, r.l2, r.gNorm);
          cmp.checkCos(`ics[${r.layer}].cos`, out.ics[k].cos, r.cos);
        });
      // The first kernel layer has no earlier layer to step: by definition l2 = 0 and cos = 1.
      if (out.ics?.[0] && !(out.ics[0].l2 === 0 && out.ics[0].cos === 1)) cmp.fail(`first ics entry is {l2: ${out.ics[0].l2}, cos: ${out.ics[0].cos}}, expected exactly {l2: 0, cos: 1}`);
      if (out.backend !== backend) cmp.fail(`backend: ${JSON.stringify(out.backend)}, asked for ${backend}`);
      if (out.tfjsVersion !== tfjsCoreVersion()) cmp.fail(`tfjsVersion: ${JSON.stringify(out.tfjsVersion)}, installed tfjs-core is ${tfjsCoreVersion()}`);
      summary.push(cmp.report());
      t.diagnostic(cmp.report());
      assert.equal(cmp.failures.length, 0, cmp.report());
    });
  }
});

test('summary', () => {
  for (const s of summary) console.log(s);
});
