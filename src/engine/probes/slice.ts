// Random-direction slices of the loss surface (Li, Xu, Taylor, Studer, Goldstein 2018, "Visualizing the
// Loss Landscape of Neural Nets"): L(w + α·d₁ + β·d₂) on a fixed batch over a grid of (α, β).
//
// Directions live in weight space as one Float32Array per trainable parameter (model order). Filter
// normalization rescales each output filter of a kernel — the last axis of a tfjs kernel, i.e. the
// columns of a Dense kernel [in, out] and the out-channels of a Conv2D kernel [kh, kw, in, out] — to the
// norm of the same filter in the weights, so that a step of α = 1 changes every filter by as much as
// the filter is long. That makes slices of networks with scale-invariant layers (a kernel followed by
// BatchNorm) comparable: multiplying such a kernel by 10 multiplies its directions by 10 too.

import type { ForwardOptions, Tensor } from '../network/forward';
import { lossOf, lossPerSet } from '../network/forward';
import { Rng } from '../rng';
import { firstLayerInput, firstLayerProduct, forwardFromFirst, type Batch, type ProbeSetup } from './lossAndGrads';

export type SliceNorm = 'filter' | 'layer' | 'none';
export type SliceIgnore = 'biasbn' | 'none';
export type SliceDirectionKind = 'random' | 'gradient-random';

export interface ParamMeta {
  layer: string;
  role: string;
  shape: number[];
}

/** Seed streams of the two random directions, apart from every other stream of a run. */
export const DIRECTION_STREAMS = [3101, 3102] as const;

/**
 * The groups a normalization rescales together: for every parameter, a function from element index to
 * group id within that parameter and the number of groups; null for a parameter the direction leaves at 0.
 * - filter: rank ≥ 2 (kernels): one group per output filter (last axis); rank ≤ 1 (bias, γ, β): zeroed
 *   under `ignore biasbn`, else the whole vector is one group ("scaled" to the vector's norm);
 * - layer: one group per parameter tensor (1-D ones zeroed under `ignore biasbn`);
 * - none: no rescaling (1-D ones still zeroed under `ignore biasbn`).
 */
export function groupsOf(meta: ParamMeta, norm: SliceNorm, ignore: SliceIgnore): { count: number; of: (i: number) => number } | null {
  if (meta.shape.length <= 1 && ignore === 'biasbn') return null;
  if (norm === 'filter' && meta.shape.length >= 2) {
    const out = meta.shape[meta.shape.length - 1];
    return { count: out, of: (i) => i % out };
  }
  return { count: 1, of: () => 0 };
}

/** Whether a parameter takes part in the slice (biases and BatchNorm γ/β do not under `ignore biasbn`). */
export function isIgnored(meta: ParamMeta, ignore: SliceIgnore): boolean {
  return meta.shape.length <= 1 && ignore === 'biasbn';
}

function groupNorms(v: Float32Array, g: { count: number; of: (i: number) => number }): Float64Array {
  const s = new Float64Array(g.count);
  for (let i = 0; i < v.length; i++) s[g.of(i)] += v[i] * v[i];
  for (let k = 0; k < s.length; k++) s[k] = Math.sqrt(s[k]);
  return s;
}

/** A seeded standard-normal direction with the shapes of `metas`; ignored parameters are 0. */
export function gaussianDirection(metas: ParamMeta[], seed: number, stream: number, ignore: SliceIgnore): Float32Array[] {
  const rng = new Rng(seed, stream);
  // Every parameter draws its values even when ignored, so a parameter's draw does not depend on `ignore`.
  return metas.map((m) => {
    const n = m.shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = rng.normal();
    if (isIgnored(m, ignore)) d.fill(0);
    return d;
  });
}

/** Rescale every group of `d` to the norm of the same group of the weights `w` (in place). */
export function normalizeDirection(d: Float32Array[], w: Float32Array[], metas: ParamMeta[], norm: SliceNorm, ignore: SliceIgnore): void {
  metas.forEach((m, p) => {
    const g = groupsOf(m, norm, ignore);
    if (!g) {
      d[p].fill(0);
      return;
    }
    if (norm === 'none') return;
    const dn = groupNorms(d[p], g);
    const wn = groupNorms(w[p], g);
    const f = new Float64Array(g.count);
    for (let k = 0; k < g.count; k++) f[k] = dn[k] > 0 ? wn[k] / dn[k] : 0;
    for (let i = 0; i < d[p].length; i++) d[p][i] *= f[g.of(i)];
  });
}

export function dot(a: Float32Array[], b: Float32Array[]): number {
  let s = 0;
  for (let p = 0; p < a.length; p++) for (let i = 0; i < a[p].length; i++) s += a[p][i] * b[p][i];
  return s;
}

