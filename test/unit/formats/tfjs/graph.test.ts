// The graph-model reader: a real converter-produced model (human's emotion classifier) and
// hand-built GraphDefs for each op family (NCHW, EXPLICIT padding, fused ops, constants).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { ConvSpec, IrModel } from '../../../../src/model/ir';
import { ModelError } from '../../../../src/model/errors';
import { SILU_CONSTANT } from '../../../../src/analysis/constants';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { maxAbsDiff, openFixture, openMemory, rawFloats, readJson, referenceConv, row, seeded } from './helpers';
import { graphModel, list, placeholder, range, s, sList } from './graph-builder';

const EMOTION = 'real/human-emotion';
const P = 'StatefulPartitionedCall/model_1/';

interface RawNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, { f?: number }>;
}

test('real graph model (human emotion, tfjs-converter): loads with mini-Xception\'s shapes', async () => {
  const model = await openFixture(EMOTION);
  assert.equal(model.format, 'tfjs-graph');
  assert.deepEqual(model.inputs.map((i) => [i.name, i.shape, i.declaredShape]), [['input_1', [1, 64, 64, 1], ['?', 64, 64, 1]]]);
  assert.deepEqual(model.outputs, ['Identity']);
  assert.deepEqual(model.metadata.outputShapes?.[0].shape, [1, 7]);
  const first = row(model, `${P}block1_conv1_act/Relu`);
  assert.equal(first.op, '_FusedConv2D');
  assert.deepEqual(first.outputShapes[0], [1, 31, 31, 32]);
  assert.deepEqual(first.weightShape, [3, 3, 1, 32]);
  assert.equal(row(model, `${P}block1_conv1_act/Relu/Relu`).op, 'Relu');
  assert.deepEqual(row(model, `${P}add_2/add`).outputShapes[0], [1, 8, 8, 256]);
  const mean = row(model, `${P}global_average_pooling2d_1/Mean`);
  assert.ok(mean.spec.type === 'reduceMean');
  assert.deepEqual(mean.spec.axes, [1, 2]);
  assert.equal(model.nodes.filter((n) => n.spec.type === 'conv').length, 13);
  assert.equal(model.nodes.filter((n) => n.spec.type === 'unsupported').length, 0);
  // sourceIndex points at the node with that name in the file.
  const json = readJson(EMOTION) as { modelTopology: { node: RawNode[] } };
  for (const node of model.nodes) {
    const base = json.modelTopology.node[node.sourceIndex ?? -1];
    assert.ok(node.name === base.name || node.name.startsWith(`${base.name}/`), node.name);
  }
});

test('real graph model: _FusedConv2D reproduces tf.conv2d; a 1×1 stride-2 filter is transposed to canonical entry for entry', async () => {
  await tf.setBackend('cpu');
  const model = await openFixture(EMOTION);
  const json = readJson(EMOTION) as { modelTopology: { node: RawNode[] } };
  const nodes = new Map(json.modelTopology.node.map((n) => [n.name, n]));

  const first = row(model, `${P}block1_conv1_act/Relu`);
  const filterName = nodes.get(first.name)?.input[1] as string;
  const filter = rawFloats(EMOTION, filterName);
  const x = seeded(64 * 64, 5);
  const expected = tf.conv2d(tf.tensor4d(x, [1, 64, 64, 1]), tf.tensor4d(filter.data, filter.shape as [number, number, number, number]), 2, 'valid');
  const got = referenceConv(x, [1, 64, 64, 1], first.spec as ConvSpec, first.outputShapes[0]);
  assert.ok(maxAbsDiff(got, expected.dataSync()) < 1e-4);

  // The converter already folded this batch norm into the filter (fused_ops is just BiasAdd):
  // the canonical weight is the raw [1, 1, cIn, cOut] filter transposed, unscaled.
  const bnName = `${P}batch_normalization_1/FusedBatchNormV3`;
  const raw = nodes.get(bnName) as RawNode;
  assert.deepEqual(raw.attr.fused_ops, { list: { s: [btoa('BiasAdd')] } } as unknown);
  const filt = rawFloats(EMOTION, raw.input[1]);
  const spec = row(model, bnName).spec as ConvSpec;
  const [, , cIn, cOut] = filt.shape;
  assert.deepEqual(spec.weight.dims, [cOut, cIn, 1, 1]);
  for (let o = 0; o < cOut; o++) for (let i = 0; i < cIn; i++) assert.equal(spec.weight.data[o * cIn + i], filt.data[i * cOut + o]);
  assert.equal(model.nodes.filter((n) => n.name.startsWith(bnName)).length, 1);
  assert.deepEqual(spec.strides, [2, 2]);
});

