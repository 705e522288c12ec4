// Reads a network file — a TensorFlow.js LayersModel JSON, or a Keras 2 / Keras 3 `model.to_json()`
// topology — into the engine's NetworkSpec. No TensorFlow.js here: the extension host uses this too,
// for diagnostics while the user edits.

import { UserError } from '../errors';
import { offsetToLineColumn, parseJsonText } from './json';
import type { Activation, InitializerSpec, LayerNode, NetworkSpec, Padding, WeightSpec } from './ir';

type Json = Record<string, unknown>;

export interface ParsedTopology {
  spec: Omit<NetworkSpec, 'weights'>;
  /** The weights manifest as written (tfjs files only); shards are read by loadWeights. */
  manifest: { paths: string[]; weights: WeightSpec[] }[] | null;
  /** Analysis settings the file carries for itself: `userDefinedMetadata.bnlens` of a tfjs model.json. */
  defaults: Record<string, unknown> | null;
  /** The loss the model was compiled with (`training_config.loss` / `compile_config.loss`), when written. */
  compiledLoss?: string | null;
  /** The model JSON when the file held it as a JSON string (json.dump(model.to_json(), f)). */
  decodedText?: string;
}

export interface ParseOptions {
  /** Input shape to use when no layer states one (e.g. from Teachable Machine's metadata.json). */
  fallbackInputShape?: number[];
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse a network file's text. Throws UserError with file/line/column on anything the engine can't use. */
export function parseNetworkText(text: string, file: string, opts: ParseOptions = {}): ParsedTopology {
  const parsed = parseJsonText(text, file);
  if (typeof parsed === 'string') return parseEncodedModel(parsed, file, opts);
  const root = unwrapTuples(parsed);
  const where = (needle: string | undefined) => locate(text, needle);
  const err = (msg: string, needle?: string): never => {
    const at = where(needle);
    throw new UserError(msg, file, at?.line, at?.column);
  };
  if (!isObj(root)) err('this JSON is not a model: expected an object with "modelTopology" (TensorFlow.js) or "class_name" and "config" (Keras model.to_json())');
  const r = root as Json;
  if (r.format === 'graph-model' || (isObj(r.modelTopology) && Array.isArray((r.modelTopology as Json).node)))
    err(
      'this is a TensorFlow.js graph model (format "graph-model"): a graph model has no layers to vary, so no BatchNorm variant can be derived; export a layers model instead (Python: tensorflowjs.converters.save_keras_model(model, DIR), or tensorflowjs_converter --input_format keras model.h5 DIR; JavaScript: model.save())',
      '"format"',
    );

  let topology: Json;
  let format: NetworkSpec['format'];
  let manifest: ParsedTopology['manifest'] = null;
  if ('modelTopology' in r) {
    if (!isObj(r.modelTopology)) err('"modelTopology" must be an object holding the Keras model config', '"modelTopology"');
    const t = r.modelTopology as Json;
    topology = isObj(t.model_config) ? (t.model_config as Json) : t;
    format = 'tfjs-layers';
    if (r.weightsManifest !== undefined) manifest = readManifest(r.weightsManifest, err);
  } else if ('class_name' in r && 'config' in r) {
    topology = r;
    format = isKeras3(r) ? 'keras3' : 'keras2';
  } else if (isObj(r.model_config)) {
    topology = r.model_config as Json;
    format = isKeras3(topology) ? 'keras3' : 'keras2';
  } else {
    return err('this JSON is not a model: expected "modelTopology" (TensorFlow.js model.json) or "class_name" and "config" (Keras model.to_json())');
  }
  if (format === 'tfjs-layers' && isKeras3(topology)) format = 'keras3';

  const className = String(topology.class_name ?? '');
  if (!MODEL_CLASSES.has(className))
    return err(
      className
        ? `unsupported model class "${className}": use a Sequential or functional (Model) Keras model`
        : 'this JSON has no model class: expected "class_name" "Sequential", "Model" or "Functional" in the Keras model config',
      className ? `"${className}"` : undefined,
    );
  const config = topology.config;
  let name = 'model';
  if (isObj(config) && typeof config.name === 'string') name = config.name;
  const { layers, outputs } = readModel(topology, null, err, opts.fallbackInputShape);
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.name)) err(`two layers are named "${l.name}" (nested models flattened into one); rename one of them`, `"${l.name}"`);
    names.add(l.name);
  }
  const meta = isObj(r.userDefinedMetadata) ? r.userDefinedMetadata.bnlens : undefined;
  const training = (isObj(r.modelTopology) ? (r.modelTopology as Json).training_config : undefined) ?? r.training_config ?? r.compile_config ?? topology.compile_config;
  const compiledLoss = isObj(training) && typeof training.loss === 'string' ? training.loss : null;
  return { spec: { file, format, name, layers, outputs }, manifest, defaults: isObj(meta) ? meta : null, compiledLoss };
}

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/**
 * `json.dump(model.to_json(), f)` writes the model JSON as one JSON string: decode it and read the model
 * inside. Line and column would point into the decoded string, not the file, so messages name the file only.
 */
