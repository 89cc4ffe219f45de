// Float64 tools for small dense symmetric matrices: an estimate of the top eigenpair (Lanczos with
// full reorthogonalisation) and a certificate λmax(M) ≤ t by one Cholesky factorisation of tI − M.
// The estimate carries no proof; the certificate does (docs/large-inputs.md, "Certificates").
//
// Certificate. Cholesky in float64 (any order of the inner sums) on a symmetric C that runs to the
// end with positive pivots yields L̂ with L̂L̂ᵀ = C + Δ, |Δ| ≤ γ_{n+1}|L̂||L̂ᵀ| (Demmel; Higham, Accuracy
// and Stability of Numerical Algorithms, Thm 10.3 and its proof), so ||Δ||₂ ≤ γ_{n+1}||L̂||_F² and
// C ⪰ −γ_{n+1}||L̂||_F² I. C = fl(tI − M) rounds only the diagonal (|D_ii| ≤ u|t − M_ii|; the
// off-diagonal entries are negated exactly), so λmax(M) ≤ t + γ_{n+1}||L̂||_F² + max|D_ii| (+ an
// absolute term for gradual underflow, 2^-1074 per operation).

import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { topEigenpair } from '../solvers/tridiagonal';
import { nativeMatMul64, nativeRuntime } from '../native/onnxruntime';

export interface SymmetricEigenpair {
  value: number;
  /** Unit vector (float64). */
  vector: Float64Array;
  /** ||M v − value·v||₂ as computed. */
  residual: number;
  steps: number;
}

/** y = M x for a symmetric n × n row-major M. */
export function symmetricProduct(matrix: Float64Array, n: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let sum = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) sum += matrix[row + j] * x[j];
    y[i] = sum;
  }
}

/**
 * Estimate of the largest eigenvalue of a symmetric PSD n × n matrix and its eigenvector, by Lanczos
 * with full reorthogonalisation until the Ritz residual is ≤ relTol·value (or n steps: then exact up
 * to rounding). Deterministic start (xorshift), or `start` when given.
 */
export function topSymmetricEigenpair(matrix: Float64Array, n: number, relTol = 1e-10, start?: Float64Array): SymmetricEigenpair {
  if (n === 0) return { value: 0, vector: new Float64Array(0), residual: 0, steps: 0 };
  const basis: Float64Array[] = [];
  const alphas: number[] = [];
  const betas: number[] = [];
  let q = new Float64Array(n);
  if (start && start.length === n) q.set(start);
  let state = 0x2545f491;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    // A little noise even with a start vector: an exact eigenvector of a lower eigenvalue must not trap the run.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    q[i] += ((state >>> 0) / 4294967296 - 0.5) * (start ? 1e-3 * Math.sqrt(squaredNorm(start) / n) : 1);
    norm += q[i] * q[i];
  }
  scale(q, 1 / Math.sqrt(norm));
  const w = new Float64Array(n);
  let best: SymmetricEigenpair = { value: 0, vector: q.slice(), residual: Infinity, steps: 0 };
  for (let step = 0; step < n; step++) {
    basis.push(q);
    symmetricProduct(matrix, n, q, w);
    const alpha = dot(w, q);
    alphas.push(alpha);
    // Full reorthogonalisation, twice (Kahan's "twice is enough").
    for (let pass = 0; pass < 2; pass++) {
      for (const b of basis) {
        const c = dot(w, b);
        for (let i = 0; i < n; i++) w[i] -= c * b[i];
      }
    }
    const beta = Math.sqrt(squaredNorm(w));
    const ritz = tridiagonalTop(alphas, betas);
    const residual = Math.abs(beta * ritz.lastComponent);
    if (step === n - 1 || residual <= relTol * Math.abs(ritz.value) || beta <= 1e-300) {
      const vector = new Float64Array(n);
      ritz.vector.forEach((c, k) => {
        const b = basis[k];
        for (let i = 0; i < n; i++) vector[i] += c * b[i];
      });
      scale(vector, 1 / Math.sqrt(squaredNorm(vector)));
      best = { value: ritz.value, vector, residual, steps: step + 1 };
      break;
    }
    betas.push(beta);
    q = new Float64Array(n);
    for (let i = 0; i < n; i++) q[i] = w[i] / beta;
  }
  return best;
}

/**
 * Certified: λmax(M) ≤ the returned value, for the symmetric M exactly as stored; null when the
 * factorisation of tI − M meets a non-positive pivot (t is then below λmax, or too close to it).
 */
