// The executor's stride-1 convolutions carry their own input gradient (a forward conv with the kernel
// flipped and its channels swapped, execute.ts stride1Conv): J(x)ᵀu must equal tfjs's own
// Conv2DBackpropInput on the same padded input, with dilation, groups and uneven pads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initBackend } from '../../../src/engine/backend';
import { executionPlan, runGraph } from '../../../src/engine/executor/execute';
import { dilateKernel, kernelFromCanonical } from '../../../src/engine/operators/kernel';
import type { ConvSpec, IrModel } from '../../../src/model/ir';
import { seededNormals } from '../../helpers/explicit-matrix';

test('J(x)ᵀu through a stride-1 conv equals tfjs own gradient (dilation 2×1, 2 groups, uneven pads)', async () => {
  await initBackend();
  const [cIn, cOut, h, w] = [4, 6, 7, 9];
  const spec: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [cOut, cIn / 2, 3, 2], data: seededNormals(cOut * (cIn / 2) * 6, 7) }, strides: [1, 1], dilations: [2, 1], padsBegin: [2, 0], padsEnd: [1, 1], group: 2 };
  const outShape = [1, cOut, h + 3 - 4, w + 1 - 1];
  const model: IrModel = {
    format: 'onnx',
    path: 'conv.onnx',
    inputs: [{ name: 'x', shape: [1, cIn, h, w], declaredShape: [1, cIn, h, w] }],
    outputs: ['y'],
    nodes: [{ name: 'y', op: 'Conv', inputs: ['x'], outputs: ['y'], inputShapes: [[1, cIn, h, w]], outputShapes: [outShape], spec, weightShape: spec.weight.dims, execution: { kind: 'affine', bias: new Float32Array(cOut) } }],
    metadata: { nodeCount: 1, parameterCount: 0 },
    warnings: [],
  };
  const plan = executionPlan(model);
  const x = tf.tensor(seededNormals(cIn * h * w, 8), [1, cIn, h, w]);
  const u = tf.tensor(seededNormals(outShape.reduce((a, b) => a * b, 1), 9), outShape);
  const ours = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(runGraph(model, plan, input)[0], u)))(x);
  const kernel = dilateKernel(kernelFromCanonical(spec.weight, spec.group), spec.dilations);
  const filter = tf.tensor4d(kernel.data, [kernel.taps[0], kernel.taps[1], kernel.cIn, kernel.cOut]);
  const reference = tf.grad((input: tf.Tensor) => {
    const padded = tf.pad(tf.transpose(input, [0, 2, 3, 1]), [[0, 0], [2, 1], [0, 1], [0, 0]]) as tf.Tensor4D;
    return tf.sum(tf.mul(tf.transpose(tf.conv2d(padded, filter, 1, 'valid'), [0, 3, 1, 2]), u));
  })(x);
  const a = ours.dataSync();
  const b = reference.dataSync();
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * scale, `entry ${i}: ${a[i]} vs ${b[i]}`);
  assert.ok(scale > 0);
});
