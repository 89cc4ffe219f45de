// TF.js Einsum (jax2tf writes dense layers this way): the signal times a constant matrix along one
// axis is a dense row whose σ matches the explicit matrix of the map (built with tf.einsum on the
// basis), run by the graph executor as tfjs's loadGraphModel runs it; other equations stay
// unsupported with their output shape, so later layers are read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix } from 'ml-matrix';
import { sigma1 } from '../../../helpers/keras-reference';
import { openMemory, row, seeded } from './helpers';
import { graphModel, placeholder, s } from './graph-builder';
import { einsumShape } from '../../../../src/formats/einsum';
import { executorOutputs, relativeError, tfjsMemoryGraphOutputs, uniformInput } from '../../bracket/reference-runtimes';

/** The explicit matrix of x ↦ einsum(equation, x, w) (or w, x), one column per basis vector of x. */
function explicit(equation: string, xShape: number[], w: tf.Tensor, dataFirst: boolean): Matrix {
  const n = xShape.reduce((a, b) => a * b, 1);
  const columns: number[][] = [];
  for (let j = 0; j < n; j++) {
    const e = new Float32Array(n);
    e[j] = 1;
    const x = tf.tensor(e, xShape);
    const y = dataFirst ? tf.einsum(equation, x, w) : tf.einsum(equation, w, x);
    columns.push(Array.from(y.dataSync()));
  }
  return new Matrix(columns).transpose();
}

for (const [equation, xShape, wShape, dataFirst] of [
  ['abc,cf->abf', [1, 3, 4], [4, 5], true],
  ['abgd,gf->abdf', [1, 2, 3, 4], [3, 2], true],
  ['gb,cgef->bcef', [2, 3, 2, 2], [3, 4], false],
  ['bij,jk->bki', [1, 3, 4], [4, 5], true],
  ['btc,cd->bdt', [2, 3, 4], [4, 2], true],
] as const) {
  test(`Einsum "${equation}" of the signal and a constant matrix: a dense row, σ as the explicit matrix's`, async () => {
    const wValues = Array.from(seeded(wShape[0] * wShape[1], equation.length));
    const { json, shards } = graphModel(
      [placeholder('x', [...xShape]), { name: 'e', op: 'Einsum', input: dataFirst ? ['x', 'w'] : ['w', 'x'], attr: { equation: s(equation), N: { i: '2' } } }],
      [{ name: 'w', shape: [...wShape], values: wValues }],
    );
    const node = row(await openMemory(json, shards), 'e');
    assert.equal(node.spec.type, 'dense');
    const w = tf.tensor(wValues, [...wShape]);
    const expectedShape = tf.einsum(equation, ...(dataFirst ? [tf.zeros([...xShape]), w] : [w, tf.zeros([...xShape])])).shape;
    assert.deepEqual(node.outputShapes, [expectedShape]);
    if (node.spec.type !== 'dense') return;
    const [rows, cols] = node.spec.weight.dims;
    const weight = new Matrix(rows, cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) weight.set(i, j, node.spec.weight.data[i * cols + j]);
    const truth = sigma1(explicit(equation, [...xShape], w, dataFirst));
    assert.ok(Math.abs(sigma1(weight) - truth) < 1e-5 * truth, `${sigma1(weight)} vs ${truth}`);
    // The contracted axis has the weight's input size.
    assert.equal(xShape[node.spec.axis ?? xShape.length - 1], rows);
    // The executor lays the output out as tfjs's own runner does (reordered output axes included).
    // On the cpu backend (this file's): wasm has no Einsum kernel for the reference.
    const model = await openMemory(json, shards);
    const input = uniformInput([...xShape], 4, -2, 2);
    const error = relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input));
    assert.ok(error <= 1e-4, `relative error ${error}`);
  });
}

test('Einsum of two signals that is a batched matrix product: a data MatMul (weights from the factors\' ranges), executed as tfjs runs it', async () => {
  // x times t = tanh(x): "bik,bjk->bij" (X·Tᵀ) on x 2×3×4, "bij,bjk->bik" (X·T) on a square x 2×4×4.
  const graph = (equation: string, xShape: number[]) =>
    graphModel([placeholder('x', xShape), { name: 't', op: 'Tanh', input: ['x'] }, { name: 'gram', op: 'Einsum', input: ['x', 't'], attr: { equation: s(equation), N: { i: '2' } } }], []);
  for (const [equation, xShape, outShape] of [['bik,bjk->bij', [2, 3, 4], [2, 3, 3]], ['bij,bjk->bik', [2, 4, 4], [2, 4, 4]]] as const) {
    const { json, shards } = graph(equation, [...xShape]);
    const model = await openMemory(json, shards);
    const gram = row(model, 'gram');
    assert.ok(gram.spec.type === 'unbounded' && gram.spec.matmul, JSON.stringify(gram.spec));
    assert.deepEqual(gram.outputShapes, [[...outShape]]);
    const input = uniformInput([...xShape], 6, -2, 2);
    const error = relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(json, shards, model, input));
    assert.ok(error <= 1e-4, `${equation}: relative error ${error}`);
  }
  // On the box [−1, 1]: ‖X‖₂ ≤ √(3·4) and ‖tanh X‖₂ ≤ tanh(1)·√(3·4): L ≤ sup‖T‖·1 + sup‖X‖·1.
  const { json, shards } = graph('bik,bjk->bij', [2, 3, 4]);
  const boxed = row(await openMemory(json, shards, { inputRange: [-1, 1] }), 'gram');
  const expected = [Math.tanh(1) * Math.sqrt(12), Math.sqrt(12)];
  assert.ok(boxed.spec.type === 'add' && boxed.spec.weights?.every((w, i) => Math.abs(w - expected[i]) < 1e-6 * expected[i]), JSON.stringify(boxed.spec));
});

