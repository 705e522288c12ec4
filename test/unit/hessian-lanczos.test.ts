// The host-side algorithms on matrices whose answers are known exactly, independent of tfjs: Lanczos'
// extremes against a diagonal matrix rotated by a random orthogonal one, and stochastic Lanczos quadrature
// against moments computed by direct matrix powers (Gauss quadrature with m nodes is exact for polynomials
// up to degree 2m − 1); Hutchinson's estimate on a matrix whose trace is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lanczos, symmetricEigen } from '../../src/engine/probes/lanczos';
import { measureHessian } from '../../src/engine/probes/hessian';
import { Rng } from '../reference/rng';

/** Q·diag(d)·Qᵀ with Q from Gram–Schmidt on Gaussian columns: eigenvalues exactly d. */
function withSpectrum(d: number[], rng: Rng): number[][] {
  const n = d.length;
  const Q: number[][] = [];
  for (let j = 0; j < n; j++) {
    const v = Array.from({ length: n }, () => rng.normal());
    for (const q of Q) {
      const c = q.reduce((a, b, i) => a + b * v[i], 0);
      for (let i = 0; i < n; i++) v[i] -= c * q[i];
    }
    const nv = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    Q.push(v.map((x) => x / nv));
  }
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Q.reduce((a, q, k) => a + q[i] * d[k] * q[j], 0)));
}

const operator = (A: number[][]) => {
  const op = {
    dim: A.length,
    count: 0,
    async apply(v: Float32Array) {
      op.count++;
      return Float32Array.from(A.map((row) => row.reduce((a, b, j) => a + b * v[j], 0)));
    },
  };
  return op;
};

test('symmetricEigen diagonalizes a matrix of known spectrum', () => {
  const d = [-3, -1, 0, 0.5, 2, 7];
  const e = symmetricEigen(withSpectrum(d, new Rng(1)));
  e.values.forEach((v, k) => assert.ok(Math.abs(v - d[k]) < 1e-10, `${v} vs ${d[k]}`));
});

test('Lanczos finds λ_max, λ_min and the top 3 of a 200-dimensional operator', async () => {
  const rng = new Rng(2);
  const d = Array.from({ length: 200 }, (_, i) => (i < 5 ? [9, 6.5, 6, -2.5, 4][i] : rng.normal() * 0.5));
  const A = withSpectrum(d, rng);
  const sorted = [...d].sort((a, b) => a - b);
  const start = Float32Array.from({ length: 200 }, () => (rng.uniform() < 0.5 ? -1 : 1));
  const r = await lanczos(operator(A).apply, start, { maxSteps: 200, tol: 1e-4, wanted: (t) => [0, t.length - 1, t.length - 2, t.length - 3] });
  const m = r.theta.length;
  assert.ok(m < 200, `took all ${m} steps`);
  for (const [got, want] of [
    [r.theta[m - 1], 9],
    [r.theta[m - 2], 6.5],
    [r.theta[m - 3], 6],
    [r.theta[0], sorted[0]],
  ])
    assert.ok(Math.abs(got - want) < 1e-3 * 9, `${got} vs ${want}`);
});

test('SLQ weights reproduce zᵀAʲz/‖z‖² for j ≤ 2m − 1 (Gauss quadrature)', async () => {
  const rng = new Rng(3);
  const n = 60;
  const A = withSpectrum(
    Array.from({ length: n }, () => rng.normal()),
    rng,
  );
  const z = Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? -1 : 1));
  const m = 8;
  const r = await lanczos(operator(A).apply, z, { maxSteps: m });
  assert.equal(r.theta.length, m);
  let v = Array.from(z, Number);
  const zz = v.reduce((a, b) => a + b * b, 0);
  for (let j = 0; j <= 2 * m - 1; j++) {
    const exact = Array.from(z, Number).reduce((a, b, i) => a + b * v[i], 0) / zz;
    const quad = r.theta.reduce((a, t, k) => a + r.weight[k] * t ** j, 0);
    assert.ok(Math.abs(quad - exact) <= 1e-5 * Math.max(1, Math.abs(exact)), `moment ${j}: ${quad} vs ${exact}`);
    v = A.map((row) => row.reduce((a, b, k) => a + b * v[k], 0));
  }
  assert.ok(Math.abs(r.startQuadratic - zz * (Array.from(z, Number).reduce((a, b, i) => a + b * A[i].reduce((s, x, k) => s + x * z[k], 0), 0) / zz)) < 1e-4);
});

test('measureHessian: trace within 4 standard errors, extremes, gᵀHg, seeded', async () => {
  const rng = new Rng(4);
  const n = 120;
  const d = Array.from({ length: n }, (_, i) => (i === 0 ? 12 : i === 1 ? -4 : rng.normal()));
  const A = withSpectrum(d, rng);
  const g = Float32Array.from({ length: n }, () => rng.normal());
  const opts = { top: 2, maxSteps: 120, tol: 1e-4, slqRuns: 2, slqSteps: 20, traceSamples: 30, seed: 9, bn: 'train' as const };
  const h = await measureHessian(operator(A), g, opts);
  const trace = d.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(h.trace - trace) <= 4 * h.traceStdErr, `trace ${h.trace} ± ${h.traceStdErr} vs ${trace}`);
  assert.equal(h.traceSamples, 30);
  assert.ok(Math.abs(h.lambdaMax - 12) < 1e-3 && Math.abs(h.lambdaMin + 4) < 1e-3, `${h.lambdaMax} ${h.lambdaMin}`);
  const Ag = A.map((row) => row.reduce((a, b, j) => a + b * g[j], 0));
  const gHg = Ag.reduce((a, b, i) => a + b * g[i], 0) / g.reduce((a, b) => a + b * b, 0);
  assert.ok(Math.abs(h.gHg! - gHg) < 1e-5 * Math.abs(gHg), `${h.gHg} vs ${gHg}`);
  assert.ok(Math.abs(h.density.weights.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  const again = await measureHessian(operator(A), g, opts);
  assert.equal(again.trace, h.trace);
  assert.deepEqual(again.density, h.density);
});
