// Our wasm kernels against direct float64 loops, and no leaks across repeated gradient calls.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { initBackend, wasmKernelReport, type TfNamespace } from '../../src/engine/backend';
import { tileInto } from '../../src/engine/backend/wasm/tile';
import { setDiffStats, setDiffStatsByOps } from '../../src/engine/probes/setDiffStats';
import * as ref from './backend-ref64';
import { assertClose, rng, uniform } from './backend-helpers';

let tf: TfNamespace;
before(async () => {
  tf = (await initBackend('wasm')).tf;
});

const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

test('the wasm kernels this module changes are in place', () => {
  const r = wasmKernelReport()!;
  assert.deepEqual(r.wrapped, ['_FusedMatMul']);
  assert.deepEqual([...r.replaced].sort(), [
    'Add',
    'AvgPoolGrad',
    'BatchMatMul',
    'Cast',
    'Conv2DBackpropInput',
    'Equal',
    'Greater',
    'GreaterEqual',
    'Identity',
    'Less',
    'LessEqual',
    'MaxPoolGrad',
    'Maximum',
    'Mean',
    'Minimum',
    'Multiply',
    'Neg',
    'NotEqual',
    'RealDiv',
    'Relu',
    'Slice',
    'Square',
    'Step',
    'Sub',
    'Sum',
    'Tile',
  ]);
  // BnlensMaxPoolGatherAtArgmax: MaxPoolGrad's own gradient, for Hessian-vector products (secondOrder.ts).
  assert.deepEqual([...r.added].sort(), ['BnlensMaxPoolGatherAtArgmax', 'BnlensSetDiffStats', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
  assert.ok(!r.viaCpu.includes('DepthwiseConv2dNativeBackpropFilter') && r.viaCpu.includes('UnsortedSegmentSum'));
});

test('matMuls in every transpose combination (our SIMD kernel) equal a float64 triple loop', () => {
  const rand = rng(7);
  for (const [m, k, n] of [
    [37, 53, 29],
    [128, 64, 10],
    [1, 17, 5],
    [9, 1, 4],
    [8, 16, 8],
    [5, 7, 13],
    [4, 0, 3],
    [6, 600, 11],
    [33, 520, 16],
  ]) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const aShape = ta ? [k, m] : [m, k],
        bShape = tb ? [n, k] : [k, n];
      const a = uniform(m * k, rand),
        b = uniform(k * n, rand);
      const want = ref.matMul(ref.nd(aShape, a), ref.nd(bShape, b), ta, tb).data;
      const got = tf.tidy(() => tf.matMul(tf.tensor(a, aShape) as never, tf.tensor(b, bShape) as never, ta, tb).dataSync());
      assertClose(got, want, 1e-5, 1e-5, `matMul ${m}x${k}x${n} ta=${ta} tb=${tb}`);
    }
  }
});

test('fused matMul with transposes, bias and relu equals the float64 loop', () => {
  const rand = rng(8);
  const [m, k, n] = [13, 21, 8];
  const a = uniform(m * k, rand),
    b = uniform(k * n, rand),
    bias = uniform(n, rand);
  const prod = ref.matMul(ref.nd([k, m], a), ref.nd([n, k], b), true, true);
  const want = ref.map(
    ref.binary(prod, ref.nd([n], bias), (p, q) => p + q),
    (v) => Math.max(v, 0),
  ).data;
  const got = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(a, [k, m]), b: tf.tensor2d(b, [n, k]), transposeA: true, transposeB: true, bias: tf.tensor1d(bias), activation: 'relu' }).dataSync());
  assertClose(got, want, 1e-5, 1e-5, 'fused matMul');
});

test('batched (rank-3) transposed matMul stays right', () => {
  const rand = rng(9);
  const a = uniform(2 * 5 * 3, rand),
    b = uniform(2 * 4 * 5, rand);
  const got = tf.tidy(() => tf.matMul(tf.tensor3d(a, [2, 5, 3]), tf.tensor3d(b, [2, 4, 5]), true, true).dataSync());
  for (let s = 0; s < 2; s++) {
    const want = ref.matMul(ref.nd([5, 3], a.subarray(s * 15, s * 15 + 15)), ref.nd([4, 5], b.subarray(s * 20, s * 20 + 20)), true, true).data;
    assertClose(got.subarray(s * 12, s * 12 + 12), want, 1e-5, 1e-5, `batch ${s}`);
  }
});

