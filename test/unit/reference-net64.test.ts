// Validates the float64 reference (test/reference/net64.ts) on its own: analytic gradients against central
// finite differences on tiny networks covering every layer kind, and forward passes against hand
// computations (BatchNorm, TF 'same' padding, average pooling over valid elements).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisGeometry, forward, getParams, lossAndGrad, lossOnly, paramRefs, probe64, withParams, type Layer, type LossName, type Net64, type T64 } from '../reference/net64';
import { Rng } from '../reference/rng';

function randArr(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal() * scale);
}

/** Max over params of |analytic − central FD|, relative to the largest gradient entry. */
function fdCheck(net: Net64, x: T64, y: ArrayLike<number>, loss: LossName, h = 1e-6): number {
  const { grads } = lossAndGrad(net, x, y, loss);
  const w = getParams(net);
  let maxErr = 0,
    maxG = 0;
  w.forEach((wk, k) => {
    for (let i = 0; i < wk.length; i++) {
      const plus = w.map((a) => a.slice());
      const minus = w.map((a) => a.slice());
      plus[k][i] += h;
      minus[k][i] -= h;
      const fd = (lossOnly(withParams(net, plus), x, y, loss) - lossOnly(withParams(net, minus), x, y, loss)) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(fd - grads[k][i]));
      maxG = Math.max(maxG, Math.abs(grads[k][i]));
    }
  });
  assert.ok(maxG > 1e-3, 'gradient is not trivially zero');
  return maxErr / maxG;
}

function dense(rng: Rng, name: string, inDim: number, units: number, activation: Layer & { kind: 'dense' } extends { activation: infer A } ? A : never, bias = true): Layer {
  return { kind: 'dense', name, units, activation, kernel: randArr(rng, inDim * units, 1 / Math.sqrt(inDim)), bias: bias ? randArr(rng, units, 0.3) : null };
}
function bn(rng: Rng, name: string, c: number, center = true, scale = true): Layer {
  return {
    kind: 'batchnorm',
    name,
    epsilon: 1e-3,
    gamma: scale ? Float64Array.from({ length: c }, () => 0.5 + rng.uniform()) : null,
    beta: center ? randArr(rng, c, 0.5) : null,
  };
}

test('geometry follows TF same/valid padding', () => {
  assert.deepEqual(axisGeometry(4, 3, 2, 'same'), { out: 2, before: 0 }); // total 1: all after
  assert.deepEqual(axisGeometry(5, 3, 2, 'same'), { out: 3, before: 1 });
  assert.deepEqual(axisGeometry(8, 3, 1, 'same'), { out: 8, before: 1 });
  assert.deepEqual(axisGeometry(8, 2, 2, 'same'), { out: 4, before: 0 });
  assert.deepEqual(axisGeometry(7, 4, 1, 'same'), { out: 7, before: 1 }); // total 3: 1 before, 2 after
  assert.deepEqual(axisGeometry(6, 3, 1, 'valid'), { out: 4, before: 0 });
  assert.deepEqual(axisGeometry(7, 2, 2, 'valid'), { out: 3, before: 0 });
});

