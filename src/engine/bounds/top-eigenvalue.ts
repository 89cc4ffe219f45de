// An ESTIMATE of λmax of a Hermitian matrix, used only to choose the target of a Cholesky
// certificate (cholesky.ts): the certificate carries the proof, so nothing here needs a bound.
//
// Lanczos with full reorthogonalisation; a clustered top (random-like DFT blocks) still converges
// to a few 1e-5 in 20–40 steps at n = 512, where Gram iteration needs 6–8 squarings. The
// products run in float32 on the wasm backend, against the real symmetric embedding
// [[R, −S], [S, R]] of Q = R + iS (same eigenvalues, each twice) as a fixed right operand, so
// XNNPACK packs it once: a step costs ~0.1 ms at n = 512 against ~1 ms in JS float64, and the
// whole estimate ~10 ms against ~50. Float32 products move the estimate by ~1e-6, well inside the
// margins the certificate's targets add (RAISE_MARGINS in conv.ts). The Lanczos vectors, their
// reorthogonalisation and T stay in float64.

import * as tf from '@tensorflow/tfjs-core';
import { topEigenpair } from '../solvers/tridiagonal';

const MAX_STEPS = 48;
/** Stop when the top Ritz value moved by less than this (relative) over one step. */
const REL_TOL = 1e-7;

/** Largest Ritz value of the n × n Hermitian (re, im) (row-major, float64; im null for real). */
export function largestEigenvalueEstimate(n: number, re: Float64Array, im: Float64Array | null): number {
  const size = im ? 2 * n : n;
  const steps = Math.min(MAX_STEPS, size);
  const matrix = tf.tensor2d(realEmbedding(n, re, im), [size, size]);
  try {
    const basis: Float64Array[] = [];
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
    let v: Float64Array = Float64Array.from({ length: size }, next);
    scale(v, 1 / norm(v));
    let theta = 0;
    for (let k = 0; k < steps; k++) {
      basis.push(v);
      // The embedding is symmetric, so the row product v·M is (M v)ᵀ.
      const w = matrixProduct(v, matrix);
      let alpha = 0;
      for (let i = 0; i < size; i++) alpha += v[i] * w[i];
      alphas.push(alpha);
      // Full reorthogonalisation, twice (w ← w − Σ v_j (v_jᵀ w)).
      for (let pass = 0; pass < 2; pass++) {
        for (const b of basis) {
          let c = 0;
          for (let i = 0; i < size; i++) c += b[i] * w[i];
          for (let i = 0; i < size; i++) w[i] -= c * b[i];
        }
      }
      const previous = theta;
      theta = topEigenpair(alphas, betas).value;
      const beta = norm(w);
      if (k > 0 && Math.abs(theta - previous) <= REL_TOL * Math.abs(theta)) break;
      if (!(beta > 1e-12 * Math.abs(theta))) break;
      betas.push(beta);
      scale(w, 1 / beta);
      v = w;
    }
    return theta;
  } finally {
    matrix.dispose();
  }
}

/** v·M read back in float64 (the tensors are freed). */
function matrixProduct(v: Float64Array, matrix: tf.Tensor2D): Float64Array {
  const row = tf.tensor2d(Float32Array.from(v), [1, v.length]);
  const product = tf.matMul(row, matrix);
  const values = Float64Array.from(product.dataSync());
  tf.dispose([row, product]);
  return values;
}

/** [[R, −S], [S, R]] for Q = R + iS (row-major float32), or R itself when Q is real. */
function realEmbedding(n: number, re: Float64Array, im: Float64Array | null): Float32Array {
  if (!im) return Float32Array.from(re);
  const size = 2 * n;
  const out = new Float32Array(size * size);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const r = re[i * n + j];
      const s = im[i * n + j];
      out[i * size + j] = r;
      out[i * size + n + j] = -s;
      out[(n + i) * size + j] = s;
      out[(n + i) * size + n + j] = r;
    }
  }
  return out;
}

function norm(x: Float64Array): number {
  let sum = 0;
  for (const value of x) sum += value * value;
  return Math.sqrt(sum);
}

function scale(x: Float64Array, factor: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= factor;
}
