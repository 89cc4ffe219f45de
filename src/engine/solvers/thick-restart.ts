// Thick-restart Lanczos (Wu & Simon, SIAM J. Matrix Anal. Appl. 22, 2000; the symmetric case of
// Stewart's Krylov–Schur) on the Gram operator, for sides so long that only a few Lanczos vectors
// fit the basis budget (basisCapacity in lanczos.ts): a 256-channel map at 64² has a million values,
// room for 16 vectors.
//
// Why not the plain recurrence there. Restarting from the single Ritz vector when the basis is full
// throws away everything the Krylov space knew about the rest of the top cluster; at 64²–128² the
// top of a conv's spectrum is a dense cluster (λ1 − λ2 = O(1/n²)), so a run that restarts every 16
// pairs converges like a 16-step method. Keeping the top Ritz vectors across the restart keeps that
// knowledge (docs/math.md#thick-restart-lanczos). A run starts with lanczos.ts's plain recurrence,
// which needs no reorthogonalisation; only a run that fills a basis of fewer than
// THICK_RESTART_BELOW vectors continues here, from that basis's Ritz vector y and the measured step
// G y = ρ y + β v. Such runs are the long ones, where this path's extra vector work is a small share
// of the products. Only y is carried over: the plain basis is orthogonal only up to rounding, and
// Ritz values taken from it were off by 1e-4 relative on a 1024→256 layer at 64² (V's loss of
// orthogonality there was 5e-5), more than the stop allows; an H that claims more than G gives
// residual estimates the measured check then keeps refusing.
//
// The method. V = [v_1 … v_k] orthonormal, H = VᵀGV (k × k), which in exact arithmetic is
// tridiagonal after a bordered diagonal block (the arrowhead a restart leaves). Each pair computes
// w = G v_k, subtracts the couplings H knows and α_k = v_kᵀw, then one classical Gram–Schmidt pass
// against ALL of V for what rounding left (its coefficient on v_k corrects α_k), β = ||w||,
// v_{k+1} = w/β.
// Full reorthogonalisation costs 4·k·length flops per pair, nothing next to a conv pair on these
// sides (a 64-channel 3x3 pair at 128² is 2.4 GFLOP; 16 vectors of 1M values 64 MFLOP). With V
// orthonormal, the Ritz pairs (θ_i, V s_i) of H satisfy ||G V s_i − θ_i V s_i|| = β|s_i[k]|: that is
// the residual estimate, checked by a measured pair exactly as in lanczos.ts.
// When k reaches the capacity, the top p Ritz vectors y_i = V s_i become the new basis, followed by
// v_{k+1}; H restarts as diag(θ_1 … θ_p) bordered by the couplings b_i = β s_i[k] (G y_i = θ_i y_i +
// b_i v_{k+1}). The next column of H is then measured, not assumed, by the Gram–Schmidt pass.
//
// Memory: k ≤ capacity kept vectors, plus p new ones while a restart forms them.

import * as tf from '@tensorflow/tfjs-core';
import { CancelledError, type LinearOperator, type SolverResult } from '../operator';
import { gramSide } from './gram-side';
import type { SpectralSolverOptions } from './options';
import { symmetricEigensystem } from './symmetric-eigen';
import { accurateDot, accurateSum, assertFinite } from './vectors';

/** A run whose basis holds fewer vectors than this thick-restarts when it fills (lanczos.ts). */
export const THICK_RESTART_BELOW = 48;
/** As in lanczos.ts: the measured residual that ends a run is at most this fraction of tol. */
const STOP_FRACTION = 0.5;
const FIRST_CHECK_SPACING = 4;
const BREAKDOWN_RELATIVE = 1e-10;

/** Σ weights[i]·vectors[i] as a new tensor, skipping zero weights, reading the vectors in groups of 8. */
function combine(vectors: readonly tf.Tensor1D[], weights: ArrayLike<number>): tf.Tensor1D {
  return tf.tidy(() => {
    const terms = vectors.flatMap((v, i) => (weights[i] !== 0 ? [{ v, w: weights[i] }] : []));
    if (terms.length === 0) return tf.zerosLike(vectors[0]);
    let sum = tf.mul(terms[0].v, terms[0].w) as tf.Tensor1D;
    for (let start = 1; start < terms.length; start += 8) {
      sum = tf.addN([sum, ...terms.slice(start, start + 8).map(({ v, w }) => tf.mul(v, w))]) as tf.Tensor1D;
    }
    return sum;
  });
}

