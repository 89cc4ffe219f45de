// Constant folding of TF shape arithmetic (src/formats/tfjs/fold.ts), each op on small values whose
// answer TF's semantics give directly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldTfNode, foldTfOutputs, stridedSliceGeometry, type ConstValue, type FoldNode } from '../../../../src/formats/tfjs/fold';

const ints = (values: number[], shape = [values.length]): ConstValue => ({ shape, dtype: 'int32', values: Int32Array.from(values) });
const floats = (values: number[], shape = [values.length]): ConstValue => ({ shape, dtype: 'float32', values: Float32Array.from(values) });

function node(op: string, inputs: (ConstValue | undefined)[], attrs: Record<string, number | number[] | string | boolean> = {}, shapes: (number[] | undefined)[] = []): FoldNode {
  return {
    op,
    int: (name) => (typeof attrs[name] === 'number' ? (attrs[name] as number) : undefined),
    ints: (name) => (Array.isArray(attrs[name]) ? (attrs[name] as number[]) : undefined),
    type: (name) => (typeof attrs[name] === 'string' ? (attrs[name] as string) : undefined),
    bool: (name) => attrs[name] === true,
    input: (k) => inputs[k],
    shapeOf: (k) => shapes[k] ?? inputs[k]?.shape,
    inputCount: inputs.length,
  };
}

const plain = (c: ConstValue | undefined) => c && { shape: c.shape, dtype: c.dtype, values: Array.from(c.values) };

test('Shape, Size and Rank of a signal whose shape is known', () => {
  assert.deepEqual(plain(foldTfNode(node('Shape', [undefined], { out_type: 'DT_INT32' }, [[1, 24, 24, 8]]))), { shape: [4], dtype: 'int32', values: [1, 24, 24, 8] });
  assert.deepEqual(plain(foldTfNode(node('Size', [undefined], {}, [[2, 3]]))), { shape: [], dtype: 'int32', values: [6] });
  assert.deepEqual(plain(foldTfNode(node('Rank', [undefined], {}, [[2, 3]]))), { shape: [], dtype: 'int32', values: [2] });
  assert.equal(foldTfNode(node('Shape', [undefined])), undefined, 'an unknown shape does not fold');
});

test('StridedSlice: ranges, negative indices, masks, shrink, new axis, ellipsis, negative strides', () => {
  const shape = ints([1, 24, 32, 8]);
  const slice = (begin: number[], end: number[], strides: number[], attrs: Record<string, number> = {}, x = shape) => plain(foldTfNode(node('StridedSlice', [x, ints(begin), ints(end), ints(strides)], attrs)));
  assert.deepEqual(slice([1], [3], [1])?.values, [24, 32]);
  assert.deepEqual(slice([0], [1], [1], { shrink_axis_mask: 1 }), { shape: [], dtype: 'int32', values: [1] });
  assert.deepEqual(slice([-1], [0], [1], { shrink_axis_mask: 1 })?.values, [8]);
  assert.deepEqual(slice([1], [0], [1], { end_mask: 1 })?.values, [24, 32, 8]);
  assert.deepEqual(slice([0], [0], [-1], { begin_mask: 1, end_mask: 1 })?.values, [8, 32, 24, 1]);
  assert.deepEqual(slice([0], [4], [2])?.values, [1, 32]);
  const m = ints([0, 1, 2, 3, 4, 5], [2, 3]);
  assert.deepEqual(slice([0, 1], [0, 3], [1, 1], { begin_mask: 1, end_mask: 1 }, m), { shape: [2, 2], dtype: 'int32', values: [1, 2, 4, 5] });
  assert.deepEqual(slice([0, 2], [0, 3], [1, 1], { ellipsis_mask: 1, shrink_axis_mask: 2 }, m), { shape: [2], dtype: 'int32', values: [2, 5] });
  assert.deepEqual(slice([0, 0], [0, 1], [1, 1], { new_axis_mask: 1, shrink_axis_mask: 2 }, ints([7, 8])), { shape: [1], dtype: 'int32', values: [7] });
});

test('Pack, ConcatV2, ExpandDims, Squeeze, Reshape, Cast', () => {
  assert.deepEqual(plain(foldTfNode(node('Pack', [ints([1], []), ints([96], [])], { axis: 0 }))), { shape: [2], dtype: 'int32', values: [1, 96] });
  assert.deepEqual(plain(foldTfNode(node('Pack', [ints([1, 2]), ints([3, 4])], { axis: 1 }))), { shape: [2, 2], dtype: 'int32', values: [1, 3, 2, 4] });
  assert.deepEqual(plain(foldTfNode(node('ConcatV2', [ints([1, 2]), ints([3]), ints([0], [])]))), { shape: [3], dtype: 'int32', values: [1, 2, 3] });
  assert.deepEqual(plain(foldTfNode(node('ConcatV2', [ints([1, 2], [1, 2]), ints([3, 4], [1, 2]), ints([-1], [])]))), { shape: [1, 4], dtype: 'int32', values: [1, 2, 3, 4] });
  assert.deepEqual(foldTfNode(node('ExpandDims', [ints([5]), ints([0], [])]))?.shape, [1, 1]);
  assert.deepEqual(foldTfNode(node('Squeeze', [ints([5], [1, 1])], { squeeze_dims: [0] }))?.shape, [1]);
  assert.deepEqual(foldTfNode(node('Reshape', [ints([1, 2, 3, 4, 5, 6]), ints([-1, 2])]))?.shape, [3, 2]);
  assert.deepEqual(plain(foldTfNode(node('Cast', [floats([2.7, -1.5])], { DstT: 'DT_INT32' }))), { shape: [2], dtype: 'int32', values: [2, -1] });
  assert.deepEqual(plain(foldTfNode(node('Cast', [ints([3])], { DstT: 'DT_FLOAT' })))?.dtype, 'float32');
});

