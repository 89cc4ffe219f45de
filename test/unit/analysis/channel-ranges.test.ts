// Per-channel value ranges (docs/op-coverage.md, "Per-channel ranges"): each rule against its exact
// answer on small graphs, the product weights against the explicit sums they stand for, and every
// value of PaddleOCR's direction classifier, run by the graph executor on inputs in the box, inside
// its certified per-channel interval.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { linearChannelRanges, nodeChannelRanges, productWeights, uniformRanges, type ChannelRanges } from '../../../src/analysis/channel-ranges';
import { resolveProducts, resolveProductsWithChannels } from '../../../src/analysis/products';
import { initBackend } from '../../../src/engine/backend';
import { executionPlan, runGraph } from '../../../src/engine/executor/execute';
import { openModel } from '../../../src/formats';
import { nodeFileAccess } from '../../../src/host/node-files';
import type { IrNode, OpSpec } from '../../../src/model/ir';

function node(op: string, spec: OpSpec, inputShapes: number[][], outputShape: number[], execution?: IrNode['execution']): IrNode {
  return { name: op, op, inputs: inputShapes.map((_, i) => `x${i}`), outputs: ['y'], inputShapes, outputShapes: [outputShape], spec, weightShape: null, ...(execution ? { execution } : {}) };
}

const channels = (axis: number, ranges: [number, number][]): ChannelRanges => ({ axis, lo: Float64Array.from(ranges.map((r) => r[0])), hi: Float64Array.from(ranges.map((r) => r[1])) });

function near(actual: ChannelRanges | undefined, axis: number, expected: [number, number][]): void {
  assert.ok(actual, 'no ranges');
  assert.equal(actual.axis, axis);
  assert.equal(actual.lo.length, expected.length);
  expected.forEach(([lo, hi], c) => {
    assert.ok(actual.lo[c] <= lo && actual.hi[c] >= hi, `channel ${c}: [${actual.lo[c]}, ${actual.hi[c]}] does not contain [${lo}, ${hi}]`);
    assert.ok(lo - actual.lo[c] <= 1e-8 * Math.max(1, Math.abs(lo)) && actual.hi[c] - hi <= 1e-8 * Math.max(1, Math.abs(hi)), `channel ${c}: [${actual.lo[c]}, ${actual.hi[c]}] vs [${lo}, ${hi}]`);
  });
}

