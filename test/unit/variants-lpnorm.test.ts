// ℓp normalization (the l1/l2/linf variants; Santurkar et al. Sec. 3.3), as the engine's forward pass computes
// it, against a float64 implementation written here from the formula the project documents:
//     y = γ·(x − mean(x)) / (s + ε) + β,  per unit (last axis), statistics over the batch (and H, W),
//     s = mean|x| (p = 1),  √mean(x²) (p = 2),  max|x| (p = ∞),  ε = 1e-3
// (s is taken before the mean is subtracted). The gradient: a hand-derived float64 gradient of Σ R·y, itself
// checked against float64 central finite differences, then tfjs' gradient (tf.grad through the engine's
// forward) against it to 1e-3 — finite differences of the float32 function would be too noisy.
// On the cpu and wasm backends, 2D [batch, units] and 4D [batch, H, W, channels] inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '../../src/engine/backend';
import { ForwardModel, type TF } from '../../src/engine/network/forward';
import type { LayerNode } from '../../src/engine/network/ir';
import { inferShapes } from '../../src/engine/network/shapes';
import { Rng } from '../../src/engine/rng';
import { LP_EPSILON } from '../../src/engine/variants';

type P = 1 | 2 | 'inf';
const EPS = 1e-3;

/** Float64 forward, flat row-major with units last. */
function lp64(x: Float64Array, units: number, p: P, gamma: Float64Array, beta: Float64Array): Float64Array {
  const n = x.length / units;
  const y = new Float64Array(x.length);
  for (let j = 0; j < units; j++) {
    let mu = 0;
    for (let i = 0; i < n; i++) mu += x[i * units + j];
    mu /= n;
    const s = scale64(x, units, j, p);
    for (let i = 0; i < n; i++) y[i * units + j] = (gamma[j] * (x[i * units + j] - mu)) / (s + EPS) + beta[j];
  }
  return y;
}

function scale64(x: Float64Array, units: number, j: number, p: P): number {
  const n = x.length / units;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i * units + j];
    if (p === 1) s += Math.abs(v) / n;
    else if (p === 2) s += (v * v) / n;
    else s = Math.max(s, Math.abs(v));
  }
  return p === 2 ? Math.sqrt(s) : s;
}

/** Hand-derived gradient of Σ_i R_i·y_i with respect to x, γ and β. */
function lpGrad64(x: Float64Array, units: number, p: P, gamma: Float64Array, R: Float64Array) {
  const n = x.length / units;
  const dx = new Float64Array(x.length);
  const dg = new Float64Array(units);
  const db = new Float64Array(units);
  for (let j = 0; j < units; j++) {
    let mu = 0;
    let rbar = 0;
    for (let i = 0; i < n; i++) {
      mu += x[i * units + j] / n;
      rbar += R[i * units + j] / n;
    }
    const s = scale64(x, units, j, p);
    const d = s + EPS;
    let c = 0; // Σ R_i (x_i − μ)
    let argmax = 0;
    for (let i = 0; i < n; i++) {
      const k = i * units + j;
      c += R[k] * (x[k] - mu);
      db[j] += R[k];
      if (Math.abs(x[k]) > Math.abs(x[argmax * units + j])) argmax = i;
    }
    dg[j] = c / d;
    for (let i = 0; i < n; i++) {
      const k = i * units + j;
      const dsdx = p === 1 ? Math.sign(x[k]) / n : p === 2 ? x[k] / (n * s) : i === argmax ? Math.sign(x[k]) : 0;
      dx[k] = (gamma[j] / d) * (R[k] - rbar) - ((gamma[j] * c) / (d * d)) * dsdx;
    }
  }
  return { dx, dg, db };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
};

interface Case {
  shape: number[];
}
const CASES: Case[] = [{ shape: [16, 5] }, { shape: [4, 3, 3, 4] }];
const PS: P[] = [1, 2, 'inf'];

test('the documented ε is the engine’s', () => assert.equal(LP_EPSILON, EPS));

