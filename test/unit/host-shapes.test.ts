// Shape inference and parameter counts against hand-computed Keras numbers (model.summary() of the same nets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferShapes } from '../../src/host/shapes';
import type { LayerNode, NetworkSpec } from '../../src/engine/network/ir';

const init = { className: 'GlorotUniform', config: {} };
const spec = (layers: LayerNode[]): NetworkSpec => ({ file: 'x.json', format: 'keras2', name: 'n', layers, outputs: [layers[layers.length - 1].name], weights: null });

test('MLP: dense params = in·units + units', () => {
  const s = inferShapes(
    spec([
      { kind: 'input', name: 'in', className: 'InputLayer', inbound: [], shape: [784] },
      { kind: 'dense', name: 'd1', className: 'Dense', inbound: ['in'], units: 100, useBias: true, activation: 'relu', kernelInitializer: init, biasInitializer: init },
      { kind: 'batchnorm', name: 'bn', className: 'BatchNormalization', inbound: ['d1'], epsilon: 1e-3, momentum: 0.99, center: true, scale: true },
      { kind: 'dense', name: 'd2', className: 'Dense', inbound: ['bn'], units: 10, useBias: false, activation: 'softmax', kernelInitializer: init, biasInitializer: init },
    ]),
  );
  assert.deepEqual(s.get('d1'), { outputShape: [null, 100], params: 78500 });
  assert.deepEqual(s.get('bn'), { outputShape: [null, 100], params: 400 });
  assert.deepEqual(s.get('d2'), { outputShape: [null, 10], params: 1000 });
});

test('CNN: conv valid/same/stride, pool, flatten, implicit sequential inbound', () => {
  const conv = (name: string, filters: number, k: number, s: number, padding: 'valid' | 'same'): LayerNode => ({
    kind: 'conv2d', name, className: 'Conv2D', inbound: [], filters, kernelSize: [k, k], strides: [s, s], padding, dilation: [1, 1], useBias: true, activation: 'relu', kernelInitializer: init, biasInitializer: init,
  });
  const s = inferShapes(
    spec([
      { kind: 'input', name: 'in', className: 'InputLayer', inbound: [], shape: [28, 28, 1] },
      conv('c1', 32, 3, 1, 'valid'), // 26×26×32, 3·3·1·32+32 = 320
      conv('c2', 64, 3, 2, 'same'), // 13×13×64, 3·3·32·64+64 = 18496
      { kind: 'pool', name: 'p', className: 'MaxPooling2D', inbound: [], op: 'max', poolSize: [2, 2], strides: [2, 2], padding: 'valid' }, // 6×6×64
      { kind: 'flatten', name: 'f', className: 'Flatten', inbound: [] },
      { kind: 'dense', name: 'out', className: 'Dense', inbound: [], units: 10, useBias: true, activation: 'softmax', kernelInitializer: init, biasInitializer: init },
    ]),
  );
  assert.deepEqual(s.get('c1'), { outputShape: [null, 26, 26, 32], params: 320 });
  assert.deepEqual(s.get('c2'), { outputShape: [null, 13, 13, 64], params: 18496 });
  assert.deepEqual(s.get('p')?.outputShape, [null, 6, 6, 64]);
  assert.deepEqual(s.get('f')?.outputShape, [null, 2304]);
  assert.deepEqual(s.get('out'), { outputShape: [null, 10], params: 23050 });
});

test('residual add, concatenate, reshape with -1, global pooling', () => {
  const s = inferShapes(
    spec([
      { kind: 'input', name: 'in', className: 'InputLayer', inbound: [], shape: [8, 8, 3] },
      { kind: 'relu', name: 'r', className: 'ReLU', inbound: ['in'], maxValue: null, negativeSlope: 0, threshold: 0 },
      { kind: 'add', name: 'a', className: 'Add', inbound: ['in', 'r'] },
      { kind: 'concatenate', name: 'c', className: 'Concatenate', inbound: ['a', 'r'], axis: -1 },
      { kind: 'globalpool', name: 'g', className: 'GlobalAveragePooling2D', inbound: ['c'], op: 'avg' },
      { kind: 'reshape', name: 'rs', className: 'Reshape', inbound: ['c'], targetShape: [-1, 6] },
    ]),
  );
  assert.deepEqual(s.get('a')?.outputShape, [null, 8, 8, 3]);
  assert.deepEqual(s.get('c')?.outputShape, [null, 8, 8, 6]);
  assert.deepEqual(s.get('g')?.outputShape, [null, 6]);
  assert.deepEqual(s.get('rs')?.outputShape, [null, 64, 6]);
});
