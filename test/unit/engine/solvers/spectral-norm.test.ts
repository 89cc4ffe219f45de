// Both solvers against exact σ1 from a float64 SVD of the same (float32-rounded) matrix.
// Float32 floor: products and norms run in float32, so the measured residual bottoms out near
// 1e-7 to 1e-6 and σ is good to a few 1e-7 relative; hence tol 1e-6 is asked to give 1e-5.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Matrix } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import { CancelledError, type SolverResult } from '../../../../src/engine/operator';
import { estimateSpectralNorm, type SpectralMethod, type SpectralSolverOptions } from '../../../../src/engine/solvers';
import {
  countingOperator,
  gaussianMatrix,
  matrixOperator,
  matrixWithSingularValues,
  roundToFloat32,
  singularValues,
} from '../../../helpers/matrix-operator';

const methods: SpectralMethod[] = ['lanczos', 'power'];

interface Case {
  name: string;
  matrix: Matrix;
  spectrum: number[];
}

function makeCase(name: string, matrix: Matrix): Case {
  const rounded = roundToFloat32(matrix);
  return { name, matrix: rounded, spectrum: singularValues(rounded) };
}

function solve(matrix: Matrix, options: SpectralSolverOptions): SolverResult {
  const op = matrixOperator(matrix);
  try {
    return estimateSpectralNorm(op, options);
  } finally {
    op.dispose();
  }
}

const relativeError = (sigma: number, truth: number) => Math.abs(sigma - truth) / truth;

/** The stop rule's guarantee: some singular value lies within residual·σ of σ. */
function assertWithinResidualOfSomeSingularValue(result: SolverResult, spectrum: number[]): void {
  const nearest = Math.min(...spectrum.map((s) => Math.abs(s - result.sigma)));
  // 1e-6·σ of slack for float32 rounding in the measured residual itself.
  assert.ok(nearest <= (result.residual + 1e-6) * result.sigma, `nearest singular value ${nearest} away, residual ${result.residual}`);
}

