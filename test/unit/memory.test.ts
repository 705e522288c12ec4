// Memory planning (issue 11.4): configurations that cannot fit are refused in one line, from the shapes
// alone, before data is loaded or the backend allocates; held-out chunks are sized to fit; the 4 GiB limit
// the engine plans around is the one the shipped WebAssembly module declares.

import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import { UserError } from '../../src/engine/errors';
import { evalBytes, largestFittingBatch, networkSize, planMemory, trainBytes, WASM_BUDGET_BYTES, WASM_HEAP_LIMIT_BYTES } from '../../src/engine/memory';
import { loadNetwork } from '../../src/engine/network/load';
import { runProbe } from '../../src/engine/probeCommand';

const dir = mkdtempSync(join(tmpdir(), 'bnlens-memory-'));

function topologyOnly(name: string, layers: Record<string, unknown>[]): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers } }));
  return p;
}

const oneLine = (pattern: RegExp[]) => (e: unknown) => {
  assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
  assert.ok(!e.message.includes('\n'), 'one line');
  for (const p of pattern) assert.match(e.message, p);
  return true;
};

test('the wasm module the engine ships declares the 4 GiB heap limit the memory plan is built around', () => {
  // Read the memory section of the .wasm itself: limits flag 1 = "has maximum", in 64 KiB pages.
  const b = readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  let p = 8;
  const leb = () => {
    let r = 0;
    let shift = 0;
    let x: number;
    do {
      x = b[p++];
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return r;
  };
  let maxPages: number | null = null;
  while (p < b.length) {
    const id = b[p++];
    const len = leb();
    const end = p + len;
    if (id === 5) {
      leb(); // count
      const flags = b[p++];
      leb(); // minimum
      if (flags & 1) maxPages = leb();
    }
    p = end;
  }
  assert.equal(maxPages! * 65536, WASM_HEAP_LIMIT_BYTES);
  assert.ok(WASM_BUDGET_BYTES < WASM_HEAP_LIMIT_BYTES);
});

test('a 2e9-unit layer is refused in one line before any data is loaded or weight allocated', async () => {
  const model = topologyOnly('huge.json', [
    { class_name: 'Dense', config: { name: 'wide', units: 2e9, activation: 'relu', batch_input_shape: [null, 784] } },
    { class_name: 'Dense', config: { name: 'out', units: 10, activation: 'softmax' } },
  ]);
  // The data set path does not exist: had the data been read first, the message would say so.
  await assert.rejects(
    analyze({ model, dataset: join(dir, 'no-such-data.npz'), steps: 1, backend: 'wasm' }, () => {}, undefined, { parallel: 1 }),
    oneLine([/weights/, /GiB|TiB/, /make the layers smaller/]),
  );
});

test('a batch that cannot fit is refused with the estimate and the --batch that fits', async () => {
  const model = topologyOnly('big-images.json', [
    { class_name: 'Conv2D', config: { name: 'c', filters: 64, kernel_size: 3, padding: 'same', activation: 'relu', batch_input_shape: [null, 512, 512, 3] } },
    { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } },
    { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'softmax' } },
  ]);
  const events: string[] = [];
  await assert.rejects(
    analyze({ model, dataset: join(dir, 'no-such-data.npz'), batch: 256, steps: 1, backend: 'wasm' }, (e) => events.push(e.type), undefined, { parallel: 1 }),
    oneLine([/batch 256|256 examples/, /GiB/, /--batch \d+ or smaller/, /4 GiB/]),
  );
  assert.deepEqual(events, [], 'nothing started');
  // The advised batch fits, one twice as large does not (independent arithmetic on the same estimate).
  const size = networkSize([loadNetwork(model).spec.layers], model);
  // 512·512·64 (conv) + 512·512·3 (input) + 64 + 2 values per example.
  assert.equal(size.activations, 512 * 512 * 3 + 512 * 512 * 64 + 64 + 2);
  const fits = largestFittingBatch(size, 256, 'wasm');
  assert.ok(trainBytes(size, fits) <= WASM_BUDGET_BYTES && trainBytes(size, fits * 2) > WASM_BUDGET_BYTES, `batch ${fits}`);
});

test('held-out chunks are sized to fit; an explicit --eval-batch that cannot fit is refused with the one that does', () => {
  const size = { params: 1e6, activations: 5e6 };
  const plan = planMemory(size, { batch: 4, backend: 'wasm', file: 'm.json' });
  assert.ok(evalBytes(size, plan.evalChunk) <= WASM_BUDGET_BYTES && evalBytes(size, plan.evalChunk + 1) > WASM_BUDGET_BYTES, `chunk ${plan.evalChunk}`);
  assert.throws(() => planMemory(size, { batch: 4, evalBatch: 1000, backend: 'wasm', file: 'm.json' }), oneLine([/--eval-batch \d+ or smaller/]));
  // Small networks keep the 1,000-example chunks.
  assert.equal(planMemory({ params: 1e5, activations: 1e3 }, { batch: 128, backend: 'wasm', file: 'm.json' }).evalChunk, 1000);
});

test('bnlens probe: a data file too large for one batch is refused before the backend starts, naming a size that fits', async () => {
  const model = topologyOnly('probe-cnn.json', [
    { class_name: 'Conv2D', config: { name: 'c', filters: 512, kernel_size: 3, padding: 'same', activation: 'relu', batch_input_shape: [null, 28, 28, 1] } },
    { class_name: 'Flatten', config: { name: 'f' } },
    { class_name: 'Dense', config: { name: 'out', units: 10, activation: 'softmax' } },
  ]);
  await assert.rejects(runProbe({ model, data: 'mnist', loss: 'auto', eta: [0.1], icsLr: 0.1, backend: 'wasm', seed: 0 }), oneLine([/10000 examples/, /--data a file of at most \d+ examples/]));
});

test('an analysis in one process leaves no tensor behind: every kind of variant, ICS, the Hessian and held-out evaluation', async () => {
  const { initBackend } = await import('../../src/engine/backend');
  const { tf } = await initBackend('wasm');
  const before = tf.memory().numTensors;
  const report = await analyze(
    { model: join(__dirname, '..', '..', 'examples', 'mlp-mnist.json'), steps: 2, batch: 16, variants: ['standard', 'batchnorm', 'noisy-batchnorm', 'l2'], icsEvery: 1, hessianEvery: 2, evalEvery: 2, backend: 'wasm' },
    () => {},
    undefined,
    { parallel: 1 },
  );
  assert.equal(report.variants.length, 4);
  assert.ok(report.variants.every((v) => v.layerStats.length > 0 && v.evals.length > 0) && report.variants.some((v) => v.steps.some((st) => st.hessian)), 'ICS, held-out evaluation and the Hessian were measured');
  assert.equal(tf.memory().numTensors, before, 'tensors alive after the analysis');
});
