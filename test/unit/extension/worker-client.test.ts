import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FromWorker, LogMessage } from '../../../src/protocol/messages';
import { DEFAULT_SETTINGS } from '../../../src/protocol/report';
import { WorkerClient, WorkerJobError, type WorkerPort } from '../../../src/extension/worker-client';
import { Worker } from 'node:worker_threads';

const script = join(import.meta.dirname, 'fixtures', 'fake-worker.mjs');

function client(extra: { cancelGraceMs?: number; idleMs?: number; spawned?: WorkerPort[]; logs?: LogMessage[] } = {}) {
  return new WorkerClient({
    scriptPath: script,
    cancelGraceMs: extra.cancelGraceMs,
    idleMs: extra.idleMs,
    onLog: (m) => extra.logs?.push(m),
    createWorker: (path) => {
      const worker = new Worker(path) as unknown as WorkerPort;
      extra.spawned?.push(worker);
      return worker;
    },
  });
}

const source = (path: string) => ({ kind: 'path' as const, path });

test('a run streams model, layer and done, and resolves with the report', async () => {
  const logs: LogMessage[] = [];
  const c = client({ logs });
  const seen: FromWorker['type'][] = [];
  try {
    const handle = c.run('a', source('ok'), DEFAULT_SETTINGS, (m) => seen.push(m.type));
    assert.equal(c.isRunning('a'), true);
    const outcome = await handle.result;
    assert.equal(outcome.kind, 'done');
    assert.equal(outcome.kind === 'done' && outcome.report.bounds.product, 2);
    assert.deepEqual(seen, ['log', 'model', 'layer', 'done']);
    assert.equal(c.isRunning('a'), false);
    assert.ok(logs.some((l) => l.text === 'backend wasm'));
  } finally {
    await c.dispose();
  }
});

test('the worker is spawned lazily and reused between jobs', async () => {
  const spawned: WorkerPort[] = [];
  const c = client({ spawned });
  try {
    assert.equal(spawned.length, 0);
    await c.run('a', source('ok'), DEFAULT_SETTINGS).result;
    await c.run('b', source('ok'), DEFAULT_SETTINGS).result;
    const described = await c.describe(source('ok')).result;
    assert.equal(described.model.format, 'onnx');
    assert.equal(spawned.length, 1);
  } finally {
    await c.dispose();
  }
});

test('an error from the worker rejects with its one-line message and badInput', async () => {
  const c = client();
  try {
    await assert.rejects(c.run('a', source('bad'), DEFAULT_SETTINGS).result, (error: unknown) => {
      assert.ok(error instanceof WorkerJobError);
      assert.equal(error.message, 'bad.onnx: not an ONNX model');
      assert.equal(error.badInput, true);
      return true;
    });
  } finally {
    await c.dispose();
  }
});

test('cancel reaches a worker whose event loop is blocked through the shared flag', async () => {
  const spawned: WorkerPort[] = [];
  const c = client({ spawned, cancelGraceMs: 5000 });
  try {
    const handle = c.run('a', source('polls-flag'), DEFAULT_SETTINGS);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    handle.cancel();
    assert.deepEqual(await handle.result, { kind: 'cancelled' });
    assert.ok(Date.now() - started < 2000, 'stopped promptly, without the terminate fallback');
    // The worker survived the cancel and is reused.
    await c.run('a', source('ok'), DEFAULT_SETTINGS).result;
    assert.equal(spawned.length, 1);
  } finally {
    await c.dispose();
  }
});

