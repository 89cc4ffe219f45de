// Gram iteration (Delattre et al., ICML 2023) with every rounding error accounted for, so that the
// returned number is a certified upper bound on σ1 of the given matrix at every step.
//
// Exact mathematics: for any matrix M, σ1(M)² = σ1(MᴴM), and σ1(X) ≤ ||X||_F. Iterating
// M_{t+1} = M_tᴴ M_t gives σ1(M) ≤ ||M_T||_F^(1/2^T), which tends to σ1 as T grows.
//
// Floating point: each product is computed as P_t = M_tᴴM_t + E_t with a proven ||E_t||_2 ≤ ε_t,
// then rescaled by an exact power of two and (on the float32 path) rounded, M_{t+1} = P_t·2^-e_t − R_t
// with ||R_t||_F = ρ_t measured exactly in float64. Hence, with Weyl's inequality,
//   σ1(M_t)² = σ1(P_t − E_t) ≤ 2^e_t (σ1(M_{t+1}) + ρ_t) + ε_t,
// and the chain is unrolled backwards from σ1(M_T) ≤ ||M_T||_F. Nothing is assumed about the
// order of the summations in the products (the γ_n bounds hold for any order).

import * as tf from '@tensorflow/tfjs-core';
import {
  SCALAR_SAFETY,
  UNDERFLOW_F32,
  UNIT_ROUNDOFF_F32,
  UNIT_ROUNDOFF_F64,
  frobeniusUpper,
  gamma,
} from './rounding';

/** A dense matrix in float64, row-major; `im` null for a real matrix. */
export interface DenseBlock {
  rows: number;
  cols: number;
  re: Float64Array;
  im: Float64Array | null;
}

export interface GramOptions {
  /** Number of Gram products at most (the first forms MᴴM). */
  maxSteps?: number;
  /** Stop once a step improves the bound by less than this fraction. */
  relTol?: number;
  /** Stop once the bound is ≤ this value (the caller takes a max, so refining further is useless). */
  stopAtOrBelow?: number;
  shouldStop?: () => boolean;
  /** 'js': float64 loops; 'tfjs': float32 matMul with float64 accumulation of chunks; 'auto' picks by size. */
  engine?: 'js' | 'tfjs' | 'auto';
}

export interface GramResult {
  /** Certified: σ1(block) ≤ bound. */
  bound: number;
  /** Gram products performed. */
  steps: number;
  engine: 'exact' | 'js' | 'tfjs';
}

const DEFAULT_MAX_STEPS = 8;
const DEFAULT_REL_TOL = 2e-4;
/** Rows of M per float32 product: keeps γ_{2·rows} (the float32 error factor) near 1.5e-5. */
const TFJS_CHUNK_ROWS = 128;
/** Below this m·n² the float64 loops beat tfjs's per-call overhead. */
const JS_ENGINE_MAX_WORK = 40_000;

interface StepRecord {
  /** σ1(M_t)² ≤ 2^scaleExp · (σ1(M_{t+1}) + rounding) + productError. */
  scaleExp: number;
  rounding: number;
  productError: number;
}

