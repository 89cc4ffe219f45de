// One linear problem (a layer, after reduceLinearProblem) to its σ estimate and certified bound.
// The unit of work that estimate.ts schedules, in this thread or in a compute worker: its inputs
// and outputs are plain data (structured-clone safe).

import type { LinearSpec } from '../model/ir';
import type { EstimateSettings } from '../protocol/report';
import { upperBound } from './bounds';
import { reduceDepthwise } from './large-input/depthwise';
import { solveByInterval, warmStartFor } from './large-input/solve';
import { buildOperator } from './operators';
import { estimateSpectralNorm } from './solvers';
import { CancelledError } from './operator';

export interface LinearProblem {
  spec: LinearSpec;
  inputShape: number[];
}

export type SolverSettings = Pick<EstimateSettings, 'tol' | 'maxIter' | 'seed' | 'method'>;

export interface SolvedLayer {
  sigma: number;
  upper: number | null;
  iterations: number;
  converged: boolean;
  residual: number;
  method: string;
  boundMethod?: string;
  /** Certified lower bound on σ, when the path proves one ('exact-dense', 'symbol-sup'). */
  lower?: number;
}

/** A layer too large for memory is an outcome (its row becomes invalid), not an exception. */
export type SolveOutcome = { result: SolvedLayer } | { failure: string };

/** Runs synchronously; throws CancelledError when shouldStop turns true. Call initBackend first. */
export function solveLinearProblem(original: LinearProblem, settings: SolverSettings, shouldStop?: () => boolean): SolveOutcome {
  let operator: ReturnType<typeof buildOperator> | undefined;
  try {
    // A depthwise conv is a direct sum over its groups: the groups whose certified bound lies below
    // another group's certified lower bound are dropped, with σ unchanged (large-input/depthwise.ts).
    const depthwise = original.spec.type === 'conv' && settings.method === 'lanczos' ? reduceDepthwise(original.spec, original.inputShape, shouldStop) : null;
    if (shouldStop?.()) throw new CancelledError();
    const problem: LinearProblem = depthwise ? { spec: depthwise.spec, inputShape: depthwise.inputShape } : original;
    const noted = (detail: string | undefined): string | undefined => (depthwise ? (detail ? `${depthwise.note}; ${detail}` : depthwise.note) : detail);
    // A certified interval [lower, upper] of width ≤ tol·σ when the cost model finds one cheaper
    // (large-input/solve.ts); null sends the layer to the full-size solver below. An explicit
    // 'power' (the baseline solver, for comparisons) always runs as asked.
    const interval = settings.method === 'lanczos' ? solveByInterval(problem.spec, problem.inputShape, settings.tol, shouldStop, depthwise !== null) : null;
    if (shouldStop?.()) throw new CancelledError();
    if (interval) {
      return {
        result: {
          sigma: interval.sigma,
          upper: interval.upper,
          lower: interval.lower,
          iterations: interval.iterations,
          converged: true,
          residual: (interval.upper - interval.lower) / Math.max(interval.lower, Number.MIN_VALUE),
          method: interval.method,
          boundMethod: noted(interval.detail),
        },
      };
    }
    // A costly zero-padded conv the interval paths declined: Lanczos starts from the windowed plane
    // wave at the symbol's peak, which also gives a certified lower bound (large-input/warm-start.ts).
    operator = buildOperator(problem.spec, problem.inputShape);
    const warm = settings.method === 'lanczos' ? warmStartFor(problem.spec, problem.inputShape, { input: operator.inputShape, output: operator.outputShape }, settings.tol, shouldStop) : null;
    if (shouldStop?.()) throw new CancelledError();
    const solution = estimateSpectralNorm(operator, {
      tol: settings.tol,
      maxIter: settings.maxIter,
      seed: settings.seed,
      method: settings.method,
      shouldStop,
      ...(warm ? { start: warm.start } : {}),
    });
    // With a warm start the symbol's certified bound (twisted torus or sup, warm-start.ts) is the bound; else the usual one.
    const bound = warm?.upper ? { value: warm.upper, method: warm.upperMethod } : upperBound(problem.spec, problem.inputShape, { shouldStop, lowerBound: solution.sigma });
    return {
      result: {
        sigma: solution.sigma,
        // A certified bound below the estimate means float32 rounding in the estimate; keep the larger.
        upper: bound ? Math.max(bound.value, solution.sigma) : null,
        iterations: solution.iterations,
        converged: solution.converged,
        residual: solution.residual,
        method: solution.method,
        ...(bound || depthwise ? { boundMethod: noted(bound?.method) } : {}),
        ...(warm || depthwise ? { lower: Math.max(warm?.lower ?? 0, depthwise?.lower ?? 0) } : {}),
      },
    };
  } catch (error) {
    // A layer larger than memory (typed arrays, the wasm heap) makes its row invalid, not a crash.
    if (!(error instanceof RangeError)) throw error;
    return { failure: `too large to estimate in memory (${error.message.split('\n')[0]})` };
  } finally {
    operator?.dispose();
  }
}
