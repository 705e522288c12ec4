// Batches: each epoch a permutation of the split, rows copied intact, and the same sequence for every
// variant that starts from the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchIterator, epochBatches, loadDataset, BATCH_STREAM } from '../../src/engine/data';
import { Rng } from '../../src/engine/rng';
import type { DataSplit } from '../../src/engine/data';

// Row i has x = [i, 10i, 100i] and target [−i], so a batch row can be traced back to its source.
const n = 23;
const split: DataSplit = {
  n,
  x: Float32Array.from({ length: n * 3 }, (_, k) => Math.floor(k / 3) * 10 ** (k % 3)),
  targets: Float32Array.from({ length: n }, (_, i) => -i),
};

test('one epoch visits every example once; dropLast keeps batch sizes equal', () => {
  const all = [...epochBatches(split, 5, new Rng(1), { dropLast: false })];
  assert.deepEqual(
    all.map((b) => b.n),
    [5, 5, 5, 5, 3],
  );
  const seen = all.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
  assert.deepEqual(
    seen,
    Array.from({ length: n }, (_, i) => i),
  );
  for (const b of all) {
    for (let k = 0; k < b.n; k++) {
      const i = b.indices[k];
      assert.deepEqual(Array.from(b.x.subarray(k * 3, k * 3 + 3)), [i, 10 * i, 100 * i]);
      assert.equal(b.targets![k], -i);
    }
  }
  const dropped = [...epochBatches(split, 5, new Rng(1))];
  assert.deepEqual(
    dropped.map((b) => b.n),
    [5, 5, 5, 5],
  );
  assert.deepEqual(
    [...epochBatches(split, 100, new Rng(1))].map((b) => b.n),
    [23],
    'a split smaller than the batch is one batch',
  );
});

test('the endless iterator reshuffles each epoch and repeats exactly for the same seed', () => {
  const take = (seed: number, count: number) => {
    const it = batchIterator(split, 4, seed);
    return Array.from({ length: count }, () => Array.from(it.next().value!.indices));
  };
  const a = take(9, 12);
  const b = take(9, 12);
  assert.deepEqual(a, b);
  assert.notDeepEqual(take(10, 12), a);
  // 5 full batches per epoch (23 = 5·4 + 3 dropped): epoch 2 starts at batch 5 with a new order.
  assert.notDeepEqual(a.slice(0, 5), a.slice(5, 10));
  assert.equal(new Set(a.slice(0, 5).flat()).size, 20);
  // A number seed means new Rng(seed, BATCH_STREAM).
  const viaRng = batchIterator(split, 4, new Rng(9, BATCH_STREAM));
  assert.deepEqual(Array.from(viaRng.next().value!.indices), a[0]);
});

test('labels travel with their rows', () => {
  const d = loadDataset('gaussian', { inputShape: [4], outputs: 3, loss: 'auto' }, { seed: 2 });
  const it = batchIterator(d.train, 32, 2);
  for (let s = 0; s < 3; s++) {
    const b = it.next().value!;
    for (let k = 0; k < b.n; k++) {
      assert.equal(b.labels![k], d.train.labels![b.indices[k]]);
      assert.deepEqual(b.x.subarray(k * 4, k * 4 + 4), d.train.x.subarray(b.indices[k] * 4, b.indices[k] * 4 + 4));
    }
  }
  assert.throws(() => batchIterator({ n: 0, x: new Float32Array(0) }, 4, 1).next(), RangeError);
});
