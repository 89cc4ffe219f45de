// Squares x² left after the normalisations are recognised (docs/op-coverage.md, "Squares"): the
// product x·x, bounded by 2·sup|x| where x has a range. A power spectrum re² + im² of an STFT
// convolution (openWakeWord's melspectrogram.onnx) is the real case: finite on an input box.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { attr, buildModel, node, openBytes, seeded, tensor, type ModelSpec } from '../../helpers/onnx-builder';
import { irModel, irNode } from '../../helpers/ir-builder';
import { largestSingularValue } from '../../helpers/explicit-matrix';
import { closedForm } from '../../../src/analysis/closed-form';
import { compose } from '../../../src/analysis/compose';
import { resolveProducts } from '../../../src/analysis/products';
import { assertMatchesOnnxRuntime, uniformInput } from '../bracket/reference-runtimes';
import type { IrModel } from '../../../src/model/ir';

const [IN, MID, OUT] = [3, 4, 2];
const W1 = seeded(MID * IN, 3);
const B1 = seeded(MID, 4);
const W2 = seeded(OUT * MID, 5);
const BOX: [number, number] = [-1, 1];

/** x → Gemm(W1, b1) → Pow 2 → Gemm(W2): a dense layer, its square, a dense layer. */
const spec: ModelSpec = {
  inputs: [{ name: 'x', shape: [1, IN] }],
  outputs: ['out'],
  initializers: [tensor('w1', [MID, IN], W1), tensor('b1', [MID], B1), tensor('w2', [OUT, MID], W2), tensor('two', [], [2])],
  nodes: [
    node('Gemm', ['x', 'w1', 'b1'], ['y'], [attr.int('transB', 1)], 'gemm1'),
    node('Pow', ['y', 'two'], ['z'], [], 'square'),
    node('Gemm', ['z', 'w2'], ['out'], [attr.int('transB', 1)], 'gemm2'),
  ],
};

const row = (w: Float32Array, r: number, n: number) => Array.from(w.subarray(r * n, (r + 1) * n));
/** sup |y_c| over x ∈ [−1, 1]ⁿ: |b_c| + Σ_i |W_ci|, reached at the corner x_i = sign(b_c·W_ci). */
const supY = Math.max(...Array.from({ length: MID }, (_, c) => Math.abs(B1[c]) + row(W1, c, IN).reduce((s, w) => s + Math.abs(w), 0)));
const sigma = (w: Float32Array, rows: number, cols: number) => largestSingularValue(new Matrix(Array.from({ length: rows }, (_, r) => row(w, r, cols))));

function forward(x: number[]): number[] {
  const y = Array.from({ length: MID }, (_, c) => B1[c] + row(W1, c, IN).reduce((s, w, i) => s + w * x[i], 0));
  return Array.from({ length: OUT }, (_, o) => row(W2, o, MID).reduce((s, w, c) => s + w * y[c] * y[c], 0));
}

function bound(model: IrModel): number | undefined {
  const sigmas = new Map([['gemm1', sigma(W1, MID, IN)], ['gemm2', sigma(W2, OUT, MID)]]);
  return compose(model, model.nodes.map((n) => sigmas.get(n.name) ?? closedForm(n)?.compositionConstant)).network;
}

test('Pow 2 of a dense layer on an input box: the row is x·x with weight sup|y| each (2·sup|y| in all), the network bound σ₂·2·sup|y|·σ₁ holds for sampled pairs', async () => {
  const bytes = buildModel(spec);
  const model = await openBytes(bytes, { inputRange: BOX });
  const square = model.nodes.find((n) => n.name === 'square');
  assert.ok(square && square.spec.type === 'add', JSON.stringify(square?.spec));
  assert.deepEqual(square.inputs, ['y', 'y']);
  const weights = square.spec.weights as number[];
  for (const w of weights) assert.ok(Math.abs(w - supY) <= 1e-6 * supY, `weight ${w} against sup|y| = ${supY}`);
  assert.match(square.spec.detail ?? '', /square of a bounded value .*bounded only for inputs in \[-1, 1\]/);
  assert.deepEqual(model.domain, { inputRange: BOX });

  // σ of both dense layers from the explicit matrices' SVD; the square's 2·sup|y| is attained
  // (at the corner where |y_c| = sup|y|, its Jacobian diag(2y) has norm 2·sup|y|).
  const expected = sigma(W2, OUT, MID) * 2 * supY * sigma(W1, MID, IN);
  const network = bound(model) as number;
  assert.ok(Math.abs(network - expected) <= 1e-6 * expected, `network ${network} against ${expected}`);

  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let largest = 0;
  for (let trial = 0; trial < 400; trial++) {
    const x = Array.from({ length: IN }, () => BOX[0] + (BOX[1] - BOX[0]) * random());
    const x2 = x.map((v) => Math.min(Math.max(v + [1e-3, 0.1, 1][trial % 3] * (random() - 0.5), BOX[0]), BOX[1]));
    const [f, f2] = [forward(x), forward(x2)];
    const dx = Math.hypot(...x.map((v, i) => v - x2[i]));
    if (dx > 0) largest = Math.max(largest, Math.hypot(...f.map((v, o) => v - f2[o])) / dx);
  }
  assert.ok(largest > 0.05 * network && largest <= network, `sampled ${largest} against bound ${network}`);

  // The rewritten row runs as the product y·y: the executor matches onnxruntime on the box.
  await assertMatchesOnnxRuntime('Pow 2 as y·y', bytes, model, uniformInput([1, IN], 9, BOX[0], BOX[1]));
});

test('Pow 2 without an input box stays unbounded, naming the value without a range', async () => {
  const model = await openBytes(buildModel(spec));
  const square = model.nodes.find((n) => n.name === 'square');
  assert.ok(square && square.spec.type === 'unbounded', JSON.stringify(square?.spec));
  assert.equal(square.spec.reason, 'x^2 is not globally Lipschitz: "y" has no bounded range');
  assert.equal(bound(model), Infinity);
});

test('a TF.js Square of a sigmoid is bounded whatever the input: 2·sup|σ| = 2 times the sigmoid\'s 1/4', () => {
  const sig = irNode('sig', { type: 'fixed', kind: 'activation', constant: 0.25, values: { kind: 'sigmoid' } }, ['x'], ['s']);
  const sq = { ...irNode('sq', { type: 'unbounded', reason: 'x^2 is not globally Lipschitz' }, ['s'], ['q']), op: 'Square' };
  const model = irModel([sig, sq], ['q']);
  resolveProducts(model);
  assert.ok(sq.spec.type === 'add', JSON.stringify(sq.spec));
  assert.deepEqual(sq.spec.weights, [1, 1]);
  assert.equal(sq.spec.domain, undefined, 'the sigmoid bounds s for every input: no domain needed');
  assert.equal(compose(model, model.nodes.map((n) => closedForm(n)?.compositionConstant)).network, 0.5);
});
