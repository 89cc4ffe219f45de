// Without a terminal the CLI prints a row line only when a layer finishes; a run whose layers each
// take minutes printed two lines in 30 minutes and looked hung. The heartbeat names the layers being
// solved and how long each has run, every interval while nothing else is printed (heartbeat.ts).

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SLOW_SOLVE_ARGS, writeSlowConvModel } from '../helpers/slow-conv';
import { ANNOUNCE_FROM_SECONDS, HEARTBEAT_INTERVAL_MS, RunningLayers, announcesExpectedDuration, heartbeatInterval } from '../../src/cli/heartbeat';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
let model = '';

before(() => {
  if (!existsSync(cli)) {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  }
  model = writeSlowConvModel('slow/conv');
});

describe('RunningLayers', () => {
  test('names the running layers, longest first, with their time and expected time', () => {
    const names = ['a/conv', 'relu', 'b/conv', 'c/conv'];
    const running = new RunningLayers((i) => names[i], (i) => (i === 0 ? 116 : 0));
    running.start(2, 10_000);
    running.start(0, 4_000);
    running.start(3, 11_000);
    running.finish(3);
    assert.equal(running.size, 2);
    assert.equal(running.line(7, 40, 95, 125_000), '[7/40] 95 s: running a/conv (2 min 1 s; expected ~116 s), b/conv (115 s)');
  });

  test('says so when no layer is being solved, and before the layer count is known', () => {
    const running = new RunningLayers(() => 'x', () => 0);
    assert.equal(running.line(0, undefined, 3.25, 0), '[0/?] 3.3 s: working (no layer is being solved)');
  });
});

describe('announcesExpectedDuration', () => {
  test('on a terminal always; in a pipe only for runs expected to last 10 s or more; never when quiet', () => {
    assert.equal(ANNOUNCE_FROM_SECONDS, 10);
    assert.equal(announcesExpectedDuration({ quiet: false, terminal: true, expectedSeconds: 0.2 }), true);
    assert.equal(announcesExpectedDuration({ quiet: false, terminal: false, expectedSeconds: 0.2 }), false);
    assert.equal(announcesExpectedDuration({ quiet: false, terminal: false, expectedSeconds: 9.9 }), false);
    assert.equal(announcesExpectedDuration({ quiet: false, terminal: false, expectedSeconds: 878 }), true);
    assert.equal(announcesExpectedDuration({ quiet: true, terminal: true, expectedSeconds: 878 }), false);
  });
});

describe('heartbeatInterval', () => {
  test('30 s by default; a positive LIPSCHITZ_LENS_HEARTBEAT_MS overrides it', () => {
    assert.equal(HEARTBEAT_INTERVAL_MS, 30_000);
    assert.equal(heartbeatInterval({}), 30_000);
    assert.equal(heartbeatInterval({ LIPSCHITZ_LENS_HEARTBEAT_MS: '250' }), 250);
    assert.equal(heartbeatInterval({ LIPSCHITZ_LENS_HEARTBEAT_MS: '0' }), 30_000);
    assert.equal(heartbeatInterval({ LIPSCHITZ_LENS_HEARTBEAT_MS: 'soon' }), 30_000);
  });
});

/** Runs the CLI with stderr on a pipe (not a terminal) for `seconds`, then SIGINT; its stderr. */
function runFor(args: string[], seconds: number): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [cli, model, '--json', ...SLOW_SOLVE_ARGS, '--threads', '1', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LIPSCHITZ_LENS_PROGRESS: '', LIPSCHITZ_LENS_HEARTBEAT_MS: '400' },
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    setTimeout(() => child.kill('SIGINT'), seconds * 1000);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit 60 s after the start; stderr:\n${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, stderr });
    });
  });
}

describe('the CLI on a pipe', () => {
  test('prints heartbeat lines naming the layer being solved while it runs', async () => {
    const run = await runFor([], 4);
    assert.equal(run.status, 130, run.stderr);
    const beats = run.stderr.split('\n').filter((line) => /^\[0\/1\] .*: running slow\/conv \(/.test(line));
    assert.ok(beats.length >= 2, `expected at least two heartbeat lines, got:\n${run.stderr}`);
    // The layer's own running time grows from one line to the next.
    const times = beats.map((line) => Number(/running slow\/conv \(([\d.]+) s/.exec(line)?.[1]));
    assert.ok(times.every(Number.isFinite), run.stderr);
    assert.ok(times.at(-1)! > times[0], `running times ${times.join(', ')}`);
  });

  test('--quiet prints no heartbeat', async () => {
    const run = await runFor(['--quiet'], 2);
    assert.equal(run.status, 130, run.stderr);
    assert.doesNotMatch(run.stderr, /running|working/);
  });
});
