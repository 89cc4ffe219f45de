// A certificate that σ1(B) ≤ t for one dense block, by a single Cholesky factorisation instead of
// the 5–7 squarings Gram iteration needs to resolve blocks whose norms lie within a percent of
// each other (random-like weights, where every DFT block of a conv is near the max).
//
// Mathematics. With P₀ = M₀ᴴM₀ + E₀ from firstGramProduct (gram.ts),
//   σ1(B) ≤ t  ⇐  λmax(P₀) ≤ τ := (t·2^-e₀ − ρ_in)² − ε₀  ⇔  τI − P₀ ⪰ 0.
// A Hermitian P₀ = X + iY and its real embedding S = [[X, −Y], [Y, X]] (symmetric, 2n × 2n) have
// the same eigenvalues (each twice in S), so the test runs on the real S (S = X for a real block).
//
// Floating point (Higham §10.1, Demmel's argument, every term bounded here): a blocked Cholesky of
// A = (τ − s)I − S in panels of b columns, where
// - every entry of L is rounded to float32 the moment it is computed and only those values are
//   used afterwards;
// - within a panel the sums run in float64 (JS);
// - the trailing update subtracts L₂L₂ᵀ (inner length b) computed by a float32 matMul on those
//   float32 values, each result rounded once into the float64 trailing matrix;
// computes a lower-triangular L̂ with A + Δ = L̂L̂ᵀ exactly, where entrywise
//   |Δ_ij| ≤ γ' (|L̂||L̂|ᵀ)_ij + η,   γ' = γ^(32)_b + γ^(64)_{p+b+4} + 2u₃₂ + 8u₆₄   (p panels),
// (the matMul sums: γ^(32)_b; the float64 sums and their p panel updates: γ^(64)_{p+b+4}; the
// final division or square root, then the float32 rounding of l_ij: ≤ 2u₃₂ + 4u₆₄ relative to
// |l_ij l_jj|), and η covers gradual underflow in the float32 products. L̂L̂ᵀ ⪰ 0, so
//   A ⪰ −||Δ||₂ I,   ||Δ||₂ ≤ ||Δ||_F ≤ γ' ||L̂||_F² + N η.
// Forming A rounds only its diagonal (|δ| ≤ 2u₆₄ |a_ii| per entry, D below), hence
//   τI − S = A + sI − (rounding of A's diagonal) ⪰ (s − γ'||L̂||_F² − Nη − D) I,
// and the certificate holds when s ≥ γ'||L̂||_F² + Nη + D (checked after the factorisation; s is
// chosen beforehand from trace(A) ≥ ||L̂||_F² (1 − γ')). For a 512-channel block (N = 1024) with
// b = 32 the shift costs about 0.1 % of τ, i.e. the certified t is ~0.05 % above σ1 at best.
//
// A failed pivot (≤ 0 or not finite) means "not proven", never "false": the caller then bounds the
// block by Gram iteration.

import * as tf from '@tensorflow/tfjs-core';
import type { DenseBlock, FirstGramProduct } from './gram';
import { SCALAR_SAFETY, UNDERFLOW_F32, UNIT_ROUNDOFF_F32, UNIT_ROUNDOFF_F64, gamma } from './rounding';

/** Panel width: the float32 inner length of the trailing updates (γ^(32)_32 ≈ 1.9e-6). */
const PANEL = 32;

export interface CertifyOptions {
  shouldStop?: () => boolean;
}

/**
 * True only when σ1(B) ≤ t is proven (rounding included), for the block whose first Gram product
 * is `first`. False means not proven: σ1(B) may be above t, or too close to it for the shift.
 */