export function certifiedEigenvalueBound(matrix: Float64Array, n: number, t: number): number | null {
  if (!(t > 0) || !Number.isFinite(t)) return null;
  const c = new Float64Array(n * n);
  let diagonalRounding = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) c[i * n + j] = -matrix[i * n + j];
    const d = t - matrix[i * n + i];
    c[i * n + i] = d;
    diagonalRounding = Math.max(diagonalRounding, UNIT_ROUNDOFF_F64 * Math.abs(d) * 1.01);
  }
  // Right-looking by rows: row i of L from rows < i (lower triangle of c, in place).
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let sum = c[ri + j];
      for (let k = 0; k < j; k++) sum -= c[ri + k] * c[rj + k];
      if (i === j) {
        if (!(sum > 0) || !Number.isFinite(sum)) return null;
        c[ri + i] = Math.sqrt(sum);
      } else {
        c[ri + j] = sum / c[rj + j];
      }
    }
  }
  let frobenius = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) frobenius += c[i * n + j] ** 2;
  // frobenius itself is a float64 sum of n² squares: its relative error is ≤ γ_{n²}.
  const lSquared = frobenius * (1 + gamma(n * n + 1, UNIT_ROUNDOFF_F64));
  const underflow = n * (n + 2) * 2 ** -1074;
  return (t + gamma(n + 1, UNIT_ROUNDOFF_F64) * lSquared * 1.01 + diagonalRounding + underflow) * SCALAR_SAFETY;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function squaredNorm(a: Float64Array): number {
  return dot(a, a);
}

function scale(a: Float64Array, factor: number): void {
  for (let i = 0; i < a.length; i++) a[i] *= factor;
}

/** Top eigenpair of the Lanczos tridiagonal (solvers/tridiagonal.ts: Sturm bisection, inverse iteration). */
function tridiagonalTop(alphas: number[], betas: number[]): { value: number; vector: Float64Array; lastComponent: number } {
  const { value, vector } = topEigenpair(alphas, betas);
  return { value, vector, lastComponent: vector[vector.length - 1] };
}

// Complex Hermitian versions (real and imaginary parts in separate row-major arrays): the symbol's
// blocks. The certificate is the same argument in complex arithmetic, where each complex
// multiply-add costs a few real operations: γ_{n+1} becomes √2·γ_{4n+8} (Higham §3.6: complex
// products are accurate to √2·γ_2, sums to u), a conservative constant.

export interface HermitianEigenpair {
  value: number;
  re: Float64Array;
  im: Float64Array;
  residual: number;
  steps: number;
}

/** y = P x for the Hermitian n × n P = re + i·im. */
export function hermitianProduct(re: Float64Array, im: Float64Array, n: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let sr = 0;
    let si = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const ar = re[row + j];
      const ai = im[row + j];
      sr += ar * xr[j] - ai * xi[j];
      si += ar * xi[j] + ai * xr[j];
    }
    yr[i] = sr;
    yi[i] = si;
  }
}

/** From this size a product on ONNX Runtime beats the JS loop (measured 5× at n = 512, 7× at 256, 2× at 128). */
const NATIVE_HERMITIAN_MIN_N = 128;

/**
 * y = P x on ONNX Runtime's float64 GEMM, for the Lanczos estimate below (no certificate rests on
 * it): [re; im] (2n × n, copied once) times [xr xi] (n × 2), then y = (re·xr − im·xi) + i(re·xi + im·xr).
 * Null when the runtime is off or n is small.
 */
function nativeHermitianProduct(re: Float64Array, im: Float64Array, n: number): ((xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array) => void) | null {
  if (n < NATIVE_HERMITIAN_MIN_N || !nativeRuntime()) return null;
  const stacked = new Float64Array(2 * n * n);
  stacked.set(re.subarray(0, n * n));
  stacked.set(im.subarray(0, n * n), n * n);
  const x = new Float64Array(2 * n);
  return (xr, xi, yr, yi) => {
    for (let j = 0; j < n; j++) {
      x[2 * j] = xr[j];
      x[2 * j + 1] = xi[j];
    }
    const y = nativeMatMul64(stacked, x, 2 * n, n, 2);
    if (!y) throw new Error('the float64 product failed after the runtime loaded');
    for (let i = 0; i < n; i++) {
      yr[i] = y[2 * i] - y[2 * (n + i) + 1];
      yi[i] = y[2 * i + 1] + y[2 * (n + i)];
    }
  };
}

/**
 * Lanczos with full reorthogonalisation on a Hermitian PSD matrix (an estimate, as
 * topSymmetricEigenpair). The basis is one contiguous block per part; each reorthogonalisation
 * pass (two: "twice is enough") takes bᴴw in one loop and subtracts in another.
 */
