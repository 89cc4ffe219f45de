// Real PyTorch exports with control flow and several inputs (test/fixtures/graphs/make_onnx_graphs.py):
// an If on an integer input folds when that input is fixed, a Loop is an unsupported row with the
// rest listed, state inputs take their dims from the signal input, and --output cuts the network.
// σ of every computed layer is checked against the explicit float64 matrix (expected.json).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSession } from '../../../src/host/session';
import { nodeFileAccess } from '../../../src/host/node-files';
import { DEFAULT_SETTINGS, type EstimateSettings, type Report } from '../../../src/protocol/report';
import { attr, floats, node, open, type ModelSpec } from '../../helpers/onnx-builder';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'graphs');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { vad_if: Record<string, number>; loop: Record<string, number> };

function run(file: string, settings: Partial<EstimateSettings> = {}): Promise<Report> {
  return runSession(nodeFileAccess(join(FIXTURES, file)), { ...DEFAULT_SETTINGS, tol: 1e-6, threads: 1, ...settings });
}

const rows = (report: Report) => report.layers.map((l) => [l.name, l.op, l.kind, l.inputShape, l.outputShape]);
const sigmaOf = (report: Report, name: string) => report.layers.find((l) => l.name === name)?.sigma ?? NaN;
const close = (actual: number, reference: number, what: string) => assert.ok(Math.abs(actual - reference) <= 1e-5 * reference, `${what}: ${actual} vs ${reference}`);

test('an If on an integer input fixed with --input-value is its taken branch; the state input takes the batch it shares with the signal', async () => {
  const report = await run('vad_if.onnx', { inputValues: { sr: 16000 } });
  assert.deepEqual(report.model.inputs, [{ name: 'x', shape: ['batch', 16] }, { name: 'state', shape: [2, 'batch', 8] }, { name: 'sr', shape: [] }]);
  assert.deepEqual([report.model.inputShape, report.model.signalInput, report.model.outputsUsed], [[1, 16], 'x', ['prob', 'new_state']]);
  assert.deepEqual(rows(report), [
    ['/Unsqueeze', 'Unsqueeze', 'structural', [1, 16], [1, 1, 16]],
    ['/conv16/Conv', 'Conv', 'linear', [1, 1, 16], [1, 4, 16]],
    ['/If:0', 'If', 'structural', [1, 4, 16], [1, 4, 16]],
    ['/Relu', 'Relu', 'activation', [1, 4, 16], [1, 4, 16]],
    ['/Flatten', 'Flatten', 'structural', [1, 4, 16], [1, 64]],
    ['/dense/Gemm', 'Gemm', 'linear', [1, 64], [1, 8]],
    // The state is held fixed: the Add is a shift of the signal, and the Gathers of the state are not rows.
    ['/Add', 'Add', 'merge', [1, 8], [1, 8]],
    ['/Tanh', 'Tanh', 'activation', [1, 8], [1, 8]],
    ['/out/Gemm', 'Gemm', 'linear', [1, 8], [1, 1]],
    ['/Sigmoid', 'Sigmoid', 'activation', [1, 1], [1, 1]],
    ['/Unsqueeze_1', 'Unsqueeze', 'structural', [1, 8], [1, 1, 8]],
    ['/Concat', 'Concat', 'merge', [1, 1, 8], [2, 1, 8]],
  ]);
  const ref = expected.vad_if;
  close(sigmaOf(report, '/conv16/Conv'), ref.conv16, 'conv16');
  close(sigmaOf(report, '/dense/Gemm'), ref.dense, 'dense');
  close(sigmaOf(report, '/out/Gemm'), ref.out, 'out');
  // Two outputs: prob = σ(out(tanh(dense(relu(conv16 x))))) (sigmoid 1/4) and new_state (h stacked with the fixed state).
  const front = ref.conv16 * ref.dense;
  close(report.bounds.product ?? NaN, Math.hypot(front * ref.out * 0.25, front), 'network bound');
  assert.ok((report.bounds.certified ?? 0) >= (report.bounds.product ?? Infinity));
  assert.deepEqual(report.bounds.unsupported, []);
  assert.deepEqual(report.warnings, ['input "x" has a dynamic batch dimension (batch); using 1', 'If "/If": the condition is fixed (true), so only its then_branch is analysed']);

  const other = await run('vad_if.onnx', { inputValues: { sr: 8000 } });
  assert.equal(other.layers[1].name, '/conv8/Conv', 'the else branch for another rate');
  close(sigmaOf(other, '/conv8/Conv'), ref.conv8, 'conv8');
});

