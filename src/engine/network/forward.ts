// The forward pass of a NetworkSpec as TensorFlow.js ops on an explicit list of parameter tensors, so that
// gradients, shifted weights (x − η·g) and per-layer substitutions are all plain function calls.

import type * as tfc from '@tensorflow/tfjs-core';
import type { LossName } from '../../protocol';
import type { Activation, LayerNode } from './ir';
import type { ShapeInfo } from './shapes';
import { paramKey } from './load';

export type TF = typeof tfc;
export type Tensor = tfc.Tensor;

export interface NoiseTensors {
  /** s_{i,j} and m_{i,j} of Santurkar et al. Algorithm 1, shaped like the layer's output. */
  scale: Tensor;
  shift: Tensor;
}

export interface ForwardOptions {
  /** Batch statistics (training mode) when true; moving statistics (inference) when false. */
  training: boolean;
  noise?: Map<string, NoiseTensors>;
  moving?: Map<string, { mean: Tensor; variance: Tensor }>;
  /** Called with every layer's output (for activation statistics). */
  onActivation?: (layer: string, out: Tensor) => void;
  /**
   * Twice differentiable: BatchNorm op by op instead of through its closed-form gradient, whose saved x̂
   * and 1/σ a second derivative would treat as constants (for Hessian-vector products).
   */
  secondOrder?: boolean;
  /** Called with the batch mean and variance of every BatchNorm layer in training mode. */
  onBatchStats?: (layer: string, mean: Tensor, variance: Tensor) => void;
  /** The first Dense layer's pre-activation x·W + b given as a tensor (see ForwardModel.firstDense). */
  preActivation?: { layer: string; z: Tensor };
  /**
   * Several weight sets at once (ForwardModel.stackable): the pre-activation and every parameter after the
   * first Dense layer carry a leading axis of this length, and so does every activation from there on.
   */
  stacked?: number;
}

/** The network's first layer with parameters, when it is a Dense layer fed by parameter-free layers only. */
export interface FirstDense {
  layer: string;
  /** The layer whose output is the Dense layer's input. */
  input: string;
  kernel: number;
  bias: number | null;
  /** Every other parameter's index, in model order. */
  others: number[];
}

export class ForwardModel {
  readonly paramIndex = new Map<string, number>();
  /** For every parameter, the position of its layer in model order. */
  readonly paramLayerPos: number[];
  readonly layerPos = new Map<string, number>();
  /** Whether the last layer's softmax is left out so the output is logits (softmax cross-entropy). */
  readonly softmaxDropped: boolean;
  /** Whether the last layer's sigmoid is left out so the output is a logit (binary cross-entropy). */
  readonly sigmoidDropped: boolean;
  /**
   * The first Dense layer when nothing before it has parameters: its input X is then the same at every
   * weight set, so X·(W − η·g) = X·W − η·(X·g), and the probes can work with its pre-activation.
   */
  readonly firstDense: FirstDense | null;
  /** Whether the layers after the first Dense layer can run on stacked weight sets (ForwardOptions.stacked). */
  readonly stackable: boolean;

  constructor(
    readonly layers: LayerNode[],
    readonly output: string,
    readonly info: ShapeInfo,
    /** true / 'softmax-ce': drop a final softmax; 'binary-ce': drop a final sigmoid; false / 'mse': keep it. */
    logits: boolean | LossName,
  ) {
    layers.forEach((l, i) => this.layerPos.set(l.name, i));
    info.params.forEach((p, i) => this.paramIndex.set(paramKey(p.layer, p.role), i));
    this.paramLayerPos = info.params.map((p) => this.layerPos.get(p.layer)!);
    const last = layers.find((l) => l.name === output)!;
    this.softmaxDropped = (logits === true || logits === 'softmax-ce') && endsInSoftmax(last);
    this.sigmoidDropped = logits === 'binary-ce' && endsIn(last, 'sigmoid');
    this.firstDense = findFirstDense(layers, info, this.paramIndex);
    this.stackable = this.firstDense !== null && stacksAfter(layers, this.firstDense.layer);
  }

  forward(tf: TF, params: Tensor[], x: Tensor, opts: ForwardOptions): Tensor {
    return this.run(tf, params, x, opts, null);
  }

