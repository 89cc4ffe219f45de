// The Lanczos basis size: smaller on long vectors (reorthogonalisation streams the basis four
// times per pair), whole blocks of 8, within the memory budget, and maxBasis wins when given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basisCapacity } from '../../../../src/engine/solvers/lanczos';

test('default basis: 64 on short vectors, down to 24 on long ones, in blocks of 8', () => {
  assert.equal(basisCapacity(25_088), 64); // 512 channels at 7x7
  assert.equal(basisCapacity(32_768), 64);
  assert.equal(basisCapacity(50_176), 40); // 256 channels at 14x14
  assert.equal(basisCapacity(100_352), 24); // 128 channels at 28x28
  assert.equal(basisCapacity(150_528), 24); // 3 channels at 224x224
  assert.equal(basisCapacity(200_704), 24); // 64 channels at 56x56
  assert.equal(basisCapacity(451_584), 24); // 144 channels at 56x56
  for (const length of [1000, 100_000, 300_000, 1_000_000]) assert.equal(basisCapacity(length) % 8, 0);
});

test('the memory budget (2^26 floats over four copies) lowers it on huge vectors; maxBasis overrides', () => {
  assert.equal(basisCapacity(1_000_000), 16);
  assert.equal(basisCapacity(50_000_000), 4); // never below 4
  assert.equal(basisCapacity(451_584, 6), 6);
});
