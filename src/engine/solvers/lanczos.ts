// Lanczos on the Gram operator of the SHORTER side (AᵀA on the input side when n ≤ m, A Aᵀ on the
// output side otherwise), by the plain three-term recurrence: no reorthogonalisation.
//
// Why one side. In exact arithmetic Golub–Kahan–Lanczos from v₁ builds V_j spanning the Krylov
// space K_j(AᵀA, v₁), with B_jᵀB_j the Lanczos matrix T_j of AᵀA from v₁: the top Ritz value and
// vector after j product pairs are the same. The output-side basis U of GKL only matters for the
// small singular values (it avoids squaring them), never for σ1, where squaring costs nothing:
// θ = σ² from a float32 product has the same relative accuracy as σ.
//
// Why no reorthogonalisation. In floating point the Lanczos vectors lose orthogonality, but only
// along Ritz vectors that have converged (Paige): G V_k = V_k T_k + β_k v_{k+1} e_kᵀ + F_k holds with
// ||F_k|| of the order of the products' rounding whatever the orthogonality, so a Ritz value of
// T_k with a small β_k|s_k| is close to an eigenvalue of G, and the lost orthogonality shows only as
// later copies ("ghosts") of converged values, which do not move the top one. In float32 that loss
// starts when the top Ritz value's residual nears √ε ≈ 2.4e-4, about where a run at tol 1e-4 stops.
// Measured on ResNet-50's 17 3x3 and 7x7 layers (one thread): full Gram–Schmidt against a
// thick-restarted basis (this solver's previous form) took 1,532 product pairs in 26.1 s, the plain
// recurrence 1,541 pairs in 18.2 s (1,510 with room for every vector), with the same errors. On
// vectors of 200k values the reorthogonalisation had cost 5.6 ms per pair (the basis streamed from
// memory after every conv); the recurrence costs 1.8 ms.
//
// Accuracy of the recurrence. α_k = v_kᵀ(G v_k − β_{k−1} v_{k−1}) and β_k = ||remainder|| are read
// back from two-level sums (vectors.ts): wasm's one-loop float32 sum is off by 5e-5 on ||x||² of
// 200k values, which would shift every β, and θ with them, by as much as the stop allows.
//
// The stop rule. θ₁ is the largest eigenvalue of the tridiagonal T_k (float64, tridiagonal.ts), s
// its unit eigenvector, σ = √θ₁, and the recurrence's residual for the Ritz vector y = V_k s is
// r = |β_k s_k| / θ₁ (the quantity ||AᵀA v − σ² v|| / σ² that SolverResult.residual reports).
// - θ₁ is (up to F_k) a Rayleigh quotient of G, so some eigenvalue σ_i² lies within r·θ₁ of it:
//   |σ_i − σ| ≤ r·σ. The run ends at a MEASURED r ≤ tol/2 (STOP_FRACTION): once the recurrence's
//   r passes tol/2, y is formed from the kept vectors and one more product pair measures
//   ||G y − ρ y|| / ρ with ρ = yᵀ G y; only that measured value ends the run, with σ = √ρ. A failed
//   check is not a restart: the recurrence goes on, and the next check waits twice as long (4, 8,
//   16, ... pairs), so checks cost a bounded share of the products even at the float32 floor
//   (about 1e-7 to 1e-6: a tol below it ends at maxIter with converged = false).
// - It does not certify that σ_i is σ1: an estimate from below never certifies the top of the
//   spectrum. A Krylov space from a Gaussian start contains the top singular vector with
//   probability one, and the largest Ritz value converges to σ1 first, but a start nearly
//   orthogonal to it, or a huge cluster, can still return a lower σ_i with a small residual.
//   A certified number needs an upper bound (src/engine/bounds).
// - Convolutions often have near-degenerate top singular values: a check can pass on a lower
//   member of the cluster, or on a mix of σ1 and a lower member; the error is then at most the
//   cluster's spread (the tol/2 stop exists for this case: see STOP_FRACTION).
// - Breakdown (a remainder ≤ 1e-10·θ_max, or as many vectors as the side has entries) means the
//   Krylov space is invariant or exhausted: the same measured check ends the run.
// - If maxIter runs out, the result carries the last Ritz value and the recurrence's residual,
//   and converged says whether that residual is within tol.
//
// Memory: the Lanczos vectors are kept (one copy each) only to form the Ritz vector, at most
// basisCapacity(length) of them. When that many are kept the run restarts from the Ritz vector
// (an explicit restart, whose first pair is also the check), or, when fewer than
// THICK_RESTART_BELOW fit, goes on as thick-restart Lanczos from the top Ritz vectors
// (thick-restart.ts; measured on a 1024→256 3x3 layer at 64², 16 vectors: 48 pairs against 81).

