import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlannedLayer, ToWebview } from '../../../src/protocol/messages';
import { SessionStore } from '../../../src/extension/sessions';
import { sampleReport } from './sample-report';

function sink() {
  const received: ToWebview[] = [];
  return { received, postMessage: (m: ToWebview) => { received.push(m); return Promise.resolve(true); } };
}

const planned = (): PlannedLayer[] => sampleReport().layers.map((l, index) => ({ index, name: l.name, op: l.op, kind: l.kind, weightShape: l.weightShape, inputShape: l.inputShape, outputShape: l.outputShape }));

test('a view gets the whole state on attach, then the live messages of the current job only', () => {
  const store = new SessionStore();
  const session = store.getOrCreate('file:///m/model.json', 'tfjs');
  assert.equal(session.state.canReveal, true);
  assert.equal(store.getOrCreate('file:///m/model.onnx', 'onnx').state.canReveal, true, '.onnx rows reveal their node in the .onnx editor');
  const view = sink();
  session.attach(view);
  assert.deepEqual(view.received.map((m) => m.type), ['state']);

  session.begin(7);
  const report = sampleReport();
  assert.equal(session.apply({ type: 'model', jobId: 7, model: report.model, layers: planned(), backend: 'wasm', warnings: [] }), true);
  assert.equal(session.apply({ type: 'layer', jobId: 6, index: 0, layer: report.layers[0], done: 1, total: 5 }), false, 'an older job is ignored');
  assert.equal(session.apply({ type: 'layer', jobId: 7, index: 0, layer: report.layers[0], done: 1, total: 5 }), true);
  assert.equal(session.apply({ type: 'log', level: 'info', text: 'x' }), false);
  assert.deepEqual(view.received.map((m) => m.type), ['state', 'state', 'state', 'layer']);
  session.apply({ type: 'done', jobId: 7, report });
  assert.equal(session.report, report);
  assert.equal(session.state.status, 'done');

  session.detach(view);
  session.begin(8);
  assert.equal(view.received.length, 5, 'a detached view hears nothing');
});

test('listeners hear every change; the last changed session is remembered', () => {
  const store = new SessionStore();
  const heard: string[] = [];
  const subscription = store.onDidChange((s) => heard.push(`${s.key}:${s.state.status}`));
  const a = store.getOrCreate('a', 'onnx');
  const b = store.getOrCreate('b', 'onnx');
  assert.equal(store.getOrCreate('a', 'onnx'), a);
  a.begin(1);
  b.showReport(sampleReport(), true);
  assert.deepEqual(heard, ['a:running', 'b:done']);
  assert.equal(store.last, b);
  assert.deepEqual(store.running(), [a]);
  a.cancelled(1);
  assert.equal(a.state.status, 'cancelled');
  subscription.dispose();
  a.begin(2);
  assert.equal(heard.length, 3);
});

test('stale results: marked once after a run, cleared by the next run', () => {
  const store = new SessionStore();
  let changes = 0;
  store.onDidChange(() => changes++);
  const s = store.getOrCreate('m', 'tfjs');
  s.markStale();
  assert.equal(s.stale, false, 'nothing to hide before any result');
  s.showReport(sampleReport(), false);
  const before = changes;
  s.markStale();
  s.markStale();
  assert.equal(s.stale, true);
  assert.equal(changes, before + 1);
  s.begin(3);
  assert.equal(s.stale, false);
});

test('fail and cancel of an old job do not touch the current one', () => {
  const s = new SessionStore().getOrCreate('m', 'onnx');
  s.begin(2);
  s.fail(1, 'old failure');
  s.cancelled(1);
  assert.equal(s.state.status, 'running');
  s.fail(2, 'x.onnx: truncated');
  assert.equal(s.state.status, 'error');
  assert.equal(s.state.error, 'x.onnx: truncated');
});

test('a view whose postMessage throws is dropped', () => {
  const s = new SessionStore().getOrCreate('m', 'onnx');
  let calls = 0;
  const broken = { postMessage: () => { calls++; throw new Error('disposed'); } };
  s.attach(broken);
  s.begin(1);
  assert.equal(calls, 1);
  assert.equal(s.views.size, 0);
});
