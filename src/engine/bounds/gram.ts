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

import { nativeMatMul } from '../native/onnxruntime';
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
const DEFAULT_REL_TOL = 5e-4;
/** Rows of M per float32 product in the first (non-Hermitian) product: γ_{2·rows} ≈ 7.6e-6. */
export const TFJS_CHUNK_ROWS = 64;
/** Chunk products summed in float32 before one read-back: read-backs dominated wide blocks. */
const CHUNKS_PER_READ = 4;
/** Below this m·n² the float64 loops beat tfjs's per-call overhead. */
export const JS_ENGINE_MAX_WORK = 40_000;
/** Above this n the 3-product complex Gram saves more flops than its extra calls cost. */
const SPLIT_PRODUCT_MIN_N = 128;

/**
 * A block B scaled by 2^-e₀ (and on the tfjs path rounded to float32) as M₀, and a Gram matrix of
 * it, P₀ = G₀ + E₀ with G₀ = M₀ᴴM₀ or M₀M₀ᴴ (the same nonzero eigenvalues), stored exactly
 * Hermitian. With Weyl:
 *   σ1(B) ≤ 2^e₀ (σ1(M₀) + ρ_in),   σ1(M₀)² = λmax(G₀) ≤ λmax(P₀) + ε₀.
 * Formed here from B (firstGramProduct), or from a conv's kernel-tap products (tap-gram.ts, where
 * M₀ = B·2^-e₀ exactly and ρ_in = 0). Shared by the Gram iteration below and the Cholesky
 * certificate (cholesky.ts).
 */
export interface FirstGramProduct {
  /** P₀ is n × n, row-major, float64 values. */
  n: number;
  re: Float64Array;
  im: Float64Array | null;
  /** e₀. */
  scaleExp: number;
  /** ρ_in ≥ ||M₀ − B·2^-e₀||_F (float32 rounding and underflow). */
  inputRounding: number;
  /** ε₀ ≥ ||P₀ − G₀||_2. */
  productError: number;
  /** Upper bound on ||B||_F. */
  frobenius: number;
  /** How later Gram products are computed. */
  engine: 'js' | 'tfjs';
}

type Prepared = { trivial: GramResult } | { first: FirstGramProduct };

function prepare(block: DenseBlock, engineOption: GramOptions['engine'], stopAtOrBelow?: number): Prepared {
  const oriented = orientTall(block);
  const { rows: m, cols: n } = oriented;
  const frobenius = frobeniusUpper(oriented.re, ...(oriented.im ? [oriented.im] : []));
  // A vector's Frobenius norm is its 2-norm; a zero matrix has norm 0.
  if (frobenius === 0 || n === 1) return { trivial: { bound: frobenius, steps: 0, engine: 'exact' } };
  if (stopAtOrBelow !== undefined && frobenius <= stopAtOrBelow) return { trivial: { bound: frobenius, steps: 0, engine: 'exact' } };
  const engine = engineOption === 'js' || engineOption === 'tfjs' ? engineOption : m * n * n <= JS_ENGINE_MAX_WORK ? 'js' : 'tfjs';
  // Scale by a power of two (exact) so that ||M_0||_F is near 1: no overflow in any later step.
  const scaleExp = Math.round(Math.log2(frobenius));
  const scaled = scaleAndRound(oriented.re, oriented.im, 2 ** -scaleExp, engine === 'tfjs', n);
  const state: GramState = { re: scaled.re, im: scaled.im, rows: m, frobenius: scaled.frobenius, hermitian: false };
  const product = engine === 'js' ? gramProductJs(state, n) : gramProductTfjs(state, n);
  mirrorUpper(product, n);
  return {
    first: {
      n,
      re: product.re as Float64Array,
      im: product.im as Float64Array | null,
      scaleExp,
      // Scaling a float64 by 2^-k can underflow only below 2^-1022: covered absolutely.
      inputRounding: scaled.distance + Math.sqrt(m * n) * 2 ** -1070,
      // The product error bound scales with ||M_0||_F² (see the product functions).
      productError: product.errorFactor * scaled.frobenius * scaled.frobenius + product.absoluteError,
      frobenius,
      engine,
    },
  };
}

