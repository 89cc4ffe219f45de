import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import { buildOperator } from '../../../../src/engine/operators';
import type { DenseSpec } from '../../../../src/model/ir';
import { largestSingularValue, seededNormals } from '../../../helpers/explicit-matrix';
import { checkAgainstReference } from './operator-checks';
import { referenceDenseMatrix } from './onnx-reference';

function denseSpec(inFeatures: number, outFeatures: number, seed: number): DenseSpec {
  return { type: 'dense', weight: { dims: [inFeatures, outFeatures], data: seededNormals(inFeatures * outFeatures, seed) } };
}

/** The map a [2, 3, in] input really undergoes: I₃ ⊗ W on one batch item, built from the reference. */
function kroneckerWithIdentity(block: Matrix, copies: number): Matrix {
  const m = new Matrix(block.rows * copies, block.columns * copies);
  for (let c = 0; c < copies; c++) m.setSubMatrix(block, c * block.rows, c * block.columns);
  return m;
}

describe('dense operator (wasm)', () => {
  before(async () => {
    const info = await initBackend();
    assert.equal(info.name, 'wasm', info.note);
  });

  test('7 → 5 matches y = x·W', () => {
    const spec = denseSpec(7, 5, 1);
    const op = buildOperator(spec, [4, 7]);
    try {
      checkAgainstReference(op, referenceDenseMatrix(7, 5, spec.weight.data));
    } finally {
      op.dispose();
    }
  });

  test('wide and tall weights (1 → 9, 40 → 3)', () => {
    for (const [inFeatures, outFeatures] of [[1, 9], [40, 3]]) {
      const spec = denseSpec(inFeatures, outFeatures, inFeatures);
      const op = buildOperator(spec, [1, inFeatures]);
      try {
        checkAgainstReference(op, referenceDenseMatrix(inFeatures, outFeatures, spec.weight.data));
      } finally {
        op.dispose();
      }
    }
  });

  test('leading axes reduce to W alone: σ(I ⊗ W) = σ(W)', () => {
    const spec = denseSpec(6, 4, 2);
    const op = buildOperator(spec, [2, 3, 6]);
    try {
      assert.deepEqual(op.inputShape, [1, 6]);
      assert.deepEqual(op.outputShape, [1, 4]);
      const block = checkAgainstReference(op, referenceDenseMatrix(6, 4, spec.weight.data));
      const full = kroneckerWithIdentity(referenceDenseMatrix(6, 4, spec.weight.data), 3);
      assert.ok(Math.abs(largestSingularValue(full) - largestSingularValue(block)) < 1e-6 * largestSingularValue(full));
    } finally {
      op.dispose();
    }
  });

  test('a last axis that does not match the weight is refused', () => {
    assert.throws(() => buildOperator(denseSpec(6, 4, 3), [1, 5]), /expects 6/);
  });
});
