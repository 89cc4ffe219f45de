// Explicit matrices of small linear nodes and certified norms of their products (docs/bracket.md,
// "Certifying a partial product").
//
// A node's matrix (row-vector convention y = x·M, in the node's own layout flattened) is read off
// the graph executor on the batch of all basis vectors, biases and shifts dropped. Its entries are
// EXACT: for conv, conv-transpose, dense, diagonal and pads every output of a basis vector is one
// weight times 1 plus exact zeros; pool entries (1/count) are rounded in float32, and are snapped
// back to the reciprocal of their integer (refused if one is not within 1e-5 of such a value).
// Products run in float64 in JS; for exact factors Mᵢ the computed P̂ satisfies
// |P̂ − P| ≤ γ_n |M₁|⋯|M_k| entrywise (n = total inner length, Higham §3.5), so
// ||P − P̂||₂ ≤ γ_n ∏ ||Mᵢ||_F, added to the certified bound of P̂ (bounds/dense.ts).

import * as tf from '@tensorflow/tfjs-core';
import type { IrNode } from '../../model/ir';
import { runNode } from '../executor/execute';
import { matrixUpperBound } from '../bounds/dense';
import { SCALAR_SAFETY, UNIT_ROUNDOFF_F32, UNIT_ROUNDOFF_F64, frobeniusUpper, gamma } from '../bounds/rounding';

export interface ExplicitMatrix {
  rows: number;
  cols: number;
  /** Row-major rows × cols, float64, exact. */
  data: Float64Array;
  /** Upper bound on the Frobenius norm. */
  frobenius: number;
}

/** Largest node matrix built (entries). */
export const MAX_MATRIX_ENTRIES = 2 ** 22;

const POOL_SPECS = new Set(['avgPool', 'globalAvgPool', 'reduceMean']);

/** The node's linear part as an explicit matrix, or null (not executable, not batchable, too large). */
export function nodeMatrix(node: IrNode, maxEntries = MAX_MATRIX_ENTRIES): ExplicitMatrix | null {
  const inShape = node.inputShapes[0];
  const outShape = node.outputShapes[0];
  if (!inShape || !outShape || inShape[0] !== 1 || outShape[0] !== 1) return null;
  const rows = count(inShape);
  const cols = count(outShape);
  if (rows * cols > maxEntries) return null;
  if (!linearPart(node, 1)) return null;
  // The basis vectors in batches of at most ~2^20 values in and out.
  const batch = Math.max(1, Math.min(rows, Math.floor(2 ** 20 / (rows + cols))));
  const data = new Float64Array(rows * cols);
  for (let start = 0; start < rows; start += batch) {
    const size = Math.min(batch, rows - start);
    const ones = new Float32Array(size * rows);
    for (let i = 0; i < size; i++) ones[i * rows + start + i] = 1;
    const chunk = linearPart(node, size) as IrNode;
    // Read after the tidy: tf.tidy walks a returned typed array key by key (~2 s for 2^20 values).
    const output = tf.tidy(() => runNode(chunk, [tf.tensor(ones, [size, ...inShape.slice(1)])]));
    const values = output.dataSync() as Float32Array;
    const fits = values.length === size * cols;
    if (fits) data.set(values, start * cols);
    output.dispose();
    if (!fits) return null;
  }
  if (POOL_SPECS.has(node.spec.type) && !snapReciprocals(data)) return null;
  if (!data.every(Number.isFinite)) return null;
  return { rows, cols, data, frobenius: frobeniusUpper(data) };
}

/** A copy of the node that computes its linear part on a batch of `batch`, or null. */
function linearPart(node: IrNode, batch: number): IrNode | null {
  const execution = node.execution;
  if (!execution) return null;
  const outputShapes = [[batch, ...node.outputShapes[0].slice(1)]];
  const base = { ...node, outputShapes };
  switch (execution.kind) {
    case 'affine':
      return { ...base, execution: { kind: 'affine' } };
    case 'pad':
      return { ...base, execution: { ...execution, value: 0 } };
    case 'shift':
      return { ...base, execution: { ...execution, constant: { dims: execution.constant.dims, data: new Float32Array(execution.constant.data.length) } } };
    case 'transpose':
      return execution.perm[0] === 0 ? base : null;
    case 'reshape':
    case 'spec':
      return base;
    default:
      return null;
  }
}

/** Pool entries are 1/k for integers k: restores them exactly; false if one is not. */
function snapReciprocals(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === 0) continue;
    const k = Math.round(1 / v);
    if (!(k >= 1) || Math.abs(1 / k - v) > 1e-5 * Math.abs(v)) return false;
    data[i] = 1 / k;
  }
  return true;
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A product of explicit factors with scalars between them: x·M₁·c₁·M₂⋯ (null factor: identity). */
export interface ProductTerm {
  matrix: ExplicitMatrix | 'identity';
  /** Scalar applied after this factor. */
  scale: number;
}

/** Products of more multiply-adds than this run in float32 on tfjs (about 20× faster than JS float64). */
const JS_PRODUCT_MAX = 5e7;