/** The first Gram product of `block`, or null when its norm needs none (zero matrix, one column). */
export function firstGramProduct(block: DenseBlock, engine: GramOptions['engine'] = 'auto'): FirstGramProduct | null {
  const prepared = prepare(block, engine);
  return 'first' in prepared ? prepared.first : null;
}

/**
 * Certified upper bound on the spectral norm of `block` by Gram iteration. `first` (from
 * firstGramProduct on the same block) saves recomputing the first product.
 */
export function gramSpectralBound(block: DenseBlock, options: GramOptions = {}, first?: FirstGramProduct): GramResult {
  const prepared: Prepared = first ? { first } : prepare(block, options.engine, options.stopAtOrBelow);
  return 'trivial' in prepared ? prepared.trivial : gramBoundFromFirst(prepared.first, options);
}

/**
 * Gram iteration continued from a block's first product P₀ (however it was formed: see
 * FirstGramProduct for what P₀ must satisfy). `options.engine` is ignored: p0 names its own.
 */
export function gramBoundFromFirst(p0: FirstGramProduct, options: GramOptions = {}): GramResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const relTol = options.relTol ?? DEFAULT_REL_TOL;
  const { n, engine, frobenius } = p0;
  const chain = new BoundChain(p0.scaleExp, p0.inputRounding);

  let best = frobenius;
  let previous = Infinity;
  let steps = 0;
  /** M_t for t ≥ 1 (n × n, exactly Hermitian); the first product is p0's. */
  let state: GramState | undefined;
  while (true) {
    let product: Pick<GramProduct, 're' | 'im'> = p0;
    let productError = p0.productError;
    if (state) {
      const later = engine === 'js'
        ? gramProductJs(state, n)
        : gramProductHermitianTfjs(state, n, steps === 1 ? HERMITIAN_FIRST_CHUNK_ROWS : HERMITIAN_CHUNK_ROWS);
      if (!later.hermitian) mirrorUpper(later, n);
      productError = later.errorFactor * state.frobenius * state.frobenius + later.absoluteError;
      product = later;
    }
    steps++;
    const productFrobenius = frobeniusUpper(product.re, ...(product.im ? [product.im] : []));
    if (productFrobenius === 0) {
      // σ1(M_t)² ≤ ε_t: the chain ends here.
      chain.push(0, 0, productError);
      best = Math.min(best, chain.unroll(0));
      break;
    }
    const scaleExp = Math.round(Math.log2(productFrobenius));
    const next = scaleAndRound(product.re, product.im, 2 ** -scaleExp, engine === 'tfjs', n);
    chain.push(scaleExp, next.distance + n * 2 ** -1070, productError);
    state = { re: next.re, im: next.im, rows: n, frobenius: next.frobenius, hermitian: true };
    const current = chain.unroll(state.frobenius);
    best = Math.min(best, current);
    if (options.stopAtOrBelow !== undefined && best <= options.stopAtOrBelow) break;
    // Stopping heuristics only (validity never depends on them): the bound has stalled, or it is
    // within relTol of the estimate from below given by M_t's largest column (λmax(H) ≥ ||H e_j||).
    if (previous - current <= relTol * current) break;
    if (current <= chain.unroll(next.largestColumn) * (1 + relTol)) break;
    previous = current;
    if (steps >= maxSteps || options.shouldStop?.()) break;
  }
  return { bound: best, steps, engine };
}

interface GramState {
  /** M_t, rows × n row-major; float32 values on the tfjs path. */
  re: Float64Array | Float32Array;
  im: Float64Array | Float32Array | null;
  rows: number;
  /** Upper bound on ||M_t||_F. */
  frobenius: number;
  /** M_t is exactly Hermitian as stored: every M_t after the first product (see mirrorUpper). */
  hermitian: boolean;
}

