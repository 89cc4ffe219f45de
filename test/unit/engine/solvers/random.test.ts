import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUniformRandom, gaussianArray } from '../../../../src/engine/solvers/random';

test('the same seed gives the same draws, another seed different ones', () => {
  assert.deepEqual(gaussianArray(1000, 42), gaussianArray(1000, 42));
  const other = gaussianArray(1000, 43);
  const same = gaussianArray(1000, 42);
  const equal = same.filter((value, i) => value === other[i]).length;
  assert.equal(equal, 0);
});

test('uniform draws lie in [0, 1) and fill it evenly', () => {
  const next = createUniformRandom(7);
  const bins = new Array<number>(10).fill(0);
  const count = 100_000;
  for (let i = 0; i < count; i++) {
    const u = next();
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 10)]++;
  }
  // Each bin's count is binomial(1e5, 0.1): standard deviation ≈ 95, so ±600 is over 6σ.
  for (const bin of bins) assert.ok(Math.abs(bin - count / 10) < 600, `bin count ${bin}`);
});

test('Gaussian draws have mean 0, variance 1 and normal tails', () => {
  const values = gaussianArray(200_000, 3);
  let sum = 0;
  let squares = 0;
  let beyondTwo = 0;
  for (const value of values) {
    sum += value;
    squares += value * value;
    if (Math.abs(value) > 2) beyondTwo++;
  }
  const mean = sum / values.length;
  const variance = squares / values.length - mean * mean;
  // Standard errors: mean 0.0022, variance 0.0032; P(|z| > 2) = 0.0455 ± 0.0005.
  assert.ok(Math.abs(mean) < 0.015, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
  assert.ok(Math.abs(beyondTwo / values.length - 0.0455) < 0.003, `tail ${beyondTwo / values.length}`);
});

test('nearby seeds do not give correlated vectors', () => {
  const a = gaussianArray(10_000, 1);
  const b = gaussianArray(10_000, 2);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  // For independent vectors dot / n has standard deviation 0.01.
  assert.ok(Math.abs(dot / a.length) < 0.05, `correlation ${dot / a.length}`);
});
