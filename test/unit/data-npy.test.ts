// .npy reader against files written by NumPy: every supported dtype in both byte orders, all three
// header versions, Fortran order, and the ways a file can be wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, readNpy } from '../../src/engine/data/npy';
import { py, tempDir, throwsUserError } from './data-fixtures';

const dir = tempDir('npy');

// The same values are computed here and, independently, by NumPy when it writes the file.
const signed = (i: number) => ((i * 7) % 23) - 11;
const unsigned = (i: number) => (i * 7) % 23;

const CASES: Array<[string, (i: number) => number, string]> = [
  ['f4', (i) => i * 0.5 - 3, 'np.arange(24) * 0.5 - 3'],
  ['f8', (i) => i / 3 - 2, 'np.arange(24) / 3 - 2'],
  ['i1', signed, '(np.arange(24) * 7) % 23 - 11'],
  ['i2', signed, '(np.arange(24) * 7) % 23 - 11'],
  ['i4', signed, '(np.arange(24) * 7) % 23 - 11'],
  ['i8', signed, '(np.arange(24) * 7) % 23 - 11'],
  ['u1', unsigned, '(np.arange(24) * 7) % 23'],
  ['u2', unsigned, '(np.arange(24) * 7) % 23'],
  ['u4', unsigned, '(np.arange(24) * 7) % 23'],
];

for (const order of ['<', '>']) {
  test(`every numeric dtype, byte order '${order}', matches the values NumPy wrote`, () => {
    const lines = CASES.map(([dt, , expr]) => `np.save(D + '/${dt}${order === '<' ? 'le' : 'be'}.npy', (${expr}).astype('${order}${dt}').reshape(2, 3, 4))`);
    py(dir, lines.join('\n'));
    for (const [dt, f] of CASES) {
      const a = readNpy(join(dir, `${dt}${order === '<' ? 'le' : 'be'}.npy`));
      assert.deepEqual(a.shape, [2, 3, 4]);
      assert.equal(a.dtype, dt);
      assert.equal(a.integer, dt[0] !== 'f');
      const expected = Array.from({ length: 24 }, (_, i) => (dt === 'f4' ? Math.fround(f(i)) : f(i)));
      assert.deepEqual(Array.from(a.data), expected, dt);
    }
  });
}

test('bool arrays read as 0/1', () => {
  py(dir, `np.save(D + '/b.npy', np.arange(7) % 3 == 0)`);
  const a = readNpy(join(dir, 'b.npy'));
  assert.equal(a.dtype, 'b1');
  assert.deepEqual(Array.from(a.data), [1, 0, 0, 1, 0, 0, 1]);
});

test('header versions 1, 2 and 3 give the same array', () => {
  py(
    dir,
    `a = (np.arange(60, dtype=np.float32) - 7).reshape(3, 4, 5)
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(D + '/v%d.npy' % v[0], 'wb') as f:
        np.lib.format.write_array(f, a, version=v)`,
  );
  for (const v of [1, 2, 3]) {
    const bytes = readFileSync(join(dir, `v${v}.npy`));
    assert.equal(bytes[6], v, 'fixture has the intended version');
    const a = readNpy(join(dir, `v${v}.npy`));
    assert.deepEqual(a.shape, [3, 4, 5]);
    assert.deepEqual(
      Array.from(a.data),
      Array.from({ length: 60 }, (_, i) => i - 7),
    );
  }
});

test('Fortran-order arrays come back in C order (2-D and 3-D)', () => {
  py(
    dir,
    `a = np.arange(6, dtype=np.float64).reshape(2, 3)
np.save(D + '/f2.npy', np.asfortranarray(a))
b = (np.arange(24, dtype=np.int32) * 3).reshape(2, 3, 4)
np.save(D + '/f3.npy', np.asfortranarray(b))
print(np.load(D + '/f3.npy').flags['F_CONTIGUOUS'])`,
  );
  assert.match(readFileSync(join(dir, 'f3.npy')).toString('latin1', 0, 128), /'fortran_order': True/);
  const a = readNpy(join(dir, 'f2.npy'));
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5]);
  const b = readNpy(join(dir, 'f3.npy'));
  assert.deepEqual(b.shape, [2, 3, 4]);
  assert.deepEqual(
    Array.from(b.data),
    Array.from({ length: 24 }, (_, i) => i * 3),
  );
});

test('scalars and empty arrays parse', () => {
  py(dir, `np.save(D + '/s.npy', np.float32(2.5))\nnp.save(D + '/e.npy', np.zeros((0, 3), np.float32))`);
  const s = readNpy(join(dir, 's.npy'));
  assert.deepEqual(s.shape, []);
  assert.deepEqual(Array.from(s.data), [2.5]);
  const e = readNpy(join(dir, 'e.npy'));
  assert.deepEqual(e.shape, [0, 3]);
  assert.equal(e.data.length, 0);
});

test('unsupported dtypes are refused with the dtype and the fix', () => {
  py(
    dir,
    `np.save(D + '/c.npy', np.zeros(3, np.complex64))
np.save(D + '/u.npy', np.array(['ab', 'c']))
np.save(D + '/r.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
np.save(D + '/h.npy', np.zeros(2, np.float16))`,
  );
  throwsUserError(() => readNpy(join(dir, 'c.npy')), join(dir, 'c.npy'), /dtype '<c8'/, /astype/);
  throwsUserError(() => readNpy(join(dir, 'u.npy')), join(dir, 'u.npy'), /dtype '<U2'/);
  throwsUserError(() => readNpy(join(dir, 'r.npy')), join(dir, 'r.npy'), /structured/);
  throwsUserError(() => readNpy(join(dir, 'h.npy')), join(dir, 'h.npy'), /dtype '<f2'/);
});

test('64-bit integers beyond 2^53 are refused, not rounded', () => {
  py(dir, `np.save(D + '/big.npy', np.array([1, 2**60], np.int64))`);
  throwsUserError(() => readNpy(join(dir, 'big.npy')), join(dir, 'big.npy'), /too large/, /flat index 1/);
});

test('truncated, empty and non-npy files give one-line errors naming the file', () => {
  py(dir, `np.save(D + '/full.npy', np.ones((10, 10), np.float32))`);
  const full = readFileSync(join(dir, 'full.npy'));
  writeFileSync(join(dir, 'cut.npy'), full.subarray(0, full.length - 7));
  throwsUserError(() => readNpy(join(dir, 'cut.npy')), join(dir, 'cut.npy'), /truncated/, /400 data bytes, found 393/);
  writeFileSync(join(dir, 'cuthead.npy'), full.subarray(0, 40));
  throwsUserError(() => readNpy(join(dir, 'cuthead.npy')), join(dir, 'cuthead.npy'), /truncated/, /header/);
  writeFileSync(join(dir, 'empty.npy'), new Uint8Array(0));
  throwsUserError(() => readNpy(join(dir, 'empty.npy')), join(dir, 'empty.npy'), /empty/);
  writeFileSync(join(dir, 'text.npy'), 'hello');
  throwsUserError(() => readNpy(join(dir, 'text.npy')), join(dir, 'text.npy'), /not in \.npy format/);
  throwsUserError(() => readNpy(join(dir, 'missing.npy')), join(dir, 'missing.npy'), /not found/);
});

test('an unknown format version is refused', () => {
  const b = Buffer.from(readFileSync(join(dir, 'full.npy')));
  b[6] = 9;
  throwsUserError(() => parseNpy(b, 'v9.npy'), 'v9.npy', /version 9/);
});