test('per-channel rules, exactly: conv per output channel from per-channel inputs, depthwise, dense, batch norm, ReLU, per-channel shift, pool, concat, broadcast add', () => {
  // Conv 2 → 2 channels, 1x1: y0 = x0 − 2x1 + 1, y1 = 3x1; x0 ∈ [0, 1], x1 ∈ [−1, 2].
  const conv: OpSpec = { type: 'conv', channelsLast: false, weight: { dims: [2, 2, 1, 1], data: Float32Array.of(1, -2, 0, 3) }, strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 1 };
  const x = channels(1, [[0, 1], [-1, 2]]);
  const convNode = node('Conv', conv, [[1, 2, 4, 4]], [1, 2, 4, 4], { kind: 'affine', bias: Float32Array.of(1, 0) });
  near(linearChannelRanges(convNode, conv as never, x), 1, [[0 - 4 + 1, 1 + 2 + 1], [-3, 6]]);
  // Zero padding lets 0 into each input channel: x0 ∈ [0, 1] already holds 0; x1 ∈ [−1, 2] too: same. With x0 ∈ [1, 2]: y0 low end 1 + 1·0 − 4.
  const padded = { ...conv, padsBegin: [1, 1], padsEnd: [1, 1] } as OpSpec;
  near(nodeChannelRanges(node('Conv', padded, [[1, 2, 4, 4]], [1, 2, 4, 4], { kind: 'affine', bias: Float32Array.of(1, 0) }), [channels(1, [[1, 2], [-1, 2]])]), 1, [[1 - 4, 2 + 2 + 1], [-3, 6]]);
  // Depthwise (group 2), taps [2, −1] and [1, 1]: channel 0 ∈ 2·[0,1] − [0,1] = [−1, 2], channel 1 ∈ 2·[−1, 2].
  const depthwise: OpSpec = { type: 'conv', channelsLast: false, weight: { dims: [2, 1, 1, 2], data: Float32Array.of(2, -1, 1, 1) }, strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 2 };
  near(nodeChannelRanges(node('Conv', depthwise, [[1, 2, 3, 3]], [1, 2, 3, 2], { kind: 'affine' }), [x]), 1, [[-1, 2], [-2, 4]]);
  // Channels-last (TF.js): the last axis.
  const nhwc = { ...depthwise, channelsLast: true } as OpSpec;
  near(nodeChannelRanges(node('DepthwiseConv2dNative', nhwc, [[1, 3, 3, 2]], [1, 3, 2, 2], { kind: 'affine' }), [channels(3, [[0, 1], [-1, 2]])]), 3, [[-1, 2], [-2, 4]]);
  // Dense [in 2, out 3] on per-feature inputs.
  const dense: OpSpec = { type: 'dense', weight: { dims: [2, 3], data: Float32Array.of(1, -1, 0, 1, 1, 2) } };
  near(nodeChannelRanges(node('Gemm', dense, [[1, 2]], [1, 3], { kind: 'affine' }), [channels(1, [[0, 1], [-1, 2]])]), 1, [[-1, 3], [-2, 2], [-2, 4]]);
  // Batch norm per channel, then ReLU per channel.
  const bn: OpSpec = { type: 'diagonal', scale: Float32Array.of(2, -1), axis: 1 };
  const normed = nodeChannelRanges(node('BatchNormalization', bn, [[1, 2, 4, 4]], [1, 2, 4, 4], { kind: 'affine', bias: Float32Array.of(-1, 0.5) }), [x]);
  near(normed, 1, [[-1, 1], [-1.5, 1.5]]);
  const relu: OpSpec = { type: 'fixed', kind: 'activation', constant: 1, values: { kind: 'clip', min: 0, max: Infinity } };
  near(nodeChannelRanges(node('Relu', relu, [[1, 2, 4, 4]], [1, 2, 4, 4]), [normed]), 1, [[0, 1], [0, 1.5]]);
  // A shift by a per-channel constant [1, 2, 1, 1] of a uniform input: per channel.
  const shift: OpSpec = { type: 'fixed', kind: 'structural', constant: 1, values: { kind: 'affine', scale: [1, 1], shift: [-3, 5] } };
  near(nodeChannelRanges(node('Add', shift, [[1, 2, 4, 4]], [1, 2, 4, 4], { kind: 'shift', constant: { dims: [1, 2, 1, 1], data: Float32Array.of(-3, 5) }, sign: 1, constantSign: 1 }), [uniformRanges([0, 1])]), 1, [[-3, -2], [5, 6]]);
  // Global average pooling keeps channels; concat along channels appends them; a broadcast add adds per channel.
  near(nodeChannelRanges(node('GlobalAveragePool', { type: 'globalAvgPool', channelsLast: false }, [[1, 2, 4, 4]], [1, 2, 1, 1], { kind: 'spec' }), [x]), 1, [[0, 1], [-1, 2]]);
  near(nodeChannelRanges(node('Concat', { type: 'concat', axis: 1 }, [[1, 2, 4, 4], [1, 1, 4, 4]], [1, 3, 4, 4]), [x, uniformRanges([5, 6])]), 1, [[0, 1], [-1, 2], [5, 6]]);
  near(nodeChannelRanges(node('Add', { type: 'add' }, [[1, 2, 4, 4], [1, 2, 1, 1]], [1, 2, 4, 4]), [x, channels(1, [[10, 10], [-10, -10]])]), 1, [[10, 11], [-11, -8]]);
  near(nodeChannelRanges(node('Sub', { type: 'add', signs: [1, -1] }, [[1, 2, 4, 4], [1, 2, 4, 4]], [1, 2, 4, 4]), [x, x]), 1, [[-1, 1], [-3, 3]]);
});

