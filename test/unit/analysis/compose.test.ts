import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compose } from '../../../src/analysis/compose';
import { fixed, irModel, irNode } from '../../helpers/ir-builder';

test('a chain multiplies its constants', () => {
  const model = irModel([irNode('a', fixed(2), ['x']), irNode('b', fixed(3), ['a']), irNode('c', fixed(0.5), ['b'])], ['c']);
  const { running, network } = compose(model, [2, 3, 0.5]);
  assert.deepEqual(running, [2, 6, 3]);
  assert.equal(network, 3);
});

test('a residual block adds its branches: L = L_in·(1 + c1·c2)', () => {
  // x → conv1 (2) → relu (1) → conv2 (3) ─┐
  //  └──────────────────────────────────── add → relu
  const model = irModel(
    [
      irNode('stem', fixed(4), ['x']),
      irNode('conv1', fixed(2), ['stem']),
      irNode('relu1', fixed(1), ['conv1']),
      irNode('conv2', fixed(3), ['relu1']),
      irNode('add', { type: 'add' }, ['conv2', 'stem']),
      irNode('relu2', fixed(1), ['add']),
    ],
    ['relu2'],
  );
  const { running, network } = compose(model, [4, 2, 1, 3, 1, 1]);
  // stem 4; branch 4·2·1·3 = 24; add 24 + 4 = 28.
  assert.deepEqual(running, [4, 8, 8, 24, 28, 28]);
  assert.equal(network, 28);
});

test('a concat combines its inputs as the root of the sum of squares', () => {
  const model = irModel(
    [irNode('left', fixed(3), ['x']), irNode('right', fixed(4), ['x']), irNode('cat', { type: 'concat', axis: 1 }, ['left', 'right']), irNode('head', fixed(2), ['cat'])],
    ['head'],
  );
  const { running, network } = compose(model, [3, 4, 1, 2]);
  assert.equal(running[2], 5);
  assert.equal(network, 10);
});

test('an unsupported op poisons only what flows through it', () => {
  const model = irModel(
    [irNode('a', fixed(2), ['x']), irNode('mystery', { type: 'unsupported' }, ['x']), irNode('b', fixed(3), ['mystery']), irNode('side', fixed(5), ['a'])],
    ['side', 'b'],
  );
  const { running, network } = compose(model, [2, NaN, 3, 5]);
  assert.equal(running[0], 2);
  assert.ok(Number.isNaN(running[1]!));
  assert.ok(Number.isNaN(running[2]!));
  assert.equal(running[3], 10);
  assert.ok(Number.isNaN(network!));
});

test('an unbounded op makes the network unbounded', () => {
  const model = irModel([irNode('a', fixed(2), ['x']), irNode('attn', { type: 'unbounded', reason: 'x·y' }, ['a', 'a']), irNode('b', fixed(3), ['attn'])], ['b']);
  const { network } = compose(model, [2, Infinity, 3]);
  assert.equal(network, Infinity);
});

test('results not computed yet leave their downstream unknown, so partial bounds can stream', () => {
  const model = irModel([irNode('a', fixed(2), ['x']), irNode('b', fixed(3), ['a']), irNode('c', fixed(5), ['x'])], ['b', 'c']);
  const { running, network } = compose(model, [undefined, 3, 5]);
  assert.deepEqual(running, [undefined, undefined, 5]);
  assert.equal(network, undefined);
});

test('several outputs are bounded jointly', () => {
  const model = irModel([irNode('a', fixed(3), ['x']), irNode('b', fixed(4), ['x'])], ['a', 'b']);
  assert.equal(compose(model, [3, 4]).network, 5);
});

test('constant operands (values no node produces) carry no signal', () => {
  const model = irModel([irNode('shift', { type: 'add' }, ['x', 'some_constant'])], ['shift']);
  assert.equal(compose(model, [1]).network, 1);
});
