// .npz reader against archives written by np.savez / np.savez_compressed, including the zip64
// central-directory records that numpy emits for large archives (forced here on small ones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpz } from '../../src/engine/data/npz';
import { loadDataset } from '../../src/engine/data';
import { py, tempDir, throwsUserError } from './data-fixtures';

const dir = tempDir('npz');

py(
  dir,
  `x = (np.arange(15, dtype=np.float32) * 0.25).reshape(5, 3)
y = np.array([0, 2, 1, 2, 0], np.int64)
w = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
np.savez(D + '/plain.npz', x=x, y=y, w=w)
np.savez_compressed(D + '/packed.npz', x=x, y=y, w=w)
np.savez(D + '/noy.npz', x=x, labels=y)
# zip64 everywhere: numpy's zipfile writes zip64 extra fields and end records once an archive passes
# 4 GiB or 65535 members; lowering the limits gives the same records on a small file.
import zipfile
zipfile.ZIP64_LIMIT = 1
zipfile.ZIP_FILECOUNT_LIMIT = 1
np.savez_compressed(D + '/zip64.npz', x=x, y=y, w=w)
np.savez(D + '/zip64stored.npz', x=x, y=y, w=w)`,
);

function checkArrays(file: string) {
  const m = readNpz(join(dir, file));
  assert.deepEqual([...m.keys()].sort(), ['w', 'x', 'y']);
  assert.deepEqual(m.get('x')!.shape, [5, 3]);
  assert.deepEqual(
    Array.from(m.get('x')!.data),
    Array.from({ length: 15 }, (_, i) => i * 0.25),
  );
  assert.equal(m.get('y')!.dtype, 'i8');
  assert.deepEqual(Array.from(m.get('y')!.data), [0, 2, 1, 2, 0]);
  assert.deepEqual(
    Array.from(m.get('w')!.data),
    Array.from({ length: 12 }, (_, i) => i),
  );
}

test('np.savez (stored members) reads back every array by name', () => checkArrays('plain.npz'));
test('np.savez_compressed (deflate members) reads back every array by name', () => checkArrays('packed.npz'));

test('zip64 extra fields and the zip64 end record are followed', () => {
  const bytes = readFileSync(join(dir, 'zip64.npz'));
  assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'fixture has a zip64 end record');
  checkArrays('zip64.npz');
  checkArrays('zip64stored.npz');
});

test('missing x or y names the archive, the array and what it does have', () => {
  const f = join(dir, 'noy.npz');
  throwsUserError(() => loadDataset(f, { inputShape: [3], outputs: 3, loss: 'auto' }, { seed: 1 }), f, /no array 'y'/, /it has: x, labels/, /numpy\.savez/);
});

test('a truncated or damaged archive is reported, not thrown as a crash', () => {
  const full = readFileSync(join(dir, 'packed.npz'));
  const cut = join(dir, 'cut.npz');
  writeFileSync(cut, full.subarray(0, full.length - 30));
  throwsUserError(() => readNpz(cut), cut, /not a zip archive|truncated/);
  // Keep the directory but damage the compressed bytes of the first member.
  const bad = Buffer.from(full);
  for (let i = 60; i < 90; i++) bad[i] ^= 0x5a;
  const badPath = join(dir, 'bad.npz');
  writeFileSync(badPath, bad);
  throwsUserError(() => readNpz(badPath), badPath, /truncated or damaged|not in \.npy format|malformed/);
  const empty = join(dir, 'empty.npz');
  writeFileSync(empty, '');
  throwsUserError(() => readNpz(empty), empty, /empty/);
});

test('a member with an unsupported dtype names the array inside the archive', () => {
  py(dir, `np.savez(D + '/cplx.npz', x=np.zeros((2, 2), np.complex128), y=np.zeros(2, np.int32))`);
  const f = join(dir, 'cplx.npz');
  throwsUserError(() => readNpz(f), f, /array 'x'/, /'<c16'/);
});
