// Block-diagonal over channel groups: input channels split into equal consecutive groups, each
// mapped by its own operator, outputs concatenated along channels. Used for grouped convolutions
// with many groups, where a block-diagonal dense kernel would multiply the work by the group count.

import * as tf from '@tensorflow/tfjs-core';
import type { LinearOperator } from '../operator';

export function channelGroupsOperator(parts: LinearOperator[]): LinearOperator {
  if (parts.length === 0) throw new Error('channelGroupsOperator needs at least one group');
  const first = parts[0];
  const channelAxis = first.inputShape.length - 1;
  const inputShape = [...first.inputShape];
  inputShape[channelAxis] = first.inputShape[channelAxis] * parts.length;
  const outputShape = [...first.outputShape];
  outputShape[channelAxis] = first.outputShape[channelAxis] * parts.length;
  const apply = (t: tf.Tensor, direction: 'forward' | 'adjoint'): tf.Tensor =>
    tf.tidy(() => {
      const pieces = tf.split(t, parts.length, channelAxis);
      return tf.concat(
        pieces.map((piece, g) => parts[g][direction](piece)),
        channelAxis,
      );
    });
  return {
    inputShape,
    outputShape,
    forward: (x) => apply(x, 'forward'),
    adjoint: (y) => apply(y, 'adjoint'),
    dispose: () => parts.forEach((part) => part.dispose()),
  };
}
