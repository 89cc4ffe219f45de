// An ESTIMATE of λmax of a Hermitian matrix, used only to choose the target of a Cholesky
// certificate (cholesky.ts): the certificate carries the proof, so nothing here needs a bound.
// Lanczos in float64 with full reorthogonalisation; a clustered top (random-like DFT blocks) still
// converges to a few 1e-5 in 20–40 steps at n = 512, where Gram iteration needs 6–8 squarings.

import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

const MAX_STEPS = 48;
/** Stop when the top Ritz value moved by less than this (relative) over one step. */
const REL_TOL = 1e-7;

/** Largest Ritz value of the n × n Hermitian (re, im) (row-major, float64; im null for real). */
export function largestEigenvalueEstimate(n: number, re: Float64Array, im: Float64Array | null): number {
  const steps = Math.min(MAX_STEPS, n);
  const basisRe: Float64Array[] = [];
  const basisIm: Float64Array[] = [];
  const alphas: number[] = [];
  const betas: number[] = [];
  // A fixed pseudo-random start (xorshift): deterministic results, no special structure.
  let state = 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32 - 0.5;
  };
  let vRe: Float64Array = Float64Array.from({ length: n }, next);
  let vIm: Float64Array = im ? Float64Array.from({ length: n }, next) : new Float64Array(n);
  normalise(vRe, vIm);
  let theta = 0;
  for (let k = 0; k < steps; k++) {
    basisRe.push(vRe);
    basisIm.push(vIm);
    const wRe = new Float64Array(n);
    const wIm = new Float64Array(n);
    // w = (A + iB)(x + iz) = (Ax − Bz) + i(Az + Bx).
    for (let i = 0; i < n; i++) {
      const row = i * n;
      let sumRe = 0;
      let sumIm = 0;
      for (let j = 0; j < n; j++) {
        const a = re[row + j];
        sumRe += a * vRe[j];
        sumIm += a * vIm[j];
      }
      if (im) {
        for (let j = 0; j < n; j++) {
          const b = im[row + j];
          sumRe -= b * vIm[j];
          sumIm += b * vRe[j];
        }
      }
      wRe[i] = sumRe;
      wIm[i] = sumIm;
    }
    let alpha = 0;
    for (let i = 0; i < n; i++) alpha += vRe[i] * wRe[i] + vIm[i] * wIm[i];
    alphas.push(alpha);
    // Full reorthogonalisation, twice (w ← w − Σ v_j (v_jᴴ w)).
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < basisRe.length; j++) {
        const bRe = basisRe[j];
        const bIm = basisIm[j];
        let cRe = 0;
        let cIm = 0;
        for (let i = 0; i < n; i++) {
          cRe += bRe[i] * wRe[i] + bIm[i] * wIm[i];
          cIm += bRe[i] * wIm[i] - bIm[i] * wRe[i];
        }
        for (let i = 0; i < n; i++) {
          wRe[i] -= cRe * bRe[i] - cIm * bIm[i];
          wIm[i] -= cRe * bIm[i] + cIm * bRe[i];
        }
      }
    }
    const previous = theta;
    theta = largestTridiagonalEigenvalue(alphas, betas);
    const beta = norm(wRe, wIm);
    if (k > 0 && Math.abs(theta - previous) <= REL_TOL * Math.abs(theta)) break;
    if (!(beta > 1e-12 * Math.abs(theta))) break;
    betas.push(beta);
    vRe = wRe;
    vIm = wIm;
    for (let i = 0; i < n; i++) {
      vRe[i] /= beta;
      vIm[i] /= beta;
    }
  }
  return theta;
}

function norm(re: Float64Array, im: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < re.length; i++) sum += re[i] * re[i] + im[i] * im[i];
  return Math.sqrt(sum);
}

function normalise(re: Float64Array, im: Float64Array): void {
  const length = norm(re, im);
  for (let i = 0; i < re.length; i++) {
    re[i] /= length;
    im[i] /= length;
  }
}

function largestTridiagonalEigenvalue(alphas: number[], betas: number[]): number {
  const size = alphas.length;
  const t = Matrix.zeros(size, size);
  for (let i = 0; i < size; i++) {
    t.set(i, i, alphas[i]);
    if (i + 1 < size) {
      t.set(i, i + 1, betas[i]);
      t.set(i + 1, i, betas[i]);
    }
  }
  return Math.max(...new EigenvalueDecomposition(t, { assumeSymmetric: true }).realEigenvalues);
}
