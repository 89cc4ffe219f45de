// TF1 while loops in graph-models (docs/graphs.md, "Control flow"): a tf.map written as
// TensorListReserve → Enter/Merge/Switch/NextIteration/Exit → TensorListStack, as TF's object
// detection preprocessor exports it (human's handtrack). The loop stays unsupported, but the stacked
// list has the shape the file states (num_elements, element_shape), so the convolution after it is
// computed; without a stated element shape it stays "input shape unknown", naming the loop's row.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvSpec } from '../../../../src/model/ir';
import { openMemory, row } from './helpers';
import { graphModel, list, placeholder, range, s } from './graph-builder';

function mapLoop(elementShape: number[]) {
  return graphModel(
    [
      placeholder('x', [1, 6, 6, 3]),
      { name: 'list', op: 'TensorListReserve', input: ['element_shape', 'num_elements'], attr: { element_dtype: { type: 'DT_FLOAT' } } },
      { name: 'while/enter', op: 'Enter', input: ['list'], attr: { frame_name: s('map/while') } },
      { name: 'while/enter_x', op: 'Enter', input: ['x'], attr: { frame_name: s('map/while'), is_constant: { b: true } } },
      { name: 'while/merge', op: 'Merge', input: ['while/enter', 'while/next'] },
      { name: 'while/less', op: 'Less', input: ['counter', 'limit'] },
      { name: 'while/cond', op: 'LoopCond', input: ['while/less'] },
      { name: 'while/switch', op: 'Switch', input: ['while/merge', 'while/cond'] },
      { name: 'while/body/scaled', op: 'Mul', input: ['while/enter_x', 'half'] },
      { name: 'while/body/set', op: 'TensorListSetItem', input: ['while/switch:1', 'counter', 'while/body/scaled'], attr: { element_dtype: { type: 'DT_FLOAT' } } },
      { name: 'while/next', op: 'NextIteration', input: ['while/body/set'] },
      { name: 'while/exit', op: 'Exit', input: ['while/switch'] },
      { name: 'stack', op: 'TensorListStack', input: ['while/exit', 'stack_shape'], attr: { num_elements: { i: '1' }, element_dtype: { type: 'DT_FLOAT' } } },
      { name: 'conv', op: 'Conv2D', input: ['stack', 'w'], attr: { strides: list(1, 1, 1, 1), padding: s('VALID'), data_format: s('NHWC'), dilations: list(1, 1, 1, 1) } },
    ],
    [
      { name: 'element_shape', shape: [3], values: [6, 6, 3], dtype: 'int32' },
      { name: 'num_elements', shape: [], values: [1], dtype: 'int32' },
      { name: 'counter', shape: [], values: [0], dtype: 'int32' },
      { name: 'limit', shape: [], values: [1], dtype: 'int32' },
      { name: 'half', shape: [], values: [0.5] },
      { name: 'stack_shape', shape: [elementShape.length], values: elementShape, dtype: 'int32' },
      { name: 'w', shape: [3, 3, 3, 2], values: range(54) },
    ],
  );
}

test('a TF1 map loop: the loop rows are unsupported, TensorListStack takes its stated shape, the conv after it is computed', async () => {
  const { json, shards } = mapLoop([6, 6, 3]);
  const model = await openMemory(json, shards);
  for (const name of ['while/merge', 'while/switch', 'while/exit']) assert.equal(row(model, name).spec.type, 'unsupported', name);
  const stack = row(model, 'stack');
  assert.equal(stack.spec.type, 'unsupported');
  assert.deepEqual(stack.outputShapes, [[1, 6, 6, 3]]);
  const conv = row(model, 'conv');
  assert.equal(conv.spec.type, 'conv');
  assert.deepEqual([conv.inputShapes[0], conv.outputShapes[0]], [[1, 6, 6, 3], [1, 4, 4, 2]]);
  assert.deepEqual((conv.spec as ConvSpec).weight.dims, [2, 3, 3, 3]);
});

test('a TF1 map loop whose stacked element shape is not stated (−1): the conv after it is "input shape unknown", naming the stack', async () => {
  const { json, shards } = mapLoop([-1, -1, 3]);
  const model = await openMemory(json, shards);
  const conv = row(model, 'conv');
  assert.equal(conv.spec.type, 'unsupported');
  assert.match(conv.spec.type === 'unsupported' ? conv.spec.detail ?? '' : '', /input shape unknown.*(stack|Exit)/);
});
