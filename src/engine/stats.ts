// Mean, standard deviation and a small histogram of a layer's values, accumulated in float64 in JS (the
// values are read back anyway for the histogram, and a float32 reduction would lose digits on big layers).

import type { Histogram } from '../protocol';

export const HIST_BINS = 20;

export function statsOf(v: ArrayLike<number>, bins = HIST_BINS): { mean: number; std: number; hist: Histogram } {
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, hist: { min: NaN, max: NaN, counts: new Array(bins).fill(0) } };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i] - mean;
    ss += d * d;
  }
  const counts = new Array<number>(bins).fill(0);
  const width = max - min;
  for (let i = 0; i < n; i++) {
    const b = width > 0 ? Math.min(bins - 1, Math.floor(((v[i] - min) / width) * bins)) : 0;
    counts[b]++;
  }
  return { mean, std: Math.sqrt(ss / n), hist: { min, max, counts } };
}
