import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  estimateSettings,
  formatInputValues,
  formatShapeEntries,
  normalizeIoChoice,
  parseInputShape,
  parseInputValues,
  parseShapeEntries,
  readSettings,
  sizeRefusal,
  unknownNames,
  validateInputShapeText,
  validateInputValuesText,
} from '../../../src/extension/settings';

test('input shapes: commas, x, brackets or arrays; anything else is refused', () => {
  assert.deepEqual(parseInputShape('1,3,224,224'), [1, 3, 224, 224]);
  assert.deepEqual(parseInputShape(' [1, 3, 32, 32] '), [1, 3, 32, 32]);
  assert.deepEqual(parseInputShape('1x28x28x1'), [1, 28, 28, 1]);
  assert.deepEqual(parseInputShape([1, 10]), [1, 10]);
  for (const bad of ['', '1,,3', '1,-3', '1,3.5', 'a,b', '0,3', [1, 0], 'null', 42, null]) assert.equal(parseInputShape(bad), undefined, String(bad));
  assert.equal(validateInputShapeText(''), undefined);
  assert.equal(validateInputShapeText('1,3,8,8'), undefined);
  assert.match(validateInputShapeText('1,3;8')!, /Two shapes without a name/);
  assert.match(validateInputShapeText('1,a')!, /"1,a" is not a shape.*positive integers/);
});

test('Set Input Shape text: one unnamed signal shape and NAME=dims entries for inputs held fixed', () => {
  assert.deepEqual(parseShapeEntries('1,1,512; state=2,1,128;h = 1x64'), { signal: [1, 1, 512], named: { state: [2, 1, 128], h: [1, 64] } });
  assert.deepEqual(parseShapeEntries('state=2,1,128'), { named: { state: [2, 1, 128] } });
  assert.deepEqual(parseShapeEntries('  '), { named: {} });
  // TF.js names keep their ":" and "/"; the name is what precedes the last "=".
  assert.deepEqual(parseShapeEntries('enc/x:0=1,4'), { named: { 'enc/x:0': [1, 4] } });
  assert.match((parseShapeEntries('=1,2') as { error: string }).error, /no input name/);
  assert.match((parseShapeEntries('state=2,0,128') as { error: string }).error, /"state=2,0,128" is not a shape/);
  assert.match((parseShapeEntries('state=1; state=2') as { error: string }).error, /"state" is given twice/);
  assert.match((parseShapeEntries('1,2; 3,4') as { error: string }).error, /name the other inputs as NAME=dims/);
  assert.equal(formatShapeEntries([1, 1, 512], { state: [2, 1, 128] }), '1,1,512; state=2,1,128');
  assert.equal(formatShapeEntries(undefined, undefined), '');
  const text = formatShapeEntries([1, 3], { a: [2], b: [1, 5] });
  assert.deepEqual(parseShapeEntries(text), { signal: [1, 3], named: { a: [2], b: [1, 5] } });
});

test('Set Input Values text: NAME=number entries, finite numbers only', () => {
  assert.deepEqual(parseInputValues('sr=16000; gain = -0.5;t=1e-3'), { values: { sr: 16000, gain: -0.5, t: 0.001 } });
  assert.deepEqual(parseInputValues(''), { values: {} });
  // An input may be called "error": the result keeps values apart from the error member.
  assert.deepEqual(parseInputValues('error=1'), { values: { error: 1 } });
  assert.equal(validateInputValuesText('error=1'), undefined);
  assert.match(validateInputValuesText('16000')!, /needs a name and a value, e\.g\. sr=16000/);
  assert.match(validateInputValuesText('sr=abc')!, /value of "sr" is not a finite number: "abc"/);
  assert.match(validateInputValuesText('sr=1e999')!, /not a finite number/);
  assert.match(validateInputValuesText('sr=')!, /not a finite number/);
  assert.match(validateInputValuesText('=3')!, /no input name/);
  assert.match(validateInputValuesText('sr=1;sr=2')!, /given twice/);
  assert.equal(formatInputValues({ sr: 16000, g: 0.5 }), 'sr=16000; g=0.5');
});

test('names not among the model\'s inputs or outputs are named with the ones that exist', () => {
  assert.equal(unknownNames(['sr'], ['input', 'sr', 'state'], 'input'), undefined);
  assert.equal(unknownNames(['x'], undefined, 'input'), undefined);
  assert.equal(unknownNames(['srr'], ['input', 'sr'], 'input'), 'The model has no input "srr" (its inputs: input, sr).');
  assert.equal(unknownNames(['a', 'b'], ['y'], 'output'), 'The model has no outputs "a", "b" (its outputs: y).');
});

