// Lanczos on the Gram operator of the SHORTER side, with full reorthogonalisation and thick
// restarts: AᵀA on the input side when n ≤ m, A Aᵀ on the output side otherwise. Only that side's
// basis is kept.
//
// Why one side. In exact arithmetic Golub–Kahan–Lanczos from v₁ builds V_j spanning the Krylov
// space K_j(AᵀA, v₁), with B_jᵀB_j the Lanczos matrix T_j of AᵀA from v₁: the top Ritz value and
// vector after j product pairs are the same. The output-side basis U of GKL only matters for the
// small singular values (it avoids squaring them), never for σ1, where squaring costs nothing:
// θ = σ² from a float32 product has the same relative accuracy as σ. Keeping one basis (and only
// the shorter one) removes the other side's Gram–Schmidt, which dominated the cost per pair on
// large layers (a 64→64 3x3 conv at 56x56 spent ~24 of its ~38 ms per pair in the two sides'
// reorthogonalisation), and the memory saved buys a larger basis where one side is long (the
// 3→64 7x7 stride-2 conv at 224x224: 150k inputs, 803k outputs; its basis went from 17 to 64).
//
// The recurrence. Each pair applies G (AᵀA or AAᵀ) to the newest basis vector v_c and removes the
// projection on the whole basis twice (classical Gram–Schmidt twice: float32 rounding must not
// bring back converged directions). The coefficients are H's column c above the diagonal
// (H = VᵀGV, symmetric), the remainder's norm β_c couples v_{c+1} = remainder/β_c. H is read from
// these measured upper triangles; θ₁ is its largest eigenvalue (float64, ml-matrix), s its
// eigenvector, σ = √θ₁, and the Ritz vector y = V s satisfies
//   ||G y − θ₁ y|| / θ₁ = |β_c s_c| / θ₁   (exactly, in exact arithmetic),
// the same quantity ||AᵀA v − σ² v|| / σ² that SolverResult.residual reports.
//
// What the stop rule guarantees, and what it does not:
// - θ₁ is a Rayleigh quotient of G, so some eigenvalue σ_i² lies within r·θ₁ of it, where r is
//   the residual above; hence |σ_i − σ| ≤ r·σ. The run stops at a measured r ≤ tol/2
//   (STOP_FRACTION), which bounds the TRUE relative error by tol/2 against the σ_i this Ritz
//   value approximates (ARPACK's rule, with a margin for clusters: see STOP_FRACTION; the actual
//   error is usually far smaller, about r²·σ²/gap).
// - It does not certify that σ_i is σ1: an estimate from below never certifies the top of the
//   spectrum. A Krylov space from a Gaussian start contains the top singular vector with
//   probability one, and the largest Ritz value converges to σ1 first, but a start nearly
//   orthogonal to it, or a huge cluster, can still return a lower σ_i with a small residual.
//   A certified number needs an upper bound (src/engine/bounds).
// - In float32 the recurrence's residual can keep falling below what the arithmetic supports. So
//   when it passes tol/2, the solver restarts from the Ritz vector y: the first pair of the new
//   cycle measures ||G y − θ y|| directly (as the remainder of G y after removing y), and only
//   that measured value ends the run. A failed check is not wasted: its pair is the first step of
//   a new cycle from the Ritz vector (the thick basis is given up, which also clears the drift
//   below).
//   Why it matters: over thick restarts the float32 relation behind H drifts (the kept block is
//   assumed diagonal), so the recurrence can claim far less than the measurement shows. The
//   measured residual has a float32 floor of about 1e-7 to 1e-6 (larger operators, larger floor);
//   a tol below it ends at maxIter with converged = false. After a failed check the next one
//   waits twice as long (4, 8, 16, ... pairs), so checks cost a bounded share of the products
//   even at the floor.
// - Convolutions often have near-degenerate top singular values (pairs of frequencies): a check
//   can pass on a lower member of the cluster, or on a mix of σ1 and a lower member; the error is
//   then at most the cluster's spread (the tol/2 stop exists for this case).
// - Breakdown (a remainder that is exactly or numerically zero, ≤ 1e-10·θ_max, or a basis that
//   spans the whole side) means the Krylov space is invariant and H's eigenvalues are exact; the
//   same measured check confirms it. Float32 noise above that threshold needs no special case:
//   the tiny β makes the residual tiny and the check follows.
// - If maxIter runs out, the result carries the last Ritz value and the recurrence's residual,
//   and converged says whether that residual is within tol (it was not measured again).
//
// Memory: the basis holds at most maxBasis vectors (see basisCapacity for the default); when
// full, the top half of the Ritz pairs is kept (thick restart: V ← V S_k, H ← diag(θ_1..θ_k)) and the pending v_{c+1} continues the
// recurrence; its first column of H measures the couplings to the kept vectors.

