// An ONNX graph (NCHW, as PyTorch writes it) → the engine's IR (NHWC layers) and its weights in the engine's
// layout. Each node either becomes a layer, or is folded: constants and the shape arithmetic exporters write
// for `x.view(x.size(0), -1)` (Shape → Gather → Unsqueeze → Concat → Reshape) are evaluated here, with the
// batch size kept symbolic; Identity, Cast, zero Pad and Transpose only change how a tensor is viewed.
//
// Every tensor the graph computes from the input is tracked with its ONNX dimensions (no batch) and its
// `order`: 'chw' for an NCHW image (the IR holds it as [h, w, c]), 'hwc' for one a Transpose put in NHWC
// order (the IR holds it as is), 'flat' for everything else (same dimensions in both).

import type { onnx } from 'onnx-proto';
import { UserError } from '../../errors';
import { FRAMEWORK_DEFAULTS } from '../frameworks';
import type { Activation, Framework, LayerNode, Padding, WeightSpec } from '../ir';
import { linearToKernel, oihwToHwio } from '../layout';
import { floatValues, intValues, isFloatTensor, typeName, type TensorPlace } from './tensors';

const BATCH = 'N' as const;
type Dim = number | typeof BATCH;

interface ActValue {
  kind: 'act';
  /** IR layer whose output this is. */
  layer: string;
  /** ONNX dimensions without the batch. */
  dims: number[];
  order: 'chw' | 'hwc' | 'flat';
  /** Output of GlobalAveragePool: ONNX [c, 1, 1], IR [c]. */
  pooled?: boolean;
  /** Output of a MatMul whose dense layer may still take an Add's constant as its bias. */
  biasFor?: string;
  /**
   * Zero padding [top, bottom, left, right] of a Pad node not yet applied: folded into the Conv or the
   * AveragePool that reads it (PyTorch exports AvgPool2d(padding=p) as Pad → AveragePool).
   */
  zeroPad?: [number, number, number, number];
}
interface FloatValue {
  kind: 'float';
  dims: number[];
  values: Float32Array;
  /** The initializer it comes from (through Transpose/Identity), for layer names. */
  source?: string;
}
interface IntValue {
  kind: 'int';
  dims: number[];
  values: Dim[];
}
type Value = ActValue | FloatValue | IntValue;

export interface MappedGraph {
  layers: LayerNode[];
  output: string;
  weights: { specs: WeightSpec[]; data: ArrayBuffer };
  /** One-line remarks for the user (e.g. BatchNorm folded away by an eval-mode export). */
  notes: string[];
  /** Per layer: the ONNX node(s) it came from, for the custom editor. */
  origin: Map<string, string>;
  /** Per layer: its output's ONNX dimensions without the batch (NCHW order for images), for display. */
  onnxShapes: Map<string, number[]>;
  /**
   * How the file's input lays out an image: NCHW as ONNX does, NHWC when the input only feeds Transposes to
   * NCHW (tf2onnx's Keras models). Data is read in this layout and shapes are shown in it.
   */
  layout: 'NCHW' | 'NHWC';
}

