// ONNX exports read with the PyTorch conventions of the IR, checked against PyTorch itself (the module output
// shapes and parameter counts generate.py records with torch) and PyTorch's documented defaults: NCHW layout,
// shapes shown as PyTorch prints them, parameters() counted without the running statistics, the padding
// PyTorch applies kept exactly, BatchNorm with the file's eps and momentum and PyTorch's unbiased running
// variance, and the BatchNorm the variants insert made as PyTorch's BatchNorm1d/2d (eps 1e-5, momentum 0.1).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { inspectLoaded, inspectTable } from '../../src/engine/inspect';
import type { LayerNode } from '../../src/engine/network/ir';
import { loadNetwork } from '../../src/engine/network/load';
import { frameworkOfProducer, readOnnxNetwork } from '../../src/engine/network/onnx/load';
import { deriveVariants } from '../../src/engine/variants';
import { ONNX_DIR, references } from './onnx-helpers';

const dir = mkdtempSync(join(tmpdir(), 'bnlens-onnx-conv-'));
const layer = (layers: LayerNode[], name: string) => layers.find((l) => l.name === name)!;

test('every fixture is NCHW with PyTorch conventions; inspect shows each module’s output shape as PyTorch computes it and PyTorch’s parameter count', () => {
  for (const ref of references()) {
    const shapes = (JSON.parse(readFileSync(join(ONNX_DIR, ref.model.replace(/\.onnx$/, '.ref.json')), 'utf8')) as { shapes: Record<string, number[]> }).shapes;
    const net = loadNetwork(join(ONNX_DIR, ref.model));
    assert.equal(net.spec.layout, 'NCHW', ref.model);
    assert.equal(net.spec.framework, 'pytorch', ref.model);
    const r = inspectLoaded(net);
    assert.equal(r.layout, 'NCHW');
    assert.equal(r.totalParams, ref.parameters, `${ref.model}: totalParams ${r.totalParams}, PyTorch parameters() ${ref.parameters}`);
    assert.equal(r.trainableParams, ref.parameters);
    // Every module is a layer of its state_dict name (but a Dropout an eval-mode export drops), with the
    // module's own output shape.
    const dropped = ref.model.endsWith('_eval.onnx') ? ['3'] : [];
    assert.deepEqual(
      Object.keys(shapes).filter((n) => !r.layers.some((l) => l.name === n)),
      dropped,
      `${ref.model}: modules without a layer`,
    );
    for (const l of r.layers.filter((l) => l.name in shapes)) assert.deepEqual(l.outputShape, shapes[l.name], `${ref.model}: ${l.name}`);
  }
});

test('the inspect table of a PyTorch conv export reads as PyTorch prints shapes (C, H, W)', () => {
  const table = inspectLoaded(loadNetwork(join(ONNX_DIR, 'conv_pool.onnx')));
  assert.match(inspectTable(table).split('\n')[1], /output shape \(C, H, W\)/);
  // An MLP has no image: its column says per example.
  assert.match(inspectTable(inspectLoaded(loadNetwork(join(ONNX_DIR, 'seq_bn1d.onnx')))).split('\n')[1], /output shape \(per example\)/);
  assert.deepEqual(
    table.layers.map((l) => [l.name, l.outputShape.join('×'), l.params]),
    [
      ['x', '3×8×8', 0],
      ['conv1', '6×8×8', 6 * 3 * 9 + 6],
      ['bn1', '6×8×8', 12],
      ['Relu', '6×8×8', 0],
      ['pool', '6×4×4', 0],
      ['conv2', '8×2×2', 8 * 6 * 9 + 8],
      ['Relu_1', '8×2×2', 0],
      ['Reshape', '32', 0],
      ['fc', '4', 32 * 4 + 4],
    ],
  );
});

test('Conv pads PyTorch wrote are kept as explicit padding, also where TF’s same would pad differently', () => {
  const { spec } = readOnnxNetwork(join(ONNX_DIR, 'op_conv_pads.onnx'));
  const down = layer(spec.layers, 'down');
  const tall = layer(spec.layers, 'tall');
  // nn.Conv2d(3, 6, 3, stride=2, padding=1) on 8×8: TF's 'same' would pad [0, 1]; PyTorch pads 1 on each side.
  assert.ok(down.kind === 'conv2d' && down.padding === 'valid');
  assert.deepEqual(down.kind === 'conv2d' && down.pads, [1, 1, 1, 1]);
  // nn.Conv2d(6, 4, (3, 1), padding=(2, 0)): [top, bottom, left, right].
  assert.deepEqual(tall.kind === 'conv2d' && tall.pads, [2, 2, 0, 0]);
  // An unpadded conv has no pads.
  const conv2 = layer(readOnnxNetwork(join(ONNX_DIR, 'conv_pool.onnx')).spec.layers, 'conv2');
  assert.ok(conv2.kind === 'conv2d' && conv2.pads === undefined && conv2.padding === 'valid');
});

