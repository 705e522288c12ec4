// Lanczos on the host for a symmetric operator given only through products (the Hessian through exact
// Hessian-vector products). Full reorthogonalization against every earlier basis vector, twice ("twice is
// enough"), so no spurious copies of converged eigenvalues appear; α, β and every dot product in float64;
// the tridiagonal matrix T is diagonalized in float64 by cyclic Jacobi rotations. The basis is stored in
// float32 — the products it comes from are float32 — which halves the memory of a long run.

export interface LanczosOptions {
  /** Most steps (the Krylov dimension); capped at the operator's dimension. */
  maxSteps: number;
  /**
   * Stop early once the wanted Ritz values have converged: `wanted(θ ascending)` gives their indices, and
   * the run stops when each residual |β_m·s_{m,k}| ≤ tol·max|θ|. Without it the run takes maxSteps.
   */
  wanted?: (thetaAscending: number[]) => number[];
  tol?: number;
  /** Check convergence every this many steps (each check diagonalizes T). */
  checkEvery?: number;
}

export interface LanczosResult {
  steps: number;
  /** Diagonal and off-diagonal of T (α_1..α_m, β_1..β_{m−1}). */
  alpha: number[];
  beta: number[];
  /** Ritz values ascending, their weights (first component of the eigenvector of T, squared), residuals. */
  theta: number[];
  weight: number[];
  residual: number[];
  /** v₁ᵀAv₁·‖v₁‖² for the start vector v₁ as given (unnormalized): a Hutchinson sample when v₁ is Rademacher. */
  startQuadratic: number;
  /** True when the Krylov space became invariant (β ≈ 0): the Ritz values are eigenvalues. */
  invariant: boolean;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

export async function lanczos(apply: (v: Float32Array) => Promise<Float32Array>, start: ArrayLike<number>, o: LanczosOptions): Promise<LanczosResult> {
  const n = start.length;
  const maxSteps = Math.max(1, Math.min(o.maxSteps, n));
  const tol = o.tol ?? 1e-3;
  const checkEvery = o.checkEvery ?? 5;
  const startNorm = Math.sqrt(dot(start, start));
  if (!(startNorm > 0)) throw new Error('lanczos: the start vector is zero');
  const Q: Float32Array[] = [];
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) q[i] = start[i] / startNorm;
  const alpha: number[] = [];
  const beta: number[] = [];
  let startQuadratic = NaN;
  let invariant = false;
  let eig: Eigen | null = null;
  for (let j = 0; j < maxSteps; j++) {
    const qf = Float32Array.from(q);
    Q.push(qf);
    const w64 = Float64Array.from(await apply(qf));
    const a = dot(w64, q);
    alpha.push(a);
    if (j === 0) startQuadratic = a * startNorm * startNorm;
    // w ← w − Σ (qᵢᵀw) qᵢ over the whole basis, twice: this also removes the α and β terms.
    for (let pass = 0; pass < 2; pass++)
      for (const qi of Q) {
        const c = dot(qi, w64);
        for (let i = 0; i < n; i++) w64[i] -= c * qi[i];
      }
    const b = Math.sqrt(dot(w64, w64));
    const last = j === maxSteps - 1;
    // β tiny next to the operator's scale: the Krylov space is invariant, T's eigenvalues are exact.
    const scale = Math.max(...alpha.map(Math.abs), ...beta, 1e-30);
    if (b <= 1e-7 * scale) {
      invariant = true;
      break;
    }
    if (!last) {
      beta.push(b);
      for (let i = 0; i < n; i++) q[i] = w64[i] / b;
    }
    if (o.wanted && (j + 1) % checkEvery === 0 && !last) {
      eig = tridiagonalEigen(alpha, beta.slice(0, alpha.length - 1));
      const res = eig.vectors.map((v) => Math.abs(b * v[alpha.length - 1]));
      const big = Math.max(...eig.values.map(Math.abs), 1e-30);
      if (o.wanted(eig.values).every((k) => res[k] <= tol * big)) break;
    }
    if (last) beta.push(b);
  }
  const m = alpha.length;
  // beta holds β_1..β_{m−1} inside T plus, when the run stopped without invariance, the trailing β_m.
  const inner = beta.slice(0, m - 1);
  const trailing = beta.length >= m ? beta[m - 1] : 0;
  eig = tridiagonalEigen(alpha, inner);
  return {
    steps: m,
    alpha,
    beta: inner,
    theta: eig.values,
    weight: eig.vectors.map((v) => v[0] * v[0]),
    residual: eig.vectors.map((v) => (invariant ? 0 : Math.abs(trailing * v[m - 1]))),
    startQuadratic,
    invariant,
  };
}

export interface Eigen {
  /** Ascending. */
  values: number[];
  /** vectors[k] is the unit eigenvector of values[k]. */
  vectors: number[][];
}

/** All eigenpairs of the symmetric tridiagonal matrix (α on the diagonal, β beside it), cyclic Jacobi in float64. */
export function tridiagonalEigen(alpha: number[], beta: number[]): Eigen {
  const m = alpha.length;
  const A = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? alpha[i] : Math.abs(i - j) === 1 ? beta[Math.min(i, j)] : 0)));
  return symmetricEigen(A);
}

/** Eigenpairs of a small dense symmetric matrix (modified in place) by cyclic Jacobi rotations. */
export function symmetricEigen(A: number[][]): Eigen {
  const m = A.length;
  const V: number[][] = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0,
      total = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        total += A[i][j] * A[i][j];
        if (i !== j) off += A[i][j] * A[i][j];
      }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < m - 1; p++)
      for (let r = p + 1; r < m; r++) {
        const apr = A[p][r];
        if (apr === 0) continue;
        const theta = (A[r][r] - A[p][p]) / (2 * apr);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = A[k][p],
            akr = A[k][r];
          A[k][p] = c * akp - s * akr;
          A[k][r] = s * akp + c * akr;
        }
        for (let k = 0; k < m; k++) {
          const apk = A[p][k],
            ark = A[r][k];
          A[p][k] = c * apk - s * ark;
          A[r][k] = s * apk + c * ark;
        }
        for (let k = 0; k < m; k++) {
          const vkp = V[k][p],
            vkr = V[k][r];
          V[k][p] = c * vkp - s * vkr;
          V[k][r] = s * vkp + c * vkr;
        }
      }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => A[a][a] - A[b][b]);
  return { values: order.map((i) => A[i][i]), vectors: order.map((i) => V.map((row) => row[i])) };
}
