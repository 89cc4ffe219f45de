// Time budgets of the bracket (docs/bracket.md#time-budgets): the lower side stops within about a
// second of its budget or of a cancel even when one pass of the network takes seconds (checks between
// the ops of forward and backward passes), and keeps the pairs it finished; the upper side visits its
// circular segments cheapest first and abandons one that cannot finish, and a cancel stops it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { measureLowerBound } from '../../../src/engine/executor/lower-bound';
import { computeBracket } from '../../../src/engine/bracket';
import { expandCertified } from '../../../src/engine/bracket/expand';
import { crudeConstants, twoSegmentNet, wideConvNet } from './segment-nets';
import { CancelledError } from '../../../src/engine/operator';
import { executionPlan, runGraph } from '../../../src/engine/executor/execute';
import type { LayerResult } from '../../../src/protocol/report';


// 40 layers of 32 channels at 64²: one forward pass takes about a second on the test machine, one
// gradient several, while every single op takes well under 0.2 s.
const WIDE = wideConvNet(40, 32, 64);
const SLACK_MS = 1000;

/** Wall time of `f` in ms, and the tensors it leaves behind. */
function timed<T>(f: () => T): { value: T; ms: number; leaked: number } {
  const before = tf.memory().numTensors;
  const started = performance.now();
  const value = f();
  return { value, ms: performance.now() - started, leaked: tf.memory().numTensors - before };
}

test('a budget shorter than one pass: the lower side returns within the budget + 1 s, timed out, with no value and no leaked tensors', async () => {
  await initBackend();
  const budget = 300;
  const { value: result, ms, leaked } = timed(() => measureLowerBound(WIDE, { timeBudgetMs: budget, samples: 1 }));
  assert.ok(ms < budget + SLACK_MS, `${ms.toFixed(0)} ms for a ${budget} ms budget`);
  assert.equal(result.timedOut, true);
  assert.equal(result.value, 0);
  assert.equal(leaked, 0);
});

test('the bracket reports the lower side as unavailable with the reason when the budget ends before the first pair', async () => {
  await initBackend();
  const layers = WIDE.nodes.map(() => ({ sigma: 1, upperBound: 1 }) as unknown as LayerResult);
  const { value: result, ms } = timed(() => computeBracket(WIDE, layers, 1, { lowerSeconds: 0.3, upperSeconds: 0.3, samples: 1 }));
  assert.ok(ms < 600 + 2 * SLACK_MS, `${ms.toFixed(0)} ms for two 300 ms budgets`);
  assert.equal(result.bounds.lower, null);
  assert.equal(result.bounds.bracket?.lower.timedOut, true);
  assert.match(result.bounds.bracket?.lower.unavailable ?? '', /0\.3 s budget ran out before the first pair/);
});

test('a budget that ends during a gradient keeps the pairs already finished, and stops within 1 s', async () => {
  await initBackend();
  // One forward pass, timed here (load varies): the first pair needs two, the first gradient several more.
  const forward = timed(() => tf.tidy(() => runGraph(WIDE, executionPlan(WIDE), tf.zeros(WIDE.inputs[0].shape), true)[0].dataSync())).ms;
  const budget = 3 * forward + 200;
  const { value: result, ms, leaked } = timed(() => measureLowerBound(WIDE, { timeBudgetMs: budget, samples: 1 }));
  assert.ok(ms < budget + SLACK_MS, `${ms.toFixed(0)} ms for a ${budget.toFixed(0)} ms budget (one pass ${forward.toFixed(0)} ms)`);
  assert.equal(result.timedOut, true);
  assert.ok(result.value > 0 && result.foundBy === 'sample', `value ${result.value} by ${result.foundBy}`);
  assert.equal(leaked, 0);
});

test('shouldStop during a pass throws CancelledError within 1 s', async () => {
  await initBackend();
  let stopAt = Infinity;
  const started = performance.now();
  // Flip after 400 ms of work (checked through the clock: the run is synchronous).
  const shouldStop = () => {
    if (performance.now() - started > 400) stopAt = Math.min(stopAt, performance.now());
    return stopAt < Infinity;
  };
  let thrown: unknown;
  const before = tf.memory().numTensors;
  try {
    measureLowerBound(WIDE, { timeBudgetMs: 60_000, samples: 1, shouldStop });
  } catch (error) {
    thrown = error;
  }
  const ms = performance.now() - started;
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.ok(thrown instanceof CancelledError, `threw ${String(thrown)}`);
  assert.ok(ms < 400 + SLACK_MS, `cancelled after ${ms.toFixed(0)} ms`);
});


// Steps that cannot fit are not started. A fake clock makes it exact: every checkpoint (before each
// node of a forward pass, and as the backward pass reaches each node) advances it by 1 ms, so a
// forward pass of this 8-node net costs 8 ms, a gradient 16 ms, a power step (two forward passes
// and a gradient) 32 ms.
test('a step whose estimated cost does not fit what is left of the budget is skipped: the search ends before the budget, no pass cut off, the best pair kept', async () => {
  await initBackend();
  const model = wideConvNet(4, 4, 8);
  const nodes = executionPlan(model).length;
  assert.equal(nodes, 8);
  let clock = 0;
  const shouldStop = () => {
    clock += 1;
    return false;
  };
  // Room for two power steps (64 ms and a few checkStop calls) but not a third.
  const budget = 80;
  const result = measureLowerBound(model, { timeBudgetMs: budget, samples: 3, powerSteps: 6, ascentSteps: 5, clock: () => clock, shouldStop });
  // Before the budget: the third step (32 ms, 16 left) was never started, so no pass was cut off.
  assert.ok(clock < budget, `ended at ${clock} ms of ${budget}`);
  assert.equal(result.timedOut, true);
  assert.equal(result.evaluations, 2 * 3, 'two power steps: each two forward passes and a gradient');
  assert.equal(result.samplesTried, 1);
  assert.ok(result.value > 0 && result.foundBy === 'sample', `value ${result.value} by ${result.foundBy}`);
  assert.match(result.timedOutReason ?? '', /^the next power step \(about 32 ms\) would have ended past the 80 ms budget \(1\d ms left\)/);
  assert.match(result.timedOutReason ?? '', /not run: 4 × power step, 3 × pair along v, 2 × sample, 6 × move along v, 5 × ascent step$/);
});

