// Mini-batches for training. The order comes only from the Rng passed in, so variants trained from
// the same seed see exactly the same batches in the same order — a difference between them is then
// the network's, not the data order's.

import { Rng } from '../rng';
import type { DataSplit } from './types';

/** Rng stream for batch order, apart from the data generators' and the initializers' streams. */
export const BATCH_STREAM = 1003;

export interface Batch {
  /** Examples in this batch. */
  n: number;
  /** n × inputSize values, row-major. */
  x: Float32Array;
  labels?: Int32Array;
  /** n × outputs values. */
  targets?: Float32Array;
  /** Positions of these examples in the split. */
  indices: Int32Array;
}

export interface BatchOptions {
  /**
   * Drop the last, smaller batch of an epoch (default true): a batch of a different size changes the
   * BatchNorm statistics and the loss scale, which would show up as a spike in the probes.
   * When the split has fewer examples than batchSize, the one batch of all of them is kept.
   */
  dropLast?: boolean;
}

/** One epoch: a fresh permutation from `rng`, cut into batches. */
export function* epochBatches(split: DataSplit, batchSize: number, rng: Rng, opts: BatchOptions = {}): Generator<Batch> {
  if (!(batchSize >= 1) || !Number.isInteger(batchSize)) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  if (split.n === 0) return;
  const dropLast = opts.dropLast ?? true;
  const perm = rng.permutation(split.n);
  const size = batchSize > split.n ? split.n : batchSize;
  for (let start = 0; start < split.n; start += size) {
    const end = Math.min(start + size, split.n);
    if (end - start < size && dropLast) break;
    yield takeRows(split, perm.subarray(start, end));
  }
}

/**
 * Endless batches across epochs: what a step-counted training loop wants. Give each variant its own
 * `new Rng(seed, BATCH_STREAM)` (or call with the seed) so that all variants see the same sequence.
 */
export function* batchIterator(split: DataSplit, batchSize: number, rng: Rng | number, opts: BatchOptions = {}): Generator<Batch> {
  if (split.n === 0) throw new RangeError('cannot draw batches from an empty split');
  const r = typeof rng === 'number' ? new Rng(rng, BATCH_STREAM) : rng;
  for (;;) yield* epochBatches(split, batchSize, r, opts);
}

/** Copies the given rows of a split into a compact batch. */
export function takeRows(split: DataSplit, rows: ArrayLike<number>): Batch {
  const n = rows.length;
  const xw = split.n > 0 ? split.x.length / split.n : 0;
  const x = new Float32Array(n * xw);
  const indices = Int32Array.from(rows);
  for (let k = 0; k < n; k++) x.set(split.x.subarray(rows[k] * xw, rows[k] * xw + xw), k * xw);
  const batch: Batch = { n, x, indices };
  if (split.labels) {
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) labels[k] = split.labels[rows[k]];
    batch.labels = labels;
  }
  if (split.targets) {
    const tw = split.targets.length / split.n;
    const targets = new Float32Array(n * tw);
    for (let k = 0; k < n; k++) targets.set(split.targets.subarray(rows[k] * tw, rows[k] * tw + tw), k * tw);
    batch.targets = targets;
  }
  return batch;
}
