// What float32 can resolve of a gradient change: the warning `bnlens probe` and a run print for too-small η.

/**
 * Float32 resolves a gradient to about 1e-7 of its norm (more on large layers), so a step whose gradient
 * change ‖∇L(x − η·g) − g‖ is below about 1e-4·‖g‖ is measured with a relative error that can exceed 1e-3.
 * Returns a one-line warning naming those η, or null.
 */
export function precisionWarning(etas: number[], gradChange: (number | null)[], gradNorm: number): string | null {
  const tiny = etas.filter((_, k) => {
    const d = gradChange[k];
    return typeof d === 'number' && gradNorm > 0 && d < 1e-4 * gradNorm;
  });
  if (tiny.length === 0) return null;
  return (
    `η = ${tiny.map((e) => (e < 1e-3 ? e.toExponential(2) : e.toPrecision(3))).join(', ')} change${tiny.length === 1 ? 's' : ''} the gradient by less than 1e-4 of its norm, ` +
    `close to what float32 can resolve: gradChange and β there may be off by more than 1e-3 relative; use larger η`
  );
}
