// Backend choice and its explanation. tfjs-node cannot be installed on the build machines, so 'auto' must
// pick wasm here; the loader is also replaced to exercise a present-but-broken tfjs-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfCore from '@tensorflow/tfjs-core';
import { getTf, initBackend } from '../../src/engine/backend';
import { isUserError } from '../../src/engine/errors';

test('getTf before initBackend is a programming error', () => {
  assert.throws(() => getTf(), /before initBackend/);
});

test("'auto' picks wasm here and says tfjs-node is not installed", async () => {
  const b = await initBackend('auto');
  assert.equal(b.name, 'wasm');
  assert.match(b.reason, /^auto: @tensorflow\/tfjs-node is not installed \(Cannot find module '@tensorflow\/tfjs-node'/);
  assert.match(b.reason, /WebAssembly/);
  assert.equal(b.tfjsVersion, tfCore.version_core);
  assert.equal(b.tf.getBackend(), 'wasm');
  assert.equal(getTf(), b.tf);
  assert.equal(await b.tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), true);
  assert.equal(
    b.tf.tidy(() => b.tf.matMul(b.tf.ones([2, 3]), b.tf.ones([3, 4])).dataSync()[0]),
    3,
  );
});

test("'node' without tfjs-node is a one-line UserError naming the fix", async () => {
  await assert.rejects(initBackend('node'), (e: unknown) => {
    assert.ok(isUserError(e));
    const msg = (e as Error).message;
    assert.ok(!msg.includes('\n'), 'one line');
    assert.match(msg, /npm install @tensorflow\/tfjs-node/);
    assert.match(msg, /'wasm'/);
    return true;
  });
});

test('a tfjs-node that is installed but fails to load: auto explains and falls back; node names the failure', async () => {
  const broken = () => {
    throw new Error('libtensorflow.so.2: cannot open shared object file\nstack...');
  };
  const b = await initBackend('auto', { loadNode: broken });
  assert.equal(b.name, 'wasm');
  assert.match(b.reason, /installed but does not load \(libtensorflow\.so\.2: cannot open shared object file\)/);
  await assert.rejects(initBackend('node', { loadNode: broken }), (e: unknown) => isUserError(e) && /npm rebuild/.test((e as Error).message));
});

test('a tfjs-node whose backend does not start makes auto fall back to wasm', async () => {
  // tfjs-core alone has the API but no 'tensorflow' backend: the shape of a half-working install.
  const b = await initBackend('auto', { loadNode: () => tfCore });
  assert.equal(b.name, 'wasm');
  assert.match(b.reason, /failed to start/);
});

test("'cpu' and 'wasm' on request", async () => {
  const c = await initBackend('cpu');
  assert.equal(c.name, 'cpu');
  assert.equal(c.tf.getBackend(), 'cpu');
  const w = await initBackend('wasm');
  assert.equal(w.tf.getBackend(), 'wasm');
});
