// ONNX GatherND (batch_dims 0) of the signal at constant indices, negative ones included: a selection
// with constant √(most copies of one tuple), the σ of its explicit matrix read off onnxruntime on
// the basis, and run by the graph executor as onnxruntime runs it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedForm } from '../../../../src/analysis/closed-form';
import { initBackend } from '../../../../src/engine/backend';
import { attr, buildModel, int64s, openBytes, type ModelSpec } from '../../../helpers/onnx-builder';
import { assertMatchesOnnxRuntime, onnxRuntimeExplicitSigma, uniformInput } from '../../bracket/reference-runtimes';

const gatherNd = (xShape: number[], indicesShape: number[], indices: number[], batchDims = 0): ModelSpec => ({
  inputs: [{ name: 'x', shape: xShape }],
  outputs: ['y'],
  initializers: [int64s('idx', indices, indicesShape)],
  nodes: [{ op: 'GatherND', inputs: ['x', 'idx'], outputs: ['y'], name: 'g', attrs: batchDims ? [attr.int('batch_dims', batchDims)] : [] }],
});

for (const [label, xShape, indicesShape, indices] of [
  ['distinct rows', [1, 5, 3], [3, 2], [0, 4, 0, -4, 0, 2]],
  ['a row three times (−1 is the last)', [1, 5, 3], [2, 2, 2], [0, 1, 0, 1, 0, 3, 0, -4]],
  ['single entries, one twice', [1, 4, 3], [4, 3], [0, 1, 2, 0, 3, 0, 0, 1, -1, 0, 2, 2]],
] as const) {
  test(`GatherND at constant indices, ${label}: √(most copies) as the explicit matrix's σ, executed as onnxruntime runs it`, async () => {
    await initBackend();
    const bytes = buildModel(gatherNd([...xShape], [...indicesShape], [...indices]));
    const model = await openBytes(bytes);
    const node = model.nodes[0];
    assert.equal(node.spec.type, 'fixed', JSON.stringify(node.spec));
    await assertMatchesOnnxRuntime(label, bytes, model, uniformInput([...xShape], 4, -2, 2));
    const truth = await onnxRuntimeExplicitSigma(bytes, model, xShape.reduce((a: number, b: number) => a * b, 1));
    const constant = closedForm(node)?.compositionConstant;
    assert.ok(constant !== undefined && Math.abs(constant - truth) <= 1e-9, `${constant} vs ${truth}`);
  });
}

test('GatherND with batch_dims, or an index out of range: unsupported with its output shape', async () => {
  const batched = (await openBytes(buildModel(gatherNd([2, 4, 3], [2, 1], [1, 3], 1)))).nodes[0];
  assert.deepEqual([batched.spec.type, batched.outputShapes], ['unsupported', [[2, 3]]]);
  const far = (await openBytes(buildModel(gatherNd([1, 4, 3], [1, 2], [0, 4])))).nodes[0];
  assert.ok(far.spec.type === 'unsupported' && /out of range/.test(far.spec.detail ?? ''), JSON.stringify(far.spec));
});
