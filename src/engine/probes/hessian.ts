// The Hessian measures of one step (PyHessian's, from exact Hessian-vector products):
//   - λ_max, λ_min and the top k by Lanczos with full reorthogonalization, run until their Ritz residuals
//     ‖Hq − θq‖ are below tol·max|θ| (or the step budget is spent; the largest residual is reported);
//   - tr(H) by Hutchinson: the mean of zᵀHz over Rademacher vectors z, with its standard error;
//   - the eigenvalue density by stochastic Lanczos quadrature: each Lanczos run from a Rademacher start
//     gives Ritz values θ_k with weights τ_k² (Gauss quadrature of the spectral measure seen from z);
//   - gᵀHg/‖g‖² with the step's gradient.
// Every Lanczos start is a Rademacher vector, so each run also gives one Hutchinson sample (zᵀHz is its
// first α times ‖z‖²): the first Lanczos run serves the extremes, the density and the trace at once.
import type { HessianBn, HessianMeasure } from '../../protocol';
import { Rng } from '../rng';
import type { Tensor } from '../network/forward';
import { flatHessian, flatten, type FlatOperator, type HessianSetup } from './hvp';
import { lanczos, type LanczosResult } from './lanczos';

export interface HessianOptions {
  /** How many of the largest eigenvalues to report. */
  top: number;
  /** Most Lanczos steps of the run for the extremes. */
  maxSteps: number;
  /** Ritz residual at which the extremes count as converged, relative to max|θ|. */
  tol: number;
  /** Lanczos runs for the density (the first is the extremes' run); each further one takes `slqSteps` steps. */
  slqRuns: number;
  slqSteps: number;
  /** Rademacher samples for the trace (Lanczos starts count). */
  traceSamples: number;
  seed: number;
  bn: HessianBn;
}

export const DEFAULT_HESSIAN_OPTIONS: Omit<HessianOptions, 'seed' | 'bn'> = {
  top: 5,
  maxSteps: 60,
  tol: 1e-3,
  slqRuns: 2,
  slqSteps: 30,
  traceSamples: 20,
};

/** Stream of the seeded Rademacher vectors, apart from every other random stream of the engine. */
const HESSIAN_STREAM = 3001;

export interface HessianProgress {
  phase: 'lanczos' | 'density' | 'trace' | 'gHg';
  hvps: number;
}

export async function measureHessian(op: FlatOperator, grad: Float32Array, o: HessianOptions, onProgress?: (p: HessianProgress) => void): Promise<HessianMeasure> {
  const t0 = performance.now();
  const rng = new Rng(o.seed, HESSIAN_STREAM);
  const rademacher = () => {
    const z = new Float32Array(op.dim);
    for (let i = 0; i < z.length; i++) z[i] = rng.uniform() < 0.5 ? -1 : 1;
    return z;
  };
  const apply = async (v: Float32Array, phase: HessianProgress['phase']) => {
    const r = await op.apply(v);
    onProgress?.({ phase, hvps: op.count });
    return r;
  };
  const start = op.count;
  const top = Math.max(1, Math.min(o.top, op.dim));
  const runs: LanczosResult[] = [];
  const samples: number[] = [];

  // The extremes: the top k and the smallest must converge.
  const first = await lanczos((v) => apply(v, 'lanczos'), rademacher(), {
    maxSteps: o.maxSteps,
    tol: o.tol,
    wanted: (theta) => [0, ...Array.from({ length: Math.min(top, theta.length) }, (_, i) => theta.length - 1 - i)],
  });
  runs.push(first);
  samples.push(first.startQuadratic);
  for (let r = 1; r < o.slqRuns; r++) {
    const run = await lanczos((v) => apply(v, 'density'), rademacher(), { maxSteps: o.slqSteps });
    runs.push(run);
    samples.push(run.startQuadratic);
  }
  while (samples.length < o.traceSamples) {
    const z = rademacher();
    const hz = await apply(z, 'trace');
    let s = 0;
    for (let i = 0; i < z.length; i++) s += z[i] * hz[i];
    samples.push(s);
  }
  const g2 = grad.reduce((a, v) => a + v * v, 0);
  let gHg: number | null = null;
  if (g2 > 0) {
    const hg = await apply(grad, 'gHg');
    let s = 0;
    for (let i = 0; i < grad.length; i++) s += grad[i] * hg[i];
    gHg = s / g2;
  }

  const m = first.theta.length;
  const topValues = first.theta.slice(Math.max(0, m - top)).reverse();
  const wanted = [0, ...Array.from({ length: Math.min(top, m) }, (_, i) => m - 1 - i)];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const variance = samples.length > 1 ? samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1) : 0;
  const nodes: number[] = [];
  const weights: number[] = [];
  for (const run of runs)
    run.theta.forEach((t, k) => {
      nodes.push(t);
      weights.push(run.weight[k] / runs.length);
    });
  return {
    lambdaMax: first.theta[m - 1],
    lambdaMin: first.theta[0],
    top: topValues,
    trace: mean,
    traceStdErr: Math.sqrt(variance / samples.length),
    traceSamples: samples.length,
    gHg,
    density: { nodes, weights, runs: runs.length },
    residual: Math.max(...wanted.map((k) => first.residual[k])),
    bn: o.bn,
    dimension: op.dim,
    hvps: op.count - start,
    ms: performance.now() - t0,
  };
}

/** The measures at the setup's weights and batch; `grads` is ∇L there (the step's gradient). */
export async function measureHessianAt(s: HessianSetup, grads: Tensor[], o: HessianOptions, onProgress?: (p: HessianProgress) => void): Promise<HessianMeasure> {
  const op = flatHessian(s);
  return measureHessian(op, await flatten(s.tf, grads), o, onProgress);
}
