import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../../src/engine/backend';
import { buildOperator } from '../../../../src/engine/operators';
import type { AvgPoolSpec } from '../../../../src/model/ir';
import { largestSingularValue } from '../../../helpers/explicit-matrix';
import { checkAgainstReference } from './operator-checks';
import { referenceAvgPoolMatrix } from './onnx-reference';

interface PoolCase {
  name: string;
  kernel: number[];
  inSize: number[];
  strides: number[];
  padsBegin: number[];
  padsEnd: number[];
  channelsLast?: boolean;
}

const cases: PoolCase[] = [
  { name: '2x2 s2, no pads', kernel: [2, 2], inSize: [6, 6], strides: [2, 2], padsBegin: [0, 0], padsEnd: [0, 0] },
  { name: 'overlapping 3x3 s2 p1', kernel: [3, 3], inSize: [9, 9], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: 'overlapping 3x3 s1, asymmetric pads, channelsLast', kernel: [3, 3], inSize: [7, 6], strides: [1, 1], padsBegin: [0, 2], padsEnd: [2, 1], channelsLast: true },
  { name: 'windows reaching into the padding only partly, strides (2,3)', kernel: [3, 2], inSize: [8, 9], strides: [2, 3], padsBegin: [1, 1], padsEnd: [2, 0] },
  { name: '1-D k3 s2 p1', kernel: [3], inSize: [15], strides: [2], padsBegin: [1], padsEnd: [1] },
  { name: '3-D 2x2x2 s1 p(1,0,1)/(0,1,1)', kernel: [2, 2, 2], inSize: [4, 4, 4], strides: [1, 1, 1], padsBegin: [1, 0, 1], padsEnd: [0, 1, 1] },
  { name: '3-D 3x3x3 s2 p1', kernel: [3, 3, 3], inSize: [5, 5, 5], strides: [2, 2, 2], padsBegin: [1, 1, 1], padsEnd: [1, 1, 1] },
];

describe('average pooling operators match the ONNX reference (wasm)', () => {
  before(async () => {
    const info = await initBackend();
    assert.equal(info.name, 'wasm', info.note);
  });

  for (const countIncludePad of [true, false]) {
    for (const c of cases) {
      test(`${c.name}, count_include_pad ${countIncludePad}`, () => {
        const spec: AvgPoolSpec = { type: 'avgPool', channelsLast: c.channelsLast ?? false, countIncludePad, kernel: c.kernel, strides: c.strides, padsBegin: c.padsBegin, padsEnd: c.padsEnd };
        // 5 channels in the node: the operator acts on one (every channel is pooled alike).
        const inputShape = spec.channelsLast ? [1, ...c.inSize, 5] : [1, 5, ...c.inSize];
        const op = buildOperator(spec, inputShape);
        try {
          assert.equal(op.inputShape[op.inputShape.length - 1], 1);
          checkAgainstReference(op, referenceAvgPoolMatrix(c.kernel, c.inSize, spec, countIncludePad));
        } finally {
          op.dispose();
        }
      });
    }
  }

  test('excluding the padding from the count changes σ on padded windows', () => {
    const c = cases[1];
    const params = { strides: c.strides, padsBegin: c.padsBegin, padsEnd: c.padsEnd };
    const included = largestSingularValue(referenceAvgPoolMatrix(c.kernel, c.inSize, params, true));
    const excluded = largestSingularValue(referenceAvgPoolMatrix(c.kernel, c.inSize, params, false));
    assert.ok(excluded > included * 1.01, `${excluded} vs ${included}`);
    // Non-overlapping, unpadded 2x2 windows: σ = 1/2 exactly (orthogonal rows of norm 1/2).
    const plain = referenceAvgPoolMatrix([2, 2], [6, 6], { strides: [2, 2], padsBegin: [0, 0], padsEnd: [0, 0] }, true);
    assert.ok(Math.abs(largestSingularValue(plain) - 0.5) < 1e-12);
  });
});