export function cosine(a: Float32Array[], b: Float32Array[]): number {
  const n = Math.sqrt(dot(a, a) * dot(b, b));
  return n > 0 ? dot(a, b) / n : 0;
}

/**
 * Gram–Schmidt of `d2` against `d1`, group by group, each group then rescaled to the weights' norm of that
 * group (in place). Orthogonal in every group means orthogonal overall, and the per-filter norms stay those
 * of the weights — both properties at once, which a global Gram–Schmidt would not keep. With `norm none`
 * the projection is global and d2 keeps its length.
 */
export function orthogonalize(d2: Float32Array[], d1: Float32Array[], w: Float32Array[], metas: ParamMeta[], norm: SliceNorm, ignore: SliceIgnore): void {
  if (norm === 'none') {
    const before = Math.sqrt(dot(d2, d2));
    const c = dot(d1, d2) / (dot(d1, d1) || 1);
    d2.forEach((v, p) => {
      for (let i = 0; i < v.length; i++) v[i] -= c * d1[p][i];
    });
    const after = Math.sqrt(dot(d2, d2));
    if (after > 0) d2.forEach((v) => v.forEach((x, i) => (v[i] = (x * before) / after)));
    return;
  }
  metas.forEach((m, p) => {
    const g = groupsOf(m, norm, ignore);
    if (!g) return;
    const a = d1[p];
    const b = d2[p];
    const ab = new Float64Array(g.count);
    const aa = new Float64Array(g.count);
    for (let i = 0; i < b.length; i++) {
      const k = g.of(i);
      ab[k] += a[i] * b[i];
      aa[k] += a[i] * a[i];
    }
    for (let i = 0; i < b.length; i++) {
      const k = g.of(i);
      if (aa[k] > 0) b[i] -= (ab[k] / aa[k]) * a[i];
    }
  });
  normalizeDirection(d2, w, metas, norm, ignore);
}

export interface SliceDirections {
  d1: Float32Array[];
  d2: Float32Array[] | null;
  /** cos∠(d₁, d₂) before Gram–Schmidt (null for 1-D slices). */
  cosine: number | null;
  /** gradient-random: d₁ = −g·etaPerAlpha, so the point α on the first axis is x − (α·etaPerAlpha)·g. */
  etaPerAlpha: number | null;
  gradNorm: number | null;
}

export interface DirectionOptions {
  dims: 1 | 2;
  kind: SliceDirectionKind;
  norm: SliceNorm;
  ignore: SliceIgnore;
  seed: number;
}

/**
 * The slice's directions at weights `w`. `grad` (∇L at w on the slice's batch) is needed for
 * gradient-random: d₁ is −g with the ignored parameters set to 0, scaled to the norm of the included
 * weights (so α is measured in the same units as a filter-normalized direction); d₂ a normalized random
 * direction orthogonalized to it.
 */
export function makeDirections(w: Float32Array[], metas: ParamMeta[], o: DirectionOptions, grad?: Float32Array[]): SliceDirections {
  let d1: Float32Array[];
  let etaPerAlpha: number | null = null;
  let gradNorm: number | null = null;
  if (o.kind === 'gradient-random') {
    if (!grad) throw new Error('gradient-random directions need the gradient');
    d1 = grad.map((g, p) => (isIgnored(metas[p], o.ignore) ? new Float32Array(g.length) : Float32Array.from(g, (x) => -x)));
    const gn = Math.sqrt(dot(d1, d1));
    const wIncl = w.map((v, p) => (isIgnored(metas[p], o.ignore) ? new Float32Array(v.length) : v));
    const wn = Math.sqrt(dot(wIncl, wIncl));
    gradNorm = gn;
    etaPerAlpha = gn > 0 ? wn / gn : 0;
    d1.forEach((v) => v.forEach((x, i) => (v[i] = x * etaPerAlpha!)));
  } else {
    d1 = gaussianDirection(metas, o.seed, DIRECTION_STREAMS[0], o.ignore);
    normalizeDirection(d1, w, metas, o.norm, o.ignore);
  }
  if (o.dims === 1) return { d1, d2: null, cosine: null, etaPerAlpha, gradNorm };
  const d2 = gaussianDirection(metas, o.seed, DIRECTION_STREAMS[1], o.ignore);
  normalizeDirection(d2, w, metas, o.norm, o.ignore);
  const cos = cosine(d1, d2);
  orthogonalize(d2, d1, w, metas, o.norm, o.ignore);
  return { d1, d2, cosine: cos, etaPerAlpha, gradNorm };
}

