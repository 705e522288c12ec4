// Every op training and probing differentiates: its gradient on wasm must equal central finite differences
// of an independent float64 implementation (backend-ref64.ts), and the gradient the cpu backend computes.
// The loss is L = Σ f(x)·R with fixed random R, so every output element carries a distinct weight.
import { test, before } from 'node:test';
import type { Tensor } from '@tensorflow/tfjs-core';
import { initBackend, type TfNamespace } from '../../src/engine/backend';
import * as ref from './backend-ref64';
import { assertClose, rng, separated, uniform } from './backend-helpers';

type Tf = TfNamespace;
interface OpCase {
  name: string;
  shapes: number[][];
  positive?: boolean;
  tf: (tf: Tf, ...xs: Tensor[]) => Tensor;
  ref: (...xs: ref.Nd[]) => ref.Nd;
}

const r64 = (t: ref.Nd, f: (v: number) => number) => ref.map(t, f);
const conv = (stride: number, pad: ref.Padding, dil = 1): Pick<OpCase, 'tf' | 'ref'> => ({
  tf: (tf, x, w) => tf.conv2d(x as never, w as never, stride, pad, 'NHWC', dil),
  ref: (x, w) => ref.conv2d(x, w, stride, pad, dil),
});
const pool = (kind: 'max' | 'avg', k: number, stride: number, pad: ref.Padding): Pick<OpCase, 'tf' | 'ref'> => ({
  tf: (tf, x) => (kind === 'max' ? tf.maxPool(x as never, k, stride, pad) : tf.avgPool(x as never, k, stride, pad)),
  ref: (x) => ref.pool(x, k, stride, pad, kind),
});
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