const SUPPORTED = [
  'Gemm',
  'MatMul',
  'Conv',
  'BatchNormalization',
  'Relu',
  'LeakyRelu',
  'Elu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'LogSoftmax',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Flatten',
  'Reshape',
  'Transpose',
  'Add',
  'Concat',
  'Dropout',
  'Identity',
  'Constant',
  'Shape',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Cast',
  'Pad',
];
const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);
/** Ops that take a pending zero Pad into their own padding (Identity passes it on). */
const PAD_READERS = new Set(['Conv', 'AveragePool', 'Identity']);

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Maps a decoded graph. `file` is the model's path (messages, external data); `framework` whose conventions
 * the layers get where the graph is silent (initializers, how BatchNorm's running variance is updated).
 */
export function mapGraph(model: onnx.ModelProto, file: string, opset: number, framework: Framework = 'pytorch'): MappedGraph {
  const graph = model.graph as onnx.GraphProto;
  const fw = FRAMEWORK_DEFAULTS[framework];
  const init = { kernelInitializer: fw.kernelInitializer, biasInitializer: fw.biasInitializer };
  const values = new Map<string, Value>();
  const layers: LayerNode[] = [];
  const used = new Set<string>();
  const origin = new Map<string, string>();
  const onnxShapes = new Map<string, number[]>();
  const weightSpecs: WeightSpec[] = [];
  const weightData: Float32Array[] = [];
  const notes: string[] = [];
  const foldedConv: string[] = [];
  const containers = containerPaths(graph.node as onnx.NodeProto[]);
  const consumers = new Map<string, number>();
  for (const n of graph.node as onnx.NodeProto[]) for (const i of n.input) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);

  const fail = (node: onnx.NodeProto | null, msg: string): never => {
    const where = node ? `node "${node.name || '(unnamed)'}" (${node.opType}): ` : '';
    throw new UserError(`${where}${msg}`, file);
  };
  const place = (what: string): TensorPlace => ({ file, what });

  for (const t of graph.initializer as onnx.TensorProto[]) {
    const what = `initializer "${t.name}"`;
    if (isFloatTensor(t)) values.set(t.name, { kind: 'float', ...floatValues(t, place(what)), source: t.name });
    else values.set(t.name, { kind: 'int', ...intValues(t, place(what)) });
  }

  // ---- the one input and the one output
  const inputs = (graph.input as onnx.ValueInfoProto[]).filter((i) => !values.has(i.name));
  if (inputs.length !== 1)
    fail(null, `the graph has ${inputs.length} inputs (${inputs.map((i) => `"${i.name}"`).join(', ')}); BatchNorm Lens trains networks with exactly one input — export a model that takes one tensor`);
  if (graph.output.length !== 1)
    fail(
      null,
      `the graph has ${graph.output.length} outputs (${graph.output.map((o) => `"${o.name}"`).join(', ')}); BatchNorm Lens trains networks with exactly one output — export the model with only its prediction as output`,
    );
  const input = inputs[0];
  const outputName = (graph.output as onnx.ValueInfoProto[])[0].name;
  const tt = input.type?.tensorType;
  if (!tt?.shape?.dim) fail(null, `input "${input.name}" has no shape in the file; export with an example input of the real size`);
  if (tt!.elemType !== undefined && tt!.elemType !== null && tt!.elemType !== 1 && tt!.elemType !== 11 && tt!.elemType !== 10)
    fail(null, `input "${input.name}" has element type ${typeName(tt!.elemType)}; BatchNorm Lens feeds float inputs (token ids and embeddings are not supported)`);
  const dimList = tt!.shape!.dim!;
  if (dimList.length < 2) fail(null, `input "${input.name}" has rank ${dimList.length}; expected a batch dimension and at least one feature dimension`);
  const exportBatch = dimList[0].dimValue !== undefined && dimList[0].dimValue !== null && Number(dimList[0].dimValue) > 0 ? Number(dimList[0].dimValue) : null;
  const inDims = dimList.slice(1).map((d, i) => {
    const v = Number(d.dimValue ?? 0);
    if (!(v > 0)) fail(null, `input "${input.name}" has a dynamic dimension ${i + 1} ("${d.dimParam ?? '?'}"); export with a fixed example size and dynamic_axes only on the batch (axis 0)`);
    return v;
  });
  const inputName = unique(input.name || 'input', used);
  // A rank-4 input is NCHW (PyTorch), unless it only feeds Transposes to NCHW (tf2onnx's NHWC Keras inputs).
  const readers = (graph.node as onnx.NodeProto[]).filter((n) => n.input.includes(input.name));
  const toNchw = (n: onnx.NodeProto) => n.opType === 'Transpose' && attrs(n).ints('perm').join() === '0,3,1,2';
  const inputOrder = inDims.length !== 3 ? 'flat' : readers.length > 0 && readers.every(toNchw) ? 'hwc' : 'chw';
  layers.push({ kind: 'input', name: inputName, className: 'Input', inbound: [], shape: irDims(inDims, inputOrder) });
  values.set(input.name, { kind: 'act', layer: inputName, dims: inDims, order: inputOrder });
  onnxShapes.set(inputName, inDims);

  // ---- helpers
  const get = (node: onnx.NodeProto, k: number): Value | undefined => {
    const name = node.input[k];
    if (!name) return undefined;
    const v = values.get(name);
    if (!v) fail(node, `input "${name}" is not computed by any earlier node nor stored in the file; the graph is incomplete — export it again`);
    if (v!.kind === 'act' && v!.zeroPad && !PAD_READERS.has(node.opType))
      fail(node, `its input is zero-padded by a Pad node; BatchNorm Lens folds a Pad only into the Conv or AveragePool that reads it — pad inside the layer instead (padding=...)`);
    return v;
  };
  const act = (node: onnx.NodeProto, k = 0): ActValue => {
    const v = get(node, k);
    if (!v || v.kind !== 'act') fail(node, `input ${k + 1} must be computed from the network's input, but it is a constant`);
    return v as ActValue;
  };
  const floats = (node: onnx.NodeProto, k: number, role: string): FloatValue => {
    const v = get(node, k);
    if (!v || v.kind !== 'float')
      fail(
        node,
        `its ${role} (input ${k + 1}) must be a float weight stored in the file, but it ${v ? (v.kind === 'act' ? 'is computed from the input' : 'is an integer tensor') : 'is missing'}; BatchNorm Lens needs the weights as initializers`,
      );
    return v as FloatValue;
  };
  const ints = (node: onnx.NodeProto, k: number): IntValue | undefined => {
    const v = get(node, k);
    if (!v) return undefined;
    if (v.kind !== 'int') fail(node, `input ${k + 1} must be an integer constant (shape arithmetic), but it ${v.kind === 'act' ? 'depends on the data' : 'is a float tensor'}`);
    return v as IntValue;
  };
  const set = (node: onnx.NodeProto, v: Value, k = 0) => {
    if (v.kind === 'act' && !onnxShapes.has(v.layer)) onnxShapes.set(v.layer, v.dims.slice());
    values.set(node.output[k], v);
  };
  const extraOutputsUnused = (node: onnx.NodeProto, from: number) => {
    for (const o of node.output.slice(from)) if (o && (consumers.get(o) || graph.output.some((g) => g.name === o))) fail(node, `its output "${o}" is used; BatchNorm Lens uses only the first output of ${node.opType}`);
  };
  const addLayer = (node: onnx.NodeProto, base: string, l: Omit<LayerNode, 'name' | 'className'> & { kind: LayerNode['kind'] }): string => {
    const name = unique(base, used);
    layers.push({ ...(l as object), name, className: node.opType } as LayerNode);
    origin.set(name, node.name || node.opType);
    return name;
  };
  const addWeight = (layer: string, role: string, dims: number[], v: Float32Array) => {
    weightSpecs.push({ name: `${layer}/${role}`, shape: dims, dtype: 'float32' });
    weightData.push(v);
  };
  const simple = (node: onnx.NodeProto, a: ActValue, l: Record<string, unknown> & { kind: LayerNode['kind'] }): ActValue => {
    const name = addLayer(node, nodeBase(node, containers), { inbound: [a.layer], ...l } as never);
    return { ...a, layer: name, biasFor: undefined };
  };

  for (const node of topoOrder(graph, values, fail)) {
    const op = node.opType;
    const at = attrs(node);
    if (node.domain && node.domain !== 'ai.onnx') fail(node, `operator domain "${node.domain}" is not the standard ONNX domain; export with standard ONNX operators only`);
    if (CONTROL_FLOW.has(op))
      fail(
        node,
        `control flow (${op}) is not supported: BatchNorm Lens needs a fixed chain of layers; export a model whose forward() has no data-dependent branches or loops (or trace it with torch.onnx.export instead of scripting it)`,
      );
    switch (op) {
      case 'Constant': {
        const t = at.t('value');
        if (t) {
          const what = place(`constant of node "${node.name}"`);
          set(node, isFloatTensor(t) ? { kind: 'float', ...floatValues(t, what) } : { kind: 'int', ...intValues(t, what) });
        } else if (at.has('value_float')) set(node, { kind: 'float', dims: [], values: Float32Array.of(at.f('value_float', 0)) });
        else if (at.has('value_floats')) {
          const v = at.floats('value_floats');
          set(node, { kind: 'float', dims: [v.length], values: Float32Array.from(v) });
        } else if (at.has('value_int')) set(node, { kind: 'int', dims: [], values: [at.i('value_int', 0)] });
        else if (at.has('value_ints')) {
          const v = at.ints('value_ints');
          set(node, { kind: 'int', dims: [v.length], values: v });
        } else fail(node, 'a Constant without a value this reader understands (value, value_float(s), value_int(s))');
        break;
      }
      case 'Shape': {
        const a = act(node);
        const full: Dim[] = [BATCH, ...a.dims];
        const rank = full.length;
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
        const s = clamp(at.i('start', 0));
        const e = clamp(at.has('end') ? at.i('end', rank) : rank);
        set(node, { kind: 'int', dims: [Math.max(e - s, 0)], values: full.slice(s, e) });
        break;
      }
      case 'Gather': {
        const data = ints(node, 0)!;
        const idx = ints(node, 1)!;
        if (at.i('axis', 0) !== 0 || data.dims.length !== 1) fail(node, 'only gathering from a 1-D shape vector is supported (the shape arithmetic of x.view(x.size(0), -1))');
        const picked = idx.values.map((i) => {
          const k = typeof i === 'number' ? (i < 0 ? i + data.values.length : i) : NaN;
          if (!(k >= 0 && k < data.values.length)) fail(node, `index ${String(i)} is outside the shape vector of length ${data.values.length}`);
          return data.values[k];
        });
        set(node, { kind: 'int', dims: idx.dims, values: picked });
        break;
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const v = get(node, 0);
        if (!v || v.kind === 'act') fail(node, `${op} of the data (not of a shape) is not supported; use Flatten/Reshape to the batch and one feature dimension`);
        const axes = opset >= 13 ? (node.input[1] ? numbers(node, ints(node, 1)!) : []) : at.ints('axes');
        const c = v as IntValue | FloatValue;
        let dims = c.dims.slice();
        if (op === 'Unsqueeze') {
          const rank = dims.length + axes.length;
          for (const ax of axes.map((x) => (x < 0 ? x + rank : x)).sort((a, b) => a - b)) dims.splice(ax, 0, 1);
        } else {
          const rank = dims.length;
          const drop = new Set(axes.length ? axes.map((x) => (x < 0 ? x + rank : x)) : dims.map((d, i) => (d === 1 ? i : -1)));
          dims = dims.filter((_, i) => !drop.has(i));
        }
        set(node, { ...c, dims } as Value);
        break;
      }
      case 'Cast': {
        const v = get(node, 0)!;
        const to = at.i('to', 1);
        if (v.kind === 'act' && to !== 1 && to !== 10 && to !== 11) fail(node, `casting the data to ${typeName(to)} is not supported`);
        if (v.kind === 'int' && (to === 1 || to === 11 || to === 10)) set(node, { kind: 'float', dims: v.dims, values: Float32Array.from(v.values.map((x) => (typeof x === 'number' ? x : NaN))) });
        else set(node, v);
        break;
      }
      case 'Identity':
        set(node, get(node, 0)!);
        break;
      case 'Pad': {
        const v = get(node, 0)!;
        const pads = opset >= 11 ? (node.input[1] ? numbers(node, ints(node, 1)!) : []) : at.ints('pads');
        const mode = at.s('mode', 'constant');
        if (pads.every((p) => p === 0)) {
          set(node, v);
          break;
        }
        const fill = opset >= 11 ? (node.input[2] ? get(node, 2) : undefined) : undefined;
        const value = fill ? (fill.kind === 'float' || fill.kind === 'int' ? Number(fill.values[0]) : NaN) : at.f('value', 0);
        const a = v as ActValue;
        const [nb, cb, tb, lb, ne, ce, te, le] = pads.length === 8 ? pads : [NaN];
        if (v.kind !== 'act' || a.order !== 'chw' || a.dims.length !== 3 || a.pooled || mode !== 'constant' || value !== 0 || nb || cb || ne || ce || !(Math.min(tb, lb, te, le) >= 0))
          fail(node, `padding [${pads.join(', ')}] (${mode}${mode === 'constant' ? `, value ${value}` : ''}) is supported only as zero padding of an NCHW image's height and width before a Conv or AveragePool`);
        const prev = a.zeroPad ?? [0, 0, 0, 0];
        set(node, { ...a, zeroPad: [prev[0] + tb, prev[1] + te, prev[2] + lb, prev[3] + le], dims: [a.dims[0], a.dims[1] + tb + te, a.dims[2] + lb + le] });
        break;
      }
      case 'Transpose': {
        const v = get(node, 0)!;
        const perm = at.ints('perm');
        if (v.kind === 'float') {
          if (v.dims.length !== 2 || (perm.length && (perm[0] !== 1 || perm[1] !== 0))) fail(node, 'only 2-D weights can be transposed');
          set(node, { kind: 'float', dims: [v.dims[1], v.dims[0]], values: linearToKernel(v.values, [v.dims[0], v.dims[1]]), source: v.source });
          break;
        }
        if (v.kind === 'int') fail(node, 'transposing a shape vector is not supported');
        const a = v as ActValue;
        const p = perm.length ? perm : [...Array(a.dims.length + 1).keys()].reverse();
        if (p[0] !== 0) fail(node, `perm [${p.join(', ')}] moves the batch axis; only permutations that keep the batch first are supported`);
        if (p.every((x, i) => x === i)) set(node, a);
        else if (a.dims.length === 3 && a.order === 'chw' && p.join() === '0,2,3,1') set(node, { ...a, order: 'hwc', dims: [a.dims[1], a.dims[2], a.dims[0]] });
        else if (a.dims.length === 3 && a.order === 'hwc' && p.join() === '0,3,1,2') set(node, { ...a, order: 'chw', dims: [a.dims[2], a.dims[0], a.dims[1]] });
        else fail(node, `perm [${p.join(', ')}] on a tensor of shape [N, ${a.dims.join(', ')}] is not supported; only NCHW ↔ NHWC (perm [0, 2, 3, 1] / [0, 3, 1, 2]) can be followed`);
        break;
      }
      case 'Concat': {
        const vs = node.input.map((_, k) => get(node, k)!);
        if (vs.every((v) => v.kind === 'int')) {
          set(node, { kind: 'int', dims: [vs.reduce((a, v) => a + (v as IntValue).values.length, 0)], values: vs.flatMap((v) => (v as IntValue).values) });
          break;
        }
        if (!vs.every((v) => v.kind === 'act')) fail(node, 'concatenating the data with a constant is not supported');
        const as = vs as ActValue[];
        const rank = as[0].dims.length + 1;
        const axis = at.i('axis', 1) < 0 ? at.i('axis', 1) + rank : at.i('axis', 1);
        if (axis === 0) fail(node, 'concatenating along the batch axis is not supported');
        if (as.some((a) => a.order !== as[0].order || a.dims.length !== as[0].dims.length || a.pooled)) fail(node, 'its inputs have different layouts or ranks');
        const irAxis = irAxisOf(axis - 1, as[0]) + 1;
        const dims = as[0].dims.slice();
        dims[axis - 1] = as.reduce((s, a) => s + a.dims[axis - 1], 0);
        const name = addLayer(node, nodeBase(node, containers), { kind: 'concatenate', inbound: as.map((a) => a.layer), axis: irAxis } as never);
        set(node, { kind: 'act', layer: name, dims, order: as[0].order });
        break;
      }
      case 'Add': {
        const a = get(node, 0)!;
        const b = get(node, 1)!;
        if (a.kind === 'act' && b.kind === 'act') {
          if (a.dims.join() !== b.dims.join() || a.order !== b.order || !!a.pooled !== !!b.pooled)
            fail(node, `it adds tensors of shapes [N, ${a.dims.join(', ')}] and [N, ${b.dims.join(', ')}]; BatchNorm Lens adds tensors of equal shape only`);
          const name = addLayer(node, nodeBase(node, containers), { kind: 'add', inbound: [a.layer, b.layer] } as never);
          set(node, { ...a, layer: name, biasFor: undefined });
          break;
        }
        const [x, c] = a.kind === 'act' ? [a, b] : [b as ActValue, a];
        if (x.kind !== 'act' || c.kind !== 'float') fail(node, 'adding two constants or an integer tensor to the data is not supported');
        const fc = c as FloatValue;
        const dense = x.biasFor ? layers.find((l) => l.name === x.biasFor) : undefined;
        const width = x.dims[x.dims.length - 1];
        if (!dense || dense.kind !== 'dense' || prod(fc.dims) !== width || consumers.get(node.input[a.kind === 'act' ? 0 : 1]) !== 1)
          fail(node, 'adding a constant is supported only as the bias right after a MatMul (x @ W + b); fold other constants into the weights before exporting');
        (dense as { useBias: boolean }).useBias = true;
        addWeight(dense!.name, 'bias', [width], fc.values);
        set(node, { ...x, biasFor: undefined });
        break;
      }
      case 'Gemm': {
        const a = act(node, 0);
        if (at.i('transA', 0) !== 0) fail(node, 'transA = 1 would put the batch on the second axis of the data; export the layer as x @ Wᵀ (nn.Linear)');
        if (a.dims.length !== 1 || a.pooled) fail(node, `its input has shape [N, ${a.dims.join(', ')}]; flatten it to [N, features] before the Gemm`);
        const w = floats(node, 1, 'weight B');
        const transB = at.i('transB', 0) === 1;
        if (w.dims.length !== 2) fail(node, `weight B has shape [${w.dims.join(', ')}]; expected a matrix`);
        const [k, units] = transB ? [w.dims[1], w.dims[0]] : w.dims;
        if (k !== a.dims[0]) fail(node, `weight B has shape [${w.dims.join(', ')}] but its input has ${a.dims[0]} features`);
        const alpha = at.f('alpha', 1);
        const beta = at.f('beta', 1);
        // alpha·B and beta·C are the layer's weights: the same function, and the gradient is taken with respect to them.
        const kernel = scaled(transB ? linearToKernel(w.values, [w.dims[0], w.dims[1]]) : w.values, alpha);
        const c = node.input[2] ? floats(node, 2, 'bias C') : null;
        const name = addLayer(node, weightBase(node, w.source, containers), {
          kind: 'dense',
          inbound: [a.layer],
          units,
          useBias: !!c,
          activation: 'linear',
          ...init,
        } as never);
        addWeight(name, 'kernel', [k, units], kernel);
        if (c) addWeight(name, 'bias', [units], scaled(broadcastBias(node, c, units, fail), beta));
        if (w.source?.startsWith('onnx::')) foldedConv.push(name);
        set(node, { kind: 'act', layer: name, dims: [units], order: 'flat' });
        break;
      }
      case 'MatMul': {
        const a = act(node, 0);
        if (a.dims.length !== 1 || a.pooled) fail(node, `its input has shape [N, ${a.dims.join(', ')}]; only [N, features] @ W is supported (flatten first)`);
        const w = floats(node, 1, 'weight');
        if (w.dims.length !== 2 || w.dims[0] !== a.dims[0]) fail(node, `weight has shape [${w.dims.join(', ')}] but its input has ${a.dims[0]} features`);
        const name = addLayer(node, weightBase(node, w.source, containers), {
          kind: 'dense',
          inbound: [a.layer],
          units: w.dims[1],
          useBias: false,
          activation: 'linear',
          ...init,
        } as never);
        addWeight(name, 'kernel', w.dims, w.values);
        if (w.source?.startsWith('onnx::')) foldedConv.push(name);
        set(node, { kind: 'act', layer: name, dims: [w.dims[1]], order: 'flat', biasFor: name });
        break;
      }
      case 'Conv': {
        const a = act(node, 0);
        if (a.order !== 'chw' || a.dims.length !== 3 || a.pooled)
          fail(node, `its input has shape [N, ${a.dims.join(', ')}]${a.order === 'hwc' ? ' in NHWC order' : ''}; BatchNorm Lens supports 2-D convolutions of NCHW images`);
        const w = floats(node, 1, 'weight');
        if (w.dims.length !== 4) fail(node, `weight has shape [${w.dims.join(', ')}]; only 2-D convolutions (weight [out, in, kh, kw]) are supported`);
        const zp = a.zeroPad ?? [0, 0, 0, 0];
        // The engine's input is the unpadded tensor; its padding is the Pad's plus the Conv's own.
        const [C, H, W] = [a.dims[0], a.dims[1] - zp[0] - zp[1], a.dims[2] - zp[2] - zp[3]];
        const [O, I, kh, kw] = w.dims;
        // group > 1: grouped (and with group = channels, depthwise) convolution; the weight is [O, C/group, kh, kw].
        const group = at.i('group', 1);
        if (!(group >= 1) || C % group !== 0 || O % group !== 0) fail(node, `group = ${group} does not divide its ${C} input channels and ${O} output channels`);
        if (I * group !== C) fail(node, `weight has ${I} input channels per group but its input has ${C} channels in ${group} group${group > 1 ? 's' : ''}`);
        const strides = pairOf(at.ints('strides'), 1);
        const dil = pairOf(at.ints('dilations'), 1);
        if (strides.some((v) => v !== 1) && dil.some((v) => v !== 1))
          fail(node, `strides [${strides.join(', ')}] with dilations [${dil.join(', ')}]: the engine's convolution takes one or the other; use stride 1 for a dilated convolution`);
        const own = convPadding(node, at, [a.dims[1], a.dims[2]], [kh, kw], strides, dil, fail);
        if (own.padding === 'same' && a.zeroPad) fail(node, 'auto_pad SAME_UPPER after a Pad node is not supported; export with explicit pads');
        const { padding, pads } = a.zeroPad ? { padding: 'valid' as const, pads: sum4(own.pads ?? [0, 0, 0, 0], zp) } : own;
        const [pt, pb, pl, pr] = pads ?? [0, 0, 0, 0];
        const size = (n: number, k: number, s: number, d: number) => (padding === 'same' ? Math.ceil(n / s) : Math.floor((n - (k - 1) * d - 1) / s) + 1);
        const [oh, ow] = [size(H + pt + pb, kh, strides[0], dil[0]), size(W + pl + pr, kw, strides[1], dil[1])];
        if (!(oh > 0 && ow > 0)) fail(node, `its ${kh}×${kw} kernel does not fit the ${H}×${W} input with pads [${[pt, pl, pb, pr].join(', ')}]`);
        const c = node.input[2] ? floats(node, 2, 'bias') : null;
        const name = addLayer(node, weightBase(node, w.source, containers), {
          kind: 'conv2d',
          inbound: [a.layer],
          filters: O,
          kernelSize: [kh, kw],
          strides,
          padding,
          ...(pads ? { pads } : {}),
          ...(group > 1 ? { groups: group } : {}),
          dilation: dil,
          useBias: !!c,
          activation: 'linear',
          ...init,
        } as never);
        addWeight(name, 'kernel', [kh, kw, I, O], oihwToHwio(w.values, [O, I, kh, kw]));
        if (c) addWeight(name, 'bias', [O], broadcastBias(node, c, O, fail));
        if (w.source?.startsWith('onnx::')) foldedConv.push(name);
        set(node, { kind: 'act', layer: name, dims: [O, oh, ow], order: 'chw' });
        break;
      }
      case 'BatchNormalization': {
        const a = act(node, 0);
        if (!(a.order === 'chw' || (a.order === 'flat' && a.dims.length === 1)) || a.pooled)
          fail(node, `its input has shape [N, ${a.dims.join(', ')}]${a.order === 'hwc' ? ' in NHWC order' : ''}; BatchNorm Lens normalizes [N, C] features or NCHW images over their channels`);
        const C = a.dims[0];
        const roles = ['gamma', 'beta', 'moving_mean', 'moving_variance'] as const;
        const ps = roles.map((_role, k) => floats(node, k + 1, ['scale', 'bias B', 'mean', 'var'][k]));
        ps.forEach((p, k) => {
          if (prod(p.dims) !== C) fail(node, `its ${roles[k]} has ${prod(p.dims)} values but the input has ${C} channels`);
        });
        if (at.i('spatial', 1) !== 1) fail(node, 'spatial = 0 (per-position statistics) is not supported');
        extraOutputsUnused(node, 1);
        const name = addLayer(node, weightBase(node, ps[0].source, containers), {
          kind: 'batchnorm',
          inbound: [a.layer],
          axis: -1,
          epsilon: at.f('epsilon', 1e-5),
          momentum: at.f('momentum', 0.9),
          center: true,
          scale: true,
          ...(fw.unbiasedMovingVariance ? { unbiasedMovingVariance: true } : {}),
        } as never);
        roles.forEach((r, k) => addWeight(name, r, [C], ps[k].values));
        set(node, { ...a, layer: name, biasFor: undefined });
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Elu':
      case 'LeakyRelu': {
        const a = act(node, 0);
        const fn: Activation = op === 'Relu' ? 'relu' : op === 'Sigmoid' ? 'sigmoid' : op === 'Tanh' ? 'tanh' : op === 'Elu' ? 'elu' : 'leaky_relu';
        if (op === 'Elu' && Math.abs(at.f('alpha', 1) - 1) > 1e-6) fail(node, `alpha = ${at.f('alpha', 1)}; the engine's ELU has alpha = 1`);
        const extra = op === 'LeakyRelu' ? { alpha: at.f('alpha', 0.01) } : {};
        set(node, simple(node, a, { kind: 'activation', activation: fn, ...extra }));
        break;
      }
      case 'Softmax':
      case 'LogSoftmax': {
        const a = act(node, 0);
        const isOutput = outputName === node.output[0];
        if (!isOutput) fail(node, `${op} is supported only as the network's last operation (its input is then used as the logits of softmax cross-entropy)`);
        const rank = a.dims.length + 1;
        const axis = at.i('axis', opset >= 13 ? -1 : 1);
        if (a.dims.length !== 1 || (axis !== -1 && axis !== rank - 1)) fail(node, `axis ${axis} on shape [N, ${a.dims.join(', ')}]; the output must be [N, classes] with ${op} over the classes`);
        // LogSoftmax is treated as softmax: with softmax cross-entropy both hand their input over as the logits.
        set(node, simple(node, a, { kind: 'activation', activation: 'softmax' }));
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const a = act(node, 0);
        if (a.order !== 'chw' || a.dims.length !== 3 || a.pooled) fail(node, `its input has shape [N, ${a.dims.join(', ')}]; pooling of NCHW images only`);
        const k = pairOf(at.ints('kernel_shape'), 0);
        const s = pairOf(at.ints('strides'), 1);
        if (pairOf(at.ints('dilations'), 1).some((d) => d !== 1)) fail(node, 'dilated pooling is not supported');
        if (op === 'MaxPool') extraOutputsUnused(node, 1);
        const zp = a.zeroPad ?? [0, 0, 0, 0];
        const [C, H, W] = [a.dims[0], a.dims[1] - zp[0] - zp[1], a.dims[2] - zp[2] - zp[3]];
        const own = poolPads(node, at, [a.dims[1], a.dims[2]], k, s, fail);
        const countIncludePad = op === 'AveragePool' && at.i('count_include_pad', 0) === 1;
        // A Pad before an AveragePool is PyTorch's count_include_pad=True: its zeros are averaged in.
        if (a.zeroPad && own.some((p) => p !== 0) && !countIncludePad) fail(node, 'a Pad before an AveragePool that pads again without counting its zeros (count_include_pad = 0); export with one of them');
        const pads = sum4(own, zp);
        const out = simple(
          node,
          { ...a, zeroPad: undefined },
          {
            kind: 'pool',
            op: op === 'MaxPool' ? 'max' : 'avg',
            poolSize: k,
            strides: s,
            padding: 'valid',
            ...(pads.some((p) => p !== 0) ? { pads, ...(op === 'AveragePool' ? { countIncludePad: countIncludePad || !!a.zeroPad } : {}) } : {}),
          },
        );
        const size = (n: number, kk: number, ss: number) => Math.floor((n - kk) / ss) + 1;
        const [oh, ow] = [size(H + pads[0] + pads[1], k[0], s[0]), size(W + pads[2] + pads[3], k[1], s[1])];
        if (!(oh > 0 && ow > 0)) fail(node, `its ${k.join('×')} window does not fit the ${H}×${W} input with pads [${pads.join(', ')}]`);
        set(node, { ...out, dims: [C, oh, ow] });
        break;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const a = act(node, 0);
        if (a.order !== 'chw' || a.dims.length !== 3 || a.pooled) fail(node, `its input has shape [N, ${a.dims.join(', ')}]; pooling of NCHW images only`);
        const out = simple(node, a, { kind: 'globalpool', op: op === 'GlobalMaxPool' ? 'max' : 'avg' });
        set(node, { ...out, dims: [a.dims[0], 1, 1], pooled: true });
        break;
      }
      case 'Flatten': {
        const a = act(node, 0);
        const axis = at.i('axis', 1);
        if (axis !== 1 && axis !== -a.dims.length) fail(node, `axis = ${axis}; only flattening everything but the batch (axis = 1) is supported`);
        set(node, flatten(node, a));
        break;
      }
      case 'Reshape': {
        const a = act(node, 0);
        const shape = ints(node, 1);
        if (!shape) fail(node, 'its target shape is missing');
        const tail = shape!.values.slice(1).filter((t): t is number => typeof t === 'number' && t > 0);
        const target = shape!.values.map((d, i) => {
          if (d === BATCH) return i === 0 ? BATCH : fail(node, 'the batch size moves to another axis');
          // [-1, features…] (tf2onnx, Keras): the batch is inferred, so it stays the batch when the other
          // dims hold exactly one example.
          if (i === 0 && d === -1 && tail.length && tail.length === shape!.values.length - 1) {
            if (prod(tail) === prod(a.dims)) return BATCH;
            fail(node, `target shape [${shape!.values.join(', ')}] regroups the batch (one example has ${prod(a.dims)} values [${a.dims.join(', ')}], not ${prod(tail)}); reshape to [-1, ${prod(a.dims)}] or [N, -1]`);
          }
          if (d === 0 && at.i('allowzero', 0) === 0) return i === 0 ? BATCH : a.dims[i - 1];
          if (i === 0 && exportBatch !== null && d === exportBatch) return BATCH; // the batch size traced into a constant
          return d;
        });
        if (target[0] !== BATCH) fail(node, `target shape [${shape!.values.join(', ')}] does not keep the batch first; write the view as x.view(x.size(0), -1) (or torch.flatten(x, 1))`);
        const rest = target.slice(1) as number[];
        const total = prod(a.dims);
        const known = prod(rest.filter((d) => d !== -1));
        const resolved = rest.map((d) => (d === -1 ? total / known : d));
        if (prod(resolved) !== total) fail(node, `it cannot reshape [N, ${a.dims.join(', ')}] to [N, ${rest.join(', ')}]`);
        if (resolved.length === 1) set(node, flatten(node, a));
        else if (resolved.join() === a.dims.join()) set(node, a);
        else fail(node, `reshaping [N, ${a.dims.join(', ')}] to [N, ${resolved.join(', ')}] is not supported; only flattening to [N, features] is`);
        break;
      }
      case 'Dropout': {
        const a = act(node, 0);
        extraOutputsUnused(node, 1);
        const ratio = node.input[1] ? (get(node, 1) as FloatValue | undefined)?.values?.[0] : at.f('ratio', 0.5);
        set(node, simple(node, a, { kind: 'dropout', rate: Number(ratio ?? 0.5) }));
        break;
      }
      default:
        fail(node, `operator ${op} is not supported; supported: ${SUPPORTED.join(', ')}`);
    }
  }

  /** Flatten to [N, features]: NCHW images in channel-first order, as PyTorch does. */
  function flatten(node: onnx.NodeProto, a: ActValue): ActValue {
    if (a.pooled) return { ...a, dims: [a.dims[0]], pooled: false, order: 'flat' };
    if (a.dims.length === 1) return a;
    const name = addLayer(node, nodeBase(node, containers), { kind: 'flatten', inbound: [a.layer], ...(a.order === 'chw' ? { channelsFirst: true } : {}) } as never);
    return { kind: 'act', layer: name, dims: [prod(a.dims)], order: 'flat' };
  }

  const out = values.get(outputName);
  if (!out || out.kind !== 'act') fail(null, `output "${outputName}" is not computed from the input`);
  if (foldedConv.length)
    notes.push(
      `the file's BatchNorm layers were folded away by the export (eval mode: the weights of ${foldedConv.map((n) => `"${n}"`).join(', ')} are unnamed onnx:: constants); ` +
        'the variants are derived from the folded network — to keep BatchNorm, export with ' +
        'torch.onnx.export(..., training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)',
    );
  const total = weightData.reduce((s, v) => s + v.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const v of weightData) {
    data.set(v, off);
    off += v.length;
  }
  const layout = inputOrder === 'hwc' ? 'NHWC' : 'NCHW';
  return { layers, output: (out as ActValue).layer, weights: { specs: weightSpecs, data: data.buffer }, notes, origin, onnxShapes, layout };
}

function unique(base: string, used: Set<string>): string {
  let name = base || 'layer';
  for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
  used.add(name);
  return name;
}

/** A layer named after its weight as the state_dict has it (`conv1.weight` → `conv1`), else after its node. */
function weightBase(node: onnx.NodeProto, source: string | undefined, containers: Set<string>): string {
  if (source && !source.startsWith('onnx::')) return source.replace(/\.(weight|kernel)$/, '');
  return nodeBase(node, containers);
}

/**
 * Module paths that contain other modules (`block` in `/block/conv1/Conv`): a node directly under one of them
 * is a functional call inside its forward(), not the module itself.
 */
function containerPaths(nodes: onnx.NodeProto[]): Set<string> {
  const out = new Set<string>();
  for (const n of nodes) {
    const parts = (n.name ?? '').split('/').filter(Boolean);
    for (let j = 1; j <= parts.length - 2; j++) out.add(parts.slice(0, j).join('.'));
  }
  return out;
}

/** `/conv1/Conv` → `conv1`, `/2/Relu` → `2` (the module is the op); `/block/Relu` → `block.Relu`; unnamed → the op type. */
function nodeBase(node: onnx.NodeProto, containers: Set<string>): string {
  const parts = (node.name ?? '').split('/').filter(Boolean);
  if (parts.length === 0) return node.opType ?? 'node';
  const full = parts.join('.');
  if (parts.length > 1 && parts[parts.length - 1] === node.opType) {
    const module = parts.slice(0, -1).join('.');
    if (!containers.has(module)) return module;
  }
  return full;
}

function irDims(dims: number[], order: ActValue['order']): number[] {
  return order === 'chw' && dims.length === 3 ? [dims[1], dims[2], dims[0]] : dims.slice();
}

/** ONNX axis (without batch) → IR axis (without batch). */
function irAxisOf(axis: number, a: ActValue): number {
  if (a.order === 'chw' && a.dims.length === 3) return [2, 0, 1][axis];
  return axis;
}

function scaled(v: Float32Array, s: number): Float32Array {
  return s === 1 ? v : Float32Array.from(v, (x) => x * s);
}

function broadcastBias(node: onnx.NodeProto, c: FloatValue, units: number, fail: (n: onnx.NodeProto, m: string) => never): Float32Array {
  const n = prod(c.dims);
  if (n === units) return c.values;
  if (n === 1) return new Float32Array(units).fill(c.values[0]);
  return fail(node, `bias has shape [${c.dims.join(', ')}]; expected ${units} values (one per output)`);
}

function numbers(node: onnx.NodeProto, v: IntValue): number[] {
  return v.values.map((x) => {
    if (typeof x !== 'number') throw new UserError(`node "${node.name}" (${node.opType}): an axis depends on the batch size`);
    return x;
  });
}

function pairOf(v: number[], dflt: number): [number, number] {
  if (v.length === 0) return [dflt, dflt];
  if (v.length !== 2) return [NaN, NaN];
  return [v[0], v[1]];
}

/**
 * A convolution's ONNX pads (or auto_pad) as the engine's: 'valid' without padding, 'same' for SAME_UPPER
 * (TensorFlow's 'same'), otherwise the explicit zero padding [top, bottom, left, right] PyTorch applied —
 * asymmetric included, so the output is PyTorch's whatever the input size and stride.
 */
function convPadding(
  node: onnx.NodeProto,
  at: Attrs,
  [H, W]: number[],
  k: number[],
  s: number[],
  d: number[],
  fail: (n: onnx.NodeProto, m: string) => never,
): { padding: Padding; pads?: [number, number, number, number] } {
  if ([...k, ...s, ...d].some((x) => !(x > 0))) fail(node, 'only 2-D windows (kernel_shape, strides, dilations of length 2) are supported');
  const auto = at.s('auto_pad', 'NOTSET');
  if (auto === 'VALID') return { padding: 'valid' };
  if (auto === 'SAME_UPPER') return { padding: 'same' };
  let pads: [number, number, number, number];
  if (auto === 'SAME_LOWER') {
    // The extra cell of an odd total goes first (top/left), where TensorFlow's 'same' puts it last.
    const lower = (n: number, kk: number, ss: number, dd: number) => {
      const total = Math.max((Math.ceil(n / ss) - 1) * ss + (kk - 1) * dd + 1 - n, 0);
      return [total - Math.floor(total / 2), Math.floor(total / 2)];
    };
    pads = [...lower(H, k[0], s[0], d[0]), ...lower(W, k[1], s[1], d[1])] as [number, number, number, number];
  } else {
    const p = at.ints('pads');
    if (p.length !== 0 && p.length !== 4) fail(node, `pads [${p.join(', ')}]: expected 4 values for a 2-D convolution`);
    if (p.some((x) => x < 0)) fail(node, `pads [${p.join(', ')}] crop the input; export without negative padding`);
    const [t, l, b, r] = p.length === 4 ? p : [0, 0, 0, 0];
    pads = [t, b, l, r];
  }
  return pads.every((x) => x === 0) ? { padding: 'valid' } : { padding: 'valid', pads };
}

/**
 * A pool's padding [top, bottom, left, right] as PyTorch applies it: the ONNX pads (or auto_pad), plus with
 * ceil_mode = 1 the cells after the end that PyTorch's last, partial window reaches (a window starting in the
 * right padding is dropped). Max pooling never picks padding, so that is exact; average pooling with a
 * partial last window would divide by a count the engine does not compute, and is refused.
 */
function poolPads(node: onnx.NodeProto, at: Attrs, [H, W]: number[], k: number[], s: number[], fail: (n: onnx.NodeProto, m: string) => never): [number, number, number, number] {
  if ([...k, ...s].some((x) => !(x > 0))) fail(node, 'only 2-D windows (kernel_shape and strides of length 2) are supported');
  const auto = at.s('auto_pad', 'NOTSET');
  const same = (n: number, kk: number, ss: number, lower: boolean) => {
    const total = Math.max((Math.ceil(n / ss) - 1) * ss + kk - n, 0);
    const small = Math.floor(total / 2);
    return lower ? [total - small, small] : [small, total - small];
  };
  let pads: [number, number, number, number];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const lower = auto === 'SAME_LOWER';
    pads = [...same(H, k[0], s[0], lower), ...same(W, k[1], s[1], lower)] as [number, number, number, number];
  } else if (auto === 'VALID') pads = [0, 0, 0, 0];
  else {
    const p = at.ints('pads');
    if (p.length !== 0 && p.length !== 4) fail(node, `pads [${p.join(', ')}]: expected 4 values for 2-D pooling`);
    if (p.some((x) => x < 0)) fail(node, `pads [${p.join(', ')}] crop the input; export without negative padding`);
    const [t, l, b, r] = p.length === 4 ? p : [0, 0, 0, 0];
    pads = [t, b, l, r];
  }
  if (at.i('ceil_mode', 0) !== 1) return pads;
  const extra = (n: number, kk: number, ss: number, before: number, after: number) => {
    let out = Math.ceil((n + before + after - kk) / ss) + 1;
    if ((out - 1) * ss >= n + before) out--;
    return Math.max((out - 1) * ss + kk - (n + before + after), 0);
  };
  const eh = extra(H, k[0], s[0], pads[0], pads[1]);
  const ew = extra(W, k[1], s[1], pads[2], pads[3]);
  if ((eh || ew) && node.opType !== 'MaxPool')
    fail(node, `ceil_mode = 1 adds a partial last window on this ${H}×${W} input, which average pooling divides by a count the engine does not compute; use ceil_mode = 0 (PyTorch's default)`);
  return [pads[0], pads[1] + eh, pads[2], pads[3] + ew];
}

