// The executor's convolutions carry their own input gradient, made of forward convolutions
// (execute.ts convWithForwardGradient: the flipped kernel for stride 1, the stride phases otherwise):
// J(x)ᵀu must equal tfjs's own gradient (Conv2DBackpropInput) of the same convolution of the padded
// input, with dilation, groups, depthwise, uneven pads and sizes that are not a multiple of the
// stride, and the same with the kernels cached across passes (withKernelCache); ConvTranspose (a
// stride-1 conv of the spread input) must satisfy ⟨Jᵀu, v⟩ = ⟨u, J v⟩.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initBackend } from '../../../src/engine/backend';
import { executionPlan, runGraph, withKernelCache } from '../../../src/engine/executor/execute';
import { dilateKernel, kernelFromCanonical } from '../../../src/engine/operators/kernel';
import type { ConvSpec, ConvTransposeSpec, IrModel, IrNode } from '../../../src/model/ir';
import { seededNormals } from '../../helpers/explicit-matrix';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function oneNodeModel(inShape: number[], outShape: number[], node: Omit<IrNode, 'name' | 'inputs' | 'outputs' | 'inputShapes' | 'outputShapes'>): IrModel {
  return {
    format: 'onnx',
    path: 'conv.onnx',
    inputs: [{ name: 'x', shape: inShape, declaredShape: inShape }],
    outputs: ['y'],
    nodes: [{ name: 'y', inputs: ['x'], outputs: ['y'], inputShapes: [inShape], outputShapes: [outShape], ...node }],
    metadata: { nodeCount: 1, parameterCount: 0 },
    warnings: [],
  };
}

/** max |a − b| ≤ 1e-5 · max |b| (float32 sums of up to a few hundred terms, in another order). */
function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, label: string): void {
  assert.equal(a.length, b.length, label);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  assert.ok(scale > 0, `${label}: zero reference`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * scale, `${label}, entry ${i}: ${a[i]} vs ${b[i]}`);
}

interface ConvCase {
  label: string;
  cIn: number;
  cOut: number;
  size: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  group: number;
}

const CASES: ConvCase[] = [
  { label: 'stride 1, dilation 2×1, 2 groups, uneven pads', cIn: 4, cOut: 6, size: [7, 9], kernel: [3, 2], strides: [1, 1], dilations: [2, 1], padsBegin: [2, 0], padsEnd: [1, 1], group: 2 },
  // Few input channels: one conv produces all phases (subPixelKernel).
  { label: 'stride 2, 7×7, 3 channels, odd size (ResNet stem)', cIn: 3, cOut: 8, size: [23, 21], kernel: [7, 7], strides: [2, 2], dilations: [1, 1], padsBegin: [3, 3], padsEnd: [3, 3], group: 1 },
  // From 32 input channels: one conv per phase (phaseKernels).
  { label: 'stride 2, 3×3, 32 channels, uneven pads, odd size', cIn: 32, cOut: 16, size: [9, 8], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 0], padsEnd: [0, 2], group: 1 },
  { label: 'stride 2, 1×1 (phases with no taps), 32 channels', cIn: 32, cOut: 8, size: [7, 6], kernel: [1, 1], strides: [2, 2], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 1 },
  { label: 'stride 2, dilation 2 (phases of zero taps), 2 groups, 32 channels', cIn: 32, cOut: 8, size: [11, 10], kernel: [3, 3], strides: [2, 2], dilations: [2, 2], padsBegin: [2, 1], padsEnd: [2, 2], group: 2 },
  { label: 'stride 2, dilation 3, 4 channels', cIn: 4, cOut: 4, size: [12, 13], kernel: [3, 2], strides: [2, 2], dilations: [3, 3], padsBegin: [3, 0], padsEnd: [2, 3], group: 1 },
  { label: 'strides 3×2, 5×4 kernel, uneven pads', cIn: 5, cOut: 3, size: [13, 10], kernel: [5, 4], strides: [3, 2], dilations: [1, 1], padsBegin: [2, 1], padsEnd: [1, 2], group: 1 },
  { label: 'stride 2, depthwise 3×3 with multiplier 2, 32 channels', cIn: 32, cOut: 64, size: [9, 9], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 32 },
  { label: 'stride 4, kernel 3 (smaller than the stride), 2 channels', cIn: 2, cOut: 3, size: [15, 17], kernel: [3, 3], strides: [4, 4], dilations: [1, 1], padsBegin: [1, 0], padsEnd: [1, 0], group: 1 },
];

