import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boundShort, boundSummary, entryValueText, hasShownValue, layerHoverMarkdown, layerLenses, logShare, rowsForEntry, topLensTitle } from '../../../src/extension/lens-text';
import { locateLayerEntries } from '../../../src/extension/model-json-locations';
import { initialPanelState, stateFromReport } from '../../../src/extension/panel-state';
import type { PlannedLayer } from '../../../src/protocol/messages';
import type { LayerResult } from '../../../src/protocol/report';
import { sampleReport } from './sample-report';

const text = readFileSync(join(import.meta.dirname, 'fixtures', 'layers-model.json'), 'utf8');
const lineOf = (offset: number) => text.slice(0, offset).split('\n').length - 1;

test('one lens per finished weighted layer, on the line of its entry', () => {
  const { entries } = locateLayerEntries(text);
  const report = sampleReport();
  const lenses = layerLenses(entries, report.layers);
  // Every entry with a row of value gets a lens (the pooling too; the fused relu shares its layer's); Flatten's 1 has none.
  assert.deepEqual(lenses.map((l) => l.row), [0, 2, 4]);
  assert.equal(lenses[0].title, 'σ 3.215 · Relu constant 1 · L ≈ 3.215 so far');
  assert.equal(lenses[1].title, 'MaxPooling2D constant 1 · L ≈ 3.215 so far');
  assert.equal(lenses[2].title, 'σ 14.06 · not converged · L ≈ 45.2 so far');
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

test('real layer listing (seq-cnn fixture): a separable conv, an upsampling and every pooling get a lens; reshapes of 1 do not', () => {
  const fixture = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'tfjs', 'seq-cnn', 'model.json'), 'utf8');
  const { entries } = locateLayerEntries(fixture);
  // Rows as the engine names them for this file (node dist/cli.js test/fixtures/tfjs/seq-cnn/model.json --json).
  const row = (name: string, op: string, kind: LayerResult['kind'], sigma: number, sourceIndex: number): LayerResult => ({
    name, op, kind, sigma, sourceIndex, weightShape: kind === 'linear' ? [1] : null, inputShape: [1], outputShape: [1], upperBound: sigma, iterations: kind === 'linear' ? 5 : 0, converged: true, seconds: 0,
  });
  const rows = [
    row('conv_a', 'Conv2D', 'linear', 2.2, 0), row('conv_a/relu', 'relu', 'activation', 1, 0), row('bn_a', 'BatchNormalization', 'normalization', 2.01, 1),
    row('dw_b', 'DepthwiseConv2D', 'linear', 2.01, 2), row('sep_c/depthwise', 'SeparableConv2D', 'linear', 1.93, 3), row('sep_c/pointwise', 'SeparableConv2D', 'linear', 1.2, 3),
    row('sep_c/relu6', 'relu6', 'activation', 1, 3), row('pad_d', 'ZeroPadding2D', 'structural', 1, 4), row('pool_e', 'MaxPooling2D', 'pool', 1, 5),
    row('avg_f', 'AveragePooling2D', 'pool', 1.32, 6), row('deconv_g', 'Conv2DTranspose', 'linear', 2.03, 7), row('up_h', 'UpSampling2D', 'structural', 2, 8),
    row('crop_i', 'Cropping2D', 'structural', 1, 9), row('drop_j', 'Dropout', 'structural', 1, 10), row('gap_k', 'GlobalAveragePooling2D', 'pool', 0.129, 11),
    row('dense_l', 'Dense', 'linear', 0.811, 12), row('dense_l/softmax', 'softmax', 'activation', 1, 12),
  ];
  const lenses = layerLenses(entries, rows);
  const at = (name: string) => lenses.find((l) => entries.find((e) => e.start === l.offset)?.name === name);
  assert.deepEqual(lenses.map((l) => entries.find((e) => e.start === l.offset)?.name), ['conv_a', 'bn_a', 'dw_b', 'sep_c', 'pool_e', 'avg_f', 'deconv_g', 'up_h', 'gap_k', 'dense_l']);
  assert.equal(at('sep_c')?.title, 'depthwise σ 1.93 · pointwise σ 1.2 · relu6 constant 1');
  assert.equal(at('sep_c')?.row, 4);
  assert.equal(at('up_h')?.title, 'UpSampling2D constant 2');
  assert.equal(at('gap_k')?.title, 'GlobalAveragePooling2D constant 0.129');
  assert.deepEqual(rowsForEntry(entries[3], rows), [4, 5, 6], 'the hover over sep_c shows its three rows');
  // Graph-model node names hold "/" too: only the part below the entry's own name is a suffix.
  const fused = [row('model/conv/Relu', '_FusedConv2D', 'linear', 10.6, 0), row('model/conv/Relu/Relu', 'Relu', 'activation', 1, 0)];
  assert.equal(entryValueText(fused, 'model/conv/Relu'), 'σ 10.6 · Relu constant 1');
  assert.equal(entryValueText(rows.slice(4, 7), 'sep_c'), 'depthwise σ 1.93 · pointwise σ 1.2 · relu6 constant 1');
  // A merge's constant says how its branches combine: shown even when it is 1 (a Concatenate).
  assert.equal(hasShownValue(row('concat', 'Concatenate', 'merge', 1, 0)), true);
  assert.equal(hasShownValue(row('flat', 'Flatten', 'structural', 1, 0)), false);
  assert.equal(hasShownValue({ ...row('c', 'Conv2D', 'linear', 1, 0), sigma: null }), false);
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

test('hover: a symbol-sup row shows σ as a certified lower bound, the interval width and the cells, not a residual', () => {
  const report = sampleReport();
  const row = { ...report.layers[4], method: 'symbol-sup', sigma: 1.0504, lowerBound: 1.0504, upperBound: 1.05047, iterations: 283, converged: true, residual: 7e-5 };
  const md = layerHoverMarkdown(row, report.bounds);
  assert.match(md, /\| σ \(certified lower bound\) \| 1\.0504 \|/);
  assert.match(md, /\| Certified interval width \| 6\.7e-5 of σ \|/);
  assert.match(md, /\| Method \| symbol sup \(283 frequency cells certified\) \|/);
  assert.doesNotMatch(md, /residual|estimate from below/);
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
