// How many Lanczos vectors a run keeps before it restarts from its Ritz vector: 2^24 floats'
// worth (one copy each), never fewer than 4, and maxBasis wins when given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basisCapacity } from '../../../../src/engine/solvers/lanczos';

test('the kept vectors fill 2^24 floats: 83 at 64x56x56, 668 at 512x7x7', () => {
  assert.equal(basisCapacity(200_704), 83); // 64 channels at 56x56
  assert.equal(basisCapacity(150_528), 111); // 3 channels at 224x224
  assert.equal(basisCapacity(25_088), 668); // 512 channels at 7x7
  for (const length of [1000, 100_000, 300_000, 1_000_000]) assert.ok(basisCapacity(length) * length <= 2 ** 24);
});

test('never below 4 vectors on huge sides; maxBasis overrides', () => {
  assert.equal(basisCapacity(50_000_000), 4);
  assert.equal(basisCapacity(451_584, 6), 6);
});
