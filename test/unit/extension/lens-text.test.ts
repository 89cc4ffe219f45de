import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boundShort, boundSummary, layerHoverMarkdown, layerLenses, logShare, rowsForEntry, topLensTitle } from '../../../src/extension/lens-text';
import { locateLayerEntries } from '../../../src/extension/model-json-locations';
import { initialPanelState, stateFromReport } from '../../../src/extension/panel-state';
import type { PlannedLayer } from '../../../src/protocol/messages';
import { sampleReport } from './sample-report';

const text = readFileSync(join(import.meta.dirname, 'fixtures', 'layers-model.json'), 'utf8');
const lineOf = (offset: number) => text.slice(0, offset).split('\n').length - 1;

test('one lens per finished weighted layer, on the line of its entry', () => {
  const { entries } = locateLayerEntries(text);
  const report = sampleReport();
  const lenses = layerLenses(entries, report.layers);
  // Every row with a value and its own entry gets a lens (the pooling too); Flatten has none.
  assert.deepEqual(lenses.map((l) => l.row), [0, 2, 4]);
  assert.equal(lenses[0].title, 'σ 3.215 · L ≈ 3.215 so far');
  assert.equal(lenses[1].title, 'MaxPooling2D constant 1 · L ≈ 3.215 so far');
  assert.equal(lenses[2].title, 'σ 14.06 · L ≈ 45.2 so far · not converged');
  assert.equal(lineOf(lenses[0].offset), text.split('\n').findIndex((l) => l.includes('"class_name": "Conv2D"')) - 1);
  assert.match(text.split('\n')[lineOf(lenses[1].offset)], /"class_name": "MaxPooling2D"/);
  assert.match(text.split('\n')[lineOf(lenses[2].offset) + 1], /"class_name": "Dense"/);
});

test('minified model.json: lenses on line 0 at each entry', () => {
  const minified = JSON.stringify(JSON.parse(text));
  const { entries } = locateLayerEntries(minified);
  const lenses = layerLenses(entries, sampleReport().layers);
  assert.ok(minified.startsWith('{"class_name":"Conv2D"', lenses[0].offset));
  assert.ok(lenses.some((l) => minified.startsWith('{"class_name":"MaxPooling2D"', l.offset)));
  assert.ok(minified.startsWith('{"class_name":"Dense"', lenses[lenses.length - 1].offset));
});

test('rows without results, or with no entry, get no lens; a name match works without sourceIndex', () => {
  const { entries } = locateLayerEntries(text);
  const report = sampleReport();
  const plannedDense: PlannedLayer = { index: 4, name: 'dense', op: 'Dense', kind: 'linear', weightShape: [1568, 10], inputShape: [1, 1568], outputShape: [1, 10] };
  const orphan = { ...report.layers[0], name: 'not_in_file', sourceIndex: undefined };
  const renamed = { ...report.layers[0], sourceIndex: undefined };
  assert.deepEqual(layerLenses(entries, [plannedDense, orphan]), []);
  assert.equal(layerLenses(entries, [renamed])[0]?.offset, entries[1].start);
});

test('rowsForEntry gathers a layer and its fused activation', () => {
  const { entries } = locateLayerEntries(text);
  const layers = sampleReport().layers;
  assert.deepEqual(rowsForEntry(entries[1], layers), [0, 1]);
  assert.deepEqual(rowsForEntry(entries[4], layers), [4]);
  assert.deepEqual(rowsForEntry(entries[0], layers), []);
});

test('hover: shapes, σ and bound, iterations, convergence, share of the network bound', () => {
  const report = sampleReport();
  const md = layerHoverMarkdown(report.layers[4], report.bounds);
  assert.match(md, /^\*\*dense\*\* · `Dense`/);
  assert.match(md, /\| Weight \| 1568×10 \|/);
  assert.match(md, /\| Input → output \| 1×1568 → 1×10 \|/);
  assert.match(md, /\| σ \(estimate from below\) \| 14\.06 \|/);
  assert.match(md, /\| Certified upper bound \| none \|/);
  assert.match(md, /\| Iterations \| 300 \(lanczos\), not converged, residual 0\.02 \|/);
  assert.match(md, /\| Share of the network estimate \| 69 % of log L ≈ 45\.2 \|/);
  assert.match(md, /stopped at the iteration cap/);
  const relu = layerHoverMarkdown(report.layers[1], report.bounds);
  assert.match(relu, /\| Lipschitz constant \| 1 \|/);
  assert.doesNotMatch(relu, /Iterations/);
  assert.match(relu, /\| Method \| closed form \|/);
  const planned: PlannedLayer = { index: 0, name: 'x*y', op: 'Mul', kind: 'unbounded', weightShape: null, inputShape: [1], outputShape: [1] };
  assert.match(layerHoverMarkdown(planned, null), /^\*\*x\\\*y\*\*.*\n[\s\S]*\| σ \| pending \|/);
});

test('hover: a conv with the next batch norm folded in shows the folded σ the bound uses', () => {
  const report = sampleReport();
  const conv = { ...report.layers[4], foldedSigma: 1.25, foldedUpperBound: 1.3 };
  const md = layerHoverMarkdown(conv, report.bounds);
  assert.match(md, /\| With the next batch norm folded in \(used by the bound\) \| 1\.25 \(certified ≤ 1\.3\) \|/);
  assert.doesNotMatch(layerHoverMarkdown(report.layers[4], report.bounds), /folded/);
});

test('logShare is ln σ / ln L, and null where it means nothing', () => {
  assert.ok(Math.abs(logShare(Math.E, Math.E ** 4)! - 0.25) < 1e-12);
  assert.equal(logShare(2, 1), null);
  assert.equal(logShare(0, 10), null);
  assert.equal(logShare(null, 10), null);
  assert.ok(logShare(0.5, 10)! < 0);
});

test('the top lens says what to do or where the run stands', () => {
  assert.equal(topLensTitle(undefined), '$(pulse) Estimate Lipschitz');
  assert.equal(topLensTitle({ ...initialPanelState(true), status: 'running', done: 2, total: 5 }), '$(sync~spin) Estimating Lipschitz… 2/5');
  const done = stateFromReport(sampleReport(), initialPanelState(true), true);
  assert.equal(topLensTitle(done), '$(pulse) Lipschitz L ≈ 45.2 (estimate; no certified bound) (cached) · re-run');
  assert.equal(boundSummary({ product: 45.2, certified: 60.1, unsupported: [] }), 'Lipschitz L ≤ 60.1 · L ≈ 45.2 (estimate)');
  assert.equal(boundSummary({ product: null, certified: null, unsupported: [{ name: 'a', op: 'B' }] }), 'Lipschitz: no bound (unsupported ops)');
  assert.equal(boundSummary({ product: null, certified: null, unsupported: [], unbounded: [{ name: 'a', op: 'B', reason: 'x·y' }] }), 'Lipschitz: unbounded');
  assert.equal(boundShort({ product: 45.2, certified: 60.1, unsupported: [] }), 'L ≤ 60.1');
  assert.equal(boundShort({ product: 45.2, certified: null, unsupported: [] }), 'L ≈ 45.2');
  assert.equal(boundShort({ product: null, certified: null, unsupported: [{ name: 'a', op: 'B' }] }), 'L —');
});
