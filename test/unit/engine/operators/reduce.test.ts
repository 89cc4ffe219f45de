// reduceLinearProblem: a 1x1 convolution's σ1 equals that of its channel matrix, checked against a
// float64 SVD of the full layer's explicit matrix (stride, padding, groups, channels-last), and
// layers it must not touch are left alone.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../../src/engine/backend';
import { buildOperator, reduceLinearProblem } from '../../../../src/engine/operators';
import type { ConvSpec } from '../../../../src/model/ir';
import { gaussianArray } from '../../../../src/engine/solvers/random';
import { explicitMatrix } from '../../../helpers/explicit-matrix';
import { singularValues } from '../../../helpers/matrix-operator';

function pointwise(cOut: number, cIn: number, group: number, stride: number, pad: [number, number], channelsLast = false, seed = 1): ConvSpec {
  return {
    type: 'conv',
    channelsLast,
    weight: { dims: [cOut, cIn / group, 1, 1], data: gaussianArray((cOut * cIn) / group, seed) },
    strides: [stride, stride],
    dilations: [1, 1],
    padsBegin: [pad[0], pad[0]],
    padsEnd: [pad[1], pad[1]],
    group,
  };
}

function sigmaOf(spec: ConvSpec, inputShape: number[]): number {
  const op = buildOperator(spec, inputShape);
  try {
    return singularValues(explicitMatrix(op, 'forward'))[0];
  } finally {
    op.dispose();
  }
}

describe('reduceLinearProblem', () => {
  before(async () => {
    await initBackend();
  });

  const cases: { name: string; spec: ConvSpec; inputShape: number[] }[] = [
    { name: '6→5 stride 1 at 5x4', spec: pointwise(5, 6, 1, 1, [0, 0]), inputShape: [1, 6, 5, 4] },
    { name: '4→8 stride 2 at 5x5 (downsample)', spec: pointwise(8, 4, 1, 2, [0, 0], false, 2), inputShape: [1, 4, 5, 5] },
    { name: '4→6 stride 1, padding 1', spec: pointwise(6, 4, 1, 1, [1, 1], false, 3), inputShape: [1, 4, 3, 3] },
    { name: '6→6 groups 3, stride 2, padding 1/0', spec: pointwise(6, 6, 3, 2, [1, 0], false, 4), inputShape: [1, 6, 4, 4] },
    { name: '3→7 channels-last at 4x3', spec: pointwise(7, 3, 1, 1, [0, 0], true, 5), inputShape: [1, 4, 3, 3] },
  ];
  for (const { name, spec, inputShape } of cases) {
    test(`${name}: the reduced problem has the full layer's σ1`, () => {
      const reduced = reduceLinearProblem(spec, inputShape);
      assert.ok(reduced.reduction, 'expected a reduction');
      assert.equal(reduced.inputShape.reduce((a, b) => a * b, 1), spec.channelsLast ? inputShape[3] : inputShape[1]);
      const full = sigmaOf(spec, inputShape);
      const small = sigmaOf(reduced.spec as ConvSpec, reduced.inputShape);
      assert.ok(Math.abs(full - small) <= 1e-6 * full, `full ${full} vs reduced ${small}`);
    });
  }

  test('3x3 kernels, dense layers and all-padding outputs are left alone', () => {
    const threeByThree: ConvSpec = { ...pointwise(4, 4, 1, 1, [1, 1]), weight: { dims: [4, 4, 3, 3], data: gaussianArray(144, 6) } };
    assert.equal(reduceLinearProblem(threeByThree, [1, 4, 5, 5]).reduction, undefined);
    const dense = { type: 'dense' as const, weight: { dims: [3, 2], data: new Float32Array(6) } };
    assert.equal(reduceLinearProblem(dense, [1, 3]).reduction, undefined);
    // Stride 3 with padding 2 on a 1-wide input: the only output position reads padding.
    assert.equal(reduceLinearProblem(pointwise(2, 2, 1, 3, [2, 0]), [1, 2, 1, 1]).reduction, undefined);
    // Already one position, no padding: nothing to reduce.
    assert.equal(reduceLinearProblem(pointwise(2, 2, 1, 1, [0, 0]), [1, 2, 1, 1]).reduction, undefined);
  });
});
