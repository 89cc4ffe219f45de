// Normalisations, data×data products, moduli and selections: one-op (or written-out) ONNX models,
// each run by the graph executor and by onnxruntime on the same random input (1e-4 relative), and
// the executor's J(x)ᵀu by tfjs autodiff on the backend in use against a central difference (the
// lower bound takes gradients through every op it runs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { executionPlan } from '../../../src/engine/executor/execute';
import { attr, buildModel, int64s, node, openBytes, seeded, single, tensor, type ModelSpec } from '../../helpers/onnx-builder';
import { assertMatchesOnnxRuntime, gradientError, uniformInput } from './reference-runtimes';

const w = (name: string, dims: number[], seed: number) => tensor(name, dims, seeded(dims.reduce((a, b) => a * b, 1), seed));

async function check(label: string, spec: ModelSpec, range: [number, number] = [-2, 2]): Promise<void> {
  const bytes = buildModel(spec);
  const model = await openBytes(bytes);
  assert.doesNotThrow(() => executionPlan(model), label);
  const input = uniformInput(model.inputs[0].shape, 5, range[0], range[1]);
  await assertMatchesOnnxRuntime(label, bytes, model, input);
  const gradient = gradientError(model, input);
  assert.ok(gradient <= 2e-2, `${label}: J(x)ᵀu against central differences: relative error ${gradient}`);
}

/** x − mean, square, mean, + ε, √, divide over the last axis (layer norm below opset 17), then γ, β. */
const writtenLayerNorm: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [1, 5, 8] }],
  outputs: ['y'],
  initializers: [tensor('two', [], [2]), tensor('eps', [], [1e-5]), w('g', [8], 1), w('b', [8], 2)],
  nodes: [
    node('ReduceMean', ['x'], ['m'], [attr.ints('axes', [-1])]), node('Sub', ['x', 'm'], ['d']), node('Pow', ['d', 'two'], ['d2']),
    node('ReduceMean', ['d2'], ['v'], [attr.ints('axes', [-1])]), node('Add', ['v', 'eps'], ['ve']), node('Sqrt', ['ve'], ['s']),
    node('Div', ['d', 's'], ['n']), node('Mul', ['n', 'g'], ['ng']), node('Add', ['ng', 'b'], ['y']),
  ],
};

/** RMS norm: x · 1/√(mean(x²) + ε) over the channels of N, C, L. */
const writtenRmsNorm: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [1, 6, 4] }],
  outputs: ['y'],
  initializers: [tensor('eps', [], [1e-3])],
  nodes: [node('Mul', ['x', 'x'], ['x2']), node('ReduceMean', ['x2'], ['v'], [attr.ints('axes', [1])]), node('Add', ['v', 'eps'], ['ve']), node('Sqrt', ['ve'], ['s']), node('Reciprocal', ['s'], ['r']), node('Mul', ['x', 'r'], ['y'])],
};

/** F.normalize: x / max(‖x‖₂, ε) over the last axis. */
const writtenL2: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [2, 7] }],
  outputs: ['y'],
  initializers: [tensor('eps', [], [1e-2])],
  nodes: [node('ReduceL2', ['x'], ['n'], [attr.ints('axes', [1])]), node('Clip', ['n', 'eps'], ['c']), node('Expand', ['c', 'shape'], ['e']), node('Div', ['x', 'e'], ['y'])],
};
writtenL2.initializers?.push(int64s('shape', [2, 7]));

/** |STFT|: √(re² + im² + ε) of two halves of the signal (sliced apart). */
const modulus: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [1, 2, 6] }],
  outputs: ['y'],
  initializers: [int64s('s0', [0]), int64s('s1', [1]), int64s('e1', [1]), int64s('e2', [2]), int64s('ax', [1]), tensor('two', [], [2]), tensor('eps', [], [1e-6])],
  nodes: [
    node('Slice', ['x', 's0', 'e1', 'ax'], ['re']), node('Slice', ['x', 's1', 'e2', 'ax'], ['im']), node('Pow', ['re', 'two'], ['re2']), node('Pow', ['im', 'two'], ['im2']),
    node('Add', ['re2', 'im2'], ['p']), node('Add', ['p', 'eps'], ['pe']), node('Sqrt', ['pe'], ['y']),
  ],
};

/** Attention scores: softmax(x·xᵀ / √d)·x, a data MatMul on either side. */
const attention: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [2, 4, 3] }],
  outputs: ['y'],
  initializers: [tensor('scale', [], [0.5])],
  nodes: [node('Transpose', ['x'], ['xt'], [attr.ints('perm', [0, 2, 1])]), node('MatMul', ['x', 'xt'], ['s']), node('Mul', ['s', 'scale'], ['ss']), node('Softmax', ['ss'], ['p'], [attr.int('axis', -1)]), node('MatMul', ['p', 'x'], ['y'])],
};

