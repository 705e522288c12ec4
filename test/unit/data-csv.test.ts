// Numeric CSV: header detection, label last, class ids vs regression targets, and errors that point
// at the line and column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/engine/data';
import { parseCsv } from '../../src/engine/data/csv';
import { tempDir, throwsUserError } from './data-fixtures';

const dir = tempDir('csv');
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('header row is detected and kept apart; values parse row-major', () => {
  const t = parseCsv('a,b,label\n1,2,0\n3.5,-4e-1,1\n', 'f.csv');
  assert.deepEqual(t.header, ['a', 'b', 'label']);
  assert.equal(t.rows, 2);
  assert.deepEqual(Array.from(t.values), [1, 2, 0, 3.5, -0.4, 1]);
  assert.deepEqual(Array.from(t.lines), [2, 3]);
  const noHeader = parseCsv('\uFEFF1,2,0\r\n\r\n3,4,1\r\n', 'g.csv');
  assert.equal(noHeader.header, undefined);
  assert.deepEqual(Array.from(noHeader.lines), [1, 3]);
});

test('integer last column → classes (softmax-ce); fractional → mse targets', () => {
  const rows = Array.from({ length: 20 }, (_, i) => `${i},${i * 2},${i % 3}`).join('\n');
  const cls = file('cls.csv', 'f1,f2,y\n' + rows);
  const a = loadDataset(cls, { inputShape: [2], outputs: 3, loss: 'auto' }, { seed: 4 });
  assert.equal(a.loss, 'softmax-ce');
  assert.equal(a.train.n + a.test.n, 20);
  assert.equal(a.test.n, 4, '20% held out');
  for (let i = 0; i < a.train.n; i++) assert.equal(a.train.labels![i], a.train.x[i * 2] % 3);

  const reg = file('reg.csv', Array.from({ length: 10 }, (_, i) => `${i},${i / 4 + 0.1}`).join('\n'));
  const b = loadDataset(reg, { inputShape: [1], outputs: 1, loss: 'auto' }, { seed: 4 });
  assert.equal(b.loss, 'mse');
  for (let i = 0; i < b.train.n; i++) assert.equal(b.train.targets![i], Math.fround(b.train.x[i] / 4 + 0.1));

  // An mse model with 2 outputs takes the last 2 columns as targets.
  const wide = file('wide.csv', '1,2,3,4\n5,6,7,8\n9,10,11,12\n');
  const c = loadDataset(wide, { inputShape: [2], outputs: 2, loss: 'mse' }, { seed: 1 });
  const all = [...Array.from(c.train.x), ...Array.from(c.test.x)];
  assert.equal(all.length, 6);
  assert.deepEqual([...c.train.targets!].length, c.train.n * 2);
  for (let i = 0; i < c.train.n; i++) assert.equal(c.train.targets![i * 2], c.train.x[i * 2] + 2);
});

test('bad cells, ragged rows, empty files and NaN point at the line', () => {
  const bad = file('bad.csv', 'a,b,y\n1,2,0\n1,x,1\n');
  const line = throwsUserError(() => loadDataset(bad, { inputShape: [2], outputs: 2, loss: 'auto' }, { seed: 1 }), bad, /cell 2 is 'x', not a number/);
  assert.ok(line.startsWith(`${bad}:3:3:`), line);
  const empty1 = file('blank1.csv', '1,2,0\n,3,1\n');
  throwsUserError(() => parseCsv('1,2,0\n,3,1\n', empty1), empty1, /cell 1 is '', not a number/);

  const ragged = file('ragged.csv', '1,2,0\n1,2\n');
  assert.ok(throwsUserError(() => loadDataset(ragged, { inputShape: [2], outputs: 2, loss: 'auto' }, { seed: 1 }), ragged, /2 columns but the first row has 3/).startsWith(`${ragged}:2:`));

  const empty = file('empty.csv', '');
  throwsUserError(() => loadDataset(empty, { inputShape: [2], outputs: 2, loss: 'auto' }, { seed: 1 }), empty, /no data rows/);
  const headerOnly = file('header.csv', 'a,b,y\n');
  throwsUserError(() => loadDataset(headerOnly, { inputShape: [2], outputs: 2, loss: 'auto' }, { seed: 1 }), headerOnly, /no data rows/);

  const nan = file('nan.csv', '1,2,0\n3,4,1\n5,nan,0\n');
  assert.ok(throwsUserError(() => loadDataset(nan, { inputShape: [2], outputs: 2, loss: 'auto' }, { seed: 1 }), nan, /example 2 \(value 1\) is NaN/).startsWith(`${nan}:3:`));
  const inf = file('inf.csv', '1,2,0\n3,-inf,1\n');
  throwsUserError(() => loadDataset(inf, { inputShape: [2], outputs: 2, loss: 'auto' }, { seed: 1 }), inf, /example 1 \(value 1\) is infinite/);
});

test('label out of range names the example, the value and the class count', () => {
  const f = file('range.csv', '1,2,0\n3,4,1\n5,6,7\n');
  throwsUserError(() => loadDataset(f, { inputShape: [2], outputs: 3, loss: 'softmax-ce' }, { seed: 1 }), f, /example 2 is 7/, /3 classes/);
  const neg = file('neg.csv', '1,2,0\n3,4,-1\n');
  throwsUserError(() => loadDataset(neg, { inputShape: [2], outputs: 3, loss: 'auto' }, { seed: 1 }), neg, /example 1 is -1/);
  const frac = file('frac.csv', '1,2,0\n3,4,1.5\n');
  throwsUserError(() => loadDataset(frac, { inputShape: [2], outputs: 3, loss: 'softmax-ce' }, { seed: 1 }), frac, /1\.5, not a class id/);
});
