// `bnlens probe` on PyTorch model files (.py + .safetensors beside them) against PyTorch itself in float64
// (test/reference/pytorch/generate.py, run with Debian's torch; its output is committed): loss, ‖g‖, ℓ(η),
// d(η), β and ICS per module path, to 1e-3 relative, on the wasm and cpu backends. Where torch is
// installed the references are regenerated into a temporary folder and must equal the committed ones.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runProbe } from '../../src/engine/probeCommand';

const DIR = join(__dirname, '..', 'reference', 'pytorch');
interface Ref {
  loss: number;
  gradNorm: number;
  lossAtEta: number[];
  gradChange: number[];
  beta: number;
  ics: { layer: string; l2: number; cos: number }[];
  params: number;
  model: string;
  inputShape: number[];
}
const REFS = JSON.parse(readFileSync(join(DIR, 'references.json'), 'utf8')) as { eta: number[]; icsLr: number; cases: Record<string, Ref> };

/** |a − b| ≤ rtol·|b| + atol (atol only for values that are exactly 0 in the reference, e.g. the first layer's ICS). */
function close(actual: number, expected: number, what: string, rtol = 1e-3, atol = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.abs(expected) + atol, `${what}: got ${actual}, PyTorch float64 ${expected}`);
}

for (const [name, ref] of Object.entries(REFS.cases)) {
  for (const backend of ['wasm', 'cpu'] as const) {
    test(`${name}.py on ${backend} = PyTorch float64 (loss, ‖g‖, ℓ(η), d(η), β, ICS per module path)`, async () => {
      const r = await runProbe({ model: join(DIR, `${name}.py`), data: join(DIR, `${name}.npz`), loss: 'auto', eta: REFS.eta, icsLr: REFS.icsLr, backend, seed: 0 });
      close(r.loss, ref.loss, 'loss');
      close(r.gradNorm, ref.gradNorm, '‖g‖');
      ref.lossAtEta.forEach((v, k) => close(r.lossAtEta[k]!, v, `ℓ(${REFS.eta[k]})`));
      ref.gradChange.forEach((v, k) => close(r.gradChange[k]!, v, `d(${REFS.eta[k]})`));
      close(r.beta!, ref.beta, 'β');
      assert.deepEqual(
        r.ics.map((e) => e.layer),
        ref.ics.map((e) => e.layer),
        'ICS layers: module paths in forward order',
      );
      ref.ics.forEach((e, k) => {
        close(r.ics[k].l2!, e.l2, `ICS ‖G − G′‖ of ${e.layer}`, 2e-3, 1e-6);
        close(r.ics[k].cos!, e.cos, `ICS cos of ${e.layer}`);
      });
    });
  }
}

test('the committed references are what PyTorch computes now (regenerated with Debian’s python3-torch, which .ci/run installs)', () => {
  const out = mkdtempSync(join(tmpdir(), 'bnlens-torchref-'));
  const r = spawnSync('/usr/bin/python3', [join(DIR, 'generate.py'), out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const fresh = JSON.parse(readFileSync(join(out, 'references.json'), 'utf8')) as typeof REFS;
  for (const [name, ref] of Object.entries(REFS.cases)) {
    const f = fresh.cases[name];
    assert.ok(f, name);
    close(f.loss, ref.loss, `${name} loss`, 1e-9, 1e-12);
    close(f.beta, ref.beta, `${name} β`, 1e-9, 1e-12);
    assert.ok(existsSync(join(out, `${name}.safetensors`)));
  }
});
