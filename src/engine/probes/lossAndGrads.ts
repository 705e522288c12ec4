// The loss of a network on one batch and its gradient with respect to every parameter: the quantity every
// probe of Santurkar et al. evaluates, at the current weights or at shifted ones (docs/metrics.md).

import type * as tfc from '@tensorflow/tfjs-core';
import type { LossName } from '../../protocol';
import { type FirstDense, type ForwardModel, type ForwardOptions, lossOf, lossPerSet, type Tensor, type TF } from '../network/forward';

export interface Batch {
  x: Tensor;
  /** Class ids (int32, [n]) for softmax-ce, labels 0/1 (float32, [n, 1]) for binary-ce, targets for mse. */
  y: Tensor;
}

export interface ProbeSetup {
  tf: TF;
  model: ForwardModel;
  loss: LossName;
  forward: ForwardOptions;
  /** false: probe (and slice) every weight set op by op, without the shared first layer (for comparisons). */
  sharedFirstLayer?: boolean;
  /** false: evaluate the η one after the other even where they could be stacked (for comparisons). */
  stackEtas?: boolean;
}

/**
 * The first Dense layer's input X, pre-activation Z = X·W + b and δ = ∂L/∂Z at one set of weights, kept
 * so that the probe can evaluate every shifted weight set without X·W and Xᵀ·δ (see probeAlongGradient).
 */
export interface FirstLayerState {
  x: Tensor;
  z: Tensor;
  delta: Tensor;
}

/**
 * L(params; batch) and ∇L, as tensors the caller owns. `onOutput` sees the network's output of this same
 * forward pass (keep it with tf.keep to use it afterwards), so a training step needs no second pass.
 */
export function lossAndGrads(s: ProbeSetup, params: Tensor[], batch: Batch, forward = s.forward, onOutput?: (out: Tensor) => void): { value: tfc.Scalar; grads: Tensor[] } {
  const { tf, model, loss } = s;
  const f = (...ps: Tensor[]) => {
    const out = model.forward(tf, ps, batch.x, forward);
    onOutput?.(out);
    return lossOf(tf, out, batch.y, loss);
  };
  return tf.tidy(() => tf.valueAndGrads(f)(params)) as { value: tfc.Scalar; grads: Tensor[] };
}

/** Σ‖t_i‖² as a scalar tensor. */
export function sumSquares(tf: TF, ts: Tensor[]): tfc.Scalar {
  return tf.tidy(() => tf.addN(ts.map((t) => tf.sum(tf.square(t)))) as tfc.Scalar);
}

/**
 * lossAndGrads, and for a network that starts with a Dense layer fed by parameter-free layers also X, Z and
 * δ of that layer (the caller disposes them). The gradient is the same: ∂L/∂W = Xᵀ·δ and ∂L/∂b = Σ δ are the
 * very products the tape would take.
 */
export function lossAndGradsForProbe(s: ProbeSetup, params: Tensor[], batch: Batch, forward = s.forward, onOutput?: (out: Tensor) => void): { value: tfc.Scalar; grads: Tensor[]; first: FirstLayerState | null } {
  const { tf, model } = s;
  const fd = model.firstDense;
  if (!fd || s.sharedFirstLayer === false) return lossAndGradsWithoutFirst(s, params, batch, forward, onOutput);
  const x = firstLayerInput(s, batch, forward);
  if (!x) return lossAndGradsWithoutFirst(s, params, batch, forward, onOutput);
  const z = tf.tidy(() => firstLayerProduct(tf, fd, x, params));
  const { others } = fd;
  const r = valueAndGradsFromFirst(s, params, z, batch, forward, onOutput);
  const [delta, ...rest] = r.grads;
  const grads = tf.tidy(() => {
    const out: Tensor[] = new Array(params.length);
    others.forEach((i, j) => (out[i] = rest[j]));
    out[fd.kernel] = tf.matMul(x as tfc.Tensor2D, delta as tfc.Tensor2D, true, false);
    if (fd.bias !== null) out[fd.bias] = tf.sum(delta, 0);
    return out;
  });
  return { value: r.value, grads, first: { x, z, delta } };
}

