// Weight decoding: element types, storage forms, external data, DequantizeLinear, and the checks that
// refuse lying headers, escaping paths, missing initializers and cycles.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../../../../src/model/errors';
import { onnxFormat } from '../../../../src/formats/onnx';
import { T, attr, buildModel, floats, int64s, modelProto, encodeModel, node, open, openBytes, seeded, single, tensor, type ModelSpec } from '../../../helpers/onnx-builder';

const W = seeded(4 * 3, 7);

/** Gemm x[1,3] · Wᵀ with W [4,3] stored as `t` (named "w"). */
function gemmWith(t: ReturnType<typeof tensor>, extra: Partial<ModelSpec> = {}): ModelSpec {
  return { ...single('Gemm', [1, 3], { inputs: ['w'], attrs: [attr.int('transB', 1)], initializers: [t] }), ...extra };
}

async function denseWeight(spec: ModelSpec, companions: Record<string, Uint8Array> = {}): Promise<Float32Array> {
  const model = await open(spec, {}, companions);
  const n = model.nodes[0];
  assert.equal(n.spec.type, 'dense');
  assert.deepEqual(n.weightShape, [4, 3]);
  if (n.spec.type !== 'dense') throw new Error('unreachable');
  assert.deepEqual(n.spec.weight.dims, [3, 4]);
  // Canonical [in, out] is the stored [out, in] transposed: back to stored order for comparison.
  const stored = new Float32Array(12);
  for (let i = 0; i < 3; i++) for (let o = 0; o < 4; o++) stored[o * 3 + i] = n.spec.weight.data[i * 4 + o];
  return stored;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `entry ${i}: ${actual[i]} vs ${expected[i]}`);
}

for (const raw of [true, false]) {
  const form = raw ? 'raw_data' : 'typed field';
  test(`float32 weights in ${form}`, async () => assertClose(await denseWeight(gemmWith(tensor('w', [4, 3], W, { raw }))), W, 0));
  test(`float64 weights in ${form} become float32`, async () => assertClose(await denseWeight(gemmWith(tensor('w', [4, 3], W, { raw, dataType: T.DOUBLE }))), W, 1e-7));
  test(`float16 weights in ${form}`, async () => assertClose(await denseWeight(gemmWith(tensor('w', [4, 3], W, { raw, dataType: T.FLOAT16 }))), W, 1e-3));
  test(`bfloat16 weights in ${form}`, async () => assertClose(await denseWeight(gemmWith(tensor('w', [4, 3], W, { raw, dataType: T.BFLOAT16 }))), W, 1e-2));
}

test('float16 decoding is exact on representable values, subnormals and signs', async () => {
  const values = [0, -0, 1, -2, 0.5, 65504, 2 ** -24, -(2 ** -14), 0.333251953125, 3, 4, 5];
  assertClose(await denseWeight(gemmWith(tensor('w', [4, 3], values, { dataType: T.FLOAT16 }))), values, 0);
});

for (const [name, dataType, q] of [
  ['int8', T.INT8, [-128, -3, 0, 5, 127, 1, 2, -1, 9, -9, 4, 100]],
  ['uint8', T.UINT8, [0, 3, 255, 128, 7, 1, 2, 200, 9, 19, 4, 100]],
  ['int32', T.INT32, [-100000, -3, 0, 5, 127, 1, 2, -1, 9, -9, 4, 100]],
] as const) {
  test(`${name} weights behind DequantizeLinear, per-tensor`, async () => {
    const zp = dataType === T.INT32 ? [] : [tensor('zp', [], [dataType === T.UINT8 ? 128 : 3], { dataType })];
    const spec: ModelSpec = {
      inputs: [{ name: 'x', shape: [1, 3] }],
      outputs: ['y'],
      initializers: [tensor('q', [4, 3], q, { dataType }), floats('s', [], [0.05]), ...zp],
      nodes: [node('DequantizeLinear', ['q', 's', ...(zp.length ? ['zp'] : [])], ['w']), node('Gemm', ['x', 'w'], ['y'], [attr.int('transB', 1)], 'gemm')],
    };
    const zero = dataType === T.INT32 ? 0 : dataType === T.UINT8 ? 128 : 3;
    assertClose(await denseWeight(spec), q.map((v) => (v - zero) * 0.05), 1e-6);
  });
}