export function topHermitianEigenpair(re: Float64Array, im: Float64Array, n: number, relTol: number, start?: { re: Float64Array; im: Float64Array }, maxSteps = n): HermitianEigenpair {
  const steps = Math.max(1, Math.min(maxSteps, n));
  // Most runs stop after a dozen steps: the basis grows by doubling.
  let basisRe = new Float64Array(Math.min(steps, 16) * n);
  let basisIm = new Float64Array(Math.min(steps, 16) * n);
  const alphas: number[] = [];
  const betas: number[] = [];
  let startScale = 1;
  if (start && start.re.length === n) {
    basisRe.set(start.re);
    basisIm.set(start.im);
    startScale = 1e-3 * Math.sqrt((squaredNorm(start.re) + squaredNorm(start.im)) / n);
  }
  let state = 0x2545f491;
  const noise = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 4294967296 - 0.5) * startScale;
  };
  let norm = 0;
  for (let i = 0; i < n; i++) {
    basisRe[i] += noise();
    basisIm[i] += noise();
    norm += basisRe[i] * basisRe[i] + basisIm[i] * basisIm[i];
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < n; i++) {
    basisRe[i] /= norm;
    basisIm[i] /= norm;
  }
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  const multiply = nativeHermitianProduct(re, im, n) ?? ((xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array) => hermitianProduct(re, im, n, xr, xi, yr, yi));
  for (let step = 0; step < steps; step++) {
    const q = step * n;
    // w = P q
    multiply(basisRe.subarray(q, q + n), basisIm.subarray(q, q + n), wr, wi);
    let alpha = 0;
    for (let i = 0; i < n; i++) alpha += wr[i] * basisRe[q + i] + wi[i] * basisIm[q + i];
    alphas.push(alpha);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k <= step; k++) {
        const b = k * n;
        // c = bᴴw
        let cr = 0;
        let ci = 0;
        for (let i = 0; i < n; i++) {
          const br = basisRe[b + i];
          const bi = basisIm[b + i];
          cr += br * wr[i] + bi * wi[i];
          ci += br * wi[i] - bi * wr[i];
        }
        for (let i = 0; i < n; i++) {
          const br = basisRe[b + i];
          const bi = basisIm[b + i];
          wr[i] -= cr * br - ci * bi;
          wi[i] -= cr * bi + ci * br;
        }
      }
    }
    const beta = Math.sqrt(squaredNorm(wr) + squaredNorm(wi));
    const ritz = tridiagonalTop(alphas, betas);
    const residual = Math.abs(beta * ritz.lastComponent);
    if (step === steps - 1 || residual <= relTol * Math.abs(ritz.value) || beta <= 1e-300) {
      const vr = new Float64Array(n);
      const vi = new Float64Array(n);
      ritz.vector.forEach((c, k) => {
        const b = k * n;
        for (let i = 0; i < n; i++) {
          vr[i] += c * basisRe[b + i];
          vi[i] += c * basisIm[b + i];
        }
      });
      norm = Math.sqrt(squaredNorm(vr) + squaredNorm(vi));
      scale(vr, 1 / norm);
      scale(vi, 1 / norm);
      return { value: ritz.value, re: vr, im: vi, residual, steps: step + 1 };
    }
    betas.push(beta);
    const next = (step + 1) * n;
    if (next + n > basisRe.length) {
      const grownRe = new Float64Array(Math.min(steps * n, 2 * basisRe.length));
      const grownIm = new Float64Array(grownRe.length);
      grownRe.set(basisRe);
      grownIm.set(basisIm);
      basisRe = grownRe;
      basisIm = grownIm;
    }
    for (let i = 0; i < n; i++) {
      basisRe[next + i] = wr[i] / beta;
      basisIm[next + i] = wi[i] / beta;
    }
  }
  throw new Error('unreachable');
}

/**
 * Certified: λmax(P) ≤ the returned value for the Hermitian P = re + i·im exactly as stored
 * (full row-major; only the lower triangle is read); null when the complex Cholesky factorisation
 * of tI − P meets a non-positive pivot.
 */
export function certifiedHermitianBound(re: Float64Array, im: Float64Array, n: number, t: number): number | null {
  const lowerRe = new Float64Array((n * (n + 1)) / 2);
  const lowerIm = new Float64Array((n * (n + 1)) / 2);
  for (let i = 0, e = 0; i < n; i++) {
    for (let j = 0; j <= i; j++, e++) {
      lowerRe[e] = re[i * n + j];
      lowerIm[e] = im[i * n + j];
    }
  }
  return certifiedPackedHermitianBound(lowerRe, lowerIm, n, t);
}

