// The explicit matrix of any LinearOperator (forward or adjoint applied to every basis vector, read
// back as float64), its σ1 from a float64 SVD (ml-matrix), and the adjoint identity check. For
// small operators only: one product per column.

import * as tf from '@tensorflow/tfjs-core';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { LinearOperator } from '../../src/engine/operator';

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Rows x columns matrix of the map: for `forward`, (output size) x (input size); for `adjoint`,
 * (input size) x (output size). Column j is the map applied to the j-th basis vector, in the
 * row-major order of the operator's own tensor shapes.
 */
export function explicitMatrix(op: LinearOperator, direction: 'forward' | 'adjoint' = 'forward'): Matrix {
  const fromShape = direction === 'forward' ? op.inputShape : op.outputShape;
  const toShape = direction === 'forward' ? op.outputShape : op.inputShape;
  const columns = sizeOf(fromShape);
  const rows = sizeOf(toShape);
  const result = new Matrix(rows, columns);
  const basis = new Float32Array(columns);
  for (let j = 0; j < columns; j++) {
    basis.fill(0);
    basis[j] = 1;
    const x = tf.tensor(basis, fromShape, 'float32');
    const y = direction === 'forward' ? op.forward(x) : op.adjoint(x);
    if (y.size !== rows) throw new Error(`${direction} returned ${y.size} values, expected ${rows}`);
    const values = y.dataSync();
    for (let i = 0; i < rows; i++) result.set(i, j, values[i]);
    tf.dispose([x, y]);
  }
  return result;
}

/** σ1 of an explicit matrix, float64. */
export function largestSingularValue(matrix: Matrix): number {
  const svd = new SingularValueDecomposition(matrix, {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
    autoTranspose: true,
  });
  return Math.max(...svd.diagonal);
}

/** Largest |a_ij − b_ij| divided by the largest |b_ij| (or 1 when b is zero). */
export function relativeMaxDifference(a: Matrix, b: Matrix): number {
  if (a.rows !== b.rows || a.columns !== b.columns) {
    throw new Error(`shapes differ: ${a.rows}x${a.columns} vs ${b.rows}x${b.columns}`);
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.columns; j++) {
      diff = Math.max(diff, Math.abs(a.get(i, j) - b.get(i, j)));
      scale = Math.max(scale, Math.abs(b.get(i, j)));
    }
  }
  return diff / (scale || 1);
}

/** Seeded standard normal samples (mulberry32 + Box–Muller), independent of the engine's own RNG. */
export function seededNormals(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

/**
 * |<A x, y> − <x, Aᵀ y>| / (||A x||·||y|| + ||x||·||Aᵀ y||) for seeded random x, y, accumulated in
 * float64. A correct adjoint gives float32 round-off (≲ 1e-6); a wrong one gives O(1).
 */
export function adjointIdentityGap(op: LinearOperator, seed = 1): number {
  const xValues = seededNormals(sizeOf(op.inputShape), seed);
  const yValues = seededNormals(sizeOf(op.outputShape), seed + 7919);
  const x = tf.tensor(xValues, op.inputShape, 'float32');
  const y = tf.tensor(yValues, op.outputShape, 'float32');
  const ax = op.forward(x);
  const aty = op.adjoint(y);
  const axValues = ax.dataSync();
  const atyValues = aty.dataSync();
  tf.dispose([x, y, ax, aty]);
  if (axValues.length !== yValues.length || atyValues.length !== xValues.length) {
    throw new Error('forward/adjoint returned tensors of the wrong size');
  }
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  };
  const left = dot(axValues, yValues);
  const right = dot(xValues, atyValues);
  const scale =
    Math.sqrt(dot(axValues, axValues) * dot(yValues, yValues)) +
    Math.sqrt(dot(xValues, xValues) * dot(atyValues, atyValues));
  return Math.abs(left - right) / (scale || 1);
}
