import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ToWebview } from '../../../src/protocol/messages';
import {
  applyMessage,
  boundSummary,
  bracketSummary,
  parseShapeText,
  shapeInUse,
  suggestInputShape,
  constantOf,
  emptyPanel,
  isResult,
  isToWebview,
  matchesFilter,
  nextSort,
  restoreViewState,
  rowState,
  sigmaOf,
  sortValue,
  viewState,
  visibleRows,
} from '../../../webview-ui/model';
import { BOUNDS, doneState, PLANNED, plannedState, RESULTS } from './fixtures';

function layerMessage(i: number): ToWebview {
  return { type: 'layer', index: i, layer: RESULTS[i].layer, done: i + 1, total: RESULTS.length, runningBound: RESULTS[i].runningBound };
}

test('layer messages fill planned rows one by one without mutating the previous state', () => {
  const start = plannedState();
  const after = applyMessage(start, layerMessage(3));
  assert.equal(isResult(start.layers[3]), false, 'input untouched');
  assert.equal(isResult(after.layers[3]), true);
  assert.equal((after.layers[3] as { runningBound?: number }).runningBound, 146.84);
  assert.equal(after.done, 4);
  assert.equal(after.total, 8);
  assert.equal(after.layers[0], start.layers[0], 'other rows keep their identity');
  assert.deepEqual(after.layers.map(rowState), ['planned', 'planned', 'planned', 'computed', 'planned', 'planned', 'planned', 'planned']);
});

test('a layer message beyond the plan pads with placeholders instead of duplicating the row', () => {
  const after = applyMessage(emptyPanel(), layerMessage(2));
  assert.equal(after.layers.length, 3);
  assert.deepEqual(after.layers.map(rowState), ['planned', 'planned', 'fixed']);
  assert.equal(after.layers[2].name, 'pool1');
  assert.equal(after.status, 'running');
});

test('status messages set bounds, seconds and errors; running clears an old error', () => {
  let panel = applyMessage(plannedState(), { type: 'status', status: 'error', error: 'model.onnx: bad protobuf' });
  assert.equal(panel.status, 'error');
  assert.equal(panel.error, 'model.onnx: bad protobuf');
  panel = applyMessage(panel, { type: 'status', status: 'running' });
  assert.equal(panel.error, undefined);
  panel = applyMessage(panel, { type: 'status', status: 'done', bounds: BOUNDS, seconds: 2 });
  assert.deepEqual(panel.bounds, BOUNDS);
  assert.equal(panel.seconds, 2);
});

test('isToWebview rejects malformed messages', () => {
  assert.equal(isToWebview({ type: 'state', state: plannedState() }), true);
  assert.equal(isToWebview(layerMessage(0)), true);
  assert.equal(isToWebview({ type: 'status', status: 'done', bounds: BOUNDS }), true);
  assert.equal(isToWebview({ type: 'status', status: 'finished' }), false);
  assert.equal(isToWebview({ ...layerMessage(0), index: -1 }), false);
  assert.equal(isToWebview({ type: 'layer', index: 0, layer: PLANNED[0], done: 1, total: 8, runningBound: null }), false, 'a layer message needs a result');
  assert.equal(isToWebview({ type: 'state', state: { ...plannedState(), layers: [{ name: 1 }] } }), false);
  assert.equal(isToWebview(null), false);
  assert.equal(isToWebview('state'), false);
});

