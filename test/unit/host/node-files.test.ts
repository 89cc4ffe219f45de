// A folder given as the model (the CLI's MODEL, a path the worker is sent): one line that names the
// model file inside it when that is clear.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileAccess } from '../../../src/host/node-files';
import { ModelError } from '../../../src/model/errors';

const scratch = mkdtempSync(join(tmpdir(), 'll-node-files-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A folder holding these (empty) files. */
function folder(name: string, files: string[]): string {
  const path = join(scratch, name);
  mkdirSync(path);
  for (const file of files) writeFileSync(join(path, file), '');
  return path;
}

async function problem(path: string): Promise<string> {
  const files = nodeFileAccess(path);
  const error = await files.size(path.split(/[\\/]/).pop() as string).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ModelError, String(error));
  assert.ok(!error.message.includes('\n'), 'one line');
  return error.message;
}

test('a folder with a model.json suggests that file', async () => {
  const path = folder('converted', ['model.json', 'group1-shard1of1.bin']);
  assert.equal(await problem(path), `${path}: is a directory, not a model file: did you mean ${join(path, 'model.json')}?`);
});

test('a folder with one .onnx file suggests it; with two, neither', async () => {
  const one = folder('exported', ['net.onnx', 'README.md']);
  assert.equal(await problem(one), `${one}: is a directory, not a model file: did you mean ${join(one, 'net.onnx')}?`);
  const two = folder('two', ['a.onnx', 'b.onnx']);
  assert.equal(await problem(two), `${two}: is a directory, not a model file`);
});

test('a folder of a TF.js 0.x model says so', async () => {
  const path = folder('legacy', ['tensorflowjs_model.pb', 'weights_manifest.json', 'group1-shard1of1']);
  assert.match(await problem(path), /: is a TF\.js 0\.x model .*re-convert it with tensorflowjs_converter 1\.0 or later to get a model\.json$/);
});
