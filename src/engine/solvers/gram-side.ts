// The Gram operator a Lanczos run works on: AᵀA on the input side when the input has at most as
// many values as the output, A Aᵀ on the output side otherwise (lanczos.ts says why one side), and
// the unit start vector on that side.

import * as tf from '@tensorflow/tfjs-core';
import type { LinearOperator } from '../operator';
import { gaussianArray } from './random';
import { applyFlat, elementCount, gaussianUnitVector } from './vectors';

export interface GramSide {
  /** Values on the side the run works on. */
  length: number;
  /** The first product of a pair (A on the input side, Aᵀ on the output side). */
  first(v: tf.Tensor1D): tf.Tensor1D;
  /** The second product, back onto the side. */
  second(image: tf.Tensor1D): tf.Tensor1D;
}

export function gramSide(op: LinearOperator): GramSide {
  const inputLength = elementCount(op.inputShape);
  const outputLength = elementCount(op.outputShape);
  const forward = (x: tf.Tensor1D) => applyFlat((t) => op.forward(t), x, op.inputShape, outputLength, 'forward');
  const adjoint = (y: tf.Tensor1D) => applyFlat((t) => op.adjoint(t), y, op.outputShape, inputLength, 'adjoint');
  return inputLength <= outputLength
    ? { length: inputLength, first: forward, second: adjoint }
    : { length: outputLength, first: adjoint, second: forward };
}

/**
 * The run's unit start: `start` (when it has the side's length) plus 1e-3 of its norm in Gaussian
 * noise, so that no exact lower eigenvector can trap the run; a Gaussian vector otherwise.
 */
export function startVector(length: number, seed: number, start?: Float32Array): tf.Tensor1D {
  if (!start || start.length !== length) return gaussianUnitVector(length, seed);
  const noise = gaussianArray(start.length, seed);
  let startNorm = 0;
  let noiseNorm = 0;
  for (let i = 0; i < start.length; i++) {
    startNorm += start[i] * start[i];
    noiseNorm += noise[i] * noise[i];
  }
  const mix = startNorm > 0 ? (1e-3 * Math.sqrt(startNorm)) / Math.sqrt(noiseNorm) : 1 / Math.sqrt(noiseNorm);
  const values = new Float32Array(start.length);
  let sum = 0;
  for (let i = 0; i < start.length; i++) {
    values[i] = start[i] + mix * noise[i];
    sum += values[i] * values[i];
  }
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < values.length; i++) values[i] *= scale;
  return tf.tensor1d(values, 'float32');
}