test('rows split into computed σ, fixed constants, unbounded, unsupported and invalid', () => {
  const done = doneState().layers;
  assert.deepEqual(done.map(rowState), ['computed', 'fixed', 'fixed', 'computed', 'fixed', 'fixed', 'computed', 'fixed']);
  assert.equal(sigmaOf(done[0]), 3.2146);
  assert.equal(constantOf(done[0]), null);
  assert.equal(sigmaOf(done[4]), null);
  assert.equal(constantOf(done[4]), 0.25);
  const base = RESULTS[0].layer;
  assert.equal(rowState({ ...base, sigma: null }), 'invalid');
  assert.equal(rowState({ ...base, sigma: NaN }), 'invalid');
  assert.equal(rowState({ ...base, kind: 'unbounded', sigma: null }), 'unbounded');
  assert.equal(rowState({ ...base, kind: 'unsupported', sigma: null }), 'unsupported');
  // An average pool solved numerically is a computed σ; one in closed form is a constant.
  assert.equal(rowState({ ...base, kind: 'pool', weightShape: null, method: 'power', sigma: 0.5 }), 'computed');
  assert.equal(rowState({ ...base, kind: 'pool', weightShape: null, method: 'closed-form', iterations: 0, sigma: 0.25 }), 'fixed');
});

test('sorting by σ puts solver results in order, both directions, rows without σ last', () => {
  const layers = doneState().layers;
  assert.deepEqual(visibleRows(layers, { key: 'sigma', direction: 'ascending' }, ''), [6, 0, 3, 1, 2, 4, 5, 7]);
  assert.deepEqual(visibleRows(layers, { key: 'sigma', direction: 'descending' }, ''), [3, 0, 6, 1, 2, 4, 5, 7]);
  assert.deepEqual(visibleRows(layers, { key: 'constant', direction: 'ascending' }, ''), [4, 1, 2, 5, 7, 0, 3, 6]);
  assert.deepEqual(visibleRows(layers, { key: 'index', direction: 'descending' }, ''), [7, 6, 5, 4, 3, 2, 1, 0]);
});

test('sorting by name is natural and case-insensitive; shapes sort by size', () => {
  const rows = ['layer10', 'Layer2', 'layer1'].map((name, i) => ({ ...PLANNED[0], index: i, name }));
  assert.deepEqual(visibleRows(rows, { key: 'name', direction: 'ascending' }, ''), [2, 1, 0]);
  const layers = doneState().layers;
  assert.deepEqual(visibleRows(layers, { key: 'weightShape', direction: 'descending' }, '').slice(0, 3), [6, 3, 0]);
  assert.equal(sortValue(layers[0], 0, 'inputShape'), 192);
});

test('planned rows sort last by σ while a run fills in', () => {
  let panel = plannedState();
  panel = applyMessage(panel, layerMessage(3));
  panel = applyMessage(panel, layerMessage(0));
  assert.deepEqual(visibleRows(panel.layers, { key: 'sigma', direction: 'descending' }, '').slice(0, 3), [3, 0, 1]);
});