function parseEncodedModel(inner: string, file: string, opts: ParseOptions): ParsedTopology {
  let decoded: unknown;
  try {
    decoded = JSON.parse(inner);
  } catch {
    throw new UserError('this JSON is a string, not a model: expected an object with "modelTopology" (TensorFlow.js) or "class_name" and "config" (Keras model.to_json())', file);
  }
  if (typeof decoded === 'string' || !isObj(decoded)) throw new UserError('this JSON is a string that does not hold a model object; save the model with model.to_json() written as it is (f.write(model.to_json()))', file);
  try {
    return { ...parseNetworkText(inner, file, opts), decodedText: inner };
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`(model JSON encoded as a string, decoded) ${e.message.replace(/^.*?: /, '')}`, file);
    throw e;
  }
}

/** A Sequential or functional model, possibly nested inside another: its layers in order and its output. */
function readModel(m: Json, upstream: string | null, err: (msg: string, needle?: string) => never, fallbackInputShape?: number[]): { layers: LayerNode[]; outputs: string[] } {
  const className = String(m.class_name ?? '');
  const config = m.config;
  if (className === 'Sequential') {
    const list = Array.isArray(config) ? config : isObj(config) ? (config as Json).layers : undefined;
    if (!Array.isArray(list)) return err('Sequential model has no "layers" list in its config', '"Sequential"');
    const buildShape = isObj(config) ? ((config as Json).build_input_shape as unknown) : undefined;
    return readSequential(list, buildShape, err, upstream, fallbackInputShape);
  }
  if (!isObj(config)) return err(`${className} model has no config object`, `"${className}"`);
  const inner = readFunctional(config, err);
  if (upstream === null) return inner;
  // Nested functional model: its InputLayer is the layer before it in the outer model.
  const inputs = new Set(inner.layers.filter((l) => l.kind === 'input').map((l) => l.name));
  const layers = inner.layers.filter((l) => l.kind !== 'input').map((l) => ({ ...l, inbound: l.inbound.map((n) => (inputs.has(n) ? upstream : n)) }));
  return { layers, outputs: inner.outputs };
}

/** tf.keras writes some tuples and shapes as {"class_name": "__tuple__" | "TensorShape", "items": [...]}. */
function unwrapTuples(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapTuples);
  if (!isObj(v)) return v;
  if ((v.class_name === '__tuple__' || v.class_name === 'TensorShape') && Array.isArray(v.items)) return v.items.map(unwrapTuples);
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) out[k] = unwrapTuples(x);
  return out;
}

function isKeras3(t: Json): boolean {
  if (typeof t.module === 'string' || 'registered_name' in t) return true;
  if (typeof t.keras_version === 'string' && t.keras_version.startsWith('3')) return true;
  const cfg = t.config;
  const layers = isObj(cfg) && Array.isArray(cfg.layers) ? cfg.layers : [];
  return layers.some((l) => isObj(l) && (typeof l.module === 'string' || 'registered_name' in l));
}

