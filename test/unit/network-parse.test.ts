// Network files as the three writers produce them — tfjs-layers model.json, Keras 2 and Keras 3
// `model.to_json()` — read into the same IR; shapes and parameter counts checked against hand counts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetworkText } from '../../src/engine/network/parse';
import { inferShapes, paramCount } from '../../src/engine/network/shapes';
import { UserError } from '../../src/engine/errors';

const k3init = (c: string) => ({ module: 'keras.initializers', class_name: c, config: { seed: null }, registered_name: null });
const k3dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

function keras3Dense(name: string, units: number, activation: string, inputShape: number[], history?: string) {
  return {
    module: 'keras.layers',
    class_name: 'Dense',
    config: {
      name,
      trainable: true,
      dtype: k3dtype,
      units,
      activation,
      use_bias: true,
      kernel_initializer: k3init('GlorotUniform'),
      bias_initializer: { ...k3init('Zeros'), config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
    registered_name: null,
    build_config: { input_shape: [null, ...inputShape] },
    ...(history
      ? {
          name,
          inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { shape: [null, ...inputShape], dtype: 'float32', keras_history: [history, 0, 0] } }], kwargs: {} }],
        }
      : {}),
  };
}

test('Keras 3 Sequential with InputLayer(batch_shape), DTypePolicy and initializer objects', () => {
  const model = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      trainable: true,
      dtype: k3dtype,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 784], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null },
        keras3Dense('dense', 64, 'relu', [784]),
        {
          module: 'keras.layers',
          class_name: 'BatchNormalization',
          registered_name: null,
          config: { name: 'bn', trainable: true, dtype: k3dtype, axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true },
        },
        keras3Dense('dense_1', 10, 'softmax', [64]),
      ],
      build_input_shape: [null, 784],
    },
    registered_name: null,
    build_config: { input_shape: [null, 784] },
  };
  const { spec } = parseNetworkText(JSON.stringify(model), 'k3.json');
  assert.equal(spec.format, 'keras3');
  assert.deepEqual(
    spec.layers.map((l) => l.kind),
    ['input', 'dense', 'batchnorm', 'dense'],
  );
  const info = inferShapes(spec.layers, 'k3.json');
  assert.deepEqual(info.shapes.get('dense_1'), [10]);
  assert.equal(paramCount(info, 'dense'), 784 * 64 + 64);
  assert.equal(paramCount(info, 'bn'), 4 * 64); // gamma, beta, moving mean, moving variance
  const d = spec.layers[1];
  assert.equal(d.kind === 'dense' && d.kernelInitializer.className, 'GlorotUniform');
});

test('Keras 3 functional model with a residual Add, single-tensor input_layers form', () => {
  const model = {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 16], dtype: 'float32', sparse: false, name: 'inp' }, registered_name: null, name: 'inp', inbound_nodes: [] },
        keras3Dense('a', 16, 'relu', [16], 'inp'),
        keras3Dense('b', 16, 'linear', [16], 'a'),
        {
          module: 'keras.layers',
          class_name: 'Add',
          config: { name: 'add', trainable: true, dtype: k3dtype },
          registered_name: null,
          name: 'add',
          inbound_nodes: [
            {
              args: [
                [
                  { class_name: '__keras_tensor__', config: { shape: [null, 16], dtype: 'float32', keras_history: ['inp', 0, 0] } },
                  { class_name: '__keras_tensor__', config: { shape: [null, 16], dtype: 'float32', keras_history: ['b', 0, 0] } },
                ],
              ],
              kwargs: {},
            },
          ],
        },
        keras3Dense('out', 3, 'linear', [16], 'add'),
      ],
      input_layers: ['inp', 0, 0],
      output_layers: [['out', 0, 0]],
    },
    registered_name: 'Functional',
  };
  const { spec } = parseNetworkText(JSON.stringify(model), 'f3.json');
  assert.equal(spec.format, 'keras3');
  const add = spec.layers.find((l) => l.name === 'add')!;
  assert.deepEqual(add.inbound, ['inp', 'b']);
  assert.deepEqual(spec.outputs, ['out']);
  assert.deepEqual(inferShapes(spec.layers, 'f3.json').shapes.get('out'), [3]);
});

