// TF.js graph ops the executor runs beyond convolutions: selections (StridedSlice, Slice, GatherV2,
// BroadcastTo, Split / SplitV / Unpack, Pack), space/batch and depth/space permutations, mirror
// padding, Max / Min / Sum, clamps by constants, BatchMatMulV2 of two data tensors with its adj flags,
// and l2_normalize as TF writes it out.
// Each hand-built graph runs in tfjs-converter's loadGraphModel and in the executor on a random input;
// outputs agree to 1e-4 relative, and the executor's J(x)ᵀu (tfjs autodiff through every op it runs,
// as the lower bound uses it) agrees with a central difference. Keras LayerNormalization is checked
// against tfjs-layers itself.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { openMemory, seeded } from '../formats/tfjs/helpers';
import { graphModel, list, placeholder, s, type ConstSpec } from '../formats/tfjs/graph-builder';
import { executionPlan } from '../../../src/engine/executor/execute';
import { executorOutputs, gradientError, relativeError, tfjsMemoryGraphOutputs, uniformInput } from './reference-runtimes';

const i = (value: number) => ({ i: String(value) });
const b = (value: boolean) => ({ b: value });
const int = (name: string, shape: number[], values: number[]): ConstSpec => ({ name, shape, values, dtype: 'int32' });
const float = (name: string, shape: number[], values: number[]): ConstSpec => ({ name, shape, values });
const node = (name: string, op: string, input: string[], attr: Record<string, unknown> = {}) => ({ name, op, input, attr });

interface Case {
  label: string;
  input: number[];
  nodes: object[];
  consts: ConstSpec[];
  /** Input entries are drawn from this range (default [−1, 1]). */
  range?: [number, number];
}

