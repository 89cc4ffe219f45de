// Closing the compute pool while a worker is in the middle of a solve (a run that failed or was
// cancelled while other layers were still running): the busy worker is asked to stop through the
// shared flag and replies before it is terminated, so no worker is killed inside a native call.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ComputePool } from '../../src/host/compute-pool';
import type { ConvSpec } from '../../src/model/ir';
import { seeded } from '../helpers/onnx-builder';

const root = resolve(__dirname, '..', '..');
const script = join(root, 'dist', 'compute.js');

before(() => {
  if (!existsSync(script)) {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  }
});

test('close() with a busy worker waits for its reply (well inside the grace period), then stops it', async () => {
  const c = 32;
  const spec: ConvSpec = { type: 'conv', channelsLast: false, weight: { dims: [c, c, 3, 3], data: Float32Array.from(seeded(c * c * 9, 5)) }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
  const pool = new ComputePool(script, 1);
  // tol 1e-12 with a large cap: the solve would run for minutes.
  const solve = pool.solve({ spec, inputShape: [1, c, 48, 48] }, { tol: 1e-12, maxIter: 100_000, seed: 1, method: 'lanczos' });
  const settled = solve.then(
    () => 'resolved',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  await new Promise((r) => setTimeout(r, 1500));
  const started = performance.now();
  const stopped = await pool.close();
  const closeMs = performance.now() - started;
  assert.equal(await settled, 'the compute pool was closed');
  // The worker replied to the flag (a product pair here takes milliseconds) before it was terminated.
  assert.deepEqual(stopped, { busy: 1, replied: 1 });
  assert.ok(closeMs < 900, `close() took ${closeMs.toFixed(0)} ms`);
  // A second close is a no-op.
  assert.deepEqual(await pool.close(), { busy: 0, replied: 0 });
});
