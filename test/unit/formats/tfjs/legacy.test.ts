// TF.js 0.x models (tensorflowjs_model.pb with weights_manifest.json, tfjs-converter before 1.0):
// one line naming the file, saying the format is not supported and how to re-convert it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openModel } from '../../../../src/formats';
import { ModelError } from '../../../../src/model/errors';
import { memoryFileAccess } from '../../../../src/model/memory-files';

/** A frozen graph's first bytes as the 0.x converter wrote them (GraphDef: node { name: "x" op: "Placeholder" }). */
const graphDef = Uint8Array.from([0x0a, 0x10, 0x0a, 0x01, 0x78, 0x12, 0x0b, ...new TextEncoder().encode('Placeholder')]);
const manifest = new TextEncoder().encode(JSON.stringify([{ paths: ['group1-shard1of1'], weights: [{ name: 'conv/kernel', shape: [3, 3, 3, 8], dtype: 'float32' }] }]));

const LEGACY = /^\S+: is a TF\.js 0\.x model \(tensorflowjs_model\.pb with weights_manifest\.json, .*\), which is not supported: re-convert it with tensorflowjs_converter 1\.0 or later to get a model\.json$/;

async function problem(mainPath: string, files: Record<string, Uint8Array>): Promise<string> {
  try {
    await openModel(memoryFileAccess(mainPath, files));
  } catch (error) {
    assert.ok(error instanceof ModelError, String(error));
    assert.ok(!error.message.includes('\n'), 'one line');
    assert.ok(error.message.startsWith(`${mainPath}: `), `names the file: ${error.message}`);
    return error.message;
  }
  throw new Error(`${mainPath} opened`);
}

test('tensorflowjs_model.pb is named as the 0.x format, with the way to re-convert it', async () => {
  assert.match(await problem('tensorflowjs_model.pb', { 'tensorflowjs_model.pb': graphDef, 'weights_manifest.json': manifest }), LEGACY);
  // Alone (the manifest not copied along) too: the name is the 0.x converter's.
  assert.match(await problem('tensorflowjs_model.pb', { 'tensorflowjs_model.pb': graphDef }), LEGACY);
});

test('weights_manifest.json is named as the 0.x format', async () => {
  assert.match(await problem('weights_manifest.json', { 'weights_manifest.json': manifest, 'tensorflowjs_model.pb': graphDef }), LEGACY);
});

test('a renamed .pb next to a weights_manifest.json is the 0.x format; a .pb alone is not a model read here', async () => {
  assert.match(await problem('frozen.pb', { 'frozen.pb': graphDef, 'weights_manifest.json': manifest }), LEGACY);
  assert.match(await problem('frozen.pb', { 'frozen.pb': graphDef }), /: is neither an ONNX model nor a TF\.js model\.json$/);
});

test('a bare manifest under another name (face-api.js) keeps its own message', async () => {
  assert.match(await problem('tiny_face_detector_model-weights_manifest.json', { 'tiny_face_detector_model-weights_manifest.json': manifest }), /weights manifest with no model topology/);
});
