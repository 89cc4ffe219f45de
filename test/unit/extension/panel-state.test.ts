import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FromWorker, PanelState, PlannedLayer } from '../../../src/protocol/messages';
import { applyWorkerMessage, cancelRun, failRun, initialPanelState, isLayerResult, shownReport, startRun, stateFromReport } from '../../../src/extension/panel-state';
import { sampleReport } from './sample-report';

const planned = (): PlannedLayer[] =>
  sampleReport().layers.map((l, index) => ({ index, name: l.name, op: l.op, kind: l.kind, weightShape: l.weightShape, inputShape: l.inputShape, outputShape: l.outputShape, sourceIndex: l.sourceIndex }));

function run(messages: FromWorker[], from: PanelState = initialPanelState(true)) {
  let state = from;
  const sent = [];
  for (const message of messages) {
    const result = applyWorkerMessage(state, message);
    state = result.state;
    sent.push(...result.messages);
  }
  return { state, sent };
}

test('a full run: planned rows, then layers fill in, then the report', () => {
  const report = sampleReport();
  const { state: afterModel, sent: first } = run([{ type: 'model', jobId: 1, model: report.model, layers: planned(), backend: 'wasm', warnings: [] }]);
  assert.equal(afterModel.status, 'running');
  assert.equal(afterModel.total, 5);
  assert.equal(afterModel.layers.filter(isLayerResult).length, 0);
  assert.deepEqual(first.map((m) => m.type), ['state']);

  const { state: afterLayer, sent } = run([{ type: 'layer', jobId: 1, index: 4, layer: report.layers[4], done: 1, total: 5 }], afterModel);
  assert.equal(afterLayer.done, 1);
  assert.ok(isLayerResult(afterLayer.layers[4]));
  assert.ok(!isLayerResult(afterLayer.layers[0]));
  assert.deepEqual(sent, [{ type: 'layer', index: 4, layer: report.layers[4], done: 1, total: 5, runningBound: 45.2 }]);
  // The previous state is not mutated.
  assert.ok(!isLayerResult(afterModel.layers[4]));

  const { state: done } = run([{ type: 'done', jobId: 1, report }], afterLayer);
  assert.equal(done.status, 'done');
  assert.deepEqual(done.bounds, report.bounds);
  assert.equal(done.done, 5);
  assert.equal(done.canReveal, true);
  assert.equal(done.fromCache, false);
});

test('a layer without a running bound sends null', () => {
  const layer = { ...sampleReport().layers[0] };
  delete layer.runningBound;
  const { sent } = run([{ type: 'layer', jobId: 1, index: 0, layer, done: 1, total: 1 }]);
  assert.equal(sent[0].type === 'layer' && sent[0].runningBound, null);
});

test('cancel and error keep the rows and say why', () => {
  const report = sampleReport();
  const { state } = run([
    { type: 'model', jobId: 1, model: report.model, layers: planned(), backend: 'wasm', warnings: [] },
    { type: 'layer', jobId: 1, index: 0, layer: report.layers[0], done: 1, total: 5 },
  ]);
  const cancelled = applyWorkerMessage(state, { type: 'cancelled', jobId: 1 });
  assert.equal(cancelled.state.status, 'cancelled');
  assert.equal(cancelled.state.layers.length, 5);
  assert.deepEqual(cancelled.messages, [{ type: 'status', status: 'cancelled' }]);
  const failed = applyWorkerMessage(state, { type: 'error', jobId: 1, message: 'x.onnx: truncated', badInput: true });
  assert.equal(failed.state.status, 'error');
  assert.equal(failed.state.error, 'x.onnx: truncated');
  assert.deepEqual(failed.messages, [{ type: 'status', status: 'error', error: 'x.onnx: truncated' }]);
  assert.deepEqual(failRun(state, 'worker crashed').state.error, 'worker crashed');
  assert.equal(cancelRun(state).state.status, 'cancelled');
});

test('describe fills the summary, and the planned rows only before any run', () => {
  const report = sampleReport();
  const described: FromWorker = { type: 'described', jobId: 2, model: report.model, layers: planned() };
  const fresh = applyWorkerMessage(initialPanelState(false), described).state;
  assert.deepEqual(fresh.summary, report.model);
  assert.equal(fresh.layers.length, 5);
  assert.equal(fresh.status, 'idle');
  const cached = stateFromReport(report, initialPanelState(false), true);
  const after = applyWorkerMessage(cached, described).state;
  assert.deepEqual(after.layers, report.layers, 'results are kept');
  assert.deepEqual(after.summary, report.model);
  assert.equal(after.fromCache, true);
});

test('startRun clears the old error and bound but keeps the rows', () => {
  const errored = failRun(stateFromReport(sampleReport(), initialPanelState(true), true), 'boom').state;
  const { state, messages } = startRun(errored);
  assert.equal(state.status, 'running');
  assert.equal(state.error, undefined);
  assert.equal(state.bounds, null);
  assert.equal(state.fromCache, false);
  assert.equal(state.layers.length, 5);
  assert.equal(messages[0].type, 'state');
});

test('log messages change nothing', () => {
  const state = initialPanelState(true);
  const result = applyWorkerMessage(state, { type: 'log', level: 'info', text: 'x' });
  assert.equal(result.state, state);
  assert.deepEqual(result.messages, []);
});

test('export shows what the panel shows: after a cancelled re-run, the partial run, not the older report', () => {
  const old = sampleReport();
  const done = stateFromReport(old, initialPanelState(true), false);
  assert.equal(shownReport(done, old)?.report, old);
  assert.equal(shownReport(done, old)?.partial, undefined);
  // Re-run: the model is read again, two rows finish, then the run is cancelled.
  const rerun = sampleReport();
  const { state } = run(
    [
      { type: 'model', jobId: 2, model: rerun.model, layers: planned(), backend: 'wasm', warnings: [] },
      { type: 'layer', jobId: 2, index: 4, layer: { ...rerun.layers[4], sigma: 99 }, done: 1, total: 5 },
      { type: 'layer', jobId: 2, index: 1, layer: rerun.layers[1], done: 2, total: 5 },
      { type: 'cancelled', jobId: 2 },
    ],
    startRun(done).state,
  );
  const shown = shownReport(state, old);
  assert.ok(shown);
  assert.notEqual(shown.report, old, 'not the older complete report');
  assert.deepEqual(shown.partial, { status: 'cancelled', done: 2, total: 5 });
  assert.equal(shown.report.layers.length, 5, 'rows keep their panel index');
  assert.equal(shown.report.layers[4].sigma, 99);
  assert.equal(shown.report.layers[0].sigma, null);
  assert.match(shown.report.layers[0].note ?? '', /cancelled before this row/);
  assert.deepEqual([shown.report.bounds.product, shown.report.bounds.certified], [null, null], 'no network bound is known');
  // Cancelled before any row: nothing to export.
  const empty = run([{ type: 'model', jobId: 3, model: rerun.model, layers: planned(), backend: 'wasm', warnings: [] }, { type: 'cancelled', jobId: 3 }], startRun(done).state);
  assert.equal(shownReport(empty.state, old), undefined);
});
