// LSTM, GRU and RNN from a real PyTorch export (scripts/fixtures/export_ops.py): one dense row per
// gate matrix whose σ is PyTorch's (gate orders mapped), and a certified cell bound at least the
// largest Jacobian norm sampled from the real network; the bound's pieces checked on small cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnxFormat } from '../../../../src/formats/onnx';
import { nodeFileAccess } from '../../../../src/host/node-files';
import { closedForm } from '../../../../src/analysis/closed-form';
import { compose } from '../../../../src/analysis/compose';
import { lstmGains, matrixNorm, nonnegativeNorm, rnnGains } from '../../../../src/analysis/recurrent';
import { largestSingularValue } from '../../../helpers/explicit-matrix';
import { referenceDenseMatrix } from '../../engine/operators/onnx-reference';
import { Matrix } from 'ml-matrix';

const DIR = join(__dirname, '..', '..', '..', 'fixtures', 'onnx', 'ops');

test('recurrent cells (real export): a row per gate matrix with PyTorch\'s σ, and a certified bound above the sampled Jacobian norm', async () => {
  const path = join(DIR, 'recurrent.onnx');
  const model = await onnxFormat.open(readFileSync(path), nodeFileAccess(path), {});
  const reference = JSON.parse(readFileSync(join(DIR, 'recurrent.json'), 'utf8')) as { gateSigmas: Record<string, number>; sampledJacobianNorm: number };
  // ONNX gate order → PyTorch's: LSTM i, o, f, c ↔ i(0), o(3), f(1), g(2); GRU z, r, h ↔ z(1), r(0), n(2).
  const lstm = { i: 0, o: 3, f: 1, c: 2 } as Record<string, number>;
  const gru = { z: 1, r: 0, h: 2 } as Record<string, number>;
  const rows = model.nodes.filter((n) => /\/[WR]_/.test(n.name));
  assert.equal(rows.length, 8 + 6 + 2 + 16);
  for (const row of rows) {
    const match = /^\/(lstm|gru|rnn|bi)\/\w+\/([WR])_(?:(forward|backward)\/)?(\w)$/.exec(row.name);
    assert.ok(match, row.name);
    const [, layer, which, direction, gate] = match;
    const index = layer === 'gru' ? gru[gate] : layer === 'rnn' ? 0 : lstm[gate];
    const key = `${layer}.weight_${which === 'W' ? 'ih' : 'hh'}_l0${direction === 'backward' ? '_reverse' : ''}/${index}`;
    assert.ok(row.spec.type === 'dense', row.name);
    const [inFeatures, outFeatures] = row.spec.weight.dims;
    const sigma = largestSingularValue(referenceDenseMatrix(inFeatures, outFeatures, row.spec.weight.data));
    assert.ok(Math.abs(sigma - reference.gateSigmas[key]) < 1e-6, `${row.name} ↔ ${key}: ${sigma} vs ${reference.gateSigmas[key]}`);
    // The load-time certified norm the cell's bound uses is at or just above it.
    const certified = matrixNorm(Float32Array.from({ length: inFeatures * outFeatures }, (_, k) => row.spec.type === 'dense' ? row.spec.weight.data[(k % inFeatures) * outFeatures + Math.floor(k / inFeatures)] : 0), outFeatures, inFeatures);
    assert.ok(certified >= sigma * (1 - 1e-12) && certified <= sigma * (1 + 1e-6), `${row.name}: certified ${certified} vs ${sigma}`);
  }
  for (const name of ['/lstm/LSTM', '/gru/GRU', '/rnn/RNN', '/bi/LSTM']) {
    const cell = model.nodes.find((n) => n.name === name);
    assert.ok(cell?.spec.type === 'fixed' && Number.isFinite(cell.spec.constant) && cell.spec.constant > 0, `${name}: ${JSON.stringify(cell?.spec)}`);
  }
  // The network bound, with the closed forms only (the gate rows are off the data path).
  const constants = model.nodes.map((n) => (n.spec.type === 'dense' ? 0 : closedForm(n)?.compositionConstant));
  const bound = compose(model, constants).network ?? NaN;
  assert.ok(Number.isFinite(bound) && bound >= reference.sampledJacobianNorm, `${bound} vs sampled ${reference.sampledJacobianNorm}`);
});

test('recurrent gains: one step of an RNN is k·‖W‖; G is the exact unrolled recursion; ‖G‖ matches the SVD of G', () => {
  const one = rnnGains({ w: 2, r: 0.5, activation: 1 }, 1);
  assert.ok(Math.abs(nonnegativeNorm(one) - 2) < 1e-11);
  const rows = rnnGains({ w: 2, r: 0.5, activation: 1 }, 4);
  // δh_t = 2δx_t + 0.5δh_{t−1}: G[t][τ] = 2·0.5^(t−τ).
  rows.forEach((row, t) => row.forEach((g, tau) => assert.equal(g, tau <= t ? 2 * 0.5 ** (t - tau) : 0)));
  const explicit = new Matrix(rows.map((r) => Array.from(r)));
  const expected = largestSingularValue(explicit);
  const got = nonnegativeNorm(rows);
  assert.ok(got >= expected * (1 - 1e-12) && got - expected < 1e-9 * expected, `${got} vs ${expected}`);
  // One LSTM step from a zero cell state: δc = (¼a_i + a_c)δx and δh = ¼a_o δx + δc.
  const { h, c } = lstmGains({ w: { i: 1, o: 2, f: 3, c: 4 }, r: { i: 0, o: 0, f: 0, c: 0 }, p: { i: 0, o: 0, f: 0 }, c0: 0 }, 1);
  assert.equal(c[0][0], 0.25 + 4);
  assert.equal(h[0][0], 0.5 + 4.25);
});