const OPS: OpCase[] = [
  {
    name: 'matMul',
    shapes: [
      [3, 4],
      [4, 5],
    ],
    tf: (tf, a, b) => tf.matMul(a, b),
    ref: (a, b) => ref.matMul(a, b),
  },
  {
    name: 'matMul transposed a and b',
    shapes: [
      [4, 3],
      [5, 4],
    ],
    tf: (tf, a, b) => tf.matMul(a, b, true, true),
    ref: (a, b) => ref.matMul(a, b, true, true),
  },
  {
    name: 'conv2d same stride 1',
    shapes: [
      [2, 5, 5, 3],
      [3, 3, 3, 4],
    ],
    ...conv(1, 'same'),
  },
  {
    name: 'conv2d valid stride 2',
    shapes: [
      [2, 7, 7, 3],
      [3, 3, 3, 2],
    ],
    ...conv(2, 'valid'),
  },
  {
    name: 'conv2d same stride 2 even kernel',
    shapes: [
      [1, 6, 6, 2],
      [2, 2, 2, 3],
    ],
    ...conv(2, 'same'),
  },
  {
    name: 'conv2d same dilation 2',
    shapes: [
      [1, 7, 7, 2],
      [3, 3, 2, 2],
    ],
    ...conv(1, 'same', 2),
  },
  {
    name: 'conv2d valid dilation 3',
    shapes: [
      [1, 8, 8, 2],
      [2, 2, 2, 3],
    ],
    ...conv(1, 'valid', 3),
  },
  { name: 'maxPool valid 2/2', shapes: [[2, 6, 6, 3]], ...pool('max', 2, 2, 'valid') },
  { name: 'maxPool same 3/2', shapes: [[2, 5, 5, 2]], ...pool('max', 3, 2, 'same') },
  // Four channels at a time in the native gradient, with a tail of 2 and overlapping windows.
  { name: 'maxPool valid 2/2, 8 channels', shapes: [[2, 6, 6, 8]], ...pool('max', 2, 2, 'valid') },
  { name: 'maxPool same 3/2, 6 channels', shapes: [[1, 7, 7, 6]], ...pool('max', 3, 2, 'same') },
  { name: 'maxPool same 3/1, 5 channels', shapes: [[1, 5, 5, 5]], ...pool('max', 3, 1, 'same') },
  { name: 'avgPool valid 2/2', shapes: [[2, 6, 6, 3]], ...pool('avg', 2, 2, 'valid') },
  { name: 'avgPool same 3/2', shapes: [[2, 5, 5, 2]], ...pool('avg', 3, 2, 'same') },
  { name: 'mean over axes 0 and 2', shapes: [[3, 4, 5]], tf: (tf, x) => tf.mean(x, [0, 2]), ref: (x) => ref.mean(x, [0, 2]) },
  { name: 'sum over axis 1', shapes: [[3, 4, 5]], tf: (tf, x) => tf.sum(x, 1), ref: (x) => ref.sum(x, [1]) },
  { name: 'relu', shapes: [[3, 7]], tf: (tf, x) => tf.relu(x), ref: (x) => r64(x, (v) => Math.max(v, 0)) },
  { name: 'sigmoid', shapes: [[3, 7]], tf: (tf, x) => tf.sigmoid(x), ref: (x) => r64(x, sigmoid) },
  { name: 'tanh', shapes: [[3, 7]], tf: (tf, x) => tf.tanh(x), ref: (x) => r64(x, Math.tanh) },
  { name: 'elu', shapes: [[3, 7]], tf: (tf, x) => tf.elu(x), ref: (x) => r64(x, (v) => (v > 0 ? v : Math.exp(v) - 1)) },
  { name: 'leakyRelu 0.2', shapes: [[3, 7]], tf: (tf, x) => tf.leakyRelu(x, 0.2), ref: (x) => r64(x, (v) => (v > 0 ? v : 0.2 * v)) },
  { name: 'softmax', shapes: [[3, 5]], tf: (tf, x) => tf.softmax(x), ref: (x) => ref.softmax(x) },
  { name: 'logSoftmax', shapes: [[3, 5]], tf: (tf, x) => tf.logSoftmax(x), ref: (x) => ref.softmax(x, true) },
  { name: 'exp', shapes: [[3, 7]], tf: (tf, x) => tf.exp(x), ref: (x) => r64(x, Math.exp) },
  { name: 'log', shapes: [[3, 7]], positive: true, tf: (tf, x) => tf.log(x), ref: (x) => r64(x, Math.log) },
  { name: 'sqrt', shapes: [[3, 7]], positive: true, tf: (tf, x) => tf.sqrt(x), ref: (x) => r64(x, Math.sqrt) },
  { name: 'rsqrt', shapes: [[3, 7]], positive: true, tf: (tf, x) => tf.rsqrt(x), ref: (x) => r64(x, (v) => 1 / Math.sqrt(v)) },
  { name: 'square', shapes: [[3, 7]], tf: (tf, x) => tf.square(x), ref: (x) => r64(x, (v) => v * v) },
  { name: 'abs', shapes: [[3, 7]], tf: (tf, x) => tf.abs(x), ref: (x) => r64(x, Math.abs) },
  { name: 'max over axis 1', shapes: [[3, 4]], tf: (tf, x) => tf.max(x, 1), ref: (x) => ref.max(x, [1]) },
  { name: 'min over axis 0', shapes: [[3, 4]], tf: (tf, x) => tf.min(x, 0), ref: (x) => ref.min(x, [0]) },
  { name: 'reshape', shapes: [[3, 4]], tf: (tf, x) => tf.reshape(x, [2, 6]), ref: (x) => ({ shape: [2, 6], data: x.data.slice() }) },
  { name: 'transpose', shapes: [[3, 4, 2]], tf: (tf, x) => tf.transpose(x, [2, 0, 1]), ref: (x) => ref.transpose(x, [2, 0, 1]) },
  {
    name: 'concat',
    shapes: [
      [3, 4],
      [3, 2],
    ],
    tf: (tf, a, b) => tf.concat([a, b], 1),
    ref: (a, b) => ref.concat(a, b, 1),
  },
  { name: 'slice', shapes: [[4, 5]], tf: (tf, x) => tf.slice(x, [1, 1], [2, 3]), ref: (x) => ref.slice(x, [1, 1], [2, 3]) },
  {
    name: 'pad',
    shapes: [[3, 4]],
    tf: (tf, x) =>
      tf.pad(x, [
        [1, 2],
        [0, 1],
      ]),
    ref: (x) =>
      ref.pad(x, [
        [1, 2],
        [0, 1],
      ]),
  },
  { name: 'mul broadcast', shapes: [[3, 4], [4]], tf: (tf, a, b) => tf.mul(a, b), ref: (a, b) => ref.binary(a, b, (x, y) => x * y) },
  { name: 'add broadcast', shapes: [[3, 1], [4]], tf: (tf, a, b) => tf.add(a, b), ref: (a, b) => ref.binary(a, b, (x, y) => x + y) },
  {
    name: 'sub broadcast',
    shapes: [
      [3, 4],
      [1, 4],
    ],
    tf: (tf, a, b) => tf.sub(a, b),
    ref: (a, b) => ref.binary(a, b, (x, y) => x - y),
  },
  { name: 'div broadcast', shapes: [[3, 4], [4]], tf: (tf, a, b) => tf.div(a, b), ref: (a, b) => ref.binary(a, b, (x, y) => x / y) },
  {
    name: 'where(greater(a, b), a, b)',
    shapes: [
      [3, 4],
      [3, 4],
    ],
    tf: (tf, a, b) => tf.where(tf.greater(a, b), a, b),
    ref: (a, b) => ref.binary(a, b, (x, y) => (x > y ? x : y)),
  },
  {
    name: 'cast(greater(a, b))·a',
    shapes: [
      [3, 4],
      [3, 4],
    ],
    tf: (tf, a, b) => tf.mul(tf.cast(tf.greater(a, b), 'float32'), a),
    ref: (a, b) => ref.binary(a, b, (x, y) => (x > y ? x : 0)),
  },
  { name: 'step·x²', shapes: [[3, 7]], tf: (tf, x) => tf.mul(tf.step(x), tf.square(x)), ref: (x) => r64(x, (v) => (v > 0 ? v * v : 0)) },
  { name: 'clipByValue', shapes: [[3, 7]], tf: (tf, x) => tf.clipByValue(x, -0.45, 0.52), ref: (x) => r64(x, (v) => Math.min(Math.max(v, Math.fround(-0.45)), Math.fround(0.52))) },
  {
    name: 'batchNorm with batch moments (training mode)',
    shapes: [[6, 4], [4], [4]],
    tf: (tf, x, g, b) => {
      const m = tf.moments(x, 0);
      return tf.batchNorm(x, m.mean, m.variance, b, g, 1e-3);
    },
    ref: (x, g, b) => {
      const mu = ref.mean(x, [0]);
      const v = ref.mean(
        ref.binary(x, mu, (p, q) => (p - q) ** 2),
        [0],
      );
      const xh = ref.binary(
        ref.binary(x, mu, (p, q) => p - q),
        v,
        (p, q) => p / Math.sqrt(q + Math.fround(1e-3)),
      );
      return ref.binary(
        ref.binary(xh, g, (p, q) => p * q),
        b,
        (p, q) => p + q,
      );
    },
  },
  {
    name: 'softmax cross-entropy (mean over the batch)',
    shapes: [[4, 5]],
    tf: (tf, x) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 3, 2, 4], 'int32'), 5), x),
    ref: (x) => {
      const ls = ref.softmax(x, true);
      return ref.nd([], [-[0, 3, 2, 4].reduce((s, c, r) => s + ls.data[r * 5 + c], 0) / 4]);
    },
  },
];