function readManifest(m: unknown, err: (msg: string, needle?: string) => never): ParsedTopology['manifest'] {
  if (!Array.isArray(m)) return err('"weightsManifest" must be a list of {paths, weights} groups', '"weightsManifest"');
  return m.map((g) => {
    if (!isObj(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) return err('each "weightsManifest" entry needs "paths" and "weights" lists', '"weightsManifest"');
    const weights = (g.weights as unknown[]).map((w) => {
      if (!isObj(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) return err('each weight in "weightsManifest" needs a "name" and a "shape"', '"weights"');
      if (w.quantization !== undefined) return err(`weight "${w.name}" is quantized; re-export the model without quantization`, `"${w.name}"`);
      const dtype = (w.dtype ?? 'float32') as string;
      if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'float16') return err(`weight "${w.name}" has dtype ${dtype}; only float32 weights are supported`, `"${w.name}"`);
      return { name: w.name, shape: (w.shape as unknown[]).map(Number), dtype } as WeightSpec;
    });
    return { paths: (g.paths as unknown[]).map(String), weights };
  });
}

function readSequential(list: unknown[], buildShape: unknown, err: (msg: string, needle?: string) => never, upstream: string | null = null, fallbackInputShape?: number[]): { layers: LayerNode[]; outputs: string[] } {
  const layers: LayerNode[] = [];
  let prev: string | null = upstream;
  list.forEach((raw, i) => {
    if (!isObj(raw) || typeof raw.class_name !== 'string' || (!isObj(raw.config) && !Array.isArray(raw.config))) err(`layer #${i + 1} of the Sequential model needs "class_name" and "config"`);
    const l = raw as Json;
    if (MODEL_CLASSES.has(String(l.class_name))) {
      // A model used as a layer (Teachable Machine: a Sequential of a MobileNet and a classifier head):
      // its layers join this one's, in order.
      const inner = readModel(l, prev, err, prev === null ? (batchShapeOf(l) ?? fallbackInputShape) : undefined);
      layers.push(...inner.layers);
      prev = inner.outputs[0];
      return;
    }
    const cfg = l.config as Json;
    const lname = typeof cfg.name === 'string' ? cfg.name : `${String(l.class_name).toLowerCase()}_${i + 1}`;
    if (l.class_name === 'InputLayer') {
      if (prev !== null) return; // the input of a nested Sequential: the outer model's previous layer
      layers.push(inputLayer(lname, cfg, err));
      prev = lname;
      return;
    }
    if (prev === null) {
      const shape = batchShape(cfg) ?? (Array.isArray(buildShape) ? (buildShape as unknown[]) : undefined) ?? (fallbackInputShape ? [null, ...fallbackInputShape] : undefined);
      if (!shape) err(`the first layer "${lname}" does not say its input shape: add "batch_input_shape" (Keras 2) or an InputLayer with "batch_shape" (Keras 3)`, `"${lname}"`);
      const inName = `${lname}_input`;
      layers.push({ kind: 'input', name: inName, className: 'InputLayer', inbound: [], shape: dims(shape!.slice(1), inName, err) });
      prev = inName;
    }
    layers.push(readLayer(String(l.class_name), lname, cfg, [prev], err));
    prev = lname;
  });
  if (prev === null || prev === upstream || (upstream === null && layers.length < 2)) return err('the model has no layers');
  return { layers, outputs: [prev] };
}

/** The batch input shape a nested model states for itself (its config's build_input_shape, or its first layer's). */
function batchShapeOf(m: Json): number[] | undefined {
  const cfg = m.config;
  const list = Array.isArray(cfg) ? cfg : isObj(cfg) && Array.isArray(cfg.layers) ? cfg.layers : [];
  if (isObj(cfg) && Array.isArray(cfg.build_input_shape)) return (cfg.build_input_shape as unknown[]).slice(1) as number[];
  const first = list[0];
  if (isObj(first) && isObj(first.config)) {
    const s = batchShape(first.config as Json);
    if (s) return s.slice(1) as number[];
  }
  return undefined;
}

function readFunctional(config: Json, err: (msg: string, needle?: string) => never): { layers: LayerNode[]; outputs: string[] } {
  if (!Array.isArray(config.layers)) return err('functional model config has no "layers" list');
  const nodes: LayerNode[] = [];
  for (const raw of config.layers as unknown[]) {
    if (!isObj(raw) || typeof raw.class_name !== 'string' || !isObj(raw.config)) return err('each layer needs "class_name" and "config"');
    const cfg = raw.config as Json;
    const lname = String(raw.name ?? cfg.name);
    const inbound = inboundNames(raw.inbound_nodes, lname, err);
    if (raw.class_name === 'InputLayer') nodes.push(inputLayer(lname, cfg, err));
    else if (MODEL_CLASSES.has(raw.class_name)) err(`layer "${lname}" is a whole ${raw.class_name} model used as a layer of a functional model; nested models are supported inside a Sequential only`, `"${lname}"`);
    else nodes.push(readLayer(raw.class_name, lname, cfg, inbound, err));
  }
  const outputs = tensorRefs(config.output_layers).map((r) => r[0]);
  const inputs = tensorRefs(config.input_layers).map((r) => r[0]);
  if (outputs.length !== 1) return err(`the model has ${outputs.length} outputs; BatchNorm Lens trains models with exactly one output`, '"output_layers"');
  if (inputs.length !== 1) return err(`the model has ${inputs.length} inputs; BatchNorm Lens trains models with exactly one input`, '"input_layers"');
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const n of nodes) for (const p of n.inbound) if (!byName.has(p)) err(`layer "${n.name}" takes input from "${p}", which is not a layer of this model`, `"${n.name}"`);
  if (!byName.has(outputs[0])) err(`output layer "${outputs[0]}" is not a layer of this model`, '"output_layers"');
  return { layers: topoSort(nodes, err), outputs };
}

