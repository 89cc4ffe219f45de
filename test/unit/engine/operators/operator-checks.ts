// The checks every operator variant must pass against its independent float64 reference matrix.

import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Matrix } from 'ml-matrix';
import type { LinearOperator } from '../../../../src/engine/operator';
import { adjointIdentityGap, explicitMatrix, relativeMaxDifference } from '../../../helpers/explicit-matrix';

/** float32 products of basis vectors reproduce the weights up to round-off. */
export const MATRIX_TOLERANCE = 1e-6;
/** <A x, y> − <x, Aᵀ y> relative to the sizes of both sides, float32 sums. */
export const ADJOINT_TOLERANCE = 2e-6;

/**
 * (1) adjoint identity on random vectors, (2) forward's explicit matrix equals the reference,
 * (3) adjoint's explicit matrix equals forward's transpose; also: arguments stay alive and the
 * products leak no tensors. Returns forward's explicit matrix.
 */
export function checkAgainstReference(op: LinearOperator, reference: Matrix): Matrix {
  const inputSize = op.inputShape.reduce((a, b) => a * b, 1);
  const outputSize = op.outputShape.reduce((a, b) => a * b, 1);
  assert.equal(op.inputShape[0], 1, 'operators use batch 1');
  assert.deepEqual([outputSize, inputSize], [reference.rows, reference.columns], 'operator size differs from the reference');

  const gap = adjointIdentityGap(op, 11);
  assert.ok(gap < ADJOINT_TOLERANCE, `adjoint identity gap ${gap}`);

  const forward = explicitMatrix(op, 'forward');
  const forwardError = relativeMaxDifference(forward, reference);
  assert.ok(forwardError < MATRIX_TOLERANCE, `forward differs from the ONNX reference by ${forwardError}`);

  const adjoint = explicitMatrix(op, 'adjoint');
  const adjointError = relativeMaxDifference(adjoint, forward.transpose());
  assert.ok(adjointError < MATRIX_TOLERANCE, `adjoint differs from forward's transpose by ${adjointError}`);

  const before = tf.memory().numTensors;
  const x = tf.randomNormal(op.inputShape);
  const y = tf.randomNormal(op.outputShape);
  const ax = op.forward(x);
  const aty = op.adjoint(y);
  assert.ok(!x.isDisposed && !y.isDisposed, 'forward/adjoint disposed their argument');
  assert.deepEqual(ax.shape, op.outputShape);
  assert.deepEqual(aty.shape, op.inputShape);
  tf.dispose([x, y, ax, aty]);
  assert.equal(tf.memory().numTensors, before, 'forward/adjoint leaked tensors');
  return forward;
}
