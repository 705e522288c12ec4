// The editor's view of a network file (through the engine's parser) and the settings → config mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeNetworkText, lineColumnToOffset, problemRange } from '../../src/host/networkDoc';
import { SETTING_DEFAULTS, SettingsError, buildRequest, explicitValue } from '../../src/host/settings';
import { DEFAULT_HESSIAN_OPTIONS } from '../../src/engine/probes/hessian';

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

test('a JSON syntax error is reported at the place, and every layer is still found (hover and lens stay)', () => {
  const bad = mlp.replace('"units": 10,', '"units": 10');
  const info = analyzeNetworkText(bad, '/tmp/mlp.json');
  assert.ok(info.problem);
  const line = bad.slice(0, info.problem!.start).split('\n').length;
  assert.equal(line, 9, `problem at line ${line}: ${info.problem!.message}`);
  assert.match(info.problem!.message, /malformed JSON: a comma is expected/);
  assert.deepEqual(
    info.layers.map((l) => l.name),
    ['dense_1', 'dense_2'],
  );
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
  // One section or several (Run, Measurements, Engine, Charts), each with its own title.
  const sections = [pkg.contributes?.configuration ?? []].flat() as { title?: string; properties?: Record<string, { default: unknown; markdownDescription?: string; description?: string; order?: number }> }[];
  const props = Object.assign({}, ...sections.map((c) => c.properties ?? {}));
  for (const c of sections) assert.ok(c.title, 'every settings section has a title');
  for (const [k, v] of Object.entries(props)) assert.ok(typeof (v as { order?: number }).order === 'number', `${k} has an order`);
  for (const [k, v] of Object.entries(SETTING_DEFAULTS)) {
    assert.ok(props[`bnlens.${k}`], `bnlens.${k} is contributed`);
    assert.deepEqual(props[`bnlens.${k}`].default, v, `bnlens.${k} default`);
    assert.ok(props[`bnlens.${k}`].markdownDescription || props[`bnlens.${k}`].description, `bnlens.${k} has a description`);
  }
});

test('settings → request: only explicit settings are sent, dataset auto left to the engine, relative paths resolved', () => {
  const none = () => undefined;
  assert.deepEqual(buildRequest(none, '/w/net.json', '/w'), { model: '/w/net.json' });
  const set = (vals: Record<string, unknown>) => (k: string) => vals[k];
  assert.deepEqual(buildRequest(set({ steps: 6, variants: ['batchnorm', 'l2'], dataset: 'auto' }), '/w/n.json', '/w'), { model: '/w/n.json', steps: 6, variants: ['batchnorm', 'l2'] });
  assert.equal(buildRequest(set({ dataset: 'data/train.npz' }), '/w/net.json', '/w').dataset, '/w/data/train.npz');
  assert.equal(buildRequest(set({ dataset: 'dln' }), '/w/net.json', '/w').dataset, 'dln');
  assert.throws(
    () => buildRequest(set({ steps: 0 }), '/w/n.json', '/w'),
    (e: unknown) => e instanceof SettingsError && /^bnlens\.steps must be at least 1/.test(e.message),
  );
  assert.throws(() => buildRequest(set({ variants: ['batchnorm', 'foo'] }), '/w/n.json', '/w'), /bnlens\.variants has unknown variant 'foo'/);
  assert.throws(() => buildRequest(set({ etaCount: 1.5 }), '/w/n.json', '/w'), /bnlens\.etaCount must be a whole number/);
  assert.throws(() => buildRequest(set({ etaRange: [4, 0.5] }), '/w/n.json', '/w'), /bnlens\.etaRange/);
});

test("the Hessian settings reach the request as the CLI flags would, checked by the engine's reader", () => {
  const set = (vals: Record<string, unknown>) => (k: string) => vals[k];
  assert.deepEqual(buildRequest(set({ hessianEvery: 25, hessianBn: 'eval', hessianTop: 3 }), '/w/n.json', '/w'), { model: '/w/n.json', hessianEvery: 25, hessianBn: 'eval', hessianTop: 3 });
  assert.throws(() => buildRequest(set({ hessianBn: 'running' }), '/w/n.json', '/w'), /bnlens\.hessianBn must be train or eval/);
  assert.throws(() => buildRequest(set({ hessianTop: 0 }), '/w/n.json', '/w'), /bnlens\.hessianTop must be at least 1/);
  // The contributed default is the engine's own (Lanczos' top-k when the setting is left alone).
  assert.equal(SETTING_DEFAULTS.hessianTop, DEFAULT_HESSIAN_OPTIONS.top);
  assert.equal(SETTING_DEFAULTS.hessianEvery, 0, 'off unless asked for');
});

test('explicitValue: the most specific level wins; nothing set → undefined', () => {
  assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2 }), 2);
  assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
  assert.equal(explicitValue({}), undefined);
  assert.equal(explicitValue(undefined), undefined);
});

test('problems: an unknown layer type is underlined at its class name and has a short form; a syntax error is marked as such', () => {
  const text = JSON.stringify(
    {
      class_name: 'Sequential',
      config: {
        name: 'm',
        layers: [
          { class_name: 'Dense', config: { name: 'd1', units: 2, batch_input_shape: [null, 3] } },
          { class_name: 'Frobnicate', config: { name: 'odd' } },
        ],
      },
    },
    null,
    2,
  );
  const info = analyzeNetworkText(text, '/w/net.json');
  assert.ok(info.problem, 'a problem');
  assert.equal(text.slice(info.problem.start, info.problem.end), '"Frobnicate"');
  assert.match(info.problem.message, /supported: .*Dense/, 'the Problems panel keeps the full list');
  assert.equal(info.problem.short, 'layer "odd" has type Frobnicate, which BatchNorm Lens does not support; see "Network files" in the README for the supported layers.');
  assert.ok(!info.problem.short!.includes('\n'));
  const broken = analyzeNetworkText(text.replace('"units": 2,', '"units": 2'), '/w/net.json');
  assert.equal(broken.problem?.syntax, true);
});