test('integer and float arithmetic with broadcasting: FloorDiv and FloorMod round down, Div truncates integers', () => {
  assert.deepEqual(plain(foldTfNode(node('FloorDiv', [ints([7, -7]), ints([2], [])])))?.values, [3, -4]);
  assert.deepEqual(plain(foldTfNode(node('FloorMod', [ints([7, -7]), ints([3], [])])))?.values, [1, 2]);
  assert.deepEqual(plain(foldTfNode(node('Div', [ints([7, -7]), ints([2], [])])))?.values, [3, -3]);
  assert.deepEqual(plain(foldTfNode(node('RealDiv', [floats([1, 3]), floats([2], [])])))?.values, [0.5, 1.5]);
  assert.deepEqual(plain(foldTfNode(node('Mul', [ints([1, 2], [2, 1]), ints([10, 20, 30])]))), { shape: [2, 3], dtype: 'int32', values: [10, 20, 30, 20, 40, 60] });
  assert.deepEqual(plain(foldTfNode(node('AddN', [ints([1]), ints([2]), ints([3])])))?.values, [6]);
  assert.deepEqual(plain(foldTfNode(node('Maximum', [ints([1, 5]), ints([3], [])])))?.values, [3, 5]);
  assert.deepEqual(plain(foldTfNode(node('Equal', [ints([1, 5]), ints([5], [])]))), { shape: [2], dtype: 'bool', values: [0, 1] });
  assert.equal(foldTfNode(node('Add', [ints([1, 2]), ints([1, 2, 3])])), undefined, 'shapes that do not broadcast do not fold');
  assert.equal(foldTfNode(node('Add', [ints([1]), undefined])), undefined, 'a signal operand does not fold');
});

test('Prod, Sum, Max over axes; GatherV2; Range; Fill; Tile; BroadcastTo; Slice', () => {
  assert.deepEqual(plain(foldTfNode(node('Prod', [ints([24, 32, 8]), ints([0], [])]))), { shape: [], dtype: 'int32', values: [6144] });
  assert.deepEqual(plain(foldTfNode(node('Sum', [ints([1, 2, 3, 4], [2, 2]), ints([1], [])], { keep_dims: true }))), { shape: [2, 1], dtype: 'int32', values: [3, 7] });
  assert.deepEqual(plain(foldTfNode(node('Max', [ints([1, 9, 3, 4], [2, 2]), ints([0], [])])))?.values, [3, 9]);
  assert.deepEqual(plain(foldTfNode(node('GatherV2', [ints([1, 24, 32, 8]), ints([2, -1]), ints([0], [])])))?.values, [32, 8]);
  assert.deepEqual(plain(foldTfNode(node('GatherV2', [ints([1, 2, 3, 4, 5, 6], [2, 3]), ints([2], []), ints([1], [])]))), { shape: [2], dtype: 'int32', values: [3, 6] });
  assert.deepEqual(plain(foldTfNode(node('Range', [ints([2], []), ints([11], []), ints([3], [])])))?.values, [2, 5, 8]);
  assert.deepEqual(plain(foldTfNode(node('Fill', [ints([2, 2]), floats([0.5], [])]))), { shape: [2, 2], dtype: 'float32', values: [0.5, 0.5, 0.5, 0.5] });
  assert.deepEqual(plain(foldTfNode(node('Tile', [ints([1, 2], [1, 2]), ints([2, 2])]))), { shape: [2, 4], dtype: 'int32', values: [1, 2, 1, 2, 1, 2, 1, 2] });
  assert.deepEqual(plain(foldTfNode(node('BroadcastTo', [ints([1, 2]), ints([2, 2])])))?.values, [1, 2, 1, 2]);
  assert.deepEqual(plain(foldTfNode(node('Slice', [ints([0, 1, 2, 3, 4, 5], [2, 3]), ints([0, 1]), ints([-1, 2])]))), { shape: [2, 2], dtype: 'int32', values: [1, 2, 4, 5] });
  assert.equal(foldTfNode(node('Fill', [ints([1 << 12, 1 << 12]), floats([0], [])])), undefined, 'a huge Fill is not folded');
});

