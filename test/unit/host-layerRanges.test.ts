// Layer ranges found in the fault-tolerant JSON tree (jsonc-parser), checked against positions computed
// independently with indexOf on the text — also in a file with a syntax error; plus the cheap network sniff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstJsonError, parseJsonTree, type JsonNode } from '../../src/engine/network/jsonTree';
import { findLayerRanges, layerAt, layerRangesOfText, looksLikeNetworkText, nodeAt } from '../../src/host/layerRanges';

const tree = (text: string): JsonNode => {
  const { root, errors } = parseJsonTree(text);
  assert.deepEqual(errors, []);
  return root!;
};

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
  assert.deepEqual(
    layers.map((l) => [l.name, l.className]),
    [
      ['dense_1', 'Dense'],
      ['dense_2', 'Dense'],
    ],
  );
  const d1 = layers[0];
  const objStart = tfjs.indexOf('{"class_name": "Dense"');
  assert.equal(d1.start, objStart);
  assert.equal(tfjs.slice(d1.start, d1.end), tfjs.slice(objStart, tfjs.indexOf('\n', objStart) - 1));
  assert.equal(tfjs.slice(d1.nameStart, d1.nameEnd), '"dense_1"');
  assert.equal(tfjs.slice(layers[1].nameStart, layers[1].nameEnd), '"dense_2"');
});

test('keras 3 functional: escaped names decoded, keras tensors in inbound nodes are not layers', () => {
  const layers = layerRangesOfText(keras3);
  assert.deepEqual(
    layers.map((l) => l.name),
    ['in', 'héllo "q"'],
  );
  assert.equal(keras3.slice(layers[1].nameStart, layers[1].nameEnd), '"héllo \\"q\\""');
});

test('layerAt picks the innermost layer; nothing outside layers', () => {
  const layers = layerRangesOfText(tfjs);
  assert.equal(layerAt(layers, tfjs.indexOf('"units": 16'))?.name, 'dense_1');
  assert.equal(layerAt(layers, tfjs.indexOf('softmax'))?.name, 'dense_2');
  assert.equal(layerAt(layers, tfjs.indexOf('weightsManifest')), undefined);
  const nested = `{"class_name":"Sequential","config":{"layers":[{"class_name":"Sequential","config":{"name":"outer","layers":[{"class_name":"Dense","config":{"name":"inner"}}]}}]}}`;
  const ls = findLayerRanges(tree(nested));
  assert.deepEqual(
    ls.map((l) => [l.name, l.depth]),
    [
      ['outer', 0],
      ['inner', 1],
    ],
  );
  assert.equal(layerAt(ls, nested.indexOf('"inner"'))?.name, 'inner');
  assert.equal(layerAt(ls, nested.indexOf('"outer"'))?.name, 'outer');
});

test('the parser agrees with JSON.parse on values', () => {
  const toPlain = (n: JsonNode): unknown => {
    switch (n.kind) {
      case 'object':
        return Object.fromEntries(n.props.map((p) => [p.key, toPlain(p.value)]));
      case 'array':
        return n.items.map(toPlain);
      default:
        return n.value;
    }
  };
  for (const t of [tfjs, keras3, '[1, -2.5e3, true, false, null, "\\u00e9\\n"]', '{}', '[]', '"x"']) {
    assert.deepEqual(toPlain(tree(t)), JSON.parse(t));
  }
});

test('strict syntax errors carry the offset and kind of the first problem, as JSON.parse sees it', () => {
  const bad = '{"a": [1, 2 3]}';
  assert.deepEqual(firstJsonError(bad), { offset: bad.indexOf('3'), length: 1, message: 'a comma is expected' });
  assert.equal(firstJsonError('{"a": 1,}')?.offset, 8, 'a trailing comma is an error to JSON.parse');
  assert.equal(firstJsonError('{"a": "open')?.offset, 6);
  assert.equal(firstJsonError('{"a": 1} // note')?.message, 'a comment (JSON has none)');
  assert.equal(firstJsonError('{"a": [1, 2]}'), null);
  assert.deepEqual(layerRangesOfText('{"layers": ['), []);
});

test('a file with a missing comma (as while typing) still yields every layer, and the error is located', () => {
  const layers = [
    '        {"class_name": "Dense", "config": {"name": "dense_1", "units": 16, "batch_input_shape": [null, 784]}},',
    '        {"class_name": "Dense", "config": {"name": "dense_2", "units": 16}}',
    '        {"class_name": "Dense", "config": {"name": "dense_3", "units": 10, "activation": "softmax"}}',
  ];
  // The comma after dense_2's object is missing.
  const text = `{"modelTopology": {"class_name": "Sequential", "config": {"layers": [\n${layers.join('\n')}\n]}}}`;
  assert.throws(() => JSON.parse(text));
  const found = layerRangesOfText(text);
  assert.deepEqual(
    found.map((l) => l.name),
    ['dense_1', 'dense_2', 'dense_3'],
  );
  for (const l of found) assert.equal(text.slice(l.nameStart, l.nameEnd), `"${l.name}"`);
  assert.equal(found[2].start, text.indexOf('{"class_name": "Dense", "config": {"name": "dense_3"'));
  const err = firstJsonError(text)!;
  assert.equal(err.message, 'a comma is expected');
  assert.equal(err.offset, found[2].start, 'the error is at the object that should have been preceded by a comma');
  const { errors } = parseJsonTree(text);
  assert.equal(errors.length, 1);
  // Comments and trailing commas (VS Code's jsonc) are no error to the editor's reading.
  assert.deepEqual(parseJsonTree('{"layers": [1, 2,], // note\n}').errors, []);
});

test('nodeAt finds the innermost value', () => {
  const root = tree(tfjs);
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