import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { CancelledError, type LinearOperator, type SolverResult } from '../operator';
import type { SpectralSolverOptions } from './options';
import { Basis } from './basis';
import { applyFlat, assertFinite, elementCount, gaussianUnitVector } from './vectors';

const DEFAULT_MAX_BASIS = 64;
const MIN_BASIS = 4;
/**
 * The basis stays below this many float32 values, counting the four copies a full block keeps
 * (rows, columns, and the packed copy of each: see basis.ts): 2^26 floats, 256 MB.
 */
const BASIS_FLOAT_BUDGET = 2 ** 26;
const COPIES_PER_ROW = 4;
/**
 * A remainder this small relative to the largest θ = σ² seen so far is treated as zero. Far below
 * the float32 floor on purpose: a larger threshold would end runs whose tol is near that floor.
 */
const BREAKDOWN_RELATIVE = 1e-10;
/**
 * A run stops when the MEASURED residual is at most this fraction of tol. The residual bounds the
 * distance to SOME σ_i; on a near-degenerate top, the Ritz vector can mix σ1 with a lower member
 * (weights w₁, 1 − w₁), and then ||G y − θ y|| ≥ √w₁·(σ1² − θ): the error against σ1 is up to
 * r/√w₁, more than r. Measured at tol 1e-4 with a stop at r ≤ tol: ResNet-50's layers.9.conv2
 * (256→256 3x3 @14) stopped at 62 pairs, r = 8.4e-5, true error 1.06e-4 (σ1 only entered the
 * Krylov space at pair ~78); the bench's 512→512 @7 at 7.3e-5. With the stop at r ≤ tol/2 the ten
 * bench and ResNet-50 layers in scripts/bench/solver-cost.ts all ended within 1e-7 of σ1, for
 * 19 % more product pairs in all.
 */
const STOP_FRACTION = 0.5;
/** Pairs to wait after the first failed residual check; doubles after each failure. */
const FIRST_CHECK_SPACING = 4;

/**
 * Reorthogonalisation streams the basis through memory two to four times per pair (one or two
 * passes, each a projection and a combination), so on long vectors its cost grows with the basis:
 * the default basis holds about this many floats, between SMALLEST_DEFAULT_BASIS and
 * DEFAULT_MAX_BASIS rows, in whole blocks of 8. Measured (scripts/bench/solver-cost.ts) with a
 * second run of the same on the other core, as compute workers run in the product: on ResNet-50's
 * layers.3.conv2 (n = 100k, the output side) a basis of 40 took 126 pairs in 2.32–2.39 s and 24
 * took 129 in 2.21–2.22 s; on layers.9.conv2 (n = 50k) 64 took 99 pairs in 1.37–1.69 s and 40 took
 * 99 in 1.32–1.33 s; on the 64→64 3x3 @56 (n = 200k) 40: 2.37–2.51 s, 24: 2.20–2.25 s, 16:
 * 2.11–2.36 s.
 */