/** [[name, node, tensor], …] in Keras 2, or a flat [name, node, tensor] for a single tensor in Keras 3. */
function tensorRefs(v: unknown): [string, number, number][] {
  if (!Array.isArray(v)) return [];
  if (v.length === 3 && typeof v[0] === 'string') return [v as [string, number, number]];
  return v.filter((x) => Array.isArray(x) && typeof x[0] === 'string') as [string, number, number][];
}

function inboundNames(inbound: unknown, lname: string, err: (msg: string, needle?: string) => never): string[] {
  if (inbound === undefined || (Array.isArray(inbound) && inbound.length === 0)) return [];
  if (!Array.isArray(inbound)) return err(`layer "${lname}" has malformed "inbound_nodes"`, `"${lname}"`);
  // Keras 2 nests [node][tensor][name, node, tensor, kwargs]; some writers drop the node level.
  const flat = Array.isArray(inbound[0]) && typeof inbound[0][0] === 'string';
  if (!flat && inbound.length > 1) return err(`layer "${lname}" is called ${inbound.length} times (shared layer); use a separate layer for each call`, `"${lname}"`);
  const node = flat ? inbound : inbound[0];
  const names: string[] = [];
  const visit = (v: unknown) => {
    if (Array.isArray(v)) {
      if (v.length >= 3 && typeof v[0] === 'string' && typeof v[1] === 'number')
        names.push(v[0]); // Keras 2 [name, node, tensor, kwargs]
      else v.forEach(visit);
    } else if (isObj(v)) {
      if (v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history)) names.push(String(v.config.keras_history[0]));
      else if (Array.isArray(v.args)) v.args.forEach(visit); // Keras 3 node {args, kwargs}
    }
  };
  visit(node);
  return names;
}

function topoSort(nodes: LayerNode[], err: (msg: string, needle?: string) => never): LayerNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const out: LayerNode[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (n: LayerNode) => {
    const s = state.get(n.name);
    if (s === 2) return;
    if (s === 1) err(`the model has a cycle through layer "${n.name}"`, `"${n.name}"`);
    state.set(n.name, 1);
    for (const p of n.inbound) visit(byName.get(p)!);
    state.set(n.name, 2);
    out.push(n);
  };
  nodes.forEach(visit);
  return out;
}

function batchShape(cfg: Json): unknown[] | undefined {
  const s = cfg.batch_input_shape ?? cfg.batch_shape;
  if (Array.isArray(s)) return s;
  if (Array.isArray(cfg.input_shape)) return [null, ...(cfg.input_shape as unknown[])];
  return undefined;
}

function dims(shape: unknown[], lname: string, err: (msg: string, needle?: string) => never): number[] {
  return shape.map((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) return err(`layer "${lname}" has input shape [${shape.join(', ')}]: every dimension after the batch must be a fixed positive size`, `"${lname}"`);
    return d;
  });
}