test('Conv2D in NCHW with EXPLICIT padding and unequal strides: pads from explicit_paddings, output shape and values as tf.conv2d', async () => {
  await tf.setBackend('cpu');
  const kernel = range(3 * 2 * 2 * 4, 0.07);
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 2, 7, 9]),
      {
        name: 'conv', op: 'Conv2D', input: ['x', 'w'],
        attr: { strides: list(1, 1, 2, 3), dilations: list(1, 1, 1, 1), padding: s('EXPLICIT'), explicit_paddings: list(0, 0, 0, 0, 1, 2, 3, 0), data_format: s('NCHW'), T: { type: 'DT_FLOAT' } },
      },
    ],
    [{ name: 'w', shape: [3, 2, 2, 4], values: kernel }],
  );
  const model = await openMemory(json, shards);
  const node = row(model, 'conv');
  const spec = node.spec as ConvSpec;
  assert.equal(spec.channelsLast, false);
  assert.deepEqual([spec.padsBegin, spec.padsEnd, spec.strides, spec.dilations], [[1, 3], [2, 0], [2, 3], [1, 1]]);
  const x = seeded(2 * 7 * 9, 9);
  const nhwc = tf.transpose(tf.tensor4d(x, [1, 2, 7, 9]), [0, 2, 3, 1]) as tf.Tensor4D;
  const expected = tf.transpose(tf.conv2d(nhwc, tf.tensor4d(kernel, [3, 2, 2, 4]), [2, 3], [[0, 0], [1, 2], [3, 0], [0, 0]], 'NHWC'), [0, 3, 1, 2]);
  assert.deepEqual(node.outputShapes[0], expected.shape);
  assert.ok(maxAbsDiff(referenceConv(x, [1, 2, 7, 9], spec, node.outputShapes[0]), expected.dataSync()) < 1e-4);
});

test('_FusedMatMul with transpose_b: a Dense [in, out] weight, then the fused activation row', async () => {
  const w = range(3 * 5);
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 5]),
      { name: 'mm', op: '_FusedMatMul', input: ['x', 'w', 'b'], attr: { transpose_a: { b: false }, transpose_b: { b: true }, fused_ops: sList('BiasAdd', 'LeakyRelu'), leakyrelu_alpha: { f: 1.5 }, num_args: { i: '1' } } },
    ],
    [{ name: 'w', shape: [3, 5], values: w }, { name: 'b', shape: [3], values: [1, 2, 3] }],
  );
  const model = await openMemory(json, shards);
  assert.deepEqual(model.nodes.map((n) => [n.name, n.op, n.spec.type]), [['mm', '_FusedMatMul', 'dense'], ['mm/LeakyRelu', 'LeakyRelu', 'fixed']]);
  const dense = model.nodes[0].spec;
  assert.ok(dense.type === 'dense');
  assert.deepEqual(dense.weight.dims, [5, 3]);
  for (let i = 0; i < 5; i++) for (let o = 0; o < 3; o++) assert.equal(dense.weight.data[i * 3 + o], Math.fround(w[o * 5 + i]));
  assert.deepEqual(model.nodes[0].weightShape, [3, 5]);
  const act = model.nodes[1].spec;
  assert.ok(act.type === 'fixed' && act.constant === 1.5);
  assert.deepEqual(model.outputs, ['mm']);
  assert.deepEqual(model.nodes[1].outputs, ['mm']);
});