/**
 * Multiply-adds of the product plus those of its certificate (2·big·small² for the Gram matrix and
 * ~16·small³ after), JS float64 work counted ten times (it is that much slower than tfjs), to
 * refuse costly ones.
 */
export function productCost(factors: readonly ProductTerm[]): number {
  let cost = 0;
  let rows = 0;
  let cols = 0;
  for (const { matrix } of factors) {
    if (matrix === 'identity') continue;
    if (rows === 0) rows = matrix.rows;
    else cost += rows * matrix.rows * matrix.cols;
    cols = matrix.cols;
  }
  const small = Math.min(rows, cols);
  const big = Math.max(rows, cols);
  return (cost > JS_PRODUCT_MAX ? cost : 10 * cost) + 2 * big * small * small + 16 * small ** 3;
}

/**
 * Certified upper bound on ||M₁ c₁ M₂ c₂ ⋯|| (the scalars all multiply the product). Small products
 * run in float64 (JS); large ones in float32 on tfjs, where rounding each factor to float32 (pool
 * entries 1/k) and every product adds at most one unit roundoff per step to |M₁|⋯|M_k|, so the
 * margin is γ(n + 2k)·∏||M_i||_F in float32's unit roundoff, plus gradual underflow.
 */
export function certifiedProductNorm(factors: readonly ProductTerm[], shouldStop?: () => boolean): number {
  if (productCost(factors) > 0 && multiplyAdds(factors) > JS_PRODUCT_MAX) return float32ProductNorm(factors, shouldStop);
  let product: ExplicitMatrix | null = null;
  let scale = 1;
  let frobeniusProduct = 1;
  let inner = 0;
  for (const { matrix, scale: c } of factors) {
    scale *= Math.abs(c);
    if (matrix === 'identity') continue;
    frobeniusProduct *= matrix.frobenius;
    if (!product) {
      product = matrix;
      continue;
    }
    if (shouldStop?.()) return Infinity;
    if (product.cols !== matrix.rows) throw new Error(`factor shapes ${product.cols} and ${matrix.rows} do not chain`);
    inner += matrix.rows;
    product = multiply(product, matrix);
  }
  if (!product) return scale;
  if (scale === 0) return 0;
  const computed = matrixUpperBound(product.data, product.rows, product.cols, { shouldStop }).value;
  // Rounding of the float64 products (exact factors), and of the scalar product.
  const rounding = gamma(inner + factors.length + 2, UNIT_ROUNDOFF_F64) * frobeniusProduct;
  return (computed + rounding) * scale * SCALAR_SAFETY;
}

function multiply(a: ExplicitMatrix, b: ExplicitMatrix): ExplicitMatrix {
  const { rows, cols: inner } = a;
  const cols = b.cols;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    for (let k = 0; k < inner; k++) {
      const v = a.data[i * inner + k];
      if (v === 0) continue;
      const source = k * cols;
      for (let j = 0; j < cols; j++) out[row + j] += v * b.data[source + j];
    }
  }
  return { rows, cols, data: out, frobenius: frobeniusUpper(out) };
}

function multiplyAdds(factors: readonly ProductTerm[]): number {
  let rows = 0;
  let cost = 0;
  for (const { matrix } of factors) {
    if (matrix === 'identity') continue;
    if (rows === 0) rows = matrix.rows;
    else cost += rows * matrix.rows * matrix.cols;
  }
  return cost;
}

function float32ProductNorm(factors: readonly ProductTerm[], shouldStop?: () => boolean): number {
  let scale = 1;
  let frobeniusProduct = 1;
  let inner = 0;
  let count = 0;
  let rows = 0;
  let cols = 0;
  let product: tf.Tensor2D | null = null;
  try {
    for (const { matrix, scale: c } of factors) {
      scale *= Math.abs(c);
      if (matrix === 'identity') continue;
      frobeniusProduct *= matrix.frobenius;
      count++;
      const next = tf.tensor2d(Float32Array.from(matrix.data), [matrix.rows, matrix.cols]);
      if (!product) {
        product = next;
        rows = matrix.rows;
      } else {
        if (shouldStop?.()) return Infinity;
        if (product.shape[1] !== matrix.rows) throw new Error(`factor shapes ${product.shape[1]} and ${matrix.rows} do not chain`);
        inner += matrix.rows;
        const multiplied: tf.Tensor2D = tf.matMul(product, next);
        tf.dispose([product, next]);
        product = multiplied;
      }
      cols = matrix.cols;
    }
    if (!product) return scale;
    if (scale === 0) return 0;
    const data = Float64Array.from(product.dataSync());
    const computed = matrixUpperBound(data, rows, cols, { shouldStop }).value;
    const rounding = gamma(inner + 2 * count + 2, UNIT_ROUNDOFF_F32) * frobeniusProduct + Math.sqrt(rows * cols) * (inner + count) * 2 ** -149;
    return (computed + rounding) * scale * SCALAR_SAFETY;
  } finally {
    product?.dispose();
  }
}