  /**
   * Whether `sets` weight sets can run stacked (ForwardOptions.stacked) with options `opts` on a batch of `n`
   * within a memory bound: the parameters after the first Dense layer and the activations from it on,
   * `copies` times each (a gradient needs its differences and the backward pass's tensors too; a forward pass
   * fewer). Per-layer callbacks and second-order tapes see one weight set at a time, so they do not stack.
   */
  stacksWithin(opts: ForwardOptions, params: Tensor[], n: number, sets: number, copies: number, bytes = STACK_BYTES): boolean {
    const fd = this.firstDense;
    if (!this.stackable || !fd || opts.onActivation || opts.onBatchStats || opts.secondOrder) return false;
    const weights = params.reduce((a, p, i) => (i === fd.kernel || i === fd.bias ? a : a + p.size), 0);
    const activations = this.layers.reduce((a, l) => a + n * (this.info.shapes.get(l.name)?.reduce((x, y) => x * y, 1) ?? 0), 0);
    return sets * 4 * copies * (weights + activations) <= bytes;
  }

  /** The first Dense layer's input X for the batch `x` (parameter-free layers only, so no parameters needed). */
  firstDenseInput(tf: TF, x: Tensor, opts: ForwardOptions): Tensor {
    const f = this.firstDense;
    if (!f) throw new Error('the network does not start with a Dense layer');
    return this.run(tf, [], x, { ...opts, onActivation: undefined, onBatchStats: undefined }, f.input);
  }

  private run(tf: TF, params: Tensor[], x: Tensor, opts: ForwardOptions, stopAt: string | null): Tensor {
    const values = new Map<string, Tensor>();
    const p = (layer: string, role: string) => {
      const i = this.paramIndex.get(paramKey(layer, role));
      return i === undefined ? undefined : params[i];
    };
    for (const l of this.layers) {
      const ins = l.inbound.map((n) => values.get(n)!);
      if (l.kind === 'dense' && opts.preActivation?.layer === l.name) {
        const y = activate(tf, opts.preActivation.z, l.name === this.output && (this.softmaxDropped || this.sigmoidDropped) ? 'linear' : l.activation);
        opts.onActivation?.(l.name, y);
        values.set(l.name, y);
        if (l.name === this.output) return y;
        continue;
      }
      const isOut = l.name === this.output;
      const y = this.layer(tf, l, ins, x, p, opts, isOut && (this.softmaxDropped || this.sigmoidDropped));
      if (opts.onActivation && l.kind !== 'input') opts.onActivation(l.name, y);
      values.set(l.name, y);
      if (l.name === stopAt) return y;
      if (isOut) return y;
    }
    return values.get(this.output)!;
  }

