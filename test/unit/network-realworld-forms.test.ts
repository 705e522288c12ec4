// The forms real network files take (issue 11), written here as small fixtures of our own: Keras 1 names,
// Teachable Machine's nested Sequential, a model saved as a JSON string, a tfjs graph model, recurrent
// layers, the MobileNet layers; shapes and parameter counts checked against hand counts, refusals against
// the one line a user should see.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../src/engine/errors';
import { loadNetwork } from '../../src/engine/network/load';
import { parseNetworkText } from '../../src/engine/network/parse';
import { inferShapes, paramCount } from '../../src/engine/network/shapes';
import { modelLoss } from '../../src/engine/data/forNetwork';
import { deriveVariants } from '../../src/engine/variants';

const refuses = (text: string, ...patterns: RegExp[]) => {
  assert.throws(
    () => parseNetworkText(text, 'm.json'),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
      assert.ok(!e.message.includes('\n'), 'one line');
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
  );
};

test('Keras 1 Convolution2D / Dense / Dropout options are read as their Keras 2 equivalents', () => {
  const model = {
    keras_version: '1.0.7',
    class_name: 'Sequential',
    config: [
      {
        class_name: 'Convolution2D',
        config: { name: 'c1', nb_filter: 4, nb_row: 3, nb_col: 2, subsample: [2, 1], border_mode: 'same', bias: false, init: 'he_normal', dim_ordering: 'tf', activation: 'relu', batch_input_shape: [null, 9, 8, 1] },
      },
      { class_name: 'Dropout', config: { name: 'd', p: 0.3 } },
      { class_name: 'Flatten', config: { name: 'f' } },
      { class_name: 'Dense', config: { name: 'out', output_dim: 5, init: 'glorot_uniform', bias: true, activation: 'softmax' } },
    ],
  };
  const { spec } = parseNetworkText(JSON.stringify(model), 'k1.json');
  const conv = spec.layers[1];
  assert.ok(conv.kind === 'conv2d');
  assert.equal(conv.className, 'Convolution2D');
  assert.deepEqual([conv.filters, conv.kernelSize, conv.strides, conv.padding, conv.useBias, conv.kernelInitializer.className], [4, [3, 2], [2, 1], 'same', false, 'he_normal']);
  const drop = spec.layers[2];
  assert.ok(drop.kind === 'dropout' && drop.rate === 0.3);
  const info = inferShapes(spec.layers, 'k1.json');
  assert.deepEqual(info.shapes.get('c1'), [5, 8, 4]); // ceil(9/2), ceil(8/1)
  assert.equal(paramCount(info, 'out'), 5 * 8 * 4 * 5 + 5);
  // Theano ordering is refused with the fix.
  const th = structuredClone(model);
  (th.config[0].config as Record<string, unknown>).dim_ordering = 'th';
  refuses(JSON.stringify(th), /channels_first/, /c1/);
});

