// Explicit node matrices against the engine's own operators (exact SVD), and the certified norm of
// products of them against the exact σ1 of the product.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { initBackend } from '../../../src/engine/backend';
import { buildOperator } from '../../../src/engine/operators';
import { certifiedProductNorm, nodeMatrix, type ExplicitMatrix } from '../../../src/engine/bracket/explicit';
import type { IrNode, LinearSpec } from '../../../src/model/ir';
import { explicitMatrix, largestSingularValue, seededNormals } from '../../helpers/explicit-matrix';

function node(spec: LinearSpec, inShape: number[], outShape: number[]): IrNode {
  return { name: spec.type, op: spec.type, inputs: ['x'], outputs: ['y'], inputShapes: [inShape], outputShapes: [outShape], spec, weightShape: null, execution: spec.type === 'avgPool' ? { kind: 'spec' } : { kind: 'affine', bias: new Float32Array(outShape[1]).fill(3) } };
}

const asMatrix = (m: ExplicitMatrix) => new Matrix(Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols))));
const frobenius = (m: Matrix) => Math.sqrt(m.to1DArray().reduce((s, v) => s + v * v, 0));

const cases: [string, LinearSpec, number[], number[]][] = [
  ['strided dilated conv', { type: 'conv', channelsLast: false, weight: { dims: [4, 3, 3, 3], data: seededNormals(108, 1) }, strides: [2, 1], dilations: [1, 2], padsBegin: [1, 2], padsEnd: [0, 1], group: 1 }, [1, 3, 7, 6], [1, 4, 3, 5]],
  ['grouped conv', { type: 'conv', channelsLast: false, weight: { dims: [4, 1, 3, 3], data: seededNormals(36, 2) }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 2 }, [1, 2, 5, 5], [1, 4, 5, 5]],
  ['dense', { type: 'dense', weight: { dims: [7, 5], data: seededNormals(35, 3) } }, [1, 7], [1, 5]],
  ['average pool with pads', { type: 'avgPool', channelsLast: false, kernel: [3, 3], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1], countIncludePad: false }, [1, 2, 7, 7], [1, 2, 4, 4]],
];

for (const [label, spec, inShape, outShape] of cases) {
  test(`the explicit matrix of a ${label} has the engine operator's singular values (bias dropped)`, async () => {
    await initBackend();
    const m = nodeMatrix(node(spec, inShape, outShape));
    assert.ok(m);
    assert.equal(m.rows, inShape.reduce((a, b) => a * b, 1));
    assert.equal(m.cols, outShape.reduce((a, b) => a * b, 1));
    const operator = buildOperator(spec, inShape);
    const reference = explicitMatrix(operator);
    operator.dispose();
    const mine = asMatrix(m);
    assert.ok(Math.abs(largestSingularValue(mine) - largestSingularValue(reference)) <= 1e-6 * largestSingularValue(reference));
    // The pool operator solves one channel (the channels are identical blocks): same σ, not same size.
    if (reference.rows * reference.columns === m.rows * m.cols) assert.ok(Math.abs(frobenius(mine) - frobenius(reference)) <= 1e-6 * frobenius(reference));
  });
}

test('a large product runs in float32 on tfjs with its rounding margin: still ≥ the exact σ1, within 1 %', async () => {
  await initBackend();
  const dense = (rows: number, cols: number, seed: number) => nodeMatrix(node({ type: 'dense', weight: { dims: [rows, cols], data: seededNormals(rows * cols, seed) } }, [1, rows], [1, cols])) as ExplicitMatrix;
  const a = dense(420, 400, 21);
  const b = dense(400, 380, 22);
  const value = certifiedProductNorm([{ matrix: a, scale: 0.5 }, { matrix: b, scale: 1 }]);
  const exact = 0.5 * largestSingularValue(asMatrix(a).mmul(asMatrix(b)));
  assert.ok(value >= exact, `${value} < ${exact}`);
  assert.ok(value <= exact * 1.01, `${value} is loose against ${exact}`);
});

test('the certified norm of a product is ≥ its exact σ1 and within 0.5 % of it', async () => {
  await initBackend();
  const a = nodeMatrix(node(cases[0][1], cases[0][2], cases[0][3])) as ExplicitMatrix;
  const dense = nodeMatrix(node({ type: 'dense', weight: { dims: [60, 30], data: seededNormals(1800, 9) } }, [1, 60], [1, 30])) as ExplicitMatrix;
  const value = certifiedProductNorm([{ matrix: a, scale: 0.5 }, { matrix: dense, scale: 1 }]);
  const exact = 0.5 * largestSingularValue(asMatrix(a).mmul(asMatrix(dense)));
  assert.ok(value >= exact, `${value} < ${exact}`);
  assert.ok(value <= exact * 1.005, `${value} is loose against ${exact}`);
  // Far below the product of the factors' norms: that is what the expansion gains.
  const product = 0.5 * largestSingularValue(asMatrix(a)) * largestSingularValue(asMatrix(dense));
  assert.ok(value < product);
});
