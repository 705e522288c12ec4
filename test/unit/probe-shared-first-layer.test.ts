// The probe's shared first layer (gradientProbe.ts): for a network that starts with a Dense layer on
// parameter-free input, every η is evaluated from the pre-activation Z − η·S and the first layer's part of
// ‖∇L(x − ηg) − g‖ from X·Xᵀ, without the two X-sized products per η; where the layers after it allow, all
// η at once on stacked weight sets. The op-by-op probe (sharedFirstLayer: false) is the second
// implementation here, and the η one at a time (stackEtas: false) a third: all must agree to float32
// rounding, on the MNIST MLP at the size users run and on fixtures with BatchNorm and Dropout, a Flatten in
// front, no bias, and mse. The float64 reference
// checks both against exact arithmetic (probe-vs-reference.test.ts, probe-closedform.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initBackend } from '../../src/engine/backend';
import { initialWeights, loadNetwork } from '../../src/engine/network/load';
import { forwardModel, startRun } from '../../src/engine/startup';
import { batchTensors, paramTensors } from '../../src/engine/tensors';
import { lossAndGrads, lossAndGradsForProbe, type Batch, type ProbeSetup } from '../../src/engine/probes/lossAndGrads';
import { probeAlongGradient, type GradientProbe } from '../../src/engine/probes/gradientProbe';
import { evaluatePoints, gridPoints, linspace } from '../../src/engine/probes/slice';
import { movingStatistics } from '../../src/engine/probeCommand';
import type { TF } from '../../src/engine/network/forward';
import { buildFixture, CNN_BN, DLN, MLP_BN, type NetSpec } from '../reference/fixtures';
import { BACKENDS } from '../reference/cli';

const ROOT = join(__dirname, '..', '..');
const ETAS = [0.01, 0.03, 0.1, 0.3];

const FLATTEN_MLP: NetSpec = {
  name: 'flatten_mlp',
  inputShape: [4, 4, 2],
  layers: [
    { type: 'Flatten', name: 'flatten_1' },
    { type: 'Dense', name: 'dense_1', units: 12, activation: 'relu', useBias: true },
    { type: 'Dense', name: 'dense_2', units: 4, activation: 'softmax', useBias: true },
  ],
};

const BN_FIRST: NetSpec = {
  name: 'bn_first',
  inputShape: [6],
  layers: [
    { type: 'BatchNormalization', name: 'bn_in' },
    { type: 'Dense', name: 'dense_1', units: 3, activation: 'softmax', useBias: true },
  ],
};

async function both(tf: TF, setup: ProbeSetup, params: ReturnType<typeof paramTensors>, batch: Batch) {
  const plainGrads = lossAndGrads(setup, params, batch);
  const plain = await probeAlongGradient({ ...setup, sharedFirstLayer: false }, params, plainGrads.grads, plainGrads.value, batch, ETAS);
  const r = lossAndGradsForProbe(setup, params, batch);
  assert.ok(r.first, 'the probe takes the shared first layer');
  // The gradient itself comes from the same products (Xᵀ·δ, Σδ) the tape takes: equal to the last bit.
  const a = await Promise.all(plainGrads.grads.map((g) => g.data()));
  const b = await Promise.all(r.grads.map((g) => g.data()));
  a.forEach((ga, i) => assert.deepEqual(Array.from(b[i]), Array.from(ga), `gradient of parameter ${i}`));
  const oneByOne = await probeAlongGradient({ ...setup, stackEtas: false }, params, r.grads, r.value, batch, ETAS, r.first);
  const before = tf.memory().numTensors;
  const shared = await probeAlongGradient(setup, params, r.grads, r.value, batch, ETAS, r.first);
  assert.equal(tf.memory().numTensors, before, 'the stacked probe leaves no tensor behind');
  tf.dispose([r.first.x, r.first.z, r.first.delta, ...r.grads, ...plainGrads.grads, plainGrads.value]);
  // Stacked and one η at a time run the same products slice by slice.
  assertAgree('stacked vs one η at a time', oneByOne, shared, 1e-5);
  return { plain, shared };
}

