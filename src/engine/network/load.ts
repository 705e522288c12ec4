// Reading a network file from disk: topology, weight shards beside it, and the initial values of every
// parameter (from the shards, or from the layers' own initializers, seeded).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors';
import { initialValues } from './initializers';
import type { LayerNode, NetworkSpec, WeightSpec } from './ir';
import { locate, parseNetworkText } from './parse';
import { inferShapes, type ShapeInfo } from './shapes';
import { isOnnxFile, readOnnxNetwork } from './onnx/load';
import { packWeights } from './layout';
import { initPythonParser } from './python/parser';
import { readPythonNetwork } from './python/read';
import { torchWeights } from './python/torchWeights';
import { readSafetensors } from './safetensors';

/** What a Python network file needs beyond its text (JSON files ignore these). */
export interface NetworkReadOptions {
  /** Which model of the file: a name or a call in the Python subset (`--model`). */
  pythonModel?: string;
  /** Per-example input shape in the file's layout, when known from the user or the data. */
  inputShape?: number[];
  /** Image side to assume for a first Conv2d (28 for MNIST, 32 for CIFAR) when nothing else says. */
  imageSide?: number;
  /** A .safetensors state_dict; default: the file beside the network with the same stem. */
  weights?: string;
}

export const isPythonFile = (file: string) => /\.py$/i.test(file);

/** loadNetwork after the readers that load asynchronously (the Python grammar) are ready. */
export async function openNetwork(file: string, opts: NetworkReadOptions = {}): Promise<LoadedNetwork> {
  if (isPythonFile(file)) await initPythonParser();
  return loadNetwork(file, opts);
}

/** The weights beside a network file: `model.py` → `model.safetensors`. */
export function siblingWeights(file: string): string | undefined {
  const candidate = join(dirname(file), basename(file).replace(/\.py$/i, '') + '.safetensors');
  return existsSync(candidate) ? candidate : undefined;
}

function loadPythonNetwork(file: string, opts: NetworkReadOptions): LoadedNetwork {
  if (!existsSync(file)) throw new UserError(`network file not found; check the path`, file);
  const text = readFileSync(file, 'utf8');
  const py = readPythonNetwork(text, file, { model: opts.pythonModel, inputShape: opts.inputShape, imageSide: opts.imageSide });
  const weightsFile = opts.weights ?? siblingWeights(file);
  let weights: NetworkSpec['weights'] = null;
  if (weightsFile) {
    if (py.framework !== 'pytorch') throw new UserError(`--weights reads PyTorch state_dicts; for a Keras model save it with model.save("model.keras") and analyze its JSON, or leave --weights out`, weightsFile);
    const stored = readSafetensors(weightsFile);
    weights = packWeights(torchWeights(py.spec.layers, py.modules, stored, weightsFile, py.chosen));
  }
  const spec: NetworkSpec = { ...py.spec, weights, ...(weightsFile ? { weightsSource: weightsFile } : {}) };
  const info = inferShapes(spec.layers, file);
  return { spec, text, defaults: null, info, weightsFromFile: weights !== null };
}

export interface LoadedNetwork {
  spec: NetworkSpec;
  text: string;
  /** Analysis settings the file carries (`userDefinedMetadata.bnlens`). */
  defaults: Record<string, unknown> | null;
  info: ShapeInfo;
  /** Whether the weights came from the file (else from initializers). */
  weightsFromFile: boolean;
  /** One-line remarks about the file the user should see (e.g. BatchNorm folded away by an ONNX export). */
  notes?: string[];
  /** The loss the file was compiled with (Keras training/compile config), when it says. */
  compiledLoss?: string | null;
}

export function readNetworkFile(file: string): {
  spec: NetworkSpec;
  text: string;
  manifest: ReturnType<typeof parseNetworkText>['manifest'];
  defaults: Record<string, unknown> | null;
  compiledLoss?: string | null;
} {
  if (!existsSync(file)) throw new UserError(`network file not found; check the path`, file);
  if (statSync(file).isDirectory()) throw new UserError(`this is a folder; give the model.json file inside it`, file);
  const raw = readFileSync(file, 'utf8');
  if (raw.trim() === '') throw new UserError('the network file is empty; give a model.json or a Keras model.to_json() file', file, 1, 1);
  const { spec, manifest, defaults, compiledLoss, decodedText } = parseNetworkText(raw, file, { fallbackInputShape: teachableMachineShape(file) });
  // A model JSON saved as a JSON string: later look-ups of layer names search the decoded model text.
  return { spec: { ...spec, weights: null }, text: decodedText ?? raw, manifest, defaults, compiledLoss };
}