/**
 * The first Dense layer's input X for `batch`, or null when it is not a matrix [n, features]. A clone, as X
 * may be the batch itself, which the caller keeps after disposing X.
 */
export function firstLayerInput(s: ProbeSetup, batch: Batch, forward: ForwardOptions): Tensor | null {
  const { tf } = s;
  const x = tf.tidy(() => tf.clone(s.model.firstDenseInput(tf, batch.x, forward)));
  if (x.rank === 2) return x;
  x.dispose();
  return null;
}

/** X·v_W + v_b: the first Dense layer's pre-activation for weights v, or the same product for a direction v. */
export function firstLayerProduct(tf: TF, fd: FirstDense, x: Tensor, v: Tensor[]): Tensor {
  const xv = tf.matMul(x as tfc.Tensor2D, v[fd.kernel] as tfc.Tensor2D);
  return fd.bias === null ? xv : tf.add(xv, v[fd.bias]);
}

/** Frees what lossAndGradsForProbe kept of the first layer. */
export function disposeFirst(tf: TF, first: FirstLayerState | null): void {
  if (first) tf.dispose([first.x, first.z, first.delta]);
}

/** lossAndGrads in the shape of lossAndGradsForProbe, for steps that are not probed. */
export function lossAndGradsWithoutFirst(s: ProbeSetup, params: Tensor[], batch: Batch, forward = s.forward, onOutput?: (out: Tensor) => void): { value: tfc.Scalar; grads: Tensor[]; first: null } {
  return { ...lossAndGrads(s, params, batch, forward, onOutput), first: null };
}

/**
 * The network's output computed from the first Dense layer's pre-activation `z`, with the other parameters
 * (FirstDense.others, in that order) given by `others`; the first layer's own weights are not read.
 */
export function forwardFromFirst(s: ProbeSetup, params: Tensor[], z: Tensor, others: Tensor[], batch: Batch, forward: ForwardOptions): Tensor {
  const { layer, others: at } = s.model.firstDense!;
  const full = params.slice();
  at.forEach((i, j) => (full[i] = others[j]));
  return s.model.forward(s.tf, full, batch.x, { ...forward, preActivation: { layer, z } });
}

/**
 * L and its gradient with respect to the first Dense layer's pre-activation `z` (first) and every other
 * parameter (FirstDense.others, then, in that order); the first layer's own weights are not read. With
 * stacked weight sets (ForwardOptions.stacked) L is the sum of the sets' losses, and `perSet` holds each
 * set's loss (kept: the caller disposes it).
 */
export function valueAndGradsFromFirst(
  s: ProbeSetup,
  params: Tensor[],
  z: Tensor,
  batch: Batch,
  forward = s.forward,
  onOutput?: (out: Tensor) => void,
  shifted: Tensor[] = s.model.firstDense!.others.map((i) => params[i]),
): { value: tfc.Scalar; grads: Tensor[]; perSet?: Tensor } {
  const { tf, loss } = s;
  let perSet: Tensor | undefined;
  const f = (zIn: Tensor, ...os: Tensor[]) => {
    const out = forwardFromFirst(s, params, zIn, os, batch, forward);
    onOutput?.(out);
    if (forward.stacked === undefined) return lossOf(tf, out, batch.y, loss);
    perSet = tf.keep(lossPerSet(tf, out, batch.y, loss));
    return tf.sum(perSet) as tfc.Scalar;
  };
  const r = tf.tidy(() => tf.valueAndGrads(f as (...ts: Tensor[]) => tfc.Scalar)([z, ...shifted])) as { value: tfc.Scalar; grads: Tensor[] };
  return perSet ? { ...r, perSet } : r;
}