test('BatchNorm forward matches a hand computation (2D and 4D, biased variance, epsilon)', () => {
  // 3 samples, 2 channels. Channel 0: 1,3,5 → mean 3, biased var 8/3. Channel 1: 2,6,4 → mean 4, var 8/3.
  const layer: Layer = { kind: 'batchnorm', name: 'bn', epsilon: 0.5, gamma: Float64Array.of(2, -1), beta: Float64Array.of(0.25, 1) };
  const x: T64 = { shape: [3, 2], data: Float64Array.of(1, 2, 3, 6, 5, 4) };
  const out = forward({ inputShape: [2], layers: [layer] }, x).out.data;
  const s = Math.sqrt(8 / 3 + 0.5);
  const expected = [2 * (-2 / s) + 0.25, -1 * (-2 / s) + 1, 0.25, -1 * (2 / s) + 1, 2 * (2 / s) + 0.25, 0 + 1];
  expected.forEach((e, i) => assert.ok(Math.abs(out[i] - e) < 1e-14, `${i}: ${out[i]} vs ${e}`));
  // 4D: N=2, H=1, W=2, C=1: values 0, 2 | 4, 6 pooled over batch, H, W → mean 3, var (9+1+1+9)/4 = 5.
  const x4: T64 = { shape: [2, 1, 2, 1], data: Float64Array.of(0, 2, 4, 6) };
  const l4: Layer = { kind: 'batchnorm', name: 'bn', epsilon: 1e-3, gamma: null, beta: null };
  const o4 = forward({ inputShape: [1, 2, 1], layers: [l4] }, x4).out.data;
  [0, 2, 4, 6].forEach((v, i) => assert.ok(Math.abs(o4[i] - (v - 3) / Math.sqrt(5 + 1e-3)) < 1e-14));
});

test('Conv2D same padding (asymmetric, stride 2) and AveragePooling same over valid elements', () => {
  // 1×4×4×1 input 0..15, 3×3 all-ones kernel, stride 2, same: out 2×2, pad 0 before / 1 after.
  const x: T64 = { shape: [1, 4, 4, 1], data: Float64Array.from({ length: 16 }, (_, i) => i) };
  const conv: Layer = {
    kind: 'conv2d',
    name: 'c',
    filters: 1,
    kernelSize: [3, 3],
    strides: [2, 2],
    padding: 'same',
    activation: 'linear',
    kernel: new Float64Array(9).fill(1),
    bias: null,
  };
  const sum = (rows: number[], cols: number[]) => rows.reduce((s, r) => s + cols.reduce((t, c) => t + r * 4 + c, 0), 0);
  const o = forward({ inputShape: [4, 4, 1], layers: [conv] }, x).out;
  assert.deepEqual(o.shape, [1, 2, 2, 1]);
  assert.deepEqual(Array.from(o.data), [sum([0, 1, 2], [0, 1, 2]), sum([0, 1, 2], [2, 3]), sum([2, 3], [0, 1, 2]), sum([2, 3], [2, 3])]);
  // avg pool 3×3 stride 2 same: same windows, divided by the number of in-bounds cells (9, 6, 6, 4).
  const pool: Layer = { kind: 'pool', name: 'p', op: 'avg', poolSize: [3, 3], strides: [2, 2], padding: 'same' };
  const p = forward({ inputShape: [4, 4, 1], layers: [pool] }, x).out;
  assert.deepEqual(Array.from(p.data), [sum([0, 1, 2], [0, 1, 2]) / 9, sum([0, 1, 2], [2, 3]) / 6, sum([2, 3], [0, 1, 2]) / 6, sum([2, 3], [2, 3]) / 4]);
  const mp: Layer = { kind: 'pool', name: 'm', op: 'max', poolSize: [3, 3], strides: [2, 2], padding: 'same' };
  assert.deepEqual(Array.from(forward({ inputShape: [4, 4, 1], layers: [mp] }, x).out.data), [10, 11, 14, 15]);
});

test('softmax-ce uses the input of a final softmax as logits; mse is the mean over all elements', () => {
  const net: Net64 = { inputShape: [2], layers: [{ kind: 'dense', name: 'd', units: 3, activation: 'softmax', kernel: Float64Array.of(1, 0, -1, 0.5, 2, 0), bias: null }] };
  const x: T64 = { shape: [1, 2], data: Float64Array.of(1, 1) }; // logits 1.5, 2, -1
  const l = lossOnly(net, x, [1], 'softmax-ce');
  assert.ok(Math.abs(l - (Math.log(Math.exp(1.5) + Math.exp(2) + Math.exp(-1)) - 2)) < 1e-14);
  const lm = lossOnly({ inputShape: [2], layers: [{ ...net.layers[0], activation: 'linear' } as Layer] }, x, [1, 2, 3], 'mse');
  assert.ok(Math.abs(lm - (0.25 + 0 + 16) / 3) < 1e-14);
});

