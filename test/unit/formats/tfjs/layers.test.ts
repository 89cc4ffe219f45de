// The layers-model reader on models written by tfjs-layers itself: shapes against what tfjs
// reports, canonical weights against the raw shard bytes, convolutions against tfjs's own ops.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { ConvSpec, ConvTransposeSpec, IrModel, IrNode } from '../../../../src/model/ir';
import { ModelError } from '../../../../src/model/errors';
import { fixturePath, maxAbsDiff, openFixture, rawFloats, readJson, referenceConv, row, seeded } from './helpers';
import { readFileSync } from 'node:fs';
import { tfjsFormat } from '../../../../src/formats/tfjs';
import { nodeFileAccess } from '../../../../src/host/node-files';

interface Expected {
  layers: { name: string; className: string; inputShape: unknown; outputShape: unknown }[];
}

const batch1 = (shape: unknown): number[] => {
  const s = (Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
  return s.map((d) => (d === null ? 1 : d));
};

/** Rows of a layer: the layer's own name, its `<name>/...` rows, or a nested model's rows. */
const rowsOf = (model: IrModel, name: string): IrNode[] => model.nodes.filter((n) => n.name === name || n.name.startsWith(`${name}/`));

for (const name of ['seq-cnn', 'functional', 'channels-first', 'misc-1d-nested', 'functional-uint8']) {
  test(`${name}: every layer's input and output shapes are the ones tfjs-layers reports`, async () => {
    const model = await openFixture(name);
    assert.equal(model.format, 'tfjs-layers');
    const expected = readJson(name, 'expected.json') as unknown as Expected;
    let checked = 0;
    for (const layer of expected.layers) {
      if (layer.className === 'InputLayer') continue;
      const rows = rowsOf(model, layer.name);
      assert.ok(rows.length > 0, `no row for ${layer.name}`);
      const first = rows[0];
      const last = rows[rows.length - 1];
      if (!Array.isArray((layer.inputShape as unknown[] | null)?.[0])) {
        if (layer.inputShape) assert.deepEqual(first.inputShapes[0], batch1(layer.inputShape), `${layer.name} input`);
      } else {
        assert.deepEqual(first.inputShapes, (layer.inputShape as unknown[]).map(batch1), `${layer.name} inputs`);
      }
      assert.deepEqual(last.outputShapes[0], batch1(layer.outputShape), `${layer.name} output`);
      assert.ok(rows.every((r) => r.sourceIndex === first.sourceIndex));
      checked++;
    }
    assert.ok(checked >= 3);
  });
}

test('seq-cnn: rows, ops, the activation rows after their linear rows, separable as depthwise then pointwise', async () => {
  const model = await openFixture('seq-cnn');
  assert.deepEqual(
    model.nodes.map((n) => `${n.name}:${n.op}:${n.spec.type}`),
    [
      'conv_a:Conv2D:conv', 'conv_a/relu:relu:fixed', 'bn_a:BatchNormalization:diagonal', 'dw_b:DepthwiseConv2D:conv',
      'sep_c/depthwise:SeparableConv2D:conv', 'sep_c/pointwise:SeparableConv2D:conv', 'sep_c/relu6:relu6:fixed',
      'pad_d:ZeroPadding2D:fixed', 'pool_e:MaxPooling2D:maxPool', 'avg_f:AveragePooling2D:avgPool',
      'deconv_g:Conv2DTranspose:convTranspose', 'up_h:UpSampling2D:fixed', 'crop_i:Cropping2D:fixed', 'drop_j:Dropout:fixed',
      'gap_k:GlobalAveragePooling2D:globalAvgPool', 'dense_l:Dense:dense', 'dense_l/softmax:softmax:fixed',
    ],
  );
  // The chain is connected value to value.
  for (let i = 1; i < model.nodes.length; i++) assert.deepEqual(model.nodes[i].inputs, model.nodes[i - 1].outputs);
  assert.deepEqual(model.inputs[0].shape, [1, 9, 8, 3]);
  assert.deepEqual(model.inputs[0].declaredShape, ['?', 9, 8, 3]);
  assert.deepEqual(model.outputs, [model.nodes[model.nodes.length - 1].outputs[0]]);
  const up = row(model, 'up_h').spec;
  assert.equal(up.type === 'fixed' && up.constant, 2);
  assert.equal(row(model, 'conv_a').sourceIndex, 0);
  assert.equal(row(model, 'dense_l/softmax').sourceIndex, 12);
});

test('seq-cnn: stride-2 SAME padding is resolved as TF does for an odd (9) and an even (8) input size', async () => {
  const model = await openFixture('seq-cnn');
  const spec = row(model, 'conv_a').spec as ConvSpec;
  // H: out 5, total pad (5-1)·2+3-9 = 2 → 1,1. W: out 4, total (4-1)·2+3-8 = 1 → 0 before, 1 after.
  assert.deepEqual(spec.padsBegin, [1, 0]);
  assert.deepEqual(spec.padsEnd, [1, 1]);
  assert.deepEqual(spec.strides, [2, 2]);
  assert.equal(spec.channelsLast, true);
  const avg = row(model, 'avg_f').spec;
  assert.ok(avg.type === 'avgPool' && !avg.countIncludePad && avg.padsEnd.join() === '1,1');
});

test('Conv2D kernel: canonical [cOut, cIn, kh, kw] is the file\'s [kh, kw, cIn, cOut] transposed, entry for entry', async () => {
  const model = await openFixture('seq-cnn');
  const spec = row(model, 'conv_a').spec as ConvSpec;
  const raw = rawFloats('seq-cnn', 'conv_a/kernel');
  assert.deepEqual(raw.shape, [3, 3, 3, 4]);
  assert.deepEqual(spec.weight.dims, [4, 3, 3, 3]);
  assert.deepEqual(row(model, 'conv_a').weightShape, [3, 3, 3, 4]);
  for (let o = 0; o < 4; o++)
    for (let i = 0; i < 3; i++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 3; x++) assert.equal(spec.weight.data[((o * 3 + i) * 3 + y) * 3 + x], raw.data[((y * 3 + x) * 3 + i) * 4 + o]);
  assert.equal(spec.group, 1);
});

test('DepthwiseConv2D kernel: [kh, kw, c, m] becomes a grouped conv [c·m, 1, kh, kw], output channel c·m + m', async () => {
  const model = await openFixture('seq-cnn');
  const spec = row(model, 'dw_b').spec as ConvSpec;
  const raw = rawFloats('seq-cnn', 'dw_b/depthwise_kernel');
  assert.deepEqual(raw.shape, [3, 3, 4, 2]);
  assert.deepEqual(spec.weight.dims, [8, 1, 3, 3]);
  assert.equal(spec.group, 4);
  for (let c = 0; c < 4; c++)
    for (let m = 0; m < 2; m++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 3; x++) assert.equal(spec.weight.data[(c * 2 + m) * 9 + y * 3 + x], raw.data[((y * 3 + x) * 4 + c) * 2 + m]);
});

test('Dense kernel is the file\'s [in, out] as it is; BatchNormalization is γ/√(var+ε)', async () => {
  const model = await openFixture('functional');
  const fc = row(model, 'fc');
  assert.equal(fc.spec.type, 'dense');
  const raw = rawFloats('functional', 'fc/kernel');
  assert.ok(fc.spec.type === 'dense');
  assert.deepEqual(fc.spec.weight.dims, [54, 7]);
  assert.deepEqual(Array.from(fc.spec.weight.data), Array.from(raw.data));

  const seq = await openFixture('seq-cnn');
  const bn = row(seq, 'bn_a').spec;
  const gamma = rawFloats('seq-cnn', 'bn_a/gamma').data;
  const variance = rawFloats('seq-cnn', 'bn_a/moving_variance').data;
  assert.ok(bn.type === 'diagonal');
  assert.equal(bn.axis, 3);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(bn.scale[i] - gamma[i] / Math.sqrt(variance[i] + 1e-3)) < 1e-6);
});

