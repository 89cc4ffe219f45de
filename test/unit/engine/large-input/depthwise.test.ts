// The depthwise reduction (src/engine/large-input/depthwise.ts) against exact answers: each group's
// certified bound must lie above the group's exact σ1 (explicit matrix, ml-matrix's SVD), and the
// layer reduced to its kept groups must have the full layer's σ (both by the exact-dense interval,
// built from the explicit matrix of each, so independent of the symbol code).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvSpec } from '../../../../src/model/ir';
import { depthwiseSubset, gridBound, reduceDepthwise, tapSumBounds } from '../../../../src/engine/large-input/depthwise';
import { exactInterval } from '../../../../src/engine/large-input/exact-small';
import { pairSeconds } from '../../../../src/engine/large-input/solve';
import { convMatrix, exactSigma, randomValues, type ConvCase, convSpecOf } from '../bounds/reference';

function depthwiseCase(channels: number, multiplier: number, input: number[], stride: number): ConvCase {
  return { cIn: channels, cOut: channels * multiplier, kernel: [3, 3], input, strides: [stride, stride], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: channels };
}

/** Weights with group `hot` scaled by `scale`: the only group that can hold the max. */
function weightsWithHotGroup(c: ConvCase, seed: number, hot: number, scale: number): Float32Array {
  const weight = randomValues(c.cOut * 9, seed);
  const m = c.cOut / c.group;
  for (let i = hot * m * 9; i < (hot + 1) * m * 9; i++) weight[i] *= scale;
  return weight;
}

describe('depthwise group bounds', () => {
  for (const [label, stride, multiplier] of [
    ['stride 1', 1, 1],
    ['stride 2', 2, 1],
    ['multiplier 2', 1, 2],
    ['stride 2, multiplier 2', 2, 2],
  ] as const) {
    test(`${label}: every group's certified bound is above its exact σ1 (non-square 13x10 map)`, () => {
      const c = depthwiseCase(3, multiplier, [13, 10], stride);
      const weight = randomValues(c.cOut * 9, 11 + stride + multiplier);
      const spec = convSpecOf(c, weight);
      const taps = tapSumBounds(spec);
      for (let g = 0; g < 3; g++) {
        const one = depthwiseSubset(spec, [1, 3, 13, 10], [g]);
        const exact = exactSigma(convMatrix({ ...c, cIn: 1, cOut: multiplier, group: 1 }, one.spec.weight.data as Float32Array));
        assert.ok(taps[g] >= exact, `taps ${taps[g]} < ${exact}`);
        for (const level of [32, 128, 1024]) {
          const { bound, estimate } = gridBound(spec, g, level);
          assert.ok(bound >= exact, `group ${g} level ${level}: bound ${bound} < exact ${exact}`);
          assert.ok(bound >= estimate);
        }
        // The finest level is within its Bernstein factor of the grid's max.
        const fine = gridBound(spec, g, 1024);
        assert.ok(fine.bound <= fine.estimate * 1.01, `${fine.bound} vs ${fine.estimate}`);
      }
    });
  }
});

