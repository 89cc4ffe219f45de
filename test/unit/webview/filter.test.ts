// The filter box's syntax (webview-ui/filter.ts) and how the table applies it (model.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, parseFilter } from '../../../webview-ui/filter';
import { filterValue, visibleRows } from '../../../webview-ui/model';
import { doneState, plannedState } from './fixtures';

const rows = (filter: string, layers = doneState().layers) => visibleRows(layers, { key: 'index', direction: 'ascending' }, filter);

test('parses words, field matches, comparisons with or without spaces, and negation', () => {
  assert.deepEqual(parseFilter('σ > 2').terms, [{ type: 'compare', field: 'sigma', op: '>', value: 2, negate: false }]);
  assert.deepEqual(parseFilter('sigma>=1.5').terms, [{ type: 'compare', field: 'sigma', op: '>=', value: 1.5, negate: false }]);
  assert.deepEqual(parseFilter('L>1e6 upper <= .5 time!=0').terms, [
    { type: 'compare', field: 'running', op: '>', value: 1e6, negate: false },
    { type: 'compare', field: 'upper', op: '<=', value: 0.5, negate: false },
    { type: 'compare', field: 'seconds', op: '!=', value: 0, negate: false },
  ]);
  assert.deepEqual(parseFilter('kind:Linear op:Conv -relu').terms, [
    { type: 'field', field: 'kind', text: 'linear', negate: false },
    { type: 'field', field: 'op', text: 'conv', negate: false },
    { type: 'text', text: 'relu', negate: true },
  ]);
  assert.deepEqual(parseFilter('conv1:0 foo:bar').terms, [
    { type: 'text', text: 'conv1:0', negate: false },
    { type: 'text', text: 'foo:bar', negate: false },
  ], 'an unknown prefix is text (names hold colons)');
  assert.deepEqual(parseFilter('-σ<1').terms, [{ type: 'compare', field: 'sigma', op: '<', value: 1, negate: true }]);
});

test('a comparison still being typed is ignored and reported, not matched as text', () => {
  const parsed = parseFilter('conv σ >');
  assert.deepEqual(parsed.terms, [{ type: 'text', text: 'conv', negate: false }]);
  assert.deepEqual(parsed.incomplete, ['σ >']);
  assert.deepEqual(parseFilter('kind:').incomplete, ['kind:']);
  assert.deepEqual(rows('conv σ >'), [0, 3]);
});

test('"=" matches the 4 significant digits the table shows', () => {
  assert.equal(compare(3.2146, '=', 3.215), true);
  assert.equal(compare(3.2146, '=', 3.22), false);
  assert.equal(compare(3.2146, '!=', 3.22), true);
  assert.equal(compare(2, '>', 2), false);
  assert.equal(compare(2, '>=', 2), true);
});

test('numeric filters select rows by σ (or a fixed row\'s constant), upper bound, running bound, time and iterations', () => {
  // Rows: conv1 σ 3.2146, relu 1, maxpool 1, conv2 σ 45.678, sigmoid 0.25, flatten 1, fc σ 0.0123, softmax 1.
  assert.deepEqual(rows('σ > 2'), [0, 3]);
  assert.deepEqual(rows('sigma>=1'), [0, 1, 2, 3, 5, 7]);
  assert.deepEqual(rows('σ < 0.5'), [4, 6], 'a fixed constant counts as the row\'s σ');
  assert.deepEqual(rows('upper > 10'), [3]);
  assert.deepEqual(rows('L > 100'), [3]);
  assert.deepEqual(rows('time > 1'), [3]);
  assert.deepEqual(rows('iters >= 300'), [6]);
  assert.deepEqual(rows('folded > 0'), [], 'no row has a folded σ');
  assert.equal(filterValue(plannedState().layers[0], 'sigma'), null, 'a planned row has no value and matches no comparison');
  assert.deepEqual(rows('σ > 0', plannedState().layers), []);
});

test('field matches, text and comparisons combine; "-" leaves rows out', () => {
  assert.deepEqual(rows('kind:linear'), [0, 3, 6]);
  assert.deepEqual(rows('kind:line'), [], 'kind matches a whole kind');
  assert.deepEqual(rows('op:Conv'), [0, 3]);
  assert.deepEqual(rows('op:pool'), [2], 'op matches part of the op (MaxPool)');
  assert.deepEqual(rows('name:conv σ > 10'), [3]);
  assert.deepEqual(rows('kind:activation -sigmoid'), [1, 7]);
  assert.deepEqual(rows('-kind:activation -kind:linear'), [2, 5]);
  assert.deepEqual(rows('conv σ>2 -σ>40'), [0]);
});
