import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateSettings, parseInputShape, readSettings, sizeRefusal, validateInputShapeText } from '../../../src/extension/settings';

test('input shapes: commas, x, brackets or arrays; anything else is refused', () => {
  assert.deepEqual(parseInputShape('1,3,224,224'), [1, 3, 224, 224]);
  assert.deepEqual(parseInputShape(' [1, 3, 32, 32] '), [1, 3, 32, 32]);
  assert.deepEqual(parseInputShape('1x28x28x1'), [1, 28, 28, 1]);
  assert.deepEqual(parseInputShape([1, 10]), [1, 10]);
  for (const bad of ['', '1,,3', '1,-3', '1,3.5', 'a,b', '0,3', [1, 0], 'null', 42, null]) assert.equal(parseInputShape(bad), undefined, String(bad));
  assert.equal(validateInputShapeText(''), undefined);
  assert.equal(validateInputShapeText('1,3,8,8'), undefined);
  assert.match(validateInputShapeText('1;3')!, /positive integers/);
});

test('settings: defaults for missing or invalid values', () => {
  const empty = readSettings(() => undefined);
  assert.deepEqual(empty, { tolerance: 1e-4, maxIterations: 300, solver: 'lanczos', defaultInputShape: undefined, autoRunMaxBytes: 0, maxModelBytes: 2 * 1024 ** 3, threads: 0 });
  const values: Record<string, unknown> = { tolerance: 1e-6, maxIterations: 50, solver: 'power', defaultInputShape: '1,3,64,64', autoRunMaxBytes: 1000, maxModelBytes: 0, threads: 2 };
  const set = readSettings((k) => values[k]);
  assert.deepEqual(set, { tolerance: 1e-6, maxIterations: 50, solver: 'power', defaultInputShape: [1, 3, 64, 64], autoRunMaxBytes: 1000, maxModelBytes: 0, threads: 2 });
  assert.equal(estimateSettings(set, undefined).threads, 2);
  assert.equal('threads' in estimateSettings(empty, undefined), false);
  const bad = readSettings((k) => ({ tolerance: -1, maxIterations: 'x', solver: 'svd', threads: -3 })[k]);
  assert.equal(bad.threads, 0);
  assert.equal(bad.tolerance, 1e-4);
  assert.equal(bad.maxIterations, 300);
  assert.equal(bad.solver, 'lanczos');
});

test('estimate settings: the file\'s input shape wins over the default', () => {
  const s = readSettings((k) => ({ defaultInputShape: '1,3,8,8' })[k]);
  assert.deepEqual(estimateSettings(s, undefined).inputShape, [1, 3, 8, 8]);
  assert.deepEqual(estimateSettings(s, [1, 3, 16, 16]).inputShape, [1, 3, 16, 16]);
  assert.equal('inputShape' in estimateSettings(readSettings(() => undefined), undefined), false);
});

test('size limit: refuse with a one-line message naming the file and the setting', () => {
  assert.equal(sizeRefusal('a.onnx', 100, 1000), undefined);
  assert.equal(sizeRefusal('a.onnx', 10 ** 12, 0), undefined);
  assert.equal(sizeRefusal('big.onnx', 3 * 1024 ** 3, 2 * 1024 ** 3), 'big.onnx is 3072 MB with its weights, over the limit of 2048 MB (setting lipschitzLens.maxModelBytes).');
});
