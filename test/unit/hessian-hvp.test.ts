// Hessian-vector products from nested tf.grad, as the engine computes them, against float64:
//  1. every op whose tfjs gradient reuses its saved output (Exp — also inside logSumExp, the engine's
//     softmax cross-entropy — Softmax, Sigmoid, Tanh, Elu, Pow; tf.logSoftmax is a customGrad in tfjs that
//     cannot be differentiated twice at all, and the engine does not use it) — the tfjs 4.22 second-order bug (issue 3252) — against central
//     differences of closed-form float64 gradients; and, to show the check has teeth, tfjs' own Exp
//     gradient put back for a moment fails it;
//  2. Hv for random v on the MNIST MLP of examples/ (235k weights, 128 real digits) against the float64
//     reference network (test/reference/net64.ts) to 1e-4 relative;
// on the wasm and cpu backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { initialWeights, loadNetwork, paramKey } from '../../src/engine/network/load';
import { forwardModel, startRun } from '../../src/engine/startup';
import { batchTensors, paramTensors } from '../../src/engine/tensors';
import { flatHessian } from '../../src/engine/probes/hvp';
import { hessianVector64, type Layer, type Net64 } from '../reference/net64';
import { Rng } from '../reference/rng';

const ROOT = join(__dirname, '..', '..');
type TF = Awaited<ReturnType<typeof initBackend>>['tf'];

interface Fn {
  name: string;
  /** The function in tfjs ops (a scalar). */
  tf: (tf: TF, w: Tensor, c: Tensor) => Tensor;
  /** Its gradient in float64, closed form. */
  grad: (w: Float64Array, c: Float64Array) => Float64Array;
  /** Where to draw w (away from kinks). */
  lo: number;
  hi: number;
}