/** Certified upper bound on the spectral norm of `block` by Gram iteration. */
export function gramSpectralBound(block: DenseBlock, options: GramOptions = {}): GramResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const relTol = options.relTol ?? DEFAULT_REL_TOL;
  const oriented = orientTall(block);
  const { rows: m, cols: n } = oriented;
  const frobenius = frobeniusUpper(oriented.re, ...(oriented.im ? [oriented.im] : []));
  // A vector's Frobenius norm is its 2-norm; a zero matrix has norm 0.
  if (frobenius === 0 || n === 1) return { bound: frobenius, steps: 0, engine: 'exact' };
  if (options.stopAtOrBelow !== undefined && frobenius <= options.stopAtOrBelow) {
    return { bound: frobenius, steps: 0, engine: 'exact' };
  }
  const engine = options.engine === 'js' || options.engine === 'tfjs'
    ? options.engine
    : m * n * n <= JS_ENGINE_MAX_WORK ? 'js' : 'tfjs';

  // Scale by a power of two (exact) so that ||M_0||_F is near 1: no overflow in any later step.
  const scaleExp0 = Math.round(Math.log2(frobenius));
  const scale0 = 2 ** -scaleExp0;
  let re: Float64Array = oriented.re.map((v) => v * scale0);
  let im: Float64Array | null = oriented.im ? oriented.im.map((v) => v * scale0) : null;
  // The float32 path starts from the float32 rounding of M; its exact distance is added back.
  let inputRounding = 0;
  if (engine === 'tfjs') {
    const rounded = roundToFloat32(re, im);
    inputRounding = rounded.distance;
    re = rounded.re;
    im = rounded.im;
  }
  // Scaling a float64 by 2^-k can underflow only below 2^-1022: cover it absolutely.
  inputRounding += Math.sqrt(m * n) * 2 ** -1070;

  const records: StepRecord[] = [];
  let best = frobenius;
  let previous = Infinity;
  let steps = 0;
  let rowsNow = m;
  while (steps < maxSteps) {
    if (options.shouldStop?.()) break;
    const frobeniusNow = frobeniusUpper(re, ...(im ? [im] : []));
    const product = engine === 'js' ? gramProductJs(re, im, rowsNow, n) : gramProductTfjs(re, im, rowsNow, n);
    // The product error bound scales with ||M_t||_F² (see the product functions).
    const productError = product.errorFactor * frobeniusNow * frobeniusNow + product.absoluteError;
    const productFrobenius = frobeniusUpper(product.re, ...(product.im ? [product.im] : []));
    steps++;
    rowsNow = n;
    if (productFrobenius === 0) {
      // σ1(M_t)² ≤ ε_t: the chain ends here.
      records.push({ scaleExp: 0, rounding: 0, productError });
      best = Math.min(best, unroll(records, 0, scaleExp0, inputRounding));
      break;
    }
    const scaleExp = Math.round(Math.log2(productFrobenius));
    const scale = 2 ** -scaleExp;
    let nextRe: Float64Array = product.re.map((v) => v * scale);
    let nextIm: Float64Array | null = product.im ? product.im.map((v) => v * scale) : null;
    let rounding = n * 2 ** -1070;
    if (engine === 'tfjs') {
      const rounded = roundToFloat32(nextRe, nextIm);
      rounding += rounded.distance;
      nextRe = rounded.re;
      nextIm = rounded.im;
    }
    records.push({ scaleExp, rounding, productError });
    re = nextRe;
    im = nextIm;
    const current = unroll(records, frobeniusUpper(re, ...(im ? [im] : [])), scaleExp0, inputRounding);
    best = Math.min(best, current);
    if (options.stopAtOrBelow !== undefined && best <= options.stopAtOrBelow) break;
    if (previous - current <= relTol * current) break;
    previous = current;
  }
  return { bound: best, steps, engine };
}

/** Unrolls σ1(M_t)² ≤ 2^e_t (σ1(M_{t+1}) + ρ_t) + ε_t from σ1(M_T) ≤ top, back to σ1(M). */
function unroll(records: StepRecord[], top: number, scaleExp0: number, inputRounding: number): number {
  let bound = top;
  for (let t = records.length - 1; t >= 0; t--) {
    const r = records[t];
    bound = Math.sqrt((2 ** r.scaleExp) * (bound + r.rounding) + r.productError) * SCALAR_SAFETY;
  }
  return (2 ** scaleExp0) * (bound + inputRounding) * SCALAR_SAFETY;
}

/** Returns a matrix with rows ≥ cols and the same singular values (conjugate transpose if needed). */
function orientTall(block: DenseBlock): DenseBlock {
  if (block.rows >= block.cols) return block;
  const { rows, cols } = block;
  const re = new Float64Array(rows * cols);
  const im = block.im ? new Float64Array(rows * cols) : null;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      re[j * rows + i] = block.re[i * cols + j];
      if (im && block.im) im[j * rows + i] = -block.im[i * cols + j];
    }
  }
  return { rows: cols, cols: rows, re, im };
}

function roundToFloat32(re: Float64Array, im: Float64Array | null): { re: Float64Array; im: Float64Array | null; distance: number } {
  // x − fround(x) is exact in float64, so the distance is measured, not estimated.
  let sum = 0;
  const roundedRe = new Float64Array(re.length);
  for (let i = 0; i < re.length; i++) {
    roundedRe[i] = Math.fround(re[i]);
    const d = re[i] - roundedRe[i];
    sum += d * d;
  }
  let roundedIm: Float64Array | null = null;
  if (im) {
    roundedIm = new Float64Array(im.length);
    for (let i = 0; i < im.length; i++) {
      roundedIm[i] = Math.fround(im[i]);
      const d = im[i] - roundedIm[i];
      sum += d * d;
    }
  }
  const length = re.length + (im?.length ?? 0);
  const distance = Math.sqrt(sum * (1 + gamma(length + 2, UNIT_ROUNDOFF_F64)) + length * 2 ** -1074) * SCALAR_SAFETY;
  return { re: roundedRe, im: roundedIm, distance };
}

interface GramProduct {
  re: Float64Array;
  im: Float64Array | null;
  /** ||P − MᴴM||_2 ≤ errorFactor · ||M||_F² + absoluteError. */
  errorFactor: number;
  absoluteError: number;
}

/**
 * P = MᴴM (n×n) in float64 loops. Each entry is a sum of 2m products (re and im parts), so
 * |ΔRe_ij|, |ΔIm_ij| ≤ γ_{2m+1} S_ij with S = |M|ᵀ|M|, and ||S||_F ≤ ||M||_F².
 */