const DEFAULT_BASIS_FLOATS = 2 ** 21;
const SMALLEST_DEFAULT_BASIS = 24;

/** Basis size for vectors of `length` values (the shorter side of the operator). */
export function basisCapacity(length: number, maxBasis?: number): number {
  const byBudget = Math.floor(BASIS_FLOAT_BUDGET / (COPIES_PER_ROW * length));
  const bySpeed = 8 * Math.floor(Math.max(SMALLEST_DEFAULT_BASIS, Math.min(DEFAULT_MAX_BASIS, DEFAULT_BASIS_FLOATS / length)) / 8);
  const wanted = maxBasis ?? Math.min(bySpeed, byBudget);
  return Math.max(MIN_BASIS, Math.floor(wanted));
}

function scaled(x: tf.Tensor1D, factor: number): tf.Tensor1D {
  return tf.tidy(() => tf.mul(x, factor));
}

interface RitzPairs {
  /** Eigenvalues of H, largest first. */
  thetas: number[];
  /** vectors[i][t]: component i of the eigenvector of thetas[t]. */
  vectors: Matrix;
  /** Column of `vectors` holding thetas[t]. */
  order: number[];
}

/** Eigenpairs of the symmetric H whose column c holds H[0..c][c] (its upper triangle). */
function ritzPairs(columns: number[][]): RitzPairs {
  const size = columns.length;
  const projected = Matrix.zeros(size, size);
  columns.forEach((column, c) =>
    column.forEach((value, i) => {
      projected.set(i, c, value);
      projected.set(c, i, value);
    }),
  );
  const evd = new EigenvalueDecomposition(projected, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((_, t) => t).sort((a, b) => values[b] - values[a]);
  return { thetas: order.map((t) => values[t]), vectors: evd.eigenvectorMatrix, order };
}

export function golubKahanLanczos(op: LinearOperator, options: SpectralSolverOptions): SolverResult {
  const method = 'lanczos';
  const inputLength = elementCount(op.inputShape);
  const outputLength = elementCount(op.outputShape);
  // G = AᵀA on the input side, or A Aᵀ on the output side, whichever is shorter.
  const onInput = inputLength <= outputLength;
  const length = onInput ? inputLength : outputLength;
  const firstProduct = onInput
    ? (x: tf.Tensor1D) => applyFlat((t) => op.forward(t), x, op.inputShape, outputLength, 'forward')
    : (y: tf.Tensor1D) => applyFlat((t) => op.adjoint(t), y, op.outputShape, inputLength, 'adjoint');
  const secondProduct = onInput
    ? (y: tf.Tensor1D) => applyFlat((t) => op.adjoint(t), y, op.outputShape, inputLength, 'adjoint')
    : (x: tf.Tensor1D) => applyFlat((t) => op.forward(t), x, op.inputShape, outputLength, 'forward');
  const capacity = basisCapacity(length, options.maxBasis);
  const keepOnRestart = Math.max(1, Math.floor(capacity / 2));
  const shouldStop = options.shouldStop ?? (() => false);
  const target = STOP_FRACTION * options.tol;

  const basis = new Basis(); // rows v_1..v_c
  let pending: tf.Tensor1D | undefined = gaussianUnitVector(length, options.seed); // v_{c+1}
  /** v_c and β_c when the pending v_{c+1} came from a plain recurrence step (no restart since). */
  let recurrence: { vector: tf.Tensor1D; beta: number } | undefined;
  let inFlight: tf.Tensor[] = [];
  /** columns[c][i] = v_iᵀ G v_c for i ≤ c: the upper triangle of H. */
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
  const weightsOf = (ritz: RitzPairs, t: number) => Array.from({ length: columns.length }, (_, i) => ritz.vectors.get(i, ritz.order[t]));

  /** Starts a new cycle from the top Ritz vector, whose first pair measures its residual. */
  const restartFromRitzVector = (ritz: RitzPairs) => {
    const [combined] = basis.combinations([weightsOf(ritz, 0)]);
    const unit = tf.tidy(() => tf.mul(combined, tf.rsqrt(tf.sum(tf.square(combined)))) as tf.Tensor1D);
    combined.dispose();
    basis.reset();
    pending?.dispose();
    pending = unit;
    columns = [];
    checking = true;
  };

  /** Keeps the top `keepOnRestart` Ritz pairs as the new basis. */
  const thickRestart = (ritz: RitzPairs) => {
    const keep = Math.min(keepOnRestart, columns.length - 1);
    const kept = basis.combinations(Array.from({ length: keep }, (_, t) => weightsOf(ritz, t)));
    basis.reset(kept);
    tf.dispose(kept);
    columns = ritz.thetas.slice(0, keep).map((value, c) => [...new Array<number>(c).fill(0), value]);
  };

  try {
    while (iterations < options.maxIter) {
      if (shouldStop()) throw new CancelledError();
      const v = pending as tf.Tensor1D;
      pending = undefined;
      inFlight.push(v);
      const image = firstProduct(v);
      inFlight.push(image);
      if (shouldStop()) throw new CancelledError();
      const product = secondProduct(image);
      inFlight.push(product);
      iterations++;
      basis.append(v);
      // After a plain recurrence step v_{c−1}ᵀ G v_c = β_{c−1} is known (H is symmetric): the
      // local step takes it first. After a restart the new vector couples to every kept one.
      const orthogonalised = recurrence && options.localRecurrence !== false
        ? basis.orthogonaliseAfterRecurrence(product, recurrence.vector, recurrence.beta, v)
        : basis.orthogonalise(product);
      recurrence?.vector.dispose();
      recurrence = undefined;
      inFlight.push(orthogonalised.vector);
      columns.push(orthogonalised.coefficients);
      const beta = Math.sqrt(orthogonalised.squaredNorm);
      assertFinite(beta, 'β (norm of the remainder of G v)');

      const ritz = ritzPairs(columns);
      const size = columns.length;
      const theta = ritz.thetas[0];
      assertFinite(theta, 'θ (largest Ritz value)');
      sigma = Math.sqrt(Math.max(theta, 0));
      largestSeen = Math.max(largestSeen, theta);
      if (largestSeen <= 0 && beta === 0) {
        // G maps a Gaussian vector to 0: A = 0.
        sigma = 0;
        residual = 0;
        options.onIteration?.({ iterations, sigma, residual });
        disposeInFlight();
        return result(true);
      }
      residual = Math.abs(beta * ritz.vectors.get(size - 1, ritz.order[0])) / theta;
      options.onIteration?.({ iterations, sigma, residual });
      const breakdown = beta <= BREAKDOWN_RELATIVE * largestSeen || size >= length;

      if (checking) {
        // First pair from a Ritz vector y: θ = yᵀG y and the residual was measured, not inferred.
        checking = false;
        if (residual <= target || breakdown) {
          disposeInFlight();
          return result(residual <= options.tol);
        }
        lastCheckAt = iterations;
        checkSpacing = checkSpacing === 0 ? FIRST_CHECK_SPACING : 2 * checkSpacing;
      }
      const checkDue = iterations - lastCheckAt >= checkSpacing;
      if ((residual <= target && checkDue) || breakdown) {
        disposeInFlight();
        restartFromRitzVector(ritz);
        continue;
      }
      pending = scaled(orthogonalised.vector, 1 / beta);
      if (size >= capacity) {
        disposeInFlight();
        thickRestart(ritz);
      } else {
        recurrence = { vector: tf.clone(v), beta };
        disposeInFlight();
      }
    }
    return result(residual <= options.tol);
  } finally {
    tf.dispose([...inFlight, ...(pending ? [pending] : []), ...(recurrence ? [recurrence.vector] : [])]);
    basis.dispose();
  }
}