const cases: Case[] = [
  {
    label: 'StridedSlice (strides 2 and 3)',
    input: [1, 6, 7, 3],
    nodes: [node('ss', 'StridedSlice', ['x', 'begin', 'end', 'strides'], { begin_mask: i(0), end_mask: i(0), shrink_axis_mask: i(0), new_axis_mask: i(0), ellipsis_mask: i(0) })],
    consts: [int('begin', [4], [0, 1, 0, 0]), int('end', [4], [1, 6, 7, 3]), int('strides', [4], [1, 2, 3, 1])],
  },
  {
    label: 'StridedSlice (negative strides, begin and end masks)',
    input: [1, 6, 7, 3],
    nodes: [node('ss', 'StridedSlice', ['x', 'begin', 'end', 'strides'], { begin_mask: i(1), end_mask: i(1), shrink_axis_mask: i(0), new_axis_mask: i(0), ellipsis_mask: i(0) })],
    consts: [int('begin', [4], [0, -1, 6, 0]), int('end', [4], [0, 0, 0, 3]), int('strides', [4], [1, -2, -2, 1])],
  },
  {
    label: 'Slice (a size of −1)',
    input: [1, 5, 6, 3],
    nodes: [node('sl', 'Slice', ['x', 'begin', 'size'])],
    consts: [int('begin', [4], [0, 1, 2, 0]), int('size', [4], [1, 3, -1, 2])],
  },
  {
    label: 'GatherV2 (repeated, unsorted indices on axis 1)',
    input: [1, 4, 5],
    nodes: [node('g', 'GatherV2', ['x', 'idx', 'gaxis'], { batch_dims: i(0) })],
    consts: [int('idx', [4], [2, 0, 2, 3]), int('gaxis', [], [1])],
  },
  {
    label: 'BroadcastTo (new and stretched axes)',
    input: [1, 3, 1],
    nodes: [node('bt', 'BroadcastTo', ['x', 'bshape'])],
    consts: [int('bshape', [4], [2, 1, 3, 4])],
  },
  {
    label: 'Split, SplitV and Unpack, parts recombined',
    input: [1, 4, 5, 6],
    nodes: [
      node('split', 'Split', ['sd', 'x'], { num_split: i(3) }),
      node('a', 'AddV2', ['split', 'split:2']),
      node('b', 'Relu', ['split:1']),
      node('splitv', 'SplitV', ['x', 'sizes', 'vd'], { num_split: i(3) }),
      node('c', 'Relu', ['splitv:1']),
      node('unpack', 'Unpack', ['x'], { num: i(4), axis: i(1) }),
      node('d', 'AddV2', ['unpack:1', 'unpack:3']),
    ],
    consts: [int('sd', [], [3]), int('sizes', [3], [1, -1, 2]), int('vd', [], [2])],
  },
  {
    label: 'Pack of two data values',
    input: [1, 3, 4],
    nodes: [node('r', 'Relu', ['x']), node('pack', 'Pack', ['x', 'r'], { N: i(2), axis: i(1) })],
    consts: [],
  },
  {
    label: 'DepthToSpace (NHWC)',
    input: [1, 2, 3, 8],
    nodes: [node('d2s', 'DepthToSpace', ['x'], { block_size: i(2), data_format: s('NHWC') })],
    consts: [],
  },
  {
    label: 'SpaceToBatchND and BatchToSpaceND around a ReLU (pads and crops)',
    input: [1, 4, 6, 2],
    nodes: [node('s2b', 'SpaceToBatchND', ['x', 'block', 'pads']), node('r', 'Relu', ['s2b']), node('b2s', 'BatchToSpaceND', ['r', 'block', 'pads'])],
    consts: [int('block', [2], [2, 2]), int('pads', [2, 2], [1, 1, 0, 2])],
  },
  {
    label: "SpaceToBatchND, Conv2D, BatchToSpaceND (TF's dilated conv)",
    input: [1, 8, 8, 2],
    nodes: [
      node('s2b', 'SpaceToBatchND', ['x', 'block', 'pads']),
      node('conv', 'Conv2D', ['s2b', 'filter'], { strides: list(1, 1, 1, 1), padding: s('VALID'), data_format: s('NHWC'), dilations: list(1, 1, 1, 1) }),
      node('b2s', 'BatchToSpaceND', ['conv', 'block', 'crops']),
    ],
    consts: [int('block', [2], [2, 2]), int('pads', [2, 2], [2, 2, 2, 2]), int('crops', [2, 2], [0, 0, 0, 0]), float('filter', [3, 3, 2, 3], Array.from(seeded(54, 3)))],
  },
  {
    label: 'MirrorPad (REFLECT and SYMMETRIC)',
    input: [1, 4, 5, 2],
    nodes: [node('mp', 'MirrorPad', ['x', 'mpads'], { mode: s('REFLECT') }), node('ms', 'MirrorPad', ['x', 'mpads'], { mode: s('SYMMETRIC') })],
    consts: [int('mpads', [4, 2], [0, 0, 1, 2, 2, 1, 0, 0])],
  },
  {
    label: 'Max, Min and Sum over two axes',
    input: [1, 4, 5, 3],
    nodes: [node('mx', 'Max', ['x', 'raxes'], { keep_dims: b(false) }), node('mn', 'Min', ['x', 'raxes'], { keep_dims: b(true) }), node('sm', 'Sum', ['x', 'raxes'], { keep_dims: b(false) })],
    consts: [int('raxes', [2], [1, 2])],
  },
  {
    label: 'Maximum / Minimum by broadcast constants, ClipByValue',
    input: [1, 3, 4],
    nodes: [node('mx', 'Maximum', ['x', 'lim']), node('mn', 'Minimum', ['x', 'half']), node('cl', 'ClipByValue', ['x', 'lo', 'hi'])],
    consts: [float('lim', [4], [-0.5, 0, 0.25, 0.9]), float('half', [], [0.5]), float('lo', [], [-0.3]), float('hi', [], [0.4])],
  },
  {
    label: 'BatchMatMulV2 of two data tensors (adj_x, adj_y)',
    input: [1, 3, 4],
    nodes: [
      node('r', 'Relu', ['x']),
      node('mm', 'BatchMatMulV2', ['x', 'r'], { adj_x: b(false), adj_y: b(true) }),
      node('mt', 'BatchMatMulV2', ['x', 'r'], { adj_x: b(true), adj_y: b(false) }),
    ],
    consts: [],
  },
  {
    label: 'l2_normalize as TF writes it (Square, Sum, Maximum ε, Rsqrt, Mul)',
    input: [1, 3, 8],
    nodes: [node('sq', 'Square', ['x']), node('ss', 'Sum', ['sq', 'last'], { keep_dims: b(true) }), node('mx', 'Maximum', ['ss', 'eps']), node('rs', 'Rsqrt', ['mx']), node('l2', 'Mul', ['x', 'rs'])],
    consts: [int('last', [1], [-1]), float('eps', [], [1e-12])],
    // Away from 0, where x/‖x‖ curves too fast for a central difference with h = 1e-2.
    range: [-2, 2],
  },
  {
    label: 'StridedSlice with begin/end masks and negative strides, then ellipsis and shrink',
    input: [1, 6, 5, 4],
    nodes: [
      node('ss1', 'StridedSlice', ['x', 'b1', 'e1', 's1'], { begin_mask: i(0b1001), end_mask: i(0b1101), ellipsis_mask: i(0), new_axis_mask: i(0), shrink_axis_mask: i(0) }),
      node('ss2', 'StridedSlice', ['ss1', 'b2', 'e2', 's2'], { begin_mask: i(0), end_mask: i(0), ellipsis_mask: i(1), new_axis_mask: i(0), shrink_axis_mask: i(2) }),
    ],
    consts: [int('b1', [4], [0, 1, -1, 0]), int('e1', [4], [0, 6, 0, 0]), int('s1', [4], [1, 2, -2, 1]), int('b2', [2], [0, 1]), int('e2', [2], [0, 2]), int('s2', [2], [1, 1])],
  },
  {
    label: 'Slice, GatherV2 with repeated indices and BroadcastTo in a chain',
    input: [1, 4, 5, 3],
    nodes: [
      node('sl', 'Slice', ['x', 'begin', 'size']),
      node('g', 'GatherV2', ['sl', 'idx', 'axis'], { batch_dims: i(0) }),
      node('bt', 'BroadcastTo', ['g', 'to']),
    ],
    consts: [int('begin', [4], [0, 1, 0, 1]), int('size', [4], [-1, 3, -1, 2]), int('idx', [3], [4, 0, 4]), int('axis', [], [2]), int('to', [5], [2, 1, 3, 3, 2])],
  },
  {
    label: 'SplitV, Unpack, Pack, Split and ConcatV2 in a chain',
    input: [1, 5, 3, 2],
    nodes: [
      node('sv', 'SplitV', ['x', 'sizes', 'axis'], { num_split: i(2) }),
      node('un', 'Unpack', ['sv:1'], { num: i(2), axis: i(3) }),
      node('pk', 'Pack', ['un:1', 'un'], { N: i(2), axis: i(1) }),
      node('sp', 'Split', ['axis0', 'sv'], { num_split: i(2) }),
      node('cat', 'ConcatV2', ['sp:1', 'sp', 'catAxis'], { N: i(2) }),
    ],
    consts: [int('sizes', [2], [2, -1]), int('axis', [], [1]), int('axis0', [], [3]), int('catAxis', [], [3])],
  },
];

