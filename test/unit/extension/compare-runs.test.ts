import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareHtml, compareReports, ratio } from '../../../src/extension/compare-runs';
import { sampleReport } from './sample-report';

test('layers are matched by name and their σ ratio is B / A', () => {
  const a = sampleReport();
  const b = sampleReport();
  // B reordered: matching is by name, not position.
  b.layers = [b.layers[4], ...b.layers.slice(0, 4)];
  b.layers[0].sigma = 7.03; // dense: 14.06 → 7.03
  b.layers[1].sigma = 6.429; // conv2d: 3.2145678 → 6.429
  b.bounds = { product: 45.2 / 2, certified: 50, unsupported: [] };
  const c = compareReports(a, b);
  assert.deepEqual(c.layers.map((l) => l.name), a.layers.map((l) => l.name), 'A\'s order');
  const dense = c.layers.find((l) => l.name === 'dense')!;
  assert.equal(dense.a?.sigma, 14.06);
  assert.equal(dense.b?.sigma, 7.03);
  assert.equal(dense.ratio, 0.5);
  assert.ok(Math.abs(c.layers[0].ratio! - 6.429 / 3.2145678) < 1e-12);
  assert.equal(c.layers.find((l) => l.name === 'flatten')!.ratio, 1);
  assert.deepEqual(c.product, { a: 45.2, b: 22.6, ratio: 0.5 });
  assert.deepEqual(c.certified, { a: null, b: 50, ratio: null });
  assert.deepEqual([c.onlyA, c.onlyB], [[], []]);
});

test('rows in one run only are listed, and repeated names match by occurrence', () => {
  const a = sampleReport();
  const b = sampleReport();
  b.layers.splice(2, 1); // no max_pooling2d in B
  b.layers.push({ ...b.layers[0], name: 'extra_dense', sigma: 2 });
  a.layers.push({ ...a.layers[1], sigma: 1 }); // a second "conv2d/relu" in A
  b.layers.push({ ...b.layers[1], sigma: 1 }); // and in B
  const c = compareReports(a, b);
  assert.deepEqual(c.onlyA, ['max_pooling2d']);
  assert.deepEqual(c.onlyB, ['extra_dense']);
  assert.equal(c.layers.filter((l) => l.name === 'conv2d/relu' && l.a && l.b).length, 2);
  assert.equal(c.layers.find((l) => l.name === 'max_pooling2d')!.ratio, null);
});

test('ratio: null without both values or with A = 0', () => {
  assert.equal(ratio(2, 3), 1.5);
  assert.equal(ratio(null, 3), null);
  assert.equal(ratio(0, 3), null);
  assert.equal(ratio(2, Infinity), null);
});

test('the page shows both runs, the bounds and every row, styled by theme variables only', () => {
  const a = sampleReport();
  const b = sampleReport();
  b.layers[4].sigma = 28.12;
  const html = compareHtml(compareReports(a, b), { title: 'A <run>', detail: 'input 1×28×28×1' }, { title: 'B', detail: 'x' }, 'abcdefghijklmnop1234');
  assert.match(html, /A: A &lt;run&gt;/);
  assert.match(html, /<td class="name">dense<\/td><td>Dense<\/td><td>1568×10<\/td><td class="num"[^>]*>14\.06<\/td><td class="num"[^>]*>28\.12<\/td><td class="num ratio up">×2<\/td>/);
  assert.match(html, /L ≤ \(certified\)/);
  assert.match(html, /style-src &#39;nonce-abcdefghijklmnop1234&#39;/);
  assert.match(html, /<style nonce="abcdefghijklmnop1234">/);
  assert.doesNotMatch(html, /<script/);
  // Colours come from the theme: no literal colour values.
  assert.doesNotMatch(html.replace(/var\(--vscode-[\w-]+(, var\(--vscode-[\w-]+\))?\)/g, ''), /#[0-9a-f]{3,6}\b|rgb\(/i);
  assert.throws(() => compareHtml(compareReports(a, b), { title: '', detail: '' }, { title: '', detail: '' }, 'short'));
});