function gramProductJs(re: Float64Array, im: Float64Array | null, m: number, n: number): GramProduct {
  const pRe = new Float64Array(n * n);
  const pIm = im ? new Float64Array(n * n) : null;
  for (let k = 0; k < m; k++) {
    const rowOffset = k * n;
    for (let i = 0; i < n; i++) {
      const ar = re[rowOffset + i];
      const ai = im ? im[rowOffset + i] : 0;
      const out = i * n;
      if (im && pIm) {
        for (let j = 0; j < n; j++) {
          const br = re[rowOffset + j];
          const bi = im[rowOffset + j];
          pRe[out + j] += ar * br + ai * bi;
          pIm[out + j] += ar * bi - ai * br;
        }
      } else {
        for (let j = 0; j < n; j++) pRe[out + j] += ar * re[rowOffset + j];
      }
    }
  }
  const g = gamma(2 * m + 2, UNIT_ROUNDOFF_F64);
  return { re: pRe, im: pIm, errorFactor: (im ? 2 : 1) * g, absoluteError: n * (4 * m + 4) * 2 ** -1075 };
}

/**
 * P = MᴴM with float32 tfjs matMul (no transposed operands: slow on wasm) over chunks of c rows of
 * M, the chunk results summed in float64. Real part: [Reᵀ Imᵀ]·[Re; Im] (inner length 2c); imaginary
 * part: X − Xᵀ with X = ReᵀIm (inner length c), the difference taken in float64.
 * Per chunk |ΔRe_ij| ≤ γ_{2c} S_ij and |ΔX_ij| ≤ γ_c Σ_k |Re_ki||Im_kj| (float32 rounding of the
 * chunk result included by using γ_{2c+1}); the float64 sum of q chunks adds ≤ γ^(64)_{q+1} S_ij.
 * So ||ΔP||_F ≤ 2(γ32_{2c+1} + γ64_{q+2}) ||M||_F² (1 for real M), plus subnormal terms.
 */
function gramProductTfjs(re: Float64Array, im: Float64Array | null, m: number, n: number): GramProduct {
  const pRe = new Float64Array(n * n);
  const x = im ? new Float64Array(n * n) : null;
  const parts = im ? 2 : 1;
  let chunks = 0;
  for (let k0 = 0; k0 < m; k0 += TFJS_CHUNK_ROWS) {
    const c = Math.min(TFJS_CHUNK_ROWS, m - k0);
    const inner = parts * c;
    // left = [Reᵀ Imᵀ] (n × inner), right = [Re; Im] (inner × n) for the rows k0..k0+c.
    const left = new Float32Array(n * inner);
    const right = new Float32Array(inner * n);
    for (let k = 0; k < c; k++) {
      const src = (k0 + k) * n;
      right.set(re.subarray(src, src + n), k * n);
      if (im) right.set(im.subarray(src, src + n), (c + k) * n);
      for (let i = 0; i < n; i++) {
        left[i * inner + k] = re[src + i];
        if (im) left[i * inner + c + k] = im[src + i];
      }
    }
    accumulateProduct(left, right, n, inner, pRe);
    if (im && x) {
      // X = Reᵀ·Im on this chunk: left's first c columns and right's last c rows.
      const leftRe = new Float32Array(n * c);
      for (let i = 0; i < n; i++) leftRe.set(left.subarray(i * inner, i * inner + c), i * c);
      accumulateProduct(leftRe, right.subarray(c * n), n, c, x);
    }
    chunks++;
  }
  let pIm: Float64Array | null = null;
  if (x) {
    pIm = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) pIm[i * n + j] = x[i * n + j] - x[j * n + i];
  }
  const chunkInner = parts * Math.min(TFJS_CHUNK_ROWS, m);
  const factor = gamma(chunkInner + 1, UNIT_ROUNDOFF_F32) + gamma(chunks + 2, UNIT_ROUNDOFF_F64);
  // Subnormal results: each float32 operation adds ≤ 2^-150; per entry ≤ 2·inner of them per chunk.
  const absolute = n * chunks * (2 * chunkInner + 2) * UNDERFLOW_F32 * parts * 2;
  return { re: pRe, im: pIm, errorFactor: parts * factor, absoluteError: absolute };
}

function accumulateProduct(left: Float32Array, right: Float32Array, n: number, inner: number, into: Float64Array): void {
  const a = tf.tensor2d(left, [n, inner]);
  const b = tf.tensor2d(right, [inner, n]);
  const c = tf.matMul(a, b);
  const values = c.dataSync();
  for (let i = 0; i < values.length; i++) into[i] += values[i];
  tf.dispose([a, b, c]);
}
