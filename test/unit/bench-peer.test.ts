// The NumPy peer (bench/peer/numpy_probe.py) computes what the engine computes: on the engine's own initial
// weights and batch, one probed step of each variant of the mlp and cnn workloads gives the same loss and β to
// a relative 1e-4 (and the same ℓ(η), d(η) to 1e-3), both in float32, so its time is a fair comparison.
// The peer is an independent implementation: hand-written forward and backward passes in NumPy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { findPython } from '../../src/cli/bench/peer';
import { checkPeer, PEER_TOLERANCE } from '../../src/cli/bench/peerCheck';
import { setupVariant } from '../../src/cli/bench/workloads';

const root = join(__dirname, '..', '..');

for (const workload of ['mlp', 'cnn'])
  for (const variant of ['standard', 'batchnorm'] as const)
    test(`the NumPy peer matches the engine on ${workload} (${variant})`, async () => {
      const py = findPython();
      assert.ok('python' in py, `python3 with numpy is needed for this test: ${'missing' in py ? py.missing : ''}`);
      const b = await setupVariant(workload, variant, 'wasm', root);
      const c = await checkPeer(b, py.python, root);
      assert.ok(c.lossRelDiff <= PEER_TOLERANCE, `loss: engine ${c.engine.loss}, peer ${c.peer.loss}`);
      assert.ok(c.betaRelDiff <= PEER_TOLERANCE, `β: engine ${c.engine.beta}, peer ${c.peer.beta}`);
      assert.ok(c.curveRelDiff <= 1e-3, `ℓ(η), d(η) differ by ${c.curveRelDiff}: ${JSON.stringify(c)}`);
      // The probe is not degenerate: the loss moves along the gradient and the gradient changes.
      assert.ok(c.engine.gradNorm > 0 && c.engine.gradChange.every((d) => d > 0) && c.engine.beta > 0, JSON.stringify(c.engine));
    });
