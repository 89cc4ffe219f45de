// TF.js graph ops that select, cut, stack, reduce, clamp, move or multiply entries, and the written-out
// l2_normalize: each hand-built graph run by the graph executor and by tfjs-converter's own
// loadGraphModel on the same random input (1e-4 relative), and the executor's J(x)ᵀu by autodiff
// against a central difference.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { initBackend } from '../../../src/engine/backend';
import { executionPlan } from '../../../src/engine/executor/execute';
import { openMemory } from '../formats/tfjs/helpers';
import { graphModel, placeholder, s, type ConstSpec } from '../formats/tfjs/graph-builder';
import { executorOutputs, gradientError, relativeError, uniformInput } from './reference-runtimes';

const i = (value: number) => ({ i: String(value) });
const b = (value: boolean) => ({ b: value });
const int32 = (name: string, shape: number[], values: number[]): ConstSpec => ({ name, shape, values, dtype: 'int32' });
const op = (name: string, kind: string, input: string[], attr: Record<string, unknown> = {}) => ({ name, op: kind, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } });

async function check(label: string, shape: number[], nodes: object[], consts: ConstSpec[]): Promise<void> {
  await initBackend();
  const { json, shards } = graphModel([placeholder('x', shape), ...nodes], consts);
  const model = await openMemory(json, shards);
  assert.doesNotThrow(() => executionPlan(model), label);
  const input = uniformInput(shape, 9, -2, 2);
  const topology = json.modelTopology as object;
  const manifest = (json.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[])[0].weights;
  const graph = await loadGraphModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: manifest, weightData: shards['weights.bin'].slice().buffer as ArrayBuffer }));
  const expected = tf.tidy(() => {
    const out = graph.execute(tf.tensor(input, shape), model.outputs);
    return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
  });
  graph.dispose();
  const error = relativeError(executorOutputs(model, input), expected);
  assert.ok(error <= 1e-4, `${label}: relative error ${error}`);
  const forward = relativeError(executorOutputs(model, input, true), expected);
  assert.ok(forward <= 1e-4, `${label}, forward only: relative error ${forward}`);
  const gradient = gradientError(model, input);
  assert.ok(gradient <= 2e-2, `${label}: J(x)ᵀu against central differences: relative error ${gradient}`);
}

test('executor matches loadGraphModel: StridedSlice with begin/end masks and negative strides, then ellipsis and shrink', async () => {
  await check('StridedSlice', [1, 6, 5, 4], [
    op('ss1', 'StridedSlice', ['x', 'b1', 'e1', 's1'], { begin_mask: i(0b1001), end_mask: i(0b1101), ellipsis_mask: i(0), new_axis_mask: i(0), shrink_axis_mask: i(0), Index: { type: 'DT_INT32' } }),
    op('ss2', 'StridedSlice', ['ss1', 'b2', 'e2', 's2'], { begin_mask: i(0), end_mask: i(0), ellipsis_mask: i(1), new_axis_mask: i(0), shrink_axis_mask: i(2), Index: { type: 'DT_INT32' } }),
  ], [int32('b1', [4], [0, 1, -1, 0]), int32('e1', [4], [0, 6, 0, 0]), int32('s1', [4], [1, 2, -2, 1]), int32('b2', [2], [0, 1]), int32('e2', [2], [0, 2]), int32('s2', [2], [1, 1])]);
});

test('executor matches loadGraphModel: Slice, GatherV2 with repeated indices, BroadcastTo', async () => {
  await check('Slice, GatherV2, BroadcastTo', [1, 4, 5, 3], [
    op('sl', 'Slice', ['x', 'begin', 'size'], { Index: { type: 'DT_INT32' } }),
    op('g', 'GatherV2', ['sl', 'idx', 'axis'], { batch_dims: i(0), Tparams: { type: 'DT_FLOAT' }, Tindices: { type: 'DT_INT32' } }),
    op('bt', 'BroadcastTo', ['g', 'to']),
  ], [int32('begin', [4], [0, 1, 0, 1]), int32('size', [4], [-1, 3, -1, 2]), int32('idx', [3], [4, 0, 4]), int32('axis', [], [2]), int32('to', [5], [2, 1, 3, 3, 2])]);
});

test('executor matches loadGraphModel: SplitV, Unpack, Pack, ConcatV2', async () => {
  await check('SplitV, Unpack, Pack', [1, 5, 3, 2], [
    op('sv', 'SplitV', ['x', 'sizes', 'axis'], { num_split: i(2), Tlen: { type: 'DT_INT32' } }),
    op('un', 'Unpack', ['sv:1'], { num: i(2), axis: i(3) }),
    op('pk', 'Pack', ['un:1', 'un'], { N: i(2), axis: i(1) }),
    op('sp', 'Split', ['axis0', 'sv'], { num_split: i(2) }),
    op('cat', 'ConcatV2', ['sp:1', 'sp', 'catAxis'], { N: i(2), Tidx: { type: 'DT_INT32' } }),
  ], [int32('sizes', [2], [2, -1]), int32('axis', [], [1]), int32('axis0', [], [3]), int32('catAxis', [], [3])]);
});