function assertAgree(what: string, p: GradientProbe, s: GradientProbe, tol: number): void {
  const close = (name: string, x: number, y: number, scale = Math.abs(y)) =>
    assert.ok(Math.abs(x - y) <= tol * Math.max(scale, 1e-12), `${what} ${name}: shared ${x} vs op by op ${y} (relative ${(Math.abs(x - y) / scale).toExponential(2)})`);
  close('loss', s.loss, p.loss);
  close('gradNorm', s.gradNorm, p.gradNorm);
  ETAS.forEach((eta, k) => {
    close(`lossAtEta[${eta}]`, s.lossAtEta[k], p.lossAtEta[k]);
    close(`gradChange[${eta}]`, s.gradChange[k], p.gradChange[k]);
    close(`betaAtEta[${eta}]`, s.betaAtEta[k], p.betaAtEta[k]);
    // κ_G on the scale of β(η), as the reference tests compare it.
    close(`curvatureAtEta[${eta}]`, s.curvatureAtEta[k], p.curvatureAtEta[k], Math.abs(p.betaAtEta[k]));
  });
}

for (const backend of BACKENDS) {
  test(`shared first layer = op by op on the MNIST MLP (784-…-10, 128 digits) on ${backend}`, async () => {
    const net = loadNetwork(join(ROOT, 'examples', 'mlp-mnist.json'));
    const { tf, ds } = await startRun(net, { dataset: 'mnist', loss: 'auto', seed: 0, backend });
    const n = 128;
    const width = ds.train.x.length / ds.train.n;
    const batch = batchTensors(tf, ds, { n, x: ds.train.x.subarray(0, n * width), labels: ds.train.labels!.subarray(0, n) });
    const params = paramTensors(tf, net.info, initialWeights(net, 0));
    const model = forwardModel(net, ds.loss);
    assert.equal(model.firstDense?.layer, net.spec.layers.find((l) => l.kind === 'dense')!.name);
    const { plain, shared } = await both(tf as unknown as TF, { tf: tf as unknown as TF, model, loss: ds.loss, forward: { training: true } }, params, batch);
    // Differences of gradients lose digits at small η either way (see the reference tests); 1e-4 is far
    // below what the charts resolve and far above float32 rounding of the same sums in another order.
    assertAgree('mlp-mnist', plain, shared, 1e-4);
    tf.dispose([...params, batch.x, batch.y]);
  });

  for (const spec of [MLP_BN, FLATTEN_MLP, DLN]) {
    test(`shared first layer = op by op on ${spec.name} on ${backend}`, async () => {
      const loss = spec === DLN ? 'mse' : 'softmax-ce';
      const fx = buildFixture(spec, loss === 'mse' ? { n: 48, loss, targetDim: 10 } : { n: 48, loss, classes: 4 }, 77);
      const net = loadNetwork(fx.modelPath);
      const { tf } = await initBackend(backend);
      const x = tf.tensor(Float32Array.from(fx.x.data), fx.x.shape);
      const y = loss === 'mse' ? tf.tensor(Float32Array.from(fx.y), [48, 10]) : tf.tensor1d(fx.y, 'int32');
      const params = paramTensors(tf, net.info, initialWeights(net, 3));
      const model = forwardModel(net, loss);
      assert.ok(model.firstDense, `${spec.name} starts with a Dense layer`);
      const { plain, shared } = await both(tf as unknown as TF, { tf: tf as unknown as TF, model, loss, forward: { training: true } }, params, { x, y });
      assertAgree(spec.name, plain, shared, 1e-4);
      tf.dispose([...params, x, y]);
    });
  }
}