test('elementwise ops: Mul by a per-channel constant is diagonal on its axis, signal×signal unbounded, +const a shift, AddV2 a merge', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 3, 4, 2]),
      { name: 'scale', op: 'Mul', input: ['x', 'c'] },
      { name: 'scale_nchw', op: 'Mul', input: ['c2', 'scale'] },
      { name: 'shift', op: 'AddV2', input: ['scale_nchw', 'c'] },
      { name: 'sum', op: 'AddV2', input: ['shift', 'x'] },
      { name: 'square', op: 'Mul', input: ['sum', 'sum'] },
      { name: 'divide', op: 'RealDiv', input: ['square', 'half'] },
    ],
    [{ name: 'c', shape: [2], values: [-3, 0.5] }, { name: 'c2', shape: [1, 3, 1, 1], values: [1, -4, 2] }, { name: 'half', shape: [], values: [0.5] }],
  );
  const model = await openMemory(json, shards);
  const spec = (name: string) => row(model, name).spec;
  const scale = spec('scale');
  assert.ok(scale.type === 'diagonal' && scale.axis === 3);
  assert.deepEqual(Array.from(scale.scale), [-3, 0.5]);
  const nchw = spec('scale_nchw');
  assert.ok(nchw.type === 'diagonal' && nchw.axis === 1);
  assert.deepEqual(Array.from(nchw.scale), [1, -4, 2]);
  assert.deepEqual(row(model, 'scale_nchw').inputs, ['scale']);
  assert.ok(spec('shift').type === 'fixed');
  assert.equal(spec('sum').type, 'add');
  assert.deepEqual(row(model, 'sum').inputs, ['shift', 'x']);
  assert.equal(spec('square').type, 'unbounded');
  const divide = spec('divide');
  assert.ok(divide.type === 'diagonal' && divide.axis === -1 && divide.scale[0] === 2);
});

test('Mul of a signal with Sigmoid of itself (tf.nn.silu as TF writes it) is SiLU on that signal; with Sigmoid of another signal it stays unbounded', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 4, 4, 2]),
      { name: 'gate', op: 'Sigmoid', input: ['x'] },
      { name: 'silu', op: 'Mul', input: ['x', 'gate'] },
      { name: 'relu', op: 'Relu', input: ['silu'] },
      { name: 'gate2', op: 'Sigmoid', input: ['relu'] },
      { name: 'silu_swapped', op: 'Mul', input: ['gate2:0', 'relu'] },
      { name: 'other', op: 'Mul', input: ['silu_swapped', 'gate'] },
    ],
    [],
  );
  const model = await openMemory(json, shards);
  for (const [name, x] of [['silu', 'x'], ['silu_swapped', 'relu']]) {
    const mul = row(model, name);
    assert.ok(mul.spec.type === 'fixed' && Math.abs(mul.spec.constant - SILU_CONSTANT) < 1e-15, `${name}: ${JSON.stringify(mul.spec)}`);
    assert.deepEqual(mul.inputs, [x], `${name} reads only the gated signal`);
  }
  assert.equal(row(model, 'other').spec.type, 'unbounded');
});

test('shape ops: ConcatV2 (axis from a Const), Pad, MirrorPad, MaxPool SAME, AvgPool, Mean keep_dims, Reshape, Squeeze, ExpandDims', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 5, 6, 2]),
      { name: 'cat', op: 'ConcatV2', input: ['x', 'x', 'axis'], attr: { N: { i: '2' } } },
      { name: 'pad', op: 'Pad', input: ['cat', 'pads'] },
      { name: 'mirror', op: 'MirrorPad', input: ['pad', 'pads'], attr: { mode: s('REFLECT') } },
      { name: 'pool', op: 'MaxPool', input: ['mirror'], attr: { ksize: list(1, 3, 3, 1), strides: list(1, 2, 2, 1), padding: s('SAME'), data_format: s('NHWC') } },
      { name: 'avg', op: 'AvgPool', input: ['pool'], attr: { ksize: list(1, 2, 2, 1), strides: list(1, 1, 1, 1), padding: s('VALID') } },
      { name: 'mean', op: 'Mean', input: ['avg', 'axes'], attr: { keep_dims: { b: true } } },
      { name: 'flat', op: 'Reshape', input: ['mean', 'shape'] },
      { name: 'expand', op: 'ExpandDims', input: ['flat', 'dim'] },
      { name: 'squeeze', op: 'Squeeze', input: ['expand'], attr: { squeeze_dims: list(1) } },
      { name: 'out', op: 'Softmax', input: ['squeeze'] },
    ],
    [
      { name: 'axis', shape: [], values: [-1], dtype: 'int32' },
      { name: 'pads', shape: [4, 2], values: [0, 0, 1, 1, 2, 1, 0, 0], dtype: 'int32' },
      { name: 'axes', shape: [2], values: [1, 2], dtype: 'int32' },
      { name: 'shape', shape: [2], values: [-1, 4], dtype: 'int32' },
      { name: 'dim', shape: [], values: [1], dtype: 'int32' },
    ],
  );
  const model = await openMemory(json, shards);
  const shape = (name: string) => row(model, name).outputShapes[0];
  assert.deepEqual(shape('cat'), [1, 5, 6, 4]);
  assert.deepEqual(row(model, 'cat').inputs, ['x', 'x']);
  assert.ok(row(model, 'cat').spec.type === 'concat');
  assert.deepEqual(shape('pad'), [1, 7, 9, 4]);
  assert.deepEqual(shape('mirror'), [1, 9, 12, 4]);
  const mirror = row(model, 'mirror').spec;
  // REFLECT by (1,1) on 7 rows copies rows 1 and 5 once more; by (2,1) on 9 columns, column 1 twice... at most 2 per axis.
  assert.ok(mirror.type === 'fixed' && mirror.constant === 2);
  const pool = row(model, 'pool').spec;
  assert.ok(pool.type === 'maxPool');
  // SAME, k3 s2: 9 rows → 5, total 2 → (1, 1); 12 columns → 6, total 1 → (0, 1).
  assert.deepEqual([pool.padsBegin, pool.padsEnd], [[1, 0], [1, 1]]);
  assert.deepEqual(shape('pool'), [1, 5, 6, 4]);
  assert.deepEqual(shape('avg'), [1, 4, 5, 4]);
  assert.deepEqual(shape('mean'), [1, 1, 1, 4]);
  assert.deepEqual(shape('flat'), [1, 4]);
  assert.deepEqual(shape('expand'), [1, 1, 4]);
  assert.deepEqual(shape('squeeze'), [1, 4]);
  assert.ok(row(model, 'out').spec.type === 'fixed');
  assert.deepEqual(model.outputs, ['out']);
});