test('executor matches loadGraphModel: Max, Min and Sum reductions, Maximum and Minimum with constants', async () => {
  await check('reductions and clamps', [1, 3, 4, 5], [
    op('mx', 'Max', ['x', 'ax1'], { keep_dims: b(true), Tidx: { type: 'DT_INT32' } }),
    op('mn', 'Min', ['mx', 'ax2'], { keep_dims: b(false), Tidx: { type: 'DT_INT32' } }),
    op('lo', 'Maximum', ['x', 'floor']),
    op('hi', 'Minimum', ['lo', 'ceiling']),
    op('sm', 'Sum', ['hi', 'ax23'], { keep_dims: b(false), Tidx: { type: 'DT_INT32' } }),
  ], [int32('ax1', [1], [1]), int32('ax2', [1], [3]), { name: 'floor', shape: [], values: [-0.5] }, { name: 'ceiling', shape: [5], values: [0.3, 1, -0.2, 2, 0.7] }, int32('ax23', [2], [2, 3])]);
});

test('executor matches loadGraphModel: DepthToSpace, MirrorPad (REFLECT, SYMMETRIC)', async () => {
  await check('depth to space, mirror pads', [1, 2, 3, 8], [
    op('d2s', 'DepthToSpace', ['x'], { block_size: i(2), data_format: s('NHWC') }),
    op('rp', 'MirrorPad', ['d2s', 'p1'], { mode: s('REFLECT'), Tpaddings: { type: 'DT_INT32' } }),
    op('sp', 'MirrorPad', ['rp', 'p2'], { mode: s('SYMMETRIC'), Tpaddings: { type: 'DT_INT32' } }),
  ], [int32('p1', [4, 2], [0, 0, 1, 1, 2, 0, 0, 0]), int32('p2', [4, 2], [0, 0, 0, 2, 1, 1, 0, 0])]);
});

// tfjs-converter has no SpaceToDepth: checked as the exact inverse of DepthToSpace (which matches tfjs above).
test('executor: SpaceToDepth undoes DepthToSpace exactly', async () => {
  await initBackend();
  const { json, shards } = graphModel([
    placeholder('x', [1, 2, 3, 12]),
    op('d2s', 'DepthToSpace', ['x'], { block_size: i(2), data_format: s('NHWC') }),
    op('s2d', 'SpaceToDepth', ['d2s'], { block_size: i(2), data_format: s('NHWC') }),
  ], []);
  const model = await openMemory(json, shards);
  const input = uniformInput([1, 2, 3, 12], 4, -1, 1);
  const [output] = executorOutputs(model, input);
  assert.deepEqual(Array.from(output), Array.from(input));
  const [moved] = executorOutputs({ ...model, outputs: [model.nodes[0].outputs[0]] }, input);
  assert.notDeepEqual(Array.from(moved), Array.from(input));
});

test('executor matches loadGraphModel: SpaceToBatchND and BatchToSpaceND (a dilated conv lowered by TF)', async () => {
  await check('space to batch and back', [1, 5, 6, 2], [
    op('s2b', 'SpaceToBatchND', ['x', 'block', 'pads'], { Tblock_shape: { type: 'DT_INT32' }, Tpaddings: { type: 'DT_INT32' } }),
    op('t', 'Tanh', ['s2b']),
    op('b2s', 'BatchToSpaceND', ['t', 'block', 'crops'], { Tblock_shape: { type: 'DT_INT32' }, Tcrops: { type: 'DT_INT32' } }),
  ], [int32('block', [2], [2, 2]), int32('pads', [2, 2], [1, 0, 2, 0]), int32('crops', [2, 2], [1, 0, 2, 0])]);
});

test('executor matches loadGraphModel: BatchMatMulV2 of two data tensors with adj_x and adj_y', async () => {
  await check('BatchMatMulV2', [2, 3, 4], [
    op('t', 'Tanh', ['x']),
    op('xy', 'BatchMatMulV2', ['x', 't'], { adj_x: b(false), adj_y: b(true) }),
    op('yx', 'BatchMatMulV2', ['xy', 't'], { adj_x: b(true), adj_y: b(false) }),
  ], []);
});

test('executor matches loadGraphModel: l2_normalize written out (Square, Sum, Maximum ε, Rsqrt, Mul)', async () => {
  await check('l2_normalize', [2, 3, 6], [
    op('sq', 'Square', ['x']),
    op('sum', 'Sum', ['sq', 'axis'], { keep_dims: b(true), Tidx: { type: 'DT_INT32' } }),
    op('mx', 'Maximum', ['sum', 'eps']),
    op('rs', 'Rsqrt', ['mx']),
    op('y', 'Mul', ['x', 'rs']),
  ], [int32('axis', [1], [2]), { name: 'eps', shape: [], values: [1e-2] }]);
});
