// TF.js Sin, Cos, Atan, Asinh (slope at most 1: constant 1) and Atan2 with one constant operand c > 0
// (atan2(y, c)) or c ≠ 0 (atan2(c, x)): |slope| = |c|/(t² + c²) ≤ 1/|c|, largest at t = 0, so the
// row's constant is the σ of the Jacobian at 0 (tfjs autodiff, explicit matrix, SVD), broadcast
// copies included. c ≤ 0 (a jump across the branch cut) and two signals are unbounded. The
// executor runs the chain as tfjs's loadGraphModel does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Matrix } from 'ml-matrix';
import { closedForm } from '../../../../src/analysis/closed-form';
import { sigma1 } from '../../../helpers/keras-reference';
import { openMemory, row } from './helpers';
import { graphModel, placeholder } from './graph-builder';
import { executorOutputs, relativeError, tfjsMemoryGraphOutputs, uniformInput } from '../../bracket/reference-runtimes';

/** σ of the Jacobian of f at x (one row per output entry, by autodiff). */
function jacobianSigma(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): number {
  const outCount = tf.tidy(() => f(x).size);
  const rows: number[][] = [];
  for (let k = 0; k < outCount; k++) {
    const e = tf.cast(tf.oneHot(k, outCount), 'float32');
    rows.push(Array.from(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reshape(f(t), [-1]), e)))(x).dataSync())));
    e.dispose();
  }
  return sigma1(new Matrix(rows));
}

const C_POSITIVE = [0.5, 2, 4];
const C_NONZERO = [-0.25, 1, 3];

test('Sin, Cos, Atan, Asinh: 1; Atan2 with a constant: the Jacobian\'s σ at 0 (its largest), broadcast counted; executed as tfjs runs it', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 1, 4]),
      { name: 'sin', op: 'Sin', input: ['x'] },
      { name: 'cos', op: 'Cos', input: ['sin'] },
      { name: 'atan', op: 'Atan', input: ['cos'] },
      { name: 'asinh', op: 'Asinh', input: ['atan'] },
      // atan2(y, c): c of shape [1, 3, 1] copies each entry 3 times.
      { name: 'yc', op: 'Atan2', input: ['asinh', 'c'] },
      // atan2(c, x) with c per last-axis entry, some negative (continuous in x for c ≠ 0).
      { name: 'cx', op: 'Atan2', input: ['d', 'yc'] },
    ],
    [{ name: 'c', shape: [1, 3, 1], values: C_POSITIVE }, { name: 'd', shape: [4], values: [...C_NONZERO, 2] }],
  );
  const model = await openMemory(json, shards);
  for (const name of ['sin', 'cos', 'atan', 'asinh']) assert.equal(closedForm(row(model, name))?.compositionConstant, 1, name);
  const yc = closedForm(row(model, 'yc'))?.compositionConstant as number;
  const ycTruth = jacobianSigma((y) => tf.atan2(y, tf.tensor(C_POSITIVE, [1, 3, 1])), tf.zeros([1, 1, 4]));
  assert.ok(Math.abs(yc - ycTruth) <= 1e-6 * ycTruth, `${yc} vs ${ycTruth}`);
  assert.ok(Math.abs(yc - Math.sqrt(C_POSITIVE.reduce((s, c) => s + 1 / c ** 2, 0))) < 1e-12);
  const cx = closedForm(row(model, 'cx'))?.compositionConstant as number;
  const cxTruth = jacobianSigma((x) => tf.atan2(tf.tensor([...C_NONZERO, 2], [4]), x), tf.zeros([1, 3, 4]));
  assert.ok(Math.abs(cx - cxTruth) <= 1e-6 * cxTruth && Math.abs(cx - 4) < 1e-12, `${cx} vs ${cxTruth}`);
  // Away from 0 the slopes are smaller: the bound holds at sampled points too.
  const sampled = jacobianSigma((y) => tf.atan2(y, tf.tensor(C_POSITIVE, [1, 3, 1])), tf.tensor(uniformInput([1, 1, 4], 9, -1, 1), [1, 1, 4]));
  assert.ok(sampled <= yc, `${sampled} > ${yc}`);
  const input = uniformInput([1, 1, 4], 3, -3, 3);
  const error = relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input));
  assert.ok(error <= 1e-4, `relative error ${error}`);
});

test('Atan2 with c ≤ 0 as the x operand, c = 0 as the y operand, or of two signals: unbounded with the reason', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 3]),
      { name: 'negative', op: 'Atan2', input: ['x', 'c'] },
      { name: 'zero', op: 'Atan2', input: ['z', 'x'] },
      { name: 's', op: 'Sin', input: ['x'] },
      { name: 'both', op: 'Atan2', input: ['x', 's'] },
    ],
    [{ name: 'c', shape: [3], values: [1, -1, 2] }, { name: 'z', shape: [], values: [0] }],
  );
  const model = await openMemory(json, shards);
  for (const [name, pattern] of [['negative', /c ≤ 0/], ['zero', /c = 0/], ['both', /two signals/]] as const) {
    const spec = row(model, name).spec;
    assert.ok(spec.type === 'unbounded' && pattern.test(spec.reason), `${name}: ${JSON.stringify(spec)}`);
  }
});
