import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cell, COLUMNS } from '../../../webview-ui/columns';
import { SORT_KEYS } from '../../../webview-ui/model';
import { doneState, plannedState, RESULTS } from './fixtures';

const texts = (row: Parameters<typeof cell>[0], index: number) => Object.fromEntries(COLUMNS.map((c) => [c.key, cell(row, index, c.key).text]));

test('the columns follow the brief and every one is sortable', () => {
  assert.deepEqual(
    COLUMNS.map((c) => c.label),
    ['#', 'Name', 'Op', 'Kind', 'Weight', 'Input', 'σ', 'Upper bound', 'σ folded', 'Constant', 'L ≈ so far', 'Iters', 'Converged', 'Time'],
  );
  for (const column of COLUMNS) assert.ok(SORT_KEYS.includes(column.key));
});

test('a computed row shows σ, bounds, iterations and time; the constant column stays empty', () => {
  const row = doneState().layers[3];
  assert.deepEqual(texts(row, 3), {
    index: '3',
    name: 'conv2',
    op: 'Conv',
    kind: 'linear',
    weightShape: '16×8×3×3',
    inputShape: '1×8×4×4',
    sigma: '45.68',
    upperBound: '51.2',
    foldedSigma: '',
    constant: '',
    runningBound: '146.8',
    iterations: '31',
    converged: 'yes',
    seconds: '1.53 s',
  });
  assert.match(cell(row, 3, 'sigma').title ?? '', /lanczos.*residual 1e-8/);
});

test('a row with a certified lower bound (symbol-sup, exact-dense) titles σ with its interval, not a residual', () => {
  const row = { ...doneState().layers[3], method: 'symbol-sup', sigma: 2.5, lowerBound: 2.5, upperBound: 2.50015, residual: 6e-5 };
  const title = cell(row, 3, 'sigma').title ?? '';
  assert.match(title, /method: symbol-sup, certified interval \[2\.5, 2\.5\], width 6(\.0)?e-5 of σ/);
  assert.doesNotMatch(title, /residual/);
});

test('a fixed row shows its constant, not a σ', () => {
  const row = doneState().layers[4];
  const t = texts(row, 4);
  assert.equal(t.sigma, '');
  assert.equal(t.constant, '0.25');
  assert.equal(t.iterations, '');
  assert.equal(t.converged, '');
  assert.equal(t.seconds, '0.4 ms');
});

test('a non-converged row is flagged in σ and converged', () => {
  const row = doneState().layers[6];
  assert.equal(cell(row, 6, 'sigma').className, 'warn');
  assert.equal(cell(row, 6, 'sigma').text, '0.0123');
  assert.deepEqual(cell(row, 6, 'converged'), { text: 'no', className: 'warn', title: 'stopped at the iteration cap' });
});

test('planned rows show a pending σ only where one will be computed', () => {
  const layers = plannedState().layers;
  assert.deepEqual(cell(layers[0], 0, 'sigma'), { text: '…', className: 'pending', title: 'not computed yet' });
  assert.equal(cell(layers[1], 1, 'sigma').text, '');
  assert.equal(cell(layers[0], 0, 'seconds').text, '');
  assert.equal(cell(layers[0], 0, 'runningBound').text, '');
});

test('unbounded, unsupported and invalid rows say so with the note as title', () => {
  const base = RESULTS[0].layer;
  assert.deepEqual(cell({ ...base, kind: 'unbounded', sigma: null, note: 'layer norm divides by the std' }, 0, 'constant'), {
    text: 'unbounded',
    className: 'unbounded',
    title: 'layer norm divides by the std',
  });
  assert.equal(cell({ ...base, kind: 'unsupported', sigma: null }, 0, 'constant').text, 'unsupported');
  assert.equal(cell({ ...base, sigma: NaN, note: 'NaN in weight' }, 0, 'sigma').text, 'invalid');
  assert.equal(cell({ ...base, sigma: NaN, note: 'NaN in weight' }, 0, 'sigma').title, 'NaN in weight');
  assert.equal(cell({ ...base, runningBound: Infinity }, 0, 'runningBound').text, '∞');
});

test('the folded σ, how merges combine, and batch-norm constants outside the σ column', () => {
  const conv = { ...RESULTS[0].layer, foldedSigma: 2.5, foldedUpperBound: 2.6 };
  assert.equal(cell(conv, 0, 'foldedSigma').text, '2.5');
  assert.equal(cell(RESULTS[0].layer, 0, 'foldedSigma').text, '');
  const add = { ...RESULTS[1].layer, name: 'add', op: 'Add', kind: 'merge' as const, sigma: 1.4142 };
  assert.equal(cell(add, 1, 'constant').text, 'Σ Lᵢ', 'an Add row says it sums its branches, not 1.414');
  assert.equal(cell({ ...add, op: 'Concat' }, 1, 'constant').text, '√Σ Lᵢ²');
  assert.equal(cell(add, 1, 'sigma').text, '');
  const bn = { ...RESULTS[1].layer, name: 'bn', op: 'BatchNormalization', kind: 'normalization' as const, weightShape: [8], sigma: 1.7, method: undefined };
  assert.equal(cell(bn, 1, 'sigma').text, '', 'a batch norm constant is not labelled σ');
  assert.equal(cell(bn, 1, 'constant').text, '1.7');
});
