// Small tensor helpers shared by the solvers. They follow the wasm pitfalls in
// docs/measured-facts.md#tfjs-pitfalls-on-wasm: norms as sqrt(sum(square)) (tf.norm is slow there), scaling by JS numbers
// (dividing by a tensor is slow), and only scalars or tiny arrays read back to JS.

import * as tf from '@tensorflow/tfjs-core';
import { gaussianArray } from './random';

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** Up to this many values one float32 loop is used (its typical error, about √n·2^-24, is ~2e-6). */
const ONE_LEVEL_MAX = 1024;

/**
 * Σ x over all entries as a scalar tensor, in two levels: rows of about √n values, then the row
 * sums. The wasm backend's tf.sum adds in one float32 loop, whose rounding grows with n when the
 * terms share a sign (a squared norm, a dot product of nearly parallel vectors): measured, ||x||²
 * of 200k Gaussian values came out 5e-5 too small and of 800k values 4e-4, against 3e-7 and
 * 1.4e-6 in two levels. At the Lanczos stop (residual ≤ 5e-5) that error would be the whole budget.
 */
export function accurateSum(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const n = x.size;
    if (n <= ONE_LEVEL_MAX) return tf.sum(x);
    const flat = tf.reshape(x, [-1]);
    const rowLength = rowLengthFor(n);
    if (n % rowLength === 0) return tf.sum(tf.sum(tf.reshape(flat, [n / rowLength, rowLength]), 1));
    // No divisor near √n: whole rows, then the short tail on its own.
    const head = n - (n % rowLength);
    const rows = tf.sum(tf.reshape(tf.slice(flat, 0, head), [head / rowLength, rowLength]), 1);
    return tf.add(tf.sum(rows), tf.sum(tf.slice(flat, head)));
  });
}

/** A divisor of n within [√n, 4√n] if there is one (conv vectors c·h·w have many), else ⌈√n⌉. */
function rowLengthFor(n: number): number {
  const root = Math.ceil(Math.sqrt(n));
  for (let length = root; length <= 4 * root; length++) if (n % length === 0) return length;
  return root;
}

/** aᵀb of two flat vectors as a scalar tensor (two-level sum). */
export function accurateDot(a: tf.Tensor1D, b: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => accurateSum(tf.mul(a, b)));
}

/** ||x||², read back as one float (two-level sum). */
export function squaredNorm(x: tf.Tensor): number {
  const sum = tf.tidy(() => accurateSum(tf.square(x)));
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