const softmax64 = (w: Float64Array) => {
  const m = Math.max(...w);
  const e = w.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const sig = (x: number) => 1 / (1 + Math.exp(-x));

const FNS: Fn[] = [
  { name: 'Exp', tf: (tf, w, c) => tf.sum(tf.mul(c, tf.exp(w))), grad: (w, c) => w.map((x, i) => c[i] * Math.exp(x)), lo: -1, hi: 1 },
  { name: 'Sigmoid', tf: (tf, w, c) => tf.sum(tf.mul(c, tf.sigmoid(w))), grad: (w, c) => w.map((x, i) => c[i] * sig(x) * (1 - sig(x))), lo: -2, hi: 2 },
  { name: 'Tanh', tf: (tf, w, c) => tf.sum(tf.mul(c, tf.tanh(w))), grad: (w, c) => w.map((x, i) => c[i] * (1 - Math.tanh(x) ** 2)), lo: -2, hi: 2 },
  { name: 'Elu', tf: (tf, w, c) => tf.sum(tf.mul(c, tf.elu(w))), grad: (w, c) => w.map((x, i) => c[i] * (x > 0 ? 1 : Math.exp(x))), lo: -2, hi: -0.1 },
  { name: 'Pow', tf: (tf, w, c) => tf.sum(tf.mul(c, tf.pow(w, tf.scalar(3)))), grad: (w, c) => w.map((x, i) => 3 * c[i] * x * x), lo: 0.2, hi: 1.5 },
  {
    name: 'Softmax',
    tf: (tf, w, c) => tf.sum(tf.mul(c, tf.softmax(w))),
    grad: (w, c) => {
      const p = softmax64(w);
      const cp = p.reduce((a, b, i) => a + b * c[i], 0);
      return p.map((x, i) => x * (c[i] - cp));
    },
    lo: -2,
    hi: 2,
  },
  { name: 'logSumExp (softmax cross-entropy)', tf: (tf, w) => tf.logSumExp(w), grad: (w) => softmax64(w), lo: -2, hi: 2 },
];

/** Hv by central differences of the float64 gradient (smooth functions: exact to ~1e-10). */
function hv64(fn: Fn, w: Float64Array, c: Float64Array, v: Float64Array): Float64Array {
  const h = 1e-5;
  const gp = fn.grad(
    w.map((x, i) => x + h * v[i]),
    c,
  );
  const gm = fn.grad(
    w.map((x, i) => x - h * v[i]),
    c,
  );
  return gp.map((x, i) => (x - gm[i]) / (2 * h));
}

function hvTf(tf: TF, fn: Fn, w: Float32Array, c: Float32Array, v: Float32Array): Float32Array {
  return tf.tidy(() => {
    const ct = tf.tensor1d(c);
    const vt = tf.tensor1d(v);
    const gv = (x: Tensor) => tf.sum(tf.mul(tf.grad((y: Tensor) => fn.tf(tf, y, ct))(x), vt));
    return tf.grad(gv)(tf.tensor1d(w)).dataSync() as Float32Array;
  });
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`second derivatives through ops that save their outputs are exact on ${backend} (tfjs issue 3252)`, async () => {
    const { tf } = await initBackend(backend);
    const rng = new Rng(11);
    for (const fn of FNS) {
      const n = 7;
      const w = Float32Array.from({ length: n }, () => fn.lo + (fn.hi - fn.lo) * rng.uniform());
      const c = Float32Array.from({ length: n }, () => rng.normal());
      const v = Float32Array.from({ length: n }, () => rng.normal());
      const want = hv64(fn, Float64Array.from(w), Float64Array.from(c), Float64Array.from(v));
      let got: Float32Array;
      try {
        got = hvTf(tf, fn, w, c, v);
      } catch (e) {
        throw new Error(`${fn.name}: ${(e as Error).message}`, { cause: e });
      }
      const err = relErr(got, want);
      assert.ok(err < 1e-4, `${fn.name}: Hv off by ${err.toExponential(2)} relative (got ${Array.from(got)}, float64 ${Array.from(want)})`);
    }
    // The check has teeth: with tfjs' shipped Exp gradient (dy·y, y the saved output) put back, the
    // softmax cross-entropy's Hv comes out wrong, and Exp alone cannot be differentiated twice at all.
    const ours = tf.getGradient('Exp') as GradConfig;
    tf.registerGradient({ kernelName: 'Exp', outputsToSave: [true], gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as Tensor, saved[0]) }) });
    try {
      const lse = FNS.find((f) => f.name.startsWith('logSumExp'))!;
      const w = Float32Array.from([0.3, -0.2, 0.5, 1.1]),
        c = Float32Array.from([1, 2, -1, 0.5]),
        v = Float32Array.from([1, -1, 0.5, 2]);
      const err = relErr(hvTf(tf, lse, w, c, v), hv64(lse, Float64Array.from(w), Float64Array.from(c), Float64Array.from(v)));
      assert.ok(err > 0.1, `tfjs' own Exp gradient gave a correct Hv through logSumExp (error ${err}): has tfjs fixed issue 3252?`);
      assert.throws(() => hvTf(tf, FNS[0], w, c, v), /Cannot compute gradient/);
    } finally {
      tf.registerGradient(ours);
    }
  });

  test(`Hv on the MNIST MLP (235k weights, 128 digits) matches the float64 reference to 1e-4 on ${backend}`, async () => {
    const net = loadNetwork(join(ROOT, 'examples', 'mlp-mnist.json'));
    const { tf, ds } = await startRun(net, { dataset: 'mnist', loss: 'auto', seed: 0, backend });
    const n = 128;
    const width = ds.train.x.length / ds.train.n;
    const rows = { n, x: ds.train.x.subarray(0, n * width), labels: ds.train.labels!.subarray(0, n) };
    const batch = batchTensors(tf, ds, rows);
    const weights = initialWeights(net, 0);
    const params = paramTensors(tf, net.info, weights);
    // The same network in the reference, weights widened to float64.
    const layers: Layer[] = net.spec.layers
      .filter((l) => l.kind === 'dense')
      .map((l) => {
        const d = l as Extract<typeof l, { kind: 'dense' }>;
        return {
          kind: 'dense',
          name: d.name,
          units: d.units,
          activation: d.activation === 'relu' ? 'relu' : d.activation === 'softmax' ? 'softmax' : 'linear',
          kernel: Float64Array.from(weights.get(paramKey(d.name, 'kernel'))!),
          bias: Float64Array.from(weights.get(paramKey(d.name, 'bias'))!),
        };
      });
    const net64: Net64 = { inputShape: [784], layers };
    assert.deepEqual(
      net.info.params.map((p) => `${p.layer}/${p.role}`),
      layers.flatMap((l) => [`${l.name}/kernel`, `${l.name}/bias`]),
    );
    const op = flatHessian({ tf, model: forwardModel(net, ds.loss), loss: ds.loss, forward: { training: true }, params, x: batch.x, y: batch.y });
    const rng = new Rng(12);
    for (let k = 0; k < 2; k++) {
      const v = Float32Array.from({ length: op.dim }, () => rng.normal());
      const got = await op.apply(v);
      // A step of 1e-7 (of ‖v‖∞) moves the 49k pre-activations by ~1e-6: no ReLU kink in between for this seed.
      const ref = hessianVector64(net64, { shape: [n, 784], data: Float64Array.from(rows.x) }, Array.from(rows.labels), 'softmax-ce', Float64Array.from(v), 1e-7);
      assert.ok(ref.disagreement < 1e-6, `reference: step sizes disagree by ${ref.disagreement} (a ReLU kink within the step)`);
      const err = relErr(got, ref.hv);
      assert.ok(err < 1e-4, `Hv off by ${err.toExponential(2)} relative`);
    }
    tf.dispose([...params, batch.x, batch.y]);
  });
}
