// Options the spectral solvers take beyond the shared SolverOptions.

import type { SolverOptions } from '../operator';

export type SpectralMethod = 'lanczos' | 'power';

/** What a solver knows after each forward+adjoint product pair. */
export interface IterationInfo {
  /** Product pairs so far. */
  iterations: number;
  /** Current estimate of σ1. */
  sigma: number;
  /** Current ||AᵀA v − σ² v|| / σ² (for Lanczos, the recurrence's value for the Ritz vector). */
  residual: number;
}

export interface SpectralSolverOptions extends SolverOptions {
  method: SpectralMethod;
  /**
   * Lanczos only: the most Lanczos vectors kept (on the operator's shorter side) before the run
   * restarts from its Ritz vector. Defaults to 2^24 floats' worth (see basisCapacity in lanczos.ts).
   */
  maxBasis?: number;
  /**
   * Lanczos only: a start vector on the Gram side the solver uses (the input side when the input
   * has at most as many values as the output); ignored when its length differs. A little Gaussian
   * noise is mixed in, so that no exact lower eigenvector can trap the run.
   */
  start?: Float32Array;
  /** Called after every product pair; for progress reports and convergence measurements. */
  onIteration?: (info: IterationInfo) => void;
}

export function validateOptions(options: SolverOptions): void {
  if (!(options.tol > 0)) throw new RangeError(`tol must be positive, got ${options.tol}`);
  if (!Number.isInteger(options.maxIter) || options.maxIter < 1) {
    throw new RangeError(`maxIter must be a positive integer, got ${options.maxIter}`);
  }
  if (!Number.isFinite(options.seed)) throw new RangeError(`seed must be finite, got ${options.seed}`);
}
