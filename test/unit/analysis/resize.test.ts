// Resize as a linear map (analysis/resize.ts): each axis's exact norm against the SVD of its explicit
// matrix for every mode and coordinate transform, the Kronecker product rule against the explicit
// 2-D matrix, the adjoint, and the σ of every Resize in a real PyTorch export against PyTorch's own
// float64 Jacobian.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Matrix } from 'ml-matrix';
import { applyRows, applyRowsTransposed, axisNorm, interpolationRows, resizeNorm, ROUNDING, TRANSFORMS, type AxisResize, type ResizeMode } from '../../../src/analysis/resize';
import { closedForm } from '../../../src/analysis/closed-form';
import { onnxFormat } from '../../../src/formats/onnx';
import { nodeFileAccess } from '../../../src/host/node-files';
import { largestSingularValue } from '../../helpers/explicit-matrix';

function dense(axis: AxisResize): Matrix {
  const m = new Matrix(axis.outLength, axis.inLength);
  interpolationRows(axis).forEach((row, j) => row.index.forEach((i, k) => m.set(j, i, m.get(j, i) + row.weight[k])));
  return m;
}

const MODES: ResizeMode[] = ['nearest', 'linear', 'cubic'];

test('each axis: the bisection norm equals the SVD of the explicit interpolation matrix, every mode and transform', () => {
  let checked = 0;
  for (const mode of MODES) {
    for (const name of Object.keys(TRANSFORMS)) {
      for (const [inLength, outLength] of [[4, 8], [5, 13], [7, 3], [6, 6], [9, 4], [1, 5], [12, 31]]) {
        for (const excludeOutside of mode === 'cubic' ? [false, true] : [false]) {
          const axis: AxisResize = { inLength, outLength, scale: outLength / inLength, mode, transform: TRANSFORMS[name] as NonNullable<(typeof TRANSFORMS)[string]>, round: ROUNDING.round_prefer_floor, cubicCoeff: -0.75, excludeOutside };
          const expected = largestSingularValue(dense(axis));
          const got = axisNorm(interpolationRows(axis), inLength);
          assert.ok(got >= expected * (1 - 1e-12) && got - expected <= 1e-9 * expected, `${mode} ${name} ${inLength}→${outLength}: ${got} vs SVD ${expected}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 100);
});

test('two axes: σ of the resize is the product of the axes\' norms (Kronecker), matching the explicit 2-D matrix', () => {
  const axes: AxisResize[] = [
    { inLength: 3, outLength: 7, scale: 7 / 3, mode: 'cubic', transform: TRANSFORMS.half_pixel as NonNullable<(typeof TRANSFORMS)[string]>, cubicCoeff: -0.5 },
    { inLength: 5, outLength: 4, scale: 0.8, mode: 'cubic', transform: TRANSFORMS.align_corners as NonNullable<(typeof TRANSFORMS)[string]>, cubicCoeff: -0.5 },
  ];
  const [a, b] = axes.map((axis) => interpolationRows(axis));
  // Row-major [h, w]: entry (j1, j2) reads Σ a[j1][i1]·b[j2][i2]·x[i1, i2].
  const full = new Matrix(7 * 4, 3 * 5);
  a.forEach((rowA, j1) => b.forEach((rowB, j2) => rowA.index.forEach((i1, k1) => rowB.index.forEach((i2, k2) => {
    const r = j1 * 4 + j2;
    const c = i1 * 5 + i2;
    full.set(r, c, full.get(r, c) + rowA.weight[k1] * rowB.weight[k2]);
  }))));
  const expected = largestSingularValue(full);
  const { sigma } = resizeNorm(axes);
  assert.ok(Math.abs(sigma - expected) <= 1e-9 * expected, `${sigma} vs ${expected}`);
  // The adjoint: ⟨R x, y⟩ = ⟨x, Rᵀ y⟩ along an axis.
  const x = [0.3, -1.2, 2.5];
  const y = [1, -0.5, 0.25, 2, -1, 0.75, 0.1];
  const rx = applyRows(a, x);
  const rty = applyRowsTransposed(a, y, 3);
  const left = rx.reduce((s, v, i) => s + v * y[i], 0);
  const right = rty.reduce((s, v, i) => s + v * x[i], 0);
  assert.ok(Math.abs(left - right) < 1e-12);
});

test('real PyTorch export: every Resize row (bilinear, align_corners, bicubic, nearest, downsampling) has PyTorch\'s float64 σ', async () => {
  const dir = join(__dirname, '..', '..', 'fixtures', 'onnx', 'ops');
  const path = join(dir, 'resizes.onnx');
  const model = await onnxFormat.open(readFileSync(path), nodeFileAccess(path), {});
  const reference = JSON.parse(readFileSync(join(dir, 'resizes.json'), 'utf8')) as { resizes: { inputShape: number[]; sigma: number }[] };
  const rows = model.nodes.filter((n) => n.op === 'Resize');
  assert.equal(rows.length, reference.resizes.length);
  rows.forEach((row, i) => {
    assert.deepEqual(row.inputShapes[0], reference.resizes[i].inputShape, row.name);
    const sigma = closedForm(row)?.sigma ?? NaN;
    const expected = reference.resizes[i].sigma;
    assert.ok(sigma >= expected * (1 - 1e-9) && sigma - expected <= 1e-7 * expected, `${row.name}: ${sigma} vs PyTorch ${expected} (${JSON.stringify(row.spec)})`);
  });
});