/** Direct float64 loops for the two convolution gradients, from dW = Σ x·dy and dx = Σ dy·W. */
function convBackprop64(x: ref.Nd, w: ref.Nd, dy: ref.Nd, stride: number, pad: ref.Padding, dil: number) {
  const [n, h, wd, ci] = x.shape,
    [kh, kw, , co] = w.shape,
    [, oh, ow] = dy.shape;
  const H = ref.window1d(h, kh, stride, dil, pad),
    W = ref.window1d(wd, kw, stride, dil, pad);
  const dW = new Float64Array(w.data.length),
    dx = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let r = 0; r < kh; r++)
          for (let q = 0; q < kw; q++) {
            const y = i * stride + r * dil - H.before,
              xx = j * stride + q * dil - W.before;
            if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
            for (let c = 0; c < ci; c++)
              for (let o = 0; o < co; o++) {
                const g = dy.data[((b * oh + i) * ow + j) * co + o];
                dW[((r * kw + q) * ci + c) * co + o] += x.data[((b * h + y) * wd + xx) * ci + c] * g;
                dx[((b * h + y) * wd + xx) * ci + c] += w.data[((r * kw + q) * ci + c) * co + o] * g;
              }
          }
  return { dW, dx };
}

const CONV_CASES: Array<{ x: number[]; w: number[]; stride: number; pad: ref.Padding; dil?: number }> = [
  { x: [2, 8, 8, 3], w: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 9, 7, 2], w: [3, 3, 2, 5], stride: 2, pad: 'same' },
  { x: [3, 9, 9, 4], w: [3, 3, 4, 2], stride: 2, pad: 'valid' },
  { x: [1, 10, 10, 1], w: [5, 5, 1, 3], stride: 3, pad: 'valid' },
  { x: [2, 6, 6, 3], w: [2, 2, 3, 3], stride: 2, pad: 'same' },
  { x: [1, 9, 9, 2], w: [3, 3, 2, 2], stride: 1, pad: 'same', dil: 2 },
  { x: [2, 11, 11, 2], w: [3, 2, 2, 3], stride: 1, pad: 'valid', dil: 3 },
  // Large enough for the patch matrix to be built in two chunks of images (576 × 1600 floats per image, 4 M per chunk).
  { x: [5, 40, 40, 64], w: [3, 3, 64, 4], stride: 1, pad: 'same' },
  // Pointwise (1×1, stride 1): x is the patch matrix itself; with stride 2 it is not.
  { x: [3, 7, 5, 6], w: [1, 1, 6, 9], stride: 1, pad: 'same' },
  { x: [2, 7, 7, 4], w: [1, 1, 4, 5], stride: 2, pad: 'valid' },
];

for (const c of CONV_CASES) {
  test(`conv2d backprop filter and input on wasm equal float64 loops: x ${c.x} w ${c.w} stride ${c.stride} ${c.pad} dilation ${c.dil ?? 1}`, () => {
    const rand = rng(sizeOf(c.x) + c.stride);
    const x = uniform(sizeOf(c.x), rand),
      w = uniform(sizeOf(c.w), rand);
    const outShape = ref.conv2d(ref.nd(c.x, x), ref.nd(c.w, w), c.stride, c.pad, c.dil ?? 1).shape;
    const dy = uniform(sizeOf(outShape), rand);
    const want = convBackprop64(ref.nd(c.x, x), ref.nd(c.w, w), ref.nd(outShape, dy), c.stride, c.pad, c.dil ?? 1);
    const [gx, gw] = tf.tidy(() => {
      const f = (xt: Tensor, wt: Tensor) => tf.sum(tf.mul(tf.conv2d(xt as never, wt as never, c.stride, c.pad, 'NHWC', c.dil ?? 1), tf.tensor(dy, outShape)));
      return tf
        .grads(f as never)([tf.tensor(x, c.x), tf.tensor(w, c.w)])
        .map((t) => t.dataSync());
    });
    assertClose(gw, want.dW, 1e-5, 1e-5, 'dW');
    assertClose(gx, want.dx, 1e-5, 1e-5, 'dx');
  });
}