describe('estimateSpectralNorm on explicit matrices', () => {
  let cases: Case[] = [];
  before(async () => {
    await initBackend();
    const decaying = Array.from({ length: 60 }, (_, i) => 3 * 0.9 ** i);
    cases = [
      makeCase('Gaussian 80x60', gaussianMatrix(80, 60, 1)),
      makeCase('tall Gaussian 200x40', gaussianMatrix(200, 40, 2)),
      makeCase('wide Gaussian 30x200', gaussianMatrix(30, 200, 3)),
      makeCase('square Gaussian 200x200', gaussianMatrix(200, 200, 21)),
      makeCase('prescribed decaying spectrum 120x100', matrixWithSingularValues(120, 100, decaying, 4)),
    ];
  });

  for (const method of methods) {
    test(`${method}: tol 1e-6 gives relative error ≤ 1e-5, and the residual bounds the distance to the spectrum`, () => {
      for (const { name, matrix, spectrum } of cases) {
        const result = solve(matrix, { method, tol: 1e-6, maxIter: 5000, seed: 1 });
        assert.equal(result.method, method);
        assert.ok(result.converged, `${name}: not converged (residual ${result.residual})`);
        assert.ok(result.residual <= 1e-6, `${name}: residual ${result.residual}`);
        assert.ok(relativeError(result.sigma, spectrum[0]) <= 1e-5, `${name}: σ ${result.sigma} vs ${spectrum[0]}`);
        assertWithinResidualOfSomeSingularValue(result, spectrum);
      }
    });

    test(`${method}: tol 1e-4 gives a TRUE relative error ≤ 1e-4`, () => {
      for (const { name, matrix, spectrum } of cases) {
        const result = solve(matrix, { method, tol: 1e-4, maxIter: 5000, seed: 2 });
        assert.ok(result.converged, name);
        assert.ok(relativeError(result.sigma, spectrum[0]) <= 1e-4, `${name}: error ${relativeError(result.sigma, spectrum[0])}`);
      }
    });
  }

  test('lanczos: the plain recurrence (no reorthogonalisation) reaches float32 accuracy, and needs no more pairs when it keeps every vector than when it restarts every 8', () => {
    for (const { name, matrix, spectrum } of cases) {
      const kept = solve(matrix, { method: 'lanczos', tol: 1e-6, maxIter: 5000, seed: 4 });
      const restarted = solve(matrix, { method: 'lanczos', tol: 1e-6, maxIter: 5000, seed: 4, maxBasis: 8 });
      for (const result of [kept, restarted]) {
        assert.ok(result.converged, name);
        assert.ok(relativeError(result.sigma, spectrum[0]) <= 1e-5, `${name}: σ ${result.sigma} vs ${spectrum[0]}`);
      }
      assert.ok(kept.iterations <= restarted.iterations, `${name}: ${kept.iterations} vs ${restarted.iterations} pairs`);
    }
  });

  test('a relative-change stop at 1e-4 would have left more than 1e-4 where the residual stop does not', () => {
    const { matrix, spectrum } = cases.find((c) => c.name.startsWith('square'))!;
    const sigmas: number[] = [];
    const result = solve(matrix, { method: 'power', tol: 1e-4, maxIter: 5000, seed: 3, onIteration: ({ sigma }) => sigmas.push(sigma) });
    const changeStop = sigmas.findIndex((s, i) => i > 0 && Math.abs(s - sigmas[i - 1]) / s < 1e-4);
    assert.ok(changeStop > 0);
    assert.ok(relativeError(sigmas[changeStop], spectrum[0]) > 1e-3, `relative-change stop error ${relativeError(sigmas[changeStop], spectrum[0])}`);
    assert.ok(relativeError(result.sigma, spectrum[0]) <= 1e-4);
    assert.ok(result.iterations > changeStop + 1);
  });

  describe('near-degenerate top: σ1 = 1, σ2 = 1 − 1e-3', () => {
    let near: Case;
    before(() => {
      const rest = Array.from({ length: 150 }, (_, i) => 0.9 * (1 - i / 150));
      near = makeCase('near-degenerate 300x200', matrixWithSingularValues(300, 200, [1, 1 - 1e-3, ...rest], 5));
    });

    test('both methods reach 1e-5 at tol 1e-6, Lanczos with at least 20x fewer products', () => {
      const results = methods.map((method) => solve(near.matrix, { method, tol: 1e-6, maxIter: 20_000, seed: 1 }));
      for (const result of results) {
        assert.ok(result.converged, result.method);
        assert.ok(relativeError(result.sigma, near.spectrum[0]) <= 1e-5, `${result.method}: σ ${result.sigma}`);
      }
      const [lanczos, power] = results;
      assert.ok(power.iterations >= 20 * lanczos.iterations, `power ${power.iterations} vs lanczos ${lanczos.iterations} product pairs`);
    });

    test('at tol 1e-4, the guarantee is distance to SOME singular value (the top of a cluster is not certified)', () => {
      for (const method of methods) {
        for (const seed of [1, 2, 3, 4, 5]) {
          const result = solve(near.matrix, { method, tol: 1e-4, maxIter: 20_000, seed });
          assert.ok(result.converged);
          assertWithinResidualOfSomeSingularValue(result, near.spectrum);
          // Never above σ1: both estimates come from below.
          assert.ok(result.sigma <= near.spectrum[0] * (1 + 1e-6));
        }
      }
    });

    test('Lanczos keeping at most 6 vectors (thick restarts, thick-restart.ts) still converges', () => {
      const result = solve(near.matrix, { method: 'lanczos', tol: 1e-6, maxIter: 5000, seed: 1, maxBasis: 6 });
      assert.ok(result.converged, `residual ${result.residual}`);
      assert.ok(relativeError(result.sigma, near.spectrum[0]) <= 1e-5, `σ ${result.sigma}`);
      assert.ok(result.iterations > 6, 'the cap must have forced restarts');
    });
  });

  test('a rank-1 matrix: Lanczos breaks down at once and is exact; power converges in one step', () => {
    const rankOne = makeCase('rank 1', matrixWithSingularValues(50, 40, [2.5], 6));
    for (const method of methods) {
      const result = solve(rankOne.matrix, { method, tol: 1e-6, maxIter: 100, seed: 1 });
      assert.ok(result.converged, method);
      assert.ok(result.iterations <= 3, `${method}: ${result.iterations} pairs`);
      assert.ok(relativeError(result.sigma, rankOne.spectrum[0]) <= 1e-6, `${method}: σ ${result.sigma}`);
    }
  });

  test('a matrix with fewer columns than Lanczos steps needed: the exhausted space is exact', () => {
    const narrow = makeCase('200x3', gaussianMatrix(200, 3, 8));
    const result = solve(narrow.matrix, { method: 'lanczos', tol: 1e-6, maxIter: 100, seed: 1 });
    // Three steps span the whole input space; the fourth pair measures the Ritz vector's residual.
    assert.equal(result.iterations, 4);
    assert.ok(result.converged, `residual ${result.residual}`);
    assert.ok(relativeError(result.sigma, narrow.spectrum[0]) <= 1e-6);
  });

  test('the zero matrix has σ = 0', () => {
    for (const method of methods) {
      const result = solve(gaussianMatrix(5, 4, 1).mul(0), { method, tol: 1e-6, maxIter: 10, seed: 1 });
      assert.equal(result.sigma, 0, method);
      assert.ok(result.converged);
    }
  });

  test('same seed gives bit-identical σ and iterations; another seed gives another run', () => {
    const { matrix } = cases[0];
    for (const method of methods) {
      const first = solve(matrix, { method, tol: 1e-6, maxIter: 5000, seed: 9 });
      const second = solve(matrix, { method, tol: 1e-6, maxIter: 5000, seed: 9 });
      const other = solve(matrix, { method, tol: 1e-6, maxIter: 5000, seed: 10 });
      assert.deepEqual(second, first);
      assert.notEqual(other.sigma, first.sigma, method);
    }
  });

  test('maxIter caps the products and reports converged = false', () => {
    const { matrix } = cases[3];
    for (const method of methods) {
      const { op, counts } = countingOperator(matrixOperator(matrix));
      const result = estimateSpectralNorm(op, { method, tol: 1e-6, maxIter: 4, seed: 1 });
      op.dispose();
      assert.equal(result.iterations, 4);
      assert.equal(result.converged, false);
      assert.equal(counts.forward, 4);
      assert.ok(result.residual > 1e-6);
    }
  });

  test('bad options are rejected', () => {
    const { matrix } = cases[0];
    assert.throws(() => solve(matrix, { method: 'power', tol: 0, maxIter: 10, seed: 1 }), RangeError);
    assert.throws(() => solve(matrix, { method: 'lanczos', tol: 1e-4, maxIter: 0, seed: 1 }), RangeError);
    assert.throws(() => solve(matrix, { method: 'lanczos', tol: 1e-4, maxIter: 10, seed: Number.NaN }), RangeError);
  });
});

