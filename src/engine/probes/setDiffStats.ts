// For a gradient stacked over E weight sets, g_e (shape [E, ...s]), and the gradient g at the weights
// (shape s): per set, Σ(g_e − g)² and Σ(g_e − g)·g, as an [E, 2] tensor — the gradient change and the
// descent term of every η for one parameter. On the wasm backend one kernel reads each operand once
// (native/gemm.c, set_diff_stats), bitwise equal to the ops it replaces; elsewhere those ops.
import type { Tensor, TF } from '../network/forward';

export const SET_DIFF_STATS = 'BnlensSetDiffStats';

export function setDiffStats(tf: TF, stacked: Tensor, base: Tensor): Tensor {
  const fits = stacked.dtype === 'float32' && base.dtype === 'float32' && stacked.size === stacked.shape[0] * base.size;
  if (fits && tf.getBackend() === 'wasm' && tf.getKernel(SET_DIFF_STATS, 'wasm')) return tf.engine().runKernel(SET_DIFF_STATS, { a: stacked, b: base }) as Tensor;
  return setDiffStatsByOps(tf, stacked, base);
}

/** The same by tfjs ops (every backend; the reference of the kernel's test). */
export function setDiffStatsByOps(tf: TF, stacked: Tensor, base: Tensor): Tensor {
  return tf.tidy(() => {
    const axes = stacked.shape.map((_, i) => i).slice(1);
    const d = tf.sub(stacked, tf.expandDims(base, 0));
    return tf.stack([tf.sum(tf.square(d), axes), tf.sum(tf.mul(d, tf.expandDims(base, 0)), axes)], 1);
  });
}