test('multi-output ops: Unpack, Split, SplitV', () => {
  assert.deepEqual(foldTfOutputs(node('Unpack', [ints([1, 24, 32, 8])], { axis: 0 }))?.map(plain), [1, 24, 32, 8].map((v) => ({ shape: [], dtype: 'int32', values: [v] })));
  assert.deepEqual(foldTfOutputs(node('Split', [ints([1], []), ints([1, 2, 3, 4], [1, 4])], { num_split: 2 }))?.map((c) => c.values.length), [2, 2]);
  assert.deepEqual(foldTfOutputs(node('SplitV', [ints([1, 2, 3, 4, 5]), ints([1, -1]), ints([0], [])]))?.map((c) => Array.from(c.values)), [[1], [2, 3, 4, 5]]);
});

test('the output shape of a StridedSlice on a signal, without its values', () => {
  const geometry = (begin: number[], end: number[], attrs: Record<string, number> = {}) => stridedSliceGeometry(node('StridedSlice', [undefined, ints(begin), ints(end), ints(begin.map(() => 1))], attrs), [1, 64, 64, 3])?.outShape;
  assert.deepEqual(geometry([0, 0], [0, 1], { begin_mask: 1, end_mask: 1, ellipsis_mask: 0, shrink_axis_mask: 0 }), [1, 1, 64, 3]);
  assert.deepEqual(geometry([0, 1], [0, 2], { ellipsis_mask: 1, shrink_axis_mask: 2 }), [1, 64, 64]);
  assert.deepEqual(geometry([0, 8, 8], [1, -8, -8]), [1, 48, 48, 3]);
});

test('rows after ops the engine cannot bound keep shapes: GatherV2 with data indices, MatMul of two signals (StridedSlice and Pack of data are selections)', async () => {
  const { graphModel, placeholder } = await import('./graph-builder');
  const { openMemory } = await import('./helpers');
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 6, 4]),
      { name: 'head', op: 'StridedSlice', input: ['x', 'b', 'e', 'st'], attr: { begin_mask: { i: '5' }, end_mask: { i: '5' } } },
      { name: 'pair', op: 'Pack', input: ['head', 'head'], attr: { axis: { i: '0' } } },
      { name: 'idx', op: 'Cast', input: ['head'], attr: { DstT: { type: 'DT_INT32' } } },
      { name: 'picked', op: 'GatherV2', input: ['x', 'idx', 'axis1'] },
      { name: 'gram', op: 'BatchMatMulV2', input: ['head', 'head'], attr: { adj_y: { b: true } } },
      { name: 'dense', op: 'MatMul', input: ['head_flat', 'w'] },
      { name: 'head_flat', op: 'Reshape', input: ['head', 'flat'] },
    ],
    [
      { name: 'b', shape: [3], values: [0, 0, 0], dtype: 'int32' },
      { name: 'e', shape: [3], values: [0, 2, 0], dtype: 'int32' },
      { name: 'st', shape: [3], values: [1, 1, 1], dtype: 'int32' },
      { name: 'axis1', shape: [], values: [1], dtype: 'int32' },
      { name: 'flat', shape: [2], values: [1, 8], dtype: 'int32' },
      { name: 'w', shape: [8, 2], values: Array.from({ length: 16 }, (_, i) => i / 10) },
    ],
  );
  const model = await openMemory(json, shards);
  const shapes = Object.fromEntries(model.nodes.map((n) => [n.name, [n.spec.type, n.outputShapes[0]]]));
  // A strided slice and a pack of data are selections (constant 1, test/unit/formats/tfjs/data-ops.test.ts).
  assert.deepEqual(shapes.head, ['fixed', [1, 2, 4]]);
  assert.deepEqual(shapes.pair, ['fixed', [2, 1, 2, 4]]);
  assert.deepEqual(shapes.picked, ['unsupported', [1, 1, 2, 4, 4]], 'the shape of data-dependent indices');
  assert.deepEqual(shapes.gram, ['unbounded', [1, 2, 2]]);
  assert.deepEqual(shapes.dense, ['dense', [1, 2]], 'the dense layer after the slice is computed');
});

test('SelectV2 picks entrywise with broadcasting; Select broadcasts a vector condition along the first axis', () => {
  const bools = (values: number[], shape = [values.length]): ConstValue => ({ shape, dtype: 'bool', values: Uint8Array.from(values) });
  assert.deepEqual(plain(foldTfNode(node('SelectV2', [bools([1], []), ints([7], []), ints([9], [])]))), { shape: [], dtype: 'int32', values: [7] });
  assert.deepEqual(plain(foldTfNode(node('SelectV2', [bools([1, 0, 1]), ints([1, 2, 3]), ints([0], [])]))), { shape: [3], dtype: 'int32', values: [1, 0, 3] });
  assert.deepEqual(plain(foldTfNode(node('Select', [bools([0, 1]), floats([1, 2, 3, 4], [2, 2]), floats([5, 6, 7, 8], [2, 2])]))), { shape: [2, 2], dtype: 'float32', values: [5, 6, 3, 4] });
  assert.equal(foldTfNode(node('SelectV2', [undefined, ints([1]), ints([2])])), undefined, 'an unknown condition does not fold');
});
