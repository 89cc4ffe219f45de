// Explicit matrices as LinearOperators, and the matrices the solver tests use, with their exact
// singular values from a float64 SVD (ml-matrix), independent of tfjs.

import * as tf from '@tensorflow/tfjs-core';
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import type { LinearOperator } from '../../src/engine/operator';
import { createGaussianRandom } from '../../src/engine/solvers/random';

/**
 * x ↦ M x for an explicit rows x cols matrix, on tensors of shape [1, cols] → [1, rows]. The
 * entries go to the backend as float32, so build the truth from `roundToFloat32(M)`.
 */
export function matrixOperator(matrix: Matrix): LinearOperator {
  const weights = tf.tensor2d(matrix.to2DArray(), [matrix.rows, matrix.columns], 'float32');
  const transposed = tf.transpose(weights) as tf.Tensor2D;
  return {
    inputShape: [1, matrix.columns],
    outputShape: [1, matrix.rows],
    // Row-vector products (x·Mᵀ, y·M): no transposed matMul at run time.
    forward: (x) => tf.tidy(() => tf.matMul(tf.reshape(x, [1, matrix.columns]), transposed)),
    adjoint: (y) => tf.tidy(() => tf.matMul(tf.reshape(y, [1, matrix.rows]), weights)),
    dispose: () => tf.dispose([weights, transposed]),
  };
}

export interface ProductCounts {
  forward: number;
  adjoint: number;
}

/** Wraps an operator so that its products are counted. */
export function countingOperator(op: LinearOperator): { op: LinearOperator; counts: ProductCounts } {
  const counts: ProductCounts = { forward: 0, adjoint: 0 };
  return {
    counts,
    op: {
      inputShape: op.inputShape,
      outputShape: op.outputShape,
      forward: (x) => {
        counts.forward++;
        return op.forward(x);
      },
      adjoint: (y) => {
        counts.adjoint++;
        return op.adjoint(y);
      },
      dispose: () => op.dispose(),
    },
  };
}

export function gaussianMatrix(rows: number, columns: number, seed: number): Matrix {
  const next = createGaussianRandom(seed);
  return Matrix.from1DArray(rows, columns, Array.from({ length: rows * columns }, next));
}

/** A rows x k matrix with orthonormal columns (Q of a Gaussian matrix), k ≤ rows. */
export function randomOrthonormalColumns(rows: number, k: number, seed: number): Matrix {
  return new QrDecomposition(gaussianMatrix(rows, k, seed)).orthogonalMatrix;
}

/** U diag(s) Vᵀ with random orthonormal U, V; s.length ≤ min(rows, columns). */
export function matrixWithSingularValues(rows: number, columns: number, singularValues: number[], seed: number): Matrix {
  const k = singularValues.length;
  const left = randomOrthonormalColumns(rows, k, seed);
  const right = randomOrthonormalColumns(columns, k, seed + 7919);
  return left.mmul(Matrix.diag(singularValues)).mmul(right.transpose());
}

/** The matrix the backend actually sees: every entry rounded to float32. */
export function roundToFloat32(matrix: Matrix): Matrix {
  const rounded = matrix.clone();
  rounded.apply((i, j) => {
    rounded.set(i, j, Math.fround(matrix.get(i, j)));
  });
  return rounded;
}

/** Singular values in float64, largest first. */
export function singularValues(matrix: Matrix): number[] {
  const svd = new SingularValueDecomposition(matrix, {
    autoTranspose: true,
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
  });
  return [...svd.diagonal].sort((a, b) => b - a);
}
