// loadDataset over NumPy files: the spec forms, layout adaptation, the loss decision, the held-out
// split, and the one-line errors for data that does not fit the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/engine/data';
import { py, tempDir, throwsUserError } from './data-fixtures';

const dir = tempDir('load');
for (const sub of ['pair', 'named', 'withtest', 'chw', 'bad']) mkdirSync(join(dir, sub));
py(
  dir,
  `x = np.arange(40 * 12, dtype=np.float64).reshape(40, 3, 4) / 100
y = np.arange(40) % 5
np.save(D + '/pair/x.npy', x); np.save(D + '/pair/y.npy', y)
np.save(D + '/named/x_train.npy', x.astype(np.float32)); np.save(D + '/named/y_train.npy', y.astype(np.int32))
np.save(D + '/withtest/x.npy', x); np.save(D + '/withtest/y.npy', y)
np.save(D + '/withtest/x_test.npy', x[:6] + 1); np.save(D + '/withtest/y_test.npy', y[:6])
# channel-first images: 5 images of 3×2×4 (c, h, w) with value = 100·c + 10·h + w + 1000·i
i, c, h, w = np.meshgrid(np.arange(5), np.arange(3), np.arange(2), np.arange(4), indexing='ij')
np.save(D + '/chw/x.npy', (1000 * i + 100 * c + 10 * h + w).astype(np.float32)); np.save(D + '/chw/y.npy', np.zeros(5, np.int8))
np.savez(D + '/split.npz', x=x, y=y, x_test=x[:3], y_test=y[:3])
np.savez(D + '/onehot.npz', x=x, y=np.eye(5, dtype=np.float32)[y])
np.savez(D + '/reg.npz', x=x, y=(x.reshape(40, -1) @ np.ones((12, 2))).astype(np.float32))
np.savez(D + '/intreg.npz', x=x, y=y)
np.savez(D + '/nan.npz', x=np.where(np.arange(480).reshape(40, 3, 4) == 17 * 12 + 5, np.nan, x), y=y)
np.savez(D + '/yinf.npz', x=x, y=np.where(np.arange(40) == 9, np.inf, 1.0))
np.savez(D + '/zero.npz', x=np.zeros((0, 3, 4)), y=np.zeros(0, np.int64))
np.savez(D + '/count.npz', x=x, y=y[:39])
np.savez(D + '/onlytest.npz', x=x, y=y, x_test=x[:2])
np.savez(D + '/bool.npz', x=x, y=(y > 2))
np.save(D + '/bad/x.npy', x)`,
);

const need = (inputShape: number[], outputs = 5, loss: 'auto' | 'mse' | 'softmax-ce' = 'auto') => ({ inputShape, outputs, loss });
const expectedX = (i: number, j: number) => (i * 12 + j) / 100;

test('spec forms: DIR/x.npy, the folder, x.npy,y.npy and x_train.npy all load the same data', () => {
  const forms = [join(dir, 'pair', 'x.npy'), join(dir, 'pair'), `${join(dir, 'pair', 'x.npy')},${join(dir, 'pair', 'y.npy')}`];
  const sets = forms.map((f) => loadDataset(f, need([12]), { seed: 3 }));
  for (const d of sets) {
    assert.equal(d.loss, 'softmax-ce');
    assert.deepEqual(d.train.x, sets[0].train.x);
    assert.deepEqual(d.train.labels, sets[0].train.labels);
  }
  const named = loadDataset(join(dir, 'named', 'x_train.npy'), need([12]), { seed: 3 });
  assert.deepEqual(named.train.labels, sets[0].train.labels);
  assert.deepEqual(named.train.x, sets[0].train.x);
});

test('files without a test split hold out 20% chosen by the seed; same seed same split, all examples kept', () => {
  const f = join(dir, 'pair');
  const a = loadDataset(f, need([12]), { seed: 3 });
  const b = loadDataset(f, need([12]), { seed: 3 });
  const c = loadDataset(f, need([12]), { seed: 4 });
  assert.equal(a.test.n, 8);
  assert.equal(a.train.n, 32);
  assert.deepEqual(a.test.x, b.test.x);
  assert.notDeepEqual(a.test.x, c.test.x);
  assert.match(a.description!, /20%/);
  // Each example appears once, with its own label: recover the row index from x and check y.
  const seen = new Set<number>();
  for (const s of [a.train, a.test]) {
    for (let k = 0; k < s.n; k++) {
      const i = Math.round(s.x[k * 12] * 100) / 12;
      assert.ok(Number.isInteger(i) && !seen.has(i));
      seen.add(i);
      assert.equal(s.labels![k], i % 5);
      for (let j = 0; j < 12; j++) assert.equal(s.x[k * 12 + j], Math.fround(expectedX(i, j)));
    }
  }
  assert.equal(seen.size, 40);
});

test('x_test/y_test (npz members or sibling files) are the held-out split', () => {
  const z = loadDataset(join(dir, 'split.npz'), need([12]), { seed: 1 });
  assert.equal(z.train.n, 40);
  assert.equal(z.test.n, 3);
  const s = loadDataset(join(dir, 'withtest'), need([12]), { seed: 1 });
  assert.equal(s.train.n, 40);
  assert.equal(s.test.n, 6);
  assert.equal(s.test.x[0], 1);
  throwsUserError(() => loadDataset(join(dir, 'onlytest.npz'), need([12]), { seed: 1 }), join(dir, 'onlytest.npz'), /no array 'y_test'/);
});

