// Small tensor helpers shared by the solvers. They follow the wasm pitfalls in
// notes/compute.md: norms as sqrt(sum(square)) (tf.norm is slow there), scaling by JS numbers
// (dividing by a tensor is slow), and only scalars or tiny arrays read back to JS.

import * as tf from '@tensorflow/tfjs-core';
import { gaussianArray } from './random';

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** ||x||², read back as one float. */
export function squaredNorm(x: tf.Tensor): number {
  const sum = tf.tidy(() => tf.sum(tf.square(x)));
  const value = sum.dataSync()[0];
  sum.dispose();
  return value;
}

/**
 * A unit vector with independent Gaussian entries, flat, of `length` entries. Random rather than
 * constant: a constant start can lie in one frequency subspace of a convolution and never see σ1.
 */
export function gaussianUnitVector(length: number, seed: number): tf.Tensor1D {
  const values = gaussianArray(length, seed);
  let sum = 0;
  for (const value of values) sum += value * value;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < length; i++) values[i] *= scale;
  return tf.tensor1d(values, 'float32');
}

/**
 * Applies a product to a flat vector by viewing it in the operator's own shape; returns a flat
 * result and checks its size, so an operator with a wrong declared shape fails loudly.
 */
export function applyFlat(
  apply: (x: tf.Tensor) => tf.Tensor,
  flat: tf.Tensor,
  shape: readonly number[],
  expectedLength: number,
  what: string,
): tf.Tensor1D {
  return tf.tidy(() => {
    const result = apply(tf.reshape(flat, [...shape]));
    if (result.size !== expectedLength) {
      throw new Error(`spectral solver: ${what} returned ${result.size} values, expected ${expectedLength}`);
    }
    return tf.reshape(result, [-1]) as tf.Tensor1D;
  });
}

export function assertFinite(value: number, what: string): void {
  if (!Number.isFinite(value)) {
    throw new Error(`spectral solver: ${what} is ${value}; the operator produced non-finite values`);
  }
}