/**
 * The remainder of w = G v_k against the whole basis, in two passes: first the couplings H already
 * knows (v_kᵀw, measured, and the column's known entries: β_{k−1} to v_{k−1}, or the restart's
 * b_i), which carry nearly all of w; then one classical Gram–Schmidt pass against every kept vector
 * for what rounding left. Returns the new w (the old one is disposed) and column k of H: the known
 * couplings and the corrected α_k.
 */
function orthogonalise(basis: readonly tf.Tensor1D[], w: tf.Tensor1D, known: Float64Array): { rest: tf.Tensor1D; coefficients: Float64Array } {
  const k = basis.length;
  const alphaTensor = tf.tidy(() => accurateDot(basis[k - 1], w));
  const alpha = alphaTensor.dataSync()[0];
  alphaTensor.dispose();
  assertFinite(alpha, 'α (Rayleigh quotient of a Lanczos vector)');
  const couplings = Float64Array.from(known.subarray(0, k));
  couplings[k - 1] = alpha;
  const first = combine(basis, couplings);
  let rest = tf.sub(w, first) as tf.Tensor1D;
  first.dispose();
  w.dispose();
  const dots = tf.tidy(() => tf.stack(basis.map((v) => accurateDot(v, rest))));
  const corrections = dots.dataSync();
  dots.dispose();
  corrections.forEach((value) => assertFinite(value, 'a Gram–Schmidt coefficient'));
  const second = combine(basis, corrections);
  const next = tf.sub(rest, second) as tf.Tensor1D;
  second.dispose();
  rest.dispose();
  rest = next;
  // Only the diagonal takes the correction. The other corrections are what the float32 products
  // leave of G's symmetry (measured: 1e-4 of θ between a converged Ritz vector and later vectors on
  // a 1024→256 layer), not couplings of G: written into H they made its Ritz values promise
  // residuals the measured check then refused, for 300 pairs where the structured H needs 48.
  couplings[k - 1] += corrections[k - 1];
  return { rest, coefficients: couplings };
}

function norm(x: tf.Tensor1D): number {
  const sum = tf.tidy(() => accurateSum(tf.square(x)));
  const value = Math.sqrt(Math.max(sum.dataSync()[0], 0));
  sum.dispose();
  return value;
}

/** A restarted basis: orthonormal vectors y_1 … y_p, v (the next Lanczos vector), and H's entries. */
export interface ThickStart {
  /** y_1 … y_p, then v; owned by the run from here on. */
  basis: tf.Tensor1D[];
  /** Ritz values θ_1 … θ_p (H's diagonal for the y_i). */
  values: number[];
  /** b_i = y_iᵀ G v. */
  couplings: number[];
}

/** Where a run stands when it enters this path. */
export interface RunState {
  iterations: number;
  largestSeen: number;
  checkSpacing: number;
  lastCheckAt: number;
}

/**
 * The thick-restart basis from the kept vectors V (orthonormal to rounding: every vector here was
 * orthogonalised against all the others), the eigensystem of their H (`vectors`: column i of a k × k
 * row-major array), the next Lanczos vector and β: the top `count` Ritz vectors y_i = V s_i and their
 * couplings b_i = β·s_i[k]. Takes ownership of `next`; V stays the caller's.
 */
function thickStart(basis: readonly tf.Tensor1D[], values: ArrayLike<number>, vectors: ArrayLike<number>, count: number, next: tf.Tensor1D, beta: number): ThickStart {
  const k = basis.length;
  const p = Math.min(count, k);
  const ritz: tf.Tensor1D[] = [];
  try {
    for (let i = 0; i < p; i++) ritz.push(combine(basis, Float64Array.from({ length: k }, (_, r) => vectors[r * k + i])));
  } catch (error) {
    tf.dispose(ritz);
    next.dispose();
    throw error;
  }
  return {
    basis: [...ritz, next],
    values: Array.from({ length: p }, (_, i) => values[i]),
    couplings: Array.from({ length: p }, (_, i) => beta * vectors[(k - 1) * k + i]),
  };
}

/** The number of Ritz vectors a thick restart keeps from a full basis of `capacity` vectors. */
const keptAtRestart = (capacity: number) => Math.max(1, Math.floor(capacity / 3));

/**
 * Continues a run from a thick-restart basis (see the header). `start` is owned from here on and
 * freed whatever happens; `state` says how many pairs the run has already spent.
 */
