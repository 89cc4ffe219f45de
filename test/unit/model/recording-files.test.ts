// The worker's file access records the companion files a loader reached (here an ONNX model's
// external data), not the model file itself, so the extension can key its cache on them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onnxFormat } from '../../../src/formats/onnx';
import { memoryFileAccess } from '../../../src/model/memory-files';
import { recordingFileAccess } from '../../../src/model/recording-files';
import { attr, buildModel, single, T } from '../../helpers/onnx-builder';

test('an ONNX model with external data: the external file is recorded, the model file is not', async () => {
  const weights = new Float32Array(12).map((_, i) => i / 10);
  const spec = single('Gemm', [1, 3], {
    inputs: ['w'],
    attrs: [attr.int('transB', 1)],
    initializers: [{ name: 'w', dims: [4, 3], dataType: T.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }] }],
  });
  const bytes = buildModel(spec);
  const recorded = recordingFileAccess(memoryFileAccess('model.onnx', { 'model.onnx': bytes, 'weights.bin': new Uint8Array(weights.buffer), 'unused.bin': new Uint8Array(4) }), 'model.onnx');
  assert.deepEqual(recorded.companions(), []);
  const model = await onnxFormat.open(bytes, recorded.files, {});
  assert.deepEqual(model.nodes.map((n) => n.op), ['Gemm']);
  assert.deepEqual(recorded.companions(), ['weights.bin'], 'only the file the loader read, once');
  assert.equal(recorded.files.mainPath, 'model.onnx');
});

test('every access path records, and failures still propagate', async () => {
  const recorded = recordingFileAccess(memoryFileAccess('m.onnx', { 'm.onnx': new Uint8Array(2), 'a.bin': new Uint8Array(8) }), 'm.onnx');
  await recorded.files.readFile('m.onnx');
  assert.equal(await recorded.files.size('a.bin'), 8);
  await recorded.files.readRange('a.bin', 2, 4);
  await assert.rejects(recorded.files.readFile('missing.bin'));
  assert.deepEqual(recorded.companions(), ['a.bin', 'missing.bin']);
});
