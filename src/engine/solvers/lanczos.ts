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
//   run. A failed check is not wasted: its pair is the first step of a new cycle from the Ritz
//   vector (the thick basis is given up, which also clears the drift below).
//   Why it matters: over thick restarts the float32 relation A V = U B drifts (by a few 1e-6
//   relative after 300 pairs on a random 64→64 conv at 28x28), so the recurrence can claim 2e-8
//   where the measurement says 5e-6. The measured residual has a float32 floor of about 1e-7 to
//   1e-6 (larger operators, larger floor); a tol below it ends at maxIter with converged = false.
//   After a failed check the next one waits twice as long (4, 8, 16, ... pairs), so checks
//   cost a bounded share of the products even at the floor.
// - Convolutions often have near-degenerate top singular values (pairs of frequencies): a check
//   can pass on a lower member of the cluster; the error is then at most the cluster's spread,
//   measured at 3e-6 relative on a random 64→64 conv at 28x28.
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
import { Basis } from './basis';
import { applyFlat, assertFinite, elementCount, gaussianUnitVector } from './vectors';

const DEFAULT_MAX_BASIS = 64;
const MIN_BASIS = 4;
/**
 * Both bases together stay below this many float32 values, counting the four copies a full block
 * keeps (rows, columns, and the packed copy of each: see basis.ts): 2^26 floats, 256 MB.
 */
const BASIS_FLOAT_BUDGET = 2 ** 26;
const COPIES_PER_ROW = 4;
/**
 * A new direction this small relative to the largest σ seen so far is treated as zero. Far below
 * the float32 floor on purpose: a larger threshold would end runs whose tol is near that floor.
 */
const BREAKDOWN_RELATIVE = 1e-10;
/** Pairs to wait after the first failed residual check; doubles after each failure. */
const FIRST_CHECK_SPACING = 4;

export function basisCapacity(inputLength: number, outputLength: number, maxBasis?: number): number {
  const byBudget = Math.floor(BASIS_FLOAT_BUDGET / (COPIES_PER_ROW * (inputLength + outputLength)));
  const wanted = maxBasis ?? Math.min(DEFAULT_MAX_BASIS, byBudget);
  return Math.max(MIN_BASIS, Math.floor(wanted));
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

  const inputBasis = new Basis(); // V: rows v_1..v_j
  const outputBasis = new Basis(); // U: rows u_1..u_j
  let pending: tf.Tensor1D | undefined = gaussianUnitVector(inputLength, options.seed); // v_{j+1}
  let inFlight: tf.Tensor[] = [];
  /** columns[c][i] = u_iᵀ A v_c: the columns of B. */
  let columns: number[][] = [];
  /** True while the current cycle's first pair measures the residual of a Ritz vector. */
  let checking = false;
  let checkSpacing = 0;
  let lastCheckAt = Number.NEGATIVE_INFINITY;
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
    const [combined] = inputBasis.combinations([Array.from({ length: columns.length }, (_, c) => ritz.right.get(c, top))]);
    const unit = tf.tidy(() => tf.mul(combined, tf.rsqrt(tf.sum(tf.square(combined)))) as tf.Tensor1D);
    combined.dispose();
    inputBasis.reset();
    outputBasis.reset();
    pending?.dispose();
    pending = unit;
    columns = [];
    checking = true;
  };

  /** Keeps the top `keepOnRestart` Ritz pairs as the new bases. */
  const thickRestart = (ritz: RitzPairs) => {
    const keep = Math.min(keepOnRestart, columns.length - 1);
    const size = columns.length;
    const kept = ritz.order.slice(0, keep);
    const newInput = inputBasis.combinations(kept.map((t) => Array.from({ length: size }, (_, c) => ritz.right.get(c, t))));
    const newOutput = outputBasis.combinations(kept.map((t) => Array.from({ length: size }, (_, i) => ritz.left.get(i, t))));
    inputBasis.reset(newInput);
    outputBasis.reset(newOutput);
    tf.dispose([...newInput, ...newOutput]);
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
      const outputSide = outputBasis.orthogonalise(product);
      inFlight.push(outputSide.vector);
      const rowsBefore = outputBasis.rows;
      inputBasis.append(v);
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
      outputBasis.append(u);

      // Input side: v_{j+1} from Aᵀ u_j, orthogonalised against V.
      if (shouldStop()) throw new CancelledError();
      const backProduct = applyFlat(adjoint, u, op.outputShape, inputLength, 'adjoint');
      inFlight.push(backProduct);
      const inputSide = inputBasis.orthogonalise(backProduct);
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
        if (residual <= options.tol || betaBreakdown) {
          disposeInFlight();
          return result(residual <= options.tol);
        }
        lastCheckAt = iterations;
        checkSpacing = checkSpacing === 0 ? FIRST_CHECK_SPACING : 2 * checkSpacing;
      }
      const checkDue = iterations - lastCheckAt >= checkSpacing;
      if ((residual <= options.tol && checkDue) || betaBreakdown) {
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
    tf.dispose([...inFlight, ...(pending ? [pending] : [])]);
    inputBasis.dispose();
    outputBasis.dispose();
  }
}
