// Failure paths and the host's health: a broken model gives an error naming the file, cancel
// stops a long run promptly, the extension host's event loop never blocks for more than 50 ms
// during a run, and a worker killed mid-run does not stop the next run from succeeding.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { suiteConfig } from './config';
import { activated, estimate, estimateReport, isReport, sleep, weighted, withTimeout } from './helpers';

/** The command's outcome for a model that cannot be read: a rejection, or `{ error }`. */
async function errorOf(uri: vscode.Uri): Promise<string> {
  try {
    const result = await estimate(uri, 30_000);
    if (result && typeof result === 'object' && typeof (result as { error?: unknown }).error === 'string') return (result as { error: string }).error;
    assert.fail(`estimate(${basename(uri.fsPath)}) resolved with ${JSON.stringify(result)?.slice(0, 200)}; expected an error`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return e instanceof Error ? e.message : String(e);
  }
}

/** What the command resolves with when cancelled: undefined, or a report marked cancelled. */
function isCancelledOutcome(result: unknown): boolean {
  if (result === undefined || result === null) return true;
  return typeof result === 'object' && ((result as { cancelled?: unknown }).cancelled === true || (result as { status?: unknown }).status === 'cancelled');
}

/** The extension host's event-loop blocking over `ms`: histogram maximum and 10 ms interval lateness. */
async function loopDelay(ms: number): Promise<{ maxMs: number; worstGapMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let worstGapMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worstGapMs = Math.max(worstGapMs, now - last - 10);
    last = now;
  }, 10);
  histogram.enable();
  await sleep(ms);
  histogram.disable();
  clearInterval(timer);
  // The histogram's samples include its own 10 ms resolution (an idle loop reads ~10 ms).
  return { maxMs: Math.max(0, histogram.max / 1e6 - 10), worstGapMs };
}

interface TestingApi {
  testing?: { terminateWorker?: () => Promise<void> | void };
}

describe('robustness', function () {
  this.timeout(90_000);
  before(async () => {
    await activated();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('lipschitzLens.cancel');
  });

  it('reports a broken .onnx with an error naming the file', async () => {
    const message = await errorOf(vscode.Uri.file(suiteConfig().workspace.brokenOnnx));
    assert.match(message, /broken\.onnx/, message);
  });

  it('reports a model.json with a missing weight shard, naming the shard', async () => {
    const message = await errorOf(vscode.Uri.file(suiteConfig().workspace.brokenTfjs));
    assert.match(message, /no-such-shard\.bin/, message);
  });

  it('keeps the extension host event loop responsive (no block > 50 ms) during a run', async () => {
    const uri = vscode.Uri.file(suiteConfig().workspace.slowTfjs);
    await sleep(500); // let whatever the previous test started settle
    const idle = await loopDelay(2000);
    const running = estimate(uri, 120_000).catch((e: unknown) => e);
    const busy = await loopDelay(4000);
    await vscode.commands.executeCommand('lipschitzLens.cancel');
    await withTimeout(running, 10_000, 'the cancelled run');
    // On an overloaded machine the idle host itself already stalls (the OS does not schedule it);
    // then a block counts only beyond that noise floor. On a quiet machine the limit is 50 ms.
    const noise = Math.max(idle.maxMs, idle.worstGapMs);
    const limit = noise > 30 ? 50 + noise : 50;
    const worst = Math.max(busy.maxMs, busy.worstGapMs);
    const detail = `during the run: max delay ${busy.maxMs.toFixed(1)} ms, 10 ms timer late by ${busy.worstGapMs.toFixed(1)} ms; idle host before it: ${idle.maxMs.toFixed(1)} / ${idle.worstGapMs.toFixed(1)} ms; limit ${limit.toFixed(0)} ms`;
    console.log(`      event loop ${detail}`);
    assert.ok(worst < limit, `the extension host blocked: ${detail}`);
  });

  it('cancels a long run within 2 s', async () => {
    const uri = vscode.Uri.file(suiteConfig().workspace.slowTfjs);
    const run = estimate(uri, 120_000);
    await sleep(1500);
    const t = Date.now();
    await vscode.commands.executeCommand('lipschitzLens.cancel');
    const result = await withTimeout(run, 2000, 'the run after lipschitzLens.cancel');
    assert.ok(isCancelledOutcome(result), `a cancelled run resolved with ${JSON.stringify(result)?.slice(0, 200)}`);
    assert.ok(Date.now() - t < 2000);
  });

  it('recovers when the worker is killed mid-run: the next run succeeds', async () => {
    const ext = await activated();
    const api = ext.exports as TestingApi | undefined;
    const terminate = api?.testing?.terminateWorker;
    assert.ok(terminate, 'the extension exports no testing.terminateWorker() (see test/vscode/README.md)');
    const slow = vscode.Uri.file(suiteConfig().workspace.slowTfjs);
    const run = estimate(slow, 120_000).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    await sleep(1500);
    await terminate();
    const outcome = await withTimeout(run, 5000, 'the run whose worker was killed');
    assert.ok(!(outcome.ok && isReport(outcome.r) && weighted(outcome.r).every((l) => l.sigma !== null)), 'a killed run claimed a full report');
    const next = await estimateReport(vscode.Uri.file(suiteConfig().workspace.freshTfjs), 60_000);
    assert.ok(weighted(next).every((l) => typeof l.sigma === 'number'));
  });
});
