// The CLI options for several inputs and a chosen output: parsed into EstimateSettings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, parseArgs } from '../../../src/cli/args';
import { openOptions } from '../../../src/host/session';

function settingsOf(argv: string[]) {
  const parsed = parseArgs(argv);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.options.settings;
}

test('--input, named and unnamed --input-shape, --input-value and repeated --output', () => {
  const settings = settingsOf(['m.onnx', '--input', 'x', '--input-shape', '1,512', '--input-shape', 'state=2,1,128', '--input-shape=h=1,64', '--input-value', 'sr=16000', '--output', 'prob', '--output=/Tanh_output_0']);
  assert.deepEqual(
    [settings.input, settings.inputShape, settings.inputShapes, settings.inputValues, settings.outputs],
    ['x', [1, 512], { state: [2, 1, 128], h: [1, 64] }, { sr: 16000 }, ['prob', '/Tanh_output_0']],
  );
  assert.deepEqual(openOptions(settings), { inputShape: [1, 512], signalInput: 'x', inputShapes: { state: [2, 1, 128], h: [1, 64] }, inputValues: { sr: 16000 }, outputs: ['prob', '/Tanh_output_0'] });
  assert.deepEqual(openOptions(settingsOf(['m.onnx'])), {}, 'nothing given: nothing passed on');
});

test('malformed values are usage errors', () => {
  assert.throws(() => parseArgs(['m.onnx', '--input-value', 'sr']), (e: unknown) => e instanceof UsageError && /--input-value must be NAME=NUMBER, e\.g\. sr=16000 \(got "sr"\)/.test(e.message));
  assert.throws(() => parseArgs(['m.onnx', '--input-value', 'sr=fast']), UsageError);
  assert.throws(() => parseArgs(['m.onnx', '--input-shape', 'state=2,-1']), /positive integers/);
  assert.throws(() => parseArgs(['m.onnx', '--output']), /--output needs a value/);
});

test('--custom-layer: repeatable CLASS=DECLARATION reaching the reader; a malformed one is a usage error', () => {
  const settings = settingsOf(['m.json', '--custom-layer', 'MultiplyBeta=scale:beta', '--custom-layer=PixelShuffle2x= depth-to-space:2']);
  assert.deepEqual(settings.customLayers, { MultiplyBeta: 'scale:beta', PixelShuffle2x: 'depth-to-space:2' });
  assert.deepEqual(openOptions(settings).customLayers, { MultiplyBeta: 'scale:beta', PixelShuffle2x: 'depth-to-space:2' });
  assert.throws(() => parseArgs(['m.json', '--custom-layer', 'MultiplyBeta']), (e: unknown) => e instanceof UsageError && /CLASS=DECLARATION/.test(e.message));
  assert.throws(() => parseArgs(['m.json', '--custom-layer', 'MultiplyBeta=multiply:2']), (e: unknown) => e instanceof UsageError && /unknown declaration "multiply:2"/.test(e.message));
});
