// `analyze --hessian-every N` (and the bnlens.hessianEvery setting): the Hessian measures land on the probed
// steps at multiples of N and nowhere else, each announced by a 'phase' event before that step's record (so
// the status lines can say what the engine is doing while it runs), the measures obey the bounds that hold
// for any symmetric matrix (λ_min ≤ gᵀHg/‖g‖² ≤ λ_max, the top eigenvalues descending from λ_max), and the
// report with them validates.
import assert from 'node:assert/strict';

import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import type { EngineToHost, Report } from '../../src/protocol';
import { phaseText } from '../../src/report/progress';
import { validateReport } from '../../src/report/validate';
import { tempDir, writeTinyMlp } from './analyze-fixtures';

const dir = tempDir('hessian-analyze');
const { model: modelPath, data: dataPath } = writeTinyMlp(dir, { n: 80, tag: 'd' });

test('Hessian measures every N probed steps, each announced by a phase event before its step', async () => {
  const events: EngineToHost[] = [];
  const report: Report = JSON.parse(
    JSON.stringify(await analyze({ model: modelPath, dataset: dataPath, variants: ['standard', 'batchnorm'], steps: 5, batch: 16, evalEvery: 3, hessianEvery: 2, hessianTop: 3, backend: 'cpu' }, (e) => events.push(e))),
  );
  const v = validateReport(report, { strict: true });
  assert.ok(v.ok, v.ok ? '' : v.error);
  for (const variant of report.variants) {
    assert.deepEqual(
      variant.steps.filter((s) => s.hessian).map((s) => s.step),
      [0, 2, 4],
      `${variant.name}: Hessian steps`,
    );
    for (const s of variant.steps.filter((x) => x.hessian)) {
      const h = s.hessian!;
      const slack = 1e-3 * Math.max(Math.abs(h.lambdaMax), Math.abs(h.lambdaMin));
      assert.ok(h.gHg !== null, 'gᵀHg measured');
      assert.ok(h.lambdaMin <= h.gHg + slack && h.gHg <= h.lambdaMax + slack, `${variant.name} step ${s.step}: λ_min ${h.lambdaMin} ≤ gᵀHg/‖g‖² ${h.gHg} ≤ λ_max ${h.lambdaMax}`);
      assert.equal(h.top.length, 3);
      assert.ok(Math.abs(h.top[0] - h.lambdaMax) <= slack, 'the top eigenvalue is λ_max');
      assert.ok(
        h.top.every((x, i) => i === 0 || x <= h.top[i - 1] + slack),
        `top descending: ${h.top.join(', ')}`,
      );
    }
  }
  // The phase events: one per variant per Hessian step, and the variant's next event is that step's record
  // (variants run in processes of their own, so their events interleave).
  type Phase = EngineToHost & { type: 'phase' };
  const nextOfVariant = (p: Phase) => events.slice(events.indexOf(p) + 1).find((e) => 'variant' in e && e.variant === p.variant);
  const hessianPhases = events.filter((e): e is Phase => e.type === 'phase' && e.phase === 'hessian');
  assert.deepEqual(hessianPhases.map((e) => `${e.variant}@${e.step}`).sort(), ['batchnorm@0', 'batchnorm@2', 'batchnorm@4', 'standard@0', 'standard@2', 'standard@4']);
  for (const p of hessianPhases) {
    const next = nextOfVariant(p);
    assert.ok(next?.type === 'step' && next.record.step === p.step && next.record.hessian, `after ${phaseText(p)} comes its step, with the measures`);
  }
  assert.equal(phaseText(hessianPhases.find((p) => p.variant === 'batchnorm')!), 'batchnorm: Hessian at step 0…');
  // Held-out evaluations at step 3 are announced the same way, before their 'eval' record.
  const evalPhases = events.filter((e): e is Phase => e.type === 'phase' && e.phase === 'eval');
  assert.deepEqual(evalPhases.map((e) => `${e.variant}@${e.step}`).sort(), ['batchnorm@3', 'standard@3']);
  for (const p of evalPhases) assert.equal(nextOfVariant(p)?.type, 'eval');
});

test('bnlens analyze --hessian: the measures at every 25th probed step, as --hessian-every 25', async () => {
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const out = join(dir, 'cli.json');
  execFileSync(
    process.execPath,
    [
      join(__dirname, '..', '..', 'bin', 'bnlens.js'),
      'analyze',
      modelPath,
      '--dataset',
      dataPath,
      '--steps',
      '27',
      '--batch',
      '16',
      '--variants',
      'batchnorm',
      '--ics-every',
      '0',
      '--eval-every',
      '0',
      '--hessian',
      '--hessian-top',
      '2',
      '--backend',
      'cpu',
      '--out',
      out,
      '--quiet',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const report: Report = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(report.config.hessianEvery, 25);
  assert.deepEqual(
    report.variants[0].steps.filter((s) => s.hessian).map((s) => s.step),
    [0, 25],
  );
});
