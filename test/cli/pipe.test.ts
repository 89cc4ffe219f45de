// The CLI's output read through real pipes, as `lipschitz-lens model --json | jq` and CI steps read
// it: a report of several hundred KiB (a pipe holds 64 KiB) must arrive whole on every exit path —
// success, a failed gate, bad input and cancellation — with a slow reader too.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Report } from '../../src/protocol/report';
import { attr, buildModel, floats, node, seeded } from '../helpers/onnx-builder';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'll-pipe-'));
const PIPE_CAPACITY = 64 * 1024;
/** These tests are about the bytes on the pipe; the bracket's seconds of search would only slow them. */
const BRACKET_OFF = ['--bracket=off'];

/**
 * `blocks` × (3x3 Conv on 4 channels at 6x6, then Relu): 2·blocks rows. With one shared weight
 * every conv after the first reuses the first solve, so the run is quick; distinct weights make
 * every conv a solve of its own (a run long enough to interrupt).
 */
function convChain(path: string, blocks: number, distinct: boolean): string {
  // Scaled so that σ is near 1 and the composed bounds of hundreds of layers stay finite.
  const weights = Array.from({ length: distinct ? blocks : 1 }, (_, i) => floats(`w${i}`, [4, 4, 3, 3], seeded(4 * 4 * 9, 100 + i).map((v) => v * 0.15)));
  writeFileSync(path, buildModel({
    opset: 13,
    inputs: [{ name: 'x0', shape: [1, 4, 6, 6] }],
    outputs: [{ name: `x${blocks}`, shape: [1, 4, 6, 6] }],
    initializers: weights,
    nodes: Array.from({ length: blocks }, (_, i) => [
      node('Conv', [`x${i}`, `w${distinct ? i : 0}`], [`c${i}`], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('kernel_shape', [3, 3])], `block${i}/conv`),
      node('Relu', [`c${i}`], [`x${i + 1}`], [], `block${i}/relu`),
    ]).flat(),
  }));
  return path;
}

/** 1,400 rows: about 890 KiB of JSON and 127 KiB of table. */
const BLOCKS = 700;
/** 600 rows, 300 of them solves: the closed-form rows alone make 145 KiB of JSON. */
const SLOW_BLOCKS = 300;
let quick: string;
let slow: string;

before(() => {
  if (!existsSync(cli)) {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  }
  quick = convChain(join(scratch, 'chain.onnx'), BLOCKS, false);
  slow = convChain(join(scratch, 'slow-chain.onnx'), SLOW_BLOCKS, true);
});