test('Tile writes dst[o] = src[o mod shape] for several shapes and dtypes', () => {
  const cases: Array<[number[], number[]]> = [
    [[3], [4]],
    [
      [1, 5],
      [7, 1],
    ],
    [
      [2, 3],
      [2, 3],
    ],
    [
      [2, 1, 3],
      [1, 4, 2],
    ],
    [
      [2, 2, 2, 2],
      [2, 1, 3, 1],
    ],
  ];
  for (const [shape, reps] of cases) {
    const outShape = shape.map((s, i) => s * reps[i]);
    const src = Int32Array.from({ length: sizeOf(shape) }, (_, i) => i * 7 + 1);
    const dst = new Int32Array(sizeOf(outShape));
    tileInto(src, shape, dst, outShape);
    const expected = Array.from({ length: dst.length }, (_, o) => {
      let rem = o,
        srcIdx = 0,
        stride = 1;
      for (let d = shape.length - 1; d >= 0; d--) {
        const od = rem % outShape[d];
        rem = Math.floor(rem / outShape[d]);
        srcIdx += (od % shape[d]) * stride;
        stride *= shape[d];
      }
      return src[srcIdx];
    });
    assert.deepEqual(Array.from(dst), expected, `tile ${shape} x ${reps}`);
    const viaTf = tf.tidy(() => Array.from(tf.tile(tf.tensor(Float32Array.from(src), shape), reps).dataSync()));
    assert.deepEqual(viaTf, expected, `tf.tile ${shape} x ${reps}`);
  }
});

test('kernels run through the cpu fallback agree with the cpu backend (depthwise conv gradients, gather gradient)', async () => {
  const rand = rng(11);
  const x = uniform(2 * 6 * 6 * 3, rand),
    w = uniform(3 * 3 * 3 * 2, rand),
    table = uniform(5 * 4, rand);
  const run = () =>
    tf.tidy(() => {
      const g1 = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as never, b as never, 1, 'same'))))([tf.tensor(x, [2, 6, 6, 3]), tf.tensor(w, [3, 3, 3, 2])]);
      const g2 = tf.grad((t: Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d([0, 3, 3, 1], 'int32')))))(tf.tensor(table, [5, 4]));
      return [...g1, g2].map((t) => t.dataSync());
    });
  const onWasm = run();
  await tf.setBackend('cpu');
  const onCpu = run();
  await tf.setBackend('wasm');
  onWasm.forEach((g, i) => assertClose(g, onCpu[i], 1e-5, 1e-6, `gradient ${i}`));
});

test('repeated gradient calls leave neither tensors nor wasm heap blocks behind', () => {
  const rand = rng(12);
  const x = tf.tensor(uniform(4 * 8 * 8 * 3, rand), [4, 8, 8, 3]);
  const w1 = tf.tensor(uniform(3 * 3 * 3 * 4, rand), [3, 3, 3, 4]);
  const w2 = tf.tensor(uniform(16 * 10, rand), [16, 10]);
  const loss = (a: Tensor, b: Tensor) => {
    const h = tf.avgPool(tf.maxPool(tf.relu(tf.conv2d(x as never, a as never, 1, 'same')), 2, 2, 'same'), 2, 2, 'valid');
    const m = tf.moments(h, [0, 1, 2]);
    const z = tf.batchNorm(h, m.mean, m.variance, tf.zeros([4]), tf.ones([4]), 1e-3);
    const logits = tf.matMul(tf.reshape(z, [4, 16]), b as never);
    return tf.add(tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10), logits), tf.sum(tf.depthwiseConv2d(x as never, tf.ones([1, 1, 3, 1]) as never, 1, 'valid')));
  };
  const step = () =>
    tf.tidy(() =>
      tf
        .grads(loss as never)([w1, w2])
        .forEach((g) => g.dataSync()),
    );
  step();
  const backend = tf.engine().backend as unknown as { numDataIds(): number };
  const tensors = tf.memory().numTensors,
    dataIds = backend.numDataIds();
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, tensors, 'tensor count');
  assert.equal(backend.numDataIds(), dataIds, 'wasm data ids');
});

