// How many compute workers a run starts (src/host/compute-pool.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { MAX_AUTO_THREADS, resolveThreads } from '../../../src/host/compute-pool';

const GiB = 2 ** 30;

test('an explicit thread count is taken as given', () => {
  assert.equal(resolveThreads(1, 64 * GiB), 1);
  assert.equal(resolveThreads(3, 0), 3);
  assert.equal(resolveThreads(2.7, 64 * GiB), 2);
});

test('auto: one per core, at most MAX_AUTO_THREADS, and only as many as free memory allows', () => {
  assert.equal(resolveThreads(undefined, 64 * GiB), Math.max(1, Math.min(availableParallelism(), MAX_AUTO_THREADS)));
  assert.equal(resolveThreads(0, 64 * GiB), resolveThreads(undefined, 64 * GiB));
  assert.equal(resolveThreads(0, 0.6 * GiB), 1);
  assert.equal(resolveThreads(0, 0), 1);
  assert.ok(resolveThreads(0, 1.1 * GiB) <= 2);
});
