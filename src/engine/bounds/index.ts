// Certified upper bounds on the operator 2-norm of a linear layer on its real input shape.
// Callers should `await initBackend()` first: the large products run on tfjs (wasm), synchronously.

import type { LinearSpec } from '../../model/ir';
import { avgPoolUpperBound } from './avgPool';
import { convUpperBound } from './conv';
import { convTransposeUpperBound } from './convTranspose';
import { denseUpperBound } from './dense';
import type { BoundOptions, UpperBound } from './types';

export type { BoundOptions, UpperBound } from './types';
export { BOUND_BUDGET_FLOPS } from './types';

/**
 * @param inputShape the node's real input shape in its own layout, batch included.
 * @returns a bound that is never below the true norm (all rounding accounted for), or null where
 * no valid bound applies (malformed spec or shape).
 */
export function upperBound(spec: LinearSpec, inputShape: number[], options: BoundOptions = {}): UpperBound | null {
  switch (spec.type) {
    case 'dense':
      return denseUpperBound(spec, options);
    case 'conv':
      return convUpperBound(spec, inputShape, options);
    case 'convTranspose':
      return convTransposeUpperBound(spec, inputShape, options);
    case 'avgPool':
      return avgPoolUpperBound(spec, inputShape);
    default:
      return null;
  }
}