function inputLayer(lname: string, cfg: Json, err: (msg: string, needle?: string) => never): LayerNode {
  const shape = batchShape(cfg);
  if (!shape) return err(`input layer "${lname}" has no "batch_input_shape" / "batch_shape"`, `"${lname}"`);
  return { kind: 'input', name: lname, className: 'InputLayer', inbound: [], shape: dims(shape.slice(1), lname, err) };
}

const ACTIVATIONS: Record<string, Activation> = {
  linear: 'linear',
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  gelu: 'gelu',
  swish: 'swish',
  silu: 'swish',
  leaky_relu: 'leaky_relu',
  LeakyReLU: 'leaky_relu',
  relu6: 'relu6',
  hard_sigmoid: 'hard_sigmoid',
};

function activation(v: unknown, lname: string, err: (msg: string, needle?: string) => never): Activation {
  if (v === undefined || v === null) return 'linear';
  const raw = isObj(v) ? (v.class_name ?? v.config) : v; // Keras 3 may serialize {module, class_name, config}
  const key = typeof raw === 'string' ? raw : String(isObj(v) && isObj(v.config) ? v.config.name : raw);
  const a = ACTIVATIONS[key] ?? ACTIVATIONS[key.toLowerCase()];
  if (!a) return err(`layer "${lname}" uses activation "${key}", which BatchNorm Lens does not support; use one of ${Object.keys(ACTIVATIONS).join(', ')}`, `"${lname}"`);
  return a;
}

function pair(v: unknown, dflt: [number, number]): [number, number] {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  if (Array.isArray(v) && v.length === 1) return [Number(v[0]), Number(v[0])];
  return dflt;
}

function padding(v: unknown, lname: string, err: (msg: string, needle?: string) => never): Padding {
  const p = v ?? 'valid';
  if (p === 'valid' || p === 'same') return p;
  return err(`layer "${lname}" uses padding "${String(p)}"; use "valid" or "same"`, `"${lname}"`);
}

function initializer(v: unknown, dflt: string): InitializerSpec {
  if (typeof v === 'string') return { className: v, config: {} };
  if (isObj(v)) return { className: String(v.class_name ?? dflt), config: isObj(v.config) ? (v.config as Record<string, unknown>) : {} };
  return { className: dflt, config: {} };
}

function channelsLast(cfg: Json, lname: string, err: (msg: string, needle?: string) => never) {
  const f = cfg.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') err(`layer "${lname}" uses data_format "${String(f)}"; BatchNorm Lens supports channels_last (NHWC) only`, `"${lname}"`);
}

export const SUPPORTED_LAYERS = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'BatchNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'Softmax',
  'MaxPooling2D',
  'MaxPool2D',
  'AveragePooling2D',
  'AvgPool2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Reshape',
  'Dropout',
  'Add',
  'Concatenate',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Rescaling',
  'Normalization',
  // Keras 1 names, read as Conv2D and SeparableConv2D.
  'Convolution2D',
  'AtrousConvolution2D',
  'SeparableConvolution2D',
];

/** Sequence and lookup layers: the paper's measurements are defined for the feed-forward networks trained here. */
const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'Bidirectional', 'ConvLSTM2D', 'ConvLSTM1D', 'CuDNNLSTM', 'CuDNNGRU', 'Embedding', 'TimeDistributed', 'LSTMCell', 'GRUCell']);

const KERAS1_CLASSES: Record<string, string> = {
  Convolution2D: 'Conv2D',
  AtrousConvolution2D: 'Conv2D',
  SeparableConvolution2D: 'SeparableConv2D',
};

/**
 * Keras 1 spelled classes and options differently (`Convolution2D`, `nb_filter`, `border_mode`, `subsample`,
 * `init`, `output_dim`, `p`, `dim_ordering`); old files still carry them. Renamed here to the Keras 2 names.
 */
