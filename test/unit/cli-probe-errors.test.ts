// Every kind of bad input to `bnlens probe`, as a user would type it: one line on stderr naming the file,
// the place and the fix; exit code 2; never a stack trace.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'bnlens.js');
const dir = mkdtempSync(join(tmpdir(), 'bnlens-errors-'));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
      res({ code: err ? (((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1) : 0, stdout, stderr });
    });
  });
}

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(lines[0], pattern);
}

const dense = (name: string, units: number, extra: Record<string, unknown> = {}) => ({ class_name: 'Dense', config: { name, units, activation: 'linear', use_bias: true, ...extra } });

function modelWithWeights(file: string, shard: Buffer | null, kernelShape = [3, 2]) {
  const model = {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'm', layers: [dense('d', 2, { batch_input_shape: [null, 3] })] } },
    weightsManifest: [
      {
        paths: ['w.bin'],
        weights: [
          { name: 'd/kernel', shape: kernelShape, dtype: 'float32' },
          { name: 'd/bias', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
  writeFileSync(join(dir, file), JSON.stringify(model, null, 2));
  if (shard) writeFileSync(join(dir, 'w.bin'), shard);
}

function csv(file: string, rows: number[][]) {
  writeFileSync(join(dir, file), rows.map((r) => r.join(',')).join('\n') + '\n');
}

csv('good.csv', [
  [0.1, 0.2, 0.3, 1],
  [0.4, 0.5, 0.6, 0],
  [0.7, 0.8, 0.9, 1],
]);
const probe = (model: string, data = 'good.csv') => run(['probe', model, '--data', data, '--eta', '0.1', '--backend', 'cpu']);

test('malformed JSON: file:line:col and the fix', async () => {
  writeFileSync(join(dir, 'bad.json'), '{\n  "modelTopology": {\n    "class_name": "Sequential",,\n  }\n}\n');
  expectOneLineError(await probe('bad.json'), /bad\.json:3:32: malformed JSON: .*fix the syntax/);
});

test('a JSON that is not a model', async () => {
  writeFileSync(join(dir, 'notmodel.json'), '{"name": "x", "layers": []}');
  expectOneLineError(await probe('notmodel.json'), /notmodel\.json: this JSON is not a model/);
});

test('an unsupported layer names the layer and its type', async () => {
  writeFileSync(
    join(dir, 'lstm.json'),
    JSON.stringify({ modelTopology: { class_name: 'Sequential', config: { layers: [dense('d', 2, { batch_input_shape: [null, 3] }), { class_name: 'GRU', config: { name: 'gru_1' } }] } } }, null, 2),
  );
  expectOneLineError(await probe('lstm.json'), /lstm\.json:\d+:\d+: layer "gru_1" has type GRU, which BatchNorm Lens does not support/);
});

test('a missing weight shard', async () => {
  modelWithWeights('noshard.json', null);
  expectOneLineError(await probe('noshard.json'), /noshard\.json:\d+:\d+: weight shard "w\.bin" .* is missing/);
});

test('a short weight shard', async () => {
  modelWithWeights('short.json', Buffer.alloc(12));
  expectOneLineError(await probe('short.json'), /short\.json:\d+:\d+: .*"w\.bin" holds 12 bytes but the manifest needs 32; the file is truncated/);
});

test('a weight shape that does not match the layer', async () => {
  modelWithWeights('shape.json', Buffer.alloc(4 * 10), [4, 2]);
  expectOneLineError(await probe('shape.json'), /shape\.json:\d+:\d+: weight "d\/kernel" has shape \[4, 2\] .* layer "d" needs \[3, 2\]/);
});

test('data whose shape does not fit the model', async () => {
  modelWithWeights('ok.json', Buffer.alloc(4 * 8));
  csv('wide.csv', [
    [1, 2, 3, 4, 5, 0],
    [1, 2, 3, 4, 5, 1],
  ]);
  expectOneLineError(await probe('ok.json', 'wide.csv'), /wide\.csv.*5 .*3|wide\.csv.*shape/);
});

test('a model file that does not exist, and an unknown flag', async () => {
  expectOneLineError(await probe('nowhere.json'), /nowhere\.json: network file not found/);
  expectOneLineError(await run(['probe', 'ok.json', '--data', 'good.csv', '--etta', '0.1']), /unknown flag --etta; did you mean --eta\?/);
  expectOneLineError(await run(['probe', 'ok.json', '--data', 'good.csv', '--eta', '0.1,x']), /'x' is not a number/);
});

test('the good case works on the same files (the errors above are not the harness)', async () => {
  const r = await probe('ok.json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.eta[0], 0.1);
  assert.equal(out.backend, 'cpu');
});

test('weights named with a model prefix and a TF ":0" suffix are found', async () => {
  const model = {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'm', layers: [dense('d', 2, { batch_input_shape: [null, 3] })] } },
    weightsManifest: [
      {
        paths: ['w2.bin'],
        weights: [
          { name: 'sequential/d/kernel:0', shape: [3, 2], dtype: 'float32' },
          { name: 'sequential/d/bias:0', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
  writeFileSync(join(dir, 'prefixed.json'), JSON.stringify(model));
  // kernel = 1..6 row-major, bias = [10, 20]: the loss of one example below is then known in closed form.
  writeFileSync(join(dir, 'w2.bin'), Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 10, 20]).buffer));
  csv('two.csv', [[1, 0, 0, 0.5, 0.5]]); // x = [1, 0, 0]; the mse model has 2 outputs: targets 0.5, 0.5
  const r = await run(['probe', 'prefixed.json', '--data', 'two.csv', '--loss', 'mse', '--eta', '0.001', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  // out = x·K + b = [1 + 10, 2 + 20] = [11, 22]; mse = ((11 − 0.5)² + (22 − 0.5)²) / 2
  const want = ((11 - 0.5) ** 2 + (22 - 0.5) ** 2) / 2;
  assert.ok(Math.abs(JSON.parse(r.stdout).loss - want) <= 1e-6 * want, r.stdout);
});