/** Teachable Machine writes metadata.json beside model.json; its imageSize gives the input when no layer does. */
function teachableMachineShape(file: string): number[] | undefined {
  const meta = join(dirname(file), 'metadata.json');
  if (!existsSync(meta)) return undefined;
  try {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { imageSize?: unknown };
    return typeof m.imageSize === 'number' && Number.isInteger(m.imageSize) && m.imageSize > 0 ? [m.imageSize, m.imageSize, 3] : undefined;
  } catch {
    return undefined;
  }
}

/** Parse, infer shapes and read the weight shards (if any). Python files: call openNetwork (or initPythonParser) first. */
export function loadNetwork(file: string, opts: NetworkReadOptions = {}): LoadedNetwork {
  if (isPythonFile(file)) return loadPythonNetwork(file, opts);
  if (isOnnxFile(file)) {
    const onnx = readOnnxNetwork(file);
    return { spec: onnx.spec, text: '', defaults: null, info: onnx.info, weightsFromFile: true, notes: onnx.notes };
  }
  const { spec, text, manifest, defaults, compiledLoss } = readNetworkFile(file);
  const info = inferShapes(spec.layers, file, text);
  if (manifest && manifest.some((g) => g.weights.length > 0)) {
    const chunks: Buffer[] = [];
    const specs: WeightSpec[] = [];
    for (const group of manifest) {
      const need = group.weights.reduce((a, w) => a + (w.dtype === 'float16' ? 2 : 4) * w.shape.reduce((x, y) => x * y, 1), 0);
      const bufs = group.paths.map((p) => {
        const path = resolve(dirname(file), p);
        if (!existsSync(path)) {
          const at = locate(text, `"${p}"`);
          throw new UserError(`weight shard "${p}" listed in "weightsManifest" is missing beside the model file; copy it next to ${file}`, file, at?.line, at?.column);
        }
        return readFileSync(path);
      });
      const data = Buffer.concat(bufs);
      if (data.length < need) {
        const at = locate(text, `"${group.paths[0]}"`);
        throw new UserError(
          `weight shard${group.paths.length > 1 ? 's' : ''} ${group.paths.map((p) => `"${p}"`).join(', ')} hold${group.paths.length > 1 ? '' : 's'} ${data.length} bytes but the manifest needs ${need}; the file is truncated — export the model again`,
          file,
          at?.line,
          at?.column,
        );
      }
      chunks.push(data.subarray(0, need));
      specs.push(...group.weights);
    }
    const all = Buffer.concat(chunks);
    spec.weights = { specs, data: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer };
  }
  spec.layers = spec.layers.map((l) => (l.kind === 'normalize' ? adaptedNormalization(l, spec, text) : l));
  return { spec, text, defaults, info, weightsFromFile: spec.weights !== null, compiledLoss };
}

/**
 * A Normalization layer's mean and variance: from its config when written there, else the values adapt()
 * stored among the weights (`layer/mean`, `layer/variance`). They are constants of the network, not trained.
 */
function adaptedNormalization(l: Extract<LayerNode, { kind: 'normalize' }>, spec: NetworkSpec, text: string): LayerNode {
  if (l.mean && l.variance) return l;
  const stored = spec.weights ? weightsByName(spec.weights.specs, spec.weights.data) : [];
  const mean = l.mean ?? (findWeight(stored, l.name, 'mean') ? Array.from(findWeight(stored, l.name, 'mean')!.values) : null);
  const variance = l.variance ?? (findWeight(stored, l.name, 'variance') ? Array.from(findWeight(stored, l.name, 'variance')!.values) : null);
  if (!mean || !variance) {
    const at = locate(text, `"${l.name}"`);
    throw new UserError(
      `Normalization layer "${l.name}" has no mean and variance in the file (they come from adapt() on the training data); save the model with its weights (model.json + shards), or give the layer mean= and variance= explicitly`,
      spec.file,
      at?.line,
      at?.column,
    );
  }
  return { ...l, mean, variance };
}

/** A parameter's key in the weights map: `layer/role`. */
export const paramKey = (layer: string, role: string) => `${layer}/${role}`;

/**
 * Initial values of every trainable parameter and state tensor, keyed `layer/role`. Weights from the file
 * where it has them; the rest from initializers seeded by (seed, layer/role).
 */
