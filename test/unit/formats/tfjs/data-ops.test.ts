// TF.js graph ops on data that real graph-models use between their layers (human's age / gender
// SSR-Nets, facemesh-attention, nanodet): selections (StridedSlice, Slice, GatherV2, Split, SplitV,
// Unpack, Pack) with their constants against the explicit 0/1 matrix's σ, pointwise ops that are not
// Lipschitz (unbounded with the reason, not unsupported), Prod over axes, GatherNd's output shape
// with data-dependent indices, SparseToDense folded in shape arithmetic, and a multiply by 0 after
// an unbounded row.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { compose } from '../../../../src/analysis/compose';
import { closedForm } from '../../../../src/analysis/closed-form';
import { sigma1 } from '../../../helpers/keras-reference';
import { openMemory, row } from './helpers';
import { graphModel, list, placeholder } from './graph-builder';

const int = (name: string, shape: number[], values: number[]) => ({ name, shape, values, dtype: 'int32' as const });

/** σ of the selection matrix that makes output entry k from input entry source[k]. */
function selectionSigma(source: number[], inputs: number): number {
  const m = Matrix.zeros(source.length, inputs);
  source.forEach((i, k) => m.set(k, i, 1));
  return sigma1(m);
}

test('selections on data: StridedSlice, Slice, GatherV2 (a repeated index: √count, as the explicit matrix), Split, SplitV, Unpack, Pack', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 6, 4]),
      { name: 'strided', op: 'StridedSlice', input: ['x', 'b', 'e', 's'], attr: { begin_mask: { i: '0' }, end_mask: { i: '0' }, shrink_axis_mask: { i: '0' } } },
      { name: 'slice', op: 'Slice', input: ['x', 'sb', 'ss'] },
      { name: 'gather', op: 'GatherV2', input: ['x', 'idx', 'axis1'], attr: { batch_dims: { i: '0' } } },
      { name: 'split', op: 'Split', input: ['axis1', 'x'], attr: { num_split: { i: '3' } } },
      { name: 'splitv', op: 'SplitV', input: ['x', 'sizes', 'axis2'], attr: { num_split: { i: '2' } } },
      { name: 'unpack', op: 'Unpack', input: ['x'], attr: { num: { i: '6' }, axis: { i: '1' } } },
      { name: 'pack', op: 'Pack', input: ['split:1', 'splitv:1'], attr: { N: { i: '2' }, axis: { i: '0' } } },
    ],
    [
      int('b', [3], [0, 1, 0]), int('e', [3], [1, 6, 4]), int('s', [3], [1, 2, 1]),
      int('sb', [3], [0, 2, 1]), int('ss', [3], [1, -1, 2]),
      int('idx', [4], [0, 3, 3, 3]), int('axis1', [], [1]),
      int('sizes', [2], [1, -1]), int('axis2', [], [2]),
    ],
  );
  const model = await openMemory(json, shards);
  const shapeAndConstant = (name: string) => {
    const node = row(model, name);
    return [node.spec.type, node.outputShapes, closedForm(node)?.compositionConstant];
  };
  assert.deepEqual(shapeAndConstant('strided'), ['fixed', [[1, 3, 4]], 1]);
  assert.deepEqual(shapeAndConstant('slice'), ['fixed', [[1, 4, 2]], 1]);
  // Rows 0, 3, 3, 3 of a 6-row axis, 4 columns each: entry (3, j) is copied 3 times.
  const gather = shapeAndConstant('gather');
  assert.deepEqual(gather.slice(0, 2), ['fixed', [[1, 4, 4]]]);
  const source = [0, 3, 3, 3].flatMap((r) => [0, 1, 2, 3].map((j) => r * 4 + j));
  assert.ok(Math.abs((gather[2] as number) - selectionSigma(source, 24)) < 1e-12, `${gather[2]} vs ${selectionSigma(source, 24)}`);
  assert.deepEqual(shapeAndConstant('split'), ['fixed', [[1, 2, 4], [1, 2, 4], [1, 2, 4]], 1]);
  assert.deepEqual(row(model, 'split').outputs, ['split', 'split:1', 'split:2']);
  assert.deepEqual(shapeAndConstant('splitv'), ['fixed', [[1, 6, 1], [1, 6, 3]], 1]);
  assert.equal(row(model, 'unpack').outputShapes.length, 6);
  // Pack reads split:1 [1, 2, 4] and splitv:1 [1, 6, 3]: shapes differ, so it cannot stack them.
  assert.equal(row(model, 'pack').spec.type, 'unsupported');
});

