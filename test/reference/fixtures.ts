// Seeded test networks written the way a user would hand them to `bnlens probe`: a tfjs-layers model.json
// (Sequential or functional 'Model', Keras-2 style layer configs) + weights.bin of little-endian float32 in
// manifest order, and a data .npz written by numpy's own np.savez (an independent writer). The same
// float32 weight and data values, widened to float64, form the Net64 given to the reference.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Act, Layer, LossName, Net64, Padding, T64 } from './net64';
import { Rng } from './rng';

export type LayerSpec =
  | { type: 'Dense'; name: string; units: number; activation: Act; useBias: boolean }
  | { type: 'Conv2D'; name: string; filters: number; kernelSize: [number, number]; strides: [number, number]; padding: Padding; activation: Act; useBias: boolean; groups?: number }
  | { type: 'DepthwiseConv2D'; name: string; multiplier: number; kernelSize: [number, number]; strides: [number, number]; padding: Padding; activation: Act; useBias: boolean }
  | { type: 'SeparableConv2D'; name: string; filters: number; multiplier: number; kernelSize: [number, number]; strides: [number, number]; padding: Padding; activation: Act; useBias: boolean }
  | { type: 'ZeroPadding2D' | 'Cropping2D'; name: string; pads: [[number, number], [number, number]] }
  | { type: 'UpSampling2D'; name: string; size: [number, number] }
  | { type: 'Rescaling'; name: string; scale: number; offset: number }
  | { type: 'BatchNormalization'; name: string; epsilon?: number; center?: boolean; scale?: boolean }
  | { type: 'Activation'; name: string; activation: Act }
  | { type: 'ReLU'; name: string }
  | { type: 'MaxPooling2D' | 'AveragePooling2D'; name: string; poolSize: [number, number]; strides: [number, number]; padding: Padding }
  | { type: 'GlobalAveragePooling2D'; name: string }
  | { type: 'Flatten'; name: string }
  | { type: 'Dropout'; name: string; rate: number };

export interface NetSpec {
  name: string;
  inputShape: number[];
  layers: LayerSpec[];
  /** 'Sequential' (default) or the functional API ('Model' with an InputLayer and inbound_nodes). */
  functional?: boolean;
}

export interface Fixture {
  name: string;
  dir: string;
  modelPath: string;
  dataPath: string;
  loss: LossName;
  net: Net64;
  x: T64;
  /** softmax-ce: class ids; mse: targets (row-major, same shape as the output). */
  y: number[];
  /** Names of the layers that have a kernel, in model order (the expected ICS layers). */
  kernelLayers: string[];
}

const f32 = Math.fround;

function initializer(className: string, config: Record<string, unknown> = {}) {
  return { class_name: className, config };
}

/** Keras-2 / tfjs-layers style config of one layer (what tfjs's model.save() writes). */
function kerasConfig(l: LayerSpec): Record<string, unknown> {
  const base = { name: l.name, trainable: true, dtype: 'float32' };
  const kernelCommon = {
    kernel_initializer: initializer('VarianceScaling', { scale: 1, mode: 'fan_avg', distribution: 'normal', seed: null }),
    bias_initializer: initializer('Zeros'),
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  };
  switch (l.type) {
    case 'Dense':
      return { units: l.units, activation: l.activation, use_bias: l.useBias, ...kernelCommon, ...base };
    case 'Conv2D':
      return {
        filters: l.filters,
        kernel_size: l.kernelSize,
        strides: l.strides,
        padding: l.padding,
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: l.groups ?? 1,
        activation: l.activation,
        use_bias: l.useBias,
        ...kernelCommon,
        ...base,
      };
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      const { kernel_initializer: _k, ...common } = kernelCommon;
      return {
        ...(l.type === 'SeparableConv2D' ? { filters: l.filters, pointwise_initializer: initializer('GlorotUniform') } : {}),
        kernel_size: l.kernelSize,
        strides: l.strides,
        padding: l.padding,
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        depth_multiplier: l.multiplier,
        activation: l.activation,
        use_bias: l.useBias,
        depthwise_initializer: initializer('GlorotUniform'),
        ...common,
        ...base,
      };
    }
    case 'ZeroPadding2D':
      return { padding: l.pads, data_format: 'channels_last', ...base };
    case 'Cropping2D':
      return { cropping: l.pads, data_format: 'channels_last', ...base };
    case 'UpSampling2D':
      return { size: l.size, interpolation: 'nearest', data_format: 'channels_last', ...base };
    case 'Rescaling':
      return { scale: l.scale, offset: l.offset, ...base };
    case 'BatchNormalization':
      return {
        axis: -1,
        momentum: 0.99,
        epsilon: l.epsilon ?? 1e-3,
        center: l.center ?? true,
        scale: l.scale ?? true,
        beta_initializer: initializer('Zeros'),
        gamma_initializer: initializer('Ones'),
        moving_mean_initializer: initializer('Zeros'),
        moving_variance_initializer: initializer('Ones'),
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
        ...base,
      };
    case 'Activation':
      return { activation: l.activation, ...base };
    case 'ReLU':
      return { max_value: null, ...base };
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return { pool_size: l.poolSize, padding: l.padding, strides: l.strides, data_format: 'channels_last', ...base };
    case 'GlobalAveragePooling2D':
      return { data_format: 'channels_last', ...base };
    case 'Flatten':
      return { data_format: 'channels_last', ...base };
    case 'Dropout':
      return { rate: l.rate, noise_shape: null, seed: null, ...base };
  }
}