test('Sum and Mean over any block of neighbouring axes equal float64 loops (the stacked probe reduces [E, B, C] over B)', () => {
  const rand = rng(31);
  const cases: [number[], number[]][] = [
    [[3, 5, 4], [1]],
    [
      [3, 5, 4],
      [1, 2],
    ],
    [
      [3, 5, 4],
      [0, 1],
    ],
    [[3, 5, 4], [2]],
    [[3, 5, 4], [0]],
    [
      [2, 3, 4, 5],
      [1, 2],
    ],
    [[8, 128, 512], [1]],
  ];
  for (const [shape, axes] of cases) {
    const x = uniform(sizeOf(shape), rand);
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outer = sizeOf(shape.slice(0, first));
    const rows = sizeOf(shape.slice(first, last + 1));
    const cols = sizeOf(shape.slice(last + 1));
    const sum = new Float64Array(outer * cols);
    for (let o = 0; o < outer; o++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sum[o * cols + c] += x[(o * rows + r) * cols + c];
    for (const keepDims of [false, true]) {
      const t = tf.tensor(x, shape);
      const s = tf.sum(t, axes, keepDims);
      const m = tf.mean(t, axes, keepDims);
      const want = [...shape.slice(0, first), ...(keepDims ? axes.map(() => 1) : []), ...shape.slice(last + 1)];
      assert.deepEqual(s.shape, want, `sum shape of ${shape} over ${axes}`);
      assertClose(s.dataSync(), sum, 1e-5, 1e-5, `sum of [${shape}] over [${axes}]`);
      assertClose(
        m.dataSync(),
        sum.map((v) => v / rows),
        1e-5,
        1e-6,
        `mean of [${shape}] over [${axes}]`,
      );
      tf.dispose([t, s, m]);
    }
  }
});

test('depthwise convolution gradients with one filter per channel (our SIMD loops) equal float64 loops', () => {
  const rand = rng(41);
  // [n, H, W, C], kernel, strides, padding, dilation: C = 6 and 5 leave a tail after the 4-lane loop.
  const cases: [number[], number, number, 'same' | 'valid', number][] = [
    [[2, 7, 7, 6], 3, 1, 'same', 1],
    [[2, 8, 8, 8], 3, 2, 'same', 1],
    [[1, 9, 9, 5], 3, 2, 'valid', 1],
    [[2, 9, 9, 4], 5, 1, 'same', 1],
    [[1, 6, 6, 3], 1, 1, 'valid', 1],
  ];
  for (const [xs, kk, stride, pad, dil] of cases) {
    const [n, H, W, C] = xs;
    const x = uniform(sizeOf(xs), rand);
    const w = uniform(kk * kk * C, rand);
    const label = `${xs} k${kk} s${stride} ${pad} d${dil}`;
    const [gx, gw, y] = tf.tidy(() => {
      const xt = tf.tensor4d(x, xs as [number, number, number, number]);
      const wt = tf.tensor(w, [kk, kk, C, 1]) as Tensor4D;
      const out = tf.depthwiseConv2d(xt, wt, stride, pad, 'NHWC', dil);
      // d/dx and d/dw of Σ out ⊙ R: the gradient kernels get dy = R.
      const r = tf.tensor(uniform(sizeOf(out.shape), rng(42)), out.shape);
      const g = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as Tensor4D, b as Tensor4D, stride, pad, 'NHWC', dil), r)))([xt, wt]);
      return [g[0].dataSync(), g[1].dataSync(), { shape: out.shape, dy: r.dataSync() }] as const;
    });
    const [, OH, OW] = y.shape;
    const eff = (kk - 1) * dil + 1;
    const top = pad === 'same' ? Math.max(0, Math.floor(((OH - 1) * stride + eff - H) / 2)) : 0;
    const left = pad === 'same' ? Math.max(0, Math.floor(((OW - 1) * stride + eff - W) / 2)) : 0;
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++)
          for (let r = 0; r < kk; r++)
            for (let s2 = 0; s2 < kk; s2++) {
              const yy = i * stride + r * dil - top;
              const xx = j * stride + s2 * dil - left;
              if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
              for (let c = 0; c < C; c++) {
                const g = y.dy[((b * OH + i) * OW + j) * C + c];
                dx[((b * H + yy) * W + xx) * C + c] += w[(r * kk + s2) * C + c] * g;
                dw[(r * kk + s2) * C + c] += x[((b * H + yy) * W + xx) * C + c] * g;
              }
            }
    assertClose(gx, dx, 1e-5, 1e-5, `dx ${label}`);
    assertClose(gw, dw, 1e-5, 1e-5, `dw ${label}`);
  }
});