test('convolutions from the IR reproduce tfjs\'s own conv2d / depthwiseConv2d (layouts, SAME pads, dilation, channels_first)', async () => {
  await tf.setBackend('cpu');
  const seq = await openFixture('seq-cnn');
  const fn = await openFixture('functional');
  const cf = await openFixture('channels-first');
  const cases: { node: IrNode; run: (x: tf.Tensor4D) => tf.Tensor }[] = [
    { node: row(seq, 'conv_a'), run: (x) => tf.conv2d(x, tf.tensor4d(rawFloats('seq-cnn', 'conv_a/kernel').data, [3, 3, 3, 4]), 2, 'same') },
    { node: row(seq, 'dw_b'), run: (x) => tf.depthwiseConv2d(x, tf.tensor4d(rawFloats('seq-cnn', 'dw_b/depthwise_kernel').data, [3, 3, 4, 2]), 1, 'same') },
    { node: row(fn, 'branch'), run: (x) => tf.conv2d(x, tf.tensor4d(rawFloats('functional', 'branch/kernel').data, [3, 3, 4, 4]), 1, 'same', 'NHWC', 2) },
    {
      node: row(cf, 'conv_cf'),
      run: (x) => tf.transpose(tf.conv2d(tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D, tf.tensor4d(rawFloats('channels-first', 'conv_cf/kernel').data, [3, 2, 2, 3]), 2, 'same'), [0, 3, 1, 2]),
    },
  ];
  for (const { node, run } of cases) {
    const inShape = node.inputShapes[0];
    const x = seeded(inShape.reduce((a, b) => a * b, 1));
    const expected = run(tf.tensor4d(x, inShape as [number, number, number, number]));
    assert.deepEqual(expected.shape, node.outputShapes[0], node.name);
    const got = referenceConv(x, inShape, node.spec as ConvSpec, node.outputShapes[0]);
    assert.ok(maxAbsDiff(got, expected.dataSync()) < 1e-4, `${node.name}: ${maxAbsDiff(got, expected.dataSync())}`);
  }
});

