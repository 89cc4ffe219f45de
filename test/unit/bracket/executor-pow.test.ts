// ONNX Pow with a constant exponent (torch's export of x**3, x**2, x**0.5, 1/x): run by the graph
// executor and by onnxruntime on the same positive input (1e-4 relative), and the executor's J(x)ᵀu
// against a central difference (the lower bound differentiates through every row it runs). A Pow
// whose exponent is data stays unsupported and not executable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { executionPlan, NotExecutableError } from '../../../src/engine/executor/execute';
import { buildModel, byName, node, open, openBytes, tensor, type ModelSpec } from '../../helpers/onnx-builder';
import { nodeRange } from '../../../src/analysis/ranges';
import { closedForm } from '../../../src/analysis/closed-form';
import { assertMatchesOnnxRuntime, gradientError, onnxRuntimeExplicitSigma, uniformInput } from './reference-runtimes';

/** y = Pow(x, e) with the exponent an initializer of the given shape. */
function powModel(xShape: number[], exponentDims: number[], exponents: number[]): ModelSpec {
  return {
    opset: 13,
    inputs: [{ name: 'x', shape: xShape }],
    outputs: ['y'],
    initializers: [tensor('e', exponentDims, exponents)],
    nodes: [node('Pow', ['x', 'e'], ['y'], [], 'pow')],
  };
}

async function check(label: string, spec: ModelSpec): Promise<void> {
  const bytes = buildModel(spec);
  const model = await openBytes(bytes);
  assert.doesNotThrow(() => executionPlan(model), label);
  // Positive inputs: x^0.5 and x^−1 are real and finite there, as in the layer norms and GELUs that write them.
  const input = uniformInput(model.inputs[0].shape, 7, 0.5, 2);
  await assertMatchesOnnxRuntime(label, bytes, model, input);
  const gradient = gradientError(model, input);
  assert.ok(gradient <= 2e-2, `${label}: J(x)ᵀu against central differences: relative error ${gradient}`);
}

for (const exponent of [2, 3, 0.5, -1]) {
  test(`executor matches onnxruntime: Pow(x, ${exponent}), scalar exponent`, async () => {
    await initBackend();
    const spec = powModel([1, 3, 4], [], [exponent]);
    const row = byName(await open(spec), 'pow');
    assert.equal(row.spec.type, 'unbounded');
    assert.equal(row.spec.type === 'unbounded' ? row.spec.power : undefined, exponent);
    await check(`Pow ${exponent}`, spec);
  });
  test(`executor matches onnxruntime: Pow(x, ${exponent}), exponent broadcast per channel`, async () => {
    await initBackend();
    await check(`Pow ${exponent} [3, 1]`, powModel([1, 3, 4], [3, 1], [exponent, exponent, exponent]));
  });
}

test('Pow(x, 0) is the constant 1: a row with constant 0 and the value range {1}, executed as onnxruntime does (0^0 = 1) with slope 0 also at x = 0', async () => {
  await initBackend();
  const spec = powModel([1, 3, 4], [], [0]);
  const row = byName(await open(spec), 'pow');
  assert.deepEqual(row.spec, { type: 'fixed', kind: 'activation', constant: 0, detail: 'x^0 = 1 (a constant, 0^0 = 1 included): 0', values: { kind: 'affine', scale: [0, 0], shift: [1, 1] } });
  assert.deepEqual(nodeRange(row, [undefined]), [1, 1], 'whatever the input, without a range too');
  assert.deepEqual(nodeRange(row, [[-5, 3]]), [1, 1]);
  await check('Pow 0', spec);
  // After a ReLU many entries are exactly 0, where tfjs's own Pow gradient 0·x^(−1) is NaN.
  const relu: ModelSpec = { ...spec, nodes: [node('Relu', ['x'], ['r']), node('Pow', ['r', 'e'], ['y'], [], 'pow')] };
  const bytes = buildModel(relu);
  const model = await openBytes(bytes);
  const input = uniformInput(model.inputs[0].shape, 7, -1, 1);
  assert.ok(input.some((v) => v < 0));
  await assertMatchesOnnxRuntime('Pow(Relu(x), 0)', bytes, model, input);
  assert.equal(gradientError(model, input), 0, 'J(x)ᵀu is 0, as are the central differences');
});

test('Pow(x, 1) stays the identity row; with an exponent that copies x to a larger shape, √copies as onnxruntime\'s map', async () => {
  const row = byName(await open(powModel([1, 3, 4], [], [1])), 'pow');
  assert.deepEqual(row.spec, { type: 'fixed', kind: 'structural', constant: 1, detail: 'x^1: 1' });
  await initBackend();
  const spec = powModel([1, 4], [3, 1], [1, 1, 1]);
  const bytes = buildModel(spec);
  const model = await openBytes(bytes);
  const copied = closedForm(byName(model, 'pow'))?.compositionConstant as number;
  const truth = await onnxRuntimeExplicitSigma(bytes, model, 4);
  assert.ok(Math.abs(copied - Math.sqrt(3)) < 1e-12 && Math.abs(truth - Math.sqrt(3)) < 1e-6, `${copied} vs ${truth}`);
});

test('executor matches onnxruntime: Pow with a different constant exponent per channel (unsupported row, still executed)', async () => {
  await initBackend();
  const spec = powModel([1, 4, 5], [4, 1], [2, 3, 0.5, -1]);
  const row = byName(await open(spec), 'pow');
  assert.equal(row.spec.type, 'unsupported');
  await check('Pow [2, 3, 0.5, −1] per channel', spec);
});

test('executor matches onnxruntime: an exponent that broadcasts the input up', async () => {
  await initBackend();
  await check('Pow [1, 4] to [2, 4]', powModel([1, 4], [2, 1], [3, 3]));
});

test('executor matches onnxruntime: GELU tanh form with the cube written as Pow 3 (torch export)', async () => {
  await initBackend();
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  const spec: ModelSpec = {
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 6] }],
    outputs: ['y'],
    initializers: [tensor('three', [], [3]), tensor('a', [], [0.044715]), tensor('k', [], [Math.sqrt(2 / Math.PI)]), tensor('one', [], [1]), tensor('half', [], [0.5])],
    nodes: [
      node('Pow', ['x', 'three'], ['x3']), node('Mul', ['x3', 'a'], ['ax3']), node('Add', ['x', 'ax3'], ['inner']), node('Mul', ['inner', 'k'], ['scaled']),
      node('Tanh', ['scaled'], ['t']), node('Add', ['t', 'one'], ['t1']), node('Mul', ['x', 'half'], ['hx']), node('Mul', ['hx', 't1'], ['y']),
    ],
  };
  await check('GELU tanh with Pow 3', spec);
});

test('Pow with a data-dependent exponent stays unsupported and not executable, with the reason', async () => {
  const spec: ModelSpec = {
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 4] }],
    outputs: ['y'],
    nodes: [node('Relu', ['x'], ['r']), node('Pow', ['x', 'r'], ['y'], [], 'pow')],
  };
  const model = await open(spec);
  const row = byName(model, 'pow');
  assert.equal(row.spec.type, 'unsupported');
  assert.match(row.spec.type === 'unsupported' ? row.spec.detail ?? '' : '', /data-dependent exponent/);
  assert.throws(() => executionPlan(model), (error: unknown) => error instanceof NotExecutableError && error.node === 'pow');
});