test('finite differences: MLP with bias, BN (center/scale variants), Activation layers, softmax-ce', () => {
  const rng = new Rng(1);
  const net: Net64 = {
    inputShape: [5],
    layers: [
      dense(rng, 'd1', 5, 4, 'relu'),
      dense(rng, 'd2', 4, 6, 'linear', false),
      bn(rng, 'bn1', 6),
      { kind: 'activation', name: 'a1', activation: 'relu' },
      { kind: 'dropout', name: 'drop' },
      dense(rng, 'd3', 6, 4, 'linear', false),
      bn(rng, 'bn2', 4, false, true),
      dense(rng, 'd4', 4, 4, 'linear'),
      bn(rng, 'bn3', 4, true, false),
      dense(rng, 'd5', 4, 3, 'softmax'),
    ],
  };
  const x: T64 = { shape: [7, 5], data: randArr(rng, 35) };
  const y = Array.from({ length: 7 }, (_, i) => i % 3);
  assert.equal(paramRefs(net).length, 12);
  const err = fdCheck(net, x, y, 'softmax-ce');
  assert.ok(err < 1e-6, `relative FD error ${err}`);
});

test('finite differences: CNN with conv same/valid/stride, BN 4D, max/avg pooling, global avg pool, flatten, mse', () => {
  const rng = new Rng(2);
  const conv = (name: string, cin: number, f: number, k: number, s: number, padding: 'same' | 'valid', activation: 'relu' | 'linear', bias: boolean): Layer => ({
    kind: 'conv2d',
    name,
    filters: f,
    kernelSize: [k, k],
    strides: [s, s],
    padding,
    activation,
    kernel: randArr(rng, k * k * cin * f, 1 / Math.sqrt(k * k * cin)),
    bias: bias ? randArr(rng, f, 0.2) : null,
  });
  const net: Net64 = {
    inputShape: [7, 7, 2],
    layers: [
      conv('c1', 2, 3, 3, 2, 'same', 'linear', true), // 7→4 (asymmetric pad)
      bn(rng, 'bn1', 3),
      { kind: 'activation', name: 'r1', activation: 'relu' },
      { kind: 'pool', name: 'mp', op: 'max', poolSize: [2, 2], strides: [1, 1], padding: 'same' }, // 4→4
      conv('c2', 3, 4, 2, 1, 'valid', 'relu', false), // 4→3
      { kind: 'pool', name: 'ap', op: 'avg', poolSize: [2, 2], strides: [2, 2], padding: 'same' }, // 3→2, partial windows
      conv('c3', 4, 2, 1, 1, 'valid', 'linear', true),
      bn(rng, 'bn2', 2),
      { kind: 'flatten', name: 'f' },
      dense(rng, 'd', 8, 3, 'linear'),
    ],
  };
  const x: T64 = { shape: [3, 7, 7, 2], data: randArr(rng, 3 * 7 * 7 * 2) };
  const y = randArr(rng, 9);
  assert.deepEqual(
    forward(net, x).shapes.map((s) => s.slice(1)),
    [[4, 4, 3], [4, 4, 3], [4, 4, 3], [4, 4, 3], [3, 3, 4], [2, 2, 4], [2, 2, 2], [2, 2, 2], [8], [3]],
  );
  const err = fdCheck(net, x, y, 'mse');
  assert.ok(err < 1e-6, `relative FD error ${err}`);
  // Global average pooling path with softmax-ce.
  const net2: Net64 = { inputShape: [7, 7, 2], layers: [conv('c', 2, 3, 3, 1, 'same', 'relu', true), bn(rng, 'b', 3), { kind: 'globalavgpool', name: 'g' }, dense(rng, 'd', 3, 4, 'linear')] };
  const err2 = fdCheck(net2, x, [0, 3, 1], 'softmax-ce');
  assert.ok(err2 < 1e-6, `relative FD error ${err2}`);
});