test("Teachable Machine's Sequential of a functional model and a Sequential head is flattened into one network", () => {
  const inner = {
    class_name: 'Model',
    config: {
      name: 'model1',
      layers: [
        { class_name: 'InputLayer', name: 'input_1', inbound_nodes: [], config: { name: 'input_1', batch_input_shape: [null, 8, 8, 3] } },
        {
          class_name: 'ZeroPadding2D',
          name: 'pad',
          inbound_nodes: [[['input_1', 0, 0, {}]]],
          config: {
            name: 'pad',
            padding: [
              [0, 1],
              [0, 1],
            ],
          },
        },
        { class_name: 'DepthwiseConv2D', name: 'dw', inbound_nodes: [[['pad', 0, 0, {}]]], config: { name: 'dw', kernel_size: [3, 3], strides: [2, 2], padding: 'valid', depth_multiplier: 1, use_bias: false } },
        { class_name: 'ReLU', name: 'relu', inbound_nodes: [[['dw', 0, 0, {}]]], config: { name: 'relu', max_value: 6 } },
      ],
      input_layers: [['input_1', 0, 0]],
      output_layers: [['relu', 0, 0]],
    },
  };
  const model = {
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'sequential_4',
        layers: [
          { class_name: 'Sequential', config: { name: 'sequential_1', layers: [inner, { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } }] } },
          { class_name: 'Sequential', config: { name: 'sequential_3', layers: [{ class_name: 'Dense', config: { name: 'head', units: 2, activation: 'softmax', batch_input_shape: [null, 3] } }] } },
        ],
      },
    },
  };
  const { spec } = parseNetworkText(JSON.stringify(model), 'tm.json');
  assert.deepEqual(
    spec.layers.map((l) => l.name),
    ['input_1', 'pad', 'dw', 'relu', 'gap', 'head'],
  );
  assert.deepEqual(
    spec.layers.map((l) => l.inbound),
    [[], ['input_1'], ['pad'], ['dw'], ['relu'], ['gap']],
  );
  assert.deepEqual(spec.outputs, ['head']);
  const info = inferShapes(spec.layers, 'tm.json');
  assert.deepEqual(info.shapes.get('dw'), [4, 4, 3]); // (9 − 3)/2 + 1
  assert.equal(paramCount(info, 'dw'), 3 * 3 * 3);
  assert.equal(paramCount(info, 'head'), 3 * 2 + 2);
});

test("a nested model without any input shape takes it from Teachable Machine's metadata.json", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-tm-'));
  const model = {
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          {
            class_name: 'Sequential',
            config: {
              name: 'inner',
              layers: [
                { class_name: 'Flatten', config: { name: 'flat' } },
                { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'softmax' } },
              ],
            },
          },
        ],
      },
    },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
  assert.throws(() => loadNetwork(join(dir, 'model.json')), /does not say its input shape/);
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ tmVersion: '2.4.7', labels: ['a', 'b'], imageSize: 4 }));
  const net = loadNetwork(join(dir, 'model.json'));
  assert.deepEqual(net.info.shapes.get('flat'), [48]);
});

test('a model saved as a JSON string (json.dump(model.to_json(), f)) is decoded and read', () => {
  const model = {
    class_name: 'Functional',
    config: {
      name: 'm',
      layers: [
        { class_name: 'InputLayer', name: 'in', inbound_nodes: [], config: { name: 'in', batch_input_shape: [null, 4, 4, 3] } },
        { class_name: 'Rescaling', name: 'rescaling', inbound_nodes: [[['in', 0, 0, {}]]], config: { name: 'rescaling', scale: 1 / 255, offset: 0 } },
        { class_name: 'Flatten', name: 'flat', inbound_nodes: [[['rescaling', 0, 0, {}]]], config: { name: 'flat' } },
        { class_name: 'Dense', name: 'out', inbound_nodes: [[['flat', 0, 0, {}]]], config: { name: 'out', units: 3, activation: 'softmax' } },
      ],
      input_layers: [['in', 0, 0]],
      output_layers: [['out', 0, 0]],
    },
  };
  const text = JSON.stringify(JSON.stringify(model));
  const parsed = parseNetworkText(text, 'resnet.json');
  assert.deepEqual(
    parsed.spec.layers.map((l) => l.kind),
    ['input', 'rescale', 'flatten', 'dense'],
  );
  assert.equal(parsed.decodedText, JSON.parse(text));
  refuses(JSON.stringify('just a string'), /string/);
});

test('a tfjs graph model is refused in one line that says why and how to export a layers model', () => {
  refuses(JSON.stringify({ format: 'graph-model', generatedBy: '2.0', modelTopology: { node: [{ name: 'x', op: 'Placeholder' }] }, weightsManifest: [] }), /graph model/, /no layers to vary/, /layers model/);
});