function fromKeras1(cls: string, cfg: Json, lname: string, err: (msg: string, needle?: string) => never): [string, Json] {
  const keras1 = cls in KERAS1_CLASSES || (cls === 'Dropout' && 'p' in cfg && !('rate' in cfg)) || ['nb_filter', 'border_mode', 'subsample', 'output_dim', 'dim_ordering', 'init', 'W_regularizer'].some((k) => k in cfg);
  if (!keras1) return [cls, cfg];
  const c: Json = { ...cfg };
  const move = (from: string, to: string, f: (v: unknown) => unknown = (v) => v) => {
    if (from in cfg && !(to in cfg)) c[to] = f(cfg[from]);
  };
  move('nb_filter', 'filters');
  if ('nb_row' in cfg || 'nb_col' in cfg) c.kernel_size = [Number(cfg.nb_row ?? 1), Number(cfg.nb_col ?? 1)];
  move('subsample', 'strides');
  move('border_mode', 'padding');
  move('bias', 'use_bias');
  move('init', 'kernel_initializer');
  move('atrous_rate', 'dilation_rate');
  move('output_dim', 'units');
  move('dim_ordering', 'data_format', (v) => (v === 'tf' ? 'channels_last' : v === 'th' ? 'channels_first' : v));
  if (cls === 'Dropout') move('p', 'rate');
  if (cls === 'BatchNormalization' && cfg.mode !== undefined && Number(cfg.mode) !== 0)
    err(`BatchNormalization layer "${lname}" uses Keras 1 mode ${String(cfg.mode)}; only mode 0 (feature-wise, as in Keras 2) is supported`, `"${lname}"`);
  if (cls === 'Merge') err(`layer "${lname}" is a Keras 1 Merge layer; rebuild the model with Add or Concatenate (Keras 2)`, `"${lname}"`);
  return [KERAS1_CLASSES[cls] ?? cls, c];
}

/** Keras' padding/cropping argument: n, [a, b] (symmetric per axis) or [[top, bottom], [left, right]]. */
function padPairs(v: unknown, lname: string, what: string, dflt: number, err: (msg: string, needle?: string) => never): [[number, number], [number, number]] {
  const whole = (x: unknown) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0) err(`layer "${lname}" has ${what} ${JSON.stringify(v)}; use whole numbers ≥ 0`, `"${lname}"`);
    return n;
  };
  if (v === undefined || v === null)
    return [
      [dflt, dflt],
      [dflt, dflt],
    ];
  if (typeof v === 'number')
    return [
      [whole(v), whole(v)],
      [whole(v), whole(v)],
    ];
  if (Array.isArray(v) && v.length === 2) {
    const axis = (a: unknown): [number, number] => (Array.isArray(a) ? [whole(a[0]), whole(a[1])] : [whole(a), whole(a)]);
    return [axis(v[0]), axis(v[1])];
  }
  return err(`layer "${lname}" has ${what} ${JSON.stringify(v)}; use n, [h, w] or [[top, bottom], [left, right]]`, `"${lname}"`);
}

function numberList(v: unknown): number[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return (v.flat(Infinity) as unknown[]).map(Number);
  return null;
}