test('Keras 2 functional model (nested inbound_nodes, Model class) and tf.keras tuple wrappers', () => {
  const model = {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        {
          class_name: 'InputLayer',
          config: { batch_input_shape: { class_name: 'TensorShape', items: [null, 28, 28, 1] }, dtype: 'float32', sparse: false, ragged: false, name: 'input_1' },
          name: 'input_1',
          inbound_nodes: [],
        },
        {
          class_name: 'Conv2D',
          name: 'conv2d',
          inbound_nodes: [[['input_1', 0, 0, {}]]],
          config: {
            name: 'conv2d',
            filters: 8,
            kernel_size: { class_name: '__tuple__', items: [5, 5] },
            strides: [1, 1],
            padding: 'valid',
            data_format: 'channels_last',
            dilation_rate: [1, 1],
            groups: 1,
            activation: 'relu',
            use_bias: true,
          },
        },
        { class_name: 'MaxPooling2D', name: 'pool', inbound_nodes: [[['conv2d', 0, 0, {}]]], config: { name: 'pool', pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' } },
        { class_name: 'Flatten', name: 'flatten', inbound_nodes: [[['pool', 0, 0, {}]]], config: { name: 'flatten', data_format: 'channels_last' } },
        { class_name: 'Dense', name: 'dense', inbound_nodes: [[['flatten', 0, 0, {}]]], config: { name: 'dense', units: 10, activation: 'softmax', use_bias: true } },
      ],
      input_layers: [['input_1', 0, 0]],
      output_layers: [['dense', 0, 0]],
    },
    keras_version: '2.15.0',
    backend: 'tensorflow',
  };
  const { spec } = parseNetworkText(JSON.stringify(model, null, 1), 'k2.json');
  assert.equal(spec.format, 'keras2');
  const info = inferShapes(spec.layers, 'k2.json');
  assert.deepEqual(info.shapes.get('conv2d'), [24, 24, 8]);
  assert.deepEqual(info.shapes.get('pool'), [12, 12, 8]);
  assert.deepEqual(info.shapes.get('flatten'), [1152]);
  assert.equal(paramCount(info, 'conv2d'), 5 * 5 * 1 * 8 + 8);
  assert.equal(paramCount(info, 'dense'), 1152 * 10 + 10);
});

test('tfjs model.json: Sequential with batch_input_shape on the first layer, metadata defaults', () => {
  const model = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'd', units: 4, activation: 'linear', batch_input_shape: [null, 3] } }] },
    },
    userDefinedMetadata: { bnlens: { steps: 5 } },
  };
  const parsed = parseNetworkText(JSON.stringify(model), 'm.json');
  assert.equal(parsed.spec.format, 'tfjs-layers');
  assert.deepEqual(
    parsed.spec.layers.map((l) => l.kind),
    ['input', 'dense'],
  );
  assert.deepEqual(parsed.defaults, { steps: 5 });
  assert.equal(parsed.manifest, null);
});

function errorOf(text: string): UserError {
  try {
    parseNetworkText(text, 'net.json');
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

test('malformed JSON names line and column of the fault', () => {
  const e = errorOf('{\n  "modelTopology": {\n    "class_name": "Sequential",\n    "config": {"layers": [}\n  }\n}');
  assert.equal(e.line, 4);
  assert.equal(e.column, 27); // the "}" after "["
  assert.match(e.format(), /^net\.json:4:27: malformed JSON/);
  assert.doesNotMatch(e.format(), /\n/);
});

test('a JSON that is not a model says what a model looks like', () => {
  const e = errorOf('{"hello": 1}');
  assert.match(e.message, /not a model/);
  assert.match(e.message, /modelTopology/);
});

test('an unsupported layer is named with its type and located', () => {
  const text = JSON.stringify(
    {
      modelTopology: {
        class_name: 'Sequential',
        config: {
          layers: [
            { class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 2] } },
            { class_name: 'LSTM', config: { name: 'my_lstm', units: 3 } },
          ],
        },
      },
    },
    null,
    2,
  );
  const e = errorOf(text);
  assert.match(e.message, /"my_lstm" has type LSTM/);
  assert.match(e.message, /supported: .*Dense/);
  const lines = text.split('\n');
  assert.match(lines[e.line! - 1], /"name": "my_lstm"/);
});

test('a Dense layer fed an image asks for a Flatten', () => {
  const text = JSON.stringify({
    modelTopology: {
      class_name: 'Sequential',
      config: {
        layers: [
          { class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: 3, batch_input_shape: [null, 8, 8, 1] } },
          { class_name: 'Dense', config: { name: 'd', units: 2 } },
        ],
      },
    },
  });
  const { spec } = parseNetworkText(text, 'net.json');
  assert.throws(() => inferShapes(spec.layers, 'net.json', text), /Dense layer "d" receives shape \[6, 6, 2\]; add a Flatten/);
});

test('malformed JSON where V8 gives no position is still located (strict offset scan)', () => {
  const e = errorOf('{\n  "modelTopology": tru\n}');
  assert.equal(e.line, 2);
  assert.equal(e.column, 20); // the "t" of the bad literal
  assert.doesNotMatch(e.format(), /\n/);
  // Comments are fine in the editor's jsonc view, but JSON.parse (and so the engine) rejects them.
  const c = errorOf('{\n  // a comment\n  "modelTopology": {}\n}');
  assert.equal(c.line, 2);
  assert.equal(c.column, 3);
});