test('estimate settings carry the file\'s input and output choice, without empty members', () => {
  const s = readSettings(() => undefined);
  const chosen = estimateSettings(s, [1, 512], { input: 'x', inputShapes: { state: [2, 1, 128] }, inputValues: { sr: 16000 }, outputs: ['y', 'y'] });
  assert.equal(chosen.input, 'x');
  assert.deepEqual(chosen.inputShape, [1, 512]);
  assert.deepEqual(chosen.inputShapes, { state: [2, 1, 128] });
  assert.deepEqual(chosen.inputValues, { sr: 16000 });
  assert.deepEqual(chosen.outputs, ['y']);
  assert.deepEqual(estimateSettings(s, undefined, { input: '', inputShapes: {}, inputValues: {}, outputs: [] }), estimateSettings(s, undefined));
  assert.deepEqual(normalizeIoChoice({ outputs: [] }), {});
  assert.deepEqual(normalizeIoChoice(undefined), {});
});

test('settings: defaults for missing or invalid values', () => {
  const empty = readSettings(() => undefined);
  assert.deepEqual(empty, { tolerance: 1e-4, maxIterations: 300, solver: 'lanczos', defaultInputShape: undefined, autoRunMaxBytes: 0, maxModelBytes: 2 * 1024 ** 3, threads: 0, historySize: 5, bracket: 'auto', customLayers: {}, customLayerProblems: [] });
  const values: Record<string, unknown> = { tolerance: 1e-6, maxIterations: 50, solver: 'power', defaultInputShape: '1,3,64,64', autoRunMaxBytes: 1000, maxModelBytes: 0, threads: 2, historySize: 3, bracket: 'on' };
  const set = readSettings((k) => values[k]);
  assert.deepEqual(set, { tolerance: 1e-6, maxIterations: 50, solver: 'power', defaultInputShape: [1, 3, 64, 64], autoRunMaxBytes: 1000, maxModelBytes: 0, threads: 2, historySize: 3, bracket: 'on', customLayers: {}, customLayerProblems: [] });
  assert.equal(estimateSettings(set, undefined).threads, 2);
  assert.equal('threads' in estimateSettings(empty, undefined), false);
  // The bracket reaches the worker as the CLI's --bracket does (auto by default, like the CLI).
  assert.equal(estimateSettings(empty, undefined).bracket, 'auto');
  assert.equal(estimateSettings(set, undefined).bracket, 'on');
  const bad = readSettings((k) => ({ tolerance: -1, maxIterations: 'x', solver: 'svd', threads: -3, historySize: 0, bracket: 'always' })[k]);
  assert.equal(bad.threads, 0);
  assert.equal(bad.historySize, 5, 'a history of 0 runs would leave nothing to compare');
  assert.equal(bad.tolerance, 1e-4);
  assert.equal(bad.maxIterations, 300);
  assert.equal(bad.solver, 'lanczos');
  assert.equal(bad.bracket, 'auto');
});

test('custom layers: valid declarations reach the worker, the others are ignored with a reason each', () => {
  const read = readSettings((k) => (k === 'customLayers' ? { MultiplyBeta: ' scale:beta ', PixelShuffle2x: 'depth-to-space:2', Odd: 'multiply', Wrong: 7 } : undefined));
  assert.deepEqual(read.customLayers, { MultiplyBeta: 'scale:beta', PixelShuffle2x: 'depth-to-space:2' });
  assert.equal(read.customLayerProblems.length, 2);
  assert.match(read.customLayerProblems[0], /custom layer Odd: unknown declaration "multiply"/);
  assert.match(read.customLayerProblems[1], /custom layer Wrong: the declaration must be a string/);
  assert.deepEqual(estimateSettings(read, undefined).customLayers, { MultiplyBeta: 'scale:beta', PixelShuffle2x: 'depth-to-space:2' });
  assert.equal('customLayers' in estimateSettings(readSettings(() => undefined), undefined), false, 'none declared: the cache key is unchanged');
  assert.match(readSettings((k) => (k === 'customLayers' ? ['x'] : undefined)).customLayerProblems[0], /must be an object/);
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