  private layer(tf: TF, l: LayerNode, ins: Tensor[], input: Tensor, p: (layer: string, role: string) => Tensor | undefined, opts: ForwardOptions, dropSoftmax: boolean): Tensor {
    const x = ins[0];
    switch (l.kind) {
      case 'input':
        return input;
      case 'dense': {
        let y = tf.matMul(x as tfc.Tensor2D, p(l.name, 'kernel') as tfc.Tensor2D) as Tensor;
        const b = p(l.name, 'bias');
        if (b) y = tf.add(y, perSet(tf, b, opts));
        return activate(tf, y, dropSoftmax && (l.activation === 'softmax' || l.activation === 'sigmoid') ? 'linear' : l.activation);
      }
      case 'conv2d':
      case 'depthwise':
      case 'separable': {
        const k = p(l.name, 'kernel') as tfc.Tensor4D;
        const x4 = x as tfc.Tensor4D;
        const pad =
          l.kind === 'conv2d' && l.pads
            ? ([
                [0, 0],
                [l.pads[0], l.pads[1]],
                [l.pads[2], l.pads[3]],
                [0, 0],
              ] as tfc.backend_util.ExplicitPadding)
            : l.padding;
        let y: Tensor;
        if (l.kind === 'conv2d') y = (l.groups ?? 1) > 1 ? groupedConv(tf, x4, k, l.groups!, l.strides, pad, l.dilation) : tf.conv2d(x4, k, l.strides, pad, 'NHWC', l.dilation);
        else {
          y = tf.depthwiseConv2d(x4, k, l.strides, l.padding, 'NHWC', l.dilation);
          if (l.kind === 'separable') y = tf.conv2d(y as tfc.Tensor4D, p(l.name, 'pointwise') as tfc.Tensor4D, 1, 'valid');
        }
        const b = p(l.name, 'bias');
        if (b) y = tf.add(y, b);
        return activate(tf, y, dropSoftmax && (l.activation === 'softmax' || l.activation === 'sigmoid') ? 'linear' : l.activation);
      }
      case 'zeropad': {
        const [[t, b], [le, r]] = l.padding;
        return tf.pad(x, [
          [0, 0],
          [t, b],
          [le, r],
          [0, 0],
        ]);
      }
      case 'crop': {
        const [, h, w, c] = x.shape;
        const [[t, b], [le, r]] = l.cropping;
        return tf.slice(x, [0, t, le, 0], [x.shape[0], h - t - b, w - le - r, c]);
      }
      case 'upsample': {
        // Nearest neighbour: every pixel repeated a×b times, as a broadcast (its gradient sums the copies).
        const [n, h, w, c] = x.shape;
        const [a, b] = l.size;
        const spread = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, a, 1, b, 1]));
        return tf.reshape(spread, [n, h * a, w * b, c]);
      }
      case 'rescale':
        return tf.add(tf.mul(x, l.scale), l.offset);
      case 'normalize': {
        // Keras: (x − mean) / max(√variance, 1e-7), mean and variance fixed (from adapt()).
        const c = x.shape[x.shape.length - 1];
        const full = (v: number[]) => (v.length === 1 ? new Array<number>(c).fill(v[0]) : v);
        const mean = tf.tensor1d(full(l.mean!));
        const std = tf.tensor1d(full(l.variance!).map((v) => Math.max(Math.sqrt(v), 1e-7)));
        return tf.div(tf.sub(x, mean), std);
      }
      case 'batchnorm': {
        const axes = batchAxes(x, opts);
        const keep = opts.stacked !== undefined;
        const gammaT = p(l.name, 'gamma');
        const betaT = p(l.name, 'beta');
        if ((opts.training || !opts.moving?.has(l.name)) && gammaT && betaT && !opts.secondOrder) {
          const stats = opts.onBatchStats ? (m: Tensor, v: Tensor) => opts.onBatchStats!(l.name, m, v) : undefined;
          const y = batchNormTraining(tf, x, perSet(tf, gammaT, opts), perSet(tf, betaT, opts), l.epsilon, axes, stats, keep);
          const noise = opts.noise?.get(l.name);
          return noise ? tf.add(tf.mul(y, noise.scale), noise.shift) : y;
        }
        let mean: Tensor;
        let variance: Tensor;
        if (opts.training || !opts.moving?.has(l.name)) {
          mean = tf.mean(x, axes, keep);
          variance = tf.mean(tf.square(tf.sub(x, mean)), axes, keep);
          opts.onBatchStats?.(l.name, mean, variance);
        } else {
          ({ mean, variance } = opts.moving.get(l.name)!);
        }
        let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, l.epsilon)));
        const gamma = p(l.name, 'gamma');
        const beta = p(l.name, 'beta');
        if (gamma) y = tf.mul(y, perSet(tf, gamma, opts));
        if (beta) y = tf.add(y, perSet(tf, beta, opts));
        const noise = opts.noise?.get(l.name);
        if (noise) y = tf.add(tf.mul(y, noise.scale), noise.shift);
        return y;
      }
      case 'lpnorm': {
        const axes = batchAxes(x, opts);
        const keep = opts.stacked !== undefined;
        const mean = tf.mean(x, axes, keep);
        const ax = tf.abs(x);
        const norm = l.p === 1 ? tf.mean(ax, axes, keep) : l.p === 2 ? tf.sqrt(tf.mean(tf.square(x), axes, keep)) : tf.max(ax, axes, keep);
        let y = tf.div(tf.sub(x, mean), tf.add(norm, l.epsilon));
        const gamma = p(l.name, 'gamma');
        const beta = p(l.name, 'beta');
        if (gamma) y = tf.mul(y, perSet(tf, gamma, opts));
        if (beta) y = tf.add(y, perSet(tf, beta, opts));
        return y;
      }
      case 'activation':
        return activate(tf, x, dropSoftmax && (l.activation === 'softmax' || l.activation === 'sigmoid') ? 'linear' : l.activation, l.alpha);
      case 'relu': {
        if (l.threshold === 0 && l.negativeSlope === 0 && l.maxValue === null) return tf.relu(x);
        let y: Tensor;
        if (l.threshold === 0) y = l.negativeSlope === 0 ? tf.relu(x) : tf.leakyRelu(x, l.negativeSlope);
        else {
          const below = tf.mul(tf.sub(x, l.threshold), l.negativeSlope);
          y = tf.where(tf.greaterEqual(x, l.threshold), x, below);
        }
        return l.maxValue === null ? y : tf.minimum(y, l.maxValue);
      }
      case 'pool':
        if (l.pads) return padPool(tf, x as tfc.Tensor4D, l);
        if (l.op === 'max') return tf.maxPool(x as tfc.Tensor4D, l.poolSize, l.strides, l.padding);
        return l.padding === 'same' ? avgPoolSame(tf, x as tfc.Tensor4D, l.poolSize, l.strides) : tf.avgPool(x as tfc.Tensor4D, l.poolSize, l.strides, 'valid');
      case 'globalpool':
        return l.op === 'max' ? tf.max(x, [1, 2]) : tf.mean(x, [1, 2]);
      case 'flatten':
        if (l.channelsFirst && x.rank === 4) return tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], -1]);
        return tf.reshape(x, [x.shape[0], -1]);
      case 'reshape':
        return tf.reshape(x, [x.shape[0], ...l.targetShape]);
      case 'dropout':
        // Identity: random masks would make L(x − η·g) differ from call to call within one step.
        return x;
      case 'add':
        return tf.addN(ins);
      case 'concatenate': {
        const rank = x.shape.length;
        return tf.concat(ins, l.axis < 0 ? rank + l.axis : l.axis);
      }
    }
  }
}

