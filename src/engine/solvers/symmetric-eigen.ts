// Every eigenpair of a small dense symmetric matrix (float64), by cyclic Jacobi rotations: the
// projected matrices of thick-restart Lanczos (thick-restart.ts) are at most a few dozen wide, where
// Jacobi is simple, needs no tridiagonal reduction, and gives orthonormal eigenvectors to rounding.

export interface SymmetricEigensystem {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Column i (vectors[r * n + i], r = 0..n−1) is the unit eigenvector of values[i]. */
  vectors: Float64Array;
}

const MAX_SWEEPS = 60;

/** The eigensystem of the symmetric n × n row-major `matrix` (only read, never written). */
export function symmetricEigensystem(matrix: Float64Array, n: number): SymmetricEigensystem {
  const a = Float64Array.from(matrix.subarray(0, n * n));
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let sweep = 0; sweep < MAX_SWEEPS && scale > 0; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off = Math.max(off, Math.abs(a[p * n + q]));
    if (off <= 1e-17 * scale) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.5.1, the smaller angle).
        const tau = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = a[from * n + from];
    for (let r = 0; r < n; r++) vectors[r * n + to] = v[r * n + from];
  });
  return { values, vectors };
}