test('float64 reference: the hand-derived gradient matches central finite differences (1e-6)', () => {
  const rng = new Rng(11);
  for (const { shape } of CASES) {
    const units = shape[shape.length - 1];
    const size = shape.reduce((a, b) => a * b, 1);
    for (const p of PS) {
      const x = Float64Array.from({ length: size }, () => rng.normal() + 0.3);
      const R = Float64Array.from({ length: size }, () => rng.normal());
      const gamma = Float64Array.from({ length: units }, () => 0.5 + rng.uniform());
      const beta = Float64Array.from({ length: units }, () => rng.normal());
      const f = (xx: Float64Array, gg: Float64Array, bb: Float64Array) => dot(lp64(xx, units, p, gg, bb), R);
      const g = lpGrad64(x, units, p, gamma, R);
      const h = 1e-6;
      const fd = (v: Float64Array, which: 'x' | 'g' | 'b') =>
        Float64Array.from(v, (_, k) => {
          const up = v.slice();
          const dn = v.slice();
          up[k] += h;
          dn[k] -= h;
          const call = (w: Float64Array) => (which === 'x' ? f(w, gamma, beta) : which === 'g' ? f(x, w, beta) : f(x, gamma, w));
          return (call(up) - call(dn)) / (2 * h);
        });
      assert.ok(relErr(g.dx, fd(x, 'x')) < 1e-6, `p=${p} ${shape}: dx vs FD ${relErr(g.dx, fd(x, 'x'))}`);
      assert.ok(relErr(g.dg, fd(gamma, 'g')) < 1e-6, `p=${p}: dγ vs FD`);
      assert.ok(relErr(g.db, fd(beta, 'b')) < 1e-6, `p=${p}: dβ vs FD`);
    }
  }
});

for (const backendName of ['cpu', 'wasm'] as const) {
  test(`engine lpnorm forward and gradient vs float64 on ${backendName} (p = 1, 2, ∞; 2D and 4D)`, async () => {
    const backend = await initBackend(backendName);
    const tf = backend.tf as unknown as TF;
    const rng = new Rng(12);
    for (const { shape } of CASES) {
      const units = shape[shape.length - 1];
      const size = shape.reduce((a, b) => a * b, 1);
      for (const p of PS) {
        const layers: LayerNode[] = [
          { kind: 'input', name: 'in', className: 'InputLayer', inbound: [], shape: shape.slice(1) },
          { kind: 'lpnorm', name: 'norm', className: 'LpNormalization', inbound: ['in'], p, epsilon: LP_EPSILON },
        ];
        const info = inferShapes(layers, 'lp.json');
        assert.deepEqual(
          info.params.map((q) => q.role),
          ['gamma', 'beta'],
          'lpnorm has a learnable scale and shift',
        );
        const model = new ForwardModel(layers, 'norm', info, false);
        // float32 values so both sides see the same inputs.
        const x = Float64Array.from({ length: size }, () => Math.fround(rng.normal() * 1.5 + 0.4));
        const R = Float64Array.from({ length: size }, () => Math.fround(rng.normal()));
        const gamma = Float64Array.from({ length: units }, () => Math.fround(0.5 + rng.uniform()));
        const beta = Float64Array.from({ length: units }, () => Math.fround(rng.normal()));
        const ref = lp64(x, units, p, gamma, beta);
        const refGrad = lpGrad64(x, units, p, gamma, R);
        const xt = tf.tensor(Float32Array.from(x), shape);
        const params = [tf.tensor(Float32Array.from(gamma), [units]), tf.tensor(Float32Array.from(beta), [units])];
        const Rt = tf.tensor(Float32Array.from(R), shape);
        const y = model.forward(tf, params, xt, { training: true });
        assert.deepEqual(y.shape, shape);
        const yv = await y.data();
        const fErr = relErr(yv, ref);
        assert.ok(fErr < 1e-5, `p=${p} ${shape}: forward differs from float64 by ${fErr} (relative to max |y|)`);
        const grads = tf.grads((xx, g, b) => tf.sum(tf.mul(model.forward(tf, [g, b], xx, { training: true }), Rt)))([xt, ...params]);
        const [dx, dg, db] = await Promise.all(grads.map((t) => t.data()));
        assert.ok(relErr(dx, refGrad.dx) < 1e-3, `p=${p} ${shape}: dL/dx differs from float64 by ${relErr(dx, refGrad.dx)}`);
        assert.ok(relErr(dg, refGrad.dg) < 1e-3, `p=${p} ${shape}: dL/dγ differs by ${relErr(dg, refGrad.dg)}`);
        assert.ok(relErr(db, refGrad.db) < 1e-3, `p=${p} ${shape}: dL/dβ differs by ${relErr(db, refGrad.db)}`);
        tf.dispose([xt, ...params, Rt, y, ...grads]);
      }
    }
  });
}
