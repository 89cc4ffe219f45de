import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJsonText, isSingleLongLine } from '../../../src/extension/model-json-format';
import { locateLayerEntries } from '../../../src/extension/model-json-locations';

const fixture = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'tfjs', 'seq-cnn', 'model.json'), 'utf8');
const oneLine = JSON.stringify(JSON.parse(fixture));

test('a one-line model.json is offered a format; a formatted or short one is not', () => {
  assert.equal(isSingleLongLine(oneLine), true);
  assert.equal(isSingleLongLine(`${oneLine}\n`), true);
  assert.equal(isSingleLongLine(fixture), true, 'the fixture is written as converters write it');
  assert.equal(isSingleLongLine(formatJsonText(fixture)), false);
  assert.equal(isSingleLongLine('{"a":1}'), false);
});

test('formatting keeps the JSON value, puts each layer on its own lines, and locates the same entries', () => {
  const formatted = formatJsonText(oneLine);
  assert.deepEqual(JSON.parse(formatted), JSON.parse(oneLine));
  assert.equal(isSingleLongLine(formatted), false);
  const before = locateLayerEntries(oneLine).entries;
  const after = locateLayerEntries(formatted).entries;
  assert.deepEqual(after.map((e) => [e.index, e.name, e.op]), before.map((e) => [e.index, e.name, e.op]));
  const lineOf = (offset: number) => formatted.slice(0, offset).split('\n').length - 1;
  const lines = after.map((e) => lineOf(e.start));
  assert.equal(new Set(lines).size, lines.length, 'two layers start on one line');
  assert.match(formatted, /\n {12}"kernel_size": \[3, 3\],\n/, 'short arrays of numbers stay inline');
  // Formatting twice changes nothing more.
  assert.equal(formatJsonText(formatted), formatted);
});

test('tokens keep their own spelling: exponents, escapes, unicode and empty containers', () => {
  const text = '{"a":1e-3,"b":"x\\"y\\u00e9","c\\n":[],"d":{},"e":[1.50,-0,true,null],"f":[{"g":[]}]}';
  const formatted = formatJsonText(text);
  assert.equal(formatted, '{\n  "a": 1e-3,\n  "b": "x\\"y\\u00e9",\n  "c\\n": [],\n  "d": {},\n  "e": [1.50, -0, true, null],\n  "f": [\n    {\n      "g": []\n    }\n  ]\n}\n');
  assert.deepEqual(JSON.parse(formatted), JSON.parse(text));
});

test('long arrays of numbers break one item per line; invalid JSON throws', () => {
  const text = JSON.stringify({ shape: Array.from({ length: 40 }, (_, i) => i * 1000) });
  const formatted = formatJsonText(text);
  assert.equal(formatted.split('\n').length, 40 + 5, '{, "shape": [, 40 numbers, ], } and the final newline');
  assert.throws(() => formatJsonText('{"a":'), /offset/);
});
