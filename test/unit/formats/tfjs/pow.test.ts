// TF.js graph-model Pow with a constant exponent (a Const input): the same row as ONNX Pow
// (src/analysis/constants.ts powerSpec: x^1 the identity, x^0 the constant 1, any other exponent
// unbounded with `power`, so squares and cubes reach the product and GELU passes), run by the graph
// executor as tfjs's loadGraphModel runs it. An exponent computed from the data stays unsupported.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { closedForm } from '../../../../src/analysis/closed-form';
import { openMemory, row } from './helpers';
import { graphModel, placeholder } from './graph-builder';
import { executionPlan, NotExecutableError } from '../../../../src/engine/executor/execute';
import { executorOutputs, gradientError, relativeError, tfjsMemoryGraphOutputs, uniformInput } from '../../bracket/reference-runtimes';

/** y = Pow(x, e) with the exponent a Const of the given shape, after a ReLU when asked (entries exactly 0). */
function powGraph(xShape: number[], exponentShape: number[], exponents: number[], afterRelu = false) {
  return graphModel(
    [
      placeholder('x', xShape),
      ...(afterRelu ? [{ name: 'r', op: 'Relu', input: ['x'] }] : []),
      { name: 'pow', op: 'Pow', input: [afterRelu ? 'r' : 'x', 'e'], attr: { T: { type: 'DT_FLOAT' } } },
    ],
    [{ name: 'e', shape: exponentShape, values: exponents }],
  );
}

/** The executor against tfjs's own graph runner on one input, and its gradient against central differences. */
async function assertRunsAsTfjs(label: string, graph: ReturnType<typeof powGraph>, lo: number, hi: number): Promise<void> {
  const model = await openMemory(graph.json, graph.shards);
  assert.doesNotThrow(() => executionPlan(model), label);
  const input = uniformInput(model.inputs[0].shape, 5, lo, hi);
  const error = relativeError(executorOutputs(model, input), await tfjsMemoryGraphOutputs(graph.json, graph.shards, model, input));
  assert.ok(error <= 1e-5, `${label}: relative error ${error}`);
  const gradient = gradientError(model, input);
  assert.ok(gradient <= 2e-2, `${label}: J(x)ᵀu against central differences: relative error ${gradient}`);
}

for (const exponent of [2, 3, 0.5, -1]) {
  test(`Pow(x, ${exponent}) with a Const exponent: unbounded with its power, as ONNX's, and executed as tfjs runs it`, async () => {
    const graph = powGraph([1, 2, 3], [], [exponent]);
    const node = row(await openMemory(graph.json, graph.shards), 'pow');
    assert.equal(node.spec.type, 'unbounded');
    assert.equal(node.spec.type === 'unbounded' ? node.spec.power : undefined, exponent);
    // The square pass names the value without a range, as for ONNX's Pow 2.
    assert.match(node.spec.type === 'unbounded' ? node.spec.reason : '', exponent === 2 ? /^x\^2 is not globally Lipschitz: "x" has no bounded range$/ : new RegExp(`^x\\^${exponent} is not globally Lipschitz$`));
    assert.deepEqual(node.outputShapes, [[1, 2, 3]]);
    // Positive inputs: x^0.5 and x^−1 are real and finite there.
    await assertRunsAsTfjs(`Pow ${exponent}`, graph, 0.5, 2);
    await assertRunsAsTfjs(`Pow ${exponent}, exponent per channel`, powGraph([1, 2, 3], [3], [exponent, exponent, exponent]), 0.5, 2);
  });
}

test('Pow(x, 2) of a bounded value is a square as x·x, as ONNX\'s: 2·sup|x| (a sigmoid: 2), run as a product', async () => {
  const { json, shards } = graphModel([placeholder('x', [1, 2, 3]), { name: 's', op: 'Sigmoid', input: ['x'] }, { name: 'pow', op: 'Pow', input: ['s', 'e'] }], [{ name: 'e', shape: [], values: [2] }]);
  const node = row(await openMemory(json, shards), 'pow');
  assert.deepEqual(node.spec, { type: 'add', weights: [1, 1], detail: 'square of a bounded value (|s| ≤ 1.000), as x·x: L ≤ 2·sup|x|·L_x' });
  assert.equal(node.execution?.kind, 'product');
});

test('Pow(x, 0) is the constant 1 (constant 0, values {1}) and Pow(x, 1) the identity; both run as tfjs runs them, x^0 with slope 0 also at x = 0', async () => {
  const zero = powGraph([1, 2, 3], [], [0], true);
  const zeroRow = row(await openMemory(zero.json, zero.shards), 'pow');
  assert.deepEqual(zeroRow.spec, { type: 'fixed', kind: 'activation', constant: 0, detail: 'x^0 = 1 (a constant, 0^0 = 1 included): 0', values: { kind: 'affine', scale: [0, 0], shift: [1, 1] } });
  await assertRunsAsTfjs('Pow(Relu(x), 0)', zero, -1, 1);
  const one = powGraph([1, 2, 3], [], [1]);
  assert.deepEqual(row(await openMemory(one.json, one.shards), 'pow').spec, { type: 'fixed', kind: 'structural', constant: 1, detail: 'x^1: 1' });
  await assertRunsAsTfjs('Pow 1', one, -1, 1);
  // An exponent of shape [2, 1, 1] copies each entry of x twice: ‖(x, x)‖ = √2·‖x‖.
  const copied = powGraph([1, 2, 3], [2, 1, 1], [1, 1], true);
  const copiedRow = row(await openMemory(copied.json, copied.shards), 'pow');
  assert.deepEqual(copiedRow.outputShapes, [[2, 2, 3]]);
  assert.ok(Math.abs((closedForm(copiedRow)?.compositionConstant as number) - Math.SQRT2) < 1e-12);
  await assertRunsAsTfjs('Pow 1 broadcast up', copied, -1, 1);
});

test('Pow with a different Const exponent per channel: an unsupported row, still executed as tfjs runs it', async () => {
  const graph = powGraph([1, 2, 3], [3], [2, 3, 0.5]);
  const node = row(await openMemory(graph.json, graph.shards), 'pow');
  assert.equal(node.spec.type, 'unsupported');
  assert.match(node.spec.type === 'unsupported' ? node.spec.detail ?? '' : '', /differs between entries/);
  await assertRunsAsTfjs('Pow [2, 3, 0.5] per channel', graph, 0.5, 2);
});

test('Pow with an exponent computed from the data stays unsupported and not executable, with the reason', async () => {
  const { json, shards } = graphModel([placeholder('x', [1, 4]), { name: 'r', op: 'Relu', input: ['x'] }, { name: 'pow', op: 'Pow', input: ['x', 'r'] }], []);
  const model = await openMemory(json, shards);
  const node = row(model, 'pow');
  assert.equal(node.spec.type, 'unsupported');
  assert.match(node.spec.type === 'unsupported' ? node.spec.detail ?? '' : '', /exponent computed from the data/);
  assert.deepEqual(node.outputShapes, [[1, 4]]);
  assert.throws(() => executionPlan(model), (error: unknown) => error instanceof NotExecutableError && error.node === 'pow');
});