interface Piped {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with stdout and stderr on pipes read by this process. The reader starts late
 * (`readAfterMs`), so the pipe is full and the rest waits in the writer's queue; `interrupt` sends
 * a signal once stderr shows that many progress lines.
 */
function runThroughPipe(args: string[], options: { readAfterMs?: number; interrupt?: { signal: NodeJS.Signals; afterLines: number } } = {}): Promise<Piped> {
  return new Promise((resolvePiped, reject) => {
    const child = spawn(process.execPath, [cli, ...args, ...BRACKET_OFF], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(options.interrupt ? { LIPSCHITZ_LENS_PROGRESS: '1' } : {}) },
    });
    const out: Buffer[] = [];
    let stderr = '';
    let signalled = false;
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stdout.resume();
    }, options.readAfterMs ?? 0);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const interrupt = options.interrupt;
      if (interrupt && !signalled && (stderr.match(/^\[\d+\/\d+\]/gm)?.length ?? 0) >= interrupt.afterLines) {
        signalled = true;
        child.kill(interrupt.signal);
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; stderr so far:\n${stderr}`));
    }, 120_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePiped({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
  });
}

/** The same through a shell pipeline into `cat` that starts reading late; the status is the CLI's. */
function runThroughShell(args: string[]): Piped {
  const quoted = [process.execPath, cli, ...args, ...BRACKET_OFF].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const result = spawnSync('bash', ['-c', `${quoted} | (sleep 0.5; cat); exit "\${PIPESTATUS[0]}"`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

function parseWhole(piped: Piped, atLeast = 4 * PIPE_CAPACITY): Report {
  assert.ok(piped.stdout.length > atLeast, `only ${piped.stdout.length} bytes arrived (stderr: ${piped.stderr.slice(0, 400)})`);
  assert.ok(piped.stdout.endsWith('}\n'), `the output ends with ${JSON.stringify(piped.stdout.slice(-40))}`);
  return JSON.parse(piped.stdout) as Report;
}

describe('a report of several hundred KiB arrives whole through a pipe', () => {
  test('success (exit 0): a slow reader in this process gets every byte and parses it', async () => {
    const piped = await runThroughPipe([quick, '--json', '-q'], { readAfterMs: 500 });
    assert.equal(piped.status, 0, piped.stderr);
    const report = parseWhole(piped);
    assert.equal(report.layers.length, 2 * BLOCKS);
    assert.equal(report.layers.at(-1)!.name, `block${BLOCKS - 1}/relu`);
    assert.ok(report.bounds.certified !== null && report.bounds.product !== null);
  });

  test('success through `| cat` in a shell', () => {
    const piped = runThroughShell([quick, '--json', '-q']);
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(parseWhole(piped).layers.length, 2 * BLOCKS);
  });

  test('--fail-above below the certified bound: exit 1, the whole report on stdout, the reason on stderr', async () => {
    const reference = runThroughShell([quick, '--json', '-q']);
    const certified = parseWhole(reference).bounds.certified!;
    const threshold = String(certified / 2);
    for (const piped of [await runThroughPipe([quick, '--json', '-q', '--fail-above', threshold], { readAfterMs: 500 }), runThroughShell([quick, '--json', '-q', '--fail-above', threshold])]) {
      assert.equal(piped.status, 1, piped.stderr);
      assert.equal(parseWhole(piped).layers.length, 2 * BLOCKS);
      assert.match(piped.stderr, /certified network bound L ≤ \S+ exceeds --fail-above/);
      assert.equal(piped.stderr.trim().split('\n').length, 1, piped.stderr);
    }
  });

  test('--fail-above-estimate below the estimate: exit 1 through a pipe, the report whole', async () => {
    const piped = await runThroughPipe([quick, '--json', '-q', '--fail-above-estimate', '0.001'], { readAfterMs: 500 });
    assert.equal(piped.status, 1, piped.stderr);
    assert.equal(parseWhole(piped).layers.length, 2 * BLOCKS);
    assert.match(piped.stderr, /network estimate L ≈ \S+ exceeds --fail-above-estimate 0\.001/);
  });

  test('the readable table arrives whole through `| cat`', () => {
    const piped = runThroughShell([quick, '-q']);
    assert.equal(piped.status, 0, piped.stderr);
    assert.ok(piped.stdout.length > PIPE_CAPACITY, `${piped.stdout.length} bytes`);
    assert.match(piped.stdout, new RegExp(`block${BLOCKS - 1}/relu`));
    assert.match(piped.stdout, /\n\d+ layers in [\d.]+ s on \w+[^\n]*\n$/);
  });

  test('bad input (exit 2) through pipes: stdout empty, one whole line on stderr', async () => {
    const missing = join(scratch, 'missing.onnx');
    for (const piped of [await runThroughPipe([missing, '--json'], { readAfterMs: 200 }), runThroughShell([missing, '--json'])]) {
      assert.equal(piped.status, 2, piped.stderr);
      assert.equal(piped.stdout, '');
      assert.match(piped.stderr, /^lipschitz-lens: .*missing\.onnx.*no such file.*\n$/);
    }
  });
});

describe('a cancelled run exits 130 and prints what it has, through a pipe', () => {
  for (const [signal, threads] of [['SIGINT', '1'], ['SIGTERM', '2']] as const) {
    test(`${signal} (--threads ${threads}): a partial JSON report of the finished layers, and one note on stderr`, async () => {
      // The Relu rows are closed forms and finish at once; wait for two convs beyond them. At this
      // tol each conv runs to the iteration cap, so the run is far from done when the signal comes.
      const piped = await runThroughPipe([slow, '--json', '--tol', '1e-9', '--max-iter', '5000', '--threads', threads], {
        readAfterMs: 300,
        interrupt: { signal, afterLines: SLOW_BLOCKS + 2 },
      });
      assert.equal(piped.signal, null, 'the CLI handled the signal itself');
      assert.equal(piped.status, 130, piped.stderr.slice(-600));
      // The closed-form rows alone make more than a pipe holds.
      const report = parseWhole(piped, 2 * PIPE_CAPACITY);
      assert.equal(report.cancelled, true);
      assert.ok(report.layers.length >= SLOW_BLOCKS + 2 && report.layers.length < 2 * SLOW_BLOCKS, `${report.layers.length} rows`);
      const names = report.layers.map((layer) => layer.name);
      assert.deepEqual(names, [...names].sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]) || a.localeCompare(b)), 'rows in model order');
      assert.equal(report.bounds.product, null);
      assert.equal(report.bounds.certified, null);
      const note = piped.stderr.trim().split('\n').at(-1)!;
      assert.match(note, new RegExp(`cancelled with ${report.layers.length} of ${2 * SLOW_BLOCKS} layers done`));
    });
  }
});
