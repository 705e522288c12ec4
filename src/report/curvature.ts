// Curvature along the gradient from the fields every probed step already has, so reports written before
// these measures existed get them too. No tfjs: the CLI, the charts and the hover all use it.

/**
 * Relative error of a float32 loss computed through a network (reductions over a batch, a few ulps per
 * layer): conservative, so that a κ_L we call resolved is resolved.
 */
export const FLOAT32_LOSS_REL_ERROR = 1e-6;

export interface DescentFreeCurvature {
  /** κ_L(η) = 2·(ℓ(η) − L + η‖g‖²) / (η²‖g‖²); null where an input is missing or not finite. */
  value: (number | null)[];
  /** Bound on the error of κ_L(η) from float32 rounding of ℓ(η) and L: 2·ε·(|ℓ|+|L|) / (η²‖g‖²). */
  error: (number | null)[];
}

/**
 * κ_L: the curvature left in ℓ(η) = L(x − η·g) once the first-order descent −η‖g‖² is taken out. For a
 * quadratic it is gᵀHg/‖g‖² at every η. The numerator is a difference of nearly equal losses, so at tiny η
 * float32 cannot resolve it: `error` says by how much it may be off.
 */
export function descentFreeCurvature(loss: number, gradNorm: number, eta: readonly number[], lossAtEta: readonly (number | null)[]): DescentFreeCurvature {
  const g2 = gradNorm * gradNorm;
  const value: (number | null)[] = [];
  const error: (number | null)[] = [];
  eta.forEach((e, k) => {
    const l = lossAtEta[k];
    const denom = e * e * g2;
    if (typeof l !== 'number' || !Number.isFinite(l) || !Number.isFinite(loss) || !(denom > 0) || !Number.isFinite(denom)) {
      value.push(null);
      error.push(null);
      return;
    }
    const v = (2 * (l - loss + e * g2)) / denom;
    value.push(Number.isFinite(v) ? v : null);
    error.push((2 * FLOAT32_LOSS_REL_ERROR * (Math.abs(l) + Math.abs(loss))) / denom);
  });
  return { value, error };
}

/** κ_L where float32 resolves it to 10% (its error bound at most a tenth of its size), else null. */
export function resolvedDescentFreeCurvature(loss: number, gradNorm: number, eta: readonly number[], lossAtEta: readonly (number | null)[]): (number | null)[] {
  const { value, error } = descentFreeCurvature(loss, gradNorm, eta, lossAtEta);
  return value.map((v, k) => (v !== null && error[k] !== null && error[k]! <= 0.1 * Math.abs(v) ? v : null));
}

/** Mean of the finite numbers, null if none. */
export function meanOf(xs: readonly (number | null | undefined)[]): number | null {
  const f = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null;
}
