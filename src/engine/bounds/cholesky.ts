// A certificate that σ1(B) ≤ t for one dense block, by a single Cholesky factorisation instead of
// the 5–7 squarings Gram iteration needs to resolve blocks whose norms lie within a percent of
// each other (random-like weights, where every DFT block of a conv is near the max).
//
// Mathematics. With P₀ = M₀ᴴM₀ + E₀ from firstGramProduct (gram.ts),
//   σ1(B) ≤ t  ⇐  λmax(P₀) ≤ τ := (t·2^-e₀ − ρ_in)² − ε₀  ⇔  τI − P₀ ⪰ 0,
// tested by a complex Cholesky factorisation of A = (τ − s)I − P₀ (n × n Hermitian; a real P₀ is
// the case Im = 0).
//
// Floating point (Higham §8.1 Lemma 8.4 and §10.1, Demmel's argument; every term bounded here):
// the factorisation runs in panels of b columns, where
// - every entry of L is rounded to float32 (real and imaginary parts) the moment it is computed,
//   and only those values are used afterwards;
// - within a panel the sums run in float64 (JS);
// - the trailing update subtracts L₂L₂ᴴ, computed by ONE float32 matMul of inner length 2b on those
//   float32 values ([Re Im] times [[Reᵀ, −Imᵀ], [Imᵀ, Reᵀ]] gives [Re L₂L₂ᴴ, Im L₂L₂ᴴ]); each
//   result is subtracted once into the float64 trailing matrix.
// Each entry is computed as c − Σ (products or panel sums), then divided by the real l_jj (or
// square-rooted) and rounded to float32, so by Lemma 8.4 the computed L̂ satisfies A + Δ = L̂L̂ᴴ
// exactly, where, with |Re x y| + |Im x y| ≤ √2 |x||y| for the complex products,
//   |Δ_ij| ≤ γ' (|L̂||L̂|ᵀ)_ij + η,   γ' = √2 (γ^(32)_2b + γ^(64)_{2(p+b)+8} + 2u₃₂ + 8u₆₄)   (p panels)
// (the float32 matMul sums; the float64 sums and the p panel updates; the division or square root
// and the float32 rounding), and η covers gradual underflow in the float32 products. L̂L̂ᴴ ⪰ 0, so
//   A ⪰ −||Δ||₂ I,   ||Δ||₂ ≤ ||Δ||_F ≤ γ' ||L̂||_F² + n η.
// Forming A rounds only its diagonal (D below), hence
//   τI − P₀ = A + sI − (rounding of A's diagonal) ⪰ (s − γ'||L̂||_F² − nη − D) I,
// and the certificate holds when s ≥ γ'||L̂||_F² + nη + D (checked after the factorisation; s is
// chosen beforehand from trace(A) ≥ ||L̂||_F² (1 − γ')). For a 512-channel block with b = 32 the
// shift costs about 0.1 % of τ, i.e. the certified t is ~0.05 % above σ1 at best.
//
// A failed pivot (≤ 0 or not finite) means "not proven", never "false": the caller then bounds the
// block by Gram iteration.

import * as tf from '@tensorflow/tfjs-core';
import type { FirstGramProduct } from './gram';
import { nativeMatMul } from '../native/onnxruntime';
import { SCALAR_SAFETY, UNDERFLOW_F32, UNIT_ROUNDOFF_F32, UNIT_ROUNDOFF_F64, gamma } from './rounding';

/** Panel width b: the trailing updates' float32 inner length is 2b (γ^(32)_64 ≈ 3.8e-6). */
const PANEL = 32;

export interface CertifyOptions {
  shouldStop?: () => boolean;
  /**
   * Panel width b (default PANEL): the rounding shift is proportional to γ_2b, so a narrower panel
   * proves a tighter t, at the cost of more (smaller) trailing-update products.
   */
  panel?: number;
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

