// ONNX Einsum of the signal and a constant matrix along one axis, the output's axes in the data's
// order or reordered ("bij,jk->bki", "btc,cd->bdt"): a dense row whose σ(W) is the σ of the map's
// explicit matrix (read off onnxruntime on the basis), and which the graph executor runs to
// onnxruntime's values, so the output layout is right (docs/op-coverage.md, "Also covered").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import { attr, buildModel, openBytes, seeded, tensor, type ModelSpec } from '../../../helpers/onnx-builder';
import { sigma1 } from '../../../helpers/keras-reference';
import { assertMatchesOnnxRuntime, onnxRuntimeExplicitSigma, uniformInput } from '../../bracket/reference-runtimes';

const CASES: [string, number[], number[], boolean][] = [
  ['bij,jk->bik', [1, 3, 4], [4, 5], true],
  ['bij,jk->bki', [1, 3, 4], [4, 5], true],
  ['btc,cd->bdt', [2, 3, 4], [4, 2], true],
  ['bchw,oc->bohw', [1, 3, 2, 4], [5, 3], true],
  ['bchw,oc->bwoh', [1, 3, 2, 4], [5, 3], true],
  ['kj,bij->bki', [1, 3, 4], [5, 4], false],
];

for (const [equation, xShape, wShape, dataFirst] of CASES) {
  test(`Einsum "${equation}": a dense row, σ(W) as the explicit matrix's, executed as onnxruntime runs it`, async () => {
    await initBackend();
    const spec: ModelSpec = {
      inputs: [{ name: 'x', shape: xShape }],
      outputs: ['y'],
      initializers: [tensor('w', wShape, seeded(wShape[0] * wShape[1], equation.length))],
      nodes: [{ op: 'Einsum', inputs: dataFirst ? ['x', 'w'] : ['w', 'x'], outputs: ['y'], attrs: [attr.string('equation', equation)], name: 'e' }],
    };
    const bytes = buildModel(spec);
    const model = await openBytes(bytes);
    const node = model.nodes[0];
    assert.equal(node.spec.type, 'dense');
    if (node.spec.type !== 'dense') return;
    await assertMatchesOnnxRuntime(equation, bytes, model, uniformInput(xShape, 3, -2, 2));
    // The explicit matrix: onnxruntime's output on each basis vector, one column each.
    const truth = await onnxRuntimeExplicitSigma(bytes, model, xShape.reduce((a, b) => a * b, 1));
    const [rows, cols] = node.spec.weight.dims;
    const weight = new Matrix(rows, cols);
    for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) weight.set(i, k, node.spec.weight.data[i * cols + k]);
    assert.ok(Math.abs(sigma1(weight) - truth) <= 1e-5 * truth, `${sigma1(weight)} vs ${truth}`);
    assert.equal(node.spec.outputPerm === undefined, ['bij,jk->bik', 'bchw,oc->bohw'].includes(equation), JSON.stringify(node.spec.outputPerm));
  });
}
