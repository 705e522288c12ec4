// The editor's view of a network file (through the engine's parser) and the settings → config mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeNetworkText, lineColumnToOffset, problemRange } from '../../src/host/networkDoc';
import { SETTING_DEFAULTS, SettingsError, autoDataset, buildConfig } from '../../src/host/settings';

const mlp = `{
  "format": "layers-model",
  "modelTopology": {
    "class_name": "Sequential",
    "config": {
      "name": "mlp",
      "layers": [
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 16, "activation": "relu", "batch_input_shape": [null, 784]}},
        {"class_name": "Dense", "config": {"name": "dense_2", "units": 10, "activation": "softmax"}}
      ]
    }
  }
}`;

test('a valid tfjs file: layers with shapes and parameter counts, input shape, no problem', () => {
  const info = analyzeNetworkText(mlp, '/tmp/mlp.json');
  assert.equal(info.isNetwork, true);
  assert.equal(info.problem, null, info.problem?.message);
  assert.deepEqual(info.inputShape, [784]);
  assert.deepEqual(info.facts.get('dense_1'), { name: 'dense_1', className: 'Dense', outputShape: [null, 16], params: 784 * 16 + 16 });
  assert.deepEqual(info.facts.get('dense_2'), { name: 'dense_2', className: 'Dense', outputShape: [null, 10], params: 170 });
});

test('an unsupported activation is reported at its place', () => {
  const bad = mlp.replace('"softmax"', '"sofmax"');
  const info = analyzeNetworkText(bad, '/tmp/mlp.json');
  assert.ok(info.problem, 'a problem');
  const underlined = bad.slice(info.problem!.start, info.problem!.end);
  assert.ok(info.problem!.message.length > 0);
  // the parser points at the layer or the bad value; either way the range lies inside dense_2's object
  const d2 = bad.indexOf('{"class_name": "Dense", "config": {"name": "dense_2"');
  assert.ok(info.problem!.start >= d2 && info.problem!.end <= bad.indexOf('\n', d2), `underlined ${underlined}`);
});

test('a JSON syntax error is reported at the place, layers still found up to it', () => {
  const bad = mlp.replace('"units": 10,', '"units": 10');
  const info = analyzeNetworkText(bad, '/tmp/mlp.json');
  assert.ok(info.problem);
  const line = bad.slice(0, info.problem!.start).split('\n').length;
  assert.equal(line, 9, `problem at line ${line}: ${info.problem!.message}`);
});

test('other JSON is not a network', () => {
  const info = analyzeNetworkText('{"name": "x", "version": "1"}', '/tmp/package.json');
  assert.equal(info.isNetwork, false);
  assert.equal(info.problem, null);
});

test('lineColumnToOffset and problemRange', () => {
  const t = 'ab\n  "cd": 12\n';
  assert.equal(lineColumnToOffset(t, 2, 3), 5);
  assert.equal(lineColumnToOffset(t, 9, 1), t.length);
  assert.deepEqual(problemRange('{"a": "xyz"}', 6), { start: 6, end: 11 });
  assert.deepEqual(problemRange('{"a": 1,}', 8), { start: 8, end: 9 });
  assert.deepEqual(problemRange('{"abc": 1}', 1), { start: 1, end: 6 });
});

test('settings: defaults match package.json contributes.configuration', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
  const props = pkg.contributes?.configuration?.properties ?? {};
  for (const [k, v] of Object.entries(SETTING_DEFAULTS)) {
    assert.ok(props[`bnlens.${k}`], `bnlens.${k} is contributed`);
    assert.deepEqual(props[`bnlens.${k}`].default, v, `bnlens.${k} default`);
    assert.ok(props[`bnlens.${k}`].markdownDescription || props[`bnlens.${k}`].description, `bnlens.${k} has a description`);
  }
});

test('settings → config: auto dataset, relative paths, validation', () => {
  const none = () => undefined;
  const c = buildConfig(none, '/w/net.json', [28, 28, 1], '/w');
  assert.equal(c.dataset, 'mnist');
  assert.deepEqual(c.variants, ['standard', 'batchnorm']);
  assert.equal(c.steps, 200);
  assert.equal(buildConfig(none, '/w/net.json', [10], '/w').dataset, 'gaussian');
  assert.equal(buildConfig((k) => (k === 'dataset' ? 'data/train.npz' : undefined), '/w/net.json', null, '/w').dataset, '/w/data/train.npz');
  assert.equal(buildConfig((k) => (k === 'dataset' ? 'dln' : undefined), '/w/net.json', null, '/w').dataset, 'dln');
  assert.throws(() => buildConfig((k) => (k === 'steps' ? 0 : undefined), '/w/n.json', null, '/w'), SettingsError);
  assert.throws(() => buildConfig((k) => (k === 'variants' ? ['batchnorm', 'foo'] : undefined), '/w/n.json', null, '/w'), /unknown variant "foo"/);
  assert.throws(() => buildConfig((k) => (k === 'etaRange' ? [4, 0.5] : undefined), '/w/n.json', null, '/w'), /etaRange/);
  assert.equal(autoDataset([784]), 'mnist');
  assert.equal(autoDataset([32, 32, 3]), 'gaussian');
});