/** n values evenly spaced over [lo, hi] (n = 1: the midpoint). */
export function linspace(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [(lo + hi) / 2];
  return Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));
}

export interface SlicePoint {
  /** Index into the flattened grid: j·alphas.length + i for (alphas[i], betas[j]). */
  index: number;
  alpha: number;
  beta: number;
}

/** Every point of the grid in row order (β outer, α inner); 1-D slices have β = 0. */
export function gridPoints(alphas: number[], betas: number[] | null): SlicePoint[] {
  const bs = betas ?? [0];
  return bs.flatMap((beta, j) => alphas.map((alpha, i) => ({ index: j * alphas.length + i, alpha, beta })));
}

/**
 * L(w + α·d₁ + β·d₂; batch) at every point, as float32 values. Points are evaluated in chunks whose losses
 * are read back together: one read per chunk, so the backend never stalls between forward passes.
 */
export async function evaluatePoints(
  s: ProbeSetup,
  w: Tensor[],
  d1: Tensor[],
  d2: Tensor[] | null,
  batch: Batch,
  points: SlicePoint[],
  forward: ForwardOptions,
  chunk = 16,
  /** After each chunk: the points done so far, and the losses of this chunk's points in order. */
  onChunk?: (done: number, losses: ArrayLike<number>) => void,
): Promise<number[]> {
  const { tf, model } = s;
  const out: number[] = [];
  const shared = sharedFirstLayer(s, w, d1, d2, batch, forward, chunk);
  for (let start = 0; start < points.length; start += chunk) {
    const part = points.slice(start, start + chunk);
    let losses: Tensor[];
    if (shared) losses = [tf.tidy(() => shared.losses(part))];
    else
      losses = part.map((pt) =>
        tf.tidy(() => {
          const ps = w.map((p, k) => {
            let q = tf.add(p, tf.mul(d1[k], pt.alpha));
            if (d2 && pt.beta !== 0) q = tf.add(q, tf.mul(d2[k], pt.beta));
            return q;
          });
          return lossOf(tf, model.forward(tf, ps, batch.x, forward), batch.y, s.loss);
        }),
      );
    const stacked = tf.tidy(() => tf.concat(losses.map((l) => tf.reshape(l, [-1]))));
    const v = await stacked.data();
    tf.dispose([stacked, ...losses]);
    for (const x of v) out.push(x);
    onChunk?.(out.length, v);
  }
  shared?.dispose();
  return out;
}

/**
 * A chunk of points in one forward pass, for a network that starts with a Dense layer on parameter-free
 * input X (ForwardModel.firstDense) followed by layers that stack: that layer's pre-activation at a point is
 * X·W + b + α·(X·d₁ + d₁ᵇ) + β·(X·d₂ + d₂ᵇ), three products for the whole slice instead of one per point, and
 * the other weights w + α·d₁ + β·d₂ are stacked on a leading axis (ForwardOptions.stacked).
 */
function sharedFirstLayer(s: ProbeSetup, w: Tensor[], d1: Tensor[], d2: Tensor[] | null, batch: Batch, forward: ForwardOptions, chunk: number) {
  const { tf, model } = s;
  const fd = model.firstDense;
  if (!fd || s.sharedFirstLayer === false || !model.stacksWithin(forward, w, batch.x.shape[0], chunk, 2)) return null;
  const x = firstLayerInput(s, batch, forward);
  if (!x) return null;
  const pre = (v: Tensor[]) => firstLayerProduct(tf, fd, x, v);
  const [z0, z1, z2] = tf.tidy(() => [pre(w), pre(d1), ...(d2 ? [pre(d2)] : [])]);
  const { others } = fd;
  return {
    losses(part: SlicePoint[]): Tensor {
      const E = part.length;
      const alpha = part.map((p) => p.alpha);
      const beta = part.map((p) => p.beta);
      const column = (vs: number[], rank: number) => tf.reshape(tf.tensor1d(vs), [E, ...new Array<number>(rank).fill(1)]);
      const at = (base: Tensor, a: Tensor, b: Tensor | undefined) => {
        const q = tf.add(tf.expandDims(base, 0), tf.mul(column(alpha, base.rank), tf.expandDims(a, 0)));
        return b ? tf.add(q, tf.mul(column(beta, base.rank), tf.expandDims(b, 0))) : q;
      };
      const shifted = others.map((i) => at(w[i], d1[i], d2?.[i]));
      return lossPerSet(tf, forwardFromFirst(s, w, at(z0, z1, z2), shifted, batch, { ...forward, stacked: E }), batch.y, s.loss);
    },
    dispose(): void {
      tf.dispose([x, z0, z1, ...(z2 ? [z2] : [])]);
    },
  };
}
