// The results webview in a real browser (Debian's Chromium through playwright-core), behind the
// production CSP, with a stub acquireVsCodeApi. Screenshots go to test-results/webview/.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ToWebview } from '../../src/protocol/messages';
import { BOUNDS, doneState, MODEL, plannedState, RESULTS } from '../unit/webview/fixtures';
import { cellText, record, rowOrder, screenshot, SCREENSHOTS, send, startHarness, takePosted, THEME, waitForReady, type Harness } from './harness';

const layerMessage = (i: number): ToWebview => ({
  type: 'layer',
  index: i,
  layer: RESULTS[i].layer,
  done: i + 1,
  total: RESULTS.length,
  runningBound: RESULTS[i].runningBound,
});

describe('results webview in Chromium', () => {
  let harness: Harness;
  let pages: Page[] = [];

  const open = async () => {
    const p = await harness.newPage();
    pages.push(p);
    return p;
  };

  before(async () => {
    harness = await startHarness();
  });

  afterEach(async () => {
    try {
      for (const p of pages) {
        if (p.isClosed()) continue;
        const { violations } = await record(p);
        assert.deepEqual(violations, [], 'no CSP violations');
      }
      assert.deepEqual(harness.consoleErrors.splice(0), [], 'no console errors');
    } finally {
      for (const p of pages) await p.close().catch(() => undefined);
      pages = [];
    }
  });

  after(async () => {
    await harness?.close();
  });

  test('posts ready on load, calls acquireVsCodeApi once and shows an empty page', async () => {
    const p = await open();
    const posted = await takePosted(p);
    assert.deepEqual(posted, [{ type: 'ready' }]);
    assert.equal(await p.locator('table.results tbody tr').count(), 0);
    assert.equal(await p.locator('.empty-note').textContent(), 'No layers yet. Estimate to fill the table.');
    assert.equal(await p.locator('button.estimate').isVisible(), true);
    assert.equal(await p.locator('button.cancel').isVisible(), false);
  });

  test('the CSP is enforced: an inline style attribute is reported (control for the violation checks)', async () => {
    const p = await open();
    await p.evaluate(() => {
      const div = document.createElement('div');
      div.setAttribute('style', 'color: red');
      document.body.append(div);
    });
    await p.waitForFunction(() => (window as unknown as { __ll: { violations: unknown[] } }).__ll.violations.length > 0);
    const { violations } = await record(p);
    assert.match(violations[0].directive, /^style-src/);
    await p.evaluate(() => {
      (window as unknown as { __ll: { violations: unknown[] } }).__ll.violations.length = 0;
    });
    harness.consoleErrors.splice(0); // Chromium logs the refused style to the console
  });

  test('a state message renders planned rows greyed, then layer messages fill them live', async () => {
    const p = await open();
    await send(p, { type: 'state', state: plannedState() });
    assert.deepEqual(await rowOrder(p), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(await p.locator('tbody tr.row-planned').count(), 8);
    const plannedColour = await p.$eval('tbody tr[data-index="0"] td.col-name', (td) => getComputedStyle(td).color);
    assert.equal(plannedColour, THEME['--vscode-disabledForeground'], 'planned rows are greyed');
    assert.equal(await cellText(p, 0, 'sigma'), '…');
    assert.equal(await p.locator('button.cancel').isVisible(), true);
    assert.equal(await p.locator('button.estimate').isVisible(), false);
    assert.equal(await p.locator('.progress-text').textContent(), '0 / 8 layers');
    assert.equal(await p.locator('.bound-value').textContent(), '—');
    await screenshot(p, '01-planned');

    await send(p, layerMessage(0));
    assert.equal(await cellText(p, 0, 'sigma'), '3.215');
    assert.equal(await cellText(p, 0, 'runningBound'), '3.215');
    assert.equal(await p.locator('tbody tr.row-planned').count(), 7);
    assert.equal(await p.locator('.bound-value').textContent(), 'L ≈ 3.215 up to row 0 (conv1)');
    assert.equal(await p.$eval('progress', (e) => [e.value, e.max].join('/')), '1/8');

    for (let i = 1; i <= 3; i++) await send(p, layerMessage(i));
    assert.equal(await cellText(p, 3, 'sigma'), '45.68');
    assert.equal(await cellText(p, 3, 'iterations'), '31');
    assert.equal(await cellText(p, 3, 'seconds'), '1.53 s');
    assert.equal(await cellText(p, 1, 'constant'), '1');
    assert.equal(await p.locator('.bound-value').textContent(), 'L ≈ 146.8 up to row 3 (conv2)');
    assert.equal(await p.locator('.progress-text').textContent(), '4 / 8 layers');
    assert.equal(await p.locator('.bound').getAttribute('data-status'), 'running');
    await screenshot(p, '02-running');
    assert.equal(await p.locator('.announcer').textContent(), 'Estimating 8 layers', 'the announcer does not repeat every layer');

    for (let i = 4; i < RESULTS.length; i++) await send(p, layerMessage(i));
    await send(p, { type: 'status', status: 'done', bounds: BOUNDS, seconds: 1.61 });
    assert.equal(await p.locator('tbody tr.row-planned').count(), 0);
    assert.equal(await p.locator('.bound').getAttribute('data-status'), 'valid');
    assert.equal(await p.locator('.bound-status').textContent(), 'valid');
    assert.equal(await p.locator('.bound-value').textContent(), 'L ≤ 0.6512', 'the certified value is the bound');
    assert.equal(await p.locator('.bound-estimate').textContent(), 'L ≈ 0.4515 (estimate)', 'the composition of estimates is an estimate');
    assert.deepEqual(await p.locator('.bound-explain li').allTextContents(), [
      "L ≤ is proven: the graph composition of every layer's certified upper bound.",
      'L ≈ is an estimate: the same composition of the σ values, each found from below within the tolerance; not proven.',
    ]);
    assert.doesNotMatch((await p.locator('.bound').textContent()) ?? '', /≤ 0\.4515/, 'no estimate is labelled ≤');
    assert.equal(await p.locator('.progress-text').textContent(), '8 layers in 1.61 s');
    assert.equal(await p.locator('progress').isVisible(), false);
    assert.equal(await p.locator('button.cancel').isVisible(), false);
    assert.equal(await p.locator('button.estimate').isVisible(), true);
    assert.equal(await cellText(p, 6, 'converged'), 'no');
    assert.equal(await cellText(p, 4, 'constant'), '0.25');
    await screenshot(p, '03-done');
    assert.equal(await p.locator('.announcer').textContent(), 'Estimation finished: L ≤ 0.6512');
    assert.equal(await p.locator('.announcer').getAttribute('role'), 'status');
  });

  test('sorting by σ both ways through header buttons (mouse and keyboard), and filtering by name', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState() });
    const sigmaHeader = p.locator('th.col-sigma');
    assert.equal(await sigmaHeader.getAttribute('aria-sort'), 'none');
    assert.equal(await p.locator('th.col-index').getAttribute('aria-sort'), 'ascending');

    await sigmaHeader.locator('button').click();
    assert.equal(await sigmaHeader.getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await rowOrder(p), [3, 0, 6, 1, 2, 4, 5, 7]);
    assert.equal(await p.locator('th.col-index').getAttribute('aria-sort'), 'none');

    await sigmaHeader.locator('button').focus();
    await p.keyboard.press('Enter');
    assert.equal(await sigmaHeader.getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await rowOrder(p), [6, 0, 3, 1, 2, 4, 5, 7]);

    await p.locator('input.filter-input').fill('conv');
    assert.deepEqual(await rowOrder(p), [0, 3]);
    assert.equal(await p.locator('.row-count').textContent(), '2 of 8 rows');
    await screenshot(p, '04-sorted-filtered');
    await p.locator('input.filter-input').fill('nothing-matches');
    assert.deepEqual(await rowOrder(p), []);
    assert.equal(await p.locator('.empty-note').textContent(), 'No rows match the filter.');
    await p.locator('input.filter-input').fill('');
    assert.equal((await rowOrder(p)).length, 8);
    // The chart is not filtered: it always shows the whole network.
    assert.equal(await p.locator('rect.bar').count(), 3);
  });

  test('the chart has one bar per weighted row, heights on a log scale, and the running bound as a line', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState() });
    const chart = await p.$eval('svg.chart-svg', (svgEl) => {
      const num = (e: Element, a: string) => Number(e.getAttribute(a));
      return {
        bars: Array.from(svgEl.querySelectorAll('rect.bar')).map((r) => ({
          index: Number(r.getAttribute('data-index')),
          value: Number(r.getAttribute('data-value')),
          y: num(r, 'y'),
          height: num(r, 'height'),
          className: r.getAttribute('class'),
        })),
        ticks: Array.from(svgEl.querySelectorAll('line.grid')).map((l) => ({ value: Number(l.getAttribute('data-value')), y: num(l, 'y1') })),
        line: svgEl.querySelector('polyline.running-line')?.getAttribute('points') ?? '',
        points: Array.from(svgEl.querySelectorAll('circle.running-point')).map((c) => Number(c.getAttribute('data-value'))),
        fill: getComputedStyle(svgEl.querySelector('rect.bar') as Element).fill,
      };
    });
    assert.deepEqual(chart.bars.map((b) => b.index), [0, 3, 6], 'weighted rows only');
    assert.deepEqual(chart.bars.map((b) => b.value), [3.2146, 45.678, 0.0123]);
    assert.ok(chart.ticks.length >= 3);
    // Decade ticks are evenly spaced, and each bar's top sits where log10(σ) falls between them.
    const first = chart.ticks[0];
    const last = chart.ticks[chart.ticks.length - 1];
    const pixelsPerDecade = (first.y - last.y) / Math.log10(last.value / first.value);
    for (let i = 1; i < chart.ticks.length; i++) {
      assert.ok(Math.abs(chart.ticks[i - 1].y - chart.ticks[i].y - pixelsPerDecade * Math.log10(chart.ticks[i].value / chart.ticks[i - 1].value)) < 0.02);
    }
    const baseline = first.y;
    for (const bar of chart.bars) {
      const expectedTop = first.y - pixelsPerDecade * Math.log10(bar.value / first.value);
      assert.ok(Math.abs(bar.y - expectedTop) < 0.02, `bar ${bar.index} top ${bar.y} vs ${expectedTop}`);
      assert.ok(Math.abs(bar.y + bar.height - baseline) < 0.02, `bar ${bar.index} stands on the baseline`);
    }
    assert.equal(chart.line.split(' ').length, 3);
    assert.deepEqual(chart.points, [3.2146, 146.84, 0.45153]);
    assert.equal(chart.fill, THEME['--vscode-charts-blue']);
    await p.locator('section.chart').screenshot({ path: join(SCREENSHOTS, '05-chart.png') });

    // While a run fills in, weighted rows without a result have flat pending bars.
    await send(p, { type: 'state', state: plannedState() }, layerMessage(3));
    const classes = await p.$$eval('rect.bar', (rects) => rects.map((r) => `${r.getAttribute('class')}:${r.getAttribute('height')}`));
    assert.equal(classes[0], 'bar bar-pending:3');
    assert.match(classes[1], /^bar bar-value:\d/);
    assert.equal(classes[2], 'bar bar-pending:3');
  });

  test('a click on a chart bar scrolls to its table row, marks and focuses it, and posts nothing', async () => {
    const p = await open();
    await takePosted(p);
    await p.setViewportSize({ width: 900, height: 420 });
    await send(p, { type: 'state', state: doneState() });
    const before = await p.$eval('tbody tr[data-index="6"]', (tr) => tr.getBoundingClientRect().top - window.innerHeight);
    assert.ok(before > 0, 'the row starts below the fold (the scroll is what brings it in)');
    await p.locator('rect.bar[data-index="6"]').click();
    const picked = await p.$eval('tbody tr[data-index="6"]', (tr) => {
      const box = tr.getBoundingClientRect();
      // Sub-pixel rows may end a fraction of a pixel past the bottom edge they were aligned with.
      return { className: tr.className, focused: document.activeElement === tr, inView: box.top >= 0 && box.bottom <= window.innerHeight + 1, top: box.top, bottom: box.bottom, background: getComputedStyle(tr).backgroundColor };
    });
    assert.match(picked.className, /\bhighlighted\b/);
    assert.ok(picked.focused, 'the row has focus');
    assert.ok(picked.inView, `the row was scrolled into view: ${JSON.stringify(picked)}`);
    assert.equal(picked.background, THEME['--vscode-list-inactiveSelectionBackground']);
    assert.deepEqual(await takePosted(p), [], 'picking from the chart does not reveal in the editor');
    // Another bar moves the mark; the mark survives a re-render; a filtered-out row is not shown.
    await p.locator('rect.bar[data-index="0"]').click();
    assert.deepEqual(await p.$$eval('tbody tr.highlighted', (rows) => rows.map((r) => r.getAttribute('data-index'))), ['0']);
    await send(p, { type: 'state', state: doneState() });
    assert.deepEqual(await p.$$eval('tbody tr.highlighted', (rows) => rows.map((r) => r.getAttribute('data-index'))), ['0']);
    await p.locator('input.filter-input').fill('no-such-layer');
    await p.locator('rect.bar[data-index="3"]').click();
    assert.equal(await p.locator('tbody tr').count(), 0);
  });

  test('Cancel, Estimate, Export and row clicks post the right messages', async () => {
    const p = await open();
    await takePosted(p);
    await send(p, { type: 'state', state: plannedState() });
    assert.equal(await p.locator('button.export').first().isDisabled(), true, 'no export while running');
    await p.locator('button.cancel').click();
    assert.deepEqual(await takePosted(p), [{ type: 'cancel' }]);

    await send(p, { type: 'state', state: doneState() });
    await p.locator('button.estimate').click();
    assert.deepEqual(await takePosted(p), [{ type: 'estimate' }]);
    for (const [label, format] of [
      ['JSON', 'json'],
      ['CSV', 'csv'],
      ['Markdown', 'markdown'],
      ['Netron', 'netron'],
    ] as const) {
      await p.getByRole('button', { name: label, exact: true }).click();
      assert.deepEqual(await takePosted(p), [{ type: 'export', format }]);
    }

    // Without canReveal a click on a row posts nothing.
    await p.locator('tbody tr[data-index="3"] td.col-sigma').click();
    assert.deepEqual(await takePosted(p), []);
    assert.equal(await p.locator('tbody tr[data-index="3"]').getAttribute('tabindex'), null);

    await send(p, { type: 'state', state: doneState({ canReveal: true }) });
    await p.locator('tbody tr[data-index="3"] td.col-sigma').click();
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 3 }]);
    // Sorted rows still reveal their own layer, and rows are reachable by keyboard.
    await p.locator('th.col-sigma button').click();
    await p.locator('tbody tr[data-index="6"]').focus();
    await p.keyboard.press('Enter');
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 6 }]);
  });

  test('setState is called and a reload restores the table, sort and filter before any message', async () => {
    const p = await open();
    await send(p, { type: 'state', state: plannedState() }, layerMessage(0), layerMessage(1), layerMessage(3));
    await p.locator('th.col-sigma button').click();
    await p.locator('input.filter-input').fill('c');
    const before = await record(p);
    assert.ok(before.stateCalls >= 4, `setState called on load, state, sort and filter (${before.stateCalls})`);
    const orderBefore = await rowOrder(p);
    const sigmaBefore = await cellText(p, 3, 'sigma');

    await p.reload();
    await waitForReady(p);
    const afterReload = await record(p);
    assert.deepEqual(afterReload.posted, [{ type: 'ready' }], 'posts ready again after the reload');
    assert.deepEqual(await rowOrder(p), orderBefore);
    assert.equal(await cellText(p, 3, 'sigma'), sigmaBefore);
    assert.equal(await p.locator('tbody tr.row-planned').count(), orderBefore.filter((i) => ![0, 1, 3].includes(i)).length);
    assert.equal(await p.locator('input.filter-input').inputValue(), 'c');
    assert.equal(await p.locator('th.col-sigma').getAttribute('aria-sort'), 'descending');
    assert.equal(await p.locator('.progress-text').textContent(), '4 / 8 layers', 'done/total of the last layer message');

    // The restored page keeps taking live updates; layer messages alone are saved shortly after.
    const calls = (await record(p)).stateCalls;
    await send(p, layerMessage(6));
    assert.equal(await cellText(p, 6, 'sigma'), '0.0123');
    await p.waitForFunction((n) => (window as unknown as { __ll: { stateCalls: number } }).__ll.stateCalls > n, calls, { timeout: 2000 });
    await p.reload();
    await waitForReady(p);
    assert.equal(await cellText(p, 6, 'sigma'), '0.0123');
  });

  test('a dynamic-shape model: the summary, a suggested shape, and Estimate posts the shape typed', async () => {
    const p = await open();
    const dynamicModel = { ...MODEL, inputShape: [], inputs: [{ name: 'x', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'] }] };
    await send(p, { type: 'state', state: { model: dynamicModel, layers: [], bounds: null, status: 'idle', done: 0, total: 0, canReveal: false, summary: dynamicModel, needsInputShape: 'input "x" has dynamic dims; they cannot be guessed' } });
    await takePosted(p);
    assert.equal(await p.locator('.summary').isVisible(), true);
    assert.equal(await p.locator('.shape-input').inputValue(), '1,3,224,224', 'a suggestion fills the field');
    assert.match((await p.locator('.shape-note').textContent()) ?? '', /cannot be guessed/);
    const dd = await p.$$eval('.summary-list dd', (items) => items.map((i) => i.textContent));
    assert.ok(dd.includes('none yet: give one below'));
    await p.locator('.shape-input').fill('1,3,-2,4');
    await p.locator('button.shape-estimate').click();
    assert.match((await p.locator('.shape-error').textContent()) ?? '', /positive integers/);
    assert.deepEqual(await takePosted(p), [], 'an invalid shape is not posted');
    await p.locator('.shape-input').fill('1 x 3 x 48 x 192');
    await p.locator('button.shape-estimate').click();
    assert.deepEqual(await takePosted(p), [{ type: 'estimate', inputShape: [1, 3, 48, 192] }]);
    // After the run the field and the summary say which shape is in use.
    await send(p, { type: 'state', state: doneState({ summary: dynamicModel, model: { ...MODEL, inputShape: [1, 3, 48, 192] } }) });
    const after = await p.$$eval('.summary-list dd', (items) => items.map((i) => i.textContent));
    assert.ok(after.includes('1×3×48×192'), `the summary names the shape in use: ${after.join(' | ')}`);
    assert.equal(await p.locator('.shape-input').inputValue(), '1,3,48,192');
    await screenshot(p, '05b-dynamic-shape');
  });

  test('columns can be hidden, and a half-width editor starts with a table that fits', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState({ layers: doneState().layers.map((l, i) => (i === 0 ? { ...l, foldedSigma: 3.1 } : l)) }) });
    assert.equal(await p.locator('th.col-foldedSigma').isVisible(), true, 'the folded σ column shows when a row has one');
    assert.equal(await p.locator('th.col-seconds').isVisible(), true);
    await p.locator('.column-picker summary').click();
    await p.locator('input.column-toggle[data-key="seconds"]').uncheck();
    assert.equal(await p.locator('th.col-seconds').isVisible(), false);
    assert.equal(await p.locator('td.col-seconds').first().isVisible(), false);
    await p.locator('input.column-toggle[data-key="seconds"]').check();
    assert.equal(await p.locator('th.col-seconds').isVisible(), true);

    await p.setViewportSize({ width: 560, height: 800 });
    await p.reload();
    await waitForReady(p);
    await send(p, { type: 'state', state: doneState() });
    assert.equal(await p.locator('th.col-weightShape').isVisible(), false, 'narrow: the shape columns start hidden');
    assert.equal(await p.locator('input.column-toggle[data-key="weightShape"]').isChecked(), false);
    await screenshot(p, '07-narrow');
    const widths = await p.$eval('.table-scroll', (e) => [e.scrollWidth, e.clientWidth]);
    assert.ok(widths[0] <= widths[1] + 1, `the table fits a half-width editor, the time column is not cut off: ${widths.join(' > ')}`);
    await screenshot(p, '07-narrow');
  });

  test('model summary, error banner, cache badge and the bound statuses', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState({ summary: MODEL, fromCache: true }) });
    assert.equal(await p.locator('.cache-badge').isVisible(), true);
    const summary = await p.$$eval('.summary-list dt, .summary-list dd', (items) => items.map((i) => i.textContent));
    const pairs = Object.fromEntries(summary.flatMap((_, i) => (i % 2 === 0 ? [[summary[i], summary[i + 1]]] : [])));
    assert.deepEqual(pairs, {
      Format: 'onnx',
      Producer: 'pytorch 2.3.0',
      Opset: '17',
      Inputs: 'input: batch×3×8×8',
      Outputs: 'logits: batch×10',
      Nodes: '8',
      Parameters: '1,234,567 (1.23 M)',
      'Input shape used': '1×3×8×8',
    });
    assert.equal(await p.locator('.error-banner').isVisible(), false);
    assert.equal(await p.locator('th.col-upperBound').isVisible(), true);
    await screenshot(p, '06-summary-cache');

    await send(p, { type: 'status', status: 'error', error: 'small-cnn.onnx: tensor conv1.weight has 10 values, shape needs 216' });
    assert.equal(await p.locator('.error-banner').isVisible(), true);
    assert.equal(await p.locator('.error-banner').textContent(), 'small-cnn.onnx: tensor conv1.weight has 10 values, shape needs 216');
    assert.equal(await p.locator('.error-banner').getAttribute('role'), 'alert');
    await screenshot(p, '07-error');

    await send(p, {
      type: 'state',
      state: doneState({
        bounds: { product: null, certified: null, unsupported: [], unbounded: [{ name: 'attn', op: 'MatMul', reason: 'x·y of two activations is not Lipschitz' }] },
        layers: doneState().layers.map((l) => ({ ...l, upperBound: null })),
      }),
    });
    assert.equal(await p.locator('.summary').isVisible(), false);
    assert.equal(await p.locator('.bound-status').textContent(), 'unbounded');
    assert.equal(await p.locator('.bound-value').textContent(), '—');
    assert.equal(await p.locator('.bound-reasons li').textContent(), 'unbounded because MatMul: x·y of two activations is not Lipschitz (attn)');
    assert.equal(await p.locator('th.col-upperBound').isVisible(), false, 'upper bound column only when present');

    await send(p, { type: 'status', status: 'done', bounds: { product: null, certified: null, unsupported: [{ name: 'n7', op: 'Einsum' }] } });
    assert.equal(await p.locator('.bound-status').textContent(), 'unsupported ops');
    assert.equal(await p.locator('.bound-reasons li').textContent(), 'unsupported ops: Einsum (n7)');

    await send(p, {
      type: 'status',
      status: 'done',
      bounds: { product: null, certified: null, unsupported: [], invalid: [{ name: 'fc', op: 'Gemm', reason: 'NaN in weights' }] },
    });
    assert.equal(await p.locator('.bound-status').textContent(), 'invalid');
    assert.equal(await p.locator('.bound-reasons li').textContent(), 'invalid: Gemm: NaN in weights (fc)');
    const statusColour = await p.$eval('.bound-status', (e) => getComputedStyle(e).color);
    assert.equal(statusColour, THEME['--vscode-errorForeground']);
    await screenshot(p, '08-invalid');
  });

  test('colours follow the --vscode-* theme variables, also when the theme changes', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState() });
    const colours = () =>
      p.evaluate(() => {
        const style = (selector: string) => getComputedStyle(document.querySelector(selector) as Element);
        return {
          body: style('body').backgroundColor,
          text: style('body').color,
          estimate: style('button.estimate').backgroundColor,
          estimateText: style('button.estimate').color,
          exportButton: style('button.export').backgroundColor,
          input: style('input.filter-input').backgroundColor,
          bar: style('rect.bar-value').fill,
          line: style('polyline.running-line').stroke,
          boundEdge: style('.bound').borderLeftColor,
          fixedRow: style('tr.row-fixed td').color,
        };
      });
    assert.deepEqual(await colours(), {
      body: THEME['--vscode-editor-background'],
      text: THEME['--vscode-foreground'],
      estimate: THEME['--vscode-button-background'],
      estimateText: THEME['--vscode-button-foreground'],
      exportButton: THEME['--vscode-button-secondaryBackground'],
      input: THEME['--vscode-input-background'],
      bar: THEME['--vscode-charts-blue'],
      line: THEME['--vscode-charts-orange'],
      boundEdge: THEME['--vscode-charts-green'],
      fixedRow: THEME['--vscode-descriptionForeground'],
    });
    // VS Code swaps the variables on <html> when the theme changes (CSSOM is allowed by the CSP).
    await p.evaluate(() => {
      const html = document.documentElement.style;
      html.setProperty('--vscode-editor-background', 'rgb(255, 255, 255)');
      html.setProperty('--vscode-foreground', 'rgb(20, 20, 20)');
      html.setProperty('--vscode-charts-blue', 'rgb(0, 90, 200)');
      html.setProperty('--vscode-button-background', 'rgb(0, 95, 184)');
    });
    const light = await colours();
    assert.equal(light.body, 'rgb(255, 255, 255)');
    assert.equal(light.text, 'rgb(20, 20, 20)');
    assert.equal(light.bar, 'rgb(0, 90, 200)');
    assert.equal(light.estimate, 'rgb(0, 95, 184)');
    await screenshot(p, '09-light-theme');
  });

  test('transitions run only without a reduced-motion preference', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState() });
    const duration = () => p.$eval('rect.bar', (r) => getComputedStyle(r).transitionDuration);
    await p.emulateMedia({ reducedMotion: 'no-preference' });
    assert.match(await duration(), /^0\.2s/);
    await p.emulateMedia({ reducedMotion: 'reduce' });
    assert.equal(await duration(), '0s');
  });

  test('a narrow panel keeps the controls reachable and scrolls the table sideways', async () => {
    const p = await open();
    await p.setViewportSize({ width: 480, height: 800 });
    await send(p, { type: 'state', state: doneState({ summary: MODEL }) });
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page itself does not scroll sideways (${overflow}px)`);
    const scroll = await p.$eval('.table-scroll', (e) => e.scrollWidth > e.clientWidth);
    assert.equal(scroll, true, 'the wide table scrolls inside its box');
    for (const name of ['Estimate again', 'JSON', 'CSV', 'Markdown', 'Netron']) {
      assert.equal(await p.getByRole('button', { name, exact: true }).isVisible(), true, name);
    }
    await screenshot(p, '10-narrow');
  });

  test('malformed messages are ignored', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState() });
    await p.evaluate(() => {
      window.postMessage({ type: 'state', state: { layers: 'nope' } }, '*');
      window.postMessage({ type: 'layer', index: -1 }, '*');
      window.postMessage('hello', '*');
    });
    await send(p, { type: 'status', status: 'done' });
    assert.equal((await rowOrder(p)).length, 8);
    assert.equal(await cellText(p, 0, 'sigma'), '3.215');
  });
});