import * as tf from '@tensorflow/tfjs-core';
import { CancelledError, type LinearOperator, type SolverResult } from '../operator';
import type { SpectralSolverOptions } from './options';
import { gramSide, startVector } from './gram-side';
import { THICK_RESTART_BELOW, thickRestartLanczos } from './thick-restart';
import { topEigenpair } from './tridiagonal';
import { accurateDot, accurateSum, assertFinite } from './vectors';

/**
 * The kept Lanczos vectors hold at most this many float32 values (64 MB): 83 vectors of 200k
 * values, 111 of 150k, maxIter's 300 from 56k values down. ResNet-50's 64-channel 3x3 layers at
 * 56x56 run 96–142 pairs, so those restart once, for 4–15 more pairs (1,541 against 1,510 over its
 * 17 3x3 and 7x7 layers, no slower in time); twice the budget raised the peak RSS with two compute
 * workers from 876–902 MiB to 972 MiB (the wasm heap keeps its largest size).
 */
const BASIS_FLOAT_BUDGET = 2 ** 24;
const MIN_BASIS = 4;
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
 * Krylov space at pair ~78); the bench's 512→512 @7 at 7.3e-5. With the stop at r ≤ tol/2 every
 * bench and ResNet-50 layer ended within 4e-6 of σ1.
 */
const STOP_FRACTION = 0.5;
/** Pairs to wait after the first failed residual check; doubles after each failure. */
const FIRST_CHECK_SPACING = 4;

/** Most Lanczos vectors kept for vectors of `length` values (see BASIS_FLOAT_BUDGET); maxBasis wins. */
export function basisCapacity(length: number, maxBasis?: number): number {
  return Math.max(MIN_BASIS, Math.floor(maxBasis ?? BASIS_FLOAT_BUDGET / length));
}

/** One run of the recurrence from a unit start: v_1..v_k kept, T_k's entries, and v_{k+1}. */
class Cycle {
  readonly vectors: tf.Tensor1D[] = [];
  readonly alphas: number[] = [];
  /** β_1..β_{k−1}: T_k's off-diagonal (β_k, the coupling to `next`, is pushed with it). */
  readonly betas: number[] = [];
  next: tf.Tensor1D | undefined;

  constructor(start: tf.Tensor1D) {
    this.next = start;
  }

  get size(): number {
    return this.vectors.length;
  }

  /**
   * The Ritz vector Σ s_i v_i, normalised (a new tensor). Sums in groups of 8: the kept vectors
   * are read once each.
   */
  ritzVector(weights: Float64Array): tf.Tensor1D {
    return tf.tidy(() => {
      let sum = tf.mul(this.vectors[0], weights[0]) as tf.Tensor1D;
      for (let start = 1; start < this.vectors.length; start += 8) {
        const group = this.vectors.slice(start, start + 8).map((v, i) => tf.mul(v, weights[start + i]));
        sum = tf.addN([sum, ...group]) as tf.Tensor1D;
      }
      return tf.mul(sum, tf.rsqrt(accurateSum(tf.square(sum)))) as tf.Tensor1D;
    });
  }

  dispose(): void {
    tf.dispose(this.vectors);
    this.vectors.length = 0;
    this.next?.dispose();
    this.next = undefined;
  }
}

