// Conv followed by batch norm: the row keeps the conv's own σ, and the bound uses the folded layer.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { estimateModel } from '../../../src/engine/estimate';
import { buildOperator } from '../../../src/engine/operators';
import { findBatchNormFolds } from '../../../src/analysis/fold';
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
