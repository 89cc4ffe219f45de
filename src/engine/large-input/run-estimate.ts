// The expected duration of a run before it starts: the per-layer cost model of solve.ts (the path
// each linear layer will take and its seconds on one quiet core), summed. Identical layers are
// solved once, so they count once. Closed forms cost nothing. An estimate for progress displays,
// not a promise: a shared machine runs slower, and the display scales by the observed rate.

import type { IrModel, LinearSpec } from '../../model/ir';
import { reduceLinearProblem } from '../operators';
import { depthwiseSubset, isDepthwise } from './depthwise';
import { planLayer } from './solve';
import { findBatchNormFolds, uniformMagnitude } from '../../analysis/fold';

/** The depthwise reduction's own cost per group (measured 0.1–0.4 s for 384 3x3 groups). */
const REDUCTION_SECONDS_PER_GROUP = 1e-3;

const LINEAR = new Set(['conv', 'convTranspose', 'dense', 'avgPool']);

/** Expected seconds per model node (0 for closed forms and repeated layers). */
export function expectedLayerSeconds(model: IrModel, tol: number): number[] {
  const seen = new Set<string>();
  // A batch norm folded into a conv with a scale per channel is a second layer to solve; one
  // magnitude for all channels is not (estimate.ts scales the first solution).
  const folds = findBatchNormFolds(model);
  return model.nodes.map((node, index) => {
    if (!LINEAR.has(node.spec.type) || !node.inputShapes[0]) return 0;
    const spec = node.spec as LinearSpec;
    const key = `${JSON.stringify(node.weightShape)}|${node.inputShapes[0].join()}|${'weight' in spec ? firstValues(spec.weight.data) : node.name}`;
    if (seen.has(key)) return 0;
    seen.add(key);
    try {
      const problem = reduceLinearProblem(spec, node.inputShapes[0]);
      // A depthwise layer is solved on the groups that can hold σ (depthwise.ts), usually one.
      if (problem.spec.type === 'conv' && isDepthwise(problem.spec)) {
        const one = depthwiseSubset(problem.spec, problem.inputShape, [0]);
        return (problem.spec.group || 1) * REDUCTION_SECONDS_PER_GROUP + planLayer(one.spec, one.inputShape, tol).seconds;
      }
      const fold = folds.get(index);
      const solves = fold && uniformMagnitude(fold.scale) === null ? 2 : 1;
      return solves * planLayer(problem.spec, problem.inputShape, tol).seconds;
    } catch {
      return 0;
    }
  });
}

function firstValues(data: Float32Array): string {
  return Array.from(data.subarray(0, 8)).join();
}

/**
 * Seconds left, from the expected seconds of the layers done and of all layers, scaled by the rate
 * observed so far (elapsed / expected-done) once enough is done to measure it.
 */
export function remainingSeconds(expectedTotal: number, expectedDone: number, elapsedSeconds: number): number {
  const left = Math.max(0, expectedTotal - expectedDone);
  const rate = expectedDone > 0.05 * expectedTotal && expectedDone > 0 ? elapsedSeconds / expectedDone : 1;
  return left * rate;
}

/** "0.4 s", "12 s", "3 min 5 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
