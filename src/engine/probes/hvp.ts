// Exact Hessian-vector products Hv = ∇(∇L·v) by differentiating the gradient once more (reverse over
// reverse) — exact because ../backend/secondOrder.ts gives every op on the way a correct second derivative
// and the forward pass runs with `secondOrder` (BatchNorm op by op). Not finite differences of gradients:
// in float32 those are off by 1e-3 to 1e-1 on ReLU networks, whose kinks lie within 1e-4 of the weights.
import type * as tfc from '@tensorflow/tfjs-core';
import type { LossName } from '../../protocol';
import { type ForwardModel, type ForwardOptions, lossOf, type Tensor, type TF } from '../network/forward';

export interface HessianSetup {
  tf: TF;
  model: ForwardModel;
  loss: LossName;
  /** The forward options of the measurement (training-mode BatchNorm, or the moving statistics). */
  forward: ForwardOptions;
  params: Tensor[];
  x: Tensor;
  y: Tensor;
}

/** Hv as tensors the caller owns, for v given per parameter tensor. */
export function hessianVectorProduct(s: HessianSetup, v: Tensor[]): Tensor[] {
  const { tf, model, loss, x, y } = s;
  const forward: ForwardOptions = { ...s.forward, secondOrder: true, onActivation: undefined, onBatchStats: undefined };
  const f = (...ps: Tensor[]) => lossOf(tf, model.forward(tf, ps, x, forward), y, loss);
  const gv = (...ps: Tensor[]) => {
    const gs = tf.grads(f)(ps);
    return tf.addN(gs.map((g, i) => tf.sum(tf.mul(g, v[i])))) as tfc.Scalar;
  };
  return tf.tidy(() => tf.grads(gv)(s.params));
}

/** The Hessian as an operator on flat float32 vectors (parameters concatenated in order), for host-side algorithms. */
export interface FlatOperator {
  dim: number;
  apply(v: Float32Array): Promise<Float32Array>;
  /** Products computed so far. */
  count: number;
}

export function flatHessian(s: HessianSetup): FlatOperator {
  const { tf } = s;
  const shapes = s.params.map((p) => p.shape);
  const sizes = shapes.map((sh) => sh.reduce((a, b) => a * b, 1));
  const dim = sizes.reduce((a, b) => a + b, 0);
  const op: FlatOperator = {
    dim,
    count: 0,
    async apply(v: Float32Array): Promise<Float32Array> {
      let off = 0;
      const vs = shapes.map((sh, i) => {
        const t = tf.tensor(v.subarray(off, off + sizes[i]), sh, 'float32');
        off += sizes[i];
        return t;
      });
      const hv = hessianVectorProduct(s, vs);
      const flat = tf.tidy(() => tf.concat(hv.map((t) => tf.reshape(t, [-1]))));
      tf.dispose([...vs, ...hv]);
      const out = (await flat.data()) as Float32Array;
      flat.dispose();
      op.count++;
      return out;
    },
  };
  return op;
}

/** Parameters (or gradients) concatenated into one float32 vector. */
export async function flatten(tf: TF, ts: Tensor[]): Promise<Float32Array> {
  const flat = tf.tidy(() => tf.concat(ts.map((t) => tf.reshape(t, [-1]))));
  const out = (await flat.data()) as Float32Array;
  flat.dispose();
  return out;
}