/**
 * Makes a computed P exactly Hermitian by copying its upper triangle (conjugated) to the lower one
 * and setting Im P_ii = 0. The exact MᴴM is Hermitian and every product below bounds its error
 * entrywise, |ΔRe P_ij|, |ΔIm P_ij| ≤ β_ij with β symmetric, before taking Frobenius norms; the
 * copied entries keep those bounds (Im P_ii = 0 is exact), so the stated ||ΔP|| bound still holds.
 * No arithmetic is done. Scaling by 2^-e and rounding to float32 (fround(−x) = −fround(x)) then
 * keep M_{t+1} exactly Hermitian, which gramProductHermitianTfjs relies on.
 */
function mirrorUpper(product: GramProduct, n: number): void {
  const re = product.re;
  const im = product.im;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      re[j * n + i] = re[i * n + j];
      if (im) im[j * n + i] = -im[i * n + j];
    }
    if (im) im[i * n + i] = 0;
  }
  product.hermitian = true;
}

/** σ1(M_t)² ≤ 2^e_t (σ1(M_{t+1}) + ρ_t) + ε_t for each step, and σ1(M) ≤ 2^e_0 (σ1(M_0) + ρ_in). */
class BoundChain {
  private readonly records: { scaleExp: number; rounding: number; productError: number }[] = [];

  constructor(private readonly scaleExp0: number, private readonly inputRounding: number) {}

  push(scaleExp: number, rounding: number, productError: number): void {
    this.records.push({ scaleExp, rounding, productError });
  }

  /** The bound on σ1(M) implied by σ1(M_T) ≤ top for the last recorded step T. */
  unroll(top: number): number {
    let bound = top;
    for (let t = this.records.length - 1; t >= 0; t--) {
      const r = this.records[t];
      bound = Math.sqrt((2 ** r.scaleExp) * (bound + r.rounding) + r.productError) * SCALAR_SAFETY;
    }
    return (2 ** this.scaleExp0) * (bound + this.inputRounding) * SCALAR_SAFETY;
  }
}

/**
 * x·scale (scale a power of two: exact in float64 barring underflow), optionally rounded to
 * float32; returns the exact float64 distance to x·scale (x − fround(x) is exact in float64) and an
 * upper bound on the Frobenius norm of the result, in one pass.
 */
