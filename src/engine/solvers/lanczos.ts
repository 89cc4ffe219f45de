// Golub–Kahan–Lanczos bidiagonalisation with full reorthogonalisation and thick restarts.
//
// The recurrence builds orthonormal bases V (input side) and U (output side) with
//   A V_j = U_j B_j,   Aᵀ U_j = V_j B_jᵀ + β_j v_{j+1} e_jᵀ,
// where B_j = U_jᵀ A V_j is small (upper bidiagonal until the first restart, then upper
// triangular). Every new vector is orthogonalised against the whole basis twice (classical
// Gram–Schmidt twice), so float32 rounding does not bring back converged directions; the
// coefficients of the output side fill B's columns, so the same code serves before and after
// restarts. σ is the largest singular value of B_j (computed in float64 by ml-matrix), with left
// and right singular vectors p, q. The Ritz vector v = V_j q satisfies
//   ||AᵀA v − σ² v|| / σ² = |β_j p_j| / σ   (exactly, in exact arithmetic),
// so the residual costs no products.
//
// What the stop rule guarantees, and what it does not:
// - σ² is a Rayleigh quotient of AᵀA, so some eigenvalue σ_i² lies within r·σ² of it, where r is
//   the residual above; hence |σ_i − σ| ≤ r·σ. Stopping at r ≤ tol bounds the TRUE relative error
//   by tol, against the σ_i this Ritz value approximates (ARPACK's rule; the actual error is
//   usually far smaller, about r²·σ²/gap).
// - It does not certify that σ_i is σ1: an estimate from below never certifies the top of the
//   spectrum. A Krylov space from a Gaussian start contains the top singular vector with
//   probability one, and the largest Ritz value converges to σ1 first, but a start nearly
//   orthogonal to it, or a huge cluster, can still return a lower σ_i with a small residual.
//   A certified number needs an upper bound (src/engine/bounds).
// - In float32 the recurrence's residual can keep falling below what the arithmetic supports. So
//   when it passes tol, the solver restarts from the Ritz vector v: the first product pair of the
//   new cycle measures ||AᵀA v − σ² v|| directly (as β₁/α₁), and only that measured value ends the
//   run. A failed check costs nothing: the cycle simply continues from the best vector so far.
//   The measured residual has a float32 floor of about 1e-7 to 1e-6 (larger operators, larger
//   floor): when a second measured check fails without halving the residual, the run stops there
//   with converged = false rather than spinning until maxIter.
// - Breakdown (a new direction that is exactly or numerically zero, ≤ 1e-10·||A||, or a basis
//   that spans the whole space) means the Krylov spaces are invariant and B's singular values are
//   exact; the same measured check confirms it. Float32 noise above that threshold needs no
//   special case: the tiny β makes the residual tiny and the check follows.
// - If maxIter runs out, the result carries the last Ritz value and the recurrence's residual,
//   and converged says whether that residual is within tol (it was not measured again).
//
// Memory: the bases hold at most maxBasis vectors per side; when full, the top half of the Ritz
// pairs is kept (thick restart: V ← V Q_k, U ← U P_k, B ← diag(σ_1..σ_k)) and the pending v_{j+1}
// continues the recurrence, whose first new column of B carries the couplings β_j·P[j, 1..k].

import * as tf from '@tensorflow/tfjs-core';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { CancelledError, type LinearOperator, type SolverResult } from '../operator';
import type { SpectralSolverOptions } from './options';
import { applyFlat, assertFinite, elementCount, gaussianUnitVector } from './vectors';

const DEFAULT_MAX_BASIS = 64;
const MIN_BASIS = 4;
/** Both bases together stay below this many float32 values (128 MB). */
const BASIS_FLOAT_BUDGET = 2 ** 25;
/**
 * A new direction this small relative to the largest σ seen so far is treated as zero. Far below
 * the float32 floor on purpose: a larger threshold would end runs whose tol is near that floor.
 */
const BREAKDOWN_RELATIVE = 1e-10;
/** A failed residual check must at least halve the last one, or the floor has been reached. */
const CHECK_PROGRESS = 0.5;

export function basisCapacity(inputLength: number, outputLength: number, maxBasis?: number): number {
  const byBudget = Math.floor(BASIS_FLOAT_BUDGET / (inputLength + outputLength));
  const wanted = maxBasis ?? Math.min(DEFAULT_MAX_BASIS, byBudget);
  return Math.max(MIN_BASIS, Math.floor(wanted));
}

interface Orthogonalised {
  vector: tf.Tensor1D;
  /** Basis coefficients removed, length = basis rows. */
  coefficients: number[];
  squaredNorm: number;
}

