// The Cholesky certificate (cholesky.ts) against exact σ1 from ml-matrix's float64 SVD: it must
// never claim σ1(B) ≤ t for a t below σ1, and it must prove t a fraction of a percent above σ1.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import { certifyNormAtMost } from '../../../../src/engine/bounds/cholesky';
import { firstGramProduct, type DenseBlock } from '../../../../src/engine/bounds/gram';
import { exactSigma, randomValues } from './reference';

before(async () => {
  await initBackend();
});

function block(rows: number, cols: number, complex: boolean, seed: number): DenseBlock {
  return {
    rows,
    cols,
    re: Float64Array.from(randomValues(rows * cols, seed)),
    im: complex ? Float64Array.from(randomValues(rows * cols, seed + 1)) : null,
  };
}

/** σ1 of a complex matrix is σ1 of its real embedding [[X, −Y], [Y, X]]. */
function exactNorm(b: DenseBlock): number {
  const size = b.im ? 2 : 1;
  const m = new Matrix(size * b.rows, size * b.cols);
  for (let i = 0; i < b.rows; i++) {
    for (let j = 0; j < b.cols; j++) {
      const x = b.re[i * b.cols + j];
      m.set(i, j, x);
      if (b.im) {
        const y = b.im[i * b.cols + j];
        m.set(i, b.cols + j, -y);
        m.set(b.rows + i, j, y);
        m.set(b.rows + i, b.cols + j, x);
      }
    }
  }
  return exactSigma(m);
}

/** A block with prescribed singular values (all equal: the hardest spectrum for a shift). */
function flatSpectrum(n: number, seed: number): DenseBlock {
  // Q from the SVD of a random matrix: every singular value of Q·3 is 3.
  const random = new Matrix(n, n);
  const values = randomValues(n * n, seed);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) random.set(i, j, values[i * n + j]);
  const q = new QrDecomposition(random).orthogonalMatrix;
  const re = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) re[i * n + j] = 3 * q.get(i, j);
  return { rows: n, cols: n, re, im: null };
}

describe('Cholesky certificate σ1(B) ≤ t', () => {
  const cases: [string, DenseBlock][] = [
    ['real square 96', block(96, 96, false, 11)],
    ['real tall 150x80', block(150, 80, false, 12)],
    ['real wide 70x130', block(70, 130, false, 13)],
    ['complex square 80', block(80, 80, true, 14)],
    ['complex tall 120x64', block(120, 64, true, 16)],
    ['complex wide 64x100', block(64, 100, true, 18)],
    // One panel, no tfjs trailing update (the size conv.ts also certifies).
    ['complex small 40x12', block(40, 12, true, 19)],
    ['real small 20x20', block(20, 20, false, 20)],
  ];
  for (const [name, b] of cases) {
    test(`${name}: refuses every t below σ1, proves t = σ1·(1 + 2e-3)`, () => {
      const sigma = exactNorm(b);
      const first = firstGramProduct(b, 'tfjs');
      assert.ok(first);
      for (const factor of [0.5, 0.99, 0.9999, 1 - 1e-7]) {
        assert.equal(certifyNormAtMost(first, sigma * factor), false, `certified t = σ1·${factor}`);
      }
      assert.equal(certifyNormAtMost(first, sigma * (1 + 2e-3)), true, 'did not prove σ1·1.002');
      assert.equal(certifyNormAtMost(first, sigma * 10), true, 'did not prove 10σ1');
    });
  }

  test('flat spectrum (every singular value equal): refuses just below, proves just above', () => {
    const b = flatSpectrum(72, 21);
    const sigma = exactNorm(b);
    assert.ok(Math.abs(sigma - 3) < 1e-9);
    const first = firstGramProduct(b, 'tfjs');
    assert.ok(first);
    assert.equal(certifyNormAtMost(first, sigma * (1 - 1e-6)), false);
    assert.equal(certifyNormAtMost(first, sigma * (1 + 2e-3)), true);
  });

  test('a rank-one block: refuses below σ1 even though every other eigenvalue of t²I − BᴴB is large', () => {
    const n = 64;
    const u = randomValues(n, 31);
    const v = randomValues(n, 32);
    const re = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) re[i * n + j] = u[i] * v[j];
    const b: DenseBlock = { rows: n, cols: n, re, im: null };
    const sigma = exactNorm(b);
    const first = firstGramProduct(b, 'tfjs');
    assert.ok(first);
    assert.equal(certifyNormAtMost(first, sigma * (1 - 1e-6)), false);
    assert.equal(certifyNormAtMost(first, sigma * (1 + 2e-3)), true);
  });

  test('non-finite or non-positive targets are never proven', () => {
    const first = firstGramProduct(block(64, 64, false, 41), 'tfjs');
    assert.ok(first);
    for (const t of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(certifyNormAtMost(first, t), false, String(t));
  });
});
