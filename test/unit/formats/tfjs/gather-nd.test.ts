// TF.js GatherNd of the signal at constant indices: a selection whose constant is √ of the most times
// one input entry is gathered (the explicit 0/1 matrix's σ, built with tf.gatherND on the basis: 1
// without repeats, 0 for an empty output), run by the graph executor as tfjs's loadGraphModel runs it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix } from 'ml-matrix';
import { closedForm } from '../../../../src/analysis/closed-form';
import { sigma1 } from '../../../helpers/keras-reference';
import { openMemory, row } from './helpers';
import { graphModel, placeholder } from './graph-builder';
import { executorOutputs, relativeError, tfjsMemoryGraphOutputs, uniformInput } from '../../bracket/reference-runtimes';

/** σ of x ↦ gatherND(x, indices), from its explicit matrix (0 when it has no rows). */
function explicitSigma(xShape: number[], indices: number[], indicesShape: number[]): number {
  const n = xShape.reduce((a, b) => a * b, 1);
  const columns: number[][] = [];
  for (let j = 0; j < n; j++) {
    const e = new Float32Array(n);
    e[j] = 1;
    columns.push(Array.from(tf.tidy(() => tf.gatherND(tf.tensor(e, xShape), tf.tensor(indices, indicesShape, 'int32')).dataSync())));
  }
  if (columns[0].length === 0) return 0;
  return sigma1(new Matrix(columns).transpose());
}

const CASES: [string, number[], number[], number[]][] = [
  // [label, x shape, indices shape, indices]
  ['rows of a matrix, distinct', [1, 5, 3], [3, 2], [0, 4, 0, 1, 0, 2]],
  ['rows repeated (one 3 times)', [1, 5, 3], [2, 2, 2], [0, 1, 0, 1, 0, 3, 0, 1]],
  ['single entries (tuples of full length), one twice', [1, 4, 3], [5, 3], [0, 1, 2, 0, 3, 0, 0, 1, 2, 0, 2, 2, 0, 0, 0]],
  ['whole batches (tuples of length 1)', [2, 3, 2], [3, 1], [1, 0, 1]],
  ['nothing gathered', [1, 4, 3], [0, 2], []],
];

for (const [label, xShape, indicesShape, indices] of CASES) {
  test(`GatherNd of the signal at constant indices, ${label}: √(most copies), the explicit matrix's σ, executed as tfjs runs it`, async () => {
    const { json, shards } = graphModel(
      [placeholder('x', xShape), { name: 'g', op: 'GatherNd', input: ['x', 'idx'], attr: { Tparams: { type: 'DT_FLOAT' }, Tindices: { type: 'DT_INT32' } } }],
      [{ name: 'idx', shape: indicesShape, values: indices, dtype: 'int32' }],
    );
    const model = await openMemory(json, shards);
    const node = row(model, 'g');
    assert.equal(node.spec.type, 'fixed', JSON.stringify(node.spec));
    const expectedShape = tf.tidy(() => tf.gatherND(tf.zeros(xShape), tf.tensor(indices, indicesShape, 'int32')).shape);
    assert.deepEqual(node.outputShapes, [expectedShape]);
    const truth = explicitSigma(xShape, indices, indicesShape);
    const constant = closedForm(node)?.compositionConstant;
    assert.ok(constant !== undefined && Math.abs(constant - truth) <= 1e-9, `${constant} vs ${truth}`);
    if (truth === 0) return;
    const input = uniformInput(xShape, 2, -2, 2);
    const error = relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input));
    assert.ok(error <= 1e-4, `relative error ${error}`);
  });
}

test('GatherNd with indices from the data or out of range: unsupported, with the reason', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 4, 3]),
      { name: 'out', op: 'GatherNd', input: ['x', 'far'] },
      { name: 'cast', op: 'Cast', input: ['x'], attr: { DstT: { type: 'DT_INT32' } } },
      { name: 'lookup', op: 'GatherNd', input: ['x', 'cast'] },
    ],
    [{ name: 'far', shape: [1, 2], values: [0, 4], dtype: 'int32' }],
  );
  const model = await openMemory(json, shards);
  const out = row(model, 'out');
  assert.ok(out.spec.type === 'unsupported' && /out of range/.test(out.spec.detail ?? ''), JSON.stringify(out.spec));
  assert.equal(row(model, 'lookup').spec.type, 'unsupported');
});
