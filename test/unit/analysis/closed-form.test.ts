import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedForm, largestWindowOverlap } from '../../../src/analysis/closed-form';
import { irNode } from '../../helpers/ir-builder';

function bruteForceOverlap(size: number, outSize: number, k: number, s: number, d: number, pad: number): number {
  const counts = new Array(size).fill(0);
  for (let o = 0; o < outSize; o++) for (let t = 0; t < k; t++) {
    const i = o * s + t * d - pad;
    if (i >= 0 && i < size) counts[i]++;
  }
  return Math.max(...counts);
}

test('max pool: √ of the largest number of windows sharing an input', () => {
  // 3x3 stride 2 pad 1 on 8x8 → 4x4: each axis has inputs in 2 windows → √4 = 2.
  const node = irNode('pool', { type: 'maxPool', channelsLast: false, kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1] }, ['x'], ['pool'], {
    in: [[1, 2, 8, 8]],
    out: [[1, 2, 4, 4]],
  });
  assert.equal(closedForm(node)!.sigma, 2);
  // Non-overlapping 2x2 stride 2: 1.
  const plain = irNode('pool', { type: 'maxPool', channelsLast: true, kernel: [2, 2], strides: [2, 2], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0] }, ['x'], ['pool'], {
    in: [[1, 8, 8, 3]],
    out: [[1, 4, 4, 3]],
  });
  assert.equal(closedForm(plain)!.sigma, 1);
  for (const [size, k, s, d, pad] of [[9, 3, 1, 1, 1], [10, 5, 2, 1, 2], [11, 3, 2, 2, 0], [7, 4, 3, 1, 1]]) {
    const out = Math.floor((size + 2 * pad - (d * (k - 1) + 1)) / s) + 1;
    assert.equal(largestWindowOverlap(size, out, k, s, d, pad), bruteForceOverlap(size, out, k, s, d, pad));
  }
});

test('global average pooling is exactly 1/√(H·W), in either layout', () => {
  const first = irNode('gap', { type: 'globalAvgPool', channelsLast: false }, ['x'], ['gap'], { in: [[1, 64, 7, 7]], out: [[1, 64, 1, 1]] });
  assert.equal(closedForm(first)!.sigma, 1 / 7);
  const last = irNode('gap', { type: 'globalAvgPool', channelsLast: true }, ['x'], ['gap'], { in: [[1, 4, 9, 64]], out: [[1, 64]] });
  assert.equal(closedForm(last)!.sigma, 1 / 6);
});

test('batch norm as a diagonal map: max |γ/√(var+ε)|, and NaN scales are invalid', () => {
  const node = irNode('bn', { type: 'diagonal', scale: new Float32Array([0.5, -3, 2]), axis: 1 }, ['x']);
  assert.equal(closedForm(node)!.sigma, 3);
  const broken = irNode('bn', { type: 'diagonal', scale: new Float32Array([0.5, NaN]), axis: 1 }, ['x']);
  const form = closedForm(broken)!;
  assert.equal(form.sigma, null);
  assert.ok(Number.isNaN(form.compositionConstant));
  assert.match(form.note!, /NaN/);
});

test('mean over axes: 1/√(count)', () => {
  const node = irNode('mean', { type: 'reduceMean', axes: [1, 2] }, ['x'], ['mean'], { in: [[1, 4, 5, 8]], out: [[1, 8]] });
  assert.equal(closedForm(node)!.sigma, 1 / Math.sqrt(20));
});

test('unsupported ops report no number and poison the composition', () => {
  const node = irNode('weird', { type: 'unsupported' }, ['x']);
  node.op = 'NonMaxSuppression';
  const form = closedForm(node)!;
  assert.equal(form.sigma, null);
  assert.ok(Number.isNaN(form.compositionConstant));
  assert.match(form.note!, /NonMaxSuppression/);
});
