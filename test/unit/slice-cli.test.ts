// `bnlens slice` beyond the grid itself: --at-step trains to the step first (checked against plain float64
// gradient descent), --bn eval uses the moving statistics (checked against BatchNorm folded into the
// kernels in float64), and bad input is one line with exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, ROOT } from '../reference/cli';
import { buildFixture, MLP, MLP_BN, writeNpz, type Fixture } from '../reference/fixtures';
import { getParams, lossAndGrad, lossOnly, withParams, type Layer, type Net64 } from '../reference/net64';

function bnlens(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  assertBuilt();
  return new Promise((res) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'bnlens.js'), ...args], { cwd: ROOT, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const rel = (a: number, r: number) => Math.abs(a - r) / Math.abs(r);

test('--at-step N slices at the weights after N SGD steps (float64 full-batch gradient descent as reference)', async () => {
  const fx = buildFixture(MLP, { n: 24, loss: 'softmax-ce', classes: 5 }, 2501);
  // x_test present: the loader holds nothing out, so a full batch is every example (order does not matter).
  const data = join(fx.dir, 'train.npz');
  const x = { data: Array.from(fx.x.data), shape: fx.x.shape, dtype: 'float32' };
  const y = { data: fx.y, shape: [fx.y.length], dtype: 'int64' };
  writeNpz(data, { x, y, x_test: x, y_test: y });
  const cfg = join(fx.dir, 'run.json');
  writeFileSync(cfg, JSON.stringify({ dataset: data, batch: 24, lr: 0.2, steps: 10, seed: 3 }));
  const out = join(fx.dir, 'slice.json');
  const r = await bnlens([
    'slice',
    fx.modelPath,
    '--at-step',
    '4',
    '--config',
    cfg,
    '--variants',
    'standard',
    '--dims',
    '1',
    '--points',
    '3',
    '--range',
    '-0.5,0.5',
    '--backend',
    'wasm',
    '--parallel',
    '1',
    '--out',
    out,
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(readFileSync(out, 'utf8'));
  let w = getParams(fx.net);
  for (let t = 0; t < 4; t++) {
    const g = lossAndGrad(withParams(fx.net, w), fx.x, fx.y, 'softmax-ce').grads;
    w = w.map((wk, k) => wk.map((v, i) => v - 0.2 * g[k][i]));
  }
  const ref = lossOnly(withParams(fx.net, w), fx.x, fx.y, 'softmax-ce');
  const start = lossOnly(fx.net, fx.x, fx.y, 'softmax-ce');
  assert.equal(s.step, 4);
  assert.equal(s.batch, 24);
  assert.ok(rel(s.centerLoss, ref) < 1e-4, `centerLoss after 4 steps ${s.centerLoss} vs float64 ${ref} (start ${start})`);
  assert.ok(ref < start - 1e-3, 'the steps moved the weights');
});

/** MLP_BN with every BatchNorm folded into the Dense before it, using the moving statistics of the file. */
function foldedEvalNet(fx: Fixture): Net64 {
  const model = JSON.parse(readFileSync(fx.modelPath, 'utf8'));
  const manifest = model.weightsManifest[0].weights as { name: string; shape: number[] }[];
  const bin = readFileSync(join(fx.dir, 'weights.bin'));
  const values = new Map<string, Float64Array>();
  let off = 0;
  for (const m of manifest) {
    const n = m.shape.reduce((a, b) => a * b, 1);
    values.set(
      m.name,
      Float64Array.from({ length: n }, (_, i) => bin.readFloatLE((off + i) * 4)),
    );
    off += n;
  }
  const layers: Layer[] = [];
  for (const l of fx.net.layers) {
    if (l.kind !== 'batchnorm') {
      layers.push({ ...l } as Layer);
      continue;
    }
    const prev = layers[layers.length - 1];
    assert.ok(prev.kind === 'dense');
    const mean = values.get(`${l.name}/moving_mean`)!;
    const variance = values.get(`${l.name}/moving_variance`)!;
    const units = prev.units;
    const kernel = Float64Array.from(prev.kernel);
    const bias = new Float64Array(units);
    for (let o = 0; o < units; o++) {
      const s = (l.gamma ? l.gamma[o] : 1) / Math.sqrt(variance[o] + l.epsilon);
      for (let i = 0; i < kernel.length / units; i++) kernel[i * units + o] *= s;
      bias[o] = (prev.bias ? prev.bias[o] : 0) * s - mean[o] * s + (l.beta ? l.beta[o] : 0);
    }
    layers[layers.length - 1] = { ...prev, kernel, bias };
  }
  return { inputShape: fx.net.inputShape, layers };
}

test('--bn eval evaluates BatchNorm with the moving statistics (float64: BatchNorm folded into the kernels)', async () => {
  const fx = buildFixture(MLP_BN, { n: 32, loss: 'softmax-ce', classes: 5 }, 2601);
  const out = join(fx.dir, 'slice.json');
  const r = await bnlens(['slice', fx.modelPath, '--data', fx.dataPath, '--bn', 'eval', '--dims', '1', '--points', '3', '--backend', 'wasm', '--parallel', '1', '--out', out, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(readFileSync(out, 'utf8'));
  const ref = lossOnly(foldedEvalNet(fx), fx.x, fx.y, 'softmax-ce');
  const train = lossOnly(fx.net, fx.x, fx.y, 'softmax-ce');
  assert.equal(s.bn, 'eval');
  assert.ok(rel(s.centerLoss, ref) < 1e-4, `eval-mode centerLoss ${s.centerLoss} vs folded float64 ${ref}`);
  assert.ok(rel(ref, train) > 1e-2, 'the fixture’s moving statistics differ from the batch’s, so the test can tell the modes apart');
});

test('bad input: one line on stderr naming the flag and the fix, exit code 2', async () => {
  const cases: [string[], RegExp][] = [
    [['slice', 'examples/mlp-mnist.json', '--dims', '3'], /--dims must be 1 or 2/],
    [['slice', 'examples/mlp-mnist.json', '--range', '1,-1'], /--range must be two numbers lo,hi with lo < hi/],
    [['slice', 'examples/mlp-mnist.json', '--norm', 'batch'], /--norm must be filter, layer or none/],
    [['slice', 'examples/mlp-mnist.json', '--at-step', '5', '--weights', 'x.json'], /either --weights or --at-step/],
    [['slice', 'examples/mlp-mnist.json', '--points', '1'], /--points must be a whole number from 2 to 401/],
    [['slice', 'no-such-model.json'], /no-such-model\.json/],
    [['slice', 'examples/mlp-mnist.json', '--report', 'examples/deep-linear.json', '--at-step', '1'], /not a bnlens report/],
  ];
  for (const [args, re] of cases) {
    const r = await bnlens(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got\n${r.stderr}`);
    assert.match(lines[0], re);
  }
});