const gemmData: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [4, 3] }],
  outputs: ['y'],
  initializers: [w('c', [1, 4], 3)],
  nodes: [node('Tanh', ['x'], ['t']), node('Gemm', ['x', 't'], ['y'], [attr.int('transB', 1), attr.float('alpha', 0.7), attr.float('beta', 1.5)])],
};

const einsumData: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [2, 3, 4] }],
  outputs: ['y'],
  nodes: [node('Sigmoid', ['x'], ['s']), node('Einsum', ['x', 's'], ['y'], [attr.string('equation', 'bik,bjk->bij')])],
};

const selections: ModelSpec = {
  opset: 13,
  inputs: [{ name: 'x', shape: [1, 4, 6, 5] }],
  outputs: ['a', 'b', 'c', 'd'],
  initializers: [int64s('st', [1, 5]), int64s('en', [4, 0]), int64s('ax', [2, 3]), int64s('sp', [2, -2]), int64s('idx', [3, 0, 3], [3]), int64s('sizes', [1, 2]), int64s('shape', [2, 1, 4, 6, 5]), int64s('reps', [1, 1, 2, 1, 2])],
  nodes: [
    node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['a']), node('Gather', ['x', 'idx'], ['g'], [attr.int('axis', 1)]), node('Split', ['g', 'sizes'], ['b', 'c'], [attr.int('axis', 1)]),
    node('Expand', ['x', 'shape'], ['e']), node('Tile', ['e', 'reps'], ['d']),
  ],
};

const cases: [string, ModelSpec][] = [
  ['LayerNormalization over the last two axes', single('LayerNormalization', [2, 3, 4, 5], { opset: 17, inputs: ['g', 'b'], initializers: [w('g', [4, 5], 4), w('b', [4, 5], 5)], attrs: [attr.int('axis', -2), attr.float('epsilon', 1e-3)] })],
  ['InstanceNormalization', single('InstanceNormalization', [2, 3, 4, 5], { inputs: ['g', 'b'], initializers: [w('g', [3], 6), w('b', [3], 7)], attrs: [attr.float('epsilon', 1e-2)] })],
  ['GroupNormalization (opset 21, per-channel scale)', single('GroupNormalization', [1, 6, 3, 4], { opset: 21, inputs: ['g', 'b'], initializers: [w('g', [6], 8), w('b', [6], 9)], attrs: [attr.int('num_groups', 3), attr.float('epsilon', 1e-3)] })],
  ['layer norm written out (ReduceMean, Sub, Pow, Add ε, Sqrt, Div)', writtenLayerNorm],
  ['RMS norm written out (Mul, ReduceMean, Add ε, Sqrt, Reciprocal, Mul)', writtenRmsNorm],
  ['L2 normalisation written out (ReduceL2, Clip ε, Expand, Div)', writtenL2],
  ['modulus √(re² + im² + ε)', modulus],
  ['MatMul of two data tensors, Softmax', attention],
  ['Gemm of two data matrices (transB, alpha, β·C)', gemmData],
  ['Einsum bik,bjk->bij of two data tensors', einsumData],
  ['Slice with axes and negative steps, Gather, Split, Expand, Tile', selections],
  // Ten runs of one index: the 0/1 selection-matrix path (few runs take slices).
  ['Slice with step 3 on an axis of 30', single('Slice', [1, 2, 30], { opset: 13, inputs: ['st', 'en', 'ax', 'sp'], initializers: [int64s('st', [1]), int64s('en', [30]), int64s('ax', [2]), int64s('sp', [3])] })],
  ['ReduceMax, ReduceMin (keepdims 0), ReduceSum', { opset: 13, inputs: [{ name: 'x', shape: [1, 3, 4, 5] }], outputs: ['c'], initializers: [int64s('ax', [2])], nodes: [node('ReduceMax', ['x'], ['a'], [attr.ints('axes', [1])]), node('ReduceMin', ['a'], ['b'], [attr.ints('axes', [3]), attr.int('keepdims', 0)]), node('ReduceSum', ['b', 'ax'], ['c'])] }],
  ['Pad reflect', single('Pad', [1, 2, 4, 5], { opset: 13, inputs: ['p'], initializers: [int64s('p', [0, 0, 2, 1, 0, 0, 3, 4])], attrs: [attr.string('mode', 'reflect')] })],
  ['Pad edge with a crop', single('Pad', [1, 2, 4, 5], { opset: 13, inputs: ['p'], initializers: [int64s('p', [0, 0, 3, -1, 0, 1, 2, 2])], attrs: [attr.string('mode', 'edge')] })],
];

for (const [label, spec] of cases) {
  test(`executor matches onnxruntime: ${label}`, async () => {
    await initBackend();
    await check(label, spec);
  });
}
