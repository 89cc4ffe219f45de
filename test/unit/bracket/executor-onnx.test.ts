// The graph executor against onnxruntime (onnxruntime-node, test-only) on every ONNX fixture it
// runs, on random inputs: outputs agree to 1e-4 relative. Also a strong test of how the ONNX reader
// reads each graph (biases, shifts, pads, which activation).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { executionPlan } from '../../../src/engine/executor/execute';
import { executorOutputs, onnxRuntimeOutputs, openIr, relativeError, uniformInput } from './reference-runtimes';

const TORCH = join(__dirname, '../../fixtures/onnx/torch');
const fixtures = readdirSync(TORCH).filter((name) => name.endsWith('.onnx'));

test('the torch fixtures are all executable', async () => {
  for (const name of fixtures) {
    const model = await openIr(join(TORCH, name));
    assert.doesNotThrow(() => executionPlan(model), name);
  }
  assert.ok(fixtures.length >= 6);
});

for (const name of fixtures) {
  test(`executor matches onnxruntime on ${name}`, async () => {
    await initBackend();
    const path = join(TORCH, name);
    const model = await openIr(path);
    for (const [seed, lo, hi] of [[1, 0, 1], [2, -3, 3]] as const) {
      const input = uniformInput(model.inputs[0].shape, seed, lo, hi);
      const error = relativeError(executorOutputs(model, input), await onnxRuntimeOutputs(path, model, input));
      assert.ok(error <= 1e-4, `${name} seed ${seed}: relative error ${error}`);
    }
  });
}

test('the PaddleOCR classifier (MobileNetV3-small, hard-swish as Add/Clip/Mul/Div, squeeze-excitation products) runs and matches onnxruntime', async () => {
  await initBackend();
  const path = join(__dirname, '../../fixtures/onnx/paddle/ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const { openModel } = await import('../../../src/formats');
  const { nodeFileAccess } = await import('../../../src/host/node-files');
  const model = await openModel(nodeFileAccess(path), { inputShape: [1, 3, 48, 192] });
  assert.doesNotThrow(() => executionPlan(model));
  const input = uniformInput(model.inputs[0].shape, 3);
  const error = relativeError(executorOutputs(model, input), await onnxRuntimeOutputs(path, model, input));
  assert.ok(error <= 1e-4, `relative error ${error}`);
});

// Products the product pass resolved (gated activations with the /6 after them counted in the Mul's
// row, bounded gates): the executor multiplies the two factors and applies the scale where it is counted.
const OPS = join(__dirname, '../../fixtures/onnx/ops');
for (const name of ['old_hardswish.onnx', 'bounded_gates.onnx']) {
  test(`executor matches onnxruntime on resolved products: ${name}`, async () => {
    await initBackend();
    const path = join(OPS, name);
    const model = await openIr(path);
    for (const [seed, lo, hi] of [[1, 0, 1], [2, -4, 4]] as const) {
      const input = uniformInput(model.inputs[0].shape, seed, lo, hi);
      const error = relativeError(executorOutputs(model, input), await onnxRuntimeOutputs(path, model, input));
      assert.ok(error <= 1e-4, `${name} seed ${seed}: relative error ${error}`);
    }
  });
}