function geometry(inSize: number, k: number, s: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(inSize / s) : Math.ceil((inSize - k + 1) / s);
}

interface BuiltWeights {
  manifest: { name: string; shape: number[]; dtype: 'float32' }[];
  values: number[][];
  layers: Layer[];
}

/** Random float32 weights for every layer, in tfjs manifest order, and the matching Net64 layers. */
function buildWeights(spec: NetSpec, rng: Rng): BuiltWeights {
  const manifest: BuiltWeights['manifest'] = [];
  const values: number[][] = [];
  const layers: Layer[] = [];
  let shape = spec.inputShape.slice();
  const add = (name: string, s: number[], gen: () => number): Float64Array => {
    const n = s.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, () => f32(gen()));
    manifest.push({ name, shape: s, dtype: 'float32' });
    values.push(v);
    return Float64Array.from(v);
  };
  for (const l of spec.layers) {
    switch (l.type) {
      case 'Dense': {
        const inDim = shape[shape.length - 1];
        const sd = Math.sqrt(2 / (inDim + l.units));
        const kernel = add(`${l.name}/kernel`, [inDim, l.units], () => rng.normal() * sd * 1.3);
        const bias = l.useBias ? add(`${l.name}/bias`, [l.units], () => rng.normal() * 0.2) : null;
        layers.push({ kind: 'dense', name: l.name, units: l.units, activation: l.activation, kernel, bias });
        shape = [...shape.slice(0, -1), l.units];
        break;
      }
      case 'Conv2D': {
        const [H, W, C] = shape;
        const [kh, kw] = l.kernelSize;
        const G = l.groups ?? 1;
        const sd = Math.sqrt(2 / (kh * kw * (C / G + l.filters)));
        const kernel = add(`${l.name}/kernel`, [kh, kw, C / G, l.filters], () => rng.normal() * sd * 1.3);
        const bias = l.useBias ? add(`${l.name}/bias`, [l.filters], () => rng.normal() * 0.2) : null;
        layers.push({ kind: 'conv2d', name: l.name, filters: l.filters, kernelSize: l.kernelSize, strides: l.strides, padding: l.padding, activation: l.activation, kernel, bias, groups: G });
        shape = [geometry(H, kh, l.strides[0], l.padding), geometry(W, kw, l.strides[1], l.padding), l.filters];
        break;
      }
      case 'DepthwiseConv2D':
      case 'SeparableConv2D': {
        const [H, W, C] = shape;
        const [kh, kw] = l.kernelSize;
        const M = l.multiplier;
        const sd = Math.sqrt(2 / (kh * kw * (1 + M)));
        const kernel = add(`${l.name}/depthwise_kernel`, [kh, kw, C, M], () => rng.normal() * sd * 1.3);
        const geo = [geometry(H, kh, l.strides[0], l.padding), geometry(W, kw, l.strides[1], l.padding)];
        if (l.type === 'DepthwiseConv2D') {
          const bias = l.useBias ? add(`${l.name}/bias`, [C * M], () => rng.normal() * 0.2) : null;
          layers.push({ kind: 'depthwise', name: l.name, multiplier: M, kernelSize: l.kernelSize, strides: l.strides, padding: l.padding, activation: l.activation, kernel, bias });
          shape = [...geo, C * M];
        } else {
          const psd = Math.sqrt(2 / (C * M + l.filters));
          const pointwise = add(`${l.name}/pointwise_kernel`, [1, 1, C * M, l.filters], () => rng.normal() * psd * 1.3);
          const bias = l.useBias ? add(`${l.name}/bias`, [l.filters], () => rng.normal() * 0.2) : null;
          layers.push({ kind: 'separable', name: l.name, multiplier: M, filters: l.filters, kernelSize: l.kernelSize, strides: l.strides, padding: l.padding, activation: l.activation, kernel, pointwise, bias });
          shape = [...geo, l.filters];
        }
        break;
      }
      case 'ZeroPadding2D':
      case 'Cropping2D': {
        const sign = l.type === 'ZeroPadding2D' ? 1 : -1;
        layers.push({ kind: l.type === 'ZeroPadding2D' ? 'zeropad' : 'crop', name: l.name, pads: l.pads });
        shape = [shape[0] + sign * (l.pads[0][0] + l.pads[0][1]), shape[1] + sign * (l.pads[1][0] + l.pads[1][1]), shape[2]];
        break;
      }
      case 'UpSampling2D':
        layers.push({ kind: 'upsample', name: l.name, size: l.size });
        shape = [shape[0] * l.size[0], shape[1] * l.size[1], shape[2]];
        break;
      case 'Rescaling':
        layers.push({ kind: 'rescale', name: l.name, scale: l.scale, offset: l.offset });
        break;
      case 'BatchNormalization': {
        const C = shape[shape.length - 1];
        // Non-trivial gamma/beta, and moving statistics far from the batch's so inference mode would show.
        const gamma = (l.scale ?? true) ? add(`${l.name}/gamma`, [C], () => 0.6 + 0.8 * rng.uniform()) : null;
        const beta = (l.center ?? true) ? add(`${l.name}/beta`, [C], () => rng.normal() * 0.3) : null;
        add(`${l.name}/moving_mean`, [C], () => rng.normal() * 0.5 + 0.5);
        add(`${l.name}/moving_variance`, [C], () => 2 + 2 * rng.uniform());
        layers.push({ kind: 'batchnorm', name: l.name, epsilon: l.epsilon ?? 1e-3, gamma, beta });
        break;
      }
      case 'Activation':
        layers.push({ kind: 'activation', name: l.name, activation: l.activation });
        break;
      case 'ReLU':
        layers.push({ kind: 'activation', name: l.name, activation: 'relu' });
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const [H, W, C] = shape;
        layers.push({ kind: 'pool', name: l.name, op: l.type === 'MaxPooling2D' ? 'max' : 'avg', poolSize: l.poolSize, strides: l.strides, padding: l.padding });
        shape = [geometry(H, l.poolSize[0], l.strides[0], l.padding), geometry(W, l.poolSize[1], l.strides[1], l.padding), C];
        break;
      }
      case 'GlobalAveragePooling2D':
        layers.push({ kind: 'globalavgpool', name: l.name });
        shape = [shape[2]];
        break;
      case 'Flatten':
        layers.push({ kind: 'flatten', name: l.name });
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'Dropout':
        layers.push({ kind: 'dropout', name: l.name });
        break;
    }
  }
  return { manifest, values, layers };
}

