// The learning-rate sweep (`bnlens analyze --lr a,b,c`, Santurkar et al. Fig. 1): a sweep entry is bit for
// bit the single-lr run with the same seed; the deep linear network at a large lr is flagged diverged at
// the step where float64 gradient descent from the same start leaves float32's range; the report with its
// run dimension validates strictly, and the lr list is read from flags, --config and settings alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import { readConfigValues } from '../../src/engine/config';
import { loadDataset } from '../../src/engine/data';
import { initialWeights, loadNetwork, paramKey } from '../../src/engine/network/load';
import { buildRequest } from '../../src/host/settings';
import type { Report } from '../../src/protocol';
import { allRuns } from '../../src/report/runs';
import { validateReport } from '../../src/report/validate';
import { lossAndGrad, type Layer, type Net64 } from '../reference/net64';
import { ROOT } from './analyze-fixtures';

const json = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const MLP = `${ROOT}/examples/mlp-mnist.json`;
const DLN = `${ROOT}/examples/deep-linear.json`;

test('a sweep entry is bit for bit the single-lr run with the same seed (steps, layer statistics, evaluations)', async () => {
  const common = { model: MLP, steps: 9, batch: 32, probeEvery: 3, icsEvery: 6, evalEvery: 4, etaCount: 3, seed: 5, variants: ['standard', 'batchnorm'] as const };
  const sweep = json(await analyze({ ...common, variants: [...common.variants], lr: 0.05, lrs: [0.05, 0.3] }));
  const single = json(await analyze({ ...common, variants: [...common.variants], lr: 0.3 }));
  const entry = allRuns(sweep).find((r) => r.lr === 0.3)!;
  assert.ok(entry, 'the sweep has a run at lr 0.3');
  assert.deepEqual(entry.eta, single.eta);
  assert.deepEqual(entry.variants, single.variants);
  assert.deepEqual(entry.summary, single.summary);
  assert.ok(
    single.variants.every((v) => v.steps.length === 3 && v.layerStats.length > 0 && v.evals.length > 0),
    'there is something to compare',
  );
  const v = validateReport(sweep, { strict: true });
  assert.ok(v.ok, v.ok ? '' : v.error);
  assert.deepEqual(sweep.config.lrs, [0.05, 0.3]);
  assert.equal(sweep.config.lr, 0.05);
  assert.deepEqual(sweep.sweep?.lrs, [0.05, 0.3]);
});

/** The first step t at which float32 training would see a non-finite loss, gradient norm or weight. */
function float64DivergenceStep(lr: number, steps: number): { step: number | null; losses: number[] } {
  const net = loadNetwork(DLN);
  const w = initialWeights(net, 0);
  const ds = loadDataset('dln', { inputShape: [10], outputs: 10, loss: 'mse' }, { seed: 0 });
  const layers: Layer[] = net.info.params.map((p) => ({ kind: 'dense', name: p.layer, units: 10, activation: 'linear', kernel: Float64Array.from(w.get(paramKey(p.layer, p.role))!), bias: null }));
  let n64: Net64 = { inputShape: [10], layers };
  const x = { shape: [ds.train.n, 10], data: Float64Array.from(ds.train.x) };
  const y = Array.from(ds.train.targets!);
  const FLT_MAX = 3.4028234663852886e38;
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    const r = lossAndGrad(n64, x, y, 'mse');
    losses.push(r.loss);
    let g2 = 0;
    for (const g of r.grads) for (const v of g) g2 += v * v;
    // float32 sums the squared errors (n·10 of them) and the squared gradient entries before dividing / rooting.
    if (!Number.isFinite(r.loss) || r.loss * x.data.length > FLT_MAX || !(g2 < FLT_MAX)) return { step: t, losses };
    const next = (n64.layers as Extract<Layer, { kind: 'dense' }>[]).map((l, k) => ({ ...l, kernel: l.kernel.map((v, i) => v - lr * r.grads[k][i]) }));
    if (next.some((l) => l.kernel.some((v) => !(Math.abs(v) < FLT_MAX)))) return { step: t, losses };
    n64 = { inputShape: [10], layers: next };
  }
  return { step: null, losses };
}

