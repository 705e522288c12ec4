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

