// The Krylov basis: projections through matMul with fixed blocks agree with float64 arithmetic,
// across many append/reset cycles (tensor ids come and go, as in the solver), and the second
// Gram–Schmidt pass always runs by default, and selectively when asked.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../../src/engine/backend';
import { Basis, SECOND_PASS_RATIO } from '../../../../src/engine/solvers/basis';
import { gaussianArray } from '../../../../src/engine/solvers/random';

/** Orthonormal rows (float64 modified Gram–Schmidt), rounded to float32. */
function orthonormalRows(count: number, length: number, seed: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let r = 0; r < count; r++) {
    const v = Float64Array.from(gaussianArray(length, seed * 1000 + r));
    for (const q of rows) {
      const dot = v.reduce((s, x, i) => s + x * q[i], 0);
      for (let i = 0; i < length; i++) v[i] -= dot * q[i];
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    rows.push(Float64Array.from(Float32Array.from(v.map((x) => x / norm))));
  }
  return rows;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('Basis', () => {
  before(async () => {
    await initBackend();
  });

  for (const [count, length] of [
    [5, 37],
    [8, 100],
    [19, 301],
    [40, 1000],
  ] as const) {
    test(`${count} rows of length ${length}: coefficients and remainder match float64`, () => {
      const before = tf.memory().numTensors;
      const rows = orthonormalRows(count, length, count);
      const basis = new Basis();
      for (const row of rows) {
        const t = tf.tensor1d(Float32Array.from(row));
        basis.append(t);
        t.dispose();
      }
      assert.equal(basis.rows, count);
      const wValues = Float32Array.from(gaussianArray(length, 77));
      const w = tf.tensor1d(wValues);
      const result = basis.orthogonalise(w);
      const expected = rows.map((q) => dot(q, wValues));
      const scale = Math.sqrt(dot(wValues, wValues));
      result.coefficients.forEach((c, i) => assert.ok(Math.abs(c - expected[i]) <= 1e-5 * scale, `coefficient ${i}: ${c} vs ${expected[i]}`));
      const rest = result.vector.dataSync();
      for (const q of rows) assert.ok(Math.abs(dot(q, rest)) <= 1e-5 * scale, 'remainder not orthogonal');
      assert.ok(Math.abs(result.squaredNorm - dot(rest, rest)) <= 1e-5 * scale * scale);
      // The combination of the basis with given weights.
      const weights = rows.map((_, i) => Math.sin(i + 1));
      const [combined] = basis.combinations([weights]);
      const values = combined.dataSync();
      for (let j = 0; j < length; j += 7) {
        const want = rows.reduce((s, q, i) => s + weights[i] * q[j], 0);
        assert.ok(Math.abs(values[j] - want) <= 1e-5, `combination[${j}]`);
      }
      tf.dispose([w, result.vector, combined]);
      basis.dispose();
      assert.equal(tf.memory().numTensors, before);
    });
  }

  test('after the recurrence: the known β and measured α first, then one pass (two when it removes much)', () => {
    const length = 400;
    const rows = orthonormalRows(13, length, 11);
    const basis = new Basis();
    const tensors = rows.map((row) => tf.tensor1d(Float32Array.from(row)));
    for (const t of tensors) basis.append(t);
    const last = rows.length - 1;
    const outside = Float64Array.from(gaussianArray(length, 12));
    for (const q of rows) {
      const d = dot(q, outside);
      for (let i = 0; i < length; i++) outside[i] -= d * q[i];
    }
    // G v_c as the recurrence sees it: β v_{c−1} + α v_c + a small outside part, plus
    // rounding-sized components along older rows (first case), or large ones (second case).
    for (const [older, passes] of [[1e-6, 1], [0.5, 2]] as const) {
      const beta = 0.8;
      const alpha = 2.5;
      const wValues = Float32Array.from({ length }, (_, i) => beta * rows[last - 1][i] + alpha * rows[last][i] + 0.01 * outside[i] + older * rows[3][i]);
      const w = tf.tensor1d(wValues);
      const result = basis.orthogonaliseAfterRecurrence(w, tensors[last - 1], beta, tensors[last]);
      assert.equal(result.passes, passes, `older components ${older}`);
      const rest = result.vector.dataSync();
      for (const q of rows) assert.ok(Math.abs(dot(q, rest)) <= 1e-6, `older ${older}: remainder not orthogonal`);
      result.coefficients.forEach((c, i) => assert.ok(Math.abs(c - dot(rows[i], wValues)) <= 1e-5, `older ${older}, coefficient ${i}: ${c}`));
      assert.ok(Math.abs(Math.sqrt(result.squaredNorm) - 0.01 * Math.sqrt(dot(outside, outside))) <= 1e-5);
      tf.dispose([w, result.vector]);
    }
    basis.dispose();
    tf.dispose(tensors);
  });

  test('stays exact over many reset/append cycles (tensor ids churn as in the solver)', () => {
    const length = 203;
    const rows = orthonormalRows(24, length, 5);
    const tensors = rows.map((row) => tf.tensor1d(Float32Array.from(row)));
    const basis = new Basis();
    for (let cycle = 0; cycle < 30; cycle++) {
      const take = 8 + (cycle % 17);
      basis.reset(tensors.slice(0, take));
      const wValues = Float32Array.from(gaussianArray(length, 100 + cycle));
      const w = tf.tensor1d(wValues);
      const result = basis.orthogonalise(w);
      const rest = result.vector.dataSync();
      for (let i = 0; i < take; i++) {
        assert.ok(Math.abs(result.coefficients[i] - dot(rows[i], wValues)) <= 1e-5 * 15, `cycle ${cycle}, coefficient ${i}`);
        assert.ok(Math.abs(dot(rows[i], rest)) <= 1e-5, `cycle ${cycle}: remainder not orthogonal to row ${i}`);
      }
      tf.dispose([w, result.vector]);
    }
    basis.dispose();
    tf.dispose(tensors);
  });

  test('selective (ratio 2): one pass when the first leaves most of w, two when it removes most of it', () => {
    const length = 500;
    const rows = orthonormalRows(10, length, 9);
    const basis = new Basis(2);
    for (const row of rows) {
      const t = tf.tensor1d(Float32Array.from(row));
      basis.append(t);
      t.dispose();
    }
    // Mostly outside the basis: ||w|| / ||rest|| ≈ 1.
    const outside = gaussianArray(length, 1);
    // Mostly inside: 10·q_0 plus a small outside part, ||w|| / ||rest|| ≫ SECOND_PASS_RATIO.
    const inside = Float32Array.from(outside, (x, i) => 0.01 * x + 10 * rows[0][i]);
    const passes = [outside, inside].map((values) => {
      const w = tf.tensor1d(values);
      const result = basis.orthogonalise(w);
      const rest = result.vector.dataSync();
      const norm = Math.sqrt(dot(rest, rest));
      for (const q of rows) assert.ok(Math.abs(dot(q, rest)) <= 1e-6 * Math.sqrt(dot(values, values)) + 1e-4 * norm);
      tf.dispose([w, result.vector]);
      return result.passes;
    });
    assert.deepEqual(passes, [1, 2]);
    // The default always takes the second pass (the selective test cost accuracy in float32).
    assert.equal(SECOND_PASS_RATIO, 1);
    const always = new Basis();
    const t = tf.tensor1d(Float32Array.from(rows[0]));
    always.append(t);
    const w = tf.tensor1d(outside);
    const result = always.orthogonalise(w);
    assert.equal(result.passes, 2);
    tf.dispose([t, w, result.vector]);
    always.dispose();
    basis.dispose();
  });

  test('an empty basis returns a copy of w and its squared norm', () => {
    const basis = new Basis();
    const w = tf.tensor1d([3, 4]);
    const result = basis.orthogonalise(w);
    assert.deepEqual(Array.from(result.vector.dataSync()), [3, 4]);
    assert.equal(result.squaredNorm, 25);
    assert.deepEqual(result.coefficients, []);
    assert.equal(result.passes, 0);
    tf.dispose([w, result.vector]);
  });
});