export function initialWeights(
  net: { spec: NetworkSpec; info: ShapeInfo; text?: string },
  seed: number,
  /** Strict: every parameter of the file's layers must be in its manifest. Variants relax this for what they add. */
  strict = true,
): Map<string, Float32Array> {
  const { spec, info } = net;
  const values = new Map<string, Float32Array>();
  const fromFile = spec.weights ? weightsByName(spec.weights.specs, spec.weights.data) : null;
  const layerByName = new Map(spec.layers.map((l) => [l.name, l]));
  for (const p of [...info.params, ...info.state]) {
    const key = paramKey(p.layer, p.role);
    const layer = layerByName.get(p.layer)!;
    const source = layer.derivedFrom === undefined || layer.derivedFrom === null ? p.layer : null;
    const stored = fromFile && source ? findWeight(fromFile, source, storedRole(layer, p.role)) : undefined;
    if (strict && fromFile && source && !stored && p.role !== 'moving_mean' && p.role !== 'moving_variance') {
      const at = net.text ? locate(net.text, `"${p.layer}"`) : undefined;
      throw new UserError(`weight "${p.layer}/${p.role}" is not in the weights manifest; export the model with all its weights`, spec.file, at?.line, at?.column);
    }
    if (stored && (strict || stored.shape.join() === p.shape.join())) {
      if (stored.shape.join() !== p.shape.join()) {
        const at = net.text ? locate(net.text, `"${stored.name}"`) : undefined;
        throw new UserError(
          `weight "${stored.name}" has shape [${stored.shape.join(', ')}] in the manifest but layer "${p.layer}" needs [${p.shape.join(', ')}]; the topology and the weights do not match`,
          spec.file,
          at?.line,
          at?.column,
        );
      }
      values.set(key, stored.values);
    } else {
      const kernel = p.role === 'bias' ? info.params.find((k) => k.layer === p.layer && k.role === 'kernel') : undefined;
      values.set(key, initialValues(initializerFor(layer, p.role), p.shape, seed, key, `layer "${p.layer}"`, kernel?.shape));
    }
  }
  return values;
}

function initializerFor(layer: LayerNode, role: string) {
  if (layer.kind === 'dense' || layer.kind === 'conv2d' || layer.kind === 'depthwise' || layer.kind === 'separable') {
    if (role === 'pointwise' && layer.kind === 'separable') return layer.pointwiseInitializer;
    return role === 'kernel' ? layer.kernelInitializer : layer.biasInitializer;
  }
  const one = { className: 'Ones', config: {} };
  const zero = { className: 'Zeros', config: {} };
  return role === 'gamma' || role === 'moving_variance' ? one : zero;
}

/** The weight's name in Keras files: depthwise layers call their kernels depthwise_kernel / pointwise_kernel. */
function storedRole(layer: LayerNode, role: string): string {
  if (layer.kind === 'depthwise' || layer.kind === 'separable') {
    if (role === 'kernel') return 'depthwise_kernel';
    if (role === 'pointwise') return 'pointwise_kernel';
  }
  return role;
}

interface StoredWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

function weightsByName(specs: WeightSpec[], data: ArrayBuffer): StoredWeight[] {
  const out: StoredWeight[] = [];
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (s.dtype === 'float32') values = new Float32Array(data.slice(offset, offset + 4 * n));
    else if (s.dtype === 'int32') values = Float32Array.from(new Int32Array(data.slice(offset, offset + 4 * n)));
    else values = halfToFloat(new Uint16Array(data.slice(offset, offset + 2 * n)));
    offset += (s.dtype === 'float16' ? 2 : 4) * n;
    out.push({ name: s.name, shape: s.shape, values });
  }
  return out;
}

/** `layer/role`, also under a model-name prefix (`sequential/dense/kernel`) or with TF's `:0` suffix. */
function findWeight(stored: StoredWeight[], layer: string, role: string): StoredWeight | undefined {
  const exact = `${layer}/${role}`;
  const bare = (name: string) => name.replace(/:\d+$/, '');
  return stored.find((w) => bare(w.name) === exact) ?? stored.find((w) => bare(w.name).endsWith(`/${exact}`));
}

function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i];
    const s = v & 0x8000 ? -1 : 1;
    const e = (v >> 10) & 0x1f;
    const m = v & 0x3ff;
    out[i] = e === 0 ? s * 2 ** -14 * (m / 1024) : e === 31 ? (m ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + m / 1024);
  }
  return out;
}