test('int8 conv weights behind DequantizeLinear, per-axis (opset 13)', async () => {
  const q = Array.from({ length: 4 * 2 * 1 * 1 }, (_, i) => i - 4);
  const scales = [0.1, 0.2, 0.3, 0.4];
  const zps = [0, 1, -1, 2];
  const spec: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 2, 5, 5] }],
    outputs: ['y'],
    initializers: [tensor('q', [4, 2, 1, 1], q, { dataType: T.INT8 }), floats('s', [4], scales), tensor('zp', [4], zps, { dataType: T.INT8 })],
    nodes: [node('DequantizeLinear', ['q', 's', 'zp'], ['w'], [attr.int('axis', 0)]), node('Conv', ['x', 'w'], ['y'], [], 'conv')],
  };
  const model = await open(spec);
  const conv = model.nodes[0];
  assert.equal(conv.spec.type, 'conv');
  if (conv.spec.type !== 'conv') return;
  assert.deepEqual(conv.weightShape, [4, 2, 1, 1]);
  assertClose(conv.spec.weight.data, q.map((v, i) => (v - zps[Math.floor(i / 2)]) * scales[Math.floor(i / 2)]), 1e-6);
});

test('QuantizeLinear → DequantizeLinear on a float weight (QDQ) folds to the quantised values', async () => {
  const spec: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 3] }],
    outputs: ['y'],
    initializers: [floats('wf', [4, 3], W), floats('s', [], [0.01]), tensor('zp', [], [0], { dataType: T.INT8 })],
    nodes: [node('QuantizeLinear', ['wf', 's', 'zp'], ['q']), node('DequantizeLinear', ['q', 's', 'zp'], ['w']), node('Gemm', ['x', 'w'], ['y'], [attr.int('transB', 1)], 'gemm')],
  };
  assertClose(await denseWeight(spec), Array.from(W, (v) => Math.round(v / 0.01) * 0.01), 1e-6);
});

test('Constant nodes carry weights (value tensor) and shapes (value_ints, value_float)', async () => {
  const spec: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 2, 3] }],
    outputs: ['y'],
    nodes: [
      node('Constant', [], ['w'], [attr.tensor('value', tensor('', [4, 3], W))]),
      node('Constant', [], ['shape'], [attr.ints('value_ints', [1, 6])]),
      node('Constant', [], ['k'], [attr.float('value_float', 2)]),
      node('Reshape', ['x', 'shape'], ['r']),
      node('Mul', ['r', 'k'], ['m'], [], 'mul'),
      node('Slice', ['m', 'starts', 'ends', 'axes'], ['s'], [], 'slice'),
      node('Gemm', ['s', 'w'], ['y'], [attr.int('transB', 1)], 'gemm'),
    ],
    initializers: [int64s('starts', [3]), int64s('ends', [6]), int64s('axes', [-1])],
  };
  const model = await open(spec);
  assert.deepEqual(model.nodes.map((n) => n.op), ['Reshape', 'Mul', 'Slice', 'Gemm']);
  assert.deepEqual(model.nodes[3].weightShape, [4, 3]);
  assert.deepEqual(model.nodes[1].spec, { type: 'diagonal', scale: Float32Array.of(2), axis: -1 });
  assert.deepEqual(model.nodes[2].outputShapes, [[1, 3]]);
  assert.equal(model.metadata.parameterCount, 12 + 1, 'float Constants count as parameters, int64 shape vectors do not');
});

test('external data is read next to the model, at its offset', async () => {
  const bytes = new Uint8Array(16 + 48);
  new DataView(bytes.buffer).setUint32(0, 0xdeadbeef);
  const data = new DataView(bytes.buffer, 16);
  W.forEach((v, i) => data.setFloat32(4 * i, v, true));
  const t = { name: 'w', dims: [4, 3], dataType: T.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '16' }, { key: 'length', value: '48' }] };
  assertClose(await denseWeight(gemmWith(t), { 'weights.bin': bytes }), W, 0);
});