/** Reusable storage of certifiedPackedHermitianBound's factor, per size (one per thread). */
let factorRe = new Float64Array(0);
let factorIm = new Float64Array(0);

/**
 * As certifiedHermitianBound, for P given by its lower triangle packed by rows (entry (i, j), i ≥ j,
 * at i(i+1)/2 + j). The factor overwrites a copy of −P (+ t on the diagonal), row by row:
 * L_ij = (C_ij − Σ_{k<j} L_ik conj(L_jk)) / L_jj, two columns j, j + 1 per pass over row i (the
 * same sums, in the same order, as one column at a time; the bound of the header holds for any order).
 */
export function certifiedPackedHermitianBound(lowerRe: Float64Array, lowerIm: Float64Array, n: number, t: number): number | null {
  if (!(t > 0) || !Number.isFinite(t)) return null;
  const entries = (n * (n + 1)) / 2;
  if (factorRe.length < entries) {
    factorRe = new Float64Array(entries);
    factorIm = new Float64Array(entries);
  }
  const lr = factorRe;
  const li = factorIm;
  for (let e = 0; e < entries; e++) {
    lr[e] = -lowerRe[e];
    li[e] = -lowerIm[e];
  }
  let diagonalRounding = 0;
  for (let i = 0; i < n; i++) {
    const d = t - lowerRe[(i * (i + 1)) / 2 + i];
    lr[(i * (i + 1)) / 2 + i] = d;
    li[(i * (i + 1)) / 2 + i] = 0;
    diagonalRounding = Math.max(diagonalRounding, UNIT_ROUNDOFF_F64 * Math.abs(d) * 1.01);
  }
  for (let i = 0; i < n; i++) {
    const ri = (i * (i + 1)) / 2;
    let j = 0;
    // Pairs of off-diagonal columns: row i's entries are loaded once for both.
    for (; j + 1 < i; j += 2) {
      const rj = (j * (j + 1)) / 2;
      const rk = rj + j + 1;
      let s0r = lr[ri + j];
      let s0i = li[ri + j];
      let s1r = lr[ri + j + 1];
      let s1i = li[ri + j + 1];
      for (let k = 0; k < j; k++) {
        const ar = lr[ri + k];
        const ai = li[ri + k];
        const br = lr[rj + k];
        const bi = li[rj + k];
        const cr = lr[rk + k];
        const ci = li[rk + k];
        s0r -= ar * br + ai * bi;
        s0i -= ai * br - ar * bi;
        s1r -= ar * cr + ai * ci;
        s1i -= ai * cr - ar * ci;
      }
      const p0 = lr[rj + j];
      const x0r = s0r / p0;
      const x0i = s0i / p0;
      lr[ri + j] = x0r;
      li[ri + j] = x0i;
      const cr = lr[rk + j];
      const ci = li[rk + j];
      s1r -= x0r * cr + x0i * ci;
      s1i -= x0i * cr - x0r * ci;
      const p1 = lr[rk + j + 1];
      lr[ri + j + 1] = s1r / p1;
      li[ri + j + 1] = s1i / p1;
    }
    for (; j <= i; j++) {
      const rj = (j * (j + 1)) / 2;
      // C_ij − Σ_k L_ik conj(L_jk)
      let sr = lr[ri + j];
      let si = li[ri + j];
      for (let k = 0; k < j; k++) {
        const ar = lr[ri + k];
        const ai = li[ri + k];
        const br = lr[rj + k];
        const bi = li[rj + k];
        sr -= ar * br + ai * bi;
        si -= ai * br - ar * bi;
      }
      if (i === j) {
        if (!(sr > 0) || !Number.isFinite(sr)) return null;
        lr[ri + i] = Math.sqrt(sr);
        li[ri + i] = 0;
      } else {
        const pivot = lr[rj + j];
        lr[ri + j] = sr / pivot;
        li[ri + j] = si / pivot;
      }
    }
  }
  let frobenius = 0;
  for (let e = 0; e < entries; e++) frobenius += lr[e] * lr[e] + li[e] * li[e];
  if (!Number.isFinite(frobenius)) return null;
  const lSquared = frobenius * (1 + gamma(2 * n * n + 1, UNIT_ROUNDOFF_F64));
  const underflow = 4 * n * (n + 2) * 2 ** -1074;
  return (t + Math.SQRT2 * gamma(4 * n + 8, UNIT_ROUNDOFF_F64) * lSquared * 1.01 + diagonalRounding + underflow) * SCALAR_SAFETY;
}
