// `bnlens bench --workload dln --steps 2 --json` runs end to end (two engine processes, the engine's own
// VariantRun path) and prints one JSON line with every field present and sane. No timing thresholds: the
// figures depend on the machine and its load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('bnlens bench --workload dln --steps 2 --json prints one sane JSON line', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'bench', '--workload', 'dln', '--steps', '2', '--json', '--backend', 'wasm'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one line per workload and backend, got:\n${r.stdout}`);
  const j = JSON.parse(lines[0]);
  assert.equal(j.workload, 'dln');
  assert.equal(j.backend, 'wasm');
  assert.equal(j.steps, 2);
  for (const k of ['twoVariantMsPerProbedStep', 'msPerTrainStep', 'gflops', 'trainGflops', 'peakRssMB', 'loadAverage']) {
    assert.equal(typeof j[k], 'number', k);
    assert.ok(Number.isFinite(j[k]) && j[k] >= 0, `${k} = ${j[k]}`);
  }
  for (const k of ['twoVariantMsPerProbedStep', 'msPerTrainStep', 'gflops', 'peakRssMB']) assert.ok(j[k] > 0, `${k} = ${j[k]}`);
  assert.ok(j.peakRssMB < 4096, `peak RSS ${j.peakRssMB} MB`);
  assert.ok(Number.isInteger(j.tensorsAtEnd) && j.tensorsAtEnd > 0, `tensorsAtEnd ${j.tensorsAtEnd}`);
  assert.equal(typeof j.tensorsSteady, 'boolean');
  assert.deepEqual(Object.keys(j.perVariant).sort(), ['batchnorm', 'standard']);
  for (const v of Object.values(j.perVariant) as Array<Record<string, number>>) {
    assert.ok(v.msPerProbedStep > 0 && v.cpuMsPerProbedStep > 0 && Number.isFinite(v.finalLoss), JSON.stringify(v));
  }
  // A probed step does 1 + #η gradient evaluations, a training step one: more work, more time per step.
  assert.ok(j.twoVariantMsPerProbedStep > j.msPerTrainStep, `probed ${j.twoVariantMsPerProbedStep} ms vs training ${j.msPerTrainStep} ms`);
  assert.equal(j.peerMsPerProbedStep, undefined, 'no peer fields without --peer');
  // Added fields: CPU time of both variants, kernel calls per probed step (wasm kernels are counted).
  assert.ok(j.cpuMsPerProbedStep > 0, `cpuMsPerProbedStep ${j.cpuMsPerProbedStep}`);
  assert.ok(j.kernelCallsPerProbedStep > 0, `kernelCallsPerProbedStep ${j.kernelCallsPerProbedStep}`);
});

test('bnlens bench --peer without python3/numpy runs without the peer and says so', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'bench', '--workload', 'dln', '--steps', '1', '--peer', '--backend', 'wasm'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, BNLENS_PYTHON: join(root, 'no-such-python') },
  });
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stdout, /NumPy peer not run: no python3 with numpy found/);
  assert.match(r.stdout, /dln on wasm:/);
});

test('bnlens bench rejects an unknown workload with one line and exit 2', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'bench', '--workload', 'resnet'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--workload must be one of mlp, cnn, dln/);
});