test('external data: escaping paths, short files and wrong lengths are ModelErrors', async () => {
  const ext = (location: string, offset = '0', length?: string) => ({
    name: 'w', dims: [4, 3], dataType: T.FLOAT, dataLocation: 1,
    externalData: [{ key: 'location', value: location }, { key: 'offset', value: offset }, ...(length ? [{ key: 'length', value: length }] : [])],
  });
  const bin = { 'weights.bin': new Uint8Array(48) };
  for (const location of ['../secret.bin', '/etc/passwd', 'sub/../../x.bin', 'C:\\x.bin']) {
    await assert.rejects(open(gemmWith(ext(location)), {}, bin), (e: unknown) => e instanceof ModelError && /outside the model's folder/.test(e.message), location);
  }
  await assert.rejects(open(gemmWith(ext('weights.bin', '8')), {}, bin), /needs bytes 8\.\.56 of "weights.bin", which has only 48/);
  await assert.rejects(open(gemmWith(ext('weights.bin', '0', '40')), {}, bin), /declares 40 external bytes/);
  await assert.rejects(open(gemmWith(ext('missing.bin')), {}, bin), ModelError);
});

test('a header claiming 2^40 elements is refused before any allocation', async () => {
  const liar = { name: 'w', dims: [2 ** 20, 2 ** 20], dataType: T.FLOAT, rawData: new Uint8Array(48) };
  await assert.rejects(open(gemmWith(liar)), (e: unknown) => e instanceof ModelError && /more than a tensor can hold/.test(e.message));
  const modest = { name: 'w', dims: [4000, 3], dataType: T.FLOAT, rawData: new Uint8Array(48) };
  await assert.rejects(open(gemmWith(modest)), /holds 48 bytes of raw data/);
  const typed = { name: 'w', dims: [4, 3], dataType: T.FLOAT, floatData: [1, 2] };
  await assert.rejects(open(gemmWith(typed)), /holds 2/);
  const external = { name: 'w', dims: [2 ** 20, 2 ** 10], dataType: T.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }] };
  await assert.rejects(open(gemmWith(external), {}, { 'weights.bin': new Uint8Array(64) }), /which has only 64/);
});

test('negative dims, missing initializers, cycles and garbage bytes are one-line ModelErrors', async () => {
  await assert.rejects(open(gemmWith({ name: 'w', dims: [-4, 3], dataType: T.FLOAT, floatData: [] })), /invalid dimension -4/);
  const missing = single('Gemm', [1, 3], { inputs: ['w'], attrs: [attr.int('transB', 1)] });
  await assert.rejects(open(missing), /reads "w", which is neither a graph input, an initializer nor produced by a node/);
  const cyclic: ModelSpec = {
    inputs: [{ name: 'x', shape: [1, 3] }],
    outputs: ['b'],
    nodes: [node('Add', ['x', 'b'], ['a'], [], 'first'), node('Relu', ['a'], ['b'], [], 'second')],
  };
  await assert.rejects(open(cyclic), /the graph has a cycle through node "first"/);
  const garbage = new Uint8Array(64).fill(0xff);
  await assert.rejects(openBytes(garbage), (e: unknown) => e instanceof ModelError && /is not a valid ONNX model/.test(e.message) && !e.message.includes('\n'));
  const truncated = buildModel(gemmWith(tensor('w', [4, 3], W))).subarray(0, 60);
  await assert.rejects(openBytes(truncated), ModelError);
});

test('detect matches .onnx files that start like a ModelProto', () => {
  const bytes = encodeModel(modelProto(gemmWith(tensor('w', [4, 3], W))));
  assert.equal(onnxFormat.detect('net.onnx', bytes.subarray(0, 16)), true);
  assert.equal(onnxFormat.detect('net.ONNX', bytes.subarray(0, 16)), true);
  assert.equal(onnxFormat.detect('model.json', bytes.subarray(0, 16)), false);
  assert.equal(onnxFormat.detect('net.onnx', new TextEncoder().encode('{"format":')), false);
});
