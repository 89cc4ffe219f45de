// Entry point of the spectral solvers: σ1 of a LinearOperator, matrix-free.
//
// 'lanczos' (Lanczos on the shorter side's Gram operator AᵀA or AAᵀ, which for σ1 is
// Golub–Kahan–Lanczos bidiagonalisation; the plain recurrence, see lanczos.ts) is the method to
// use; 'power' (power iteration on AᵀA) is the baseline it is measured against.
// Both stop on a residual that bounds the true relative error of σ (see each module for what
// that does and does not guarantee), both are deterministic for a seed, synchronous, and poll
// options.shouldStop() between products (throwing CancelledError, with every tensor freed).

import type { LinearOperator, SolverResult } from '../operator';
import { gramLanczos } from './lanczos';
import { validateOptions, type SpectralSolverOptions } from './options';
import { powerIteration } from './power';

export type { IterationInfo, SpectralMethod, SpectralSolverOptions } from './options';

export function estimateSpectralNorm(op: LinearOperator, options: SpectralSolverOptions): SolverResult {
  validateOptions(options);
  switch (options.method) {
    case 'lanczos':
      return gramLanczos(op, options);
    case 'power':
      return powerIteration(op, options);
    default: {
      const unknown: never = options.method;
      throw new RangeError(`unknown spectral method ${String(unknown)}`);
    }
  }
}
