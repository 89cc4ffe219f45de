import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addRun, architectureOf, decodeHistory, encodeHistory, historyFileName, type RunRecord } from '../../../src/extension/run-history';
import { sampleReport } from './sample-report';

const model = 'file:///models/mnist/model.json';
const run = (key: string, savedAt = `2026-12-03T17:0${key}:00.000Z`): RunRecord => ({ model, savedAt, key, report: sampleReport() });

test('the history keeps the newest N runs, newest first', () => {
  let runs: RunRecord[] = [];
  for (const key of ['1', '2', '3', '4', '5', '6', '7']) runs = addRun(runs, run(key), 5);
  assert.deepEqual(runs.map((r) => r.key), ['7', '6', '5', '4', '3']);
  assert.deepEqual(addRun(runs, run('8'), 2).map((r) => r.key), ['8', '7']);
  assert.deepEqual(addRun([], run('1'), 0).map((r) => r.key), ['1'], 'at least the run just made');
});

test('a run with the key of an earlier one replaces it and moves to the front', () => {
  const runs = [run('3'), run('2'), run('1')];
  const again = run('2', '2026-12-03T18:00:00.000Z');
  const next = addRun(runs, again, 5);
  assert.deepEqual(next.map((r) => r.key), ['2', '3', '1']);
  assert.equal(next[0].savedAt, again.savedAt);
});

test('history files round-trip, and belong to one model', () => {
  const runs = [run('2'), run('1')];
  const text = encodeHistory(model, runs);
  assert.deepEqual(decodeHistory(text, model), runs);
  assert.deepEqual(decodeHistory(text, 'file:///other/model.json'), []);
  assert.deepEqual(decodeHistory('not json', model), []);
  assert.deepEqual(decodeHistory(JSON.stringify({ version: 99, model, runs }), model), []);
  const damaged = JSON.parse(text) as { runs: unknown[] };
  damaged.runs.push({ model, savedAt: 'x', key: 'k' });
  assert.equal(decodeHistory(JSON.stringify(damaged), model).length, 2, 'a record without a report is dropped');
  assert.match(historyFileName(model), /^[0-9a-f]{64}\.json$/);
  assert.notEqual(historyFileName(model), historyFileName('file:///other/model.json'));
});

test('two checkpoints of one network share an architecture; a changed layer does not', () => {
  const a = sampleReport();
  const b = sampleReport();
  b.layers[0].sigma = 9;
  b.model.inputShape = [1, 32, 32, 1];
  assert.equal(architectureOf(a), architectureOf(b));
  const c = sampleReport();
  c.layers[4].weightShape = [1568, 12];
  assert.notEqual(architectureOf(a), architectureOf(c));
});
