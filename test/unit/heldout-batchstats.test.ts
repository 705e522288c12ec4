// Held-out numbers of BatchNorm variants early in training (issue 11.6, issue 10 item 14): beside the
// evaluation with the moving statistics, the engine reports the held-out accuracy with each held-out batch's
// own statistics and how much of their initial values the moving averages still carry; the summary and the
// CLI table mark early values as warming up.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/engine/analyze';
import { summaryTable, WARMING_UP_INIT_WEIGHT } from '../../src/report/summary';
import { FRAMEWORK_DEFAULTS } from '../../src/engine/network/frameworks';
import { tempDir } from './analyze-fixtures';

const INSERTED_BN_MOMENTUM = FRAMEWORK_DEFAULTS.keras.insertedBnMomentum;

test('a BatchNorm variant evaluated early reports held-out accuracy with its own batch statistics and the warm-up state', async () => {
  const dir = tempDir('heldout-bs');
  const model = join(dir, 'mlp.json');
  writeFileSync(
    model,
    JSON.stringify({
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'Dense', config: { name: 'h1', units: 16, activation: 'relu', batch_input_shape: [null, 12] } },
          { class_name: 'Dense', config: { name: 'out', units: 3, activation: 'softmax' } },
        ],
      },
    }),
  );
  const steps = 4;
  const r = await analyze({ model, dataset: 'gaussian', steps, batch: 32, evalEvery: 2, icsEvery: 0, etaCount: 2, backend: 'cpu' }, () => {}, undefined, { parallel: 1 });
  const std = r.variants.find((v) => v.name === 'standard')!;
  const bn = r.variants.find((v) => v.name === 'batchnorm')!;
  assert.ok(std.evals.length > 0 && std.evals.every((e) => e.batchStatsAccuracy === undefined), 'no BatchNorm, no batch-statistics numbers');
  assert.deepEqual(
    bn.evals.map((e) => e.step),
    [2, steps],
  );
  for (const e of bn.evals) {
    // One update of the moving statistics per step before the evaluation; their initial values weigh momentum^steps.
    assert.equal(e.movingStatsSteps, e.step);
    assert.equal(e.movingStatsInitWeight, INSERTED_BN_MOMENTUM ** e.step);
    assert.equal(e.batchStatsBatch, 32);
    assert.ok(typeof e.batchStatsAccuracy === 'number' && e.batchStatsAccuracy >= 0 && e.batchStatsAccuracy <= 1);
    assert.ok(typeof e.batchStatsLoss === 'number' && Number.isFinite(e.batchStatsLoss));
    // The two evaluations differ only in the statistics BatchNorm uses, so after a few steps they differ.
    assert.notEqual(e.batchStatsLoss, e.loss);
  }
  const row = r.summary.find((s) => s.variant === 'batchnorm')!;
  assert.equal(row.testAccuracyBatchStats, bn.evals[1].batchStatsAccuracy);
  assert.equal(row.movingStatsWarmingUp, INSERTED_BN_MOMENTUM ** steps > WARMING_UP_INIT_WEIGHT); // 0.9⁴ = 0.66: warming up
  assert.equal(r.summary.find((s) => s.variant === 'standard')!.movingStatsWarmingUp, undefined);
  const table = summaryTable(r.summary);
  assert.match(table, /test acc \(own BN stats\)/);
  assert.match(table, /\d%\*/);
  assert.match(table, /warming up/);
});

test('a regression (mse) BatchNorm variant warming up carries the mark on its held-out loss, not on the missing accuracy', () => {
  const row = {
    variant: 'batchnorm',
    finalLoss: 4.7,
    finalAccuracy: null,
    testLoss: 4.3094,
    testAccuracy: null,
    testLossBatchStats: 4.2,
    testAccuracyBatchStats: null,
    movingStatsWarmingUp: true,
    meanBandWidth: 1,
    meanGradChange: 1,
    meanBeta: 1,
    maxBeta: 1,
    diverged: null,
  };
  const table = summaryTable([row as Parameters<typeof summaryTable>[0][number]]);
  assert.match(table, /4\.3094\*/);
  assert.doesNotMatch(table, /—\*/);
});