test('Minimum, Maximum and the comparisons (our SIMD kernels) equal JavaScript, NaN and broadcasts included', () => {
  const rand = rng(43);
  const values = (n: number) => uniform(n, rand).map((v, i) => (i % 11 === 3 ? NaN : i % 7 === 2 ? 0.25 : v));
  // Same shapes, a scalar on either side, a row repeated on either side; 37 and 19 leave tails after 16 lanes.
  const layouts: [number[], number[]][] = [
    [[37], [37]],
    [[5, 19], [1]],
    [[1], [5, 19]],
    [[4, 19], [19]],
    [[19], [4, 19]],
    [
      [2, 3, 8],
      [3, 8],
    ],
  ];
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number][] = [
    ['minimum', (a, b) => tf.minimum(a, b), (a, b) => Math.min(a, b)],
    ['maximum', (a, b) => tf.maximum(a, b), (a, b) => Math.max(a, b)],
    ['less', (a, b) => tf.less(a, b), (a, b) => Number(a < b)],
    ['lessEqual', (a, b) => tf.lessEqual(a, b), (a, b) => Number(a <= b)],
    ['greater', (a, b) => tf.greater(a, b), (a, b) => Number(a > b)],
    ['greaterEqual', (a, b) => tf.greaterEqual(a, b), (a, b) => Number(a >= b)],
    ['equal', (a, b) => tf.equal(a, b), (a, b) => Number(a === b)],
    ['notEqual', (a, b) => tf.notEqual(a, b), (a, b) => Number(a !== b)],
  ];
  for (const [sa, sb] of layouts) {
    const a = values(sizeOf(sa));
    const b = values(sizeOf(sb)).map((v, i) => (i % 5 === 0 ? a[i % a.length] : v)); // some ties
    const n = Math.max(a.length, b.length);
    for (const [name, op, js] of ops) {
      const got = tf.tidy(() => {
        const r = op(tf.tensor(a, sa), tf.tensor(b, sb));
        return { dtype: r.dtype, shape: r.shape, data: Array.from(r.dataSync()) };
      });
      const want = Array.from({ length: n }, (_, i) => js(Math.fround(a[i % a.length]), Math.fround(b[i % b.length])));
      assert.equal(got.dtype, name === 'minimum' || name === 'maximum' ? 'float32' : 'bool', `${name} dtype`);
      assert.deepEqual(got.shape, sa.length >= sb.length && sizeOf(sa) >= sizeOf(sb) ? sa : sb, `${name} shape`);
      assert.deepEqual(
        got.data.map((v) => (Number.isNaN(v) ? 'NaN' : Math.fround(v))),
        want.map((v) => (Number.isNaN(v) ? 'NaN' : Math.fround(v))),
        `${name} of [${sa}] and [${sb}]`,
      );
    }
  }
});

