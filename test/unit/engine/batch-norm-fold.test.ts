// Conv followed by batch norm: the row keeps the conv's own σ, and the bound uses the folded layer.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { estimateModel } from '../../../src/engine/estimate';
import { buildOperator } from '../../../src/engine/operators';
import { findBatchNormFolds, uniformMagnitude } from '../../../src/analysis/fold';
import { inThreadRunner, type LayerRunner } from '../../../src/engine/estimate-schedule';
import { expectedLayerSeconds } from '../../../src/engine/large-input/run-estimate';
import { DEFAULT_SETTINGS } from '../../../src/protocol/report';
import type { ConvSpec } from '../../../src/model/ir';
import { attr, floats, node, open, seeded } from '../../helpers/onnx-builder';
import { explicitMatrix, largestSingularValue } from '../../helpers/explicit-matrix';

before(async () => {
  await initBackend();
});

const cIn = 3;
const cOut = 4;
const gamma = [2.5, 0.2, 1, 0.7];
const variance = [1, 4, 0.25, 1];
const epsilon = 1e-5;
const scale = gamma.map((g, i) => g / Math.sqrt(variance[i] + epsilon));

function convBn(withSkip: boolean) {
  return open({
    opset: 13,
    inputs: [{ name: 'x', shape: [1, cIn, 6, 6] }],
    outputs: withSkip ? ['bn', 'conv'] : ['bn'],
    initializers: [
      floats('w', [cOut, cIn, 3, 3], seeded(cOut * cIn * 9, 11)),
      floats('gamma', [cOut], gamma),
      floats('beta', [cOut], [0.1, -0.2, 0.3, 0]),
      floats('mean', [cOut], [0.5, 0, -1, 2]),
      floats('var', [cOut], variance),
    ],
    nodes: [
      node('Conv', ['x', 'w'], ['conv'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])], 'conv'),
      node('BatchNormalization', ['conv', 'gamma', 'beta', 'mean', 'var'], ['bn'], [attr.float('epsilon', epsilon)], 'bn'),
    ],
  });
}

test('a conv followed only by a batch norm is folded; the row keeps its own σ, the bound uses the folded one', async () => {
  const model = await convBn(false);
  const folds = findBatchNormFolds(model);
  assert.equal(folds.size, 1);
  const { layers, bounds } = await estimateModel(model, { ...DEFAULT_SETTINGS, tol: 1e-7 });
  const conv = layers.find((l) => l.name === 'conv')!;
  const bn = layers.find((l) => l.name === 'bn')!;

  // Exact answers from the explicit matrix: diag(a)·M, with the output's channel index last.
  const operator = buildOperator(model.nodes[0].spec as ConvSpec, model.nodes[0].inputShapes[0]);
  const matrix = explicitMatrix(operator);
  operator.dispose();
  const exactConv = largestSingularValue(matrix);
  for (let row = 0; row < matrix.rows; row++) {
    const a = scale[row % cOut];
    for (let column = 0; column < matrix.columns; column++) matrix.set(row, column, matrix.get(row, column) * a);
  }
  const exactFolded = largestSingularValue(matrix);

  assert.ok(Math.abs(conv.sigma! - exactConv) / exactConv < 1e-5, `σ ${conv.sigma} vs ${exactConv}`);
  assert.ok(Math.abs(conv.foldedSigma! - exactFolded) / exactFolded < 1e-5, `folded σ ${conv.foldedSigma} vs ${exactFolded}`);
  assert.ok(conv.foldedUpperBound! >= exactFolded * (1 - 1e-6));
  // The BN row still shows its own constant, but the bound counts it inside the folded layer.
  assert.ok(Math.abs(bn.sigma! - Math.max(...scale.map(Math.abs))) < 1e-6);
  assert.ok(Math.abs(bounds.product! - exactFolded) / exactFolded < 1e-5, `product ${bounds.product} vs folded ${exactFolded}`);
  // Folding is tighter than σ(conv)·max|a|.
  assert.ok(exactFolded < exactConv * Math.max(...scale) * 0.99);
  assert.ok(bounds.certified! >= exactFolded * (1 - 1e-6));
});

