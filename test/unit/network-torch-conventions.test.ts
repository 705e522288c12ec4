// The IR's PyTorch conventions, each checked against a direct computation written here in PyTorch's own
// layout (NCHW tensors, [out, in] and OIHW weights, loops over indices), never against the engine itself:
// weights converted to the engine's layout give PyTorch's results, a channels-first Flatten hands a Linear
// the C·H·W order, NCHW data enters transposed, PyTorch's default initializer has its bounds, and the
// variants insert BatchNorm with the file's framework defaults.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '../../src/engine/backend';
import { ForwardModel, type TF } from '../../src/engine/network/forward';
import { FRAMEWORK_DEFAULTS, TORCH_DEFAULT_INIT } from '../../src/engine/network/frameworks';
import { initialValues } from '../../src/engine/network/initializers';
import type { LayerNode, NetworkSpec } from '../../src/engine/network/ir';
import { linearToKernel, nchwToNhwc, oihwToHwio, packWeights, shapeInEngineLayout, shapeInSourceLayout } from '../../src/engine/network/layout';
import { initialWeights, paramKey } from '../../src/engine/network/load';
import { inferShapes } from '../../src/engine/network/shapes';
import { deriveVariants } from '../../src/engine/variants';
import { assertClose, rng, uniform } from './backend-helpers';

const TORCH = { className: 'TorchDefault', config: {} };

/** PyTorch's Conv2d (stride s, zero padding p) → flatten(1) → Linear, directly in NCHW, float64. */
function torchReference(x: Float32Array, n: number, [c, h, w]: number[], conv: { W: Float32Array; b: Float32Array; o: number; k: number; s: number; p: number }, lin: { W: Float32Array; b: Float32Array; out: number }) {
  const oh = Math.floor((h + 2 * conv.p - conv.k) / conv.s) + 1;
  const ow = Math.floor((w + 2 * conv.p - conv.k) / conv.s) + 1;
  const feat = conv.o * oh * ow;
  const y = new Float64Array(n * lin.out);
  for (let e = 0; e < n; e++) {
    const flat = new Float64Array(feat); // index ((o·oh)+i)·ow+j: PyTorch's flatten of [o, oh, ow]
    for (let o = 0; o < conv.o; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let acc = conv.b[o];
          for (let ci = 0; ci < c; ci++)
            for (let u = 0; u < conv.k; u++)
              for (let v = 0; v < conv.k; v++) {
                const r = i * conv.s - conv.p + u;
                const q = j * conv.s - conv.p + v;
                if (r < 0 || q < 0 || r >= h || q >= w) continue;
                acc += conv.W[((o * c + ci) * conv.k + u) * conv.k + v] * x[((e * c + ci) * h + r) * w + q];
              }
          flat[(o * oh + i) * ow + j] = acc;
        }
    for (let k = 0; k < lin.out; k++) {
      let acc = lin.b[k];
      for (let f = 0; f < feat; f++) acc += lin.W[k * feat + f] * flat[f];
      y[e * lin.out + k] = acc;
    }
  }
  return { y, outShape: [conv.o, oh, ow] };
}