test('recurrent and embedding layers are refused in one line that says why', () => {
  for (const cls of ['LSTM', 'GRU', 'Embedding', 'SimpleRNN']) {
    const model = {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: cls, config: { name: 'rnn', units: 4, batch_input_shape: [null, 5, 3] } },
          { class_name: 'Dense', config: { name: 'o', units: 2 } },
        ],
      },
    };
    refuses(JSON.stringify(model), new RegExp(cls), /feed-forward/, /"rnn"/);
  }
});

test('BatchNorm variants insert BatchNorm after depthwise and separable convolutions too', () => {
  const model = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'DepthwiseConv2D', config: { name: 'dw', kernel_size: 3, padding: 'same', activation: 'relu', batch_input_shape: [null, 6, 6, 2] } },
        { class_name: 'SeparableConv2D', config: { name: 'sep', filters: 4, kernel_size: 3, padding: 'same', activation: 'relu6' } },
        { class_name: 'Conv2D', config: { name: 'g', filters: 4, kernel_size: 1, groups: 2 } },
        { class_name: 'UpSampling2D', config: { name: 'up', size: [2, 2] } },
        {
          class_name: 'Cropping2D',
          config: {
            name: 'crop',
            cropping: [
              [1, 1],
              [2, 0],
            ],
          },
        },
        { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } },
        { class_name: 'Dense', config: { name: 'out', units: 1, activation: 'sigmoid' } },
      ],
    },
  };
  const { spec } = parseNetworkText(JSON.stringify(model), 'm.json');
  const [, bn] = deriveVariants({ ...spec, weights: null }, ['standard', 'batchnorm']);
  assert.deepEqual(
    bn.layers.map((l) => `${l.kind}:${l.name}`),
    [
      'input:dw_input',
      'depthwise:dw',
      'batchnorm:dw_bn',
      'activation:dw_act',
      'separable:sep',
      'batchnorm:sep_bn',
      'activation:sep_act',
      'conv2d:g',
      'batchnorm:g_bn',
      'upsample:up',
      'crop:crop',
      'globalpool:gap',
      'dense:out',
    ],
  );
  const info = inferShapes(bn.layers, 'm.json');
  assert.deepEqual(info.shapes.get('crop'), [10, 10, 4]);
  assert.deepEqual(
    info.params.filter((p) => p.layer === 'sep').map((p) => `${p.role}[${p.shape}]`),
    ['kernel[3,3,2,1]', 'pointwise[1,1,2,4]'],
  );
  assert.deepEqual(
    info.params.filter((p) => p.layer === 'g').map((p) => `${p.role}[${p.shape}]`),
    ['kernel[1,1,2,4]'],
  );
});

test('the loss comes from the compile config, else from the output layer: one sigmoid unit → binary-ce', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bnlens-loss-'));
  const write = (name: string, out: Record<string, unknown>, training?: Record<string, unknown>) => {
    const p = join(dir, name);
    const topo = {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'Dense', config: { name: 'h', units: 4, activation: 'relu', batch_input_shape: [null, 3] } },
          { class_name: 'Dense', config: { name: 'o', ...out } },
        ],
      },
    };
    writeFileSync(p, JSON.stringify({ modelTopology: { ...topo, ...(training ? { training_config: training } : {}) } }));
    return loadNetwork(p);
  };
  assert.equal(modelLoss(write('a.json', { units: 1, activation: 'sigmoid' })), 'binary-ce');
  assert.equal(modelLoss(write('b.json', { units: 1, activation: 'linear' })), 'auto');
  assert.equal(modelLoss(write('c.json', { units: 1, activation: 'linear' }, { loss: 'binary_crossentropy' })), 'binary-ce');
  assert.equal(modelLoss(write('d.json', { units: 3, activation: 'softmax' }, { loss: 'mean_squared_error' })), 'mse');
  assert.equal(modelLoss(write('e.json', { units: 3, activation: 'softmax' })), 'auto');
});
