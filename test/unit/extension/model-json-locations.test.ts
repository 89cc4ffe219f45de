import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  entriesByName,
  entryAt,
  entryForLayer,
  isTfjsModelJson,
  locateLayerEntries,
  parseJsonTree,
  weightShardPaths,
} from '../../../src/extension/model-json-locations';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

test('parseJsonTree agrees with JSON.parse on values and records offsets', () => {
  const text = '{"a": [1, -2.5e3, true, false, null, "x\\"y\\u00e9"], "b": {}}';
  const tree = parseJsonTree(text);
  assert.equal(tree.kind, 'object');
  if (tree.kind !== 'object') return;
  const a = tree.properties[0];
  assert.equal(a.key, 'a');
  assert.equal(text.slice(a.keyStart, a.keyStart + 3), '"a"');
  assert.equal(a.value.kind, 'array');
  if (a.value.kind !== 'array') return;
  const values = a.value.items.map((item) => ('value' in item ? item.value : null));
  assert.deepEqual(values, (JSON.parse(text) as { a: unknown[] }).a);
  const last = a.value.items[5];
  assert.equal(text.slice(last.start, last.end), '"x\\"y\\u00e9"');
  assert.equal(tree.end, text.length);
});

test('parseJsonTree rejects broken JSON with an offset', () => {
  for (const bad of ['{"a": 1,}', '{"a" 1}', '[1, 2', '"abc', '{"a": tru}', '{} x', '']) {
    assert.throws(() => parseJsonTree(bad), /offset \d+/, bad);
  }
});

test('layers model (Keras model_config): every layer located and named', () => {
  const text = fixture('layers-model.json');
  const { format, entries } = locateLayerEntries(text);
  assert.equal(format, 'tfjs-layers');
  assert.deepEqual(
    entries.map((e) => [e.index, e.name, e.op]),
    [
      [0, 'input_1', 'InputLayer'],
      [1, 'conv2d', 'Conv2D'],
      [2, 'max_pooling2d', 'MaxPooling2D'],
      [3, 'flatten', 'Flatten'],
      [4, 'dense', 'Dense'],
    ],
  );
  for (const entry of entries) {
    assert.equal(text[entry.start], '{');
    assert.equal(text[entry.end - 1], '}');
    const object = JSON.parse(text.slice(entry.start, entry.end)) as { config: { name: string } };
    assert.equal(object.config.name, entry.name);
    assert.equal(text.slice(entry.nameOffset, entry.nameOffset! + 6), '"name"');
  }
  // The conv entry's "name" key is the one inside its config, not a nested initializer's.
  const conv = entries[1];
  assert.ok(text.slice(conv.nameOffset!, conv.nameOffset! + 20).startsWith('"name": "conv2d"'));
});

test('tfjs-layers format (config.layers at the top of modelTopology), minified on one line', () => {
  const model = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'seq',
        layers: [
          { class_name: 'Dense', config: { units: 4, name: 'd1', batch_input_shape: [null, 3] } },
          { class_name: 'Activation', config: { activation: 'relu', name: 'act' } },
          { class_name: 'Dense', config: { units: 2, name: 'd2' } },
        ],
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: [] }],
  };
  const text = JSON.stringify(model);
  assert.ok(!text.includes('\n'));
  const { format, entries } = locateLayerEntries(text);
  assert.equal(format, 'tfjs-layers');
  assert.deepEqual(entries.map((e) => e.name), ['d1', 'act', 'd2']);
  assert.deepEqual(
    entries.map((e) => JSON.parse(text.slice(e.start, e.end))),
    model.modelTopology.config.layers,
  );
});

test('old Sequential files whose config is the layer list itself', () => {
  const text = JSON.stringify({
    modelTopology: { model_config: { class_name: 'Sequential', config: [{ class_name: 'Dense', config: { name: 'only' } }] } },
    weightsManifest: [],
  });
  assert.deepEqual(locateLayerEntries(text).entries.map((e) => e.name), ['only']);
});

test('graph model (minified): nodes located by index and name', () => {
  const text = fixture('graph-model.json');
  assert.ok(!text.trimEnd().includes('\n'));
  const { format, entries } = locateLayerEntries(text);
  assert.equal(format, 'tfjs-graph');
  assert.equal(entries.length, 5);
  assert.equal(entries[2].name, 'StatefulPartitionedCall/sequential/conv2d/Relu');
  assert.equal(entries[2].op, '_FusedConv2D');
  const node = JSON.parse(text.slice(entries[3].start, entries[3].end)) as { op: string };
  assert.equal(node.op, 'MatMul');
});

test('no layers in unrelated or broken JSON', () => {
  assert.deepEqual(locateLayerEntries('{"name": "package", "version": "1.0.0"}'), { format: null, entries: [] });
  assert.deepEqual(locateLayerEntries(fixture('layers-model.json').slice(0, 500)), { format: null, entries: [] });
});

test('entryForLayer prefers sourceIndex, falls back to the name, and refuses a mismatched index', () => {
  const { entries } = locateLayerEntries(fixture('layers-model.json'));
  assert.equal(entryForLayer(entries, { name: 'dense', sourceIndex: 4 })?.index, 4);
  assert.equal(entryForLayer(entries, { name: 'dense' })?.index, 4);
  assert.equal(entryForLayer(entries, { name: 'dense', sourceIndex: 1 })?.index, 4);
  assert.equal(entryForLayer(entries, { name: 'dense', sourceIndex: 99 }, entriesByName(entries))?.index, 4);
  assert.equal(entryForLayer(entries, { name: 'nope' }), undefined);
});

test('entryAt finds the entry holding an offset', () => {
  const text = fixture('layers-model.json');
  const { entries } = locateLayerEntries(text);
  const offset = text.indexOf('"units": 10');
  assert.equal(entryAt(entries, offset)?.name, 'dense');
  assert.equal(entryAt(entries, entries[1].start)?.name, 'conv2d');
  assert.equal(entryAt(entries, entries[1].end)?.name, undefined);
  assert.equal(entryAt(entries, 0), undefined);
});

test('isTfjsModelJson tells a TF.js model.json from other JSON by content', () => {
  assert.equal(isTfjsModelJson(fixture('layers-model.json')), true);
  assert.equal(isTfjsModelJson(fixture('graph-model.json')), true);
  assert.equal(isTfjsModelJson('{"name": "x", "modelTopology": {}}'), false);
  assert.equal(isTfjsModelJson('{"description": "mentions \\"modelTopology\\" and \\"weightsManifest\\""}'), false);
  assert.equal(isTfjsModelJson('{"modelTopology": {}, "weightsManifest": [] '), false);
  assert.equal(isTfjsModelJson('\ufeff{"modelTopology": {}, "weightsManifest": []}'), true);
});

test('weightShardPaths lists every shard once, in order', () => {
  assert.deepEqual(weightShardPaths(fixture('graph-model.json')), ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
  assert.deepEqual(
    weightShardPaths(JSON.stringify({ weightsManifest: [{ paths: ['a.bin', 'b.bin'] }, { paths: ['b.bin', 'c.bin', 7] }, {}] })),
    ['a.bin', 'b.bin', 'c.bin'],
  );
  assert.deepEqual(weightShardPaths('not json'), []);
});