test('an If whose condition is not fixed but does not depend on the signal: both branches are computed, and the bound covers either', async () => {
  const report = await run('vad_if.onnx');
  assert.deepEqual(report.layers.slice(0, 5).map((l) => [l.name, l.kind, l.inputShape, l.outputShape]), [
    ['/Unsqueeze', 'structural', [1, 16], [1, 1, 16]],
    ['/conv16/Conv', 'linear', [1, 1, 16], [1, 4, 16]],
    ['/conv8/Conv', 'linear', [1, 1, 16], [1, 4, 16]],
    ['/If', 'structural', [1, 4, 16], [1, 4, 16]],
    ['/Relu', 'activation', [1, 4, 16], [1, 4, 16]],
  ]);
  const ref = expected.vad_if;
  close(sigmaOf(report, '/conv16/Conv'), ref.conv16, 'conv16');
  close(sigmaOf(report, '/conv8/Conv'), ref.conv8, 'conv8');
  // For every sr the If is one branch: L ≤ max(L₁, L₂) ≤ √(L₁² + L₂²), the composition over its two inputs.
  const front = Math.hypot(ref.conv16, ref.conv8) * ref.dense;
  close(report.bounds.product ?? NaN, Math.hypot(front * ref.out * 0.25, front), 'network bound over either branch');
  assert.ok(report.warnings?.some((w) => /If "\/If": the condition is not known but does not depend on the signal input/.test(w)));
});

test('an If whose condition is computed from the signal is an unsupported row after both branches; what follows keeps their common shape', async () => {
  const graph = (op: string, out: string) => ({ node: [{ opType: op, input: ['x'], output: [out], name: out }], output: [{ name: out }] });
  const spec: ModelSpec = {
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 4] }],
    outputs: ['y'],
    initializers: [floats('zero', [], [0])],
    nodes: [
      node('ReduceSum', ['x'], ['s'], [attr.int('keepdims', 0)], 'sum'),
      node('Greater', ['s', 'zero'], ['c'], [], 'positive'),
      node('If', ['c'], ['t'], [{ name: 'then_branch', type: 5, g: graph('Relu', 'then_relu') }, { name: 'else_branch', type: 5, g: graph('Neg', 'else_neg') }], 'branch'),
      node('Tanh', ['t'], ['y'], [], 'after'),
    ],
  };
  const model = await open(spec);
  assert.deepEqual(model.nodes.map((n) => [n.name, n.spec.type, n.outputShapes]), [
    ['sum', 'fixed', [[]]],
    ['positive', 'unsupported', [[]]],
    ['then_relu', 'fixed', [[1, 4]]],
    ['else_neg', 'fixed', [[1, 4]]],
    ['branch', 'unsupported', [[1, 4]]],
    ['after', 'fixed', [[1, 4]]],
  ]);
  assert.deepEqual(model.nodes[4].inputs, ['c', 'then_relu', 'else_neg']);
  // No control input to fix: the note says the condition comes from the signal and points to --output.
  const branch = model.nodes[4].spec;
  assert.ok(branch.type === 'unsupported' && /condition "c" is computed from the signal.*--output NAME/.test(branch.detail ?? ''), JSON.stringify(branch));
});

test('a Loop is an unsupported row; the convolution before it is computed', async () => {
  const report = await run('loop.onnx');
  assert.deepEqual(report.layers.map((l) => [l.name, l.kind, l.inputShape, l.outputShape]), [
    ['/conv/Conv', 'linear', [1, 2, 5, 5], [1, 3, 5, 5]],
    ['/Loop', 'unsupported', [1, 3, 5, 5], []],
    ['/ReduceMean', 'unsupported', [], []],
    ['/lin/Gemm', 'unsupported', [], []],
  ]);
  close(sigmaOf(report, '/conv/Conv'), expected.loop.conv, 'conv');
  assert.match(report.layers[1].note ?? '', /control flow Loop that cannot be folded/);
  assert.deepEqual([report.model.signalInput, report.bounds.product], ['x', null]);
});

test('--output bounds the sub-network up to a named intermediate tensor and drops the rest', async () => {
  const report = await run('vad_if.onnx', { inputValues: { sr: 16000 }, outputs: ['/Tanh_output_0'] });
  assert.deepEqual(report.layers.map((l) => l.name), ['/Unsqueeze', '/conv16/Conv', '/If:0', '/Relu', '/Flatten', '/dense/Gemm', '/Add', '/Tanh']);
  assert.deepEqual(report.model.outputsUsed, ['/Tanh_output_0']);
  assert.deepEqual(report.model.outputs, [{ name: '/Tanh_output_0', shape: [1, 8] }]);
  close(report.bounds.product ?? NaN, expected.vad_if.conv16 * expected.vad_if.dense, 'sub-network bound');
  await assert.rejects(run('vad_if.onnx', { outputs: ['nowhere'] }), /has no value "nowhere" that depends on the input/);
});

test('--input chooses the signal input; the others are held fixed', async () => {
  const report = await run('vad_if.onnx', { input: 'state', inputValues: { sr: 16000 }, inputShapes: { x: [1, 16] } });
  assert.deepEqual([report.model.signalInput, report.model.inputShape], ['state', [2, 1, 8]]);
  // From the state, the signal reaches the Add (a shift of a fixed value) and the second half of new_state.
  assert.ok(report.layers.every((l) => !['/conv16/Conv', '/dense/Gemm'].includes(l.name)), 'rows that depend on x alone are constants now');
  assert.deepEqual(report.layers.filter((l) => l.kind === 'linear').map((l) => l.name), ['/out/Gemm']);
});