test('the bracket reports how the budget ended the lower side', async () => {
  await initBackend();
  const layers = WIDE.nodes.map(() => ({ sigma: 1, upperBound: 1 }) as unknown as LayerResult);
  // Long enough for the first pairs (a few passes of about a second here), far too short for the search.
  const forward = timed(() => tf.tidy(() => runGraph(WIDE, executionPlan(WIDE), tf.zeros(WIDE.inputs[0].shape), true)[0]).dataSync()).ms;
  const lowerSeconds = (8 * forward + 500) / 1000;
  const result = computeBracket(WIDE, layers, 1, { lowerSeconds, upperSeconds: 0.3, samples: 2 });
  assert.ok(result.seconds.lower < lowerSeconds + SLACK_MS / 1000, `${result.seconds.lower} s for ${lowerSeconds} s`);
  assert.ok((result.bounds.lower ?? 0) > 0);
  assert.equal(result.bounds.bracket?.lower.timedOut, true);
  // Either ending is reported in words: a step skipped because its estimate did not fit (with what
  // was left unrun), or, when a pass ran longer than estimated on a loaded machine, the safety net
  // that stops between two ops. The exact skip text is pinned by the deterministic clock test above.
  assert.match(result.bounds.bracket?.lower.timedOutReason ?? '', /budget/);
  assert.match(result.bounds.bracket?.lower.timedOutReason ?? '', /not run: .*ascent step|ran out during a pass of the network \(stopped between two ops\)/);
});

// The upper side (expand.ts): circular segments cheapest first, one that cannot finish abandoned.
// No explicit matrices (maxMatrixEntries), so the circular windows are all the expansion computes.
const TWO_SEGMENTS = twoSegmentNet(3, 3);
const CONSTANTS = crudeConstants(TWO_SEGMENTS);

test('a budget too small for the costly segment still certifies the cheap one after it, within the budget + 1 s', async () => {
  await initBackend(); // for timed()'s tensor count
  const budget = 1000;
  const { value: result, ms } = timed(() => expandCertified(TWO_SEGMENTS, CONSTANTS, { timeBudgetMs: budget, maxMatrixEntries: 1000 }));
  assert.ok(ms < budget + SLACK_MS, `${ms.toFixed(0)} ms for a ${budget} ms budget`);
  assert.equal(result.chains.length, 1);
  const [chain] = result.chains;
  // The 4-channel segment at 16² has 3 groups: 3 + 2 + 1 windows; the 32-channel one (a few seconds
  // here, 1.1e9 estimated flops) none, in chain order it came first and used to take the whole budget.
  assert.equal(chain.circularProducts, 6);
  assert.ok(chain.bound < chain.product / 10, `bound ${chain.bound} vs product ${chain.product}`);
  assert.equal(result.timedOut, true);
});

test('shouldStop inside a circular segment ends the upper side within 1 s', async () => {
  await initBackend(); // for timed()'s tensor count
  const started = performance.now();
  const shouldStop = () => performance.now() - started > 300;
  const { value: result, ms } = timed(() => expandCertified(TWO_SEGMENTS, CONSTANTS, { timeBudgetMs: 60_000, maxMatrixEntries: 1000, shouldStop }));
  assert.ok(ms < 300 + SLACK_MS, `stopped after ${ms.toFixed(0)} ms`);
  // Abandoned windows leave the product: only the cheap segment's windows (done before the stop).
  assert.ok(result.chains[0].circularProducts <= 6);
  assert.ok(result.chains[0].bound <= result.chains[0].product);
});

test('the bracket throws CancelledError when cancelled on the upper side', async () => {
  await initBackend();
  const started = performance.now();
  const shouldStop = () => performance.now() - started > 300;
  const layers = TWO_SEGMENTS.nodes.map((_, i) => ({ sigma: CONSTANTS[i], upperBound: CONSTANTS[i] }) as unknown as LayerResult);
  let thrown: unknown;
  try {
    computeBracket(TWO_SEGMENTS, layers, null, { upperSeconds: 60, lowerSeconds: 60, maxMatrixEntries: 1000, shouldStop });
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof CancelledError, `threw ${String(thrown)}`);
  assert.ok(performance.now() - started < 300 + SLACK_MS);
});

test('a segment that cannot finish in the budget is abandoned after its first frequencies, not at the budget end', async () => {
  await initBackend(); // for timed()'s tensor count
  // Alone in the queue (no rate known yet): the projection from its own frequencies decides. 24
  // channels at 64²: 2,112 frequencies, the whole segment several times the budget.
  const model = twoSegmentNet(5, 0, 24, 64);
  // Unbudgeted it takes 16 s at load 12 (10 windows, bound 98 against the product 4.2e6); here the
  // projection after 16 frequencies ends it in about 0.8 s.
  const budget = 3000;
  const { value: result, ms } = timed(() => expandCertified(model, crudeConstants(model), { timeBudgetMs: budget, maxMatrixEntries: 1000 }));
  assert.equal(result.chains[0].circularProducts, 0);
  assert.equal(result.timedOut, true);
  assert.ok(ms < budget / 2, `${ms.toFixed(0)} ms for a ${budget} ms budget`);
});
