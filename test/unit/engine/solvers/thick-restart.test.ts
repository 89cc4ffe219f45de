// Thick-restart Lanczos (runs whose basis budget holds fewer than THICK_RESTART_BELOW vectors)
// against float64 SVDs of explicit matrices, and its small dense eigensolver against known spectra.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { SingularValueDecomposition } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import { CancelledError } from '../../../../src/engine/operator';
import { estimateSpectralNorm } from '../../../../src/engine/solvers';
import { symmetricEigensystem } from '../../../../src/engine/solvers/symmetric-eigen';
import { THICK_RESTART_BELOW } from '../../../../src/engine/solvers/thick-restart';
import { countingOperator, matrixOperator, matrixWithSingularValues, randomOrthonormalColumns, roundToFloat32, singularValues } from '../../../helpers/matrix-operator';

describe('symmetricEigensystem', () => {
  test('recovers a prescribed spectrum, largest first, with orthonormal eigenvectors', () => {
    const n = 12;
    const spectrum = [5, 3, 3 - 1e-9, 2, 1, 0.5, 0, -0.25, -1, -2, -4, -7];
    const q = randomOrthonormalColumns(n, n, 9);
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) matrix[i * n + j] += q.get(i, k) * spectrum[k] * q.get(j, k);
    const { values, vectors } = symmetricEigensystem(matrix, n);
    assert.deepEqual(Array.from(values).map((v) => Number(v.toFixed(8))), [...spectrum].sort((a, b) => b - a).map((v) => Number(v.toFixed(8))));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let r = 0; r < n; r++) dot += vectors[r * n + i] * vectors[r * n + j];
        assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12, `vᵢᵀvⱼ = ${dot} for ${i}, ${j}`);
      }
      let residual = 0;
      for (let r = 0; r < n; r++) {
        let mv = 0;
        for (let c = 0; c < n; c++) mv += matrix[r * n + c] * vectors[c * n + i];
        residual = Math.max(residual, Math.abs(mv - values[i] * vectors[r * n + i]));
      }
      assert.ok(residual < 1e-12, `residual ${residual} for eigenvalue ${values[i]}`);
    }
  });

  test('a 1 × 1 and a zero matrix', () => {
    assert.deepEqual(Array.from(symmetricEigensystem(Float64Array.of(-3), 1).values), [-3]);
    assert.deepEqual(Array.from(symmetricEigensystem(new Float64Array(9), 3).values), [0, 0, 0]);
  });
});

describe('thick-restart Lanczos on explicit matrices', () => {
  before(async () => {
    await initBackend();
  });

  // The top of a conv layer's spectrum at a large size: a dense cluster, σ_i ≈ σ1(1 − c·i²).
  const clustered = () => {
    const spectrum = Array.from({ length: 300 }, (_, i) => 1 - 2e-4 * i * i ** 0.5);
    const matrix = roundToFloat32(matrixWithSingularValues(500, 400, spectrum.filter((s) => s > 0.05), 11));
    return { matrix, truth: singularValues(matrix)[0] };
  };

  test(`keeping 10 vectors (< ${THICK_RESTART_BELOW}) reaches σ1 to 1e-6 at tol 1e-5, in at most 2.5 times the pairs of a run that keeps every vector`, () => {
    const { matrix, truth } = clustered();
    const op = matrixOperator(matrix);
    try {
      // Measured: 149 pairs keeping every vector, 348 thick-restarting with 10, and 961 when the
      // same 10-vector run restarted from its single Ritz vector (lanczos.ts's path for ≥ 48).
      const full = estimateSpectralNorm(op, { method: 'lanczos', tol: 1e-5, maxIter: 2000, seed: 2, maxBasis: 400 });
      const thick = estimateSpectralNorm(op, { method: 'lanczos', tol: 1e-5, maxIter: 2000, seed: 2, maxBasis: 10 });
      for (const result of [full, thick]) {
        assert.ok(result.converged, `residual ${result.residual}`);
        assert.ok(Math.abs(result.sigma - truth) / truth <= 1e-6, `σ ${result.sigma} vs ${truth}`);
      }
      assert.ok(thick.iterations > 10, 'the cap must have forced restarts');
      assert.ok(thick.iterations <= 2.5 * full.iterations, `thick restart ${thick.iterations} pairs, unrestarted ${full.iterations}`);
    } finally {
      op.dispose();
    }
  });

  test('a start vector near the top singular vector is used (fewer pairs than a Gaussian start)', () => {
    const spectrum = Array.from({ length: 200 }, (_, i) => 1 - 1e-3 * i);
    const matrix = roundToFloat32(matrixWithSingularValues(300, 250, spectrum, 12));
    const op = matrixOperator(matrix);
    try {
      // The top right singular vector (the input side, 250 ≤ 300) from the float64 SVD.
      const truth = singularValues(matrix)[0];
      const svd = new SingularValueDecomposition(matrix);
      const top = Float32Array.from(svd.rightSingularVectors.getColumn(0));
      const cold = estimateSpectralNorm(op, { method: 'lanczos', tol: 1e-5, maxIter: 2000, seed: 3, maxBasis: 8 });
      const warm = estimateSpectralNorm(op, { method: 'lanczos', tol: 1e-5, maxIter: 2000, seed: 3, maxBasis: 8, start: top });
      assert.ok(Math.abs(warm.sigma - truth) / truth <= 1e-5 && warm.converged);
      assert.ok(warm.iterations < cold.iterations, `warm ${warm.iterations} vs cold ${cold.iterations}`);
    } finally {
      op.dispose();
    }
  });

  test('a matrix of rank 3: the space is exhausted after 3 pairs and σ1 is exact', () => {
    const matrix = roundToFloat32(matrixWithSingularValues(200, 150, [2, 1.5, 1], 13));
    const op = matrixOperator(matrix);
    try {
      const result = estimateSpectralNorm(op, { method: 'lanczos', tol: 1e-6, maxIter: 100, seed: 1, maxBasis: 5 });
      assert.ok(result.converged);
      assert.ok(Math.abs(result.sigma - 2) <= 2e-6, `σ ${result.sigma}`);
      assert.ok(result.iterations <= 5, `${result.iterations} pairs`);
    } finally {
      op.dispose();
    }
  });

  test('cancellation throws at once and frees every tensor; a finished run frees every tensor too', () => {
    const { matrix } = clustered();
    const { op, counts } = countingOperator(matrixOperator(matrix));
    const before = tf.memory().numTensors;
    assert.throws(
      () => estimateSpectralNorm(op, { method: 'lanczos', tol: 1e-9, maxIter: 1000, seed: 1, maxBasis: 6, shouldStop: () => counts.forward + counts.adjoint >= 25 }),
      CancelledError,
    );
    assert.equal(counts.forward + counts.adjoint, 25);
    assert.equal(tf.memory().numTensors, before);
    const bytes: number[] = [];
    const result = estimateSpectralNorm(op, { method: 'lanczos', tol: 1e-12, maxIter: 80, seed: 1, maxBasis: 6, onIteration: () => bytes.push(tf.memory().numBytes) });
    assert.equal(result.iterations, 80);
    assert.equal(bytes.length, 80);
    assert.equal(tf.memory().numTensors, before);
    // At most 6 kept vectors, 2 Ritz vectors while a restart forms them, and a few in flight.
    assert.ok(Math.max(...bytes) - Math.min(...bytes) <= 14 * (500 + 400) * 4, `bytes ${Math.min(...bytes)}..${Math.max(...bytes)}`);
    op.dispose();
  });
});
