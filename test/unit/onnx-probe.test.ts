// `bnlens probe` on ONNX files that PyTorch 1.13 exported (test/fixtures/onnx/generate.py), against the
// measurements PyTorch itself computes in float64 autograd at the same weights on the same batch (the
// *.ref.json beside each file). The four networks of the issue — Sequential with BatchNorm1d, a conv with
// max pooling and a `x.view(x.size(0), -1)` into Linear, a residual block, a deep linear network — and one
// network per mapped op; each on the wasm and cpu backends, with the tolerance rule of test/reference/cli.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKENDS, runProbe } from '../reference/cli';
import { compareWithTorch, probeArgs, references } from './onnx-helpers';

for (const ref of references()) {
  for (const backend of BACKENDS) {
    test(`probe ${ref.model} (opset ${ref.opset}) on ${backend} equals PyTorch float64`, async (t) => {
      const out = await runProbe(probeArgs(ref, backend));
      const cmp = compareWithTorch(`${ref.model}/${backend}`, out, ref);
      t.diagnostic(cmp.report());
      assert.equal(cmp.failures.length, 0, cmp.report());
    });
  }
}