test('Conv2DTranspose: canonical [cIn, cOut, kh, kw] and pads reproduce tfjs\'s conv2dTranspose (stride 2, SAME)', async () => {
  await tf.setBackend('cpu');
  const model = await openFixture('seq-cnn');
  const node = row(model, 'deconv_g');
  const spec = node.spec as ConvTransposeSpec;
  const raw = rawFloats('seq-cnn', 'deconv_g/kernel');
  assert.deepEqual(raw.shape, [3, 3, 3, 6]);
  assert.deepEqual(spec.weight.dims, [6, 3, 3, 3]);
  const [n, h, w, cIn] = node.inputShapes[0];
  const [, oh, ow, cOut] = node.outputShapes[0];
  const y = seeded(n * h * w * cIn, 3);
  const expected = tf.conv2dTranspose(tf.tensor4d(y, [n, h, w, cIn]), tf.tensor4d(raw.data, [3, 3, 3, 6]), [n, oh, ow, cOut], 2, 'same').dataSync();
  // ONNX ConvTranspose semantics: full output position p·s + t·d, cropped by padsBegin; outputPadding extends the end.
  const out = new Float32Array(n * oh * ow * cOut);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let ci = 0; ci < cIn; ci++)
        for (let co = 0; co < cOut; co++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const oy = i * spec.strides[0] + ky * spec.dilations[0] - spec.padsBegin[0];
              const ox = j * spec.strides[1] + kx * spec.dilations[1] - spec.padsBegin[1];
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
              out[(oy * ow + ox) * cOut + co] += y[(i * w + j) * cIn + ci] * spec.weight.data[((ci * cOut + co) * 3 + ky) * 3 + kx];
            }
  assert.ok(maxAbsDiff(out, expected) < 1e-4, String(maxAbsDiff(out, expected)));
  // ONNX's output size formula gives the same size.
  for (let a = 0; a < 2; a++) {
    const size = spec.strides[a] * (node.inputShapes[0][a + 1] - 1) + spec.outputPadding[a] + 3 - spec.padsBegin[a] - spec.padsEnd[a];
    assert.equal(size, node.outputShapes[0][a + 1]);
  }
});