describe('depthwise reduction', () => {
  // The explicit matrices' smaller side must stay within EXACT_MAX_SIDE (1024).
  for (const [label, stride, multiplier, channels, input] of [
    ['stride 1', 1, 1, 8, [11, 9]],
    ['stride 2', 2, 1, 12, [16, 13]],
    ['multiplier 2', 1, 2, 8, [10, 9]],
  ] as const) {
    test(`${label}: ${channels} channels, one holding the max, reduced to that one with σ unchanged`, () => {
      const c = depthwiseCase(channels, multiplier, [...input], stride);
      const weight = weightsWithHotGroup(c, 5 + stride + multiplier, 7 % channels, 3);
      const spec = convSpecOf(c, weight);
      const shape = [1, channels, ...input];
      const reduction = reduceDepthwise(spec, shape);
      assert.ok(reduction, 'no reduction');
      assert.deepEqual(reduction.kept, [7 % channels]);
      assert.equal(reduction.groups, channels);
      // Every pruned group is counted by the stage that pruned it.
      assert.equal(reduction.prunedBy.taps + reduction.prunedBy.grid.reduce((a, b) => a + b, 0), channels - 1);
      assert.match(reduction.note, new RegExp(`1 of ${channels} groups kept \\(${7 % channels}\\)`));
      assert.deepEqual(reduction.inputShape, [1, 1, ...input]);
      const full = exactInterval(spec, shape);
      const reduced = exactInterval(reduction.spec, reduction.inputShape);
      assert.ok(full && reduced);
      // Same σ: the two certified intervals overlap, and the reduction's lower bound is below both uppers.
      assert.ok(full.lower <= reduced.upper * (1 + 1e-12) && reduced.lower <= full.upper * (1 + 1e-12), `${full.lower}..${full.upper} vs ${reduced.lower}..${reduced.upper}`);
      assert.ok(Math.abs(full.sigma - reduced.sigma) <= 1e-9 * full.sigma);
      assert.ok(reduction.lower <= full.upper * (1 + 1e-12), `lower ${reduction.lower} above ${full.upper}`);
      // Without the reduction the exact σ of the hot group is the layer's.
      const hot = depthwiseSubset(spec, shape, [7 % channels]);
      const exactHot = exactSigma(convMatrix({ ...c, cIn: 1, cOut: multiplier, group: 1 }, hot.spec.weight.data as Float32Array));
      assert.ok(Math.abs(exactHot - full.sigma) <= 1e-9 * exactHot);
    });
  }

  test('384 random channels at 160²: the grid stages prune what the sum of taps cannot, and the kept groups include the largest symbol', () => {
    const c = depthwiseCase(384, 1, [160, 160], 1);
    const spec = convSpecOf(c, randomValues(384 * 9, 21));
    const reduction = reduceDepthwise(spec, [1, 384, 160, 160]);
    assert.ok(reduction);
    assert.ok(reduction.kept.length <= 3, `kept ${reduction.kept}`);
    assert.ok(reduction.prunedBy.grid.reduce((a, b) => a + b, 0) > 0, JSON.stringify(reduction.prunedBy));
    assert.equal(reduction.kept.length + reduction.prunedBy.taps + reduction.prunedBy.grid.reduce((a, b) => a + b, 0), 384);
    // The group with the largest symbol sup (grid estimate) is among the kept ones.
    let best = 0;
    for (let g = 1; g < 384; g++) if (gridBound(spec, g, 64).estimate > gridBound(spec, best, 64).estimate) best = g;
    assert.ok(reduction.kept.includes(best), `best ${best}, kept ${reduction.kept}`);
    for (const g of reduction.kept) assert.ok(gridBound(spec, g, 1024).bound >= reduction.lower);
  });

  test('many comparable channels keep every group that could hold the max', () => {
    const c = depthwiseCase(6, 1, [12, 12], 1);
    const weight = randomValues(6 * 9, 3);
    // Two copies of the same kernel: neither can be pruned against the other.
    weight.copyWithin(9 * 4, 9 * 1, 9 * 2);
    const spec = convSpecOf(c, weight);
    const reduction = reduceDepthwise(spec, [1, 6, 12, 12]);
    if (reduction) {
      assert.ok(reduction.kept.includes(1) === reduction.kept.includes(4), `kept ${reduction.kept}`);
      const full = exactInterval(spec, [1, 6, 12, 12]);
      const reduced = exactInterval(reduction.spec, reduction.inputShape);
      assert.ok(full && reduced && Math.abs(full.sigma - reduced.sigma) <= 1e-9 * full.sigma);
    }
  });

  test('not depthwise: an ordinary grouped conv is left as it is', () => {
    const spec: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [4, 2, 3, 3], data: randomValues(72, 1) }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 2 };
    assert.equal(reduceDepthwise(spec, [1, 4, 20, 20]), null);
  });

  test('channels-last input shapes are reduced on the last axis', () => {
    const c = depthwiseCase(12, 1, [14, 11], 1);
    const spec = { ...convSpecOf(c, weightsWithHotGroup(c, 9, 2, 3)), channelsLast: true };
    const reduction = reduceDepthwise(spec, [1, 14, 11, 12]);
    assert.ok(reduction);
    assert.deepEqual(reduction.inputShape, [1, 14, 11, 1]);
  });
});

describe('depthwise cost model', () => {
  test('a 384-channel 3x3 depthwise pair at 320² is priced near its measured ~2.5 s, not the dense-conv rate', () => {
    const spec: ConvSpec = { type: 'conv', channelsLast: true, weight: { dims: [384, 1, 3, 3], data: new Float32Array(384 * 9) }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 384 };
    const seconds = pairSeconds(spec, [1, 320, 320, 384]);
    assert.ok(seconds > 1 && seconds < 5, `${seconds}`);
  });
});