test('Slice (row copies on the heap) equals a per-element copy for boxes of every kind, and tf.pad backpropagates through it', () => {
  const rand = rng(44);
  const cases: [number[], number[], number[]][] = [
    [
      [2, 6, 6, 3],
      [0, 1, 1, 0],
      [2, 4, 4, 3],
    ],
    [
      [2, 6, 6, 3],
      [1, 0, 0, 0],
      [1, 6, 6, 3],
    ],
    [
      [2, 6, 6, 3],
      [0, 0, 0, 1],
      [2, 6, 6, 2],
    ],
    [
      [5, 7],
      [1, 2],
      [3, -1],
    ],
    [[9], [2], [4]],
    [
      [3, 4, 5],
      [0, 0, 0],
      [3, 4, 5],
    ],
    [
      [3, 4, 5],
      [2, 3, 4],
      [1, 1, 1],
    ],
  ];
  for (const [shape, begin, size] of cases) {
    const x = uniform(sizeOf(shape), rand);
    const full = size.map((s, i) => (s === -1 ? shape[i] - begin[i] : s));
    const want: number[] = [];
    const strides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
    const visit = (axis: number, off: number) => {
      if (axis === shape.length) return void want.push(x[off]);
      for (let k = 0; k < full[axis]; k++) visit(axis + 1, off + (begin[axis] + k) * strides[axis]);
    };
    visit(0, 0);
    for (const dtype of ['float32', 'int32'] as const) {
      const got = tf.tidy(() => {
        const t = tf.slice(tf.tensor(dtype === 'int32' ? x.map((v) => Math.round(v * 100)) : x, shape, dtype), begin, size);
        return { shape: t.shape, data: Array.from(t.dataSync()) };
      });
      assert.deepEqual(got.shape, full, `shape of slice ${shape} at ${begin} size ${size}`);
      assert.deepEqual(got.data, dtype === 'int32' ? want.map((v) => Math.round(Math.fround(v) * 100) + 0) : want, `slice ${shape} at ${begin} size ${size} (${dtype})`);
    }
  }
  // The gradient of a padding is the interior of dy.
  const dy = uniform(2 * 8 * 8 * 3, rand);
  const g = tf.tidy(() =>
    Array.from(
      tf
        .grad((t: Tensor) =>
          tf.sum(
            tf.mul(
              tf.pad(t, [
                [0, 0],
                [1, 1],
                [2, 0],
                [0, 0],
              ]),
              tf.tensor(dy, [2, 8, 8, 3]),
            ),
          ),
        )(tf.zeros([2, 6, 6, 3]))
        .dataSync(),
    ),
  );
  const want: number[] = [];
  for (let b = 0; b < 2; b++) for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) for (let c = 0; c < 3; c++) want.push(dy[((b * 8 + i + 1) * 8 + j + 2) * 3 + c]);
  assert.deepEqual(g, want);
});

test("the probe's per-set gradient change in one kernel is bitwise the five ops it replaces, and equals float64 sums", () => {
  const rand = rng(45);
  for (const [sets, ...shape] of [
    [8, 512, 512],
    [8, 300, 7],
    [3, 5],
    [2, 1],
    [8, 33],
  ]) {
    const n = sizeOf(shape);
    const a = uniform(sets * n, rand);
    const b = uniform(n, rand);
    const [fused, ops] = tf.tidy(() => {
      const at = tf.tensor(a, [sets, ...shape]);
      const bt = tf.tensor(b, shape);
      return [setDiffStats(tf, at, bt), setDiffStatsByOps(tf, at, bt)].map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
    });
    assert.deepEqual(fused.shape, [sets, 2]);
    assert.deepEqual(fused.data, ops.data, `[${sets}, ${shape}]: bitwise`);
    const want = new Float64Array(2 * sets);
    for (let e = 0; e < sets; e++)
      for (let i = 0; i < n; i++) {
        const d = Math.fround(a[e * n + i] - b[i]);
        want[2 * e] += d * d;
        want[2 * e + 1] += d * b[i];
      }
    assertClose(fused.data, want, 1e-5, 1e-5, `[${sets}, ${shape}] against float64`);
  }
});