test('functional: merges take both inputs, Average is a sum then ×1/n, 3 shards are joined in order', async () => {
  const model = await openFixture('functional');
  const residual = row(model, 'residual');
  assert.equal(residual.spec.type, 'add');
  assert.deepEqual(residual.inputs, [row(model, 'stem').outputs[0], row(model, 'branch').outputs[0]]);
  const cat = row(model, 'cat');
  assert.ok(cat.spec.type === 'concat' && cat.spec.axis === 3);
  assert.deepEqual(cat.inputs, [row(model, 'lrelu').outputs[0], row(model, 'side/sigmoid').outputs[0]]);
  assert.equal(row(model, 'avg').spec.type, 'add');
  const scale = row(model, 'avg/scale').spec;
  assert.ok(scale.type === 'diagonal' && scale.scale[0] === 0.5 && scale.axis === -1);
  const lrelu = row(model, 'lrelu').spec;
  assert.ok(lrelu.type === 'fixed' && lrelu.constant === 1);
  const sigmoid = row(model, 'side/sigmoid').spec;
  assert.ok(sigmoid.type === 'fixed' && sigmoid.constant === 0.25);
  // logits (the last weight) spans the shard boundary at 2000 bytes.
  const logits = row(model, 'logits').spec;
  assert.ok(logits.type === 'dense');
  assert.deepEqual(Array.from(logits.weight.data), Array.from(rawFloats('functional', 'logits/kernel').data));
  const json = readJson('functional') as { weightsManifest: { paths: string[] }[] };
  assert.equal(json.weightsManifest[0].paths.length, 3);
});

test('misc: Conv1D, PReLU, 1-D pools, a nested Sequential inlined with prefixed names, Multiply unbounded, LayerNormalization max|γ|/√ε', async () => {
  const model = await openFixture('misc-1d-nested');
  const conv = row(model, 'conv1d').spec as ConvSpec;
  assert.deepEqual(conv.weight.dims, [4, 3, 3]);
  assert.deepEqual([conv.padsBegin, conv.padsEnd], [[0], [1]]);
  const inner = row(model, 'inner/inner_dense');
  assert.equal(inner.spec.type, 'dense');
  assert.equal(row(model, 'inner/inner_dense/relu').spec.type, 'fixed');
  assert.equal(row(model, 'gate').spec.type, 'unbounded');
  assert.deepEqual(row(model, 'gate').inputs, [row(model, 'inner/inner_dense/relu').outputs[0], row(model, 'gap1d').outputs[0]]);
  // LayerNormalization (ε = 1e-3): max|γ|/√ε (src/analysis/layer-norm.ts).
  const norm = row(model, 'norm').spec;
  const gamma = rawFloats('misc-1d-nested', 'norm/gamma').data;
  const expected = Math.max(...Array.from(gamma, Math.abs)) / Math.sqrt(1e-3);
  assert.ok(norm.type === 'fixed' && Math.abs(norm.constant - expected) < 1e-9 * expected && /ε = 1e-3/.test(norm.detail ?? ''), JSON.stringify(norm));
  const prelu = row(model, 'prelu').spec;
  const alpha = rawFloats('misc-1d-nested', 'prelu/alpha').data;
  assert.ok(prelu.type === 'fixed' && prelu.constant === Math.max(1, ...Array.from(alpha, Math.abs)));
});