test('Conv group > 1 is a grouped convolution (depthwise when group = channels) with PyTorch’s weight per group', () => {
  const { spec, info } = readOnnxNetwork(join(ONNX_DIR, 'op_grouped_conv.onnx'));
  const groups = (name: string) => {
    const l = layer(spec.layers, name);
    return l.kind === 'conv2d' ? (l.groups ?? 1) : NaN;
  };
  // nn.Conv2d(4, 8, 3, groups=2), (8, 8, 3, groups=8), (8, 16, 3, groups=8), (16, 6, 1)
  assert.deepEqual(['grouped', 'depthwise', 'multiplier', 'pointwise'].map(groups), [2, 8, 8, 1]);
  const kernel = (name: string) => info.params.find((p) => p.layer === name && p.role === 'kernel')!.shape;
  assert.deepEqual(kernel('grouped'), [3, 3, 2, 8]);
  assert.deepEqual(kernel('depthwise'), [3, 3, 1, 8]);
  assert.deepEqual(kernel('multiplier'), [3, 3, 1, 16]);
});

test('BatchNorm keeps the file’s eps and momentum (ONNX momentum = 1 − PyTorch’s) with PyTorch’s unbiased running variance', () => {
  const { spec } = readOnnxNetwork(join(ONNX_DIR, 'op_conv_pads.onnx'));
  const bn = layer(spec.layers, 'bn'); // nn.BatchNorm2d(6, eps=1e-3, momentum=0.3)
  assert.ok(bn.kind === 'batchnorm');
  assert.ok(Math.abs(bn.epsilon - 1e-3) < 1e-9, String(bn.epsilon));
  assert.ok(Math.abs(bn.momentum - 0.7) < 1e-6, String(bn.momentum));
  assert.equal(bn.unbiasedMovingVariance, true);
  const bn1 = layer(readOnnxNetwork(join(ONNX_DIR, 'conv_pool.onnx')).spec.layers, 'bn1'); // defaults
  assert.ok(bn1.kind === 'batchnorm' && Math.abs(bn1.epsilon - 1e-5) < 1e-12 && Math.abs(bn1.momentum - 0.9) < 1e-6);
});

test('the variants insert PyTorch’s BatchNorm (BatchNorm2d after a conv, BatchNorm1d after a Linear; eps 1e-5, momentum 0.1)', () => {
  const { spec } = readOnnxNetwork(join(ONNX_DIR, 'conv_pool.onnx'));
  const [bn] = deriveVariants(spec, ['batchnorm']);
  const inserted = bn.layers.filter((l) => l.kind === 'batchnorm' && l.derivedFrom);
  assert.ok(inserted.length >= 2);
  for (const l of inserted) {
    assert.ok(l.kind === 'batchnorm');
    const after = layer(bn.layers, l.inbound[0]);
    assert.equal(l.className, after.kind === 'conv2d' ? 'BatchNorm2d' : 'BatchNorm1d', l.name);
    assert.ok(Math.abs(l.epsilon - 1e-5) < 1e-12, `${l.name} eps ${l.epsilon}`);
    assert.ok(Math.abs(l.momentum - 0.9) < 1e-12, `${l.name} momentum ${l.momentum}`);
    assert.equal(l.unbiasedMovingVariance, true);
  }
});

test('tf2onnx/keras2onnx exports keep Keras conventions; an NHWC input that a Transpose turns into NCHW is NHWC', () => {
  assert.equal(frameworkOfProducer('pytorch'), 'pytorch');
  assert.equal(frameworkOfProducer('tf2onnx'), 'keras');
  assert.equal(frameworkOfProducer('keras2onnx'), 'keras');
  assert.equal(frameworkOfProducer(''), 'pytorch');
  const m = onnx.ModelProto.decode(readFileSync(join(ONNX_DIR, 'op_pool_concat.onnx')));
  const g = m.graph!;
  const x = g.input![0];
  const [n, c, h, w] = x.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue));
  g.input![0] = onnx.ValueInfoProto.create({ name: 'x_nhwc', type: { tensorType: { elemType: 1, shape: { dim: [n, h, w, c].map((v) => ({ dimValue: v })) } } } });
  g.node!.unshift(onnx.NodeProto.create({ name: 'to_nchw', opType: 'Transpose', input: ['x_nhwc'], output: ['x'], attribute: [{ name: 'perm', type: 7, ints: [0, 3, 1, 2] }] }));
  m.producerName = 'tf2onnx';
  const file = join(dir, 'keras.onnx');
  writeFileSync(file, onnx.ModelProto.encode(m).finish());
  const net = readOnnxNetwork(file);
  assert.equal(net.spec.layout, 'NHWC');
  assert.equal(net.spec.framework, 'keras');
  const bn = layer(deriveVariants(net.spec, ['batchnorm'])[0].layers, 'a_bn');
  assert.ok(bn.kind === 'batchnorm' && Math.abs(bn.epsilon - 1e-3) < 1e-12 && !bn.unbiasedMovingVariance, JSON.stringify(bn));
});
