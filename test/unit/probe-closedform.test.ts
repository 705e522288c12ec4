// Closed form: one Dense layer (no bias, linear) with mse is a quadratic in its kernel W [d, k]:
//     L(W) = ‖XW − Y‖² / (N·k)
//     g    = ∇L(W) = (2/(N·k)) · Xᵀ(XW − Y)
//     H·D  = (2/(N·k)) · XᵀX·D                       (constant Hessian)
// so along the gradient, exactly (no Taylor remainder):
//     ∇L(W − ηg) − g = −η·H·g          ⇒ gradChange(η) = η·‖Hg‖,  betaAtEta(η) = ‖Hg‖/‖g‖ for every η
//     L(W − ηg) = L − η‖g‖² + (η²/2)·⟨g, Hg⟩ = L − η‖g‖² + η²·‖Xg‖²/(N·k)
// and with a single kernel layer ICS has one entry {l2: 0, cos: 1}. These formulas are evaluated here in
// float64 with plain matrix loops (no network code) and the CLI must match them to 1e-3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, Comparison, runProbe } from '../reference/cli';
import { buildFixture, SINGLE_DENSE, TWO_LINEAR } from '../reference/fixtures';

const fx = buildFixture(SINGLE_DENSE, { n: 16, loss: 'mse', targetDim: 3 }, 4242);
const layer = fx.net.layers[0] as { kernel: Float64Array };
const N = 16,
  d = 6,
  k = 3;
const X = fx.x.data,
  Y = fx.y,
  W = layer.kernel;

const matmulXt = (A: ArrayLike<number>): Float64Array => {
  // Xᵀ·A for A [N, k] → [d, k]
  const r = new Float64Array(d * k);
  for (let n = 0; n < N; n++) for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) r[i * k + j] += X[n * d + i] * A[n * k + j];
  return r;
};
const matmulX = (B: ArrayLike<number>): Float64Array => {
  // X·B for B [d, k] → [N, k]
  const r = new Float64Array(N * k);
  for (let n = 0; n < N; n++) for (let j = 0; j < k; j++) for (let i = 0; i < d; i++) r[n * k + j] += X[n * d + i] * B[i * k + j];
  return r;
};
const sq = (v: ArrayLike<number>): number => Array.from(v).reduce((s, a) => s + a * a, 0);

const R = matmulX(W).map((v, i) => v - Y[i]);
const L = sq(R) / (N * k);
const g = matmulXt(R).map((v) => (2 * v) / (N * k));
const Xg = matmulX(g);
const Hg = matmulXt(Xg).map((v) => (2 * v) / (N * k));
const gNorm = Math.sqrt(sq(g));
const HgNorm = Math.sqrt(sq(Hg));
// η up to 0.5 so the quadratic term of the loss is a sizeable part of the drop.
const ETAS = [0.01, 0.1, 0.5];

for (const backend of BACKENDS) {
  test(`closed form: single linear Dense with mse on ${backend}`, async (t) => {
    const out = await runProbe([fx.modelPath, '--data', fx.dataPath, '--loss', 'mse', '--eta', ETAS.join(','), '--backend', backend]);
    const cmp = new Comparison(`single_dense/${backend}`);
    cmp.check('loss', out.loss, L);
    cmp.check('gradNorm', out.gradNorm, gNorm);
    ETAS.forEach((eta, i) => {
      cmp.check(`lossAtEta[η=${eta}]`, out.lossAtEta?.[i], L - eta * gNorm ** 2 + (eta ** 2 * sq(Xg)) / (N * k));
      cmp.check(`gradChange[η=${eta}]`, out.gradChange?.[i], eta * HgNorm);
      cmp.check(`betaAtEta[η=${eta}]`, out.betaAtEta?.[i], HgNorm / gNorm);
    });
    cmp.check('beta', out.beta, HgNorm / gNorm);
    assert.deepEqual(out.ics, [{ layer: 'dense_1', l2: 0, cos: 1 }]);
    t.diagnostic(cmp.report());
    assert.equal(cmp.failures.length, 0, cmp.report());
  });
}

// ICS in closed form: two linear Dense layers W1 [6,4], W2 [4,3], mse, A = X·W1:
//     G  = ∂L/∂W2 = (2/(N·k)) · Aᵀ(A·W2 − Y),     g1 = ∂L/∂W1 = (2/(N·k)) · Xᵀ(A·W2 − Y)·W2ᵀ
//     W1' = W1 − lr·g1,  A' = X·W1',  G' = (2/(N·k)) · A'ᵀ(A'·W2 − Y)
const fx2 = buildFixture(TWO_LINEAR, { n: 16, loss: 'mse', targetDim: 3 }, 777);
const LR = 0.1;
function mm(A: ArrayLike<number>, B: ArrayLike<number>, m: number, p: number, q: number, transA = false): Float64Array {
  // (transA ? Aᵀ : A) [m, p] · B [p, q]
  const r = new Float64Array(m * q);
  for (let i = 0; i < m; i++) for (let j = 0; j < q; j++) for (let t = 0; t < p; t++) r[i * q + j] += (transA ? A[t * m + i] : A[i * p + t]) * B[t * q + j];
  return r;
}
function transpose(A: ArrayLike<number>, m: number, p: number): Float64Array {
  const r = new Float64Array(m * p);
  for (let i = 0; i < m; i++) for (let j = 0; j < p; j++) r[j * m + i] = A[i * p + j];
  return r;
}
const X2 = fx2.x.data,
  Y2 = fx2.y;
const W1 = (fx2.net.layers[0] as { kernel: Float64Array }).kernel,
  W2 = (fx2.net.layers[1] as { kernel: Float64Array }).kernel;
const c = 2 / (N * k);
const G2 = (w1: Float64Array): Float64Array => {
  const A = mm(X2, w1, N, 6, 4);
  const R = mm(A, W2, N, 4, 3).map((v, i) => v - Y2[i]);
  return mm(A, R, 4, N, 3, true).map((v) => c * v);
};
const A0 = mm(X2, W1, N, 6, 4);
const R0 = mm(A0, W2, N, 4, 3).map((v, i) => v - Y2[i]);
const g1 = mm(mm(X2, R0, 6, N, 3, true), transpose(W2, 4, 3), 6, 3, 4).map((v) => c * v);
const G = G2(W1);
const Gp = G2(W1.map((v, i) => v - LR * g1[i]));
const icsL2 = Math.sqrt(sq(G.map((v, i) => v - Gp[i])));
const icsCos = G.reduce((s, v, i) => s + v * Gp[i], 0) / Math.sqrt(sq(G) * sq(Gp));

for (const backend of BACKENDS) {
  test(`closed form: ICS of the second of two linear Dense layers (mse) on ${backend}`, async (t) => {
    const out = await runProbe([fx2.modelPath, '--data', fx2.dataPath, '--loss', 'mse', '--eta', '0.01', '--ics-lr', String(LR), '--backend', backend]);
    const cmp = new Comparison(`two_linear/${backend}`);
    assert.deepEqual(
      out.ics?.map((e) => e.layer),
      ['dense_1', 'dense_2'],
    );
    assert.deepEqual(out.ics[0], { layer: 'dense_1', l2: 0, cos: 1 });
    cmp.check('ics[dense_2].l2', out.ics[1].l2, icsL2, Math.sqrt(sq(G)));
    cmp.checkCos('ics[dense_2].cos', out.ics[1].cos, icsCos);
    t.diagnostic(cmp.report());
    assert.equal(cmp.failures.length, 0, cmp.report());
  });
}