function sum4(a: [number, number, number, number], b: [number, number, number, number]): [number, number, number, number] {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}

interface Attrs {
  has(name: string): boolean;
  i(name: string, dflt: number): number;
  f(name: string, dflt: number): number;
  s(name: string, dflt: string): string;
  ints(name: string): number[];
  floats(name: string): number[];
  t(name: string): onnx.ITensorProto | null;
}

function attrs(node: onnx.NodeProto): Attrs {
  const by = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  return {
    has: (n) => by.has(n),
    i: (n, d) => (by.has(n) ? Number(by.get(n)!.i ?? d) : d),
    f: (n, d) => (by.has(n) ? Number(by.get(n)!.f ?? d) : d),
    s: (n, d) => (by.has(n) && by.get(n)!.s ? Buffer.from(by.get(n)!.s!).toString('utf8') : d),
    ints: (n) => (by.get(n)?.ints ?? []).map(Number),
    floats: (n) => (by.get(n)?.floats ?? []).map(Number),
    t: (n) => by.get(n)?.t ?? null,
  };
}

/**
 * Nodes in the graph's topological order: the file's own order where it is one (exporters write nodes in
 * the order the forward pass ran), repaired where a file lists a node before its inputs.
 */
function topoOrder(graph: onnx.GraphProto, known: Map<string, Value>, fail: (n: onnx.NodeProto | null, m: string) => never): onnx.NodeProto[] {
  const nodes = graph.node as onnx.NodeProto[];
  const producer = new Map<string, number>();
  nodes.forEach((n, k) => n.output?.forEach((o) => o && producer.set(o, k)));
  const state = new Array<number>(nodes.length).fill(0);
  const out: onnx.NodeProto[] = [];
  const visit = (k: number) => {
    if (state[k] === 2) return;
    if (state[k] === 1) fail(nodes[k], 'the graph has a cycle through this node');
    state[k] = 1;
    for (const i of nodes[k].input ?? []) {
      if (!i || known.has(i)) continue;
      const p = producer.get(i);
      if (p !== undefined) visit(p);
    }
    state[k] = 2;
    out.push(nodes[k]);
  };
  nodes.forEach((_, k) => visit(k));
  return out;
}
