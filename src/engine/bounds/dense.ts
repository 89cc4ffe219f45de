// Certified upper bound on σ1 of a dense layer's weight (the layer is x ↦ xW on the last axis, so
// its norm on any input shape is σ1(W): a batch of rows is a block-diagonal copy of W).

import type { DenseSpec } from '../../model/ir';
import { certificateTarget, certifyNormAtMost } from './cholesky';
import { firstGramProduct, gramBoundFromFirst, gramSpectralBound } from './gram';
import { largestEigenvalueEstimate } from './top-eigenvalue';
import { frobeniusUpper } from './rounding';
import { BOUND_BUDGET_FLOPS, type BoundOptions, type UpperBound } from './types';

/** Gram steps after the first product; each costs 2n³ for the n×n Gram matrix. */
const GRAM_STEPS = 8;
/** Row blocks thinner than this give bounds too loose to be worth their cost. */
const MIN_BLOCK_ROWS = 8;
/** From this Gram size a Cholesky certificate is tried before Gram iteration. */
const CERTIFY_MIN_SIZE = 64;
/**
 * Panel of the certificate: 16 halves the rounding shift of the default 32 (cholesky.ts), which
 * keeps a 1024-wide Gram matrix's certified bound as tight as 8 Gram squarings (~0.15 % above σ1).
 */
const DENSE_PANEL = 16;
/** The estimate is raised by these (relative, on σ²) in turn: it is from below. */
const ESTIMATE_MARGINS = [3e-5, 3e-4];

export function denseUpperBound(spec: DenseSpec, options: BoundOptions = {}): UpperBound | null {
  const [inputs, outputs] = spec.weight.dims;
  if (spec.weight.dims.length !== 2 || inputs * outputs !== spec.weight.data.length) return null;
  return matrixUpperBound(spec.weight.data, inputs, outputs, options);
}

/**
 * σ1 of a real rows×cols row-major matrix. Full Gram iteration on the smaller side when its cost
 * (≈ 2·big·small² + steps·2·small³) fits the budget; otherwise the row-block bound
 * ||W||² ≤ Σ_i ||W_i||² (W split into blocks of rows of its larger side),
 * each block bounded by Gram iteration; and never worse than the Frobenius norm.
 * Row-block validity: for W = [W_1; W_2; ...], WᵀW = Σ W_iᵀW_i, so ||W||² ≤ Σ ||W_i||².
 */
export function matrixUpperBound(data: ArrayLike<number>, rows: number, cols: number, options: BoundOptions = {}): UpperBound {
  const frobenius = frobeniusUpper(data);
  const frobeniusResult = { value: frobenius, method: 'Frobenius norm' };
  if (frobenius === 0) return { value: 0, method: 'zero weight' };
  const big = Math.max(rows, cols);
  const small = Math.min(rows, cols);
  const budget = options.budgetFlops ?? BOUND_BUDGET_FLOPS;
  const fullCost = 2 * big * small * small + GRAM_STEPS * 2 * small ** 3;
  // Work on the tall orientation: `tall` is big×small (a transpose does not change σ1).
  const tall = toTallFloat64(data, rows, cols);
  if (fullCost <= budget || small <= MIN_BLOCK_ROWS) {
    const block = { rows: big, cols: small, re: tall, im: null };
    const first = small >= CERTIFY_MIN_SIZE ? firstGramProduct(block) : null;
    if (first) {
      // One Cholesky factorisation proves σ1 ≤ a target set just above the estimate (the caller's
      // solver σ, else a Lanczos estimate on P₀), instead of 6–8 Gram squarings.
      const lambda = options.lowerBound !== undefined && options.lowerBound > 0 && Number.isFinite(options.lowerBound)
        ? (options.lowerBound * 2 ** -first.scaleExp) ** 2
        : largestEigenvalueEstimate(first.n, first.re, first.im);
      for (const margin of ESTIMATE_MARGINS) {
        const target = certificateTarget(first, lambda * (1 + margin), DENSE_PANEL);
        if (target < frobenius && certifyNormAtMost(first, target, { shouldStop: options.shouldStop, panel: DENSE_PANEL })) {
          return { value: target, method: `Cholesky certificate on the ${small}x${small} Gram matrix (float32 products with bounded rounding)` };
        }
      }
    }
    const result = first
      ? gramBoundFromFirst(first, { maxSteps: GRAM_STEPS, shouldStop: options.shouldStop })
      : gramSpectralBound(block, { maxSteps: GRAM_STEPS, shouldStop: options.shouldStop });
    if (result.bound >= frobenius) return frobeniusResult;
    return { value: result.bound, method: `Gram iteration on the ${small}x${small} Gram matrix (${result.steps} products, ${describeEngine(result.engine)})` };
  }
  // Rows per block r: the first products cost 2·big·small·r in total and the later ones
  // GRAM_STEPS·2·r³ per block, i.e. 2·GRAM_STEPS·big·r²; a quarter of the budget keeps the
  // fallback quick (it is a coarse bound anyway).
  const a = 2 * GRAM_STEPS * big;
  const b = 2 * big * small;
  const blockBudget = budget / 4;
  const largest = Math.floor((-b + Math.sqrt(b * b + 4 * a * blockBudget)) / (2 * a));
  const blockRows = Math.max(MIN_BLOCK_ROWS, Math.min(small, largest));
  let sumSquares = 0;
  for (let r0 = 0; r0 < big; r0 += blockRows) {
    if (options.shouldStop?.()) return { ...frobeniusResult, method: 'Frobenius norm (stopped early)' };
    const r = Math.min(blockRows, big - r0);
    const block = tall.subarray(r0 * small, (r0 + r) * small);
    const result = gramSpectralBound({ rows: r, cols: small, re: block, im: null }, { maxSteps: GRAM_STEPS });
    sumSquares += result.bound * result.bound;
  }
  // Two roundings per term plus the sum: covered by 1 + (blocks + 4)·2^-52.
  const blocks = Math.ceil(big / blockRows);
  const value = Math.sqrt(sumSquares * (1 + (blocks + 4) * 2 ** -52)) * (1 + 2 ** -50);
  if (value >= frobenius) return frobeniusResult;
  return { value, method: `row-block Gram bound sqrt(Σ||W_i||²) over ${blocks} blocks of ${blockRows}x${small} (full Gram ${(fullCost / 1e9).toFixed(0)} GFLOP exceeds the budget)` };
}

export function describeEngine(engine: 'exact' | 'js' | 'tfjs'): string {
  if (engine === 'tfjs') return 'float32 products with bounded rounding';
  if (engine === 'js') return 'float64';
  return 'exact vector norm';
}

function toTallFloat64(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  if (rows >= cols) {
    for (let i = 0; i < out.length; i++) out[i] = data[i];
    return out;
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
  return out;
}