test('deep linear network at lr 0.1: diverged at the step float64 gradient descent leaves float32’s range; the small lr does not', async () => {
  const ref = float64DivergenceStep(0.1, 12);
  assert.ok(ref.step !== null && ref.step > 1, `the reference diverges after a few steps (losses ${ref.losses.map((l) => l.toExponential(2)).join(', ')})`);
  // The step before is an ordinary finite loss: the threshold is not ambiguous.
  assert.ok(ref.losses[ref.step - 1] < 1e20, `loss before divergence ${ref.losses[ref.step - 1]}`);
  const r: Report = json(await analyze({ model: DLN, lr: 0.001, lrs: [0.001, 0.1], steps: 12, variants: ['standard', 'batchnorm'], evalEvery: 0 }));
  const at = (lr: number, name: string) =>
    allRuns(r)
      .find((x) => x.lr === lr)!
      .variants.find((v) => v.name === name)!;
  assert.equal(at(0.1, 'standard').diverged?.step, ref.step, `engine: ${JSON.stringify(at(0.1, 'standard').diverged)}; float64 reference: step ${ref.step}`);
  assert.equal(at(0.001, 'standard').diverged, null);
  assert.deepEqual(
    r.sweep?.largestStableLr.find((x) => x.variant === 'standard'),
    { variant: 'standard', lr: 0.001 },
  );
  const v = validateReport(r, { strict: true });
  assert.ok(v.ok, v.ok ? '' : v.error);
});

test('the lr list: flags, --config JSON and the bnlens.lr setting; one lr is no sweep; duplicates and bad values are one line', () => {
  assert.deepEqual(readConfigValues({ lr: '0.01,0.05,0.1,0.5' }, 'bnlens analyze'), { lr: 0.01, lrs: [0.01, 0.05, 0.1, 0.5] });
  assert.deepEqual(readConfigValues({ lr: [0.1, 0.5] }, '--config run.json'), { lr: 0.1, lrs: [0.1, 0.5] });
  assert.deepEqual(readConfigValues({ lr: [0.2] }, '--config run.json'), { lr: 0.2 });
  assert.deepEqual(readConfigValues({ lr: '0.2' }, 'bnlens analyze'), { lr: 0.2 });
  assert.throws(() => readConfigValues({ lr: '0.1,0.1' }, 'bnlens analyze'), /lr lists a learning rate twice/);
  assert.throws(() => readConfigValues({ lr: '0.1,-1' }, 'bnlens analyze'), /lr must be numbers greater than 0/);
  const req = buildRequest((k) => (k === 'lr' ? [0.05, 0.5] : undefined), '/x/model.json', '/x');
  assert.deepEqual([req.lr, req.lrs], [0.05, [0.05, 0.5]]);
  assert.throws(() => buildRequest((k) => (k === 'lr' ? [0.05, 'fast'] : undefined), '/x/model.json', '/x'), /bnlens\.lr must be numbers greater than 0/);
});

test('an old single-lr report (no lrs, runs or sweep) still validates and reads as a sweep of one', async () => {
  const r = json(await analyze({ model: MLP, steps: 2, batch: 16, variants: ['standard'], icsEvery: 0, evalEvery: 0, etaCount: 2 }));
  assert.equal('lrs' in r.config, false);
  assert.equal('runs' in r, false);
  const v = validateReport(r, { strict: true });
  assert.ok(v.ok, v.ok ? '' : v.error);
  assert.deepEqual(
    allRuns(r).map((x) => x.lr),
    [r.config.lr],
  );
});

test('a sweep stopped part-way: cancelled, every started run kept as far as it got, valid, no engine process left', async () => {
  const controller = new AbortController();
  let steps = 0;
  const report = json(
    await analyze(
      { model: MLP, steps: 400, batch: 32, probeEvery: 5, icsEvery: 0, evalEvery: 0, etaCount: 3, seed: 2, variants: ['standard', 'batchnorm'], lr: 0.05, lrs: [0.05, 0.1, 0.3] },
      (e) => {
        if (e.type === 'step' && ++steps === 6) controller.abort();
      },
      controller.signal,
    ),
  );
  assert.equal(report.complete, false);
  assert.equal(report.stopReason, 'cancelled');
  const v = validateReport(report, { strict: true });
  assert.ok(v.ok, v.ok ? '' : v.error);
  const runs = allRuns(report);
  const recorded = runs.flatMap((r) => r.variants.map((x) => x.steps.length));
  assert.ok(
    recorded.some((n) => n > 0),
    'the runs that started keep their steps',
  );
  assert.ok(
    recorded.every((n) => n < 400 / 5),
    `no run went on to the end: ${recorded.join(', ')}`,
  );
  // The processes of the sweep are gone once it returns (each stops at the end of its step).
  const { execFileSync } = await import('node:child_process');
  const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('worker.js'));
  assert.deepEqual(children, [], 'no engine process left behind');
});
