// The measurements of Santurkar et al. (../shared/paper/metrics.md) at one set of weights and one batch:
// the loss and gradient along the gradient direction, effective β-smoothness, and internal covariate shift
// in the optimization view (Definition 2.1). Shared by `bnlens probe` and the training run.

import type * as tfc from '@tensorflow/tfjs-core';
import type { IcsEntry } from '../protocol';
import { type ForwardModel, type ForwardOptions, lossOf, type Tensor, type TF } from './network/forward';

export interface Batch {
  x: Tensor;
  /** Class ids (int32, [n]) for softmax-ce, targets for mse. */
  y: Tensor;
}

export interface ProbeSetup {
  tf: TF;
  model: ForwardModel;
  loss: 'softmax-ce' | 'mse';
  forward: ForwardOptions;
}

/**
 * L(params; batch) and ∇L, as tensors the caller owns. `onOutput` sees the network's output of this same
 * forward pass (keep it with tf.keep to use it afterwards), so a training step needs no second pass.
 */
export function lossAndGrads(
  s: ProbeSetup,
  params: Tensor[],
  batch: Batch,
  forward = s.forward,
  onOutput?: (out: Tensor) => void,
): { value: tfc.Scalar; grads: Tensor[] } {
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

export interface GradientProbe {
  loss: number;
  gradNorm: number;
  lossAtEta: number[];
  gradChange: number[];
  betaAtEta: number[];
  beta: number;
}

/**
 * ℓ(η) = L(x − η·g), d(η) = ‖∇L(x − η·g) − g‖, β(η) = d(η)/(η‖g‖) for every η, at the weights `params`
 * whose loss and gradient at this batch are already known (`value`, `grads`). One read-back at the end:
 * a synchronous read per η would stall the backend between evaluations.
 */
export async function probeAlongGradient(
  s: ProbeSetup,
  params: Tensor[],
  grads: Tensor[],
  value: tfc.Scalar,
  batch: Batch,
  etas: number[],
): Promise<GradientProbe> {
  const { tf } = s;
  const parts: Tensor[] = [value, tf.tidy(() => tf.sqrt(sumSquares(tf, grads)))];
  for (const eta of etas) {
    parts.push(
      tf.tidy(() => {
        const shifted = params.map((p, i) => tf.sub(p, tf.mul(grads[i], eta)));
        const r = lossAndGrads(s, shifted, batch);
        const change = tf.sqrt(sumSquares(tf, r.grads.map((g, i) => tf.sub(g, grads[i]))));
        return tf.stack([r.value, change]);
      }),
    );
  }
  const flat = tf.tidy(() => tf.concat(parts.map((t) => tf.reshape(t, [-1]))));
  const v = (await flat.data()) as Float32Array;
  flat.dispose();
  parts.slice(1).forEach((t) => t.dispose());
  const loss = v[0];
  const gradNorm = v[1];
  const lossAtEta = etas.map((_, k) => v[2 + 2 * k]);
  const gradChange = etas.map((_, k) => v[3 + 2 * k]);
  const betaAtEta = gradChange.map((d, k) => d / (etas[k] * gradNorm));
  const beta = betaAtEta.reduce((m, b) => (b > m || Number.isNaN(b) ? b : m), -Infinity);
  return { loss, gradNorm, lossAtEta, gradChange, betaAtEta, beta };
}

/**
 * ICS of every layer with a kernel: G = ∂L/∂W_i at the current weights; G′ = ∂L/∂W_i after every trainable
 * weight of the layers before i (model order) took one SGD step w ← w − lr·∂L/∂w on the same batch.
 */
export async function internalCovariateShift(
  s: ProbeSetup,
  params: Tensor[],
  grads: Tensor[],
  batch: Batch,
  lr: number,
): Promise<IcsEntry[]> {
  const { tf, model } = s;
  const kernels = model.info.params.map((p, i) => ({ p, i })).filter(({ p }) => p.role === 'kernel');
  const parts: Tensor[] = [];
  const exact: boolean[] = [];
  for (const { p, i: k } of kernels) {
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
        void p;
        return tf.stack([l2, cos]);
      }),
    );
  }
  const v = parts.length ? ((await tf.concat(parts).data()) as Float32Array) : new Float32Array(0);
  parts.forEach((t) => t.dispose());
  let j = 0;
  return kernels.map(({ p }, n) => {
    if (exact[n]) return { layer: p.layer, l2: 0, cos: 1 };
    const r = { layer: p.layer, l2: v[2 * j], cos: v[2 * j + 1] };
    j++;
    return r;
  });
}

/**
 * Float32 resolves a gradient to about 1e-7 of its norm (more on large layers), so a step whose gradient
 * change ‖∇L(x − η·g) − g‖ is below about 1e-4·‖g‖ is measured with a relative error that can exceed 1e-3.
 * Returns a one-line warning naming those η, or null.
 */
export function precisionWarning(etas: number[], gradChange: (number | null)[], gradNorm: number): string | null {
  const tiny = etas.filter((_, k) => {
    const d = gradChange[k];
    return typeof d === 'number' && gradNorm > 0 && d < 1e-4 * gradNorm;
  });
  if (tiny.length === 0) return null;
  return (
    `η = ${tiny.map((e) => (e < 1e-3 ? e.toExponential(2) : e.toPrecision(3))).join(', ')} change${tiny.length === 1 ? 's' : ''} the gradient by less than 1e-4 of its norm, ` +
    `close to what float32 can resolve: gradChange and β there may be off by more than 1e-3 relative; use larger η`
  );
}
