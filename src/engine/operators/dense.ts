// Dense map on the last axis, y[..., o] = Σ_i x[..., i]·W[i, o]. Leading non-batch axes make it
// I ⊗ W, whose σ is σ(W), so the operator is W alone on [1, in] → [1, out]. Neither product
// transposes at run time (wasm's transposed matMul is ~7× slower): forward is the row vector x·W,
// adjoint is the column W·yᵀ.

import * as tf from '@tensorflow/tfjs-core';
import type { DenseSpec } from '../../model/ir';
import type { LinearOperator } from '../operator';

export function denseOperator(spec: DenseSpec, inputShape: number[]): LinearOperator {
  const [inFeatures, outFeatures] = spec.weight.dims;
  if (spec.weight.dims.length !== 2) throw new Error(`dense weight must be [in, out], got [${spec.weight.dims.join(', ')}]`);
  if (inputShape.length > 0 && inputShape[inputShape.length - 1] !== inFeatures) {
    throw new Error(`input's last axis is ${inputShape[inputShape.length - 1]}; the weight expects ${inFeatures}`);
  }
  const weights = tf.tensor2d(spec.weight.data, [inFeatures, outFeatures]);
  return {
    inputShape: [1, inFeatures],
    outputShape: [1, outFeatures],
    forward: (x) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, weights)),
    adjoint: (y) => tf.tidy(() => tf.reshape(tf.matMul(weights, tf.reshape(y, [outFeatures, 1]) as tf.Tensor2D), [1, inFeatures])),
    dispose: () => weights.dispose(),
  };
}