test('quantised weights (uint8, uint16, float16) decode through tf.io.decodeWeights to the float model within the quantisation step', async () => {
  const float = await openFixture('functional');
  const reference = (row(float, 'fc').spec as { weight: { data: Float32Array } }).weight.data;
  for (const [dtype, tolerance] of [['uint8', 0.01], ['uint16', 5e-5], ['float16', 5e-4]] as const) {
    const model = await openFixture(`functional-${dtype}`);
    const json = readJson(`functional-${dtype}`) as { weightsManifest: { weights: { name: string; quantization?: { dtype: string; scale?: number } }[] }[] };
    const spec = json.weightsManifest[0].weights.find((w) => w.name === 'fc/kernel');
    assert.equal(spec?.quantization?.dtype, dtype);
    const data = (row(model, 'fc').spec as { weight: { data: Float32Array } }).weight.data;
    const diff = maxAbsDiff(data, reference);
    assert.ok(diff > 0 && diff < tolerance, `${dtype}: ${diff}`);
    if (spec?.quantization?.scale) assert.ok(diff <= spec.quantization.scale / 2 + 1e-7);
  }
});

test('the real nsfwjs MobileNetV2 (Keras 2.2.4, converter, uint8) loads with MobileNetV2\'s shapes', async () => {
  const model = await openFixture('real/nsfwjs-mobilenet-v2');
  assert.equal(model.format, 'tfjs-layers');
  assert.deepEqual(model.inputs[0].shape, [1, 224, 224, 3]);
  assert.deepEqual(row(model, 'Conv1').inputShapes[0], [1, 225, 225, 3]);
  assert.deepEqual(row(model, 'Conv1').outputShapes[0], [1, 112, 112, 32]);
  assert.deepEqual(row(model, 'block_1_depthwise').outputShapes[0], [1, 56, 56, 96]);
  assert.deepEqual(row(model, 'out_relu').outputShapes[0], [1, 7, 7, 1280]);
  assert.equal(model.nodes.filter((n) => n.spec.type === 'conv').length, 52);
  assert.equal(model.nodes.filter((n) => n.spec.type === 'add').length, 10);
  assert.equal(model.nodes.filter((n) => n.spec.type === 'unsupported').length, 0);
  assert.deepEqual(model.metadata.outputShapes?.[0].shape, [1, 5]);
  assert.equal(model.metadata.parameterCount > 2_000_000, true);
  const relu6 = row(model, 'Conv1_relu').spec;
  assert.ok(relu6.type === 'fixed' && relu6.constant === 1);
});

test('an input with unknown spatial dims needs an input shape: a ModelError naming them, then the override is used', async () => {
  const path = fixturePath('channels-first');
  const json = readJson('channels-first') as { modelTopology: { config: { layers: { config: Record<string, unknown> }[] } } };
  json.modelTopology.config.layers[0].config.batch_input_shape = [null, 2, null, null];
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  const files = nodeFileAccess(path);
  await assert.rejects(tfjsFormat.open(bytes, files, {}), (e: unknown) => e instanceof ModelError && /unknown dimensions 2, 3/.test(e.message) && e.message.startsWith(path));
  const model = await tfjsFormat.open(bytes, files, { inputShape: [1, 2, 11, 10] });
  assert.deepEqual(row(model, 'conv_cf').outputShapes[0], [1, 3, 6, 5]);
  await assert.rejects(tfjsFormat.open(bytes, files, { inputShape: [1, 11, 10] }), /3 dimensions/);
  assert.ok(readFileSync(path).length > 0);
});

test('openModel (the CLI\'s and worker\'s entry) picks the TF.js reader for model.json by its bytes', async () => {
  const { openModel } = await import('../../../../src/formats/index');
  const layers = await openModel(nodeFileAccess(fixturePath('functional')));
  assert.equal(layers.format, 'tfjs-layers');
  const graph = await openModel(nodeFileAccess(fixturePath('real/human-emotion')));
  assert.equal(graph.format, 'tfjs-graph');
});