export function thickRestartLanczos(op: LinearOperator, options: SpectralSolverOptions, capacity: number, start: ThickStart, state: RunState): SolverResult {
  const method = 'lanczos';
  const side = gramSide(op);
  const kept = keptAtRestart(capacity);
  const shouldStop = options.shouldStop ?? (() => false);
  const target = STOP_FRACTION * options.tol;

  let sigma = 0;
  let residual = Number.POSITIVE_INFINITY;
  let { iterations, largestSeen, checkSpacing, lastCheckAt } = state;
  const result = (converged: boolean): SolverResult => ({ sigma, iterations, converged, residual, method });

  /** G x as a new tensor; one product pair. */
  const gram = (x: tf.Tensor1D): tf.Tensor1D => {
    if (shouldStop()) throw new CancelledError();
    const image = side.first(x);
    try {
      if (shouldStop()) throw new CancelledError();
      return side.second(image);
    } finally {
      image.dispose();
      iterations++;
    }
  };

  let basis = start.basis;
  // H = VᵀGV, row-major in a capacity × capacity array; column k is filled when v_k's product is known.
  let projected = new Float64Array(capacity * capacity);
  const restartFrom = (restart: ThickStart) => {
    basis = restart.basis;
    projected = new Float64Array(capacity * capacity);
    const p = restart.values.length;
    restart.values.forEach((value, i) => {
      projected[i * capacity + i] = value;
      projected[i * capacity + p] = restart.couplings[i];
      projected[p * capacity + i] = restart.couplings[i];
    });
  };
  restartFrom(start);
  try {
    while (iterations < options.maxIter) {
      const k = basis.length; // v_k is basis[k − 1], its product not yet known
      const product = gram(basis[k - 1]);
      const column = Float64Array.from({ length: k }, (_, i) => projected[i * capacity + (k - 1)]);
      const { rest, coefficients } = orthogonalise(basis, product, column);
      for (let i = 0; i < k; i++) {
        projected[i * capacity + (k - 1)] = coefficients[i];
        projected[(k - 1) * capacity + i] = coefficients[i];
      }
      const beta = norm(rest);
      assertFinite(beta, 'β (norm of the remainder of G v)');
      const square = new Float64Array(k * k);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) square[i * k + j] = projected[i * capacity + j];
      const { values, vectors } = symmetricEigensystem(square, k);
      const theta = values[0];
      assertFinite(theta, 'θ (largest Ritz value)');
      largestSeen = Math.max(largestSeen, theta);
      const top = Float64Array.from({ length: k }, (_, r) => vectors[r * k]);
      sigma = Math.sqrt(Math.max(theta, 0));
      residual = theta > 0 ? Math.abs(beta * top[k - 1]) / theta : Number.POSITIVE_INFINITY;
      options.onIteration?.({ iterations, sigma, residual });
      const breakdown = beta <= BREAKDOWN_RELATIVE * largestSeen || k >= side.length;
      const checkDue = residual <= target && iterations - lastCheckAt >= checkSpacing;

      if ((checkDue || breakdown) && iterations < options.maxIter) {
        // Measure the Ritz vector's residual with one more pair: ρ = yᵀG y and ||G y − ρ y|| / ρ.
        const y = tf.tidy(() => {
          const sum = combine(basis, top);
          return tf.mul(sum, tf.rsqrt(accurateSum(tf.square(sum)))) as tf.Tensor1D;
        });
        try {
          const image = gram(y);
          const rho = tf.tidy(() => accurateDot(y, image));
          const rhoValue = rho.dataSync()[0];
          const gap = tf.tidy(() => tf.sub(image, tf.mul(y, rho)) as tf.Tensor1D);
          rho.dispose();
          image.dispose();
          const measured = norm(gap);
          gap.dispose();
          assertFinite(rhoValue, 'ρ (Rayleigh quotient of the Ritz vector)');
          sigma = Math.sqrt(Math.max(rhoValue, 0));
          residual = rhoValue > 0 ? measured / rhoValue : Number.POSITIVE_INFINITY;
          options.onIteration?.({ iterations, sigma, residual });
        } catch (error) {
          rest.dispose();
          throw error;
        } finally {
          y.dispose();
        }
        if (residual <= target || breakdown) {
          rest.dispose();
          return result(residual <= options.tol);
        }
        lastCheckAt = iterations;
        checkSpacing = checkSpacing === 0 ? FIRST_CHECK_SPACING : 2 * checkSpacing;
      }
      if (breakdown) {
        rest.dispose();
        return result(residual <= options.tol);
      }
      const next = tf.tidy(() => tf.mul(rest, 1 / beta) as tf.Tensor1D);
      rest.dispose();
      if (k < capacity) {
        basis.push(next);
        projected[(k - 1) * capacity + k] = beta;
        projected[k * capacity + (k - 1)] = beta;
        continue;
      }
      const old = basis;
      basis = [];
      try {
        restartFrom(thickStart(old, values, vectors, kept, next, beta));
      } finally {
        tf.dispose(old);
      }
    }
    return result(residual <= options.tol);
  } finally {
    tf.dispose(basis);
  }
}
