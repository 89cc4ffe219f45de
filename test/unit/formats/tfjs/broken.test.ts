// Broken and hostile model.json folders: each is a one-line ModelError naming the file and the
// problem (or, for an op the reader does not know, an UnsupportedSpec row), never a crash or a guess.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ModelError } from '../../../../src/model/errors';
import { tfjsFormat } from '../../../../src/formats/tfjs';
import { fixturePath, memoryAccess, openMemory, readJson, row } from './helpers';
import { graphModel, placeholder } from './graph-builder';

type Manifest = { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
type LayersJson = { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }; weightsManifest: Manifest };

/** The channels-first fixture (one shard) in memory, to break at will. */
function fixture(): { json: LayersJson; shards: Record<string, Uint8Array> } {
  const json = readJson('channels-first') as unknown as LayersJson;
  const shards: Record<string, Uint8Array> = {};
  for (const path of json.weightsManifest[0].paths) shards[path] = readFileSync(fixturePath('channels-first', path));
  return { json, shards };
}

const rejects = (promise: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ModelError, `not a ModelError: ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.ok(e.message.startsWith('model.json: '), e.message);
    return true;
  });

test('a missing shard is a ModelError naming the shard', async () => {
  const { json } = fixture();
  await rejects(openMemory(json, {}), /weight shard "group1-shard1of1\.bin" is missing/);
});

test('a short shard is a ModelError naming it, found from sizes before anything is read or allocated', async () => {
  const { json, shards } = fixture();
  const path = json.weightsManifest[0].paths[0];
  let reads = 0;
  const short = { [path]: shards[path].subarray(0, shards[path].length - 4) };
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  const files = memoryAccess({ 'model.json': bytes, ...short });
  const counting = { ...files, readFile: async (p: string) => (reads++, files.readFile(p)) };
  await rejects(tfjsFormat.open(bytes, counting, {}), /"group1-shard1of1\.bin" \(152 B\) holds 152 bytes but the manifest declares 156 bytes.*short/);
  assert.equal(reads, 0);
});

test('a manifest claiming a huge weight is refused by its declared size, not by allocating it', async () => {
  const { json, shards } = fixture();
  json.weightsManifest[0].weights[0].shape = [100000, 100000, 3, 3];
  await rejects(openMemory(json, shards), /declares 360000000012 bytes/);
});

test('weight shapes that disagree with the layer config or the bytes are ModelErrors', async () => {
  // kernel stored as [3, 2, 2, 3] but the layer says kernel_size [3, 3] (same byte count as [3, 3, ...] would not be).
  const a = fixture();
  a.json.modelTopology.config.layers[0].config.kernel_size = [3, 3];
  await rejects(openMemory(a.json, a.shards), /layer "conv_cf": kernel_size \[3,3\] disagrees with the kernel weight's shape \[3, 2, 2, 3\]/);
  // The manifest's shape has as many values as the bytes but not the layer's layout.
  const b = fixture();
  b.json.weightsManifest[0].weights[0].shape = [2, 3, 3, 2];
  await rejects(openMemory(b.json, b.shards), /layer "conv_cf"/);
  // More values than bytes.
  const c = fixture();
  c.json.weightsManifest[0].weights[1].shape = [4];
  await rejects(openMemory(c.json, c.shards), /holds 156 bytes but the manifest declares 160/);
});

test('dtype mismatches: a layer kernel stored as int32, a Const node whose manifest dtype disagrees, an unknown dtype', async () => {
  const a = fixture();
  a.json.weightsManifest[0].weights[0].dtype = 'int32';
  await rejects(openMemory(a.json, a.shards), /weight "conv_cf\/kernel" has dtype int32, expected float32/);

  const b = fixture();
  b.json.weightsManifest[0].weights[0].dtype = 'float64';
  await rejects(openMemory(b.json, b.shards), /weight "conv_cf\/kernel" has unsupported dtype "float64"/);

  const g = graphModel([placeholder('x', [-1, 4]), { name: 'mm', op: 'MatMul', input: ['x', 'w'] }], [{ name: 'w', shape: [4, 2], values: [1, 2, 3, 4, 5, 6, 7, 8] }]);
  (g.json.weightsManifest as Manifest)[0].weights[0].dtype = 'int32';
  await rejects(openMemory(g.json, g.shards), /Const node "w" is DT_FLOAT but its weight in the manifest is int32/);

  const q = fixture();
  (q.json.weightsManifest[0].weights[0] as Record<string, unknown>).quantization = { dtype: 'uint8' };
  await rejects(openMemory(q.json, q.shards), /uint8-quantised without numeric scale and min/);
});

test('shard paths may not leave the model\'s folder or be URLs', async () => {
  for (const path of ['../outside.bin', 'a/../../outside.bin', '/etc/passwd', 'https://example.invalid/w.bin', 'C:\\w.bin']) {
    const { json, shards } = fixture();
    json.weightsManifest[0].paths = [path];
    await rejects(openMemory(json, { [path]: shards['group1-shard1of1.bin'] }), /weight shard path/);
  }
  // A subfolder is fine.
  const { json, shards } = fixture();
  json.weightsManifest[0].paths = ['weights/./w.bin'];
  const model = await openMemory(json, { 'weights/./w.bin': shards['group1-shard1of1.bin'] });
  assert.equal(model.nodes.length, 3);
});

test('an unknown layer class is an UnsupportedSpec row with a warning; the layers after it are listed with an unknown input shape, never guessed', async () => {
  const { json, shards } = fixture();
  json.modelTopology.config.layers.splice(1, 0, { class_name: 'MyFancyLayer', config: { name: 'fancy' } });
  const model = await openMemory(json, shards);
  const fancy = row(model, 'fancy');
  assert.equal(fancy.op, 'MyFancyLayer');
  assert.ok(fancy.spec.type === 'unsupported' && fancy.spec.detail?.includes('MyFancyLayer'));
  assert.deepEqual(fancy.outputShapes, [], 'its output shape is unknown');
  assert.ok(model.warnings.some((w) => /layer "fancy" \(MyFancyLayer\) is not supported and its output shape is unknown/.test(w)));
  const after = row(model, 'gap_cf');
  assert.deepEqual([after.spec.type, after.spec.type === 'unsupported' ? after.spec.detail : '', after.outputShapes], ['unsupported', 'input shape unknown (output of unsupported layer MyFancyLayer "fancy")', []]);
});

test('an unknown layer whose config states its output shape gives the layers after it that shape', async () => {
  const { json, shards } = fixture();
  json.modelTopology.config.layers = [
    json.modelTopology.config.layers[0],
    { class_name: 'Cropping9D', config: { name: 'odd', batch_output_shape: [null, 7] } },
    { class_name: 'Flatten', config: { name: 'flat' } },
  ];
  const model = await openMemory(json, shards);
  assert.deepEqual([row(model, 'odd').spec.type, row(model, 'odd').outputShapes], ['unsupported', [[1, 7]]]);
  assert.deepEqual([row(model, 'flat').spec.type, row(model, 'flat').outputShapes], ['fixed', [[1, 7]]]);
  // With a known input shape, a layer that contradicts its weights is an error.
  const bad = fixture();
  bad.json.modelTopology.config.layers[0].config.filters = 5;
  await rejects(openMemory(bad.json, bad.shards), /5 filters but the kernel weight has shape \[3, 2, 2, 3\]/);
});

test('an input shape of the wrong rank, invalid JSON, a topology of neither kind', async () => {
  const { json, shards } = fixture();
  await rejects(openMemory(json, shards, { inputShape: [1, 2, 7] }), /has 3 dimensions but input "conv_cf_input" has 4/);
  const text = new TextEncoder().encode('{"modelTopology": ');
  await rejects(tfjsFormat.open(text, memoryAccess({ 'model.json': text }), {}), /is not valid JSON/);
  await rejects(openMemory({ modelTopology: { something: 1 }, weightsManifest: [] }, {}), /neither a Keras model nor a graph/);
  await rejects(openMemory({ weightsManifest: [] }, {}), /has no "modelTopology"/);
  await rejects(openMemory({ format: 'graph-model', modelTopology: { node: [{ name: 'a', op: 'Relu', input: ['nowhere'] }] }, weightsManifest: [] }, {}), /node "a" takes "nowhere", which no node produces/);
});

test('detect: model.json heads (layers, graph, BOM, converter field order) yes; other JSON and ONNX bytes no', () => {
  const enc = (text: string) => new TextEncoder().encode(text);
  assert.equal(tfjsFormat.detect('model.json', enc('{"modelTopology": {"class_name": "Sequential"')), true);
  assert.equal(tfjsFormat.detect('m.json', enc('\uFEFF  {"format": "graph-model", "generatedBy": "2.x", "signature": {')), true);
  assert.equal(tfjsFormat.detect('model.json', readFileSync(fixturePath('real/human-emotion')).subarray(0, 4096)), true);
  assert.equal(tfjsFormat.detect('model.json', readFileSync(fixturePath('real/nsfwjs-mobilenet-v2')).subarray(0, 4096)), true);
  assert.equal(tfjsFormat.detect('package.json', enc('{"name": "x", "version": "1.0.0"}')), false);
  assert.equal(tfjsFormat.detect('model.onnx', enc('\x08\x07\x12\x07pytorch')), false);
  assert.equal(tfjsFormat.detect('model.json', new Uint8Array([0xff, 0xfe, 0x00])), false);
});
