// The landscape along the gradient direction at one set of weights and one batch (docs/metrics.md): the loss
// ℓ(η), the gradient change d(η) and the effective β-smoothness. Shared by `bnlens probe` and the training run.

import type * as tfc from '@tensorflow/tfjs-core';
import type { Tensor } from '../network/forward';
import { type Batch, lossAndGrads, type ProbeSetup, sumSquares } from './lossAndGrads';

export interface GradientProbe {
  loss: number;
  gradNorm: number;
  lossAtEta: number[];
  gradChange: number[];
  betaAtEta: number[];
  beta: number;
  /** κ_G(η) = gᵀ(g − ∇L(x − η·g)) / (η‖g‖²): curvature along g averaged over [0, η], descent excluded. */
  curvatureAtEta: number[];
}

/**
 * ℓ(η) = L(x − η·g), d(η) = ‖∇L(x − η·g) − g‖, β(η) = d(η)/(η‖g‖) for every η, at the weights `params`
 * whose loss and gradient at this batch are already known (`value`, `grads`). One read-back at the end:
 * a synchronous read per η would stall the backend between evaluations.
 */
export async function probeAlongGradient(s: ProbeSetup, params: Tensor[], grads: Tensor[], value: tfc.Scalar, batch: Batch, etas: number[]): Promise<GradientProbe> {
  const { tf } = s;
  const parts: Tensor[] = [value, tf.tidy(() => tf.sqrt(sumSquares(tf, grads)))];
  for (const eta of etas) {
    parts.push(
      tf.tidy(() => {
        const shifted = params.map((p, i) => tf.sub(p, tf.mul(grads[i], eta)));
        const r = lossAndGrads(s, shifted, batch);
        const diffs = r.grads.map((g, i) => tf.sub(g, grads[i]));
        const change = tf.sqrt(sumSquares(tf, diffs));
        // gᵀ(g − g_η) from the difference itself: ‖g‖² − gᵀg_η would cancel catastrophically at small η.
        const descentDot = tf.neg(tf.addN(diffs.map((d, i) => tf.sum(tf.mul(d, grads[i])))));
        return tf.stack([r.value, change, descentDot]);
      }),
    );
  }
  const flat = tf.tidy(() => tf.concat(parts.map((t) => tf.reshape(t, [-1]))));
  const v = (await flat.data()) as Float32Array;
  flat.dispose();
  parts.slice(1).forEach((t) => t.dispose());
  const loss = v[0];
  const gradNorm = v[1];
  const lossAtEta = etas.map((_, k) => v[2 + 3 * k]);
  const gradChange = etas.map((_, k) => v[3 + 3 * k]);
  const betaAtEta = gradChange.map((d, k) => d / (etas[k] * gradNorm));
  const beta = betaAtEta.reduce((m, b) => (b > m || Number.isNaN(b) ? b : m), -Infinity);
  const curvatureAtEta = etas.map((eta, k) => v[4 + 3 * k] / (eta * gradNorm * gradNorm));
  return { loss, gradNorm, lossAtEta, gradChange, betaAtEta, beta, curvatureAtEta };
}