/** The model.json object (tfjs-layers "layers-model" format). */
export function modelJson(spec: NetSpec, manifest: BuiltWeights['manifest']): Record<string, unknown> {
  const batchInputShape = [null, ...spec.inputShape];
  let topology: Record<string, unknown>;
  if (!spec.functional) {
    const layers = spec.layers.map((l, i) => ({
      class_name: l.type,
      config: i === 0 ? { ...kerasConfig(l), batch_input_shape: batchInputShape } : kerasConfig(l),
    }));
    topology = { class_name: 'Sequential', config: { name: spec.name, layers }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' };
  } else {
    const inputName = 'input_1';
    const layers: Record<string, unknown>[] = [{ class_name: 'InputLayer', config: { batch_input_shape: batchInputShape, dtype: 'float32', sparse: false, name: inputName }, name: inputName, inbound_nodes: [] }];
    let prev = inputName;
    for (const l of spec.layers) {
      layers.push({ class_name: l.type, config: kerasConfig(l), name: l.name, inbound_nodes: [[[prev, 0, 0, {}]]] });
      prev = l.name;
    }
    topology = {
      class_name: 'Model',
      config: { name: spec.name, layers, input_layers: [[inputName, 0, 0]], output_layers: [[prev, 0, 0]] },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    };
  }
  return {
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: ['weights.bin'], weights: manifest }],
  };
}