for (const c of cases) {
  test(`executor matches tfjs loadGraphModel: ${c.label}`, async () => {
    await initBackend();
    const { json, shards } = graphModel([placeholder('x', c.input), ...c.nodes], c.consts);
    const model = await openMemory(json, shards);
    assert.doesNotThrow(() => executionPlan(model));
    const input = uniformInput(c.input, 11, ...(c.range ?? [-1, 1]));
    const expected = await tfjsMemoryGraphOutputs(json, shards, model, input);
    const error = relativeError(executorOutputs(model, input), expected);
    assert.ok(error <= 1e-4, `outputs ${model.outputs.join(', ')}: relative error ${error}`);
    const forward = relativeError(executorOutputs(model, input, true), expected);
    assert.ok(forward <= 1e-4, `forward only: relative error ${forward}`);
    const gradient = gradientError(model, input);
    assert.ok(gradient <= 2e-2, `J(x)ᵀu against central differences: relative error ${gradient}`);
  });
}

// tfjs-converter's StridedSlice reads a shrunk axis that is not the first one wrongly (here it returns
// x[0, h, w', 0] for w' = 0, 1, 2), so this case is checked against TF's definition written out:
// out[a, b] = x[0, 5 − 2a, 6 − 2b, 1].
test('executor follows TF: StridedSlice with a shrunk last axis, negative strides and masks', async () => {
  await initBackend();
  const { json, shards } = graphModel(
    [placeholder('x', [1, 6, 7, 3]), node('ss', 'StridedSlice', ['x', 'begin', 'end', 'strides'], { begin_mask: i(1), end_mask: i(1), shrink_axis_mask: i(8), new_axis_mask: i(0), ellipsis_mask: i(0) })],
    [int('begin', [4], [0, -1, 6, 1]), int('end', [4], [0, 0, 0, 2]), int('strides', [4], [1, -2, -2, 1])],
  );
  const model = await openMemory(json, shards);
  assert.deepEqual(model.nodes.at(-1)?.outputShapes[0], [1, 3, 3]);
  const input = uniformInput([1, 6, 7, 3], 17, -1, 1);
  const expected = Float32Array.from({ length: 9 }, (_, k) => input[((5 - 2 * Math.floor(k / 3)) * 7 + (6 - 2 * (k % 3))) * 3 + 1]);
  assert.deepEqual(Array.from(executorOutputs(model, input)[0]), Array.from(expected));
});

