// The landscape along the gradient direction at one set of weights and one batch (docs/metrics.md): the loss
// ℓ(η), the gradient change d(η) and the effective β-smoothness. Shared by `bnlens probe` and the training run.

import type * as tfc from '@tensorflow/tfjs-core';
import type { Tensor } from '../network/forward';
import { setDiffStats } from './setDiffStats';
import { type Batch, firstLayerProduct, type FirstLayerState, lossAndGrads, type ProbeSetup, sumSquares, valueAndGradsFromFirst } from './lossAndGrads';

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
export async function probeAlongGradient(s: ProbeSetup, params: Tensor[], grads: Tensor[], value: tfc.Scalar, batch: Batch, etas: number[], first?: FirstLayerState | null): Promise<GradientProbe> {
  const r = await probeRows(s, params, grads, value, batch, etas, first);
  return probeFromRows(etas, r.loss, r.gradNorm, r.rows);
}

/**
 * L, ‖g‖ and the rows [ℓ(η), d(η), gᵀ(g − ∇L(x − η·g))] of every η, flat in η order: the part of the probe
 * that can be split over processes (src/engine/etaHelpers.ts) and merged by concatenating rows.
 */
export async function probeRows(
  s: ProbeSetup,
  params: Tensor[],
  grads: Tensor[],
  value: tfc.Scalar,
  batch: Batch,
  etas: number[],
  first?: FirstLayerState | null,
): Promise<{ loss: number; gradNorm: number; rows: Float32Array }> {
  const { tf } = s;
  const parts: Tensor[] = [value, tf.tidy(() => tf.sqrt(sumSquares(tf, grads)))];
  const along = first && s.model.firstDense && etas.length > 0 ? sharedFirstLayer(s, params, grads, batch, first) : null;
  const stacked = along && s.stackEtas !== false && stacks(s, params, batch, etas.length) ? tf.tidy(() => along.all(etas)) : null;
  if (stacked) parts.push(stacked);
  else
    for (const eta of etas) {
      parts.push(
        tf.tidy(() => {
          if (along) return along.at(eta);
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
  along?.dispose();
  const flat = tf.tidy(() => tf.concat(parts.map((t) => tf.reshape(t, [-1]))));
  const v = (await flat.data()) as Float32Array;
  flat.dispose();
  parts.slice(1).forEach((t) => t.dispose());
  return { loss: v[0], gradNorm: v[1], rows: v.subarray(2) };
}

/**
 * The setup for evaluating a share of a `gridSize`-η grid: it stacks its η exactly when the whole grid would,
 * so that every process of a split probe takes the same path and the merged rows equal the unsplit ones.
 */
export function planForGrid(s: ProbeSetup, params: Tensor[], batch: Batch, gridSize: number): ProbeSetup {
  if (!s.model.firstDense || s.stackEtas === false) return s;
  return { ...s, stackEtas: stacks(s, params, batch, gridSize) };
}

/** The probe's measures from L, ‖g‖ and the rows of probeRows (3 per η, in η order). */
export function probeFromRows(etas: number[], loss: number, gradNorm: number, rows: ArrayLike<number>): GradientProbe {
  const lossAtEta = etas.map((_, k) => rows[3 * k]);
  const gradChange = etas.map((_, k) => rows[1 + 3 * k]);
  const betaAtEta = gradChange.map((d, k) => d / (etas[k] * gradNorm));
  const beta = betaAtEta.reduce((m, b) => (b > m || Number.isNaN(b) ? b : m), -Infinity);
  const curvatureAtEta = etas.map((eta, k) => rows[2 + 3 * k] / (eta * gradNorm * gradNorm));
  return { loss, gradNorm, lossAtEta, gradChange, betaAtEta, beta, curvatureAtEta };
}

/**
 * The probe of one η when the network starts with a Dense layer on parameter-free input X (pre-activation
 * Z = X·W + b, δ = ∂L/∂Z, g = (Xᵀδ, Σδ) at the current weights). With S = X·g_W + g_b:
 *   Z(η) = X·(W − η·g_W) + b − η·g_b = Z − η·S                       (no X·W product per η)
 *   ΔW = Xᵀ·D, Δb = Σ D with D = δ(η) − δ, so
 *   ‖ΔW‖² + ‖Δb‖² = Σ ((X·Xᵀ + 1) ⊙ D·Dᵀ)  and  g_Wᵀ·ΔW + g_bᵀ·Δb = Σ (S ⊙ D)   (no Xᵀ·δ product per η).
 * Two products of size B·in·out per η become one of B·B·out, with X·Xᵀ and S once per step. The other layers'
 * gradients are differenced as before.
 */
function sharedFirstLayer(s: ProbeSetup, params: Tensor[], grads: Tensor[], batch: Batch, first: FirstLayerState) {
  const { tf } = s;
  const fd = s.model.firstDense!;
  const { others } = fd;
  const [along, gram] = tf.tidy(() => {
    const xxt = tf.matMul(first.x as tfc.Tensor2D, first.x as tfc.Tensor2D, false, true);
    return [firstLayerProduct(tf, fd, first.x, grads), fd.bias === null ? xxt : tf.add(xxt, 1)];
  });
  return {
    at(eta: number): Tensor {
      const z = tf.sub(first.z, tf.mul(along, eta));
      const shifted = others.map((i) => tf.sub(params[i], tf.mul(grads[i], eta)));
      const r = valueAndGradsFromFirst(s, params, z, batch, s.forward, undefined, shifted);
      const [delta, ...rest] = r.grads;
      const d = tf.sub(delta, first.delta);
      const diffs = rest.map((g, j) => tf.sub(g, grads[others[j]]));
      // A sum of squares written as a sum of products: rounding can take an exact 0 a hair below 0.
      const firstSq = tf.relu(tf.sum(tf.mul(gram, tf.matMul(d as tfc.Tensor2D, d as tfc.Tensor2D, false, true))));
      const change = tf.sqrt(diffs.length ? tf.add(sumSquares(tf, diffs), firstSq) : firstSq);
      const firstDot = tf.sum(tf.mul(along, d));
      const descentDot = tf.neg(diffs.length ? tf.addN([firstDot, ...diffs.map((g, j) => tf.sum(tf.mul(g, grads[others[j]])))]) : firstDot);
      return tf.stack([r.value, change, descentDot]);
    },
    /**
     * Every η in one evaluation (ForwardOptions.stacked): the weight sets W − η·g stacked on a leading axis,
     * so each layer runs once per step on E times the data instead of E times. Rows [ℓ, d, gᵀ(g − g_η)].
     */
    all(etas: number[]): Tensor {
      const E = etas.length;
      const eta = (rank: number) => tf.reshape(tf.tensor1d(etas), [E, ...new Array<number>(rank).fill(1)]);
      const one = (t: Tensor) => tf.expandDims(t, 0);
      const z = tf.sub(one(first.z), tf.mul(eta(2), one(along)));
      const shifted = others.map((i) => tf.sub(one(params[i]), tf.mul(eta(params[i].rank), one(grads[i]))));
      const r = valueAndGradsFromFirst(s, params, z, batch, { ...s.forward, stacked: E }, undefined, shifted);
      const [delta, ...rest] = r.grads;
      const d = tf.sub(delta, one(first.delta));
      const firstSq = tf.relu(tf.sum(tf.mul(one(gram), tf.matMul(d as tfc.Tensor3D, d as tfc.Tensor3D, false, true)), [1, 2]));
      // Per parameter [Σ(g_η − g)², Σ(g_η − g)·g] of every set, in one pass over the stacked gradient.
      const stats = rest.map((g, j) => setDiffStats(tf, g, grads[others[j]]));
      const column = (t: Tensor, c: number) => tf.reshape(tf.slice(t, [0, c], [E, 1]), [E]);
      const change = tf.sqrt(tf.addN([firstSq, ...stats.map((st) => column(st, 0))]));
      const descentDot = tf.neg(tf.addN([tf.sum(tf.mul(one(along), d), [1, 2]), ...stats.map((st) => column(st, 1))]));
      const rows = tf.stack([r.perSet!, change, descentDot], 1);
      r.perSet!.dispose();
      return rows;
    },
    dispose(): void {
      along.dispose();
      gram.dispose();
    },
  };
}

/** Whether the η of a probe can be stacked (ForwardModel.stackable) within the memory bound. */
export function stacks(s: ProbeSetup, params: Tensor[], batch: Batch, sets: number): boolean {
  const f = s.forward;
  if (!f.training || f.moving) return false;
  // Parameters, their gradients and differences; activations kept for the backward pass and their gradients.
  return s.model.stacksWithin(f, params, batch.x.shape[0], sets, 3);
}