test('Einsum of two signals that is no batched product, or with a constant that is not a matrix: unsupported, its output shape kept', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 3, 4]),
      { name: 'gram', op: 'Einsum', input: ['x', 'x'], attr: { equation: s('bik,bjk->bji'), N: { i: '2' } } },
      { name: 'outer', op: 'Einsum', input: ['x', 'x'], attr: { equation: s('bik,bjl->bijkl'), N: { i: '2' } } },
      { name: 'cube', op: 'Einsum', input: ['x', 't'], attr: { equation: s('bik,kjl->bijl'), N: { i: '2' } } },
      { name: 'after', op: 'Relu', input: ['cube'] },
    ],
    [{ name: 't', shape: [4, 2, 2], values: Array.from(seeded(16)) }],
  );
  const model = await openMemory(json, shards);
  assert.deepEqual([row(model, 'gram').spec.type, row(model, 'gram').outputShapes], ['unsupported', [[1, 3, 3]]]);
  assert.match(JSON.stringify(row(model, 'gram').spec), /not a batched matrix product/);
  assert.deepEqual([row(model, 'outer').spec.type, row(model, 'outer').outputShapes], ['unsupported', [[1, 3, 3, 4, 4]]]);
  assert.deepEqual([row(model, 'cube').spec.type, row(model, 'cube').outputShapes], ['unsupported', [[1, 3, 2, 2]]]);
  assert.deepEqual(row(model, 'after').outputShapes, [[1, 3, 2, 2]]);
});

test('einsumShape: sizes by label, size-1 axes broadcast, a mismatch or wrong rank gives undefined', () => {
  assert.deepEqual(einsumShape('bik,bkj->bij', [[2, 3, 4], [1, 4, 5]]), [2, 3, 5]);
  assert.equal(einsumShape('ik,kj->ij', [[3, 4], [5, 2]]), undefined);
  assert.equal(einsumShape('ik,kj->ij', [[3, 4, 1], [4, 2]]), undefined);
  assert.equal(einsumShape('...k,kj->...j', [[3, 4], [4, 2]]), undefined);
});

test('where(x >= 0, x, α·x) is a leaky ReLU (max(1, |α|)) whose comparison gets no row; another select stays unsupported', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 4]),
      { name: 'ge', op: 'GreaterEqual', input: ['x', 'zero'] },
      { name: 'ax', op: 'Mul', input: ['alpha', 'x'] },
      { name: 'leaky', op: 'SelectV2', input: ['ge', 'x', 'ax'] },
      { name: 'lt', op: 'Less', input: ['x', 'zero'] },
      { name: 'steep', op: 'Mul', input: ['x', 'three'] },
      { name: 'swapped', op: 'SelectV2', input: ['lt', 'steep', 'x'] },
      // Not a leaky ReLU: the threshold is 1, where x and 0.2·x do not meet.
      { name: 'gt1', op: 'Greater', input: ['x', 'one'] },
      { name: 'other', op: 'SelectV2', input: ['gt1', 'x', 'ax'] },
    ],
    [{ name: 'zero', shape: [], values: [0] }, { name: 'one', shape: [], values: [1] }, { name: 'alpha', shape: [], values: [0.2] }, { name: 'three', shape: [], values: [-3] }],
  );
  const model = await openMemory(json, shards);
  const leaky = row(model, 'leaky');
  assert.ok(leaky.spec.type === 'fixed' && leaky.spec.constant === 1, JSON.stringify(leaky.spec));
  assert.deepEqual([leaky.inputs, leaky.outputShapes], [['x'], [[1, 4]]]);
  const swapped = row(model, 'swapped');
  assert.ok(swapped.spec.type === 'fixed' && swapped.spec.constant === 3, JSON.stringify(swapped.spec));
  assert.equal(model.nodes.some((n) => n.name === 'ge' || n.name === 'lt'), false, 'comparisons read only by leaky selects get no row');
  assert.equal(row(model, 'other').spec.type, 'unsupported');
  assert.equal(row(model, 'gt1').spec.type, 'unsupported');
});
