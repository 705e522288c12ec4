// The float32 resolution warning: η so small that the gradient barely changes cannot be measured to 1e-3.
// Checked on the closed form of a quadratic, where ‖∇L(x − η·g) − g‖ = η‖Hg‖ exactly.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { precisionWarning } from '../../src/engine/probes/precision';

test('names exactly the η whose gradient change is below 1e-4 of the gradient norm', () => {
  const gradNorm = 2;
  const hg = 10; // ‖Hg‖ of a quadratic: gradChange(η) = η·‖Hg‖
  const etas = [1e-9, 1e-6, 1e-5, 1e-4, 0.1];
  const w = precisionWarning(
    etas,
    etas.map((e) => e * hg),
    gradNorm,
  );
  assert.ok(w);
  // The threshold is 1e-4·‖g‖ = 2e-4: η·10 is below it for 1e-9, 1e-6 and 1e-5, not for 1e-4 (1e-3) or 0.1.
  assert.match(w, /^η = 1\.00e-9, 1\.00e-6, 1\.00e-5 change the gradient by less than 1e-4 of its norm/);
  assert.doesNotMatch(w, /1\.00e-4|0\.100/);
  assert.doesNotMatch(w, /\n/);
});

test('silent for the paper’s VGG-style grid and for diverged (null) probes', () => {
  assert.equal(precisionWarning([0.05, 0.1, 0.4], [0.08, 0.17, 0.58], 0.83), null);
  assert.equal(precisionWarning([0.05], [null], 0.83), null);
});
