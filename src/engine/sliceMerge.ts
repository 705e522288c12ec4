// Merging the shares of a slice computed in several engine processes. No TensorFlow.js here: the extension
// host merges the shares of the processes it forks with this too.

import type { SliceResult, SliceVariant } from '../protocol';

/** Partial results carry the loss of every grid point this process evaluated, by flat index. */
export interface SlicePart {
  result: SliceResult;
  /** Per variant: [flat index, loss] of the points evaluated here. */
  points: [number, number][][];
}

export function shapeLoss(alphas: number[], betas: number[] | null, byIndex: Map<number, number>): SliceVariant['loss'] {
  const at = (i: number) => {
    const v = byIndex.get(i);
    return v === undefined || !Number.isFinite(v) ? null : v;
  };
  if (!betas) return alphas.map((_, i) => at(i));
  return betas.map((_, j) => alphas.map((_, i) => at(j * alphas.length + i)));
}

/** Fills a result's losses from the points of every process (see SlicePart). */
export function mergeSliceParts(parts: SlicePart[]): SliceResult {
  const base = structuredClone(parts[0].result);
  const betas = base.betas ?? null;
  base.variants = base.variants.map((v, k) => {
    const byIndex = new Map(parts.flatMap((p) => p.points[k]));
    return { ...v, loss: shapeLoss(base.alphas, betas, byIndex) };
  });
  base.loss = base.variants[0].loss;
  base.processes = parts.length;
  return base;
}

/**
 * The slice so far from the latest snapshot of each process (some may not have sent one yet, or be a variant
 * behind the others): every variant any process has begun, with the points evaluated anywhere, and
 * `pending` the grid points of the requested variants still to come (`variantCount` of them in all).
 */
export function mergeLiveParts(parts: SlicePart[], variantCount: number): SliceResult {
  const base = structuredClone(parts.reduce((a, p) => (p.result.variants.length > a.result.variants.length ? p : a)).result);
  const betas = base.betas ?? null;
  const perVariant = base.alphas.length * (betas ? betas.length : 1);
  let evaluated = 0;
  base.variants = base.variants.map((v, k) => {
    const byIndex = new Map(parts.flatMap((p) => p.points[k] ?? []));
    evaluated += byIndex.size;
    return { ...v, loss: shapeLoss(base.alphas, betas, byIndex) };
  });
  base.loss = base.variants[0].loss;
  base.processes = parts.length;
  base.pending = perVariant * variantCount - evaluated;
  return base;
}