test('no fold when the conv output is also used elsewhere', async () => {
  const model = await convBn(true);
  assert.equal(findBatchNormFolds(model).size, 0);
  const { layers, bounds } = await estimateModel(model, { ...DEFAULT_SETTINGS, tol: 1e-6 });
  const conv = layers.find((l) => l.name === 'conv')!;
  assert.equal(conv.foldedSigma, undefined);
  // Outputs (bn, conv) jointly: √((σ·max a)² + σ²).
  const expected = conv.sigma! * Math.hypot(Math.max(...scale), 1);
  assert.ok(Math.abs(bounds.product! - expected) / expected < 1e-6);
});

/** Conv → Mul by a constant with one magnitude for every channel (signs may differ), as a per-tensor rescale. */
function convRescale(multipliers: number[]) {
  return open({
    opset: 13,
    inputs: [{ name: 'x', shape: [1, cIn, 6, 6] }],
    outputs: ['scaled'],
    initializers: [floats('w', [cOut, cIn, 3, 3], seeded(cOut * cIn * 9, 11)), floats('a', multipliers.length === 1 ? [1] : [1, cOut, 1, 1], multipliers)],
    nodes: [node('Conv', ['x', 'w'], ['conv'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])], 'conv'), node('Mul', ['conv', 'a'], ['scaled'], [], 'rescale')],
  });
}

test('a rescale with one magnitude for every channel folds without a second solve: σ times |a|', async () => {
  for (const multipliers of [[0.0375], [0.5, -0.5, 0.5, -0.5]]) {
    const model = await convRescale(multipliers);
    const fold = findBatchNormFolds(model).get(0);
    assert.ok(fold, 'the Mul folds into the conv');
    assert.equal(uniformMagnitude(fold.scale), Math.abs(Math.fround(multipliers[0])));
    let solves = 0;
    const inThread = inThreadRunner();
    const runner: LayerRunner = { concurrency: 1, solve: (problem, settings) => (solves++, inThread.solve(problem, settings)) };
    const { layers, bounds } = await estimateModel(model, { ...DEFAULT_SETTINGS, tol: 1e-7 }, {}, { runner });
    assert.equal(solves, 1, 'one solve for the conv and its fold');
    const conv = layers.find((l) => l.name === 'conv')!;
    // Exact: the explicit matrix of the conv times the multipliers, row by row.
    const operator = buildOperator(model.nodes[0].spec as ConvSpec, model.nodes[0].inputShapes[0]);
    const matrix = explicitMatrix(operator);
    operator.dispose();
    for (let row = 0; row < matrix.rows; row++) {
      const a = Math.fround(multipliers[multipliers.length === 1 ? 0 : row % cOut]);
      for (let column = 0; column < matrix.columns; column++) matrix.set(row, column, matrix.get(row, column) * a);
    }
    const exactFolded = largestSingularValue(matrix);
    assert.ok(Math.abs(conv.foldedSigma! - exactFolded) / exactFolded < 1e-6, `folded σ ${conv.foldedSigma} vs ${exactFolded}`);
    assert.ok(conv.foldedUpperBound! >= exactFolded, `folded upper ${conv.foldedUpperBound} below ${exactFolded}`);
    assert.match(conv.note ?? '', /one scale magnitude .* for every channel/);
    assert.ok(Math.abs(bounds.product! - exactFolded) / exactFolded < 1e-6);
  }
});

test('a per-channel rescale still gets its own solve', async () => {
  const model = await convRescale([0.5, -0.25, 2, 1]);
  let solves = 0;
  const inThread = inThreadRunner();
  const runner: LayerRunner = { concurrency: 1, solve: (problem, settings) => (solves++, inThread.solve(problem, settings)) };
  await estimateModel(model, { ...DEFAULT_SETTINGS, tol: 1e-6 }, {}, { runner });
  assert.equal(solves, 2);
  // And the expected duration counts it twice, where a uniform rescale counts once.
  const [perChannel, uniform] = [expectedLayerSeconds(model, 1e-4)[0], expectedLayerSeconds(await convRescale([0.5]), 1e-4)[0]];
  assert.ok(uniform > 0);
  assert.equal(perChannel, 2 * uniform);
});