test('product weights: the largest √(Σ sup|other|²) over one factor entry\'s outputs, against the explicit sums', () => {
  // a: [1, 2, 2, 3] with channels sup 1 and 4; b: [1, 2, 1, 1] gate with sup 0.5 and 1.
  const mul = node('Mul', { type: 'unbounded', reason: '', product: true }, [[1, 2, 2, 3], [1, 2, 1, 1]], [1, 2, 2, 3]);
  const a = channels(1, [[-1, 0.5], [0, 4]]);
  const b = channels(1, [[0, 0.5], [0, 1]]);
  const [wa, wb] = productWeights(mul, a, b);
  // Each a entry meets one gate entry: max sup|b| = 1. Each gate entry meets 6 a entries of its channel: √6·4.
  assert.ok(Math.abs(wa - 1) < 1e-12, String(wa));
  assert.ok(Math.abs(wb - Math.sqrt(6) * 4) < 1e-12, String(wb));
  // A scalar factor meets every entry: √(Σ over channels of 6·sup²) = √(6 + 96).
  const scalar = node('Mul', { type: 'unbounded', reason: '', product: true }, [[1, 2, 2, 3], [1]], [1, 2, 2, 3]);
  const [, ws] = productWeights(scalar, a, uniformRanges([-2, 1]));
  assert.ok(Math.abs(ws - Math.sqrt(6 * 1 + 6 * 16)) < 1e-12, String(ws));
  // Per-tensor sizes would give sup|a|·√12 = 4√12 for the scalar: per channel is tighter.
  assert.ok(ws < 4 * Math.sqrt(12));
});

/** A seeded input in the box: a third of the entries at each end (where linear maps reach their extremes), the rest inside. */
function boxInput(shape: number[], seed: number, [lo, hi]: [number, number]): Float32Array {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    const u = random();
    return u < 1 / 3 ? lo : u < 2 / 3 ? hi : lo + random() * (hi - lo);
  });
}

