// The forward pass of a NetworkSpec as TensorFlow.js ops on an explicit list of parameter tensors, so that
// gradients, shifted weights (x − η·g) and per-layer substitutions are all plain function calls.

import type * as tfc from '@tensorflow/tfjs-core';
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
}

export class ForwardModel {
  readonly paramIndex = new Map<string, number>();
  /** For every parameter, the position of its layer in model order. */
  readonly paramLayerPos: number[];
  readonly layerPos = new Map<string, number>();
  /** Whether the last layer's softmax is left out so the output is logits (softmax cross-entropy). */
  readonly softmaxDropped: boolean;

  constructor(
    readonly layers: LayerNode[],
    readonly output: string,
    readonly info: ShapeInfo,
    logits: boolean,
  ) {
    layers.forEach((l, i) => this.layerPos.set(l.name, i));
    info.params.forEach((p, i) => this.paramIndex.set(paramKey(p.layer, p.role), i));
    this.paramLayerPos = info.params.map((p) => this.layerPos.get(p.layer)!);
    const last = layers.find((l) => l.name === output)!;
    this.softmaxDropped = logits && endsInSoftmax(last);
  }

  forward(tf: TF, params: Tensor[], x: Tensor, opts: ForwardOptions): Tensor {
    const values = new Map<string, Tensor>();
    const p = (layer: string, role: string) => {
      const i = this.paramIndex.get(paramKey(layer, role));
      return i === undefined ? undefined : params[i];
    };
    for (const l of this.layers) {
      const ins = l.inbound.map((n) => values.get(n)!);
      const isOut = l.name === this.output;
      const y = this.layer(tf, l, ins, x, p, opts, isOut && this.softmaxDropped);
      if (opts.onActivation && l.kind !== 'input') opts.onActivation(l.name, y);
      values.set(l.name, y);
      if (isOut) return y;
    }
    return values.get(this.output)!;
  }

  private layer(
    tf: TF,
    l: LayerNode,
    ins: Tensor[],
    input: Tensor,
    p: (layer: string, role: string) => Tensor | undefined,
    opts: ForwardOptions,
    dropSoftmax: boolean,
  ): Tensor {
    const x = ins[0];
    switch (l.kind) {
      case 'input':
        return input;
      case 'dense': {
        let y = tf.matMul(x as tfc.Tensor2D, p(l.name, 'kernel') as tfc.Tensor2D) as Tensor;
        const b = p(l.name, 'bias');
        if (b) y = tf.add(y, b);
        return activate(tf, y, dropSoftmax && l.activation === 'softmax' ? 'linear' : l.activation);
      }
      case 'conv2d': {
        const pad = l.pads ? ([[0, 0], [l.pads[0], l.pads[1]], [l.pads[2], l.pads[3]], [0, 0]] as tfc.backend_util.ExplicitPadding) : l.padding;
        let y = tf.conv2d(x as tfc.Tensor4D, p(l.name, 'kernel') as tfc.Tensor4D, l.strides, pad, 'NHWC', l.dilation) as Tensor;
        const b = p(l.name, 'bias');
        if (b) y = tf.add(y, b);
        return activate(tf, y, dropSoftmax && l.activation === 'softmax' ? 'linear' : l.activation);
      }
      case 'batchnorm': {
        const axes = x.shape.map((_, i) => i).slice(0, -1);
        const gammaT = p(l.name, 'gamma');
        const betaT = p(l.name, 'beta');
        if ((opts.training || !opts.moving?.has(l.name)) && gammaT && betaT && !opts.secondOrder) {
          const stats = opts.onBatchStats ? (m: Tensor, v: Tensor) => opts.onBatchStats!(l.name, m, v) : undefined;
          const y = batchNormTraining(tf, x, gammaT, betaT, l.epsilon, axes, stats);
          const noise = opts.noise?.get(l.name);
          return noise ? tf.add(tf.mul(y, noise.scale), noise.shift) : y;
        }
        let mean: Tensor;
        let variance: Tensor;
        if (opts.training || !opts.moving?.has(l.name)) {
          mean = tf.mean(x, axes);
          variance = tf.mean(tf.square(tf.sub(x, mean)), axes);
          opts.onBatchStats?.(l.name, mean, variance);
        } else {
          ({ mean, variance } = opts.moving.get(l.name)!);
        }
        let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, l.epsilon)));
        const gamma = p(l.name, 'gamma');
        const beta = p(l.name, 'beta');
        if (gamma) y = tf.mul(y, gamma);
        if (beta) y = tf.add(y, beta);
        const noise = opts.noise?.get(l.name);
        if (noise) y = tf.add(tf.mul(y, noise.scale), noise.shift);
        return y;
      }
      case 'lpnorm': {
        const axes = x.shape.map((_, i) => i).slice(0, -1);
        const mean = tf.mean(x, axes);
        const ax = tf.abs(x);
        const norm =
          l.p === 1 ? tf.mean(ax, axes) : l.p === 2 ? tf.sqrt(tf.mean(tf.square(x), axes)) : tf.max(ax, axes);
        let y = tf.div(tf.sub(x, mean), tf.add(norm, l.epsilon));
        const gamma = p(l.name, 'gamma');
        const beta = p(l.name, 'beta');
        if (gamma) y = tf.mul(y, gamma);
        if (beta) y = tf.add(y, beta);
        return y;
      }
      case 'activation':
        return activate(tf, x, dropSoftmax && l.activation === 'softmax' ? 'linear' : l.activation, l.alpha);
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

