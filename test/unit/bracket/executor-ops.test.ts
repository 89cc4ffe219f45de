// One-op ONNX models, each run by the graph executor and by onnxruntime on the same random input:
// every op the executor runs, with the attributes that change its semantics (pads, ceil mode,
// count_include_pad, groups, dilations, strides, output padding, negative slopes, axes).

import { test } from 'node:test';
import { initBackend } from '../../../src/engine/backend';
import { attr, buildModel, openBytes, seeded, single, tensor, type ModelSpec } from '../../helpers/onnx-builder';
import { assertMatchesOnnxRuntime, uniformInput } from './reference-runtimes';

async function check(label: string, spec: ModelSpec): Promise<void> {
  const bytes = buildModel(spec);
  const model = await openBytes(bytes);
  await assertMatchesOnnxRuntime(label, bytes, model, uniformInput(model.inputs[0].shape, 5, -2, 2));
}

const w = (name: string, dims: number[], seed: number) => tensor(name, dims, seeded(dims.reduce((a, b) => a * b, 1), seed));

const cases: [string, ModelSpec][] = [
  ['Conv pads/strides/dilations/bias', single('Conv', [1, 4, 11, 9], { inputs: ['w', 'b'], initializers: [w('w', [6, 4, 3, 3], 1), w('b', [6], 2)], attrs: [attr.ints('pads', [1, 0, 2, 1]), attr.ints('strides', [2, 1]), attr.ints('dilations', [1, 2])] })],
  ['Conv grouped', single('Conv', [1, 6, 8, 8], { inputs: ['w'], initializers: [w('w', [9, 2, 3, 3], 3)], attrs: [attr.int('group', 3), attr.ints('pads', [1, 1, 1, 1])] })],
  ['Conv depthwise ×2', single('Conv', [1, 4, 7, 7], { inputs: ['w'], initializers: [w('w', [8, 1, 3, 3], 4)], attrs: [attr.int('group', 4), attr.string('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])] })],
  ['Conv depthwise dilated, padded, channels-first', single('Conv', [1, 3, 9, 8], { inputs: ['w', 'b'], initializers: [w('w', [3, 1, 3, 3], 37), w('b', [3], 38)], attrs: [attr.int('group', 3), attr.ints('pads', [2, 1, 2, 0]), attr.ints('dilations', [2, 1])] })],
  ['Conv 1-D', single('Conv', [1, 3, 20], { inputs: ['w', 'b'], initializers: [w('w', [5, 3, 4], 5), w('b', [5], 6)], attrs: [attr.ints('pads', [2, 1]), attr.ints('strides', [3])] })],
  ['ConvTranspose stride/pads/output_padding/group', single('ConvTranspose', [1, 4, 5, 6], { inputs: ['w', 'b'], initializers: [w('w', [4, 3, 3, 4], 7), w('b', [6], 8)], attrs: [attr.int('group', 2), attr.ints('strides', [2, 3]), attr.ints('pads', [1, 0, 0, 2]), attr.ints('output_padding', [1, 2])] })],
  ['ConvTranspose dilated', single('ConvTranspose', [1, 2, 4, 5], { inputs: ['w', 'b'], initializers: [w('w', [2, 3, 3, 2], 31), w('b', [3], 32)], attrs: [attr.ints('dilations', [2, 3]), attr.ints('strides', [2, 1]), attr.ints('pads', [1, 0, 2, 1])] })],
  ['ConvTranspose 1-D dilated', single('ConvTranspose', [1, 3, 6], { inputs: ['w'], initializers: [w('w', [3, 2, 3], 33)], attrs: [attr.ints('dilations', [2]), attr.ints('strides', [3]), attr.ints('output_padding', [1])] })],
  ['Conv 3-D pads/strides/dilations/bias', single('Conv', [1, 3, 5, 6, 7], { inputs: ['w', 'b'], initializers: [w('w', [4, 3, 3, 2, 3], 34), w('b', [4], 35)], attrs: [attr.ints('pads', [1, 0, 1, 1, 1, 0]), attr.ints('strides', [2, 1, 2]), attr.ints('dilations', [1, 2, 1])] })],
  ['Conv 3-D grouped', single('Conv', [1, 4, 4, 4, 4], { inputs: ['w'], initializers: [w('w', [6, 2, 3, 3, 3], 36)], attrs: [attr.int('group', 2), attr.ints('pads', [1, 1, 1, 1, 1, 1])] })],
  ['Resize nearest ×2 (asymmetric, floor)', single('Resize', [1, 2, 3, 4], { opset: 13, inputs: ['', 's'], initializers: [tensor('s', [4], [1, 1, 2, 2])], attrs: [attr.string('coordinate_transformation_mode', 'asymmetric'), attr.string('nearest_mode', 'floor')] })],
  ['Resize linear half_pixel to sizes', single('Resize', [1, 2, 4, 5], { opset: 13, inputs: ['', '', 'sz'], initializers: [tensor('sz', [4], [1, 2, 7, 3], { dataType: 7 })], attrs: [attr.string('mode', 'linear')] })],
  ['Resize cubic align_corners', single('Resize', [1, 1, 4, 4], { opset: 13, inputs: ['', 's'], initializers: [tensor('s', [4], [1, 1, 1.5, 2])], attrs: [attr.string('mode', 'cubic'), attr.string('coordinate_transformation_mode', 'align_corners')] })],
  ['Gemm transB alpha beta', single('Gemm', [3, 7], { inputs: ['w', 'c'], initializers: [w('w', [5, 7], 9), w('c', [5], 10)], attrs: [attr.int('transB', 1), attr.float('alpha', 0.7), attr.float('beta', 1.5)] })],
  ['MatMul on a 3-D input', single('MatMul', [1, 4, 6], { inputs: ['w'], initializers: [w('w', [6, 3], 11)] })],
  ['BatchNormalization', single('BatchNormalization', [1, 3, 4, 4], { inputs: ['g', 'bb', 'm', 'v'], initializers: [w('g', [3], 12), w('bb', [3], 13), w('m', [3], 14), tensor('v', [3], [0.5, 1.5, 2])] })],
  ['AveragePool ceil, pads not counted', single('AveragePool', [1, 2, 7, 8], { attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 0, 0]), attr.int('ceil_mode', 1)] })],
  ['AveragePool count_include_pad', single('AveragePool', [1, 2, 6, 6], { attrs: [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [1, 2]), attr.ints('pads', [1, 0, 1, 1]), attr.int('count_include_pad', 1)] })],
  ['MaxPool ceil with pads', single('MaxPool', [1, 3, 9, 8], { attrs: [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 0]), attr.int('ceil_mode', 1)] })],
  ['GlobalAveragePool', single('GlobalAveragePool', [1, 5, 3, 4])],
  ['ReduceMean keepdims 0', single('ReduceMean', [1, 4, 3, 5], { attrs: [attr.ints('axes', [2, 3]), attr.int('keepdims', 0)] })],
  ['LeakyRelu', single('LeakyRelu', [1, 10], { attrs: [attr.float('alpha', 0.3)] })],
  ['Elu', single('Elu', [1, 10], { attrs: [attr.float('alpha', 0.7)] })],
  ['Selu', single('Selu', [1, 10])],
  ['HardSigmoid', single('HardSigmoid', [1, 10], { attrs: [attr.float('alpha', 0.3), attr.float('beta', 0.4)] })],
  ['HardSwish', single('HardSwish', [1, 10], { opset: 14 })],
  ['Softplus, Softsign, Tanh, Sigmoid', { inputs: [{ name: 'x', shape: [1, 12] }], outputs: ['d'], nodes: [{ op: 'Softplus', inputs: ['x'], outputs: ['a'] }, { op: 'Softsign', inputs: ['a'], outputs: ['b'] }, { op: 'Tanh', inputs: ['b'], outputs: ['c'] }, { op: 'Sigmoid', inputs: ['c'], outputs: ['d'] }] }],
  ['Sin, Cos, Atan, Asinh', { inputs: [{ name: 'x', shape: [1, 12] }], outputs: ['d'], nodes: [{ op: 'Sin', inputs: ['x'], outputs: ['a'] }, { op: 'Cos', inputs: ['a'], outputs: ['b'] }, { op: 'Atan', inputs: ['b'], outputs: ['c'] }, { op: 'Asinh', inputs: ['c'], outputs: ['d'] }] }],
  ['Clip (opset 11 inputs)', single('Clip', [1, 10], { inputs: ['lo', 'hi'], initializers: [tensor('lo', [], [-0.5]), tensor('hi', [], [0.8])] })],
  ['Softmax on axis 1', single('Softmax', [2, 5, 3], { attrs: [attr.int('axis', 1)] })],
  ['LogSoftmax', single('LogSoftmax', [2, 6])],
  ['PRelu per channel', single('PRelu', [1, 3, 2, 2], { inputs: ['s'], initializers: [tensor('s', [3, 1, 1], [0.1, -0.2, 0.3])] })],
  ['Sub constant − x', { inputs: [{ name: 'x', shape: [1, 3, 2] }], outputs: ['y'], initializers: [w('c', [3, 1], 15)], nodes: [{ op: 'Sub', inputs: ['c', 'x'], outputs: ['y'] }] }],
  ['Mul by a broadcast constant', { inputs: [{ name: 'x', shape: [1, 3, 4] }], outputs: ['y'], initializers: [w('c', [3, 4], 16)], nodes: [{ op: 'Mul', inputs: ['x', 'c'], outputs: ['y'] }] }],
  ['Div by a per-channel constant', { inputs: [{ name: 'x', shape: [1, 3, 4] }], outputs: ['y'], initializers: [tensor('c', [3, 1], [2, -4, 0.5])], nodes: [{ op: 'Div', inputs: ['x', 'c'], outputs: ['y'] }] }],
  ['Max with a constant', { inputs: [{ name: 'x', shape: [1, 6] }], outputs: ['y'], initializers: [tensor('c', [], [0.25])], nodes: [{ op: 'Max', inputs: ['x', 'c'], outputs: ['y'] }] }],
  ['Pad constant', single('Pad', [1, 2, 3, 3], { inputs: ['p', 'v'], initializers: [tensor('p', [8], [0, 0, 1, 2, 0, 1, 2, 0], { dataType: 7 }), tensor('v', [], [0.5])] })],
  ['Transpose, Reshape, Flatten', { inputs: [{ name: 'x', shape: [1, 2, 3, 4] }], outputs: ['c'], initializers: [tensor('shape', [3], [1, 4, 6], { dataType: 7 })], nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['a'], attrs: [attr.ints('perm', [0, 3, 1, 2])] }, { op: 'Reshape', inputs: ['a', 'shape'], outputs: ['b'] }, { op: 'Flatten', inputs: ['b'], outputs: ['c'] }] }],
  ['Add and Sub of data, Concat', { inputs: [{ name: 'x', shape: [1, 4] }], outputs: ['d'], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['a'] }, { op: 'Sub', inputs: ['x', 'a'], outputs: ['b'] }, { op: 'Add', inputs: ['b', 'x'], outputs: ['c'] }, { op: 'Concat', inputs: ['c', 'a', 'b'], outputs: ['d'], attrs: [attr.int('axis', 1)] }] }],
  ['SiLU as Sigmoid + Mul', { inputs: [{ name: 'x', shape: [1, 8] }], outputs: ['y'], nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['s'] }, { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] }] }],
];

for (const [label, spec] of cases) {
  test(`executor matches onnxruntime: ${label}`, async () => {
    await initBackend();
    await check(label, spec);
  });
}