/** w minus its projection on the rows of `basis`, by classical Gram–Schmidt twice. */
function orthogonalise(w: tf.Tensor1D, basis: tf.Tensor2D | undefined): Orthogonalised {
  const { vector, scalars } = tf.tidy(() => {
    let rest: tf.Tensor1D = w.clone();
    const parts: tf.Tensor1D[] = [];
    if (basis) {
      const rows = basis.shape[0];
      let total: tf.Tensor1D | undefined;
      for (let pass = 0; pass < 2; pass++) {
        // Row-vector forms only: transposed matMuls are slow on wasm.
        const coefficients = tf.matMul(basis, tf.reshape(rest, [-1, 1])); // [rows, 1]
        const projection = tf.matMul(tf.reshape(coefficients, [1, rows]), basis); // [1, n]
        rest = tf.sub(rest, tf.reshape(projection, [-1])) as tf.Tensor1D;
        const flat = tf.reshape(coefficients, [-1]) as tf.Tensor1D;
        total = total ? (tf.add(total, flat) as tf.Tensor1D) : flat;
      }
      parts.push(total as tf.Tensor1D);
    }
    parts.push(tf.reshape(tf.sum(tf.square(rest)), [1]));
    return { vector: rest, scalars: tf.concat(parts) };
  });
  const values = Array.from(scalars.dataSync());
  scalars.dispose();
  const squaredNorm = values.pop() as number;
  return { vector, coefficients: values, squaredNorm };
}

function appendRow(basis: tf.Tensor2D | undefined, row: tf.Tensor1D): tf.Tensor2D {
  const grown = tf.tidy(() => {
    const asRow = tf.reshape(row, [1, -1]) as tf.Tensor2D;
    return basis ? tf.concat([basis, asRow]) : asRow;
  });
  basis?.dispose();
  return grown;
}

/** Rows of `weights` ([k, rows]) times `basis` ([rows, n]): the combinations, [k, n]. */
function combineRows(weights: number[][], basis: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(tf.tensor2d(weights, undefined, 'float32'), basis));
}

function scaled(x: tf.Tensor1D, factor: number): tf.Tensor1D {
  return tf.tidy(() => tf.mul(x, factor));
}

interface RitzPairs {
  /** Singular values of B, largest first. */
  sigmas: number[];
  /** left[i][t]: component i of the left singular vector of sigmas[t]. */
  left: Matrix;
  right: Matrix;
  /** Column of `left`/`right` holding sigmas[t]. */
  order: number[];
}

function ritzPairs(columns: number[][]): RitzPairs {
  const size = columns.length;
  const projected = Matrix.zeros(size, size);
  columns.forEach((column, c) => column.forEach((value, i) => projected.set(i, c, value)));
  const svd = new SingularValueDecomposition(projected, { autoTranspose: false });
  const diagonal = svd.diagonal;
  const order = diagonal.map((_, t) => t).sort((a, b) => diagonal[b] - diagonal[a]);
  return { sigmas: order.map((t) => diagonal[t]), left: svd.leftSingularVectors, right: svd.rightSingularVectors, order };
}

