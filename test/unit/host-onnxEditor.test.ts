// The read-only .onnx editor's page: the layers of PyTorch exports with their NCHW shapes and PyTorch's
// parameter counts (from the generator's reference, i.e. PyTorch's own count), the folded-BatchNorm note,
// the one-line error of a file that cannot be analyzed, and a report's statistics per layer and variant.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readOnnxNetwork } from '../../src/engine/network/onnx/load';
import { onnxEditorHtml, onnxModelView } from '../../src/host/onnxEditorHtml';
import { report, stat, variant } from './host-helpers';
import { ONNX_DIR, references } from './onnx-helpers';

const view = (name: string) => onnxModelView(readOnnxNetwork(join(ONNX_DIR, `${name}.onnx`)));

test('every fixture lists PyTorch parameter count in total', () => {
  for (const ref of references()) {
    const v = onnxModelView(readOnnxNetwork(join(ONNX_DIR, ref.model)));
    assert.equal(v.totalParams, ref.parameters, `${ref.model}: ${v.totalParams} vs PyTorch ${ref.parameters}`);
  }
});

test('layers of the residual export: state_dict names, ONNX nodes, NCHW shapes, per-layer parameters', () => {
  const v = view('residual');
  const rows = v.layers.map((l) => [l.name, l.opType, l.node, JSON.stringify(l.outputShape), l.params]);
  assert.deepEqual(rows.slice(0, 4), [
    ['x', 'Input', '', '[null,2,6,6]', 0],
    ['stem', 'Conv', '/stem/Conv', '[null,4,6,6]', 4 * 2 * 9 + 4],
    ['Relu', 'Relu', '/Relu', '[null,4,6,6]', 0],
    ['block.conv1', 'Conv', '/block/conv1/Conv', '[null,4,6,6]', 4 * 4 * 9],
  ]);
  assert.deepEqual(
    v.layers.map((l) => l.name),
    ['x', 'stem', 'Relu', 'block.conv1', 'block.bn1', 'block.Relu', 'block.conv2', 'block.bn2', 'block.Add', 'block.Relu_1', 'pool', 'fc'],
  );
  assert.equal(v.layers.find((l) => l.name === 'block.bn1')!.params, 8);
  assert.deepEqual(v.layers.find((l) => l.name === 'pool')!.outputShape, [null, 4, 1, 1]);
  assert.equal(v.opset, 15);
  assert.match(v.producer, /^pytorch 1\.13/);
  const html = onnxEditorHtml({ kind: 'model', model: v }, null, false, 'n0nce', 'vscode-resource:');
  assert.match(html, /<td><code>block\.conv1<\/code><\/td><td>Conv<\/td><td class="muted">\/block\/conv1\/Conv<\/td><td><code>\[N, 4, 6, 6\]<\/code><\/td><td class="num">144<\/td>/);
  assert.match(html, /No analysis yet/);
  assert.match(html, /script-src 'nonce-n0nce'/);
});

test('the eval-mode export shows the folded-BatchNorm note', () => {
  const v = view('conv_pool_eval');
  assert.equal(v.notes.length, 1);
  const html = onnxEditorHtml({ kind: 'model', model: v }, null, false, 'n', 'c');
  assert.match(html, /<div class="note" role="note">the file&#39;s BatchNorm layers were folded away by the export/);
  assert.doesNotMatch(onnxEditorHtml({ kind: 'model', model: view('conv_pool') }, null, false, 'n', 'c'), /class="note"/);
});

test('an error state shows the one-line message, escaped', () => {
  const html = onnxEditorHtml({ kind: 'error', file: '/w/bad.onnx', message: 'node "/2/Relu" (Mish): operator Mish is not supported; supported: <Gemm>' }, null, false, 'n', 'c');
  assert.match(html, /<div class="error" role="alert" id="problem">node &quot;\/2\/Relu&quot; \(Mish\): operator Mish is not supported; supported: &lt;Gemm&gt;<\/div>/);
  assert.doesNotMatch(html, /<table/);
});

test('after a run: each layer gets its last statistics per variant', () => {
  const v = view('seq_bn1d');
  const layers = [
    { name: '0', className: 'Gemm', sourceLayer: '0', inserted: false, outputShape: [null, 16], params: 208 },
    { name: '4', className: 'Gemm', sourceLayer: '4', inserted: false, outputShape: [null, 5], params: 85 },
  ];
  const r = report([
    variant('standard', { layers, layerStats: [stat(0, '4', { icsCos: 0.5 }), stat(10, '4', { icsCos: 0.75, actMean: 0.25, actStd: 2 })] }),
    variant('batchnorm', { layers, layerStats: [stat(10, '4', { icsCos: 0.125 })] }),
  ]);
  const html = onnxEditorHtml({ kind: 'model', model: v }, r, false, 'n', 'c');
  assert.match(html, /<th>standard<\/th><th>batchnorm<\/th>/);
  const row = html.split('\n').find((l) => l.startsWith('<tr data-layer="4">'))!;
  assert.match(row, /ICS cos 0\.75.*act 0\.25 ± 2<\/td><td>.*ICS cos 0\.125/);
  // A layer without records in a variant shows a dash.
  assert.match(
    html.split('\n').find((l) => l.startsWith('<tr data-layer="2">'))!,
    /<td class="muted">—<\/td><td class="muted">—<\/td><\/tr>/,
  );
});