test('a worker that ignores cancel is terminated after the grace period; waiting jobs go to a fresh worker', async () => {
  const spawned: WorkerPort[] = [];
  const logs: LogMessage[] = [];
  const c = client({ spawned, logs, cancelGraceMs: 300 });
  try {
    const handle = c.run('a', source('stuck'), DEFAULT_SETTINGS);
    const waiting = c.run('b', source('ok'), DEFAULT_SETTINGS);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    handle.cancel();
    assert.deepEqual(await handle.result, { kind: 'cancelled' });
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 1500, `terminated after ${waited} ms`);
    assert.ok(logs.some((l) => l.level === 'warn' && /terminating the worker/.test(l.text)));
    // The job that waited behind the stuck one runs on a fresh worker.
    assert.equal((await waiting.result).kind, 'done');
    assert.equal(spawned.length, 2);
  } finally {
    await c.dispose();
  }
});

test('cancelling a job that waits behind another is immediate and leaves the running one alone', async () => {
  const c = client({ cancelGraceMs: 200 });
  try {
    const running = c.run('a', source('polls-flag'), DEFAULT_SETTINGS);
    const waiting = c.run('b', source('ok'), DEFAULT_SETTINGS);
    await new Promise((r) => setTimeout(r, 100));
    waiting.cancel();
    assert.deepEqual(await waiting.result, { kind: 'cancelled' });
    // Well past the grace period: the running job was not terminated for the waiting job's cancel.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(c.isRunning('a'), true);
    running.cancel();
    assert.deepEqual(await running.result, { kind: 'cancelled' });
  } finally {
    await c.dispose();
  }
});

test('a worker that exits rejects its job with a clear error, and the next run respawns', async () => {
  const spawned: WorkerPort[] = [];
  const c = client({ spawned });
  try {
    await assert.rejects(c.run('a', source('crash'), DEFAULT_SETTINGS).result, /worker stopped unexpectedly \(exit code 3\)/);
    await assert.rejects(c.run('a', source('throw'), DEFAULT_SETTINGS).result, /worker crashed: boom in worker/);
    assert.equal((await c.run('a', source('ok'), DEFAULT_SETTINGS).result).kind, 'done');
    assert.equal(spawned.length, 3);
  } finally {
    await c.dispose();
  }
});

test('a second run of the same model cancels the first', async () => {
  const c = client({ cancelGraceMs: 5000 });
  try {
    const first = c.run('m', source('polls-flag'), DEFAULT_SETTINGS);
    await new Promise((r) => setTimeout(r, 100));
    const second = c.run('m', source('ok'), DEFAULT_SETTINGS);
    assert.deepEqual(await first.result, { kind: 'cancelled' });
    assert.equal((await second.result).kind, 'done');
  } finally {
    await c.dispose();
  }
});

test('a worker script that cannot start rejects the job', async () => {
  const c = new WorkerClient({
    scriptPath: join(import.meta.dirname, 'fixtures', 'no-such-worker.js'),
  });
  try {
    await assert.rejects(c.run('a', source('ok'), DEFAULT_SETTINGS).result, /worker (crashed|stopped|could not start)/);
  } finally {
    await c.dispose();
  }
});

test('dispose ends runs in flight as cancelled', async () => {
  const c = client({ cancelGraceMs: 5000 });
  const handle = c.run('a', source('stuck'), DEFAULT_SETTINGS);
  await new Promise((r) => setTimeout(r, 100));
  await c.dispose();
  assert.deepEqual(await handle.result, { kind: 'cancelled' });
  await assert.rejects(c.run('a', source('ok'), DEFAULT_SETTINGS).result, /shut down/);
});

test('an idle worker is stopped after idleMs and respawned for the next job', async () => {
  const spawned: WorkerPort[] = [];
  const c = client({ spawned, idleMs: 150 });
  try {
    await c.run('a', source('ok'), DEFAULT_SETTINGS).result;
    assert.equal(c.hasWorker, true);
    await new Promise((r) => setTimeout(r, 50));
    await c.describe(source('ok')).result;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.hasWorker, true, 'the second job restarted the idle clock');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(c.hasWorker, false);
    assert.equal((await c.run('a', source('ok'), DEFAULT_SETTINGS).result).kind, 'done');
    assert.equal(spawned.length, 2);
  } finally {
    await c.dispose();
  }
});
