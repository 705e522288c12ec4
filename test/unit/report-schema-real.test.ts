// The report's JSON Schema (src/report/report.schema.json) against documents the real engine writes, one per
// kind of run whose fields the schema had to learn: Hessian measures, a Python network file with its weights,
// binary cross-entropy with held-out evaluations in both BatchNorm modes, a learning-rate sweep, and loss-surface slices (1-D and 2-D, from `bnlens slice` as a user runs it, added to
// the report by the host's reducer). Each validates strictly (no field the schema lacks), and a hand-broken
// copy fails with one line that starts with the JSON path of the break.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import type { Report, SliceResult } from '../../src/protocol';
import { applyEvent } from '../../src/report/applyEvent';
import { validateReport } from '../../src/report/validate';
import { assertBuilt } from '../reference/cli';
import { ROOT, tempDir, tfjsModel, writeNpzData, writeTinyMlp } from './analyze-fixtures';

const dir = tempDir('schema-real');
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x));

const { model: modelPath, data: dataPath } = writeTinyMlp(dir, { n: 64, tag: 'd' });
const small = { model: modelPath, dataset: dataPath, variants: ['standard' as const, 'batchnorm' as const], steps: 3, batch: 16, etaCount: 3, icsEvery: 0, evalEvery: 0, backend: 'cpu' as const };

function assertValid(r: unknown): void {
  const v = validateReport(r, { strict: true });
  assert.ok(v.ok, v.ok ? '' : v.error);
}

/** The validator's one line for a broken copy: it must start with `path: ` and say `what`. */
function assertBroken(r: Report, path: string, what: RegExp): void {
  const v = validateReport(r, { strict: true });
  assert.equal(v.ok, false, `a report broken at ${path} validated`);
  const error = (v as { error: string }).error;
  assert.ok(error.startsWith(`${path}: `), `expected the error to name ${path}, got: ${error}`);
  assert.match(error, what);
  assert.ok(!error.includes('\n'), `not one line: ${error}`);
}

