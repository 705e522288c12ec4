// Layer ranges found by the offset-keeping JSON parser, checked against positions computed independently
// with indexOf on the text; plus the cheap network sniff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonSyntaxError, findLayerRanges, layerAt, layerRangesOfText, looksLikeNetworkText, nodeAt, parseJsonWithOffsets } from '../../src/host/layerRanges';

const tfjs = `{
  "format": "layers-model",
  "modelTopology": {
    "class_name": "Sequential",
    "config": {
      "name": "mlp",
      "layers": [
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 16, "batch_input_shape": [null, 784]}},
        {"class_name": "Dense", "config": {"units": 10, "name": "dense_2", "activation": "softmax"}}
      ]
    }
  },
  "weightsManifest": [{"paths": [], "weights": [{"name": "dense_1/kernel", "shape": [784, 16], "dtype": "float32"}]}]
}`;

// Keras 3 functional: the layer name is also a top-level "name"; config.name wins.
const keras3 = `{"module": "keras", "class_name": "Functional", "config": {"name": "f", "layers": [
 {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}, "name": "in", "inbound_nodes": []},
 {"module": "keras.layers", "class_name": "Dense", "config": {"name": "héllo \\"q\\"", "units": 2}, "name": "héllo \\"q\\"", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}]}]}
]}}`;

test('tfjs model.json: both layers with exact object and name ranges', () => {
  const layers = layerRangesOfText(tfjs);
  assert.deepEqual(layers.map((l) => [l.name, l.className]), [['dense_1', 'Dense'], ['dense_2', 'Dense']]);
  const d1 = layers[0];
  const objStart = tfjs.indexOf('{"class_name": "Dense"');
  assert.equal(d1.start, objStart);
  assert.equal(tfjs.slice(d1.start, d1.end), tfjs.slice(objStart, tfjs.indexOf('\n', objStart) - 1));
  assert.equal(tfjs.slice(d1.nameStart, d1.nameEnd), '"dense_1"');
  assert.equal(tfjs.slice(layers[1].nameStart, layers[1].nameEnd), '"dense_2"');
});

test('keras 3 functional: escaped names decoded, keras tensors in inbound nodes are not layers', () => {
  const layers = layerRangesOfText(keras3);
  assert.deepEqual(layers.map((l) => l.name), ['in', 'héllo "q"']);
  assert.equal(keras3.slice(layers[1].nameStart, layers[1].nameEnd), '"héllo \\"q\\""');
});

test('layerAt picks the innermost layer; nothing outside layers', () => {
  const layers = layerRangesOfText(tfjs);
  assert.equal(layerAt(layers, tfjs.indexOf('"units": 16'))?.name, 'dense_1');
  assert.equal(layerAt(layers, tfjs.indexOf('softmax'))?.name, 'dense_2');
  assert.equal(layerAt(layers, tfjs.indexOf('weightsManifest')), undefined);
  const nested = `{"class_name":"Sequential","config":{"layers":[{"class_name":"Sequential","config":{"name":"outer","layers":[{"class_name":"Dense","config":{"name":"inner"}}]}}]}}`;
  const ls = findLayerRanges(parseJsonWithOffsets(nested));
  assert.deepEqual(ls.map((l) => [l.name, l.depth]), [['outer', 0], ['inner', 1]]);
  assert.equal(layerAt(ls, nested.indexOf('"inner"'))?.name, 'inner');
  assert.equal(layerAt(ls, nested.indexOf('"outer"'))?.name, 'outer');
});

test('the parser agrees with JSON.parse on values', () => {
  const toPlain = (n: ReturnType<typeof parseJsonWithOffsets>): unknown => {
    switch (n.kind) {
      case 'object': return Object.fromEntries(n.props.map((p) => [p.key, toPlain(p.value)]));
      case 'array': return n.items.map(toPlain);
      default: return n.value;
    }
  };
  for (const t of [tfjs, keras3, '[1, -2.5e3, true, false, null, "\\u00e9\\n"]', '{}', '[]', '"x"']) {
    assert.deepEqual(toPlain(parseJsonWithOffsets(t)), JSON.parse(t));
  }
});

test('syntax errors carry the offset of the problem', () => {
  const bad = '{"a": [1, 2 3]}';
  assert.throws(() => parseJsonWithOffsets(bad), (e: unknown) => e instanceof JsonSyntaxError && e.offset === bad.indexOf('3'));
  assert.throws(() => parseJsonWithOffsets('{"a": 1,}'), JsonSyntaxError);
  assert.throws(() => parseJsonWithOffsets('{"a": "open'), (e: unknown) => e instanceof JsonSyntaxError && e.offset === 6);
  assert.deepEqual(layerRangesOfText('{"layers": ['), []);
});

test('nodeAt finds the innermost value', () => {
  const root = parseJsonWithOffsets(tfjs);
  const n = nodeAt(root, tfjs.indexOf('784') + 1);
  assert.equal(n.kind, 'number');
  assert.equal(tfjs.slice(n.start, n.end), '784');
  const s = nodeAt(root, tfjs.indexOf('softmax'));
  assert.equal(tfjs.slice(s.start, s.end), '"softmax"');
});

test('looksLikeNetworkText: tfjs and keras files yes, other JSON no', () => {
  assert.equal(looksLikeNetworkText(tfjs), true);
  assert.equal(looksLikeNetworkText(keras3), true);
  assert.equal(looksLikeNetworkText('{"class_name": "Sequential", "config": {"layers": []}}'), true);
  assert.equal(looksLikeNetworkText('{"name": "pkg", "version": "1.0.0", "dependencies": {}}'), false);
  assert.equal(looksLikeNetworkText('{"compilerOptions": {"layers": []}}'), false);
  assert.equal(looksLikeNetworkText('[1,2]'), false);
});