/** The axes a normalization layer averages over: the batch (and the space), not the weight sets or channels. */
function batchAxes(x: Tensor, opts: ForwardOptions): number[] {
  return x.shape.map((_, i) => i).slice(opts.stacked === undefined ? 0 : 1, -1);
}

/** A per-channel parameter [E, C] of stacked weight sets as [E, 1, C], to broadcast over the batch. */
function perSet(tf: TF, t: Tensor, opts: ForwardOptions): Tensor {
  return opts.stacked === undefined ? t : tf.reshape(t, [t.shape[0], 1, ...t.shape.slice(1)]);
}

/** Stacked weight sets cost their number times the memory of one evaluation; keep that bounded. */
const STACK_BYTES = 512 * 2 ** 20;

/** Layers that work on stacked weight sets unchanged or through perSet / batchAxes. */
const STACKABLE = new Set<LayerNode['kind']>(['dense', 'batchnorm', 'lpnorm', 'activation', 'relu', 'dropout', 'add']);

/** Whether every layer after `first` is STACKABLE and reads only values computed from `first` on. */
function stacksAfter(layers: LayerNode[], first: string): boolean {
  const at = layers.findIndex((l) => l.name === first);
  const after = new Set([first]);
  for (const l of layers.slice(at + 1)) {
    if (!STACKABLE.has(l.kind) || !l.inbound.every((n) => after.has(n))) return false;
    after.add(l.name);
  }
  return true;
}

function findFirstDense(layers: LayerNode[], info: ShapeInfo, paramIndex: Map<string, number>): FirstDense | null {
  const owners = new Set(info.params.map((p) => p.layer));
  const l = layers.find((n) => owners.has(n.name));
  const kernel = l && paramIndex.get(paramKey(l.name, 'kernel'));
  if (!l || l.kind !== 'dense' || kernel === undefined || l.inbound.length !== 1) return null;
  const bias = paramIndex.get(paramKey(l.name, 'bias')) ?? null;
  return { layer: l.name, input: l.inbound[0], kernel, bias, others: info.params.map((_, i) => i).filter((i) => i !== kernel && i !== bias) };
}

/**
 * BatchNorm in training mode with its gradient in closed form (the x̂-form of Ioffe & Szegedy):
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/σ · (dy − dβ/m − x̂·dγ/m)
 * Same math as differentiating the ops one by one, in a third of the operations: on the embedded backend
 * each operation has a fixed cost, and BatchNorm networks are made of many small ones.
 */
function batchNormTraining(tf: TF, x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, axes: number[], onStats?: (mean: Tensor, variance: Tensor) => void, keepDims = false): Tensor {
  const m = axes.reduce((a, ax) => a * x.shape[ax], 1);
  const f = tf.customGrad((...args: unknown[]) => {
    const [xIn, g, b] = args as Tensor[];
    const save = args[3] as (ts: Tensor[]) => void;
    const mean = tf.mean(xIn, axes, keepDims);
    const xc = tf.sub(xIn, mean);
    const variance = tf.mean(tf.square(xc), axes, keepDims);
    const inv = tf.rsqrt(tf.add(variance, epsilon));
    const xh = tf.mul(xc, inv);
    onStats?.(mean, variance);
    save([xh, inv, g]);
    return {
      value: tf.add(tf.mul(xh, g), b),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sxh, sinv, sg] = saved;
        const dbeta = tf.sum(dy, axes, keepDims);
        const dgamma = tf.sum(tf.mul(dy, sxh), axes, keepDims);
        const centred = tf.sub(tf.sub(dy, tf.div(dbeta, m)), tf.mul(sxh, tf.div(dgamma, m)));
        return [tf.mul(centred, tf.mul(sinv, sg)), dgamma, dbeta];
      },
    };
  });
  return f(x, gamma, beta) as Tensor;
}