function scaleAndRound(
  re: ArrayLike<number>,
  im: ArrayLike<number> | null,
  scale: number,
  toFloat32: boolean,
  columns: number,
): { re: Float64Array | Float32Array; im: Float64Array | Float32Array | null; distance: number; frobenius: number; largestColumn: number } {
  const make = (length: number): Float64Array | Float32Array => (toFloat32 ? new Float32Array(length) : new Float64Array(length));
  const columnNorms2 = new Float64Array(columns);
  // Local accumulators in one function body: closures over mutated variables are slow in V8.
  const convert = (source: ArrayLike<number>): { out: Float64Array | Float32Array; distance2: number; norm2: number } => {
    const out = make(source.length);
    let d2 = 0;
    let s2 = 0;
    for (let base = 0; base < source.length; base += columns) {
      for (let c = 0; c < columns; c++) {
        const exact = source[base + c] * scale;
        const stored = toFloat32 ? Math.fround(exact) : exact;
        out[base + c] = stored;
        const d = exact - stored;
        d2 += d * d;
        const sq = stored * stored;
        s2 += sq;
        columnNorms2[c] += sq;
      }
    }
    return { out, distance2: d2, norm2: s2 };
  };
  const convertedRe = convert(re);
  const convertedIm = im ? convert(im) : null;
  const outRe = convertedRe.out;
  const outIm = convertedIm ? convertedIm.out : null;
  const distance2 = convertedRe.distance2 + (convertedIm?.distance2 ?? 0);
  const norm2 = convertedRe.norm2 + (convertedIm?.norm2 ?? 0);
  const length = re.length + (im?.length ?? 0);
  const slack = 1 + gamma(length + 2, UNIT_ROUNDOFF_F64);
  return {
    re: outRe,
    im: outIm,
    distance: toFloat32 ? Math.sqrt(distance2 * slack + length * 2 ** -1074) * SCALAR_SAFETY : 0,
    frobenius: Math.sqrt(norm2 * slack + length * 2 ** -1074) * SCALAR_SAFETY,
    largestColumn: Math.sqrt(Math.max(...columnNorms2)),
  };
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

interface GramProduct {
  re: Float64Array | Float32Array;
  im: Float64Array | Float32Array | null;
  /** Exactly Hermitian as returned (else mirrorUpper makes it so). */
  hermitian?: boolean;
  /** ||P − MᴴM||_2 ≤ errorFactor · ||M||_F² + absoluteError. */
  errorFactor: number;
  absoluteError: number;
}

/**
 * P = MᴴM (n×n) in float64 loops. Each entry is a sum of 2m products (re and im parts), so
 * |ΔRe_ij|, |ΔIm_ij| ≤ γ_{2m+1} S_ij with S = |M|ᵀ|M|, and ||S||_F ≤ ||M||_F².
 */
function gramProductJs(state: GramState, n: number): GramProduct {
  const { re, im, rows: m } = state;
  const pRe = new Float64Array(n * n);
  const pIm = im ? new Float64Array(n * n) : null;
  for (let k = 0; k < m; k++) {
    const rowOffset = k * n;
    for (let i = 0; i < n; i++) {
      const ar = re[rowOffset + i];
      const out = i * n;
      if (im && pIm) {
        const ai = im[rowOffset + i];
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
 * P = MᴴM with float32 tfjs matMul (never a transposed operand: slow on wasm), over chunks of c rows
 * of M, groups of CHUNKS_PER_READ chunks summed in float32 (γ_{2c} becomes γ_{2c+CHUNKS_PER_READ})
 * and the groups in float64 (adding ≤ γ^(64)_{q+1} S_ij). With S = |M|ᵀ|M|:
 * - small n: one product L = [Reᵀ Imᵀ] (n × 2c) times R = [[Re, Im], [Im, −Re]] (2c × 2n) gives
 *   [ReᵀRe + ImᵀIm, ReᵀIm − ImᵀRe]; each entry is a dot product of length 2c, so
 *   |ΔRe P_ij|, |ΔIm P_ij| ≤ γ_{2c} S_ij (Cauchy–Schwarz on the re/im pairs);
 * - large n (flops dominate): Re P = [Reᵀ Imᵀ]·[Re; Im] and X = Reᵀ·Im, Im P = X − Xᵀ in float64
 *   (3 instead of 4 real n·c·n products); |ΔX_ij| + |ΔX_ji| ≤ γ_c S_ij, the same bound.
 * So ||ΔP||_F ≤ 2γ_{2c+1} ||M||_F² (γ for real M). Subnormals add ≤ 2^-150 per operation.
 */
function gramProductTfjs(state: GramState, n: number): GramProduct {
  const { re, im, rows: m } = state;
  const parts = im ? 2 : 1;
  const split = im !== null && n > SPLIT_PRODUCT_MIN_N;
  const chunks = Math.ceil(m / TFJS_CHUNK_ROWS);
  // Row-major n × width results: [Re P, Im P] (joint), Re P (real or split) and X (split).
  const width = im && !split ? 2 * n : n;
  const sums = [new Float64Array(n * width), ...(split ? [new Float64Array(n * n)] : [])];
  const accumulators = sums.map((sum) => new ChunkAccumulator(sum));
  for (let k0 = 0; k0 < m; k0 += TFJS_CHUNK_ROWS) {
    const c = Math.min(TFJS_CHUNK_ROWS, m - k0);
    const inner = parts * c;
    const left = new Float32Array(n * inner);
    const right = new Float32Array(inner * width);
    for (let k = 0; k < c; k++) {
      const src = (k0 + k) * n;
      for (let i = 0; i < n; i++) left[i * inner + k] = re[src + i];
      if (im) {
        for (let i = 0; i < n; i++) left[i * inner + c + k] = im[src + i];
        if (split) {
          right.set(re.subarray(src, src + n), k * n);
          right.set(im.subarray(src, src + n), (c + k) * n);
        } else {
          const top = k * width;
          const bottom = (c + k) * width;
          for (let j = 0; j < n; j++) {
            right[top + j] = re[src + j];
            right[top + n + j] = im[src + j];
            right[bottom + j] = im[src + j];
            right[bottom + n + j] = -re[src + j];
          }
        }
      } else {
        right.set(re.subarray(src, src + n), k * n);
      }
    }
    accumulators[0].add(left, right, n, inner, width);
    if (split) {
      const leftRe = new Float32Array(n * c);
      for (let i = 0; i < n; i++) leftRe.set(left.subarray(i * inner, i * inner + c), i * c);
      accumulators[1].add(leftRe, right.subarray(c * n), n, c, n);
    }
  }
  for (const accumulator of accumulators) accumulator.flush();
  let pRe: Float64Array = sums[0];
  let pIm: Float64Array | null = null;
  if (im && split) {
    const x = sums[1];
    pIm = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) pIm[i * n + j] = x[i * n + j] - x[j * n + i];
  } else if (im) {
    pRe = new Float64Array(n * n);
    pIm = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      pRe.set(sums[0].subarray(i * width, i * width + n), i * n);
      pIm.set(sums[0].subarray(i * width + n, (i + 1) * width), i * n);
    }
  }
  const chunkInner = parts * Math.min(TFJS_CHUNK_ROWS, m);
  // Float32 sums of up to CHUNKS_PER_READ chunks, their float64 sum, and the float64 difference
  // X − Xᵀ: 2^-52 relative each.
  const factor = ChunkAccumulator.errorFactor(chunkInner, chunks);
  const absolute = n * chunks * (2 * chunkInner + 2) * UNDERFLOW_F32 * parts * 2;
  return { re: pRe, im: pIm, errorFactor: parts * factor, absoluteError: absolute };
}

/** Rows of M per float32 product on the Hermitian path (inner length c) from the third product on. */
const HERMITIAN_CHUNK_ROWS = 512;
/**
 * The second product (of MᴴM) uses shorter chunks: there ||M_1||_F² is still ~n/4 times σ1(M_1)²,
 * so its rounding bound costs tightness; later M_t are dominated by their top singular values.
 */
const HERMITIAN_FIRST_CHUNK_ROWS = 128;

/**
 * P = MᴴM = M² for an exactly Hermitian n×n M = A + iB (A symmetric, B antisymmetric, float32
 * values): M's rows K, conjugate-transposed, are its columns K, so no operand is transposed, and
 *   Re P = A² − B² = Y + X + Xᵀ,  Im P = AB + BA = X − Xᵀ,  Y = (A + B)(A − B),  X = AB
 * (since BA = −(AB)ᵀ), so 2 real n³ products instead of 3 (real M: P = A·A, one product).
 * Rounding, u = 2^-24, α = γ_{c+q} for a chunked product (chunkedProduct): F = fl32(A + B), G = fl32(A − B) have |ΔF|, |ΔG| ≤ 2u(|A| + |B|) entrywise (double
 * rounding through float64), so with T = (|A| + |B|)², U = |A||B| (entrywise moduli, T symmetric):
 *   |Ŷ − Y| ≤ α_Y T, α_Y = α(1 + 5u) + 5u;   |X̂ − X| ≤ α U;
 * the float32 sums Ŷ + X̂ + X̂ᵀ and X̂ − X̂ᵀ add γ_2 of |Ŷ| + |X̂| + |X̂ᵀ| ≤ 2(T + U + Uᵀ). Each bound is symmetric in
 * (i, j). ||T||_F ≤ || |A| + |B| ||_F² ≤ 2||M||_F², ||U + Uᵀ||_F ≤ 2||A||_F||B||_F ≤ ||M||_F², so
 *   ||ΔP||_2 ≤ ||ΔRe P||_F + ||ΔIm P||_F ≤ (2α_Y + 2α + 8γ_2) ||M||_F²  (+ subnormal terms).
 */
function gramProductHermitianTfjs(state: GramState, n: number, chunkRows: number): GramProduct {
  const { re, im } = state;
  const c = Math.min(chunkRows, n);
  const chunks = Math.ceil(n / c);
  const alpha = gamma(c + chunks, UNIT_ROUNDOFF_F32);
  const absolute = n * chunks * (2 * c + 2) * UNDERFLOW_F32 * 8 + n * n * 2 ** -140;
  const f32 = (x: ArrayLike<number>): Float32Array => (x instanceof Float32Array ? x : Float32Array.from(x));
  const alphaY = alpha * (1 + 5 * UNIT_ROUNDOFF_F32) + 5 * UNIT_ROUNDOFF_F32;
  const complexFactor = 2 * alphaY + 2 * alpha + 8 * gamma(2, UNIT_ROUNDOFF_F32);
  const native = hermitianProductNative(f32(re), im && f32(im), n, c);
  if (native) return { ...native, errorFactor: im ? complexFactor : alpha, absoluteError: absolute };
  if (!im) {
    const p = tf.tidy(() => {
      const a = tf.tensor2d(f32(re), [n, n]);
      return chunkedProduct(a, a, n, c);
    });
    const values = p.dataSync() as Float32Array;
    p.dispose();
    return { re: values, im: null, errorFactor: alpha, absoluteError: absolute };
  }
  const [pReT, pImT] = tf.tidy(() => {
    const a = tf.tensor2d(f32(re), [n, n]);
    const b = tf.tensor2d(f32(im), [n, n]);
    const y = chunkedProduct(tf.add(a, b), tf.sub(a, b), n, c);
    const x = chunkedProduct(a, b, n, c);
    const xT = tf.transpose(x);
    return [tf.add(tf.add(y, x), xT), tf.sub(x, xT)];
  });
  const pRe = pReT.dataSync() as Float32Array;
  const pIm = pImT.dataSync() as Float32Array;
  tf.dispose([pReT, pImT]);
  // Re P is symmetric only up to rounding: mirrorUpper makes it exact (Im P = X − Xᵀ already is).
  return { re: pRe, im: pIm, errorFactor: complexFactor, absoluteError: absolute };
}

/**
 * gramProductHermitianTfjs's products on ONNX Runtime, or null when native products are off. The
 * same arithmetic up to order: F = fl32(A + B), G = fl32(A − B) as there; each chunk product is a
 * float32 matMul (≤ γ_c), the chunks are summed in float64 and rounded once to float32 (≤ γ_{c+1}
 * ≤ γ_{c+q} together), and Y + X + Xᵀ, X − Xᵀ are formed in float64 and rounded once (≤ γ_2): every
 * bound that function states holds.
 */
function hermitianProductNative(a: Float32Array, b: Float32Array | null, n: number, c: number): { re: Float32Array; im: Float32Array | null } | null {
  const product = (l: Float32Array, r: Float32Array): Float64Array | null => {
    const sum = new Float64Array(n * n);
    for (let k0 = 0; k0 < n; k0 += c) {
      const width = Math.min(c, n - k0);
      let left = l;
      if (width !== n) {
        left = new Float32Array(n * width);
        for (let i = 0; i < n; i++) left.set(l.subarray(i * n + k0, i * n + k0 + width), i * width);
      }
      const term = nativeMatMul(left, r.subarray(k0 * n, (k0 + width) * n), n, width, n);
      if (!term) return null;
      for (let i = 0; i < term.length; i++) sum[i] += term[i];
    }
    return sum;
  };
  if (!b) {
    const p = product(a, a);
    return p && { re: Float32Array.from(p), im: null };
  }
  const sum = new Float32Array(n * n);
  const difference = new Float32Array(n * n);
  for (let i = 0; i < sum.length; i++) {
    sum[i] = a[i] + b[i];
    difference[i] = a[i] - b[i];
  }
  const y = product(sum, difference);
  const x = y && product(a, b);
  if (!y || !x) return null;
  const re = new Float32Array(n * n);
  const im = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const xij = x[i * n + j];
      const xji = x[j * n + i];
      re[i * n + j] = y[i * n + j] + xij + xji;
      im[i * n + j] = xij - xji;
    }
  }
  return { re, im };
}

/**
 * L·R for n×n float32 L, R (tensors), as a sum over q inner chunks of c (L's columns, R's rows) of
 * float32 products, the chunk products summed in float32: each entry is a sum of c products and
 * q − 1 additions, in any order, so |error| ≤ γ_{c+q} (|L||R|)_ij (plus subnormals).
 */
function chunkedProduct(l: tf.Tensor2D, r: tf.Tensor2D, n: number, c0: number): tf.Tensor2D {
  let acc: tf.Tensor2D | null = null;
  for (let k0 = 0; k0 < n; k0 += c0) {
    const c = Math.min(c0, n - k0);
    const term: tf.Tensor2D = c === n ? tf.matMul(l, r) : tf.matMul(tf.slice(l, [0, k0], [n, c]), tf.slice(r, [k0, 0], [c, n]));
    acc = acc ? (tf.add(acc, term) as tf.Tensor2D) : term;
  }
  return acc as tf.Tensor2D;
}

/**
 * Sums float32 chunk products: up to CHUNKS_PER_READ of them in float32 inside tfjs (one read-back
 * per group: each term passes through at most CHUNKS_PER_READ − 1 extra float32 additions), and
 * the groups in float64.
 */
export class ChunkAccumulator {
  private pending: tf.Tensor2D | null = null;
  private count = 0;

  constructor(readonly into: Float64Array) {}

  /**
   * Relative error factor of the sums this accumulator forms from chunk products of inner length
   * ≤ `chunkInner`, over `chunks` chunks: each entry is within factor · Σ|l_ik r_kj| of the exact
   * product (float32 chunk sums, float32 sums of CHUNKS_PER_READ of them, float64 sum of those).
   */
  static errorFactor(chunkInner: number, chunks: number): number {
    return gamma(chunkInner + CHUNKS_PER_READ, UNIT_ROUNDOFF_F32) + gamma(chunks + 3, UNIT_ROUNDOFF_F64);
  }

  add(left: Float32Array, right: Float32Array, n: number, inner: number, width: number): void {
    // On ONNX Runtime each chunk product goes straight into the float64 sums: fewer float32
    // additions than errorFactor allows for, so the same bound holds.
    const native = nativeMatMul(left, right, n, inner, width);
    if (native) {
      const into = this.into;
      for (let i = 0; i < native.length; i++) into[i] += native[i];
      return;
    }
    const product: tf.Tensor2D = tf.tidy(() => tf.matMul(tf.tensor2d(left, [n, inner]), tf.tensor2d(right, [inner, width])));
    if (this.pending) {
      const sum = tf.add(this.pending, product) as tf.Tensor2D;
      tf.dispose([this.pending, product]);
      this.pending = sum;
    } else {
      this.pending = product;
    }
    if (++this.count === CHUNKS_PER_READ) this.flush();
  }

  flush(): void {
    if (!this.pending) return;
    const values = this.pending.dataSync();
    this.pending.dispose();
    this.pending = null;
    this.count = 0;
    const into = this.into;
    for (let i = 0; i < values.length; i++) into[i] += values[i];
  }
}