test('_FusedConv2D with FusedBatchNorm then Relu6, and DepthwiseConv2dNative; an unknown op is an UnsupportedSpec, never 1', async () => {
  const { json, shards } = graphModel(
    [
      placeholder('x', [-1, 6, 6, 2]),
      { name: 'dw', op: 'DepthwiseConv2dNative', input: ['x', 'dwk'], attr: { strides: list(1, 1, 1, 1), padding: s('SAME'), dilations: list(1, 1, 1, 1) } },
      { name: 'conv', op: '_FusedConv2D', input: ['dw', 'k', 'gamma', 'beta', 'mean', 'var'], attr: { strides: list(1, 2, 2, 1), padding: s('VALID'), fused_ops: sList('FusedBatchNorm', 'Relu6'), epsilon: { f: 0.01 }, num_args: { i: '4' } } },
      { name: 'weird', op: 'Erf', input: ['conv'] },
      { name: 'out', op: 'Relu', input: ['weird'] },
    ],
    [
      { name: 'dwk', shape: [3, 3, 2, 2], values: range(36) },
      { name: 'k', shape: [1, 1, 4, 3], values: range(12) },
      { name: 'gamma', shape: [3], values: [2, -1, 0.5] },
      { name: 'beta', shape: [3], values: [0, 0, 0] },
      { name: 'mean', shape: [3], values: [0, 0, 0] },
      { name: 'var', shape: [3], values: [3.99, 0.24, 0.99] },
    ],
  );
  const model = await openMemory(json, shards);
  assert.deepEqual(model.nodes.map((n) => `${n.name}:${n.op}:${n.spec.type}`), ['dw:DepthwiseConv2dNative:conv', 'conv:_FusedConv2D:conv', 'conv/Relu6:Relu6:fixed', 'weird:Erf:unsupported', 'out:Relu:fixed']);
  const dw = row(model, 'dw').spec as ConvSpec;
  assert.deepEqual([dw.group, dw.weight.dims], [2, [4, 1, 3, 3]]);
  const conv = row(model, 'conv').spec as ConvSpec;
  const k = range(12);
  const factors = [2 / 2, -1 / 0.5, 0.5 / 1];
  for (let o = 0; o < 3; o++) for (let i = 0; i < 4; i++) assert.ok(Math.abs(conv.weight.data[o * 4 + i] - Math.fround(k[i * 3 + o]) * factors[o]) < 1e-6);
  assert.deepEqual(row(model, 'conv').outputShapes[0], [1, 3, 3, 3]);
  assert.ok(model.warnings.some((w) => w.includes('Erf')));
  assert.deepEqual(row(model, 'out').outputShapes[0], [1, 3, 3, 3]);
});