test('PyTorch weights converted to the engine layout, NCHW data, symmetric padding and a channels-first flatten give PyTorch’s output', async () => {
  const rand = rng(7);
  const [n, c, h, w] = [2, 3, 5, 4];
  const conv = { o: 4, k: 3, s: 2, p: 1, W: uniform(4 * 3 * 3 * 3, rand), b: uniform(4, rand) };
  const ref0 = torchReference(new Float32Array(n * c * h * w), n, [c, h, w], conv, { W: new Float32Array(0), b: new Float32Array(0), out: 0 });
  const feat = ref0.outShape.reduce((a, b) => a * b, 1);
  const lin = { out: 5, W: uniform(5 * feat, rand), b: uniform(5, rand) };
  const x = uniform(n * c * h * w, rand);
  const ref = torchReference(x, n, [c, h, w], conv, lin);

  // Padding 1 with stride 2 on 5×4 is not TF's 'same': explicit symmetric pads, as PyTorch pads.
  const layers: LayerNode[] = [
    { kind: 'input', name: 'input', className: 'Input', inbound: [], shape: shapeInEngineLayout([c, h, w], 'NCHW') },
    {
      kind: 'conv2d',
      name: 'conv',
      className: 'Conv2d',
      inbound: ['input'],
      filters: 4,
      kernelSize: [3, 3],
      strides: [2, 2],
      padding: 'valid',
      pads: [1, 1, 1, 1],
      dilation: [1, 1],
      useBias: true,
      activation: 'linear',
      kernelInitializer: TORCH,
      biasInitializer: TORCH,
    },
    { kind: 'flatten', name: 'flatten', className: 'Flatten', inbound: ['conv'], channelsFirst: true },
    { kind: 'dense', name: 'fc', className: 'Linear', inbound: ['flatten'], units: 5, useBias: true, activation: 'linear', kernelInitializer: TORCH, biasInitializer: TORCH },
  ];
  const info = inferShapes(layers, 'net.py');
  assert.deepEqual(shapeInSourceLayout(info.shapes.get('conv')!, 'NCHW'), ref.outShape);
  const spec: NetworkSpec = {
    file: 'net.py',
    format: 'pytorch',
    framework: 'pytorch',
    layout: 'NCHW',
    name: 'net',
    layers,
    outputs: ['fc'],
    weights: packWeights([
      { layer: 'conv', role: 'kernel', shape: [3, 3, c, 4], values: oihwToHwio(conv.W, [4, c, 3, 3]) },
      { layer: 'conv', role: 'bias', shape: [4], values: conv.b },
      { layer: 'fc', role: 'kernel', shape: [feat, 5], values: linearToKernel(lin.W, [5, feat]) },
      { layer: 'fc', role: 'bias', shape: [5], values: lin.b },
    ]),
  };
  const values = initialWeights({ spec, info }, 0);
  for (const backend of ['wasm', 'cpu'] as const) {
    const tf = (await initBackend(backend)).tf as unknown as TF;
    const params = info.params.map((p) => tf.tensor(values.get(paramKey(p.layer, p.role))!, p.shape));
    const model = new ForwardModel(layers, 'fc', info, false);
    const xin = tf.tensor(nchwToNhwc(x, n, [c, h, w]), [n, h, w, c]);
    const y = model.forward(tf, params, xin, { training: true });
    assertClose(y.dataSync(), ref.y, 1e-5, 1e-5, `conv → flatten → linear on ${backend}`);

    // Without the channels-first flatten the Linear would see H·W·C order: a different answer.
    const hwc = layers.map((l) => (l.kind === 'flatten' ? { ...l, channelsFirst: false } : l));
    const wrong = new ForwardModel(hwc, 'fc', info, false).forward(tf, params, xin, { training: true }).dataSync();
    assert.ok(Math.max(...wrong.map((v, i) => Math.abs(v - ref.y[i]))) > 1e-2, 'layout must matter in this test');
  }
});

