// A real convolution as the operator (tf.conv2d forward, tf.conv2dTranspose adjoint), with the
// truth from its explicit matrix and a float64 SVD. The reshaped kernel's norm is a different
// number, checked here so that this test would notice a solver that only saw the kernel.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import type { LinearOperator } from '../../../../src/engine/operator';
import { estimateSpectralNorm } from '../../../../src/engine/solvers';
import { gaussianArray } from '../../../../src/engine/solvers/random';
import { singularValues } from '../../../helpers/matrix-operator';

interface ConvCase {
  name: string;
  size: number;
  inChannels: number;
  outChannels: number;
  stride: number;
  padding: 'same' | 'valid';
}

const convCases: ConvCase[] = [
  { name: '4→4 3x3 stride 1 same at 8x8', size: 8, inChannels: 4, outChannels: 4, stride: 1, padding: 'same' },
  { name: '3→5 3x3 stride 2 same at 9x9', size: 9, inChannels: 3, outChannels: 5, stride: 2, padding: 'same' },
  { name: '2→6 3x3 stride 1 valid at 7x7', size: 7, inChannels: 2, outChannels: 6, stride: 1, padding: 'valid' },
];

function convolutionOperator(spec: ConvCase, seed: number): { op: LinearOperator; kernel: tf.Tensor4D } {
  const kernel = tf.tensor4d(gaussianArray(9 * spec.inChannels * spec.outChannels, seed), [3, 3, spec.inChannels, spec.outChannels]);
  const inputShape: [number, number, number, number] = [1, spec.size, spec.size, spec.inChannels];
  const outputShape = tf.tidy(() => tf.conv2d(tf.zeros(inputShape) as tf.Tensor4D, kernel, spec.stride, spec.padding).shape);
  const op: LinearOperator = {
    inputShape,
    outputShape,
    forward: (x) => tf.conv2d(x as tf.Tensor4D, kernel, spec.stride, spec.padding),
    adjoint: (y) => tf.conv2dTranspose(y as tf.Tensor4D, kernel, inputShape, spec.stride, spec.padding),
    dispose: () => kernel.dispose(),
  };
  return { op, kernel };
}

/** Applies `apply` to every unit vector of `shape` at once (as a batch); row i is apply(e_i). */
function rowsOfUnitImages(apply: (batch: tf.Tensor) => tf.Tensor, shape: number[]): number[][] {
  const count = shape.reduce((a, b) => a * b, 1);
  const images = tf.tidy(() => {
    const out = apply(tf.reshape(tf.eye(count), [count, ...shape.slice(1)]));
    return tf.reshape(out, [count, -1]);
  });
  const rows = images.arraySync() as number[][];
  images.dispose();
  return rows;
}

describe('estimateSpectralNorm on convolutions', () => {
  before(async () => {
    await initBackend();
  });

  for (const [index, spec] of convCases.entries()) {
    test(`${spec.name}: both methods match the explicit matrix's σ1`, () => {
      const { op, kernel } = convolutionOperator(spec, 100 + index);
      const before = tf.memory().numTensors;
      // Columns of M are the images of unit inputs: rowsOfUnitImages gives Mᵀ.
      const explicit = new Matrix(rowsOfUnitImages(op.forward, op.inputShape)).transpose();
      // conv2dTranspose must be the exact transpose, or the solvers would solve another problem.
      const adjointRows = new Matrix(rowsOfUnitImages((y) => tf.conv2dTranspose(y as tf.Tensor4D, kernel, [y.shape[0], spec.size, spec.size, spec.inChannels], spec.stride, spec.padding), op.outputShape));
      assert.ok(adjointRows.clone().sub(explicit).abs().max() <= 1e-5 * explicit.clone().abs().max());

      const truth = singularValues(explicit)[0];
      const reshaped = tf.reshape(kernel, [9 * spec.inChannels, spec.outChannels]);
      const reshapedKernelNorm = singularValues(new Matrix(reshaped.arraySync() as number[][]))[0];
      reshaped.dispose();
      assert.ok(Math.abs(reshapedKernelNorm - truth) / truth > 0.01, 'this layer must tell σ1 from the reshaped-kernel norm');

      for (const method of ['lanczos', 'power'] as const) {
        const precise = estimateSpectralNorm(op, { method, tol: 1e-6, maxIter: 5000, seed: 1 });
        assert.ok(precise.converged, `${method}: residual ${precise.residual}`);
        assert.ok(Math.abs(precise.sigma - truth) / truth <= 1e-5, `${method}: σ ${precise.sigma} vs ${truth}`);
        const coarse = estimateSpectralNorm(op, { method, tol: 1e-4, maxIter: 5000, seed: 2 });
        assert.ok(Math.abs(coarse.sigma - truth) / truth <= 1e-4, `${method} at 1e-4: σ ${coarse.sigma} vs ${truth}`);
      }
      assert.equal(tf.memory().numTensors, before);
      op.dispose();
    });
  }
});