test('binary ops with one scalar per set along the leading axis ([E, 1, 1] against a weight) equal JavaScript', () => {
  const rand = rng(46);
  // The probe's W − η·g: η as [E, 1, 1] against [1, r, c], [r, c] or [E, r, c]; either operand first.
  const layouts: [number[], number[]][] = [
    [
      [4, 1, 1],
      [1, 3, 5],
    ],
    [
      [1, 3, 5],
      [4, 1, 1],
    ],
    [
      [4, 1, 1],
      [3, 5],
    ],
    [
      [3, 5],
      [4, 1, 1],
    ],
    [
      [4, 1, 1],
      [4, 3, 5],
    ],
    [
      [4, 3, 5],
      [4, 1, 1],
    ],
    [
      [3, 1],
      [1, 7],
    ],
  ];
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number][] = [
    ['add', (a, b) => tf.add(a, b), (a, b) => a + b],
    ['sub', (a, b) => tf.sub(a, b), (a, b) => a - b],
    ['mul', (a, b) => tf.mul(a, b), (a, b) => a * b],
    ['div', (a, b) => tf.div(a, b), (a, b) => a / b],
    ['minimum', (a, b) => tf.minimum(a, b), (a, b) => Math.min(a, b)],
    ['lessEqual', (a, b) => tf.lessEqual(a, b), (a, b) => Number(a <= b)],
  ];
  for (const [sa, sb] of layouts) {
    const a = uniform(sizeOf(sa), rand);
    const b = uniform(sizeOf(sb), rand);
    const out = tf.tidy(() => tf.add(tf.zeros(sa), tf.zeros(sb)).shape);
    const at = (x: Float32Array, s: number[], idx: number[]) => {
      const full = [...new Array<number>(out.length - s.length).fill(1), ...s];
      let off = 0;
      for (let i = 0; i < out.length; i++) off = off * full[i] + (full[i] === 1 ? 0 : idx[i]);
      return x[off];
    };
    for (const [name, op, js] of ops) {
      const got = tf.tidy(() => Array.from(op(tf.tensor(a, sa), tf.tensor(b, sb)).dataSync()));
      const want: number[] = [];
      const idx = new Array<number>(out.length).fill(0);
      for (let k = 0; k < sizeOf(out); k++) {
        want.push(Math.fround(js(at(a, sa, idx), at(b, sb, idx))));
        for (let i = out.length - 1; i >= 0 && ++idx[i] === out[i]; i--) idx[i] = 0;
      }
      assert.deepEqual(got, want, `${name} of [${sa}] and [${sb}]`);
    }
  }
});

test('MaxPoolGrad with ties sends each window’s gradient to the same element as the cpu backend (the first maximum)', async () => {
  const rand = rng(47);
  // Values in {−1, −0.5, 0, 0.5, 1}: most 2×2 and 3×3 windows hold their maximum twice or more.
  const x = uniform(2 * 8 * 8 * 8, rand).map((v) => Math.round(v * 2) / 2);
  for (const [k, stride, pad] of [
    [2, 2, 'valid'],
    [3, 1, 'same'],
  ] as const) {
    const run = () =>
      tf.tidy(() => {
        const t = tf.tensor(x, [2, 8, 8, 8]);
        const shape = tf.maxPool(t as Tensor4D, k, stride, pad).shape;
        const dy = tf.tensor(uniform(sizeOf(shape), rng(48)), shape);
        return Array.from(
          tf
            .grad((u: Tensor) => tf.sum(tf.mul(tf.maxPool(u as Tensor4D, k, stride, pad), dy)))(t)
            .dataSync(),
        );
      });
    const onWasm = run();
    await tf.setBackend('cpu');
    const onCpu = run();
    await tf.setBackend('wasm');
    // The same elements receive gradient; overlapping windows sum into an element in another order (last bits).
    assert.deepEqual(
      onWasm.map((v) => v !== 0),
      onCpu.map((v) => v !== 0),
      `maxPool ${k}/${stride} ${pad}: where the gradient goes`,
    );
    if (k === stride) assert.deepEqual(onWasm, onCpu, `maxPool ${k}/${stride} ${pad}`);
    else assertClose(onWasm, onCpu, 1e-6, 1e-6, `maxPool ${k}/${stride} ${pad}`);
  }
});