export function gramLanczos(op: LinearOperator, options: SpectralSolverOptions): SolverResult {
  const method = 'lanczos';
  const side = gramSide(op);
  const length = side.length;
  const firstProduct = side.first;
  const secondProduct = side.second;
  const capacity = basisCapacity(length, options.maxBasis);
  const shouldStop = options.shouldStop ?? (() => false);
  const target = STOP_FRACTION * options.tol;

  let sigma = 0;
  let residual = Number.POSITIVE_INFINITY;
  let iterations = 0;
  let largestSeen = 0;
  let checkSpacing = 0;
  let lastCheckAt = Number.NEGATIVE_INFINITY;
  const result = (converged: boolean): SolverResult => ({ sigma, iterations, converged, residual, method });

  /**
   * One product pair: G v_k, then α_k and the remainder w = G v_k − α_k v_k − β_{k−1} v_{k−1}.
   * Appends v_k and α_k; returns β_k = ||w|| and w (caller owns it). Throws CancelledError between
   * the two products.
   */
  const step = (cycle: Cycle): { beta: number; remainder: tf.Tensor1D } => {
    if (shouldStop()) throw new CancelledError();
    const v = cycle.next as tf.Tensor1D;
    const image = firstProduct(v);
    let product: tf.Tensor1D;
    try {
      if (shouldStop()) throw new CancelledError();
      product = secondProduct(image);
    } finally {
      image.dispose();
    }
    iterations++;
    const k = cycle.size;
    const previous = k > 0 ? { vector: cycle.vectors[k - 1], beta: cycle.betas[k - 1] } : undefined;
    const { remainder, scalars } = tf.tidy(() => {
      const shifted = previous ? tf.sub(product, tf.mul(previous.vector, previous.beta)) as tf.Tensor1D : product;
      const alpha = accurateDot(shifted, v);
      const rest = tf.sub(shifted, tf.mul(v, alpha)) as tf.Tensor1D;
      return { remainder: rest, scalars: tf.stack([alpha, accurateSum(tf.square(rest))]) };
    });
    product.dispose();
    const [alpha, restSquared] = Array.from(scalars.dataSync());
    scalars.dispose();
    cycle.vectors.push(v);
    cycle.next = undefined;
    cycle.alphas.push(alpha);
    const beta = Math.sqrt(Math.max(restSquared, 0));
    if (!Number.isFinite(alpha) || !Number.isFinite(beta)) remainder.dispose();
    assertFinite(alpha, 'α (Rayleigh quotient of a Lanczos vector)');
    assertFinite(beta, 'β (norm of the remainder of G v)');
    return { beta, remainder };
  };

  /** Makes w/β the cycle's next vector, with β as T's next off-diagonal entry. */
  const advance = (cycle: Cycle, beta: number, remainder: tf.Tensor1D) => {
    cycle.betas.push(beta);
    cycle.next = tf.tidy(() => tf.mul(remainder, 1 / beta) as tf.Tensor1D);
    remainder.dispose();
  };

  let cycle = new Cycle(startVector(length, options.seed, options.start));
  let check: Cycle | undefined;
  try {
    while (iterations < options.maxIter) {
      const { beta, remainder } = step(cycle);
      const top = topEigenpair(cycle.alphas, cycle.betas);
      const theta = top.value;
      assertFinite(theta, 'θ (largest Ritz value)');
      largestSeen = Math.max(largestSeen, theta);
      if (largestSeen <= 0 && beta === 0) {
        // G maps a Gaussian vector to 0: A = 0.
        remainder.dispose();
        sigma = 0;
        residual = 0;
        options.onIteration?.({ iterations, sigma, residual });
        return result(true);
      }
      sigma = Math.sqrt(Math.max(theta, 0));
      residual = Math.abs(beta * top.vector[top.vector.length - 1]) / theta;
      options.onIteration?.({ iterations, sigma, residual });
      const breakdown = beta <= BREAKDOWN_RELATIVE * largestSeen || cycle.size >= length;
      const full = cycle.size >= capacity;
      const checkDue = residual <= target && iterations - lastCheckAt >= checkSpacing;
      // After a breakdown there is no next vector (w/β would be noise); the check below ends the run.
      if (breakdown) remainder.dispose();
      else advance(cycle, beta, remainder);
      if (!(checkDue || breakdown || full) || iterations >= options.maxIter) continue;

      // Measure the Ritz vector's residual: the first step of a new cycle from y gives ρ = yᵀG y
      // (its α) and ||G y − ρ y|| (its β).
      check = new Cycle(cycle.ritzVector(top.vector));
      const measured = step(check);
      const rho = check.alphas[0];
      sigma = Math.sqrt(Math.max(rho, 0));
      residual = rho > 0 ? measured.beta / rho : Number.POSITIVE_INFINITY;
      options.onIteration?.({ iterations, sigma, residual });
      if (residual <= target || breakdown) {
        measured.remainder.dispose();
        return result(residual <= options.tol);
      }
      lastCheckAt = iterations;
      checkSpacing = checkSpacing === 0 ? FIRST_CHECK_SPACING : 2 * checkSpacing;
      if (full && capacity < THICK_RESTART_BELOW && measured.beta > 0) {
        // A long side with a small basis: go on as thick-restart Lanczos (thick-restart.ts) from y,
        // whose product the check has measured: H starts as ρ bordered by ||G y − ρ y||.
        const y = check.vectors.pop() as tf.Tensor1D;
        const next = tf.tidy(() => tf.mul(measured.remainder, 1 / measured.beta) as tf.Tensor1D);
        measured.remainder.dispose();
        check.dispose();
        check = undefined;
        cycle.dispose();
        return thickRestartLanczos(op, options, capacity, { basis: [y, next], values: [rho], couplings: [measured.beta] }, { iterations, largestSeen, checkSpacing, lastCheckAt });
      }
      if (full) {
        // No room for more vectors: go on from y, whose first step is already taken.
        cycle.dispose();
        cycle = check;
        advance(cycle, measured.beta, measured.remainder);
      } else {
        measured.remainder.dispose();
        check.dispose();
      }
      check = undefined;
    }
    return result(residual <= options.tol);
  } finally {
    cycle.dispose();
    check?.dispose();
  }
}
