import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../../src/engine/backend';
import { buildOperator, foldScaleIntoConv } from '../../../../src/engine/operators';
import type { ConvSpec } from '../../../../src/model/ir';
import { explicitMatrix, largestSingularValue, relativeMaxDifference, seededNormals } from '../../../helpers/explicit-matrix';
import { referenceConvMatrix } from './onnx-reference';

function convSpec(): ConvSpec {
  const dims = [4, 3, 3, 3];
  return {
    type: 'conv',
    channelsLast: false,
    weight: { dims, data: seededNormals(4 * 3 * 9, 42) },
    strides: [1, 1],
    dilations: [1, 1],
    padsBegin: [1, 1],
    padsEnd: [1, 1],
    group: 1,
  };
}

describe('foldScaleIntoConv', () => {
  before(async () => {
    await initBackend();
  });

  test('the folded conv is diag(scale) after the conv, per output channel', () => {
    const spec = convSpec();
    const original = Float32Array.from(spec.weight.data);
    const scale = new Float32Array([0.5, -2, 3, 0.25]);
    const folded = foldScaleIntoConv(spec, scale);
    assert.deepEqual(spec.weight.data, original, 'the input spec is left unchanged');

    // Reference: scale row (position, channel) of the unfolded conv's matrix by scale[channel].
    const expected = referenceConvMatrix(spec.weight.dims, spec.weight.data, 1, [5, 5], spec);
    for (let row = 0; row < expected.rows; row++) {
      for (let col = 0; col < expected.columns; col++) expected.set(row, col, expected.get(row, col) * scale[row % 4]);
    }
    const op = buildOperator(folded, [1, 3, 5, 5]);
    try {
      assert.ok(relativeMaxDifference(explicitMatrix(op), expected) < 1e-6);
      // Folding gives a tighter σ than σ(conv)·max|scale|.
      const unfoldedSigma = largestSingularValue(referenceConvMatrix(spec.weight.dims, spec.weight.data, 1, [5, 5], spec));
      assert.ok(largestSingularValue(expected) < 0.99 * unfoldedSigma * 3);
    } finally {
      op.dispose();
    }
  });

  test('a single scale multiplies the whole weight', () => {
    const spec = convSpec();
    const folded = foldScaleIntoConv(spec, new Float32Array([-1.5]));
    folded.weight.data.forEach((v, i) => assert.equal(v, Math.fround(spec.weight.data[i] * -1.5)));
    assert.deepEqual(folded.weight.dims, spec.weight.dims);
  });

  test('a scale of the wrong length is refused', () => {
    assert.throws(() => foldScaleIntoConv(convSpec(), new Float32Array(3)), /output channels/);
  });
});
