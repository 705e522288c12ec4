// Synthetic sets: reproducible from the seed, the right shapes, and made the way they claim —
// checked by recomputing y = A·x in float64 and by recovering A from (x, y) with least squares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../../src/engine/data';
import { deepLinearData, gaussianClusters, GAUSSIAN_RADIUS } from '../../src/engine/data/synthetic';
import { throwsUserError } from './data-fixtures';

test('gaussian: same seed same data, other seed other data, shapes from the model', () => {
  const need = { inputShape: [8, 8, 1], outputs: 4, loss: 'auto' as const };
  const a = loadDataset('gaussian', need, { seed: 7 });
  const b = loadDataset('gaussian', need, { seed: 7 });
  const c = loadDataset('gaussian', need, { seed: 8 });
  assert.deepEqual(a.train.x, b.train.x);
  assert.deepEqual(a.test.labels, b.test.labels);
  assert.notDeepEqual(a.train.x, c.train.x);
  assert.equal(a.loss, 'softmax-ce');
  assert.deepEqual(a.inputShape, [8, 8, 1]);
  assert.equal(a.train.x.length, a.train.n * 64);
  assert.ok(a.train.n > 0 && a.test.n > 0);
  for (const l of a.train.labels!) assert.ok(l >= 0 && l < 4);
  assert.equal(new Set(a.train.labels!).size, 4);
});

test('gaussian: clusters sit at the stated means with unit noise and the documented spread', () => {
  const d = 50;
  const k = 3;
  const g = gaussianClusters(d, k, 3, 6000, 10);
  const sum = new Float64Array(k * d);
  const count = new Array(k).fill(0);
  for (let i = 0; i < g.train.n; i++) {
    const c = g.train.labels![i];
    count[c]++;
    for (let j = 0; j < d; j++) sum[c * d + j] += g.train.x[i * d + j];
  }
  let sq = 0;
  let resid = 0;
  let nres = 0;
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) {
      const m = sum[c * d + j] / count[c];
      // Standard error of a mean of ~2000 unit-variance values is ~0.022; allow 5 of them.
      assert.ok(Math.abs(m - g.means[c * d + j]) < 0.12, `class ${c} coordinate ${j}`);
      sq += g.means[c * d + j] ** 2;
    }
  }
  for (let i = 0; i < g.train.n; i++) {
    const c = g.train.labels![i];
    for (let j = 0; j < d; j++) {
      resid += (g.train.x[i * d + j] - g.means[c * d + j]) ** 2;
      nres++;
    }
  }
  assert.ok(Math.abs(resid / nres - 1) < 0.03, 'noise variance 1');
  // ‖μ_c‖² ≈ R² on average over the classes.
  assert.ok(Math.abs(sq / k / GAUSSIAN_RADIUS ** 2 - 1) < 0.5);
});

test('dln: y = A·x exactly (float64 recomputation) for train and held-out data, with 1000 training examples', () => {
  const ds = loadDataset('dln', { inputShape: [10], outputs: 6, loss: 'auto' }, { seed: 11 });
  assert.equal(ds.loss, 'mse');
  assert.equal(ds.train.n, 1000);
  assert.ok(ds.test.n > 0);
  assert.ok(ds.generator?.kind === 'dln');
  const A = ds.generator.A;
  assert.equal(A.length, 60);
  for (const s of [ds.train, ds.test]) {
    for (let i = 0; i < s.n; i++) {
      for (let r = 0; r < 6; r++) {
        let y = 0;
        for (let j = 0; j < 10; j++) y += A[r * 10 + j] * s.x[i * 10 + j];
        assert.equal(s.targets![i * 6 + r], Math.fround(y));
      }
    }
  }
  const again = loadDataset('dln', { inputShape: [10], outputs: 6, loss: 'mse' }, { seed: 11 });
  assert.deepEqual(again.train.targets, ds.train.targets);
});

test('dln: least squares on (x, y) recovers A, and A has roughly standard normal entries', () => {
  const d = 8;
  const k = 3;
  const { train, A } = deepLinearData(d, k, 5);
  // Normal equations (XᵀX) Âᵀ = XᵀY solved by Gaussian elimination in float64.
  const xtx = Array.from({ length: d }, () => new Float64Array(d));
  const xty = Array.from({ length: d }, () => new Float64Array(k));
  for (let i = 0; i < train.n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = train.x[i * d + a];
      for (let b = 0; b < d; b++) xtx[a][b] += xa * train.x[i * d + b];
      for (let r = 0; r < k; r++) xty[a][r] += xa * train.targets![i * k + r];
    }
  }
  for (let p = 0; p < d; p++) {
    for (let q = p + 1; q < d; q++) {
      const f = xtx[q][p] / xtx[p][p];
      for (let b = p; b < d; b++) xtx[q][b] -= f * xtx[p][b];
      for (let r = 0; r < k; r++) xty[q][r] -= f * xty[p][r];
    }
  }
  const sol = Array.from({ length: d }, () => new Float64Array(k));
  for (let p = d - 1; p >= 0; p--) {
    for (let r = 0; r < k; r++) {
      let s = xty[p][r];
      for (let b = p + 1; b < d; b++) s -= xtx[p][b] * sol[b][r];
      sol[p][r] = s / xtx[p][p];
    }
  }
  for (let r = 0; r < k; r++) for (let j = 0; j < d; j++) assert.ok(Math.abs(sol[j][r] - A[r * d + j]) < 1e-4, `A[${r}][${j}]`);
  const big = deepLinearData(40, 40, 9, 1, 1).A;
  const mean = big.reduce((s, v) => s + v, 0) / big.length;
  const variance = big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length;
  assert.ok(Math.abs(mean) < 0.1 && Math.abs(variance - 1) < 0.15, `mean ${mean}, variance ${variance}`);
});

test('gaussian needs two or more outputs; dln is regression only', () => {
  throwsUserError(() => loadDataset('gaussian', { inputShape: [4], outputs: 1, loss: 'auto' }, { seed: 1 }), undefined, /2 or more/, /this one has 1/);
  throwsUserError(() => loadDataset('dln', { inputShape: [10], outputs: 10, loss: 'softmax-ce' }, { seed: 1 }), undefined, /regression/, /--loss mse/);
});