/** Average pooling with TF's 'same' padding, averaging over the in-bounds cells only. */
function avgPoolSame(tf: TF, x: tfc.Tensor4D, [kh, kw]: [number, number], [sh, sw]: [number, number]): Tensor {
  const [, h, w] = x.shape;
  const pads = (n: number, k: number, s: number) => {
    const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return avgPoolInside(tf, x, [kh, kw], [sh, sw], [...pads(h, kh, sh), ...pads(w, kw, sw)] as [number, number, number, number]);
}

/**
 * Average pooling over explicit padding [top, bottom, left, right] that averages the in-bounds cells only.
 * tfjs' own AvgPoolGrad divides by the full window even where the forward pass averaged fewer cells, which
 * gives wrong gradients at the border; padding with zeros, pooling 'valid' and rescaling each output by
 * window / cells-inside keeps forward and gradient consistent.
 */
function avgPoolInside(tf: TF, x: tfc.Tensor4D, [kh, kw]: [number, number], [sh, sw]: [number, number], [pt, pb, pl, pr]: [number, number, number, number]): Tensor {
  const [, h, w] = x.shape;
  if (pt + pb + pl + pr === 0) return tf.avgPool(x, [kh, kw], [sh, sw], 'valid');
  const oh = Math.floor((h + pt + pb - kh) / sh) + 1;
  const ow = Math.floor((w + pl + pr - kw) / sw) + 1;
  const counts = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) {
      const r0 = i * sh - pt;
      const c0 = j * sw - pl;
      const rows = Math.min(r0 + kh, h) - Math.max(r0, 0);
      const cols = Math.min(c0 + kw, w) - Math.max(c0, 0);
      counts[i * ow + j] = (kh * kw) / (rows * cols);
    }
  const padded = tf.pad(x, [
    [0, 0],
    [pt, pb],
    [pl, pr],
    [0, 0],
  ]);
  return tf.mul(tf.avgPool(padded, [kh, kw], [sh, sw], 'valid'), tf.tensor(counts, [1, oh, ow, 1]));
}

/** The lowest float32: padding max pooling never picks (−∞ would give 0·∞ = NaN in second-order kernels). */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** Pooling with explicit padding (see the pool layer's `pads`), as PyTorch and ONNX pool. */
function padPool(tf: TF, x: tfc.Tensor4D, l: Extract<LayerNode, { kind: 'pool' }>): Tensor {
  const [pt, pb, pl, pr] = l.pads!;
  const around: [number, number][] = [
    [0, 0],
    [pt, pb],
    [pl, pr],
    [0, 0],
  ];
  if (l.op === 'max') return tf.maxPool(tf.pad(x, around, LOWEST_FLOAT32), l.poolSize, l.strides, 'valid');
  if (l.countIncludePad) return tf.avgPool(tf.pad(x, around), l.poolSize, l.strides, 'valid');
  return avgPoolInside(tf, x, l.poolSize, l.strides, l.pads!);
}

export function endsInSoftmax(l: LayerNode): boolean {
  return endsIn(l, 'softmax');
}

export function endsIn(l: LayerNode, a: Activation): boolean {
  return (l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'depthwise' || l.kind === 'separable' || l.kind === 'activation') && l.activation === a;
}

/**
 * Conv2D with `groups`: input channels and filters split into that many groups, each convolved on its own
 * (the kernel is [kh, kw, c/groups, filters]); tfjs' conv2d has no groups argument.
 */
function groupedConv(tf: TF, x: tfc.Tensor4D, k: tfc.Tensor4D, groups: number, strides: [number, number], padding: 'valid' | 'same' | tfc.backend_util.ExplicitPadding, dilation: [number, number]): Tensor {
  const cin = x.shape[3] / groups;
  const cout = k.shape[3] / groups;
  // One input channel per group is a depthwise convolution (PyTorch's groups = in_channels): output channel
  // g·cout + j of the grouped kernel [kh, kw, 1, groups·cout] is channel g, multiplier j of tfjs' depthwise
  // kernel [kh, kw, groups, cout] — the same order, so a reshape is enough and one kernel call replaces `groups`.
  if (cin === 1) return tf.depthwiseConv2d(x, tf.reshape(k, [k.shape[0], k.shape[1], groups, cout]) as tfc.Tensor4D, strides, padding, 'NHWC', dilation);
  const outs: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    const xg = tf.slice(x, [0, 0, 0, g * cin], [-1, -1, -1, cin]) as tfc.Tensor4D;
    const kg = tf.slice(k, [0, 0, 0, g * cout], [-1, -1, -1, cout]) as tfc.Tensor4D;
    outs.push(tf.conv2d(xg, kg, strides, padding, 'NHWC', dilation));
  }
  return tf.concat(outs, 3);
}