function bnlens(args: string[]): Promise<{ code: number; stderr: string }> {
  assertBuilt();
  return new Promise((res) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'bnlens.js'), ...args], { cwd: dir, timeout: 300_000 }, (err, _stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

test('a run with Hessian measures validates; a broken measure names its path', async () => {
  const r = json(await analyze({ ...small, probeEvery: 1, hessianEvery: 2, hessianTop: 2, hessianBn: 'eval' }));
  assertValid(r);
  const h = r.variants[1].steps[0].hessian;
  assert.ok(h && h.top.length === 2 && h.density.nodes.length > 0, 'the run measured the Hessian at step 0');
  assert.equal(r.variants[1].steps[1].hessian, undefined, 'not at step 1 (hessianEvery 2)');

  const noWeight = structuredClone(r);
  noWeight.variants[1].steps[0].hessian!.density.weights.pop();
  assertBroken(noWeight, 'variants[1].steps[0].hessian.density.weights', /expected \d+ numbers, got \d+/);
  const badBn = structuredClone(r) as unknown as { config: { hessianBn: string } };
  badBn.config.hessianBn = 'moving';
  assertBroken(badBn as unknown as Report, 'config.hessianBn', /expected one of train, eval, got "moving"/);
  const text = structuredClone(r) as unknown as { variants: { steps: { hessian: { lambdaMax: unknown } }[] }[] };
  text.variants[0].steps[2].hessian.lambdaMax = '3.1';
  assertBroken(text as unknown as Report, 'variants[0].steps[2].hessian.lambdaMax', /expected a finite number, got "3\.1"/);
});

test('a Python network file (PyTorch, weights beside it) validates with its layout, weights and --model/--input-shape fields', async () => {
  const py = join(dir, 'seq_bn1d.py');
  copyFileSync(join(ROOT, 'test/reference/pytorch/seq_bn1d.py'), py);
  copyFileSync(join(ROOT, 'test/reference/pytorch/seq_bn1d.safetensors'), join(dir, 'seq_bn1d.safetensors'));
  const data = writeNpzData(dir, 'py', 64, [20], 5);
  const r = json(await analyze({ ...small, model: py, dataset: data, pythonModel: 'model', inputShape: [20], probeEvery: 1 }));
  assertValid(r);
  assert.equal(r.model.format, 'pytorch');
  assert.match(r.model.weightsSource ?? '', /seq_bn1d\.safetensors$/);
  assert.equal(r.config.pythonModel, 'model');
  assert.deepEqual(r.config.inputShape, [20]);

  const format = structuredClone(r) as unknown as { model: { format: string } };
  format.model.format = 'torchscript';
  assertBroken(format as unknown as Report, 'model.format', /expected one of tfjs-layers, keras2, keras3, pytorch, keras-python, onnx, got "torchscript"/);
  const shape = structuredClone(r);
  shape.config.inputShape = [20, 0];
  assertBroken(shape, 'config.inputShape[1]', /expected at least 1, got 0/);
  const layout = structuredClone(r) as unknown as { model: { layout: string } };
  layout.model.layout = 'CHW';
  assertBroken(layout as unknown as Report, 'model.layout', /expected one of NHWC, NCHW, got "CHW"/);
});

test('binary cross-entropy with held-out evaluations (moving and own-batch BatchNorm statistics) validates; broken ones are named', async () => {
  const bce = join(dir, 'bce.json');
  writeFileSync(
    bce,
    JSON.stringify(
      tfjsModel({
        name: 'bce',
        inputShape: [6],
        layers: [
          { type: 'Dense', name: 'h1', units: 8, activation: 'relu', useBias: true },
          { type: 'Dense', name: 'out', units: 1, activation: 'sigmoid', useBias: true },
        ],
      }),
    ),
  );
  const data = writeNpzData(dir, 'bce', 64, [6], 2);
  const r = json(await analyze({ ...small, model: bce, dataset: data, loss: 'binary-ce', evalEvery: 2, evalBatch: 12 }));
  assertValid(r);
  assert.equal(r.dataset.loss, 'binary-ce');
  assert.equal(r.config.evalBatch, 12);
  const last = r.variants[1].evals.at(-1)!;
  assert.ok(last.batchStatsBatch !== undefined && last.movingStatsInitWeight !== undefined, 'the BatchNorm variant has own-batch evaluations');
  assert.equal(typeof r.summary[1].movingStatsWarmingUp, 'boolean');

  const weight = structuredClone(r);
  weight.variants[1].evals[0].movingStatsInitWeight = 1.5;
  assertBroken(weight, 'variants[1].evals[0].movingStatsInitWeight', /expected at most 1, got 1\.5/);
  const warming = structuredClone(r) as unknown as { summary: { movingStatsWarmingUp: unknown }[] };
  warming.summary[1].movingStatsWarmingUp = 'yes';
  assertBroken(warming as unknown as Report, 'summary[1].movingStatsWarmingUp', /expected true or false, got "yes"/);
  const batch = structuredClone(r);
  batch.config.evalBatch = 0;
  assertBroken(batch, 'config.evalBatch', /expected at least 1, got 0/);
});

test('a learning-rate sweep validates; a run at the wrong lr, a duplicate lr and a foreign largestStableLr are named', async () => {
  const r = json(await analyze({ ...small, probeEvery: 1, lr: 0.05, lrs: [0.05, 0.2] }));
  assertValid(r);
  assert.equal(r.runs?.length, 1);

  const lr = structuredClone(r);
  lr.runs![0].lr = 0.3;
  assertBroken(lr, 'runs[0].lr', /expected 0\.2 \(config\.lrs\[1\]\), got 0\.3/);
  const dup = structuredClone(r);
  dup.config.lrs = [0.05, 0.05];
  assertBroken(dup, 'config.lrs', /expected each item once/);
  const stable = structuredClone(r);
  stable.sweep!.largestStableLr[0].lr = 0.1;
  assertBroken(stable, 'sweep.largestStableLr[0].lr', /expected one of config\.lrs or null, got 0\.1/);
  const eta = structuredClone(r);
  eta.runs![0].eta[2] *= 2;
  assertBroken(eta, 'runs[0].eta[2]', /expected [\d.e-]+ \(lr 0\.2 × the η range/);
});

test('slices from `bnlens slice` (1-D and 2-D) added to a report validate; a short row and a non-number cell are named', { timeout: 300_000 }, async () => {
  const r = json(await analyze({ ...small, probeEvery: 1 }));
  const common = ['slice', modelPath, '--data', dataPath, '--variants', 'standard,batchnorm', '--points', '3', '--backend', 'cpu', '--parallel', '1', '--quiet'];
  const one = await bnlens([...common, '--dims', '1', '--out', join(dir, 's1.json')]);
  assert.equal(one.code, 0, one.stderr);
  const two = await bnlens([...common, '--dims', '2', '--directions', 'gradient-random', '--out', join(dir, 's2.json')]);
  assert.equal(two.code, 0, two.stderr);
  let report: Report | null = r;
  for (const f of ['s1.json', 's2.json']) report = applyEvent(report, { type: 'slice', slice: JSON.parse(readFileSync(join(dir, f), 'utf8')) as SliceResult });
  const withSlices = json(report!);
  assert.equal(withSlices.slices?.length, 2);
  assertValid(withSlices);
  assert.equal(withSlices.slices![1].dims, 2);
  assert.equal(withSlices.slices![1].betas?.length, 3);

  const row = structuredClone(withSlices);
  (row.slices![1].variants[1].loss as (number | null)[][]).pop();
  assertBroken(row, 'slices[1].variants[1].loss', /expected 3 rows \(one per beta\), got 2/);
  const cell = structuredClone(withSlices) as unknown as { slices: { variants: { loss: unknown[][] }[] }[] };
  cell.slices[1].variants[0].loss[2][1] = 'NaN';
  assertBroken(cell as unknown as Report, 'slices[1].variants[0].loss[2][1]', /expected a finite number or null, got "NaN"/);
  const betas = structuredClone(withSlices);
  delete betas.slices![1].betas;
  assertBroken(betas, 'slices[1].betas', /missing: a 2-D slice/);
  const top = structuredClone(withSlices);
  top.slices![0].centerLoss += 1;
  assertBroken(top, 'slices[0].centerLoss', /expected that of variants\[0\]/);
  const norm = structuredClone(withSlices) as unknown as { slices: { norm: string }[] };
  norm.slices[0].norm = 'unit';
  assertBroken(norm as unknown as Report, 'slices[0].norm', /expected one of filter, layer, none, got "unit"/);
});