test('filtering matches every word against name, op and kind', () => {
  const layers = doneState().layers;
  assert.deepEqual(visibleRows(layers, { key: 'index', direction: 'ascending' }, 'conv'), [0, 3]);
  assert.deepEqual(visibleRows(layers, { key: 'index', direction: 'ascending' }, 'CONV 2'), [3]);
  assert.deepEqual(visibleRows(layers, { key: 'index', direction: 'ascending' }, 'activation'), [1, 4, 7]);
  assert.deepEqual(visibleRows(layers, { key: 'index', direction: 'ascending' }, '   '), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(matchesFilter(layers[6], 'gemm'), true);
  assert.equal(matchesFilter(layers[6], 'conv'), false);
});

test('nextSort flips the same column and starts numeric columns descending', () => {
  assert.deepEqual(nextSort({ key: 'index', direction: 'ascending' }, 'index'), { key: 'index', direction: 'descending' });
  assert.deepEqual(nextSort({ key: 'index', direction: 'ascending' }, 'sigma'), { key: 'sigma', direction: 'descending' });
  assert.deepEqual(nextSort({ key: 'sigma', direction: 'descending' }, 'sigma'), { key: 'sigma', direction: 'ascending' });
  assert.deepEqual(nextSort({ key: 'sigma', direction: 'descending' }, 'name'), { key: 'name', direction: 'ascending' });
});

test('the bound summary names why a network has no bound', () => {
  assert.equal(boundSummary(emptyPanel()).status, 'pending');
  const valid = boundSummary(doneState());
  assert.deepEqual(valid, { status: 'valid', certified: 0.6512, estimate: 0.45153, partial: null, reasons: [] });
  const running = boundSummary(applyMessage(plannedState(), layerMessage(3)));
  assert.equal(running.status, 'running');
  assert.deepEqual(running.partial, { value: 146.84, row: 3, name: 'conv2' }, 'a running value belongs to its row');
  assert.equal(running.certified, null);
  assert.equal(running.estimate, null, 'no network value before the run ends');
  const unbounded = boundSummary(
    doneState({ bounds: { product: null, certified: null, unsupported: [], unbounded: [{ name: 'attn', op: 'MatMul', reason: 'x·y is not Lipschitz' }] } }),
  );
  assert.equal(unbounded.status, 'unbounded');
  assert.equal(unbounded.certified, null);
  assert.equal(unbounded.estimate, null);
  assert.match(unbounded.reasons[0], /^unbounded because MatMul: x·y is not Lipschitz \(attn\)$/);
  const many = Array.from({ length: 34 }, (_, i) => ({ name: `mul_${i}`, op: 'Mul', reason: 'Mul of two data-dependent tensors' }));
  const grouped = boundSummary(doneState({ bounds: { product: null, certified: null, unsupported: [], unbounded: [...many, { name: 'ln', op: 'LayerNormalization', reason: 'divides by the std' }] } }));
  assert.equal(grouped.reasons[0], 'unbounded because Mul: Mul of two data-dependent tensors ×34 (mul_0, mul_1, mul_2 and 31 more); LayerNormalization: divides by the std (ln)');
  const unsupported = boundSummary(doneState({ bounds: { product: null, certified: null, unsupported: [{ name: 'n1', op: 'Einsum' }] } }));
  assert.equal(unsupported.status, 'unsupported');
  assert.match(unsupported.reasons[0], /Einsum \(n1\)/);
  const invalid = boundSummary(
    doneState({ bounds: { product: null, certified: null, unsupported: [{ name: 'n1', op: 'Einsum' }], invalid: [{ name: 'fc', op: 'Gemm', reason: 'NaN weights' }] } }),
  );
  assert.equal(invalid.status, 'invalid');
  assert.equal(invalid.reasons.length, 2);
  assert.match(invalid.reasons[0], /Gemm: NaN weights \(fc\)/);
});

test('saved view state round-trips and malformed state is ignored', () => {
  const saved = viewState(doneState(), { key: 'sigma', direction: 'descending' }, 'conv');
  const restored = restoreViewState(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(restored, saved);
  assert.equal(restoreViewState(undefined), undefined);
  assert.equal(restoreViewState({ version: 2, panel: doneState() }), undefined);
  assert.equal(restoreViewState({ version: 1, panel: { layers: 'x' } }), undefined);
  const loose = restoreViewState({ version: 1, panel: doneState(), sort: { key: 'bogus' } });
  assert.deepEqual(loose?.sort, { key: 'index', direction: 'ascending' });
  assert.equal(loose?.filter, '');
});

test('the .onnx editor suggests a shape for symbolic dimensions and parses what the user types', () => {
  assert.deepEqual(suggestInputShape(['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2']), [1, 3, 224, 224]);
  assert.deepEqual(suggestInputShape(['batch', 'sequence', 80]), [1, 64, 80]);
  assert.deepEqual(suggestInputShape([1, 3, 32, 32]), [1, 3, 32, 32]);
  assert.equal(suggestInputShape([]), null);
  assert.deepEqual(parseShapeText('1,3,224,224'), [1, 3, 224, 224]);
  assert.deepEqual(parseShapeText(' 1 x 3 × 48 x192 '), [1, 3, 48, 192]);
  assert.equal(parseShapeText('1,3,-1,4'), null);
  assert.equal(parseShapeText('1,3,0'), null);
  assert.equal(parseShapeText('a,b'), null);
  assert.equal(parseShapeText(''), null);
});

test('the shape in use is the run\'s, else the summary\'s (never a stale summary after a re-run)', () => {
  const summary = { ...doneState().model!, inputShape: [1, 3, 640, 640] };
  assert.deepEqual(shapeInUse(doneState({ summary })), doneState().model!.inputShape);
  assert.deepEqual(shapeInUse(plannedState({ summary })), [1, 3, 640, 640]);
  assert.equal(shapeInUse(plannedState({ summary: { ...summary, inputShape: [] } })), null);
});

test('a running bound shows only once a row of this run is done', () => {
  const stale = { ...doneState(), status: 'running' as const, bounds: null, done: 0 };
  assert.equal(boundSummary(stale).partial, null);
});

test('the bracket: measured lower, certified upper (the tighter one), width, and the loosest chains first', () => {
  assert.equal(bracketSummary(BOUNDS), null, 'no bracket in the report: nothing to show');
  const bounds = {
    ...BOUNDS,
    lower: 0.21,
    certifiedTight: 0.5,
    bracket: {
      width: 0.5 / 0.21,
      lower: { foundBy: 'ascent', inputRange: [0, 1] as [number, number], samples: 16, evaluations: 400 },
      upper: {
        expansion: 0.5,
        chains: [
          { from: 'conv1', to: 'conv2', groups: 2, product: 12, bound: 3, directProducts: 1 },
          { from: 'fc', to: 'fc', groups: 1, product: 0.013, bound: 0.013, directProducts: 0 },
        ],
      },
    },
  };
  const summary = bracketSummary(bounds);
  assert.ok(summary);
  assert.equal(summary.lower, 0.21);
  assert.equal(summary.upper, 0.5);
  assert.equal(summary.width, 0.5 / 0.21);
  assert.equal(summary.product, 0.6512, 'the per-layer certified bound the expansion improves on');
  assert.deepEqual(summary.chains, [{ from: 'conv1', to: 'conv2', product: 12, bound: 3, gain: 4 }], 'chains the expansion did not tighten are left out');
  assert.equal(summary.foundBy, 'ascent');
  const panel = doneState({ bounds });
  assert.equal(boundSummary(panel).certified, 0.5, 'the headline\'s L ≤ is the tighter certified bound');
  const none = bracketSummary({ ...bounds, lower: null, bracket: { ...bounds.bracket, width: null, lower: { unavailable: 'Einsum is not executed', inputRange: [0, 1] as [number, number], samples: 0 } } });
  assert.equal(none?.lower, null);
  assert.equal(none?.width, null);
  assert.equal(none?.lowerUnavailable, 'Einsum is not executed');
  assert.equal(none?.lowerTimedOutReason, undefined);
  // A lower side stopped by its time budget carries the reason, with or without a lower bound.
  const reason = 'the next power step (about 6.76 s) would have ended past the 12 s budget (5.08 s left)';
  const stopped = bracketSummary({ ...bounds, bracket: { ...bounds.bracket, lower: { ...bounds.bracket.lower, timedOut: true, timedOutReason: reason } } });
  assert.equal(stopped?.lowerTimedOutReason, reason);
  assert.equal(stopped?.timedOut, true);
  const stoppedEmpty = bracketSummary({ ...bounds, lower: null, bracket: { ...bounds.bracket, width: null, lower: { unavailable: 'the 12 s budget ran out', inputRange: [0, 1] as [number, number], samples: 1, timedOut: true, timedOutReason: reason } } });
  assert.equal(stoppedEmpty?.lowerTimedOutReason, reason);
  // A malformed bracket from a page's saved state does not throw.
  assert.deepEqual(bracketSummary({ ...BOUNDS, bracket: {} as never })?.chains, []);
});

test('a reveal message from the extension is accepted and leaves the panel as it is', () => {
  assert.equal(isToWebview({ type: 'reveal', row: 3 }), true);
  assert.equal(isToWebview({ type: 'reveal', row: -1 }), false);
  assert.equal(isToWebview({ type: 'reveal' }), false);
  const panel = doneState();
  assert.equal(applyMessage(panel, { type: 'reveal', row: 3 }), panel);
});
