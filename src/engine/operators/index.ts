// The engine's linear operators: one LinearOperator per linear layer, on its real input size, with
// an exact adjoint. `inputShape` is the node's input shape in its own layout, batch included; the
// operators use batch 1 (a batch is block-diagonal with identical blocks: same σ) and a layout of
// their own, reported in the operator's inputShape / outputShape.

import type { LinearSpec } from '../../model/ir';
import type { LinearOperator } from '../operator';
import { avgPoolOperator } from './avg-pool';
import { convOperator } from './conv';
import { convTransposeOperator } from './conv-transpose';
import { denseOperator } from './dense';

export function buildOperator(spec: LinearSpec, inputShape: number[]): LinearOperator {
  switch (spec.type) {
    case 'conv':
      return convOperator(spec, inputShape);
    case 'convTranspose':
      return convTransposeOperator(spec, inputShape);
    case 'dense':
      return denseOperator(spec, inputShape);
    case 'avgPool':
      return avgPoolOperator(spec, inputShape);
  }
}

export { foldScaleIntoConv } from './fold';
export { reduceLinearProblem, type LinearProblem } from './reduce';