test('probe64 fields follow their definitions (small-η limits; ICS recomputed by hand)', () => {
  const rng = new Rng(3);
  const net: Net64 = { inputShape: [4], layers: [dense(rng, 'a', 4, 5, 'linear', false), bn(rng, 'n', 5), { kind: 'activation', name: 'r', activation: 'relu' }, dense(rng, 'b', 5, 3, 'linear')] };
  const x: T64 = { shape: [6, 4], data: randArr(rng, 24) };
  const y = [0, 1, 2, 0, 1, 2];
  const p = probe64(net, x, y, 'softmax-ce', [1e-7, 0.1], 0.1);
  const { loss, grads } = lossAndGrad(net, x, y, 'softmax-ce');
  assert.equal(p.loss, loss);
  // lossAtEta[0] ≈ L − η‖g‖² for tiny η.
  assert.ok(Math.abs(p.lossAtEta[0] - (loss - 1e-7 * p.gradNorm ** 2)) < 1e-12);
  assert.equal(p.beta, Math.max(...p.betaAtEta));
  assert.deepEqual(
    p.ics.map((e) => e.layer),
    ['a', 'b'],
  );
  assert.equal(p.ics[0].l2, 0);
  assert.ok(Math.abs(p.ics[0].cos - 1) < 1e-15);
  // Second kernel layer: recompute with the earlier layers (a's kernel, n's gamma and beta) stepped.
  const w = getParams(net);
  const stepped = w.map((wk, k) => (k < 3 ? wk.map((v, j) => v - 0.1 * grads[k][j]) : wk));
  const G2 = lossAndGrad(withParams(net, stepped), x, y, 'softmax-ce').grads[3];
  const l2 = Math.sqrt(G2.reduce((s, v, j) => s + (v - grads[3][j]) ** 2, 0));
  assert.ok(l2 > 1e-4);
  assert.ok(Math.abs(p.ics[1].l2 - l2) < 1e-15);
});

test('probe64 on a single linear Dense with mse equals the quadratic closed form', () => {
  const rng = new Rng(5);
  const N = 9,
    d = 4,
    k = 3;
  const W = randArr(rng, d * k),
    X = randArr(rng, N * d),
    Y = randArr(rng, N * k);
  const net: Net64 = { inputShape: [d], layers: [{ kind: 'dense', name: 'w', units: k, activation: 'linear', kernel: W, bias: null }] };
  const xw = (B: Float64Array) =>
    Float64Array.from({ length: N * k }, (_, t) => {
      let s = 0;
      for (let i = 0; i < d; i++) s += X[Math.floor(t / k) * d + i] * B[i * k + (t % k)];
      return s;
    });
  const xt = (A: Float64Array) =>
    Float64Array.from({ length: d * k }, (_, t) => {
      let s = 0;
      for (let n = 0; n < N; n++) s += X[n * d + Math.floor(t / k)] * A[n * k + (t % k)];
      return s;
    });
  const nrm = (v: Float64Array) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  const R = xw(W).map((v, i) => v - Y[i]);
  const g = xt(R).map((v) => (2 * v) / (N * k));
  const Hg = xt(xw(g)).map((v) => (2 * v) / (N * k));
  const etas = [0.01, 0.3, 2];
  const p = probe64(net, { shape: [N, d], data: X }, Y, 'mse', etas, 0.1);
  const L = nrm(R) ** 2 / (N * k);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
  close(p.loss, L);
  close(p.gradNorm, nrm(g));
  etas.forEach((eta, i) => {
    close(p.gradChange[i], eta * nrm(Hg));
    close(p.lossAtEta[i], L - eta * nrm(g) ** 2 + (eta ** 2 * nrm(xw(g)) ** 2) / (N * k));
  });
});