export function certifyNormAtMost(first: FirstGramProduct, t: number, options: CertifyOptions = {}): boolean {
  if (!(t > 0) || !Number.isFinite(t)) return false;
  const scaledTarget = (t * 2 ** -first.scaleExp) / SCALAR_SAFETY - first.inputRounding;
  if (!(scaledTarget > 0)) return false;
  const tau = (scaledTarget * scaledTarget) / SCALAR_SAFETY - first.productError * SCALAR_SAFETY;
  if (!(tau > 0)) return false;

  const embedded = realEmbedding(first);
  const size = embedded.size;
  const matrix = embedded.values;
  let traceS = 0;
  for (let i = 0; i < size; i++) traceS += matrix[i * size + i];
  const panels = Math.ceil(size / PANEL);
  const gammaPrime = 1.01 * (gamma(PANEL, UNIT_ROUNDOFF_F32) + gamma(panels + PANEL + 4, UNIT_ROUNDOFF_F64) + 2 * UNIT_ROUNDOFF_F32 + 8 * UNIT_ROUNDOFF_F64);
  // trace(A) bounds ||L̂||_F² up to (1 − γ'); the factor 1.5 leaves room for the rounding terms.
  const shift = 1.5 * gammaPrime * Math.max(size * tau - traceS, 0) + size * 2 ** -100;
  if (!(shift < tau)) return false;
  const diagonal = tau - shift;
  for (let i = 0; i < size; i++) {
    const at = i * size + i;
    matrix[at] = diagonal - matrix[at];
  }
  // Off the diagonal A = −S exactly.
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < i; j++) matrix[i * size + j] = -matrix[i * size + j];
  }
  const factored = blockedCholesky(matrix, size, options.shouldStop);
  if (!factored) return false;

  let frobenius2 = 0;
  let diagonalRounding = 0;
  for (let i = 0; i < size; i++) {
    const row = i * size;
    for (let j = 0; j <= i; j++) frobenius2 += matrix[row + j] * matrix[row + j];
    // |fl(d − S_ii) − (d − S_ii)| ≤ u₆₄ |·|, plus the rounding of d = τ − s itself.
    diagonalRounding = Math.max(diagonalRounding, 2 * UNIT_ROUNDOFF_F64 * (Math.abs(diagonal) + Math.abs(tau) + Math.abs(shift)) + Math.abs(embedded.diagonal[i]) * 2 * UNIT_ROUNDOFF_F64);
  }
  frobenius2 *= 1 + gamma(size * size + 2, UNIT_ROUNDOFF_F64);
  const underflow = size * (PANEL * panels + 2) * UNDERFLOW_F32 * 4;
  const needed = (gammaPrime * frobenius2 + size * underflow + diagonalRounding) * SCALAR_SAFETY;
  return shift >= needed;
}

/** S (real symmetric, row-major float64, lower triangle meaningful) and a copy of its diagonal. */
function realEmbedding(first: FirstGramProduct): { size: number; values: Float64Array; diagonal: Float64Array } {
  const { n, re, im } = first;
  const size = im ? 2 * n : n;
  const values = new Float64Array(size * size);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = re[i * n + j];
      values[i * size + j] = x;
      if (im) {
        values[(n + i) * size + (n + j)] = x;
        // Lower-left block Y (row n + i, column j) and, by symmetry of S, its transpose −Yᵀ above.
        values[(n + i) * size + j] = im[i * n + j];
        if (j < i) values[(n + j) * size + i] = im[j * n + i];
      }
    }
  }
  const diagonal = new Float64Array(size);
  for (let i = 0; i < size; i++) diagonal[i] = values[i * size + i];
  return { size, values, diagonal };
}

/**
 * In place: the lower triangle of `a` (row-major, size × size) becomes L̂ (float32 values stored as
 * float64). False at the first pivot that is not positive and finite, or on cancellation.
 */
function blockedCholesky(a: Float64Array, size: number, shouldStop?: () => boolean): boolean {
  for (let k0 = 0; k0 < size; k0 += PANEL) {
    if (shouldStop?.()) return false;
    const k1 = Math.min(k0 + PANEL, size);
    // The panel's columns, left-looking inside the panel (earlier panels are already subtracted).
    for (let j = k0; j < k1; j++) {
      const rowJ = j * size;
      let pivot = a[rowJ + j];
      for (let k = k0; k < j; k++) pivot -= a[rowJ + k] * a[rowJ + k];
      if (!(pivot > 0) || !Number.isFinite(pivot)) return false;
      const ljj = Math.fround(Math.sqrt(pivot));
      if (!(ljj > 0)) return false;
      a[rowJ + j] = ljj;
      for (let i = j + 1; i < size; i++) {
        const rowI = i * size;
        let sum = a[rowI + j];
        for (let k = k0; k < j; k++) sum -= a[rowI + k] * a[rowJ + k];
        a[rowI + j] = Math.fround(sum / ljj);
      }
    }
    if (k1 < size) trailingUpdate(a, size, k0, k1);
  }
  return true;
}

/** a[i][j] −= Σ_{k0 ≤ k < k1} l_ik l_jk for k1 ≤ j ≤ i, the sum as one float32 matMul. */
function trailingUpdate(a: Float64Array, size: number, k0: number, k1: number): void {
  const rows = size - k1;
  const width = k1 - k0;
  const left = new Float32Array(rows * width);
  const right = new Float32Array(width * rows);
  for (let r = 0; r < rows; r++) {
    const from = (k1 + r) * size + k0;
    for (let k = 0; k < width; k++) {
      const v = a[from + k];
      left[r * width + k] = v;
      right[k * rows + r] = v;
    }
  }
  const l = tf.tensor2d(left, [rows, width]);
  const rT = tf.tensor2d(right, [width, rows]);
  const product = tf.matMul(l, rT);
  const values = product.dataSync() as Float32Array;
  tf.dispose([l, rT, product]);
  for (let r = 0; r < rows; r++) {
    const row = (k1 + r) * size + k1;
    const from = r * rows;
    for (let c = 0; c <= r; c++) a[row + c] -= values[from + c];
  }
}

export type { DenseBlock };
