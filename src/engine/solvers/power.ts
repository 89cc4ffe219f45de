// Power iteration on AᵀA, the baseline: x ← AᵀA x / ||AᵀA x||, σ ≈ ||A x||.
//
// Stop rule: the explicit residual r = ||AᵀA x − σ² x|| / σ² at the current unit x, computed
// from the product just taken (no extra products). Since σ² = xᵀAᵀA x is a Rayleigh quotient,
// some eigenvalue λ = σ_j² of AᵀA has |λ − σ²| ≤ r·σ², hence |σ_j − σ| ≤ r·σ: stopping at r ≤ tol
// bounds the TRUE relative error by tol, for whichever σ_j the iterate has converged towards.
// What it does not guarantee: that σ_j is σ1. A start vector (nearly) orthogonal to the top
// singular vector converges to a lower σ_j with a small residual; no estimate from below
// certifies the top of the spectrum. The Gaussian start makes that unlikely, not impossible.
// The rule is conservative: the actual error is about r²/gap, so power iteration takes roughly
// twice the products an oracle stop would; a relative-change stop is cheaper but not a bound
// (docs/measured-facts.md#convergence-power-iteration-against-lanczos: at 1e-4 it left 0.5 % error
// on a random conv layer).

import * as tf from '@tensorflow/tfjs-core';
import { CancelledError, type LinearOperator, type SolverResult } from '../operator';
import type { SpectralSolverOptions } from './options';
import { accurateSum, applyFlat, assertFinite, elementCount, gaussianUnitVector } from './vectors';

export function powerIteration(op: LinearOperator, options: SpectralSolverOptions): SolverResult {
  const inputLength = elementCount(op.inputShape);
  const outputLength = elementCount(op.outputShape);
  const shouldStop = options.shouldStop ?? (() => false);
  const forward = (x: tf.Tensor) => op.forward(x);
  const adjoint = (y: tf.Tensor) => op.adjoint(y);

  let x: tf.Tensor1D = gaussianUnitVector(inputLength, options.seed);
  let y: tf.Tensor1D | undefined;
  let z: tf.Tensor1D | undefined;
  let sigma = 0;
  let residual = Number.POSITIVE_INFINITY;
  let iterations = 0;
  try {
    while (iterations < options.maxIter) {
      if (shouldStop()) throw new CancelledError();
      y = applyFlat(forward, x, op.inputShape, outputLength, 'forward');
      if (shouldStop()) throw new CancelledError();
      z = applyFlat(adjoint, y, op.outputShape, inputLength, 'adjoint');
      iterations++;

      const currentY = y;
      const sigmaSquaredTensor = tf.tidy(() => accurateSum(tf.square(currentY)));
      const sigmaSquared = sigmaSquaredTensor.dataSync()[0];
      sigmaSquaredTensor.dispose();
      y.dispose();
      y = undefined;
      assertFinite(sigmaSquared, '||A x||²');
      if (sigmaSquared === 0) {
        // A random x in the null space has probability zero unless A = 0: σ = 0 exactly.
        return { sigma: 0, iterations, converged: true, residual: 0, method: 'power' };
      }
      sigma = Math.sqrt(sigmaSquared);

      // One read-back for both the residual and the next normalisation.
      const currentX = x;
      const currentZ = z;
      const sums = tf.tidy(() =>
        tf.stack([
          accurateSum(tf.square(tf.sub(currentZ, tf.mul(currentX, sigmaSquared)))),
          accurateSum(tf.square(currentZ)),
        ]),
      );
      const [residualSquared, zSquared] = sums.dataSync();
      sums.dispose();
      assertFinite(zSquared, '||AᵀA x||²');
      residual = Math.sqrt(residualSquared) / sigmaSquared;
      options.onIteration?.({ iterations, sigma, residual });
      if (residual <= options.tol) {
        return { sigma, iterations, converged: true, residual, method: 'power' };
      }

      const next = tf.tidy(() => tf.mul(currentZ, 1 / Math.sqrt(zSquared)) as tf.Tensor1D);
      x.dispose();
      z.dispose();
      z = undefined;
      x = next;
    }
    return { sigma, iterations, converged: false, residual, method: 'power' };
  } finally {
    tf.dispose([x, ...(y ? [y] : []), ...(z ? [z] : [])]);
  }
}
