// The top-contributors view: each row's factor in the certified bound and its share of log L.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contributions, factorOf } from '../../../webview-ui/contributors';
import { doneState, plannedState } from './fixtures';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('factors are the certified upper bounds of σ and the fixed constants; merges and planned rows have none', () => {
  const layers = doneState().layers;
  assert.deepEqual(factorOf(layers[0]), { value: 3.5, certified: true, folded: false });
  assert.deepEqual(factorOf(layers[4]), { value: 0.25, certified: true, folded: false });
  assert.equal(factorOf(plannedState().layers[0]), null);
  assert.equal(factorOf({ ...layers[1], kind: 'merge', op: 'Add', sigma: 1.414 }), null);
  assert.deepEqual(factorOf({ ...layers[3], upperBound: null }), { value: 45.678, certified: false, folded: false }, 'no certified bound: the estimate, marked');
  // A conv with its batch norm folded in counts the folded bound; the batch norm counts nothing.
  assert.deepEqual(factorOf({ ...layers[0], foldedSigma: 2.5, foldedUpperBound: 2.7 }), { value: 2.7, certified: true, folded: true });
  assert.equal(factorOf({ ...layers[2], kind: 'normalization', op: 'BatchNormalization', sigma: 4, note: 'folded into conv1: counted there, as 1 here' }), null);
});

test('rows above 1 ranked by log10 of their factor, shares of the sum of those logs', () => {
  const c = contributions(doneState().layers);
  // Factors: conv1 3.5, conv2 51.2 (upper bounds); sigmoid 0.25 and fc 0.013 shrink; the 1s add nothing.
  assert.deepEqual(c.rows.map((r) => r.name), ['conv2', 'conv1']);
  close(c.growth, Math.log10(51.2) + Math.log10(3.5));
  close(c.shrink, Math.log10(0.25) + Math.log10(0.013));
  close(c.rows[0].share, Math.log10(51.2) / c.growth);
  close(c.rows[0].share + c.rows[1].share, 1);
  assert.equal(c.estimated, false);
  // Along this chain the certified product is 10^(growth + shrink).
  close(10 ** (c.growth + c.shrink), 3.5 * 51.2 * 0.25 * 0.013, 1e-9);
  assert.deepEqual(contributions(plannedState().layers).rows, []);
});