export function readLayer(rawCls: string, lname: string, rawCfg: Json, inbound: string[], err: (msg: string, needle?: string) => never): LayerNode {
  if (RECURRENT.has(rawCls))
    return err(
      `layer "${lname}" has type ${rawCls}, which BatchNorm Lens does not support: ${rawCls === 'Embedding' ? 'embedding' : 'recurrent'} layers are left out because the paper's measurements (loss landscape, β-smoothness, internal covariate shift) are defined for the feed-forward networks it trains; supported: ${SUPPORTED_LAYERS.join(', ')}`,
      `"${lname}"`,
    );
  const [cls, cfg] = fromKeras1(rawCls, rawCfg, lname, err);
  const base = { name: lname, className: rawCls, inbound };
  switch (cls) {
    case 'Dense': {
      const units = Number(cfg.units);
      if (!Number.isInteger(units) || units <= 0) return err(`Dense layer "${lname}" needs a positive integer "units"`, `"${lname}"`);
      return {
        ...base,
        kind: 'dense',
        units,
        useBias: cfg.use_bias !== false,
        activation: activation(cfg.activation, lname, err),
        kernelInitializer: initializer(cfg.kernel_initializer, 'GlorotUniform'),
        biasInitializer: initializer(cfg.bias_initializer, 'Zeros'),
      };
    }
    case 'Conv2D': {
      channelsLast(cfg, lname, err);
      const filters = Number(cfg.filters);
      if (!Number.isInteger(filters) || filters <= 0) return err(`Conv2D layer "${lname}" needs a positive integer "filters"`, `"${lname}"`);
      const groups = Number(cfg.groups ?? 1);
      if (!Number.isInteger(groups) || groups < 1 || filters % groups !== 0)
        return err(`Conv2D layer "${lname}" has groups ${String(cfg.groups)}; it must be a whole number that divides filters (${filters})`, `"${lname}"`);
      return {
        ...base,
        kind: 'conv2d',
        filters,
        kernelSize: pair(cfg.kernel_size, [3, 3]),
        strides: pair(cfg.strides, [1, 1]),
        padding: padding(cfg.padding, lname, err),
        dilation: pair(cfg.dilation_rate, [1, 1]),
        useBias: cfg.use_bias !== false,
        activation: activation(cfg.activation, lname, err),
        kernelInitializer: initializer(cfg.kernel_initializer, 'GlorotUniform'),
        biasInitializer: initializer(cfg.bias_initializer, 'Zeros'),
        ...(groups > 1 ? { groups } : {}),
      };
    }
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      channelsLast(cfg, lname, err);
      const depthMultiplier = Number(cfg.depth_multiplier ?? 1);
      if (!Number.isInteger(depthMultiplier) || depthMultiplier <= 0) return err(`${cls} layer "${lname}" needs a positive integer "depth_multiplier"`, `"${lname}"`);
      const strides = pair(cfg.strides, [1, 1]);
      const dilation = pair(cfg.dilation_rate, [1, 1]);
      if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1))
        return err(`${cls} layer "${lname}" combines strides ${strides.join('×')} with dilation ${dilation.join('×')}; TensorFlow allows one or the other`, `"${lname}"`);
      const common = {
        depthMultiplier,
        kernelSize: pair(cfg.kernel_size, [3, 3]),
        strides,
        padding: padding(cfg.padding, lname, err),
        dilation,
        useBias: cfg.use_bias !== false,
        activation: activation(cfg.activation, lname, err),
        kernelInitializer: initializer(cfg.depthwise_initializer, 'GlorotUniform'),
        biasInitializer: initializer(cfg.bias_initializer, 'Zeros'),
      };
      if (cls === 'DepthwiseConv2D') return { ...base, kind: 'depthwise', ...common };
      const filters = Number(cfg.filters);
      if (!Number.isInteger(filters) || filters <= 0) return err(`SeparableConv2D layer "${lname}" needs a positive integer "filters"`, `"${lname}"`);
      return { ...base, kind: 'separable', filters, ...common, pointwiseInitializer: initializer(cfg.pointwise_initializer, 'GlorotUniform') };
    }
    case 'ZeroPadding2D':
      channelsLast(cfg, lname, err);
      return { ...base, kind: 'zeropad', padding: padPairs(cfg.padding, lname, 'padding', 1, err) };
    case 'Cropping2D':
      channelsLast(cfg, lname, err);
      return { ...base, kind: 'crop', cropping: padPairs(cfg.cropping, lname, 'cropping', 0, err) };
    case 'UpSampling2D': {
      channelsLast(cfg, lname, err);
      const interpolation = cfg.interpolation ?? 'nearest';
      if (interpolation !== 'nearest') return err(`UpSampling2D layer "${lname}" uses interpolation "${String(interpolation)}"; only "nearest" is supported`, `"${lname}"`);
      const size = pair(cfg.size, [2, 2]);
      if (!size.every((d) => Number.isInteger(d) && d > 0)) return err(`UpSampling2D layer "${lname}" needs whole positive "size"`, `"${lname}"`);
      return { ...base, kind: 'upsample', size };
    }
    case 'Rescaling': {
      const scale = Number(cfg.scale ?? 1);
      const offset = Number(cfg.offset ?? 0);
      if (!Number.isFinite(scale) || !Number.isFinite(offset)) return err(`Rescaling layer "${lname}" needs numeric "scale" and "offset" (one value each)`, `"${lname}"`);
      return { ...base, kind: 'rescale', scale, offset };
    }
    case 'Normalization': {
      const axis = cfg.axis ?? -1;
      if (!(axis === -1 || (Array.isArray(axis) && axis.length === 1 && axis[0] === -1)))
        return err(`Normalization layer "${lname}" normalizes over axis ${JSON.stringify(axis)}; only the last axis (-1) is supported`, `"${lname}"`);
      if (cfg.invert === true) return err(`Normalization layer "${lname}" has invert: true; only forward normalization is supported`, `"${lname}"`);
      return { ...base, kind: 'normalize', mean: numberList(cfg.mean), variance: numberList(cfg.variance) };
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis ?? -1];
      if (axis.length !== 1 || !(axis[0] === -1 || typeof axis[0] === 'number'))
        return err(`BatchNormalization layer "${lname}" normalizes over axes [${axis.join(', ')}]; only the last (channel) axis is supported`, `"${lname}"`);
      return {
        ...base,
        kind: 'batchnorm',
        epsilon: Number(cfg.epsilon ?? 1e-3),
        momentum: Number(cfg.momentum ?? 0.99),
        center: cfg.center !== false,
        scale: cfg.scale !== false,
        axis: Number(axis[0]),
      };
    }
    case 'Activation':
      return { ...base, kind: 'activation', activation: activation(cfg.activation, lname, err) };
    case 'Softmax':
      return { ...base, kind: 'activation', activation: 'softmax' };
    case 'ReLU':
      return {
        ...base,
        kind: 'relu',
        maxValue: cfg.max_value === null || cfg.max_value === undefined ? null : Number(cfg.max_value),
        negativeSlope: Number(cfg.negative_slope ?? 0),
        threshold: Number(cfg.threshold ?? 0),
      };
    case 'LeakyReLU':
      return { ...base, kind: 'relu', maxValue: null, negativeSlope: Number(cfg.negative_slope ?? cfg.alpha ?? 0.3), threshold: 0 };
    case 'MaxPooling2D':
    case 'MaxPool2D':
    case 'AveragePooling2D':
    case 'AvgPool2D': {
      channelsLast(cfg, lname, err);
      const poolSize = pair(cfg.pool_size, [2, 2]);
      return {
        ...base,
        kind: 'pool',
        op: cls.startsWith('Max') ? 'max' : 'avg',
        poolSize,
        strides: pair(cfg.strides, poolSize),
        padding: padding(cfg.padding, lname, err),
      };
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      channelsLast(cfg, lname, err);
      if (cfg.keepdims === true) return err(`layer "${lname}" uses keepdims; set it to false`, `"${lname}"`);
      return { ...base, kind: 'globalpool', op: cls.startsWith('GlobalMax') ? 'max' : 'avg' };
    case 'Flatten':
      return { ...base, kind: 'flatten' };
    case 'Reshape':
      if (!Array.isArray(cfg.target_shape)) return err(`Reshape layer "${lname}" needs "target_shape"`, `"${lname}"`);
      return { ...base, kind: 'reshape', targetShape: (cfg.target_shape as unknown[]).map(Number) };
    case 'Dropout':
      return { ...base, kind: 'dropout', rate: Number(cfg.rate ?? 0) };
    case 'Add':
      return { ...base, kind: 'add' };
    case 'Concatenate':
      return { ...base, kind: 'concatenate', axis: Number(cfg.axis ?? -1) };
    default:
      return err(`layer "${lname}" has type ${cls}, which BatchNorm Lens does not support; supported: ${SUPPORTED_LAYERS.join(', ')}`, `"${lname}"`);
  }
}

/** First place in the text where `needle` occurs, preferably as a layer's "name" value. */
export function locate(text: string, needle: string | undefined): { line: number; column: number } | undefined {
  if (!needle) return undefined;
  let at = -1;
  if (needle.startsWith('"')) {
    const nameRe = new RegExp(`"name"\\s*:\\s*${escapeRe(needle)}`);
    const m = nameRe.exec(text);
    at = m ? m.index + m[0].length - needle.length : text.indexOf(needle);
  } else at = text.indexOf(needle);
  if (at < 0) return undefined;
  return offsetToLineColumn(text, at);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
