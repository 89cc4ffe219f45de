// TF.js fixtures of test/fixtures/graphs (make-tfjs-graphs.ts): a layers-model saved by tfjs-layers
// with a custom layer class, and a graph-model whose Reshape target is shape arithmetic, with a
// tf.cond on a boolean input and a StatelessWhile. Every report is whole; every computed σ is
// checked against the explicit float64 matrix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runSession } from '../../../src/host/session';
import { nodeFileAccess } from '../../../src/host/node-files';
import { DEFAULT_SETTINGS, type EstimateSettings, type Report } from '../../../src/protocol/report';
import { conv2dMatrix, denseMatrix, readManifestWeights, sigma1 } from '../../helpers/keras-reference';
import { range } from './tfjs/graph-builder';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'graphs');

function run(folder: string, settings: Partial<EstimateSettings> = {}): Promise<Report> {
  return runSession(nodeFileAccess(join(FIXTURES, folder, 'model.json')), { ...DEFAULT_SETTINGS, tol: 1e-6, threads: 1, ...settings });
}

const close = (actual: number | null | undefined, reference: number, what: string) => assert.ok(Math.abs((actual ?? NaN) - reference) <= 1e-5 * reference, `${what}: ${actual} vs ${reference}`);

test('a custom layer class (PixelShuffle) is an unsupported row; the convolution after it is listed with an unknown input shape, not computed on a guess', async () => {
  const report = await run('tfjs-custom-layer');
  assert.deepEqual(report.layers.map((l) => [l.name, l.op, l.kind, l.inputShape, l.outputShape, l.weightShape]), [
    ['features', 'Conv2D', 'linear', [1, 6, 6, 3], [1, 6, 6, 12], [3, 3, 3, 12]],
    ['shuffle', 'PixelShuffle', 'unsupported', [1, 6, 6, 12], [], null],
    ['smooth', 'Conv2D', 'unsupported', [], [], null],
  ]);
  const weights = readManifestWeights(join(FIXTURES, 'tfjs-custom-layer', 'model.json'));
  const kernel = weights.get('features/kernel');
  assert.ok(kernel);
  close(report.layers[0].sigma, sigma1(conv2dMatrix(kernel, { input: [6, 6, 3], strides: [1, 1], dilation: [1, 1], padding: 'same' }).matrix), 'features');
  assert.equal(report.layers[1].note, 'the engine does not understand PixelShuffle (Keras layer class PixelShuffle): the bound through it is invalid');
  assert.match(report.layers[2].note ?? '', /input shape unknown \(output of unsupported layer PixelShuffle "shuffle"\)/);
  assert.deepEqual([report.bounds.product, report.bounds.certified, report.bounds.unsupported.map((u) => u.name)], [null, null, ['shuffle', 'smooth']]);
  assert.deepEqual(report.warnings, ['layer "shuffle" (PixelShuffle) is not supported and its output shape is unknown: the layers after it cannot be analysed; if it is a custom class, say what it computes with --custom-layer PixelShuffle=… (setting lipschitzLens.customLayers)']);
});

test('a graph-model: the Reshape target folds from Shape / StridedSlice / Prod / Pack / Cast, a tf.cond on a fixed input takes one branch, a StatelessWhile is listed', async () => {
  const report = await run('tfjs-graph-control', { inputValues: { flag: 1 } });
  assert.deepEqual(report.layers.map((l) => [l.name, l.op, l.kind, l.inputShape, l.outputShape]), [
    ['conv', 'Conv2D', 'linear', [1, 4, 4, 2], [1, 4, 4, 3]],
    ['relu', 'Relu', 'activation', [1, 4, 4, 3], [1, 4, 4, 3]],
    ['flat', 'Reshape', 'structural', [1, 4, 4, 3], [1, 48]],
    ['dense', 'MatMul', 'linear', [1, 48], [1, 5]],
    ['cond/switch', 'Switch', 'structural', [1, 5], [1, 5]],
    ['cond/on_true', 'Relu', 'activation', [1, 5], [1, 5]],
    ['cond/merge', 'Merge', 'structural', [1, 5], [1, 5]],
    ['loop', 'StatelessWhile', 'unsupported', [1, 5], []],
    ['out', 'Identity', 'unsupported', [], []],
  ]);
  const conv = sigma1(conv2dMatrix({ shape: [3, 3, 2, 3], values: Float64Array.from(range(54, 0.13), Math.fround) }, { input: [4, 4, 2], strides: [1, 1], dilation: [1, 1], padding: 'same' }).matrix);
  const dense = sigma1(denseMatrix({ shape: [48, 5], values: Float64Array.from(range(240, 0.05, 0.1), Math.fround) }));
  close(report.layers[0].sigma, conv, 'conv');
  close(report.layers[3].sigma, dense, 'dense');
  assert.deepEqual([report.model.signalInput, report.model.outputsUsed], ['x', ['out', 'cond/merge']]);
  assert.equal(report.bounds.product, null, 'the loop output is one of the outputs: no bound');
  assert.ok(report.warnings?.includes('the predicate "flag" is fixed (true): only the branch it takes is analysed'));

  // Up to the cond's output only, the network bound is finite: conv · relu · dense · relu.
  const cut = await run('tfjs-graph-control', { inputValues: { flag: 1 }, outputs: ['cond/merge'] });
  assert.deepEqual(cut.layers.map((l) => l.name), ['conv', 'relu', 'flat', 'dense', 'cond/switch', 'cond/on_true', 'cond/merge']);
  close(cut.bounds.product, conv * dense, 'network bound up to cond/merge');
  assert.deepEqual(cut.bounds.unsupported, []);

  // The other branch when the flag is false; unfixed, the Switch and Merge are unsupported rows.
  const off = await run('tfjs-graph-control', { inputValues: { flag: 0 }, outputs: ['cond/merge'] });
  assert.deepEqual(off.layers.slice(4).map((l) => [l.name, l.op]), [['cond/switch', 'Switch'], ['cond/on_false', 'Tanh'], ['cond/merge', 'Merge']]);
  const open = await run('tfjs-graph-control', { outputs: ['cond/merge'] });
  assert.deepEqual(open.layers.slice(4).map((l) => [l.name, l.kind]), [['cond/switch', 'unsupported'], ['cond/on_false', 'unsupported'], ['cond/on_true', 'unsupported'], ['cond/merge', 'unsupported']]);
  assert.equal(open.bounds.product, null);
});