describe('lifecycle: cancellation and memory', () => {
  let matrix: Matrix;
  before(async () => {
    await initBackend();
    matrix = roundToFloat32(matrixWithSingularValues(300, 200, [1, 1 - 1e-3, ...Array.from({ length: 150 }, (_, i) => 0.9 * (1 - i / 150))], 5));
  });

  for (const method of methods) {
    test(`${method}: shouldStop true after 3 products throws CancelledError at once and frees every tensor`, () => {
      const { op, counts } = countingOperator(matrixOperator(matrix));
      const before = tf.memory().numTensors;
      const products = () => counts.forward + counts.adjoint;
      assert.throws(
        () => estimateSpectralNorm(op, { method, tol: 1e-9, maxIter: 1000, seed: 1, shouldStop: () => products() >= 3 }),
        CancelledError,
      );
      assert.equal(products(), 3);
      assert.equal(tf.memory().numTensors, before);
      op.dispose();
    });

    test(`${method}: memory stays flat over many iterations and every tensor is freed at the end`, () => {
      const op = matrixOperator(matrix);
      const before = tf.memory().numTensors;
      const counts: number[] = [];
      const bytes: number[] = [];
      const maxBasis = 20;
      const result = estimateSpectralNorm(op, {
        method,
        tol: 1e-12,
        maxIter: 120,
        seed: 1,
        maxBasis,
        onIteration: () => {
          counts.push(tf.memory().numTensors);
          bytes.push(tf.memory().numBytes);
        },
      });
      assert.equal(result.iterations, counts.length);
      assert.ok(counts.length >= 100, `only ${counts.length} iterations ran`);
      // Lanczos restarts every ≈20 pairs here, so the second half repeats the first half's cycle:
      // nothing may accumulate from one cycle to the next.
      const half = Math.floor(counts.length / 2);
      const peak = (values: number[]) => Math.max(...values);
      assert.ok(peak(counts.slice(half)) <= peak(counts.slice(0, half)), `tensor counts ${counts.join(',')}`);
      assert.ok(peak(bytes.slice(half)) <= peak(bytes.slice(0, half)), `bytes ${bytes.join(',')}`);
      // At most maxBasis kept vectors (+1 next, +1 Ritz vector during a check), plus a few in flight.
      const vectorBytes = (300 + 200) * 4;
      assert.ok(peak(bytes) - Math.min(...bytes) <= (2 * maxBasis + 8) * vectorBytes, `bytes ${Math.min(...bytes)}..${peak(bytes)}`);
      if (method === 'power') assert.equal(Math.min(...counts), peak(counts));
      assert.equal(tf.memory().numTensors, before);
      op.dispose();
    });
  }
});