let tf: Tf;
before(async () => {
  tf = (await initBackend('wasm')).tf;
});

function gradsOn(backend: 'wasm' | 'cpu', op: OpCase, inputs: Float32Array[], weights: Float32Array): Promise<Float32Array[]> {
  return tf.setBackend(backend).then(() =>
    tf.tidy(() => {
      const xs = inputs.map((v, i) => tf.tensor(v, op.shapes[i]));
      const R = tf.tensor(weights);
      const g = tf.grads((...a: Tensor[]) => tf.sum(tf.mul(tf.reshape(op.tf(tf, ...a), [-1]), R)))(xs);
      return g.map((t) => t.dataSync() as Float32Array);
    }),
  );
}

for (const [k, op] of OPS.entries()) {
  test(`gradient of ${op.name} on wasm = float64 central differences = cpu`, async () => {
    const rand = rng(1000 + k);
    const inputs = op.shapes.map((s) =>
      separated(
        s.reduce((a, b) => a * b, 1),
        rand,
        op.positive,
      ),
    );
    const outSize = op.ref(...inputs.map((v, i) => ref.nd(op.shapes[i], v))).data.length;
    const weights = uniform(outSize, rand, -1, 1);

    const fd = ref.numericGrads(
      op.ref,
      inputs.map((v, i) => ref.nd(op.shapes[i], v)),
      Float64Array.from(weights),
    );
    const onWasm = await gradsOn('wasm', op, inputs, weights);
    const onCpu = await gradsOn('cpu', op, inputs, weights);
    await tf.setBackend('wasm');
    for (let i = 0; i < inputs.length; i++) {
      assertClose(onWasm[i], fd[i], 1e-3, 1e-4, `${op.name}: wasm vs finite differences, input ${i}`);
      assertClose(onWasm[i], onCpu[i], 1e-5, 1e-6, `${op.name}: wasm vs cpu, input ${i}`);
    }
  });
}