test('PyTorch default initializer: U(±1/√fan_in) for weights, the weight’s fan-in for the bias, one stream per module path', () => {
  const kernel = initialValues(TORCH_DEFAULT_INIT, [3, 3, 16, 32], 1, 'layer1.0.conv1/kernel', 'conv');
  const bound = 1 / Math.sqrt(3 * 3 * 16);
  const max = Math.max(...kernel.map(Math.abs));
  assert.ok(max <= bound && max > 0.98 * bound, `max |w| ${max} vs bound ${bound}`);
  const variance = kernel.reduce((a, v) => a + v * v, 0) / kernel.length;
  assert.ok(Math.abs(variance / ((bound * bound) / 3) - 1) < 0.05, `variance ${variance} vs ${(bound * bound) / 3}`);
  const bias = initialValues(TORCH_DEFAULT_INIT, [32], 1, 'layer1.0.conv1/bias', 'conv', [3, 3, 16, 32]);
  assert.ok(Math.max(...bias.map(Math.abs)) <= bound && Math.max(...bias.map(Math.abs)) > bound / 4);
  const linBias = initialValues(TORCH_DEFAULT_INIT, [10], 1, 'fc/bias', 'fc', [784, 10]);
  assert.ok(Math.max(...linBias.map(Math.abs)) <= 1 / Math.sqrt(784));
  const other = initialValues(TORCH_DEFAULT_INIT, [3, 3, 16, 32], 1, 'layer1.1.conv1/kernel', 'conv');
  assert.notDeepEqual(Array.from(kernel.slice(0, 8)), Array.from(other.slice(0, 8)));

  // Through initialWeights: a PyTorch Linear's bias is bounded by its own in_features.
  const layers: LayerNode[] = [
    { kind: 'input', name: 'input', className: 'Input', inbound: [], shape: [400] },
    { kind: 'dense', name: 'fc1', className: 'Linear', inbound: ['input'], units: 3, useBias: true, activation: 'linear', kernelInitializer: TORCH, biasInitializer: TORCH },
  ];
  const info = inferShapes(layers, 'm.py');
  const v = initialWeights({ spec: { file: 'm.py', format: 'pytorch', name: 'm', layers, outputs: ['fc1'], weights: null }, info }, 3);
  for (const role of ['kernel', 'bias']) {
    const vals = v.get(`fc1/${role}`)!;
    assert.ok(vals.every((x) => Math.abs(x) <= 0.05) && vals.some((x) => Math.abs(x) > 0.01), role);
  }
});

test('variants of a PyTorch network insert BatchNorm1d/2d with eps 1e-5, momentum 0.1 (0.9 kept) and the unbiased running variance', () => {
  const layers: LayerNode[] = [
    { kind: 'input', name: 'input', className: 'Input', inbound: [], shape: [8, 8, 1] },
    {
      kind: 'conv2d',
      name: 'conv1',
      className: 'Conv2d',
      inbound: ['input'],
      filters: 2,
      kernelSize: [3, 3],
      strides: [1, 1],
      padding: 'valid',
      dilation: [1, 1],
      useBias: true,
      activation: 'linear',
      kernelInitializer: TORCH,
      biasInitializer: TORCH,
    },
    { kind: 'activation', name: 'relu', className: 'ReLU', inbound: ['conv1'], activation: 'relu' },
    { kind: 'flatten', name: 'flatten', className: 'Flatten', inbound: ['relu'], channelsFirst: true },
    { kind: 'dense', name: 'fc1', className: 'Linear', inbound: ['flatten'], units: 4, useBias: true, activation: 'linear', kernelInitializer: TORCH, biasInitializer: TORCH },
    { kind: 'dense', name: 'fc2', className: 'Linear', inbound: ['fc1'], units: 3, useBias: true, activation: 'linear', kernelInitializer: TORCH, biasInitializer: TORCH },
  ];
  const spec: NetworkSpec = { file: 'm.py', format: 'pytorch', framework: 'pytorch', layout: 'NCHW', name: 'm', layers, outputs: ['fc2'], weights: null };
  const [bn] = deriveVariants(spec, ['batchnorm']);
  const norms = bn.layers.filter((l) => l.kind === 'batchnorm');
  assert.deepEqual(
    norms.map((l) => [l.name, l.className, l.inbound[0]]),
    [
      ['conv1_bn', 'BatchNorm2d', 'conv1'],
      ['fc1_bn', 'BatchNorm1d', 'fc1'],
    ],
  );
  for (const l of norms) {
    assert.ok(l.kind === 'batchnorm');
    assert.equal(l.epsilon, 1e-5);
    assert.equal(l.momentum, 0.9);
    assert.equal(l.unbiasedMovingVariance, true);
  }
  assert.equal(bn.layers.find((l) => l.name === 'relu')!.inbound[0], 'conv1_bn');
  const [kerasBn] = deriveVariants({ ...spec, framework: undefined }, ['batchnorm']);
  const kn = kerasBn.layers.find((l) => l.kind === 'batchnorm');
  assert.ok(kn && kn.kind === 'batchnorm' && kn.epsilon === 1e-3 && kn.className === 'BatchNormalization' && !kn.unbiasedMovingVariance);
  assert.equal(FRAMEWORK_DEFAULTS.pytorch.bnMomentum, 0.9);
});