export function golubKahanLanczos(op: LinearOperator, options: SpectralSolverOptions): SolverResult {
  const method = 'lanczos';
  const inputLength = elementCount(op.inputShape);
  const outputLength = elementCount(op.outputShape);
  const capacity = basisCapacity(inputLength, outputLength, options.maxBasis);
  const keepOnRestart = Math.max(1, Math.floor(capacity / 2));
  const shouldStop = options.shouldStop ?? (() => false);
  const forward = (x: tf.Tensor) => op.forward(x);
  const adjoint = (y: tf.Tensor) => op.adjoint(y);

  let inputBasis: tf.Tensor2D | undefined; // V: rows v_1..v_j
  let outputBasis: tf.Tensor2D | undefined; // U: rows u_1..u_j
  let pending: tf.Tensor1D | undefined = gaussianUnitVector(inputLength, options.seed); // v_{j+1}
  let inFlight: tf.Tensor[] = [];
  /** columns[c][i] = u_iᵀ A v_c: the columns of B. */
  let columns: number[][] = [];
  /** True while the current cycle's first pair measures the residual of a Ritz vector. */
  let checking = false;
  /** Residual measured by the last failed check. */
  let lastFailedCheck = Number.POSITIVE_INFINITY;
  let largestSeen = 0;
  let sigma = 0;
  let residual = Number.POSITIVE_INFINITY;
  let iterations = 0;

  const disposeInFlight = () => {
    tf.dispose(inFlight);
    inFlight = [];
  };
  const result = (converged: boolean): SolverResult => ({ sigma, iterations, converged, residual, method });

  /** Starts a new cycle from the top Ritz vector, whose first pair measures its residual. */
  const restartFromRitzVector = (ritz: RitzPairs) => {
    const top = ritz.order[0];
    const weights = [Array.from({ length: columns.length }, (_, c) => ritz.right.get(c, top))];
    const combined = combineRows(weights, inputBasis as tf.Tensor2D);
    const unit = tf.tidy(() => {
      const flat = tf.reshape(combined, [-1]) as tf.Tensor1D;
      return tf.mul(flat, tf.rsqrt(tf.sum(tf.square(flat)))) as tf.Tensor1D;
    });
    combined.dispose();
    tf.dispose([inputBasis, outputBasis, pending]);
    inputBasis = undefined;
    outputBasis = undefined;
    pending = unit;
    columns = [];
    checking = true;
  };

  /** Keeps the top `keepOnRestart` Ritz pairs as the new bases. */
  const thickRestart = (ritz: RitzPairs) => {
    const keep = Math.min(keepOnRestart, columns.length - 1);
    const size = columns.length;
    const rightWeights = ritz.order.slice(0, keep).map((t) => Array.from({ length: size }, (_, c) => ritz.right.get(c, t)));
    const leftWeights = ritz.order.slice(0, keep).map((t) => Array.from({ length: size }, (_, i) => ritz.left.get(i, t)));
    const newInput = combineRows(rightWeights, inputBasis as tf.Tensor2D);
    const newOutput = combineRows(leftWeights, outputBasis as tf.Tensor2D);
    tf.dispose([inputBasis, outputBasis]);
    inputBasis = newInput;
    outputBasis = newOutput;
    columns = ritz.sigmas.slice(0, keep).map((value, c) => [...new Array<number>(c).fill(0), value]);
  };

  try {
    while (iterations < options.maxIter) {
      // Output side: u_j from A v_j, orthogonalised against U; its coefficients are B's column j.
      if (shouldStop()) throw new CancelledError();
      const v = pending as tf.Tensor1D;
      pending = undefined;
      inFlight.push(v);
      const product = applyFlat(forward, v, op.inputShape, outputLength, 'forward');
      inFlight.push(product);
      iterations++;
      const outputSide = orthogonalise(product, outputBasis);
      inFlight.push(outputSide.vector);
      const rowsBefore = outputBasis?.shape[0] ?? 0;
      inputBasis = appendRow(inputBasis, v);
      const alpha = Math.sqrt(outputSide.squaredNorm);
      assertFinite(alpha, 'α (norm of A v)');
      largestSeen = Math.max(largestSeen, alpha);
      const alphaBreakdown = alpha <= BREAKDOWN_RELATIVE * largestSeen || rowsBefore >= outputLength;
      columns.push([...outputSide.coefficients, alphaBreakdown ? 0 : alpha]);

      if (alphaBreakdown) {
        // A V_j ⊂ span U_{j−1} and Aᵀ U_{j−1} ⊂ span V_j: B's singular values are exact.
        disposeInFlight();
        const ritz = ritzPairs(columns);
        sigma = ritz.sigmas[0];
        residual = 0;
        options.onIteration?.({ iterations, sigma, residual });
        if (sigma === 0) return result(true); // A maps a Gaussian vector to 0: A = 0.
        if (checking) return result(true);
        restartFromRitzVector(ritz);
        continue;
      }

      const u = scaled(outputSide.vector, 1 / alpha);
      inFlight.push(u);
      outputBasis = appendRow(outputBasis, u);

      // Input side: v_{j+1} from Aᵀ u_j, orthogonalised against V.
      if (shouldStop()) throw new CancelledError();
      const backProduct = applyFlat(adjoint, u, op.outputShape, inputLength, 'adjoint');
      inFlight.push(backProduct);
      const inputSide = orthogonalise(backProduct, inputBasis);
      inFlight.push(inputSide.vector);
      const beta = Math.sqrt(inputSide.squaredNorm);
      assertFinite(beta, 'β (norm of Aᵀ u)');

      const ritz = ritzPairs(columns);
      const size = columns.length;
      sigma = ritz.sigmas[0];
      largestSeen = Math.max(largestSeen, sigma);
      residual = Math.abs(beta * ritz.left.get(size - 1, ritz.order[0])) / sigma;
      options.onIteration?.({ iterations, sigma, residual });
      const betaBreakdown = beta <= BREAKDOWN_RELATIVE * largestSeen || size >= inputLength;

      if (checking) {
        // First pair from a Ritz vector v: σ = ||A v|| and the residual was measured, not inferred.
        checking = false;
        const atFloor = residual > CHECK_PROGRESS * lastFailedCheck;
        if (residual <= options.tol || betaBreakdown || atFloor) {
          disposeInFlight();
          return result(residual <= options.tol);
        }
        lastFailedCheck = residual;
      }
      if (residual <= options.tol || betaBreakdown) {
        disposeInFlight();
        restartFromRitzVector(ritz);
        continue;
      }
      pending = scaled(inputSide.vector, 1 / beta);
      disposeInFlight();
      if (size >= capacity) thickRestart(ritz);
    }
    return result(residual <= options.tol);
  } finally {
    tf.dispose([...inFlight, ...(inputBasis ? [inputBasis] : []), ...(outputBasis ? [outputBasis] : []), ...(pending ? [pending] : [])]);
  }
}