  const n = first.n;
  const re = new Float64Array(first.re);
  const im = first.im ? new Float64Array(first.im) : new Float64Array(n * n);
  const traceP = trace(first);
  const panel = options.panel ?? PANEL;
  const panels = Math.ceil(n / panel);
  const gammaPrime = roundingFactor(n, panel);
  const shift = shiftFor(tau, n, traceP, gammaPrime);
  if (!(shift < tau)) return false;
  const diagonal = tau - shift;
  let diagonalRounding = 0;
  for (let i = 0; i < n; i++) {
    const at = i * n + i;
    // |fl(d − P_ii) − (d − P_ii)| ≤ u₆₄ |·|, plus the rounding of d = τ − s itself.
    diagonalRounding = Math.max(diagonalRounding, 2 * UNIT_ROUNDOFF_F64 * (Math.abs(diagonal) + Math.abs(tau) + Math.abs(shift) + Math.abs(re[at])));
    re[at] = diagonal - re[at];
    im[at] = 0;
  }
  // Off the diagonal A = −P₀ exactly (only the lower triangle is read).
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      re[i * n + j] = -re[i * n + j];
      im[i * n + j] = -im[i * n + j];
    }
  }
  if (!blockedCholesky(re, im, n, panel, first.im === null, options.shouldStop)) return false;

  let frobenius2 = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j <= i; j++) frobenius2 += re[row + j] * re[row + j] + im[row + j] * im[row + j];
  }
  frobenius2 *= 1 + gamma(2 * n * n + 2, UNIT_ROUNDOFF_F64);
  const underflow = n * (2 * panel * panels + 4) * UNDERFLOW_F32 * 4;
  const needed = (gammaPrime * frobenius2 + n * underflow + diagonalRounding) * SCALAR_SAFETY;
  return shift >= needed;
}

/** γ' above for an n × n factorisation in panels of b. */
function roundingFactor(n: number, b: number): number {
  const panels = Math.ceil(n / b);
  return 1.01 * Math.SQRT2 * (gamma(2 * b, UNIT_ROUNDOFF_F32) + gamma(2 * (panels + b) + 8, UNIT_ROUNDOFF_F64) + 2 * UNIT_ROUNDOFF_F32 + 8 * UNIT_ROUNDOFF_F64);
}

/** The shift s for τ: trace(A) bounds ||L̂||_F² up to (1 − γ'); the factor 1.5 leaves room for the rounding terms. */
function shiftFor(tau: number, n: number, traceP: number, gammaPrime: number): number {
  return SHIFT_FACTOR * gammaPrime * Math.max(n * tau - traceP, 0) + n * 2 ** -100;
}
const SHIFT_FACTOR = 1.5;

function trace(first: FirstGramProduct): number {
  let sum = 0;
  for (let i = 0; i < first.n; i++) sum += first.re[i * first.n + i];
  return sum;
}

/**
 * The smallest t for which certifyNormAtMost can succeed when λmax(P₀) = λ (an estimate, scaled
 * like P₀), i.e. the t whose τ satisfies τ − s(τ) = λ: inverting the formulas above. Only a
 * choice of target; the certificate itself decides.
 */
export function certificateTarget(first: FirstGramProduct, lambda: number, panel = PANEL): number {
  const n = first.n;
  const g = SHIFT_FACTOR * roundingFactor(n, panel);
  const tau = Math.max(0, lambda - g * trace(first) + n * 2 ** -100) / (1 - g * n);
  const scaledTarget = Math.sqrt((tau + first.productError * SCALAR_SAFETY) * SCALAR_SAFETY);
  return (scaledTarget + first.inputRounding) * SCALAR_SAFETY * 2 ** first.scaleExp;
}

/**
 * In place: the lower triangle of (re, im) (row-major n × n, Hermitian A) becomes L̂ with float32
 * values stored as float64 (real diagonal). False at the first pivot that is not positive and
 * finite, or on cancellation.
 */
function blockedCholesky(re: Float64Array, im: Float64Array, n: number, panel: number, real: boolean, shouldStop?: () => boolean): boolean {
  for (let k0 = 0; k0 < n; k0 += panel) {
    if (shouldStop?.()) return false;
    const k1 = Math.min(k0 + panel, n);
    // The panel's columns (earlier panels are already subtracted), row by row: first the diagonal
    // block, then every row below against it. Each entry is c_ij = a_ij − Σ_{k0 ≤ k < j}
    // l_ik conj(l_jk), summed in the same order as column by column (the same bits), but row i's
    // entries and the diagonal block stay in cache.
    for (let i = k0; i < k1; i++) {
      panelRow(re, im, n, i, k0, i);
      const rowI = i * n;
      let pivot = re[rowI + i];
      for (let k = k0; k < i; k++) pivot -= re[rowI + k] * re[rowI + k] + im[rowI + k] * im[rowI + k];
      if (!(pivot > 0) || !Number.isFinite(pivot)) return false;
      const lii = Math.fround(Math.sqrt(pivot));
      if (!(lii > 0)) return false;
      re[rowI + i] = lii;
      im[rowI + i] = 0;
    }
    for (let i = k1; i < n; i++) panelRow(re, im, n, i, k0, k1);
    if (k1 < n) trailingUpdate(re, im, n, k0, k1, real);
  }
  return true;
}

