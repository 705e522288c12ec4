// Reader for the official CIFAR-10 binary version (cifar-10-batches-bin): data_batch_1..5.bin for
// training and test_batch.bin held out. Each record is 1 label byte then 3072 pixel bytes stored as
// three 32×32 planes (R, G, B), rows top to bottom. We return NHWC float32 in [0, 1], the layout the
// engine's conv layers take.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { readUserFile } from './files';
import type { DataSplit } from './types';

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
export const CIFAR_CLASSES = 10;
const PIXELS = CIFAR_SIDE * CIFAR_SIDE * CIFAR_CHANNELS;
const RECORD = 1 + PIXELS;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';

/** True when `dir` looks like a CIFAR-10 binary folder (has at least one of its batch files). */
export function isCifarDir(dir: string): boolean {
  return [...TRAIN_FILES, TEST_FILE].some((f) => existsSync(join(dir, f)));
}

/**
 * Reads the batches present in `dir`. Training batches that are missing are skipped (a user may keep
 * only data_batch_1.bin to save time); a folder with no training batch at all is an error.
 */
export function readCifar10(dir: string): { train: DataSplit; test: DataSplit } {
  const trainFiles = TRAIN_FILES.filter((f) => existsSync(join(dir, f)));
  if (trainFiles.length === 0) {
    const seen = existsSync(dir) ? readdirSync(dir).slice(0, 5).join(', ') : 'nothing';
    throw new UserError(`no CIFAR-10 training batch (data_batch_1.bin … data_batch_5.bin) in this folder (found: ${seen || 'nothing'}); point at the extracted cifar-10-batches-bin folder`, dir);
  }
  const train = readBatches(trainFiles.map((f) => join(dir, f)));
  const test = existsSync(join(dir, TEST_FILE)) ? readBatches([join(dir, TEST_FILE)]) : emptySplit();
  return { train, test };
}

/** Decodes CIFAR-10 binary batch files into one split. */
export function readBatches(paths: string[]): DataSplit {
  const bufs = paths.map((p) => {
    const b = readUserFile(p);
    if (b.length === 0) throw new UserError('CIFAR-10 batch file is empty; copy it again from the cifar-10-binary archive', p);
    if (b.length % RECORD !== 0) {
      throw new UserError(`CIFAR-10 batch file is truncated or not in the binary format (${b.length} bytes is not a multiple of the ${RECORD}-byte record); copy it again from cifar-10-binary.tar.gz`, p);
    }
    return b;
  });
  const n = bufs.reduce((s, b) => s + b.length / RECORD, 0);
  const x = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  let i = 0;
  for (let f = 0; f < bufs.length; f++) {
    const b = bufs[f];
    for (let r = 0; r < b.length; r += RECORD, i++) {
      const label = b[r];
      if (label >= CIFAR_CLASSES) {
        throw new UserError(`record ${r / RECORD} has label ${label}, but CIFAR-10 has ${CIFAR_CLASSES} classes (0–9); is this CIFAR-100 (2 label bytes)? Use a CIFAR-10 batch`, paths[f]);
      }
      labels[i] = label;
      const out = i * PIXELS;
      for (let c = 0; c < CIFAR_CHANNELS; c++) {
        const src = r + 1 + c * plane;
        for (let p = 0; p < plane; p++) x[out + p * CIFAR_CHANNELS + c] = b[src + p] / 255;
      }
    }
  }
  return { n, x, labels };
}

function emptySplit(): DataSplit {
  return { n: 0, x: new Float32Array(0), labels: new Int32Array(0) };
}
