// A real PyTorch export (scripts/fixtures/export_ops.py, opset 13) with LayerNorm written out op by
// op, two Einsums with a constant matrix and a constant matrix times the data: the layer norm is
// reported as one (1/√ε on its Div row, its other rows counted there), and the three matrix maps are dense rows whose σ,
// computed from the loaded weight, is PyTorch's float64 Jacobian norm.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnxFormat } from '../../../../src/formats/onnx';
import { nodeFileAccess } from '../../../../src/host/node-files';
import type { IrNode } from '../../../../src/model/ir';
import { largestSingularValue } from '../../../helpers/explicit-matrix';
import { referenceDenseMatrix } from '../../engine/operators/onnx-reference';

const DIR = join(__dirname, '..', '..', '..', 'fixtures', 'onnx', 'ops');

test('layer norm written out is reported as a layer norm with 1/√ε; Einsum and constant·data MatMul are dense rows with the exact σ', async () => {
  const path = join(DIR, 'norm_and_products.onnx');
  const model = await onnxFormat.open(readFileSync(path), nodeFileAccess(path), {});
  const reference = JSON.parse(readFileSync(join(DIR, 'norm_and_products.json'), 'utf8')) as { matrixMaps: Record<string, number> };
  const byName = (name: string): IrNode => model.nodes.find((n) => n.name === name) ?? assert.fail(`no row ${name}`);

  // The Div row is the whole normalisation x ↦ (x − μ)/√(σ² + ε): it reads x, constant 1/√ε (γ is the next row).
  const divide = byName('/norm/Div');
  assert.ok(divide.spec.type === 'fixed', JSON.stringify(divide.spec));
  assert.ok(Math.abs(divide.spec.constant - 1 / Math.sqrt(Math.fround(1e-5))) < 1e-6 * divide.spec.constant);
  assert.match(divide.spec.detail ?? '', /^layer norm written out \(x − mean, mean of squares, \+ ε, √, divide\) over 6 entries: ≤ 1\/√ε = 316\.2, ε = 1e-5/);
  assert.deepEqual(divide.inputs, byName('/norm/Sub').inputs.slice(0, 1));
  for (const name of ['/norm/Pow', '/norm/Sqrt']) {
    const row = byName(name);
    assert.ok(row.spec.type === 'fixed' && row.spec.constant === 0 && row.spec.detail === 'part of the layer norm written out at Div "/norm/Div", counted there', `${name}: ${JSON.stringify(row.spec)}`);
  }
  const sub = byName('/norm/Sub');
  assert.ok(sub.spec.type === 'add' && sub.spec.weights?.[1] === Math.sqrt(6), JSON.stringify(sub.spec));

  const cases: [string, string, number[], number | undefined][] = [['/Einsum', 'w', [1, 5, 7], undefined], ['/MatMul', 'a', [1, 4, 7], 1], ['/Einsum_1', 'c', [1, 3, 7, 1], 1]];
  for (const [name, matrix, outShape, axis] of cases) {
    const row = byName(name);
    assert.ok(row.spec.type === 'dense', `${name}: ${row.spec.type}`);
    assert.equal(row.spec.axis, axis, name);
    assert.deepEqual(row.outputShapes[0], outShape, name);
    const [inFeatures, outFeatures] = row.spec.weight.dims;
    assert.equal(row.inputShapes[0][row.spec.axis ?? row.inputShapes[0].length - 1], inFeatures, name);
    const sigma = largestSingularValue(referenceDenseMatrix(inFeatures, outFeatures, row.spec.weight.data));
    assert.ok(Math.abs(sigma - reference.matrixMaps[matrix]) < 1e-6 * reference.matrixMaps[matrix], `${name}: ${sigma} vs ${reference.matrixMaps[matrix]}`);
  }
});
