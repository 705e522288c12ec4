// Training an ONNX export step by step, against PyTorch training the same module in float64 (the
// *.steps.json that test/fixtures/onnx/generate.py writes): at every plain-SGD step on one fixed batch the
// probes (loss, ‖g‖, ℓ(η), d(η), β, ICS per layer), and after the steps the BatchNorm running statistics and
// the eval-mode loss with them. The running statistics check the PyTorch conventions the ONNX reader gives
// the layers: ONNX's momentum attribute (1 − PyTorch's momentum), PyTorch's unbiased running variance and
// the file's epsilon. One MLP with BatchNorm1d, one conv net with BatchNorm2d, and a conv net with padding
// PyTorch applies but TF's 'same' does not and a BatchNorm2d with its own eps and momentum, and one with
// grouped and depthwise convolutions.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { initBackend } from '../../src/engine/backend';
import { DEFAULT_CONFIG } from '../../src/engine/config';
import { loadData, mergeSplits } from '../../src/engine/data/forNetwork';
import { loadNetwork } from '../../src/engine/network/load';
import { batchTensors } from '../../src/engine/tensors';
import { VariantRun } from '../../src/engine/train';
import { deriveVariants } from '../../src/engine/variants';
import { BACKENDS, Comparison } from '../reference/cli';
import { ONNX_DIR } from './onnx-helpers';

interface StepsReference {
  lr: number;
  eta: number[];
  steps: { loss: number; gradNorm: number; lossAtEta: number[]; gradChange: number[]; beta: number; ics: { layer: string; l2: number; cos: number; gNorm: number }[] }[];
  running: Record<string, { mean: number[]; var: number[] }>;
  evalLoss: number;
}

const CASES = readdirSync(ONNX_DIR)
  .filter((f) => f.endsWith('.steps.json'))
  .sort()
  .map((f) => f.replace(/\.steps\.json$/, ''));

test('the generator wrote trajectories for an MLP and conv nets with BatchNorm', () => {
  assert.deepEqual(CASES, ['conv_pool', 'op_conv_pads', 'op_grouped_conv', 'seq_bn1d']);
});

for (const name of CASES) {
  for (const backend of BACKENDS) {
    test(`${name}.onnx trained on ${backend}: every step's probes, then running statistics and eval loss equal PyTorch float64`, async (t) => {
      const ref = JSON.parse(readFileSync(join(ONNX_DIR, `${name}.steps.json`), 'utf8')) as StepsReference;
      const { loss_name: loss } = JSON.parse(readFileSync(join(ONNX_DIR, `${name}.ref.json`), 'utf8')) as { loss_name: 'softmax-ce' | 'mse' };
      const { tf } = await initBackend(backend);
      const model = join(ONNX_DIR, `${name}.onnx`);
      const data = join(ONNX_DIR, `${name}.npz`);
      const net = loadNetwork(model);
      const ds = loadData(net, data, loss, 0);
      const all = mergeSplits(ds.train, ds.test);
      const config = { ...DEFAULT_CONFIG, model, dataset: data, loss, lr: ref.lr, momentum: 0, probeEvery: 1, icsEvery: 1, variants: ['as-written' as const] };
      const [variant] = deriveVariants(net.spec, ['as-written']);
      const run = new VariantRun(tf, variant, net, ds, config, ref.eta);
      const batch = batchTensors(tf, ds, all);
      const cmp = new Comparison(`${name}/${backend}`);
      try {
        for (const [k, r] of ref.steps.entries()) {
          const out = await run.step(k, batch, all.n);
          assert.equal(out.diverged, null);
          const rec = out.record!;
          cmp.check(`step ${k} loss`, rec.loss, r.loss);
          cmp.check(`step ${k} gradNorm`, rec.gradNorm, r.gradNorm);
          ref.eta.forEach((eta, j) => {
            cmp.check(`step ${k} lossAtEta[${eta}]`, rec.lossAtEta[j], r.lossAtEta[j]);
            cmp.check(`step ${k} gradChange[${eta}]`, rec.gradChange[j], r.gradChange[j]);
          });
          cmp.check(`step ${k} beta`, rec.beta, r.beta);
          const ics = out.layerStats.filter((s) => s.icsL2 !== null);
          assert.deepEqual(
            ics.map((s) => s.layer),
            r.ics.map((e) => e.layer),
            `step ${k}: ICS layers in model order`,
          );
          r.ics.forEach((e, j) => {
            cmp.check(`step ${k} ics[${e.layer}].l2`, ics[j].icsL2, e.l2, e.gNorm);
            cmp.checkCos(`step ${k} ics[${e.layer}].cos`, ics[j].icsCos, e.cos);
          });
        }
        const moving = run.current.moving;
        assert.deepEqual([...moving.keys()].sort(), Object.keys(ref.running).sort(), 'BatchNorm layers named after the modules');
        for (const [layer, r] of Object.entries(ref.running)) {
          const m = moving.get(layer)!;
          const mean = (await m.mean.data()) as Float32Array;
          const variance = (await m.variance.data()) as Float32Array;
          r.mean.forEach((v, c) => cmp.check(`${layer} running_mean[${c}]`, mean[c], v, 1));
          r.var.forEach((v, c) => cmp.check(`${layer} running_var[${c}]`, variance[c], v));
        }
        const ev = await run.evaluate(ref.steps.length, all);
        cmp.check('eval-mode loss after the steps', ev!.loss, ref.evalLoss);
      } finally {
        tf.dispose([batch.x, batch.y]);
        run.dispose();
      }
      t.diagnostic(cmp.report());
      assert.equal(cmp.failures.length, 0, cmp.report());
    });
  }
}