/**
 * BatchNorm in training mode with its gradient in closed form (the x̂-form of Ioffe & Szegedy):
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/σ · (dy − dβ/m − x̂·dγ/m)
 * Same math as differentiating the ops one by one, in a third of the operations: on the embedded backend
 * each operation has a fixed cost, and BatchNorm networks are made of many small ones.
 */
function batchNormTraining(
  tf: TF,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon: number,
  axes: number[],
  onStats?: (mean: Tensor, variance: Tensor) => void,
): Tensor {
  const m = axes.reduce((a, ax) => a * x.shape[ax], 1);
  const f = tf.customGrad((...args: unknown[]) => {
    const [xIn, g, b] = args as Tensor[];
    const save = args[3] as (ts: Tensor[]) => void;
    const mean = tf.mean(xIn, axes);
    const xc = tf.sub(xIn, mean);
    const variance = tf.mean(tf.square(xc), axes);
    const inv = tf.rsqrt(tf.add(variance, epsilon));
    const xh = tf.mul(xc, inv);
    onStats?.(mean, variance);
    save([xh, inv, g]);
    return {
      value: tf.add(tf.mul(xh, g), b),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sxh, sinv, sg] = saved;
        const dbeta = tf.sum(dy, axes);
        const dgamma = tf.sum(tf.mul(dy, sxh), axes);
        const centred = tf.sub(tf.sub(dy, tf.div(dbeta, m)), tf.mul(sxh, tf.div(dgamma, m)));
        return [tf.mul(centred, tf.mul(sinv, sg)), dgamma, dbeta];
      },
    };
  });
  return f(x, gamma, beta) as Tensor;
}

/**
 * Average pooling with TF's 'same' padding, averaging over the in-bounds cells only. tfjs' own AvgPoolGrad
 * divides by the full window even where the forward pass averaged fewer cells, which gives wrong gradients
 * at the border; padding explicitly and pooling 'valid' keeps forward and gradient consistent.
 */
function avgPoolSame(tf: TF, x: tfc.Tensor4D, [kh, kw]: [number, number], [sh, sw]: [number, number]): Tensor {
  const [, h, w] = x.shape;
  const pads = (n: number, k: number, s: number) => {
    const out = Math.ceil(n / s);
    const total = Math.max((out - 1) * s + k - n, 0);
    return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
  };
  const ph = pads(h, kh, sh);
  const pw = pads(w, kw, sw);
  if (ph.before + ph.after + pw.before + pw.after === 0) return tf.avgPool(x, [kh, kw], [sh, sw], 'valid');
  const counts = new Float32Array(ph.out * pw.out);
  for (let i = 0; i < ph.out; i++)
    for (let j = 0; j < pw.out; j++) {
      const r0 = i * sh - ph.before;
      const c0 = j * sw - pw.before;
      const rows = Math.min(r0 + kh, h) - Math.max(r0, 0);
      const cols = Math.min(c0 + kw, w) - Math.max(c0, 0);
      counts[i * pw.out + j] = (kh * kw) / (rows * cols);
    }
  const padded = tf.pad(x, [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]]);
  return tf.mul(tf.avgPool(padded, [kh, kw], [sh, sw], 'valid'), tf.tensor(counts, [1, ph.out, pw.out, 1]));
}

export function endsInSoftmax(l: LayerNode): boolean {
  return (l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'activation') && l.activation === 'softmax';
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
    case 'leaky_relu':
      return tf.leakyRelu(y, alpha ?? 0.2);
  }
}

/** Mean loss over the batch: softmax cross-entropy from logits and class ids, or mean squared error. */
export function lossOf(tf: TF, out: Tensor, target: Tensor, loss: 'softmax-ce' | 'mse'): tfc.Scalar {
  if (loss === 'mse') return tf.mean(tf.square(tf.sub(out, target))) as tfc.Scalar;
  const oneHot = target.rank === 1 ? tf.oneHot(target as tfc.Tensor1D, out.shape[out.shape.length - 1]) : target;
  const lse = tf.logSumExp(out, -1);
  return tf.mean(tf.sub(lse, tf.sum(tf.mul(out, oneHot), -1))) as tfc.Scalar;
}
