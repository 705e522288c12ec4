// The loss of a network on one batch and its gradient with respect to every parameter: the quantity every
// probe of Santurkar et al. evaluates, at the current weights or at shifted ones (docs/metrics.md).

import type * as tfc from '@tensorflow/tfjs-core';
import type { LossName } from '../../protocol';
import { type ForwardModel, type ForwardOptions, lossOf, type Tensor, type TF } from '../network/forward';

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