test('a Placeholder with unknown spatial dims needs an input shape; with one, shapes follow it', async () => {
  const { json, shards } = graphModel(
    [placeholder('image', [-1, -1, -1, 3]), { name: 'pool', op: 'AvgPool', input: ['image'], attr: { ksize: list(1, 2, 2, 1), strides: list(1, 2, 2, 1), padding: s('VALID') } }],
    [],
  );
  await assert.rejects(openMemory(json, shards), (e: unknown) => e instanceof ModelError && /input "image" has unknown dimensions 1, 2/.test(e.message));
  const model: IrModel = await openMemory(json, shards, { inputShape: [1, 10, 8, 3] });
  assert.deepEqual(model.inputs[0].declaredShape, ['?', '?', '?', 3]);
  assert.deepEqual(row(model, 'pool').outputShapes[0], [1, 5, 4, 3]);
  assert.equal(model.warnings.some((w) => w.includes('differs from')), false, 'filling unknown dims is not a difference');
  // A shape that overrides fixed dims (NHWC given to [1, 3, 8, 8]) is used, with a warning naming them.
  const fixed = graphModel([placeholder('image', [1, 3, 8, 8]), { name: 'id', op: 'Identity', input: ['image'] }], []);
  const overridden = await openMemory(fixed.json, fixed.shards, { inputShape: [1, 8, 8, 3] });
  assert.deepEqual(row(overridden, 'id').outputShapes[0], [1, 8, 8, 3]);
  assert.ok(overridden.warnings.some((w) => /differs from input "image"'s fixed \[1, 3, 8, 8\] at dimensions 1, 3/.test(w)), JSON.stringify(overridden.warnings));
});

/** σ of x ↦ f(x) for a linear f on `shape`, from the explicit matrix (one column per basis vector). */
function explicitSigma(shape: number[], f: (x: tf.Tensor) => tf.Tensor): number {
  const n = shape.reduce((a, b) => a * b, 1);
  const columns: number[][] = [];
  for (let i = 0; i < n; i++) {
    const basis = new Float32Array(n);
    basis[i] = 1;
    columns.push(Array.from(tf.tidy(() => f(tf.tensor(basis, shape))).dataSync()));
  }
  const matrix = new Matrix(columns).transpose();
  return new SingularValueDecomposition(matrix, { autoTranspose: true }).diagonal[0];
}

test('Mul, RealDiv and DivNoNan by a constant that broadcasts the signal (or varies along several axes) carry the exact norm of the explicit matrix', async () => {
  const c4 = [1.5, -2, 0.25, 3];
  const grid = [0.5, -1, 2, 4, -0.25, 1, 3, 0.75];
  const { json, shards } = graphModel(
    [
      placeholder('x', [1, 3, 2, 1]),
      placeholder('y', [1, 2, 2, 2]),
      { name: 'spread', op: 'Mul', input: ['x', 'c4'] },
      { name: 'grid', op: 'RealDiv', input: ['y', 'g'] },
      { name: 'nonan', op: 'DivNoNan', input: ['y', 'z'] },
      { name: 'zero', op: 'RealDiv', input: ['y', 'z'] },
    ],
    [{ name: 'c4', shape: [4], values: c4 }, { name: 'g', shape: [1, 2, 1, 2], values: grid.slice(0, 4) }, { name: 'z', shape: [2], values: [4, 0] }],
  );
  const model = await openMemory(json, shards);
  const constant = (name: string) => {
    const spec = row(model, name).spec;
    assert.ok(spec.type === 'fixed', `${name} is ${spec.type}`);
    return spec.constant;
  };
  const spread = explicitSigma([1, 3, 2, 1], (x) => tf.mul(x, tf.tensor(c4)));
  assert.ok(Math.abs(constant('spread') - spread) < 1e-6 * spread, `${constant('spread')} vs ${spread}`);
  assert.deepEqual(row(model, 'spread').outputShapes[0], [1, 3, 2, 4]);
  const divided = explicitSigma([1, 2, 2, 2], (y) => tf.div(y, tf.tensor(grid.slice(0, 4), [1, 2, 1, 2])));
  assert.ok(Math.abs(constant('grid') - divided) < 1e-6 * divided, `${constant('grid')} vs ${divided}`);
  const nonan = row(model, 'nonan').spec;
  assert.ok(nonan.type === 'diagonal' && nonan.axis === 3);
  assert.deepEqual(Array.from(nonan.scale), [0.25, 0]);
  const zero = row(model, 'zero').spec;
  assert.ok(zero.type === 'unbounded' && /holds 0/.test(zero.reason), JSON.stringify(zero));
});
