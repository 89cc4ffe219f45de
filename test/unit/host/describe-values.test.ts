// The summary lists every row's output values, so VS Code's Choose Outputs can offer intermediate
// values, and each listed value is accepted as a chosen output (docs/graphs.md, "A chosen output").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describeSession } from '../../../src/host/session';
import { nodeFileAccess } from '../../../src/host/node-files';

const graphs = join(import.meta.dirname, '..', '..', 'fixtures', 'graphs');

test('planned rows name the values they produce (ONNX tensor names, TF.js node names)', async () => {
  const onnx = await describeSession(nodeFileAccess(join(graphs, 'vad_if.onnx')));
  const dense = onnx.layers.find((l) => l.name === '/dense/Gemm');
  assert.deepEqual(dense?.outputs, ['/dense/Gemm_output_0']);
  const tfjs = await describeSession(nodeFileAccess(join(graphs, 'tfjs-custom-layer', 'model.json')));
  assert.deepEqual(tfjs.layers.map((l) => l.outputs), [['features'], ['shuffle'], ['smooth']]);
});

test('a listed intermediate value cuts the summary there when chosen as the output', async () => {
  const cut = await describeSession(nodeFileAccess(join(graphs, 'vad_if.onnx')), undefined, { outputs: ['/dense/Gemm_output_0'] });
  assert.deepEqual(cut.model.outputsUsed, ['/dense/Gemm_output_0']);
  assert.equal(cut.layers.at(-1)?.name, '/dense/Gemm');
  assert.ok(!cut.layers.some((l) => l.name === '/out/Gemm'), 'rows after the chosen value are left out');
});
