// Cancel stops the work within a second, whatever the thread count and whatever is running: a run
// interrupted in the middle of one long solve, or of the bracket, exits 130 at once, not when that
// step ends. Before, `--threads 1` and small models solved in the CLI's own thread, where SIGINT was
// seen only between layers (this one-layer model ran its 265 s solve to the end and exited 0), and
// the bracket, run in the CLI's thread after the layers, ignored SIGINT until it had finished.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { SLOW_SOLVE_ARGS, writeSlowConvModel } from '../helpers/slow-conv';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
let model = '';
/**
 * Seconds from the signal to the exit: a second, with room for scheduling, on a quiet machine. On a
 * machine with more runnable threads than cores every step takes proportionally longer (2.8 s was
 * seen at load 20 on 2 cores, 0.1 s at load 2), so the allowance scales with the load per core.
 */
const CANCEL_WITHIN_S = 1.5 * Math.max(1, loadavg()[0] / availableParallelism());

before(() => {
  if (!existsSync(cli)) {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  }
  model = writeSlowConvModel('big/conv');
});

interface Interrupted {
  status: number | null;
  secondsAfterSignal: number;
  stdout: string;
  stderr: string;
}

/**
 * Starts the CLI on `path`, sends `signal` a second after stderr first matches `when`, and times
 * the exit.
 */
function interrupt(path: string, args: string[], signal: NodeJS.Signals, when: RegExp, afterMs = 1000): Promise<Interrupted> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [cli, path, '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LIPSCHITZ_LENS_PROGRESS: '1' },
    });
    let stdout = '';
    let stderr = '';
    let signalledAt = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (!signalledAt && when.test(stderr)) {
        signalledAt = -1;
        setTimeout(() => {
          signalledAt = performance.now();
          child.kill(signal);
        }, afterMs);
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit 60 s after the start; stderr:\n${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, secondsAfterSignal: signalledAt > 0 ? (performance.now() - signalledAt) / 1000 : Number.NaN, stdout, stderr });
    });
  });
}

describe('a signal in the middle of a long solve ends the run within a second', () => {
  for (const [signal, threads] of [['SIGINT', ['--threads', '1']], ['SIGINT', []], ['SIGTERM', ['--threads', '2']]] as const) {
    test(`${signal} with ${threads.length > 0 ? threads.join(' ') : 'the default threads'}`, async () => {
      const run = await interrupt(model, [...SLOW_SOLVE_ARGS, ...threads], signal, /1 layers/);
      assert.equal(run.status, 130, run.stderr.slice(-600));
      assert.ok(run.secondsAfterSignal < CANCEL_WITHIN_S, `exited ${run.secondsAfterSignal.toFixed(2)} s after ${signal}`);
      const report = JSON.parse(run.stdout) as { cancelled?: boolean; layers: unknown[] };
      assert.equal(report.cancelled, true);
      assert.equal(report.layers.length, 0, 'the one layer was still being solved');
    });
  }
});

describe('a signal while the bracket runs ends the run within a second', () => {
  test('SIGINT after every layer is done, during the lower bound\'s search', async () => {
    const fixture = join(root, 'test', 'fixtures', 'onnx', 'torch', 'small_cnn.onnx');
    // Every row done ([k/k]): the bracket (seconds of ascent on this model) has begun.
    const run = await interrupt(fixture, ['--bracket=on'], 'SIGINT', /^\[(\d+)\/\1\]/m, 500);
    assert.equal(run.status, 130, run.stderr.slice(-600));
    assert.ok(run.secondsAfterSignal < CANCEL_WITHIN_S, `exited ${run.secondsAfterSignal.toFixed(2)} s after SIGINT`);
    const report = JSON.parse(run.stdout) as { cancelled?: boolean; layers: unknown[]; bounds: { certified: number | null } };
    assert.equal(report.cancelled, true);
    assert.ok(report.layers.length > 0, 'the finished rows are printed');
    assert.equal(report.bounds.certified, null);
    assert.match(run.stderr.trim().split('\n').at(-1) ?? '', new RegExp(`cancelled with ${report.layers.length} of ${report.layers.length} layers done`));
  });
});