test('layouts: reshape when sizes agree, channel-first images transposed to channel-last', () => {
  const flat = loadDataset(join(dir, 'pair'), need([12]), { seed: 3 });
  const img = loadDataset(join(dir, 'pair'), need([3, 4, 1]), { seed: 3 });
  assert.deepEqual(img.inputShape, [3, 4, 1]);
  assert.deepEqual(img.train.x, flat.train.x);
  // [3,2,4] (c,h,w) into a [2,4,3] model: value at (h, w, c) must be 100c + 10h + w (+1000 i).
  const chw = loadDataset(join(dir, 'chw'), need([2, 4, 3], 2), { seed: 0 });
  for (const s of [chw.train, chw.test]) {
    for (let k = 0; k < s.n; k++) {
      const i = Math.floor(s.x[k * 24] / 1000);
      for (let h = 0; h < 2; h++)
        for (let w = 0; w < 4; w++)
          for (let c = 0; c < 3; c++) {
            assert.equal(s.x[k * 24 + (h * 4 + w) * 3 + c], 1000 * i + 100 * c + 10 * h + w);
          }
    }
  }
  const f = join(dir, 'pair', 'x.npy');
  throwsUserError(() => loadDataset(f, need([28, 28, 1]), { seed: 1 }), f, /\[3, 4\] \(12 values\)/, /\[28, 28, 1\] \(784 values\)/);
});

test("loss 'auto': class ids → softmax-ce, float targets → mse, ids for one output → mse; one-hot y with softmax-ce", () => {
  assert.equal(loadDataset(join(dir, 'reg.npz'), need([12], 2), { seed: 1 }).loss, 'mse');
  const one = loadDataset(join(dir, 'intreg.npz'), need([12], 1), { seed: 1 });
  assert.equal(one.loss, 'mse');
  const oh = loadDataset(join(dir, 'onehot.npz'), need([12], 5, 'softmax-ce'), { seed: 1 });
  const ids = loadDataset(join(dir, 'pair'), need([12], 5), { seed: 1 });
  assert.deepEqual(oh.train.labels, ids.train.labels);
  assert.equal(loadDataset(join(dir, 'onehot.npz'), need([12], 5), { seed: 1 }).loss, 'mse');
  // Class ids for an mse model of the class count become one-hot targets.
  const m = loadDataset(join(dir, 'pair'), need([12], 5, 'mse'), { seed: 1 });
  for (let k = 0; k < m.train.n; k++) for (let j = 0; j < 5; j++) assert.equal(m.train.targets![k * 5 + j], j === ids.train.labels![k] ? 1 : 0);
  const b = loadDataset(join(dir, 'bool.npz'), need([12], 2), { seed: 1 });
  assert.equal(b.loss, 'softmax-ce');
});

test('data errors: NaN and infinity (first index), zero examples, count mismatch, wrong target width, missing labels', () => {
  const nan = join(dir, 'nan.npz');
  throwsUserError(() => loadDataset(nan, need([12]), { seed: 1 }), nan, /x of example 17 \(value 5\) is NaN/);
  const yinf = join(dir, 'yinf.npz');
  throwsUserError(() => loadDataset(yinf, need([12], 1), { seed: 1 }), yinf, /y of example 9 \(value 0\) is infinite/);
  const zero = join(dir, 'zero.npz');
  throwsUserError(() => loadDataset(zero, need([12]), { seed: 1 }), zero, /zero examples/);
  const count = join(dir, 'count.npz');
  throwsUserError(() => loadDataset(count, need([12]), { seed: 1 }), count, /'x' has 40 examples but 'y' has 39/);
  const reg = join(dir, 'reg.npz');
  throwsUserError(() => loadDataset(reg, need([12], 3), { seed: 1 }), reg, /2 value\(s\) per example but the model has 3 outputs/);
  throwsUserError(() => loadDataset(join(dir, 'bad', 'x.npy'), need([12]), { seed: 1 }), join(dir, 'bad', 'y.npy'), /no labels file/);
  const range = join(dir, 'pair');
  throwsUserError(() => loadDataset(range, need([12], 4), { seed: 1 }), join(range, 'x.npy'), /example 4 is 4, out of range for a model with 4 classes \(0…3\)/);
});

test('unknown names and missing paths', () => {
  throwsUserError(() => loadDataset('cifar', need([12]), { seed: 1 }), undefined, /unknown data set 'cifar'/, /mnist, gaussian, dln/);
  const missing = join(dir, 'nothing.npz');
  throwsUserError(() => loadDataset(missing, need([12]), { seed: 1 }), missing, /not found/);
  throwsUserError(() => loadDataset(join(dir, 'nothing', 'x.csv'), need([12]), { seed: 1 }), 'nothing', /not found/);
  throwsUserError(() => loadDataset(dir, need([12]), { seed: 1 }), dir, /neither x\.npy\/y\.npy nor CIFAR-10/);
  throwsUserError(() => loadDataset('a.npy,b.csv', need([12]), { seed: 1 }), undefined, /comma/);
});