test('TF\'s dilated-conv lowering (SpaceToBatchND, conv, BatchToSpaceND) and BroadcastTo of data: selections, the conv computed on the batched shape', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 4, 4, 2]),
      { name: 'toBatch', op: 'SpaceToBatchND', input: ['x', 'block', 'pads'] },
      { name: 'conv', op: 'DepthwiseConv2dNative', input: ['toBatch', 'dw'], attr: { strides: list(1, 1, 1, 1), padding: { s: btoa('SAME') }, data_format: { s: btoa('NHWC') }, dilations: list(1, 1, 1, 1) } },
      { name: 'toSpace', op: 'BatchToSpaceND', input: ['conv', 'block', 'crops'] },
      { name: 'wide', op: 'BroadcastTo', input: ['toSpace', 'target'] },
    ],
    [int('block', [2], [2, 2]), int('pads', [2, 2], [0, 0, 0, 0]), int('crops', [2, 2], [0, 0, 0, 0]), { name: 'dw', shape: [3, 3, 2, 1], values: Array.from({ length: 18 }, (_, i) => (i % 5) / 4 - 0.3) }, int('target', [5], [3, 1, 4, 4, 2])],
  );
  const model = await openMemory(json, shards);
  const constantOf = (name: string) => closedForm(row(model, name))?.compositionConstant;
  assert.deepEqual([row(model, 'toBatch').outputShapes, constantOf('toBatch')], [[[4, 2, 2, 2]], 1]);
  assert.equal(row(model, 'conv').spec.type, 'conv');
  assert.deepEqual(row(model, 'conv').inputShapes, [[4, 2, 2, 2]]);
  assert.deepEqual([row(model, 'toSpace').outputShapes, constantOf('toSpace')], [[[1, 4, 4, 2]], 1]);
  // [1, 4, 4, 2] broadcast to [3, 1, 4, 4, 2]: every entry copied 3 times, the explicit matrix's σ = √3.
  const copies = Array.from({ length: 3 * 32 }, (_, k) => k % 32);
  const wide = row(model, 'wide');
  assert.deepEqual(wide.outputShapes, [[3, 1, 4, 4, 2]]);
  assert.ok(Math.abs((constantOf('wide') as number) - selectionSigma(copies, 32)) < 1e-12);
});

test('pointwise ops that are not Lipschitz are unbounded rows with the reason; Prod over an axis too; GatherNd by data indices keeps a known shape', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 4, 4, 3]),
      { name: 'square', op: 'Square', input: ['x'] },
      { name: 'rsqrt', op: 'Rsqrt', input: ['x'] },
      { name: 'floor', op: 'Floor', input: ['x'] },
      { name: 'prod', op: 'Prod', input: ['x', 'axis'], attr: { keep_dims: { b: true } } },
      { name: 'where', op: 'Cast', input: ['floor'], attr: { DstT: { type: 'DT_INT32' } } },
      { name: 'picked', op: 'GatherNd', input: ['x', 'where'] },
      { name: 'conv', op: 'Conv2D', input: ['picked', 'w'], attr: { strides: list(1, 1, 1, 1), padding: { s: btoa('VALID') }, data_format: { s: btoa('NHWC') }, dilations: list(1, 1, 1, 1) } },
    ],
    [int('axis', [1], [3]), { name: 'w', shape: [1, 1, 3, 2], values: [1, 0, 0, 1, 1, 1] }],
  );
  const model = await openMemory(json, shards);
  for (const [name, reason] of [['square', /x\^2/], ['rsqrt', /1\/√x/], ['floor', /step function/], ['prod', /product of entries/]] as const) {
    const node = row(model, name);
    assert.ok(node.spec.type === 'unbounded' && reason.test(node.spec.reason), `${name}: ${JSON.stringify(node.spec)}`);
  }
  assert.deepEqual(row(model, 'prod').outputShapes, [[1, 4, 4, 1]]);
  // Indices [1, 4, 4, 3] pick (b, h, w) triples of the rank-4 params: each picks a whole last axis of 3.
  assert.equal(row(model, 'picked').spec.type, 'unsupported');
  assert.deepEqual(row(model, 'picked').outputShapes, [[1, 4, 4, 3]]);
  assert.equal(row(model, 'conv').spec.type, 'conv', 'the conv after a data-indexed GatherNd is computed');
});

test('SparseToDense on constants folds (ONNX-to-TF shape arithmetic): the Reshape target it feeds is known', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 2, 6]),
      { name: 'dense', op: 'SparseToDense', input: ['indices', 'outShape', 'values', 'zero'] },
      { name: 'target', op: 'AddV2', input: ['base', 'dense'] },
      { name: 'reshaped', op: 'Reshape', input: ['x', 'target'] },
    ],
    [int('indices', [1, 1], [2]), int('outShape', [1], [3]), int('values', [], [2]), int('zero', [], [0]), int('base', [3], [1, 3, 2])],
  );
  const model = await openMemory(json, shards);
  // dense = [0, 0, 2], target = [1, 3, 4].
  assert.deepEqual(row(model, 'reshaped').outputShapes, [[1, 3, 4]]);
});

test('a multiply by 0 after an unbounded row outputs a constant: its bound is 0, not NaN', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 3]),
      { name: 'square', op: 'Square', input: ['x'] },
      { name: 'zeroed', op: 'Mul', input: ['square', 'zero'] },
      { name: 'out', op: 'AddV2', input: ['zeroed', 'x'] },
    ],
    [{ name: 'zero', shape: [], values: [0] }],
  );
  const model = await openMemory(json, shards);
  const { network } = compose(model, model.nodes.map((n) => closedForm(n)?.compositionConstant));
  assert.equal(network, 1);
});

test('BroadcastTo of an empty tensor (an input too small for the model) is the zero map with a warning, never 0/0 copies', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 4, 3]),
      { name: 'empty', op: 'StridedSlice', input: ['x', 'b', 'e', 's'], attr: { begin_mask: { i: '0' }, end_mask: { i: '0' }, shrink_axis_mask: { i: '0' } } },
      { name: 'wide', op: 'BroadcastTo', input: ['empty', 'target'] },
    ],
    [int('b', [3], [0, 2, 0]), int('e', [3], [1, 2, 3]), int('s', [3], [1, 1, 1]), int('target', [4], [2, 1, 0, 3])],
  );
  const model = await openMemory(json, shards);
  const wide = row(model, 'wide');
  assert.deepEqual(wide.outputShapes, [[2, 1, 0, 3]]);
  assert.equal(closedForm(wide)?.compositionConstant, 0);
  assert.ok(model.warnings.some((w) => /"wide".*empty tensor/.test(w)), JSON.stringify(model.warnings));
});
