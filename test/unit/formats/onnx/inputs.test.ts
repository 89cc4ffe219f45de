// Graph inputs: initializers listed as inputs, dynamic dims, the batch default and --input-shape.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../../../../src/model/errors';
import { attr, floats, node, open, seeded, type ModelSpec } from '../../../helpers/onnx-builder';

const convNet = (shape: (number | string | null)[] | undefined, extra: Partial<ModelSpec> = {}): ModelSpec => ({
  inputs: [{ name: 'image', shape }],
  outputs: ['y'],
  initializers: [floats('w', [4, 3, 3, 3], seeded(108))],
  nodes: [node('Conv', ['image', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])], 'conv'), node('Relu', ['c'], ['y'], [], 'relu')],
  producer: 'tester',
  producerVersion: '1.2',
  ...extra,
});

test('initializers listed among the graph inputs (old exporters) are not inputs', async () => {
  const model = await open(convNet([1, 3, 8, 8], { initializersAsInputs: true, opset: 7 }));
  assert.deepEqual(model.inputs.map((i) => i.name), ['image']);
  assert.deepEqual(model.metadata, {
    producer: 'tester', producerVersion: '1.2', opset: 7, nodeCount: 2, parameterCount: 108,
    outputShapes: [{ name: 'y', shape: [] }],
  });
});

test('a dynamic batch dimension defaults to 1 with a warning', async () => {
  for (const batch of ['N', null]) {
    const model = await open(convNet([batch, 3, 8, 8]));
    assert.deepEqual(model.inputs[0].shape, [1, 3, 8, 8]);
    assert.deepEqual(model.inputs[0].declaredShape, [batch ?? '?', 3, 8, 8]);
    assert.ok(model.warnings.some((w) => /dynamic batch dimension .*using 1/.test(w)));
    assert.deepEqual(model.nodes[0].outputShapes, [[1, 4, 8, 8]]);
  }
});

test('other dynamic dims are never guessed: the error names them and how to pass a shape', async () => {
  await assert.rejects(open(convNet(['N', 3, 'height', 'width'])), (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.match(e.message, /input "image" has dynamic dims \[N, 3, height, width\]: dimension 2 \(height\), 3 \(width\) cannot be guessed; pass a shape with --input-shape 1,3,<height>,<width>/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  await assert.rejects(open(convNet(undefined)), /declares no shape; pass one with --input-shape/);
  await assert.rejects(open(convNet([1, 0, 8, 8])), /declares dimension 1 as 0/);
});

test('--input-shape fills dynamic dims; a wrong rank or a non-positive dim is refused', async () => {
  const model = await open(convNet(['N', 3, 'h', 'w']), { inputShape: [2, 3, 16, 12] });
  assert.deepEqual(model.inputs[0].shape, [2, 3, 16, 12]);
  assert.deepEqual(model.nodes.map((n) => n.outputShapes[0]), [[2, 4, 16, 12], [2, 4, 16, 12]]);
  await assert.rejects(open(convNet(['N', 3, 'h', 'w']), { inputShape: [3, 16, 12] }), /has rank 4/);
  await assert.rejects(open(convNet(['N', 3, 'h', 'w']), { inputShape: [1, 3, 0, 12] }), /positive integers/);
  const overridden = await open(convNet([1, 3, 8, 8]), { inputShape: [1, 3, 10, 10] });
  assert.deepEqual(overridden.nodes[0].outputShapes, [[1, 4, 10, 10]]);
  assert.ok(overridden.warnings.some((w) => /declared \[1, 3, 8, 8\]; using the given shape/.test(w)));
});

test('inputs held fixed take a named --input-shape, else a dim name shared with the signal input, else 1 with a warning', async () => {
  const spec: ModelSpec = {
    inputs: [{ name: 'a', shape: ['batch', 4] }, { name: 'b', shape: ['batch', 'n'] }],
    outputs: ['y'],
    nodes: [node('Add', ['a', 'b'], ['y'])],
  };
  const guessed = await open(spec, { inputShape: [3, 4] });
  assert.deepEqual(guessed.inputs.map((i) => [i.name, i.shape]), [['a', [3, 4]], ['b', [3, 1]]], 'batch is shared with the signal input; n is guessed');
  assert.ok(guessed.warnings.some((w) => /input "b" dimension 1 \(n\) is not given and shares no name with the signal input "a": using 1/.test(w)));
  const named = await open(spec, { inputShape: [3, 4], inputShapes: { b: [3, 4] } });
  assert.deepEqual(named.inputs.map((i) => i.shape), [[3, 4], [3, 4]]);
  assert.equal(named.signalInput, 'a');
  assert.ok(!named.warnings.some((w) => /input "b"/.test(w)));
  await assert.rejects(open(spec, { inputShapes: { c: [1] } }), /has no input "c"; its inputs are "a", "b"/);
  await assert.rejects(open(spec, { inputShapes: { b: [3, 4, 1] } }), /input "b" has rank 2/);
});

test('the signal input is the first floating-point input unless one is named; integer inputs are held fixed', async () => {
  const spec: ModelSpec = {
    inputs: [{ name: 'sr', shape: [], elemType: 7 }, { name: 'x', shape: [1, 4] }, { name: 'h', shape: [1, 4] }],
    outputs: ['y'],
    nodes: [node('Add', ['x', 'h'], ['y'], [], 'add')],
  };
  const model = await open(spec);
  assert.deepEqual(model.inputs.map((i) => i.name), ['x', 'sr', 'h'], 'the signal input first');
  assert.equal(model.signalInput, 'x');
  const chosen = await open(spec, { signalInput: 'h' });
  assert.deepEqual([chosen.signalInput, chosen.inputs[0].name], ['h', 'h']);
  await assert.rejects(open(spec, { signalInput: 'x', inputValues: { x: 1 } }), /signal input: it cannot also be given a fixed value/);
});

test('a fixed input read at another size: a shape error after it names the declared shape (exporters bake sizes for it)', async () => {
  // Concat with a constant of the declared spatial size, as a Resize to constant sizes feeding a skip Concat does.
  const spec: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 2, 4] }],
    outputs: ['y'],
    initializers: [floats('skip', [1, 3, 4], seeded(12))],
    nodes: [node('Relu', ['x'], ['r'], [], 'relu'), node('Concat', ['r', 'skip'], ['y'], [attr.int('axis', 1)], 'concat')],
  };
  const declared = await open(spec);
  assert.equal(declared.nodes[1].spec.type, 'concat');
  const other = await open(spec, { inputShape: [1, 2, 5] });
  const concat = other.nodes[1].spec;
  assert.ok(concat.type === 'unsupported', JSON.stringify(concat));
  assert.match(concat.detail ?? '', /do not concatenate on axis 1 \(input "x" is declared \[1, 2, 4\] and read as \[1, 2, 5\]: sizes the exporter fixed/);
});