/** l_ij for k0 ≤ j < end in row i, each from the row's earlier panel entries and row j of L. */
function panelRow(re: Float64Array, im: Float64Array, n: number, i: number, k0: number, end: number): void {
  const rowI = i * n;
  for (let j = k0; j < end; j++) {
    const rowJ = j * n;
    let sumRe = re[rowI + j];
    let sumIm = im[rowI + j];
    for (let k = k0; k < j; k++) {
      const ar = re[rowI + k];
      const ai = im[rowI + k];
      const br = re[rowJ + k];
      const bi = im[rowJ + k];
      // l_ik · conj(l_jk)
      sumRe -= ar * br + ai * bi;
      sumIm -= ai * br - ar * bi;
    }
    const ljj = re[rowJ + j];
    re[rowI + j] = Math.fround(sumRe / ljj);
    im[rowI + j] = Math.fround(sumIm / ljj);
  }
}

/**
 * a_ij −= Σ_{k0 ≤ k < k1} l_ik conj(l_jk) for k1 ≤ j ≤ i, the sum as one float32 matMul (inner
 * length 2b; b for a real matrix, whose imaginary parts are all zero: γ_b ≤ γ_2b).
 */
function trailingUpdate(re: Float64Array, im: Float64Array, n: number, k0: number, k1: number, real: boolean): void {
  const rows = n - k1;
  const width = k1 - k0;
  if (real) {
    const left = new Float32Array(rows * width);
    const right = new Float32Array(width * rows);
    for (let r = 0; r < rows; r++) {
      const from = (k1 + r) * n + k0;
      for (let k = 0; k < width; k++) {
        const value = re[from + k];
        left[r * width + k] = value;
        right[k * rows + r] = value;
      }
    }
    const values = product(left, right, rows, width, rows);
    for (let r = 0; r < rows; r++) {
      const row = (k1 + r) * n + k1;
      const from = r * rows;
      for (let c = 0; c <= r; c++) re[row + c] -= values[from + c];
    }
    return;
  }
  const inner = 2 * width;
  // left = [Re L₂, Im L₂] (rows × 2b); right = [[Re L₂ᵀ, −Im L₂ᵀ], [Im L₂ᵀ, Re L₂ᵀ]] (2b × 2·rows).
  const left = new Float32Array(rows * inner);
  const right = new Float32Array(inner * 2 * rows);
  const rightWidth = 2 * rows;
  for (let r = 0; r < rows; r++) {
    const from = (k1 + r) * n + k0;
    for (let k = 0; k < width; k++) {
      const lr = re[from + k];
      const li = im[from + k];
      left[r * inner + k] = lr;
      left[r * inner + width + k] = li;
      right[k * rightWidth + r] = lr;
      right[k * rightWidth + rows + r] = -li;
      right[(width + k) * rightWidth + r] = li;
      right[(width + k) * rightWidth + rows + r] = lr;
    }
  }
  const values = product(left, right, rows, inner, rightWidth);
  for (let r = 0; r < rows; r++) {
    const row = (k1 + r) * n + k1;
    const from = r * rightWidth;
    for (let c = 0; c <= r; c++) {
      re[row + c] -= values[from + c];
      im[row + c] -= values[from + rows + c];
    }
  }
}

/** A float32 matMul (ONNX Runtime's when it loads, else tfjs's): the same rounding bound either way. */
function product(left: Float32Array, right: Float32Array, rows: number, inner: number, width: number): Float32Array {
  const native = nativeMatMul(left, right, rows, inner, width);
  if (native) return native;
  const l = tf.tensor2d(left, [rows, inner]);
  const r = tf.tensor2d(right, [inner, width]);
  const result = tf.matMul(l, r);
  const values = result.dataSync() as Float32Array;
  tf.dispose([l, r, result]);
  return values;
}
