// The CLI's thresholds and bound lines on hand-made reports: --fail-above gates on the certified
// bound only, --fail-above-estimate on the estimate, and every "no bound" says why.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerResult, Report } from '../../src/protocol/report';
import { checkThresholds } from '../../src/cli/gate';
import { formatNumber, formatTable, whyNotCertified } from '../../src/cli/table';

const row = (name: string, fields: Partial<LayerResult>): LayerResult => ({
  name,
  op: 'Conv',
  kind: 'linear',
  weightShape: [4, 4, 3, 3],
  inputShape: [1, 4, 6, 6],
  outputShape: [1, 4, 6, 6],
  sigma: 2,
  upperBound: 2.5,
  iterations: 10,
  converged: true,
  seconds: 0.01,
  ...fields,
});

function report(layers: LayerResult[], bounds: Partial<Report['bounds']>): Report {
  return { model: { path: 'm.onnx', format: 'onnx', inputShape: [1, 4, 6, 6] }, layers, bounds: { product: null, certified: null, unsupported: [], ...bounds }, seconds: 1 };
}

test('--fail-above compares the certified bound, never the estimate', () => {
  const r = report([row('a', {}), row('b', { sigma: 3, upperBound: 3.5 })], { product: 6, certified: 8.75 });
  assert.deepEqual(checkThresholds(r, { failAbove: 9 }), []);
  assert.deepEqual(checkThresholds(r, { failAbove: 7 }), [`certified network bound L ≤ ${formatNumber(8.75)} exceeds --fail-above 7`]);
  assert.deepEqual(checkThresholds(r, { failAboveEstimate: 7 }), [], 'the estimate 6 is below 7');
  assert.deepEqual(checkThresholds(r, { failAboveEstimate: 5 }), [`network estimate L ≈ ${formatNumber(6)} exceeds --fail-above-estimate 5`]);
  assert.equal(checkThresholds(r, { failAbove: 7, failAboveEstimate: 5 }).length, 2);
  assert.deepEqual(checkThresholds(r, {}), []);
});

test('without a certified bound --fail-above fails and names the layers without an upper bound (a folded conv by its folded bound)', () => {
  const r = report(
    [
      row('conv1', { upperBound: null }),
      row('conv2', { foldedSigma: 1.5, foldedUpperBound: null }),
      row('conv3', { upperBound: null, foldedSigma: 1.5, foldedUpperBound: 1.7 }),
      row('relu', { kind: 'activation', op: 'Relu', sigma: 1, upperBound: 1 }),
    ],
    { product: 4.5, certified: null },
  );
  assert.equal(whyNotCertified(r), 'no certified upper bound for 2 layers conv1 (Conv), conv2 (Conv)');
  assert.deepEqual(checkThresholds(r, { failAbove: 1e9 }), ['no certified network bound to check against --fail-above 1000000000: no certified upper bound for 2 layers conv1 (Conv), conv2 (Conv)']);
  assert.deepEqual(checkThresholds(r, { failAboveEstimate: 1e9 }), [], 'the estimate exists and is below');
  const table = formatTable(r);
  assert.match(table, /^network bound: +none — no certified upper bound for 2 layers/m);
  assert.ok(table.split('\n').includes(`network estimate: L ≈ ${formatNumber(4.5)} (estimate from per-layer σ, not a bound)`), table);
});

test('without any bound both gates fail with the reason: invalid, unsupported, unbounded', () => {
  const r = report([row('conv', { sigma: null, upperBound: null })], {
    invalid: [{ name: 'conv', op: 'Conv', reason: 'weight holds NaN values (first at element 3)' }],
    unsupported: [{ name: 'odd', op: 'Erf' }],
    unbounded: [{ name: 'attn', op: 'MatMul', reason: 'x·y' }],
  });
  const [certified, estimate] = checkThresholds(r, { failAbove: 1, failAboveEstimate: 1 });
  const reasons = 'invalid: conv (weight holds NaN values (first at element 3)); unsupported ops: odd (Erf); unbounded: attn (x·y)';
  assert.equal(certified, `no certified network bound to check against --fail-above 1: ${reasons}`);
  assert.equal(estimate, `no network estimate to check against --fail-above-estimate 1: ${reasons}`);
});

test('a cancelled report says so where the bounds would be', () => {
  const r = { ...report([row('a', {})], {}), cancelled: true };
  assert.match(formatTable(r), /^network bound: +none — cancelled with 1 layer done$/m);
  assert.deepEqual(checkThresholds(r, { failAbove: 10 }), ['no certified network bound to check against --fail-above 10: cancelled with 1 layer done']);
});

test('a composition that overflows float64 says so instead of "unknown"', () => {
  const r = report([row('a', {})], { product: null, certified: null });
  assert.deepEqual(checkThresholds(r, { failAbove: 1, failAboveEstimate: 1 }), [
    'no certified network bound to check against --fail-above 1: the composed bound is above the largest float64 (1.8e308)',
    'no network estimate to check against --fail-above-estimate 1: the composed bound is above the largest float64 (1.8e308)',
  ]);
  assert.match(formatTable({ ...r, bounds: { ...r.bounds, product: 1e300 } }), /^network bound: +none — the composed bound is above the largest float64/m);
});

test('the bracket says how its lower side stopped on the time budget, under the lower-bound line, with or without a lower bound', () => {
  const reason = 'the next power step (about 6.76 s) would have ended past the 12 s budget (5.08 s left); not run: 11 × power step, 1 × sample';
  const stoppedLine = `  lower side stopped:    ${reason}`;
  const upper = { expansion: 0.5, chains: [] };
  const found = report([row('a', {})], {
    product: 0.6,
    certified: 0.6,
    certifiedTight: 0.5,
    lower: 0.25,
    bracket: { width: 2, lower: { foundBy: 'sample', inputRange: [0, 1], samples: 3, evaluations: 40, timedOut: true, timedOutReason: reason }, upper },
  });
  const foundLines = formatTable(found).split('\n');
  const foundAt = foundLines.findIndex((line) => line.startsWith('  measured lower bound:  L ≥ 0.25 (measured'));
  assert.ok(foundAt >= 0, foundLines.join('\n'));
  assert.equal(foundLines[foundAt + 1], stoppedLine, 'right under the lower-bound line');
  // No pair finished within the budget: no lower bound, and still the reason.
  const unavailable = 'the 12 s budget ran out before the first pair of network passes finished';
  const empty = report([row('a', {})], {
    product: 0.6,
    certified: 0.6,
    certifiedTight: 0.5,
    lower: null,
    bracket: { width: null, lower: { unavailable, inputRange: [0, 1], samples: 1, timedOut: true, timedOutReason: reason }, upper },
  });
  const emptyLines = formatTable(empty).split('\n');
  const emptyAt = emptyLines.indexOf(`  measured lower bound:  — (${unavailable})`);
  assert.ok(emptyAt >= 0, emptyLines.join('\n'));
  assert.equal(emptyLines[emptyAt + 1], stoppedLine, 'right under the lower-bound line');
  // A search that did not stop on its budget has no such line.
  const finished = report([row('a', {})], { ...found.bounds, bracket: { width: 2, lower: { foundBy: 'ascent', inputRange: [0, 1], samples: 16 }, upper } });
  assert.doesNotMatch(formatTable(finished), /lower side stopped/);
});