// tfjs-converter has no SpaceToDepth kernel: it is checked as DepthToSpace's inverse (DepthToSpace itself against tfjs above).
test('executor: SpaceToDepth undoes DepthToSpace (NHWC)', async () => {
  await initBackend();
  const { json, shards } = graphModel([placeholder('x', [1, 2, 3, 8]), node('d2s', 'DepthToSpace', ['x'], { block_size: i(2), data_format: s('NHWC') }), node('s2d', 'SpaceToDepth', ['d2s'], { block_size: i(2), data_format: s('NHWC') })], []);
  const model = await openMemory(json, shards);
  const input = uniformInput([1, 2, 3, 8], 19, -1, 1);
  assert.deepEqual(Array.from(executorOutputs(model, input)[0]), Array.from(input));
});

test('executor matches tfjs-layers: Keras LayerNormalization (last axis, two axes, no β)', async () => {
  await initBackend();
  for (const c of [
    { axis: -1, center: true, shape: [3, 5] },
    { axis: [1, 2], center: true, shape: [3, 5] },
    { axis: -1, center: false, shape: [4, 2, 6] },
  ]) {
    const net = tfl.sequential({ layers: [tfl.layers.layerNormalization({ inputShape: c.shape, axis: c.axis, center: c.center, epsilon: 1e-3 })] });
    // Non-trivial γ and β, so that their layout is checked.
    net.layers[0].setWeights(net.layers[0].getWeights().map((w, k) => tf.tensor(seeded(w.size, 5 + k), w.shape)));
    let artifacts: tf.io.ModelArtifacts | undefined;
    await net.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const saved = artifacts as tf.io.ModelArtifacts;
    const json = { format: 'layers-model', modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] };
    const model = await openMemory(json, { 'weights.bin': new Uint8Array(saved.weightData as ArrayBuffer) });
    const shape = [1, ...c.shape];
    const input = uniformInput(shape, 13, -1, 1);
    const expected = tf.tidy(() => Float32Array.from((net.predict(tf.tensor(input, shape)) as tf.Tensor).dataSync()));
    const error = relativeError(executorOutputs(model, input), [expected]);
    assert.ok(error <= 1e-4, `${JSON.stringify(c)}: relative error ${error}`);
    net.dispose();
  }
});