const PADDLE_CLS = join(__dirname, '..', '..', 'fixtures', 'onnx', 'paddle', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
const BOX: [number, number] = [-2.2, 2.7];

test('PaddleOCR direction classifier: every value the executor computes on inputs in the box lies in its per-channel range', async () => {
  await initBackend();
  const model = await openModel(nodeFileAccess(PADDLE_CLS), { inputShape: [1, 3, 48, 192] });
  const ranges = resolveProductsWithChannels(await openModel(nodeFileAccess(PADDLE_CLS), { inputShape: [1, 3, 48, 192], inputRange: BOX }), BOX).channels;
  // Every value a range is given for, run by the executor (the product pass already ran inside openModel).
  const names = model.nodes.flatMap((n) => n.outputs).filter((name) => ranges.has(name));
  assert.ok(names.length >= 150, `only ${names.length} values have ranges`);
  const all = { ...model, outputs: names };
  const plan = executionPlan(all);
  let checked = 0;
  let widest = 0;
  for (const seed of [1, 2, 3, 4]) {
    const input = boxInput(model.inputs[0].shape, seed, BOX);
    const values = tf.tidy(() => runGraph(all, plan, tf.tensor(input, model.inputs[0].shape)).map((t) => ({ shape: t.shape, data: t.dataSync() })));
    values.forEach(({ shape, data }, k) => {
      const r = ranges.get(names[k]) as ChannelRanges;
      const stride = r.axis < 0 ? 1 : shape.slice(r.axis + 1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < data.length; i++) {
        const c = r.axis < 0 ? 0 : Math.floor(i / stride) % r.lo.length;
        // float32 execution rounds: a relative 1e-4 of the channel's size.
        const slack = 1e-4 * Math.max(1, Math.abs(r.lo[c]), Math.abs(r.hi[c]));
        assert.ok(data[i] >= r.lo[c] - slack && data[i] <= r.hi[c] + slack, `${names[k]} channel ${c}: ${data[i]} outside [${r.lo[c]}, ${r.hi[c]}]`);
        widest = Math.max(widest, Math.abs(data[i]));
      }
      checked++;
    });
  }
  assert.equal(checked, 4 * names.length);
  assert.ok(widest > 1, 'the sampled values are not all tiny (the check is not vacuous)');
  // The per-tensor view (what resolveProducts returns) is the hull of the channels.
  const hulls = resolveProducts(await openModel(nodeFileAccess(PADDLE_CLS), { inputShape: [1, 3, 48, 192] }), BOX);
  assert.ok(hulls.size >= names.length);
});

test('hard-swish written out (Add, Clip, Mul, Div): each channel\'s range is the function\'s exact range on its input channel, the /6 included', async () => {
  const path = join(__dirname, '..', '..', 'fixtures', 'onnx', 'ops', 'old_hardswish.onnx');
  const model = await openModel(nodeFileAccess(path), { inputShape: [1, 3, 6, 6], inputRange: [-1, 1] });
  const ranges = resolveProductsWithChannels(model, [-1, 1]).channels;
  const conv = ranges.get('/conv1/Conv_output_0') as ChannelRanges;
  const product = ranges.get('/Mul_output_0') as ChannelRanges;
  const divided = ranges.get('/Div_output_0') as ChannelRanges;
  assert.ok(conv && product && divided && conv.axis === 1 && product.axis === 1, 'per-channel ranges on the conv and the product');
  const hardSwish = (x: number) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
  for (let c = 0; c < conv.lo.length; c++) {
    // Dense samples of the channel's interval, and the vertex −1.5 where it lies inside.
    const [lo, hi] = [conv.lo[c], conv.hi[c]];
    const points = Array.from({ length: 20001 }, (_, k) => lo + ((hi - lo) * k) / 20000);
    if (lo < -1.5 && hi > -1.5) points.push(-1.5);
    const values = points.map(hardSwish);
    const [min, max] = [Math.min(...values), Math.max(...values)];
    assert.ok(product.lo[c] <= min && product.hi[c] >= max, `channel ${c}: [${product.lo[c]}, ${product.hi[c]}] misses [${min}, ${max}]`);
    assert.ok(min - product.lo[c] < 1e-6 * Math.max(1, Math.abs(min)) && product.hi[c] - max < 1e-6 * Math.max(1, Math.abs(max)), `channel ${c}: [${product.lo[c]}, ${product.hi[c]}] vs sampled [${min}, ${max}]`);
    // The Div after it passes values on (the product applies the /6, as the executor runs it).
    assert.deepEqual([divided.lo[c], divided.hi[c]], [product.lo[c], product.hi[c]]);
  }
});

test('an Einsum dense row whose output axes are reordered ("bij,jk->bki"): the out features sit on the axis the permutation moved them to', () => {
  // y[b, k, i] = Σ_j x[b, i, j]·W[j, k]; x's channels (j) in [0, 1], [−1, 2], [0, 3]; square so a wrong axis would fit too.
  const spec: OpSpec = { type: 'dense', weight: { dims: [3, 3], data: Float32Array.of(1, 0, -1, 2, 1, 0, 0, -1, 1) }, outputPerm: [0, 2, 1] };
  const einsum = node('Einsum', spec, [[1, 3, 3]], [1, 3, 3], { kind: 'affine' });
  const x = channels(2, [[0, 1], [-1, 2], [0, 3]]);
  // k = 0: x0 + 2x1 ∈ [−2, 5]; k = 1: x1 − x2 ∈ [−4, 2]; k = 2: −x0 + x2 ∈ [−1, 3].
  near(linearChannelRanges(einsum, spec as never, x), 1, [[-2, 5], [-4, 2], [-1, 3]]);
});