CASES.forEach((c, index) => {
  test(`J(x)ᵀu through a conv equals tfjs's own gradient: ${c.label}`, async () => {
    await initBackend();
    const weightDims = [c.cOut, c.cIn / c.group, ...c.kernel];
    const spec: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: weightDims, data: seededNormals(size(weightDims), 7 + index) }, strides: c.strides, dilations: c.dilations, padsBegin: c.padsBegin, padsEnd: c.padsEnd, group: c.group };
    const outSpatial = c.size.map((n, a) => Math.floor((n + c.padsBegin[a] + c.padsEnd[a] - (c.kernel[a] - 1) * c.dilations[a] - 1) / c.strides[a]) + 1);
    const inShape = [1, c.cIn, ...c.size];
    const outShape = [1, c.cOut, ...outSpatial];
    const model = oneNodeModel(inShape, outShape, { op: 'Conv', spec, weightShape: weightDims, execution: { kind: 'affine', bias: seededNormals(c.cOut, 3) } });
    const plan = executionPlan(model);
    const x = tf.tensor(seededNormals(size(inShape), 8), inShape);
    const u = tf.tensor(seededNormals(size(outShape), 9), outShape);
    const ours = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(runGraph(model, plan, input)[0], u)))(x);
    const kernel = dilateKernel(kernelFromCanonical(spec.weight, spec.group), spec.dilations);
    const filter = tf.tensor4d(kernel.data, [kernel.taps[0], kernel.taps[1], kernel.cIn, kernel.cOut]);
    const pads: [number, number][] = [[0, 0], [c.padsBegin[0], c.padsEnd[0]], [c.padsBegin[1], c.padsEnd[1]], [0, 0]];
    const reference = tf.grad((input: tf.Tensor) => {
      const padded = tf.pad(tf.transpose(input, [0, 2, 3, 1]), pads) as tf.Tensor4D;
      return tf.sum(tf.mul(tf.transpose(tf.conv2d(padded, filter, c.strides as [number, number], 'valid'), [0, 3, 1, 2]), u));
    })(x);
    assertClose(ours.dataSync(), reference.dataSync(), c.label);
    // With the kernels cached (a lower-bound search), the second pass reads them from the cache.
    const cached = withKernelCache(() => {
      tf.dispose(tf.grad((input: tf.Tensor) => tf.sum(tf.mul(runGraph(model, plan, input)[0], u)))(x));
      return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(runGraph(model, plan, input)[0], u)))(x);
    });
    assert.deepEqual(cached.dataSync(), ours.dataSync());
    // The forward value is tfjs's own conv too (the custom gradient wraps it).
    const y = runGraph(model, plan, x)[0];
    assert.deepEqual(y.shape, outShape);
    tf.dispose([x, u, ours, cached, filter, reference, y]);
  });
});

test("J(x)ᵀu through a strided 1-D conv equals tfjs's own gradient", async () => {
  await initBackend();
  const [cIn, cOut, length] = [3, 4, 11];
  const spec: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [cOut, cIn, 4], data: seededNormals(cOut * cIn * 4, 21) }, strides: [3], dilations: [1], padsBegin: [2], padsEnd: [0], group: 1 };
  const outShape = [1, cOut, Math.floor((length + 2 - 4) / 3) + 1];
  const inShape = [1, cIn, length];
  const model = oneNodeModel(inShape, outShape, { op: 'Conv', spec, weightShape: spec.weight.dims, execution: { kind: 'affine', bias: new Float32Array(cOut) } });
  const plan = executionPlan(model);
  const x = tf.tensor(seededNormals(size(inShape), 22), inShape);
  const u = tf.tensor(seededNormals(size(outShape), 23), outShape);
  const ours = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(runGraph(model, plan, input)[0], u)))(x);
  const kernel = kernelFromCanonical({ dims: [cOut, cIn, 1, 4], data: spec.weight.data }, 1);
  const filter = tf.tensor4d(kernel.data, [1, 4, cIn, cOut]);
  const reference = tf.grad((input: tf.Tensor) => {
    const padded = tf.pad(tf.expandDims(tf.transpose(input, [0, 2, 1]), 1), [[0, 0], [0, 0], [2, 0], [0, 0]]) as tf.Tensor4D;
    return tf.sum(tf.mul(tf.transpose(tf.squeeze(tf.conv2d(padded, filter, [1, 3], 'valid'), [1]), [0, 2, 1]), u));
  })(x);
  assertClose(ours.dataSync(), reference.dataSync(), '1-D');
});

test('J(x)ᵀu through a strided, grouped ConvTranspose is the adjoint of J: ⟨Jᵀu, v⟩ = ⟨u, J v⟩', async () => {
  await initBackend();
  const [cIn, cOutPerGroup, group, h, w] = [4, 3, 2, 5, 6];
  const spec: ConvTransposeSpec = {
    type: 'convTranspose',
    channelsLast: false,
    weight: { dims: [cIn, cOutPerGroup, 3, 4], data: seededNormals(cIn * cOutPerGroup * 12, 31) },
    strides: [2, 3],
    dilations: [1, 1],
    padsBegin: [1, 0],
    padsEnd: [0, 2],
    outputPadding: [1, 0],
    group,
  } as ConvTransposeSpec;
  const outSpatial = [(h - 1) * 2 + 3 - 1 + 1, (w - 1) * 3 + 4 - 2];
  const inShape = [1, cIn, h, w];
  const outShape = [1, cOutPerGroup * group, ...outSpatial];
  // No bias: J v = f(v), a linear map.
  const model = oneNodeModel(inShape, outShape, { op: 'ConvTranspose', spec, weightShape: spec.weight.dims, execution: { kind: 'affine', bias: new Float32Array(cOutPerGroup * group) } });
  const plan = executionPlan(model);
  const x = tf.tensor(seededNormals(size(inShape), 32), inShape);
  const v = tf.tensor(seededNormals(size(inShape), 33), inShape);
  const u = tf.tensor(seededNormals(size(outShape), 34), outShape);
  const jtu = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(runGraph(model, plan, input)[0], u)))(x);
  const left = tf.sum(tf.mul(jtu, v)).dataSync()[0];
  const right = tf.sum(tf.mul(u, runGraph(model, plan, v)[0])).dataSync()[0];
  const scale = tf.sum(tf.abs(tf.mul(jtu, v))).dataSync()[0];
  assert.ok(Math.abs(left - right) <= 1e-5 * scale, `${left} vs ${right}`);
});
