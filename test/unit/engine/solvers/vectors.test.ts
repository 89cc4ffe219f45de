// The two-level float32 sum behind every Lanczos and power-iteration scalar: why it exists (wasm's
// tf.sum drifts on long same-sign sums) and that it keeps float32's accuracy on the vector lengths
// of real layers, divisible or not.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../../src/engine/backend';
import { gaussianArray } from '../../../../src/engine/solvers/random';
import { accurateDot, accurateSum, squaredNorm } from '../../../../src/engine/solvers/vectors';

before(async () => {
  await initBackend();
});

function exactSquaredNorm(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return sum;
}

test('||x||² of 200k values: tf.sum is off by more than 1e-5, the two-level sum by less than 2e-6', () => {
  const values = gaussianArray(200_704, 1);
  const exact = exactSquaredNorm(values);
  const x = tf.tensor1d(values);
  const oneLoop = tf.tidy(() => tf.sum(tf.square(x)).dataSync()[0]);
  assert.ok(Math.abs(oneLoop - exact) / exact > 1e-5, `tf.sum error ${Math.abs(oneLoop - exact) / exact}: the backend changed, revisit accurateSum`);
  assert.ok(Math.abs(squaredNorm(x) - exact) / exact < 2e-6, `two-level error ${Math.abs(squaredNorm(x) - exact) / exact}`);
  x.dispose();
});

test('lengths with no divisor near √n (a prime, 800k + 1) and short ones keep the accuracy', () => {
  for (const length of [7, 1021, 1031, 99_991, 800_001]) {
    const values = gaussianArray(length, length);
    const exact = exactSquaredNorm(values);
    const x = tf.tensor1d(values);
    const before = tf.memory().numTensors;
    const squared = tf.square(x);
    const sum = accurateSum(squared);
    const got = sum.dataSync()[0];
    tf.dispose([squared, sum]);
    assert.ok(Math.abs(got - exact) / exact < 5e-6, `length ${length}: ${got} vs ${exact}`);
    assert.equal(tf.memory().numTensors, before, 'no intermediate tensor left behind');
    x.dispose();
  }
});

test('a dot product of nearly parallel vectors (a Lanczos α) keeps float32 accuracy', () => {
  const a = gaussianArray(150_528, 3);
  const noise = gaussianArray(150_528, 4);
  const b = a.map((v, i) => 2 * v + 1e-3 * noise[i]);
  let exact = 0;
  for (let i = 0; i < a.length; i++) exact += a[i] * b[i];
  const [ta, tb] = [tf.tensor1d(a), tf.tensor1d(b)];
  const dot = accurateDot(ta, tb);
  assert.ok(Math.abs(dot.dataSync()[0] - exact) / Math.abs(exact) < 2e-6);
  tf.dispose([ta, tb, dot]);
});