/** Writes arrays to an .npz with numpy's np.savez (called through python3). */
export function writeNpz(path: string, arrays: Record<string, { data: number[]; shape: number[]; dtype: string }>): void {
  const script = [
    'import json, sys, numpy as np',
    'spec = json.load(sys.stdin)',
    'arrs = {k: np.array(v["data"], dtype=np.float64).astype(v["dtype"]).reshape(v["shape"]) for k, v in spec["arrays"].items()}',
    'np.savez(spec["path"], **arrs)',
  ].join('\n');
  execFileSync('python3', ['-c', script], { input: JSON.stringify({ path, arrays }), stdio: ['pipe', 'inherit', 'inherit'] });
}

export interface DataSpec {
  n: number;
  loss: LossName;
  /** softmax-ce: number of classes. */
  classes?: number;
  /** mse: targets y = x·A (A random, [in, out]); otherwise random labels. */
  targetDim?: number;
  /** numpy dtype of the labels (softmax-ce); users' arrays are usually int64. */
  labelDtype?: 'int64' | 'int32';
}

/** Builds the files of one fixture in a fresh temp dir. */
export function buildFixture(spec: NetSpec, data: DataSpec, seed: number): Fixture {
  const rng = new Rng(seed);
  const dir = mkdtempSync(join(tmpdir(), `bnlens-ref-${spec.name}-`));
  const built = buildWeights(spec, rng);
  const modelPath = join(dir, 'model.json');
  writeFileSync(modelPath, JSON.stringify(modelJson(spec, built.manifest), null, 1));
  const flat = built.values.flat();
  const buf = Buffer.alloc(flat.length * 4);
  flat.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  writeFileSync(join(dir, 'weights.bin'), buf);

  const inSize = spec.inputShape.reduce((a, b) => a * b, 1);
  const xs = Array.from({ length: data.n * inSize }, () => f32(rng.normal()));
  let y: number[];
  let yArr: { data: number[]; shape: number[]; dtype: string };
  if (data.loss === 'binary-ce') {
    // Both labels present; the rest random.
    y = Array.from({ length: data.n }, (_, i) => (i < 2 ? i : rng.int(2)));
    yArr = { data: y, shape: [data.n], dtype: data.labelDtype ?? 'int64' };
  } else if (data.loss === 'softmax-ce') {
    const K = data.classes!;
    // Every class present; the rest random.
    y = Array.from({ length: data.n }, (_, i) => (i < K ? i : rng.int(K)));
    yArr = { data: y, shape: [data.n], dtype: data.labelDtype ?? 'int64' };
  } else {
    const k = data.targetDim!;
    const A = Array.from({ length: inSize * k }, () => rng.normal() / Math.sqrt(inSize));
    y = [];
    for (let r = 0; r < data.n; r++)
      for (let o = 0; o < k; o++) {
        let s = 0;
        for (let i = 0; i < inSize; i++) s += xs[r * inSize + i] * A[i * k + o];
        y.push(f32(s));
      }
    yArr = { data: y, shape: [data.n, k], dtype: 'float32' };
  }
  const dataPath = join(dir, 'data.npz');
  writeNpz(dataPath, { x: { data: xs, shape: [data.n, ...spec.inputShape], dtype: 'float32' }, y: yArr });

  const net: Net64 = { inputShape: spec.inputShape.slice(), layers: built.layers };
  return {
    name: spec.name,
    dir,
    modelPath,
    dataPath,
    loss: data.loss,
    net,
    x: { shape: [data.n, ...spec.inputShape], data: Float64Array.from(xs) },
    y,
    kernelLayers: spec.layers.filter((l) => ['Dense', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'].includes(l.type)).map((l) => l.name),
  };
}

// ---------- the networks of the tests ----------

const dense = (name: string, units: number, activation: Act, useBias = true): LayerSpec => ({ type: 'Dense', name, units, activation, useBias });

/** MLP 20-16-16-5, ReLU, no BatchNorm; the last layer applies softmax (so its input is the logits). */
export const MLP: NetSpec = {
  name: 'mlp',
  inputShape: [20],
  layers: [dense('dense_1', 16, 'relu'), dense('dense_2', 16, 'relu'), dense('dense_3', 5, 'softmax')],
};

/** The same with BatchNorm after each hidden Dense: Dense(no bias) → BN → ReLU / Activation('relu'). */
export const MLP_BN: NetSpec = {
  name: 'mlp_bn',
  inputShape: [20],
  layers: [
    dense('dense_1', 16, 'linear', false),
    { type: 'BatchNormalization', name: 'batch_normalization_1' },
    { type: 'ReLU', name: 're_lu_1' },
    dense('dense_2', 16, 'linear', false),
    { type: 'BatchNormalization', name: 'batch_normalization_2', epsilon: 0.01 },
    { type: 'Activation', name: 'activation_1', activation: 'relu' },
    { type: 'Dropout', name: 'dropout_1', rate: 0.25 },
    dense('dense_3', 5, 'linear'),
  ],
};

/** Conv2D(4,3×3,same) → BN → ReLU → MaxPool(2) → Conv2D(6,3×3,valid) → BN → ReLU → Flatten → Dense(5). 8×8×2 in. */
export const CNN_BN: NetSpec = {
  name: 'cnn_bn',
  inputShape: [8, 8, 2],
  layers: [
    { type: 'Conv2D', name: 'conv2d_1', filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'linear', useBias: true },
    { type: 'BatchNormalization', name: 'batch_normalization_1' },
    { type: 'Activation', name: 'activation_1', activation: 'relu' },
    { type: 'MaxPooling2D', name: 'max_pooling2d_1', poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
    { type: 'Conv2D', name: 'conv2d_2', filters: 6, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', activation: 'linear', useBias: false },
    { type: 'BatchNormalization', name: 'batch_normalization_2' },
    { type: 'ReLU', name: 're_lu_1' },
    { type: 'Flatten', name: 'flatten_1' },
    dense('dense_1', 5, 'linear'),
  ],
};

/** Deep linear network: 6 Dense 10×10, no bias, linear (mse on targets x·A). */
export const DLN: NetSpec = {
  name: 'dln',
  inputShape: [10],
  layers: Array.from({ length: 6 }, (_, i) => dense(`dense_${i + 1}`, 10, 'linear', false)),
};

/** MLP 20-16-16-5 through the functional API (class_name 'Model'), with BN in the middle. */
export const MLP_FUNCTIONAL: NetSpec = {
  name: 'mlp_functional',
  functional: true,
  inputShape: [20],
  layers: [dense('hidden_a', 16, 'relu'), dense('hidden_b', 16, 'linear', false), { type: 'BatchNormalization', name: 'bn_b' }, { type: 'Activation', name: 'relu_b', activation: 'relu' }, dense('logits', 5, 'linear')],
};

/** One Dense layer, no bias, linear: mse is a quadratic in the kernel (closed-form test). */
export const SINGLE_DENSE: NetSpec = { name: 'single_dense', inputShape: [6], layers: [dense('dense_1', 3, 'linear', false)] };

/** Two linear Dense layers (no bias), mse: ICS of the second layer has a closed form. */
export const TWO_LINEAR: NetSpec = { name: 'two_linear', inputShape: [6], layers: [dense('dense_1', 4, 'linear', false), dense('dense_2', 3, 'linear', false)] };

/**
 * Beyond the required networks: stride-2 'same' conv on an odd size (TF's asymmetric padding), BN without
 * center / without scale, AveragePooling2D 'valid', GlobalAveragePooling2D, and a final Activation('softmax')
 * layer whose input must serve as the logits. 7×7×2 in.
 */
export const CNN_EXTRA: NetSpec = {
  name: 'cnn_extra',
  inputShape: [7, 7, 2],
  layers: [
    { type: 'Conv2D', name: 'conv_s2', filters: 3, kernelSize: [3, 3], strides: [2, 2], padding: 'same', activation: 'linear', useBias: false }, // 7→4
    { type: 'BatchNormalization', name: 'bn_nocenter', center: false },
    { type: 'ReLU', name: 'relu_1' },
    { type: 'AveragePooling2D', name: 'avg_valid', poolSize: [2, 2], strides: [2, 2], padding: 'valid' }, // 4→2
    { type: 'Conv2D', name: 'conv_1x1', filters: 4, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'relu', useBias: true },
    { type: 'BatchNormalization', name: 'bn_noscale', scale: false, epsilon: 0.005 },
    { type: 'GlobalAveragePooling2D', name: 'gap' },
    dense('dense_out', 3, 'linear'),
    { type: 'Activation', name: 'softmax_out', activation: 'softmax' },
  ],
};

/**
 * AveragePooling2D 'same' with partial windows (TF averages over the in-bounds cells only):
 * Conv2D(3, 3×3, stride 2, same) 7→4 → AvgPool(3×3, stride 2, same) 4→2 (windows of 9, 6, 6, 4 cells) → Flatten → Dense.
 */
export const AVGPOOL_SAME: NetSpec = {
  name: 'avgpool_same',
  inputShape: [7, 7, 2],
  layers: [
    { type: 'Conv2D', name: 'conv2d_1', filters: 3, kernelSize: [3, 3], strides: [2, 2], padding: 'same', activation: 'relu', useBias: true },
    { type: 'AveragePooling2D', name: 'average_pooling2d_1', poolSize: [3, 3], strides: [2, 2], padding: 'same' },
    { type: 'Flatten', name: 'flatten_1' },
    dense('dense_1', 3, 'linear'),
  ],
};

/** Max pooling with 'same' padding and windows hanging off an odd-sized input, after BatchNorm (negative inputs). */
export const MAXPOOL_SAME: NetSpec = {
  name: 'maxpool_same',
  inputShape: [7, 7, 2],
  layers: [
    { type: 'Conv2D', name: 'conv2d_1', filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', activation: 'linear', useBias: false },
    { type: 'BatchNormalization', name: 'batch_normalization_1' },
    { type: 'MaxPooling2D', name: 'max_pooling2d_1', poolSize: [2, 2], strides: [2, 2], padding: 'same' },
    { type: 'Flatten', name: 'flatten_1' },
    dense('dense_1', 3, 'linear'),
  ],
};

/**
 * The layers of MobileNets and their relatives (issue 11): ZeroPadding2D (asymmetric) → DepthwiseConv2D
 * (multiplier 2, stride 2, valid) → BN → ReLU → SeparableConv2D (same) → Conv2D with groups 2 → Conv2D with groups 6 (one channel each) → Cropping2D →
 * UpSampling2D → Rescaling → Flatten → Dense(3) softmax. 7×7×2 in.
 */
export const MOBILE_LAYERS: NetSpec = {
  name: 'mobile_layers',
  inputShape: [7, 7, 2],
  layers: [
    {
      type: 'ZeroPadding2D',
      name: 'pad',
      pads: [
        [1, 0],
        [0, 2],
      ],
    }, // 8×9
    { type: 'DepthwiseConv2D', name: 'dw', multiplier: 2, kernelSize: [3, 3], strides: [2, 2], padding: 'valid', activation: 'linear', useBias: false }, // 3×4×4
    { type: 'BatchNormalization', name: 'dw_bn' },
    { type: 'ReLU', name: 'dw_relu' },
    { type: 'SeparableConv2D', name: 'sep', filters: 4, multiplier: 1, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', useBias: true }, // 3×4×4
    { type: 'Conv2D', name: 'grouped', filters: 6, kernelSize: [2, 2], strides: [1, 1], padding: 'same', activation: 'relu', useBias: true, groups: 2 }, // 3×4×6
    // One channel per group: PyTorch's depthwise Conv2d(c, c, groups=c), which the engine runs as a depthwise kernel.
    { type: 'Conv2D', name: 'per_channel', filters: 6, kernelSize: [2, 2], strides: [1, 1], padding: 'same', activation: 'linear', useBias: false, groups: 6 }, // 3×4×6
    {
      type: 'Cropping2D',
      name: 'crop',
      pads: [
        [0, 1],
        [1, 1],
      ],
    }, // 2×2×6
    { type: 'UpSampling2D', name: 'up', size: [2, 1] }, // 4×2×6
    { type: 'Rescaling', name: 'rescale', scale: 0.5, offset: 0.25 },
    { type: 'Flatten', name: 'flatten' },
    dense('dense_out', 3, 'softmax'),
  ],
};

/** A binary classifier: Dense(8, relu) → BN → Dense(1, sigmoid), binary cross-entropy on labels 0/1. 6 in. */
export const BINARY_MLP: NetSpec = {
  name: 'binary_mlp',
  inputShape: [6],
  layers: [dense('hidden', 8, 'relu', false), { type: 'BatchNormalization', name: 'hidden_bn' }, dense('out', 1, 'sigmoid')],
};

/** A binary classifier CNN whose sigmoid is its own Activation layer (as Keras 2 examples write it). */
export const BINARY_CNN: NetSpec = {
  name: 'binary_cnn',
  inputShape: [5, 5, 1],
  layers: [
    { type: 'DepthwiseConv2D', name: 'dw', multiplier: 3, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', useBias: true },
    { type: 'Flatten', name: 'flatten' },
    dense('logit', 1, 'linear'),
    { type: 'Activation', name: 'sigmoid_out', activation: 'sigmoid' },
  ],
};
