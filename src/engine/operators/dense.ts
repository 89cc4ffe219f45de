// Dense map on the last axis, y[..., o] = Σ_i x[..., i]·W[i, o]. Leading non-batch axes make it
// I ⊗ W, whose σ is σ(W), so the operator is W alone on [1, in] → [1, out]. No product transposes
// at run time (wasm's transposed matMul is slow): forward is the row vector x·W; the adjoint is the
// row vector y·Wᵀ with Wᵀ stored once (the weight is the right operand of both products: with a
// changing right operand, wasm's matMul returned wrong products inside the Krylov loop). Measured
// on wasm, 2048→1000: x·W 0.16 ms, y·Wᵀ 0.14, W·yᵀ 0.79, transposeB 1.58; 25088→4096: 34, 22,
// 86, 152 ms. The copy costs one more weight-sized buffer while this layer is solved.

import * as tf from '@tensorflow/tfjs-core';
import type { DenseSpec } from '../../model/ir';
import type { LinearOperator } from '../operator';

export function denseOperator(spec: DenseSpec, inputShape: number[]): LinearOperator {
  const [inFeatures, outFeatures] = spec.weight.dims;
  if (spec.weight.dims.length !== 2) throw new Error(`dense weight must be [in, out], got [${spec.weight.dims.join(', ')}]`);
  // The contracted axis (the last unless stated): the map is I ⊗ W up to a permutation either way.
  const axis = spec.axis ?? inputShape.length - 1;
  if (inputShape.length > 0 && inputShape[axis] !== inFeatures) {
    throw new Error(`input's axis ${axis} is ${inputShape[axis]}; the weight expects ${inFeatures}`);
  }
  const weights = tf.tensor2d(spec.weight.data, [inFeatures, outFeatures]);
  const transposed = tf.transpose(weights) as tf.Tensor2D;
  const adjoint = (y: tf.Tensor) => tf.tidy(() => tf.matMul(y as tf.Tensor2D, transposed));
  return {
    inputShape: [1, inFeatures],
    outputShape: [1, outFeatures],
    forward: (x) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, weights)),
    adjoint,
    dispose: () => tf.dispose([weights, transposed]),
  };
}
