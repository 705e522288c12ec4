// CIFAR-10 binary batches, written here byte by byte in the documented format (1 label byte, then the
// R, G and B 32×32 planes), so that a pixel's place in the NHWC output can be checked exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/engine/data';
import { readCifar10 } from '../../src/engine/data/cifar';
import { tempDir, throwsUserError } from './data-fixtures';

const root = tempDir('cifar');

/** Pixel byte of record k, channel c, row r, column col: distinct enough to catch any mix-up. */
const px = (k: number, c: number, r: number, col: number) => (k * 101 + c * 67 + r * 7 + col * 3) % 256;

function record(k: number, label: number): Uint8Array {
  const b = new Uint8Array(3073);
  b[0] = label;
  for (let c = 0; c < 3; c++) for (let r = 0; r < 32; r++) for (let col = 0; col < 32; col++) b[1 + c * 1024 + r * 32 + col] = px(k, c, r, col);
  return b;
}

function batch(records: Uint8Array[]): Uint8Array {
  return Buffer.concat(records);
}

const good = join(root, 'cifar-10-batches-bin');
mkdirSync(good);
writeFileSync(join(good, 'data_batch_1.bin'), batch([record(0, 3), record(1, 9)]));
writeFileSync(join(good, 'data_batch_2.bin'), batch([record(2, 0)]));
writeFileSync(join(good, 'test_batch.bin'), batch([record(3, 7)]));
writeFileSync(join(good, 'batches.meta.txt'), 'airplane\n');

test('records decode to NHWC in [0, 1] with labels, train batches in order, test batch held out', () => {
  const { train, test: held } = readCifar10(good);
  assert.equal(train.n, 3);
  assert.deepEqual(Array.from(train.labels!), [3, 9, 0]);
  assert.equal(held.n, 1);
  assert.deepEqual(Array.from(held.labels!), [7]);
  for (const [split, i, k] of [
    [train, 0, 0],
    [train, 1, 1],
    [train, 2, 2],
    [held, 0, 3],
  ] as const) {
    for (const [r, col, c] of [
      [0, 0, 0],
      [0, 1, 0],
      [1, 0, 0],
      [5, 17, 1],
      [31, 31, 2],
      [12, 3, 2],
    ]) {
      const v = split.x[i * 3072 + (r * 32 + col) * 3 + c];
      assert.equal(v, Math.fround(px(k, c, r, col) / 255), `record ${k} pixel (${r},${col}) channel ${c}`);
    }
  }
});

test('loadDataset takes a CIFAR folder for [32,32,3] and flattened [3072] models', () => {
  const d = loadDataset(good, { inputShape: [32, 32, 3], outputs: 10, loss: 'auto' }, { seed: 1 });
  assert.equal(d.loss, 'softmax-ce');
  assert.equal(d.train.n, 3);
  assert.equal(d.test.n, 1);
  const flat = loadDataset(good, { inputShape: [3072], outputs: 10, loss: 'auto' }, { seed: 1 });
  assert.deepEqual(Array.from(flat.train.x), Array.from(d.train.x));
  throwsUserError(() => loadDataset(good, { inputShape: [28, 28, 1], outputs: 10, loss: 'auto' }, { seed: 1 }), good, /\[32, 32, 3\]/, /\[28, 28, 1\]/);
});

test('a truncated batch, a CIFAR-100 label and a folder without batches are one-line errors', () => {
  const cut = join(root, 'cut');
  mkdirSync(cut);
  writeFileSync(join(cut, 'data_batch_1.bin'), batch([record(0, 1), record(1, 2)]).subarray(0, 5000));
  throwsUserError(() => readCifar10(cut), join(cut, 'data_batch_1.bin'), /truncated/, /3073-byte record/);

  const hundred = join(root, 'hundred');
  mkdirSync(hundred);
  writeFileSync(join(hundred, 'data_batch_1.bin'), batch([record(0, 1), record(1, 57)]));
  throwsUserError(() => readCifar10(hundred), join(hundred, 'data_batch_1.bin'), /record 1 has label 57/, /10 classes/);

  const onlyTest = join(root, 'onlytest');
  mkdirSync(onlyTest);
  writeFileSync(join(onlyTest, 'test_batch.bin'), record(0, 1));
  throwsUserError(() => readCifar10(onlyTest), onlyTest, /no CIFAR-10 training batch/, /test_batch\.bin/);

  const empty = join(root, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'data_batch_1.bin'), '');
  throwsUserError(() => readCifar10(empty), join(empty, 'data_batch_1.bin'), /empty/);
});