function activate(tf: TF, y: Tensor, a: Activation, alpha?: number): Tensor {
  switch (a) {
    case 'linear':
      return y;
    case 'relu':
      return tf.relu(y);
    case 'sigmoid':
      return tf.sigmoid(y);
    case 'tanh':
      return tf.tanh(y);
    case 'softmax':
      return tf.softmax(y);
    case 'elu':
      return tf.elu(y);
    case 'selu':
      return tf.selu(y);
    case 'softplus':
      return tf.softplus(y);
    case 'gelu':
      return tf.mul(tf.mul(y, 0.5), tf.add(1, tf.erf(tf.mul(y, Math.SQRT1_2))));
    case 'swish':
      return tf.mul(y, tf.sigmoid(y));
    case 'relu6':
      return tf.minimum(tf.relu(y), 6);
    case 'hard_sigmoid':
      // Keras 2: clip(0.2·x + 0.5, 0, 1).
      return tf.minimum(tf.relu(tf.add(tf.mul(y, 0.2), 0.5)), 1);
    case 'leaky_relu':
      return tf.leakyRelu(y, alpha ?? 0.2);
  }
}

/**
 * Mean loss over the batch: softmax cross-entropy from logits and class ids, binary cross-entropy from one
 * logit z per example and labels y ∈ {0, 1} (float, [n, 1]) as max(z, 0) − z·y + log(1 + e^−|z|) (stable
 * for large |z|), or mean squared error.
 */
export function lossOf(tf: TF, out: Tensor, target: Tensor, loss: LossName): tfc.Scalar {
  return meanLoss(tf, out, target, loss, false) as tfc.Scalar;
}

/** The mean loss of each stacked weight set (ForwardOptions.stacked): `out` [E, n, …] → [E]. */
export function lossPerSet(tf: TF, out: Tensor, target: Tensor, loss: LossName): Tensor {
  return meanLoss(tf, out, target, loss, true);
}

function meanLoss(tf: TF, out: Tensor, target: Tensor, loss: LossName, stacked: boolean): Tensor {
  const mean = (t: Tensor) => (stacked ? tf.mean(t, t.shape.map((_, i) => i).slice(1)) : tf.mean(t));
  if (loss === 'mse') return mean(tf.square(tf.sub(out, target)));
  if (loss === 'binary-ce') {
    const z = out;
    return mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, target)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))));
  }
  const oneHot = target.rank === 1 ? tf.oneHot(target as tfc.Tensor1D, out.shape[out.shape.length - 1]) : target;
  const lse = tf.logSumExp(out, -1);
  return mean(tf.sub(lse, tf.sum(tf.mul(out, oneHot), -1)));
}

/** The target tensor of a batch: class ids (int32, [n]) for softmax-ce, labels 0/1 as float32 [n, 1] for binary-ce, targets for mse. */
export function targetTensor(tf: TF, loss: LossName, rows: { n: number; labels?: Int32Array; targets?: Float32Array }, outputs: number): Tensor {
  if (loss === 'softmax-ce') return tf.tensor1d(rows.labels!, 'int32');
  if (loss === 'binary-ce') return tf.tensor2d(Float32Array.from(rows.labels!), [rows.n, 1], 'float32');
  return tf.tensor(rows.targets!, [rows.n, outputs], 'float32');
}

/** Number of correct predictions in the batch (classification losses only): argmax for softmax-ce, logit > 0 for binary-ce. */
export function correctCount(tf: TF, loss: LossName, out: Tensor, target: Tensor): tfc.Scalar {
  if (loss === 'binary-ce') return tf.sum(tf.cast(tf.equal(tf.cast(tf.greater(out, 0), 'float32'), target), 'float32')) as tfc.Scalar;
  return tf.sum(tf.cast(tf.equal(tf.argMax(out, -1), target), 'float32')) as tfc.Scalar;
}
