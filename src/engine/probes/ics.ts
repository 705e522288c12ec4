// Internal covariate shift in the optimization view (Definition 2.1 of Santurkar et al., docs/metrics.md):
// how much a layer's gradient changes when the layers before it take their step.

import type { IcsEntry } from '../../protocol';
import { lossOf, type Tensor } from '../network/forward';
import { type Batch, type ProbeSetup } from './lossAndGrads';

/**
 * ICS of every layer with a kernel: G = ∂L/∂W_i at the current weights; G′ = ∂L/∂W_i after every trainable
 * weight of the layers before i (model order) took one SGD step w ← w − lr·∂L/∂w on the same batch.
 */
export async function internalCovariateShift(s: ProbeSetup, params: Tensor[], grads: Tensor[], batch: Batch, lr: number): Promise<IcsEntry[]> {
  const { tf, model } = s;
  const kernels = model.info.params.map((p, i) => ({ p, i })).filter(({ p }) => p.role === 'kernel');
  const parts: Tensor[] = [];
  const exact: boolean[] = [];
  for (const { i: k } of kernels) {
    const pos = model.paramLayerPos[k];
    const moved = model.paramLayerPos.map((lp) => lp < pos);
    if (!moved.some(Boolean)) {
      // Nothing before this layer moves, so G′ is G itself: report the exact values, not float noise.
      exact.push(true);
      continue;
    }
    exact.push(false);
    parts.push(
      tf.tidy(() => {
        const shifted = params.map((w, j) => (moved[j] ? tf.sub(w, tf.mul(grads[j], lr)) : w));
        const f = (kernel: Tensor) => {
          const ps = shifted.map((w, j) => (j === k ? kernel : w));
          return lossOf(tf, model.forward(tf, ps, batch.x, s.forward), batch.y, s.loss);
        };
        const G = grads[k];
        const G2 = tf.grad(f)(shifted[k]);
        const l2 = tf.norm(tf.sub(G, G2));
        const cos = tf.div(tf.sum(tf.mul(G, G2)), tf.mul(tf.norm(G), tf.norm(G2)));
        return tf.stack([l2, cos]);
      }),
    );
  }
  const all = parts.length ? tf.concat(parts) : null;
  const v = all ? ((await all.data()) as Float32Array) : new Float32Array(0);
  all?.dispose();
  parts.forEach((t) => t.dispose());
  let j = 0;
  return kernels.map(({ p }, n) => {
    if (exact[n]) return { layer: p.layer, l2: 0, cos: 1 };
    const r = { layer: p.layer, l2: v[2 * j], cos: v[2 * j + 1] };
    j++;
    return r;
  });
}
