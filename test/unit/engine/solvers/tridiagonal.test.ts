// The top eigenpair of a symmetric tridiagonal matrix (the Lanczos matrix T_k) against ml-matrix's
// dense eigendecomposition: random, clustered, duplicated ("ghost") and split cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { topEigenpair } from '../../../../src/engine/solvers/tridiagonal';
import { createGaussianRandom } from '../../../../src/engine/solvers/random';

function dense(alpha: number[], beta: number[]): Matrix {
  const m = Matrix.zeros(alpha.length, alpha.length);
  alpha.forEach((a, i) => m.set(i, i, a));
  beta.slice(0, alpha.length - 1).forEach((b, i) => {
    m.set(i, i + 1, b);
    m.set(i + 1, i, b);
  });
  return m;
}

function check(alpha: number[], beta: number[], what: string): void {
  const { value, vector } = topEigenpair(alpha, beta);
  const matrix = dense(alpha, beta);
  const exact = Math.max(...new EigenvalueDecomposition(matrix, { assumeSymmetric: true }).realEigenvalues);
  const scale = Math.max(1, Math.abs(exact));
  assert.ok(Math.abs(value - exact) <= 1e-13 * scale, `${what}: ${value} vs ${exact}`);
  // A unit vector with a small residual ||T x − θ x||: the Lanczos residual estimate reads its last entry.
  let norm = 0;
  for (const x of vector) norm += x * x;
  assert.ok(Math.abs(norm - 1) <= 1e-12, `${what}: ||x||² = ${norm}`);
  const product = matrix.mmul(Matrix.columnVector(Array.from(vector)));
  let residual = 0;
  for (let i = 0; i < alpha.length; i++) residual += (product.get(i, 0) - value * vector[i]) ** 2;
  assert.ok(Math.sqrt(residual) <= 1e-9 * scale, `${what}: residual ${Math.sqrt(residual)}`);
}

test('random tridiagonals of sizes 1 to 300 (the Lanczos matrix, positive β)', () => {
  const next = createGaussianRandom(7);
  for (const size of [1, 2, 3, 5, 17, 80, 300]) {
    const alpha = Array.from({ length: size }, () => 2 + next());
    const beta = Array.from({ length: size - 1 }, () => Math.abs(next()));
    check(alpha, beta, `size ${size}`);
  }
});

test('a converged top and its duplicate (a Lanczos ghost), and a cluster 1e-9 apart', () => {
  // β ≈ 0 splits T into blocks with the same top value.
  check([1, 5, 1, 0.5, 5, 1], [0.3, 1e-14, 0.2, 1e-14, 0.3], 'ghost');
  check([4, 4 + 1e-9, 1, 2], [1e-7, 0.1, 0.3], 'cluster');
});

test('zero off-diagonal: the largest diagonal entry, its unit vector', () => {
  const { value, vector } = topEigenpair([0.5, 3, -1], [0, 0]);
  assert.equal(value, 3);
  assert.ok(Math.abs(Math.abs(vector[1]) - 1) <= 1e-12);
  assert.ok(Math.abs(vector[0]) <= 1e-9 && Math.abs(vector[2]) <= 1e-9);
});

test('negative and tiny spectra are handled at their own scale', () => {
  check([-3, -2, -5], [0.5, 0.25], 'negative');
  check([1e-8, 2e-8, 1.5e-8], [1e-9, 3e-9], 'tiny');
});

test('a T with too few off-diagonal entries, or none at all, is refused', () => {
  assert.throws(() => topEigenpair([], []), RangeError);
  assert.throws(() => topEigenpair([1, 2, 3], [1]), RangeError);
});