for (const backend of BACKENDS) {
  test(`shared and stacked = op by op with noisy BatchNorm (the same noise at every η) on ${backend}`, async () => {
    const fx = buildFixture(MLP_BN, { n: 48, loss: 'softmax-ce', classes: 4 }, 78);
    const net = loadNetwork(fx.modelPath);
    const { tf } = await initBackend(backend);
    const x = tf.tensor(Float32Array.from(fx.x.data), fx.x.shape);
    const y = tf.tensor1d(fx.y, 'int32');
    const params = paramTensors(tf, net.info, initialWeights(net, 4));
    // Santurkar et al.'s noise: a per-unit scale around 1 and a shift around 0, drawn once for the step.
    const noise = new Map(
      ['batch_normalization_1', 'batch_normalization_2'].map((name, i) => [
        name,
        { scale: tf.add(1, tf.mul(0.3, tf.randomNormal([48, 16], 0, 1, 'float32', 10 + i))), shift: tf.mul(0.2, tf.randomNormal([48, 16], 0, 1, 'float32', 20 + i)) },
      ]),
    );
    const model = forwardModel(net, 'softmax-ce');
    const { plain, shared } = await both(tf as unknown as TF, { tf: tf as unknown as TF, model, loss: 'softmax-ce', forward: { training: true, noise } }, params, { x, y });
    assertAgree('noisy mlp_bn', plain, shared, 1e-4);
    tf.dispose([...params, x, y, ...[...noise.values()].flatMap((n) => [n.scale, n.shift])]);
  });
}

for (const backend of BACKENDS) {
  test(`a slice of the MNIST MLP with BatchNorm in one pass per chunk = point by point, batch and moving statistics, on ${backend}`, async () => {
    const fx = buildFixture(MLP_BN, { n: 64, loss: 'softmax-ce', classes: 4 }, 79);
    const net = loadNetwork(fx.modelPath);
    const { tf } = await initBackend(backend);
    const x = tf.tensor(Float32Array.from(fx.x.data), fx.x.shape);
    const y = tf.tensor1d(fx.y, 'int32');
    const weights = initialWeights(net, 6);
    const w = paramTensors(tf, net.info, weights);
    const dir = (seed: number) => w.map((p, i) => tf.mul(tf.randomNormal(p.shape, 0, 1, 'float32', seed + i), 0.3));
    const d1 = dir(100);
    const d2 = dir(200);
    const model = forwardModel(net, 'softmax-ce');
    const points = gridPoints(linspace(-1, 1, 5), linspace(-0.5, 0.5, 3));
    const moving = movingStatistics(tf, net.info, weights);
    for (const forward of [{ training: true }, { training: false, moving }]) {
      const setup = { tf: tf as unknown as TF, model, loss: 'softmax-ce' as const, forward };
      const one = await evaluatePoints({ ...setup, sharedFirstLayer: false }, w, d1, d2, { x, y }, points, forward, 4);
      const chunked = await evaluatePoints(setup, w, d1, d2, { x, y }, points, forward, 4);
      chunked.forEach((v, k) => assert.ok(Math.abs(v - one[k]) <= 1e-5 * Math.abs(one[k]), `${forward.training ? 'batch' : 'moving'} statistics, point ${k}: ${v} vs ${one[k]}`));
      assert.notDeepEqual(new Set(one.map((v) => v.toFixed(4))).size, 1, 'the points differ from each other');
    }
    tf.dispose([...w, ...d1, ...d2, x, y, ...[...moving.values()].flatMap((m) => [m.mean, m.variance])]);
  });
}

test('which networks stack their η: Dense, BatchNorm, ℓp norm, activations, Dropout and Add after the first Dense layer', () => {
  const stackable = (layers: NetSpec['layers']) => {
    const fx = buildFixture({ name: 'stack', inputShape: [6], layers }, { n: 4, loss: 'softmax-ce', classes: 3 }, 5);
    return forwardModel(loadNetwork(fx.modelPath), 'softmax-ce').stackable;
  };
  assert.equal(stackable(MLP_BN.layers.map((l) => (l.type === 'Dense' && l.name === 'dense_3' ? { ...l, units: 3 } : l))), true);
  assert.equal(
    stackable([
      { type: 'Dense', name: 'd1', units: 4, activation: 'relu', useBias: true },
      { type: 'Flatten', name: 'f' },
      { type: 'Dense', name: 'd2', units: 3, activation: 'softmax', useBias: true },
    ]),
    false,
  );
});

test('networks whose first parameters are not a Dense layer keep the op-by-op probe', () => {
  for (const spec of [CNN_BN, BN_FIRST]) {
    const fx = buildFixture(spec, { n: 4, loss: 'softmax-ce', classes: 3 }, 5);
    const net = loadNetwork(fx.modelPath);
    assert.equal(forwardModel(net, 'softmax-ce').firstDense, null, spec.name);
  }
});
