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

// Dilated stride-1 convs: the layer is a direct sum of undilated convs on residue classes, and one
// class contains the others (reduce.ts, reduceDilatedAxes). Checked against an SVD of the explicit
// matrix of the full layer, over every small geometry, and on the shapes real models use.
describe('reduceLinearProblem: dilated convolutions', () => {
  before(async () => {
    await initBackend();
  });

  function dilated(cOut: number, cIn: number, kernel: number[], dilations: number[], padsBegin: number[], padsEnd: number[], options: { group?: number; channelsLast?: boolean; seed?: number } = {}): ConvSpec {
    const group = options.group ?? 1;
    const taps = kernel.reduce((a, b) => a * b, 1);
    return {
      type: 'conv',
      channelsLast: options.channelsLast ?? false,
      weight: { dims: [cOut, cIn / group, ...kernel], data: gaussianArray((cOut * cIn * taps) / group, options.seed ?? 11) },
      strides: kernel.map(() => 1),
      dilations,
      padsBegin,
      padsEnd,
      group,
    };
  }

  test('every 1-D geometry up to size 9, dilation 2–3, kernel 2–3, pads 0–5: exact where it applies', () => {
    let applied = 0;
    let checked = 0;
    for (const size of [3, 4, 5, 6, 7, 8, 9]) {
      for (const d of [2, 3]) {
        for (const k of [2, 3]) {
          for (let begin = 0; begin <= 5; begin++) {
            for (let end = 0; end <= 5; end++) {
              if (size + begin + end - d * (k - 1) < 1) continue;
              const spec = dilated(2, 3, [k], [d], [begin], [end], { seed: size * 100 + begin * 10 + end });
              const inputShape = [1, 3, size];
              const reduced = reduceLinearProblem(spec, inputShape);
              checked++;
              // 'same' with an odd kernel (pads d(k − 1)/2, a multiple of d) and 'valid' always reduce.
              const same = k % 2 === 1 && begin === end && 2 * begin === d * (k - 1);
              if (same || (begin === 0 && end === 0)) assert.ok(reduced.reduction, `size ${size} d ${d} k ${k} pads ${begin}/${end} not reduced`);
              if (!reduced.reduction) continue;
              applied++;
              assert.equal((reduced.spec as ConvSpec).dilations[0], 1);
              assert.ok(reduced.inputShape[2] <= Math.ceil(size / d), `size ${reduced.inputShape[2]}`);
              const full = sigmaOf(spec, inputShape);
              const small = sigmaOf(reduced.spec as ConvSpec, reduced.inputShape);
              assert.ok(Math.abs(full - small) <= 1e-5 * full, `size ${size} d ${d} k ${k} pads ${begin}/${end}: full ${full} vs reduced ${small}`);
            }
          }
        }
      }
    }
    // Many asymmetric layouts reduce too (422 of 983 when written).
    assert.ok(applied > 0.3 * checked, `${applied} of ${checked} reduced`);
  });

  const cases: { name: string; spec: ConvSpec; inputShape: number[]; reducedSpatial: number[] }[] = [
    { name: '3x3 dilation 2 same at 9x8', spec: dilated(3, 4, [3, 3], [2, 2], [2, 2], [2, 2]), inputShape: [1, 4, 9, 8], reducedSpatial: [5, 4] },
    { name: '3x3 dilation 4 same at 12x10 (sub-lattice 3x3)', spec: dilated(4, 3, [3, 3], [4, 4], [4, 4], [4, 4], { seed: 3 }), inputShape: [1, 3, 12, 10], reducedSpatial: [3, 3] },
    { name: '3x3 dilation (3, 1) valid, grouped', spec: dilated(4, 4, [3, 3], [3, 1], [0, 0], [0, 0], { group: 2, seed: 4 }), inputShape: [1, 4, 10, 5], reducedSpatial: [4, 5] },
    // Axis 0 (kernel 2, pads 1: its two classes differ, neither contains the other) stays.
    { name: '2x3 dilation 2, channels-last, one axis reducible', spec: dilated(3, 2, [2, 3], [2, 2], [1, 2], [1, 2], { channelsLast: true, seed: 5 }), inputShape: [1, 7, 6, 2], reducedSpatial: [7, 3] },
  ];
  for (const { name, spec, inputShape, reducedSpatial } of cases) {
    test(`${name}: the reduced problem has the full layer's σ1`, () => {
      const reduced = reduceLinearProblem(spec, inputShape);
      assert.match(reduced.reduction ?? '', /dilated conv/);
      const spatial = spec.channelsLast ? reduced.inputShape.slice(1, -1) : reduced.inputShape.slice(2);
      assert.deepEqual(spatial, reducedSpatial);
      const full = sigmaOf(spec, inputShape);
      const small = sigmaOf(reduced.spec as ConvSpec, reduced.inputShape);
      assert.ok(Math.abs(full - small) <= 1e-5 * full, `full ${full} vs reduced ${small}`);
    });
  }

  test('strided dilated convs are left alone; a 1-wide dilated axis reduces further to one position', () => {
    const strided: ConvSpec = { ...dilated(2, 2, [3, 3], [2, 2], [2, 2], [2, 2]), strides: [2, 2] };
    assert.equal(reduceLinearProblem(strided, [1, 2, 8, 8]).reduction, undefined);
    const unit = dilated(2, 2, [1, 3], [2, 2], [0, 2], [0, 2], { seed: 9 });
    const reduced = reduceLinearProblem(unit, [1, 2, 6, 8]);
    assert.match(reduced.reduction ?? '', /dilated conv.*then kernel size 1/);
    assert.deepEqual(reduced.inputShape, [1, 2, 1, 4]);
    const full = sigmaOf(unit, [1, 2, 6, 8]);
    assert.ok(Math.abs(full - sigmaOf(reduced.spec as ConvSpec, reduced.inputShape)) <= 1e-5 * full);
  });
});
