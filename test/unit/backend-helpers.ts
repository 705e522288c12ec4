// Shared by the backend tests: seeded inputs and comparisons.
import assert from 'node:assert/strict';

/** mulberry32: a tiny seeded generator, so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Values with |v| in [0.1, 1] and all distinct, rounded to float32: away from the kinks of relu/abs/step
 * and free of ties for max and max-pooling, so central differences are exact up to rounding.
 */
export function separated(n: number, rand: () => number, positive = false): Float32Array {
  const order = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
  return Float32Array.from(order, (k) => (positive || rand() < 0.5 ? 1 : -1) * (0.1 + (0.9 * (k + rand() * 0.5 + 0.25)) / n));
}

export function uniform(n: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/** max |a − b| ≤ atol + rtol·max|b|, with the worst index in the message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0,
    at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= atol + rtol * scale, `${what}: max |diff| ${worst} at ${at} (got ${actual[at]}, want ${expected[at]}; scale ${scale})`);
}
