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

  const open = async (view: 'panel' | 'editor' = 'panel') => {
    const p = await harness.newPage(view);
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
    assert.equal(await p.locator('rect.bar').count(), 4);
  });

  test('the chart: σ and constants on their own log axis, the running bound on a second one below, layer names on the axis', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState() });
    const chart = await p.$eval('svg.chart-svg', (svgEl) => {
      const num = (e: Element, a: string) => Number(e.getAttribute(a));
      const ticks = (plot: string) => Array.from(svgEl.querySelectorAll(`line.grid-${plot}`)).map((l) => ({ value: Number(l.getAttribute('data-value')), y: num(l, 'y1') }));
      return {
        bars: Array.from(svgEl.querySelectorAll('rect.bar')).map((r) => ({
          index: Number(r.getAttribute('data-index')),
          value: Number(r.getAttribute('data-value')),
          x: num(r, 'x'),
          width: num(r, 'width'),
          y: num(r, 'y'),
          height: num(r, 'height'),
          className: r.getAttribute('class') ?? '',
          fill: getComputedStyle(r).fill,
        })),
        ticks: ticks('bars'),
        runTicks: ticks('running'),
        line: svgEl.querySelector('polyline.running-line')?.getAttribute('points') ?? '',
        points: Array.from(svgEl.querySelectorAll('circle.running-point')).map((c) => ({ value: Number(c.getAttribute('data-value')), y: num(c, 'cy') })),
        labels: Array.from(svgEl.querySelectorAll('text.x-label')).map((t) => ({ text: t.childNodes[0]?.textContent ?? '', title: t.querySelector('title')?.textContent ?? '', box: t.getBoundingClientRect() })),
        svgBox: svgEl.getBoundingClientRect(),
      };
    });
    assert.deepEqual(chart.bars.map((b) => b.index), [0, 3, 4, 6], 'weighted rows, and the sigmoid whose constant 0.25 is not 1');
    assert.deepEqual(chart.bars.map((b) => b.value), [3.2146, 45.678, 0.25, 0.0123]);
    assert.deepEqual(chart.bars.map((b) => b.fill), [THEME['--vscode-charts-blue'], THEME['--vscode-charts-blue'], THEME['--vscode-charts-green'], THEME['--vscode-charts-blue']], 'fixed constants are coloured apart from σ');
    // Each plot's decade ticks are evenly spaced, and values sit where their log10 falls between them.
    const scale = (ticks: { value: number; y: number }[]) => {
      const first = ticks[0];
      const last = ticks[ticks.length - 1];
      const perDecade = (first.y - last.y) / Math.log10(last.value / first.value);
      for (let i = 1; i < ticks.length; i++) {
        assert.ok(Math.abs(ticks[i - 1].y - ticks[i].y - perDecade * Math.log10(ticks[i].value / ticks[i - 1].value)) < 0.02);
      }
      return (value: number) => first.y - perDecade * Math.log10(value / first.value);
    };
    assert.ok(chart.ticks.length >= 3 && chart.runTicks.length >= 3);
    const barY = scale(chart.ticks);
    const runY = scale(chart.runTicks);
    const baseline = chart.ticks[0].y;
    for (const bar of chart.bars) {
      assert.ok(Math.abs(bar.y - barY(bar.value)) < 0.02, `bar ${bar.index} top ${bar.y} vs ${barY(bar.value)}`);
      assert.ok(Math.abs(bar.y + bar.height - baseline) < 0.02, `bar ${bar.index} stands on the baseline`);
    }
    assert.deepEqual(chart.ticks.map((t) => t.value), [0.001, 0.01, 0.1, 1, 10, 100], 'the σ axis spans the constants only');
    assert.deepEqual(chart.runTicks.map((t) => t.value), [0.1, 1, 10, 100, 1000], 'the running bound has its own axis');
    assert.ok(Math.min(...chart.runTicks.map((t) => t.y)) > baseline, 'the running bound\'s plot is below the bars');
    assert.equal(chart.line.split(' ').length, 4);
    assert.deepEqual(chart.points.map((pt) => pt.value), [3.2146, 146.84, 36.71, 0.45153]);
    for (const point of chart.points) assert.ok(Math.abs(point.y - runY(point.value)) < 0.02);
    // Names, not only row numbers, with the full name on hover; inside the chart.
    assert.deepEqual(chart.labels.map((l) => l.text), ['conv1', 'conv2', 'sigmoid', 'fc']);
    assert.deepEqual(chart.labels.map((l) => l.title), ['0 conv1', '3 conv2', '4 sigmoid', '6 fc']);
    for (const label of chart.labels) assert.ok(label.box.bottom <= chart.svgBox.bottom + 0.5, `the label ${label.text} is not cut off at the bottom`);
    await p.locator('section.chart').screenshot({ path: join(SCREENSHOTS, '05-chart.png') });

    // A bound of 6e43 (a MobileNet's) leaves the σ bars as tall as before: only the lower axis widens.
    const heights = chart.bars.map((b) => b.height);
    await send(p, { type: 'state', state: doneState({ layers: doneState().layers.map((row, i) => (i === 6 ? { ...row, runningBound: 6e43 } : row)) }) });
    assert.deepEqual(await p.$$eval('rect.bar', (rects) => rects.map((r) => Number(r.getAttribute('height')))), heights);
    assert.equal(await p.$eval('svg.chart-svg', (e) => e.getAttribute('data-run-hi')), '1e+44');

    // While a run fills in, weighted rows without a result have flat pending bars.
    await send(p, { type: 'state', state: plannedState() }, layerMessage(3));
    const classes = await p.$$eval('rect.bar', (rects) => rects.map((r) => `${r.getAttribute('class')}:${r.getAttribute('height')}`));
    assert.equal(classes[0], 'bar bar-pending bar-sigma:3');
    assert.match(classes[1], /^bar bar-value bar-sigma:\d/);
    assert.equal(classes[2], 'bar bar-pending bar-sigma:3');
  });

  test('a long layer name is abbreviated on the axis, the full name on hover, and the table keeps its end in view', async () => {
    const p = await open();
    const long = 'StatefulPartitionedCall/functional_1/depthwise_conv2d_31/depthwise';
    await send(p, { type: 'state', state: doneState({ layers: doneState().layers.map((row, i) => (i === 3 ? { ...row, name: long } : row)) }) });
    const label = await p.$eval('text.x-label[data-index="3"]', (t) => ({ text: t.childNodes[0]?.textContent ?? '', title: t.querySelector('title')?.textContent ?? '' }));
    assert.equal(label.text, 'depthwise…onv2d_31', 'the layer\'s own segment, its middle elided to 18 characters');
    assert.equal(label.title, `3 ${long}`);
    // The table cell holds the whole name (exports and the VS Code test compare it), cut at its start when too long.
    assert.equal(await cellText(p, 3, 'name'), long);
    const cut = await p.$eval('table.results tbody tr[data-index="3"] td.col-name', (td) => {
      const span = td.querySelector('.name-text') as HTMLElement;
      const cell = td.getBoundingClientRect();
      const text = span.getBoundingClientRect();
      return { overflows: text.width > cell.width, endVisible: text.right <= cell.right + 1, startHidden: text.left < cell.left };
    });
    assert.deepEqual(cut, { overflows: true, endVisible: true, startHidden: true });
  });

  test('a click on a chart bar scrolls to its table row, marks and focuses it, and reveals it only where the model can', async () => {
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
    assert.equal(await p.locator('table.results tbody tr').count(), 0);
    // Where rows reveal (model.json, .onnx), a bar or its name on the axis reveals the layer too.
    await p.locator('input.filter-input').fill('');
    await takePosted(p);
    await send(p, { type: 'state', state: doneState({ canReveal: true }) });
    await p.locator('rect.bar[data-index="6"]').click();
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 6 }]);
    await p.locator('text.x-label[data-index="3"]').click();
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 3 }]);
    assert.deepEqual(await p.$$eval('table.results tbody tr.highlighted', (rows) => rows.map((r) => r.getAttribute('data-index'))), ['3']);
  });

  test('top contributors: the rows whose factors add most to log L, with their share, each a link to its row', async () => {
    const p = await open();
    await takePosted(p);
    await send(p, { type: 'state', state: doneState({ canReveal: true }) });
    const rows = await p.$$eval('.contributors-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
    // Factors above 1: conv2's certified 51.2 and conv1's 3.5; shares of log10(51.2) + log10(3.5).
    const total = Math.log10(51.2) + Math.log10(3.5);
    assert.deepEqual(rows, [
      ['3', 'conv2', 'Conv', '51.2', '1.71', `${((100 * Math.log10(51.2)) / total).toFixed(1)} %`],
      ['0', 'conv1', 'Conv', '3.5', '0.544', `${((100 * Math.log10(3.5)) / total).toFixed(1)} %`],
    ]);
    assert.match((await p.locator('.contributors-note').textContent()) ?? '', /^The 2 of 2 expanding rows that add most to log₁₀ L \(100 % of the 2\.25 decades the factors above 1 add; the factors below 1 take back 2\.49\)\.$/);
    const fills = await p.$$eval('.contributors-table rect.share-fill', (rects) => rects.map((r) => Number(r.getAttribute('width'))));
    assert.ok(Math.abs(fills[0] / fills[1] - Math.log10(51.2) / Math.log10(3.5)) < 0.01, 'the share bars are proportional');
    await p.locator('.contributors-table tbody tr[data-row="0"]').click();
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 0 }]);
    assert.deepEqual(await p.$$eval('table.results tbody tr.highlighted', (trs) => trs.map((r) => r.getAttribute('data-index'))), ['0']);
    await p.locator('section.contributors').screenshot({ path: join(SCREENSHOTS, '05c-contributors.png') });
    // Nothing computed yet: no list.
    await send(p, { type: 'state', state: plannedState() });
    assert.equal(await p.locator('section.contributors').isVisible(), false);
  });

  test('numeric and field filters in the box, with the syntax in its placeholder and tooltip', async () => {
    const p = await open();
    await send(p, { type: 'state', state: doneState() });
    const input = p.locator('input.filter-input');
    assert.match((await input.getAttribute('placeholder')) ?? '', /kind:linear.*σ > 2/);
    const help = (await input.getAttribute('title')) ?? '';
    for (const part of ['kind:linear', 'op:Conv', 'σ > 2', 'sigma>=1.5', '-relu']) assert.ok(help.includes(part), `the tooltip explains ${part}`);
    await input.fill('σ > 2');
    assert.deepEqual(await rowOrder(p), [0, 3]);
    await input.fill('sigma>=1.5 kind:linear');
    assert.deepEqual(await rowOrder(p), [0, 3]);
    await input.fill('kind:activation -sigmoid');
    assert.deepEqual(await rowOrder(p), [1, 7]);
    await input.fill('op:Conv σ<10');
    assert.deepEqual(await rowOrder(p), [0]);
    assert.equal(await p.locator('.row-count').textContent(), '1 of 8 rows');
    await input.fill('conv σ >');
    assert.deepEqual(await rowOrder(p), [0, 3], 'a comparison still being typed does not empty the table');
    assert.equal(await p.locator('.filter-note').textContent(), 'ignored: σ > (needs a value)');
    await input.fill('');
    assert.equal(await p.locator('.filter-note').textContent(), '');
  });

  test('the bracket in the headline: measured lower, certified upper, width, each explained, and the loosest chains', async () => {
    const p = await open();
    const bounds = {
      ...BOUNDS,
      lower: 0.2105,
      certifiedTight: 0.5,
      bracket: {
        width: 0.5 / 0.2105,
        lower: { foundBy: 'ascent', inputRange: [0, 1] as [number, number], samples: 16, evaluations: 400 },
        upper: { expansion: 0.5, chains: [{ from: 'conv1', to: 'conv2', groups: 2, product: 179.2, bound: 44.8, directProducts: 1 }] },
      },
    };
    await send(p, { type: 'state', state: doneState({ bounds }) });
    assert.equal(await p.locator('.bound-value').textContent(), 'L ≤ 0.5', 'the headline is the tighter certified bound');
    assert.equal(await p.locator('.bracket-value').textContent(), 'L ∈ [0.2105, 0.5]');
    assert.equal(await p.locator('.bracket-width').textContent(), 'width ×2.375');
    assert.deepEqual(await p.locator('.bracket-explain li').allTextContents(), [
      'L ≥ 0.2105 is measured, not certified: the largest ‖f(a) − f(b)‖ / ‖a − b‖ found (by ascent) on inputs in [0, 1]; true up to float32 rounding.',
      'L ≤ 0.5 is certified: proven for every input.',
      'Width ×2.375: the true constant lies between the two; the wider, the less either side says.',
    ]);
    assert.match((await p.locator('.bound-explain li').first().textContent()) ?? '', /tighter than the composition of the layers' certified upper bounds, L ≤ 0\.6512/);
    assert.deepEqual(await p.locator('.bracket-chains li').allTextContents(), ['conv1 → conv2: 179.2 → 44.8 (×4 tighter)']);
    await p.locator('section.bound').screenshot({ path: join(SCREENSHOTS, '05d-bracket.png') });
    // No bracket in the report: no bracket box, the headline as before.
    await send(p, { type: 'state', state: doneState() });
    assert.equal(await p.locator('.bracket').isVisible(), false);
    assert.equal(await p.locator('.bound-value').textContent(), 'L ≤ 0.6512');
    // A bracket whose lower side could not run says why.
    await send(p, { type: 'state', state: doneState({ bounds: { ...bounds, lower: null, bracket: { ...bounds.bracket, width: null, lower: { unavailable: 'the executor cannot run Einsum', inputRange: [0, 1], samples: 0 } } } }) });
    assert.equal(await p.locator('.bracket-value').textContent(), 'L ∈ [—, 0.5]');
    assert.equal(await p.locator('.bracket-explain li').first().textContent(), 'No measured lower bound: the executor cannot run Einsum.');
  });

  test('the bracket says how its lower side stopped on the time budget, under the lower-bound line, with or without a lower bound', async () => {
    const p = await open();
    const reason = 'the next power step (about 6.76 s) would have ended past the 12 s budget (5.08 s left); not run: 11 × power step, 1 × sample';
    const stopped = `The lower side stopped on its time budget: ${reason}.`;
    const bounds = {
      ...BOUNDS,
      lower: 0.2105,
      certifiedTight: 0.5,
      bracket: {
        width: 0.5 / 0.2105,
        lower: { foundBy: 'sample', inputRange: [0, 1] as [number, number], samples: 3, evaluations: 40, timedOut: true, timedOutReason: reason },
        upper: { expansion: 0.5, chains: [] },
      },
    };
    await send(p, { type: 'state', state: doneState({ bounds }) });
    const lines = await p.locator('.bracket-explain li').allTextContents();
    assert.match(lines[0], /^L ≥ 0\.2105 is measured/);
    assert.equal(lines[1], stopped, 'right under the lower-bound line');
    assert.ok(lines.includes('A side of the bracket stopped on its time budget: a longer run may narrow it.'));
    await p.locator('section.bound').screenshot({ path: join(SCREENSHOTS, '05e-bracket-timed-out.png') });
    // No pair finished within the budget: no lower bound, and still the reason.
    const unavailable = 'the 12 s budget ran out before the first pair of network passes finished';
    await send(p, { type: 'state', state: doneState({ bounds: { ...bounds, lower: null, bracket: { ...bounds.bracket, width: null, lower: { unavailable, inputRange: [0, 1], samples: 1, timedOut: true, timedOutReason: reason } } } }) });
    assert.equal(await p.locator('.bracket-value').textContent(), 'L ∈ [—, 0.5]');
    assert.deepEqual((await p.locator('.bracket-explain li').allTextContents()).slice(0, 2), [`No measured lower bound: ${unavailable}.`, stopped]);
    // A search that did not stop on its budget has no such line.
    await send(p, { type: 'state', state: doneState({ bounds: { ...bounds, bracket: { ...bounds.bracket, lower: { foundBy: 'ascent', inputRange: [0, 1], samples: 16 } } } }) });
    assert.ok((await p.locator('.bracket-explain li').allTextContents()).every((line) => !/stopped/.test(line)));
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
    assert.equal(await p.locator('table.results tbody tr[data-index="3"]').getAttribute('tabindex'), null);

    await send(p, { type: 'state', state: doneState({ canReveal: true }) });
    await p.locator('tbody tr[data-index="3"] td.col-sigma').click();
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 3 }]);
    // Sorted rows still reveal their own layer, and rows are reachable by keyboard.
    await p.locator('th.col-sigma button').click();
    await p.locator('tbody tr[data-index="6"]').focus();
    await p.keyboard.press('Enter');
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 6 }]);
  });

  test('the .onnx editor lists the graph nodes with their σ; a reveal from the extension scrolls to the node and marks it', async () => {
    const p = await open('editor');
    await takePosted(p);
    await p.setViewportSize({ width: 900, height: 500 });
    // Node k of the graph for row k, except that nodes 2 and 5 (a Constant, a Shape) have no row of their own.
    const nodeOf = [0, 1, 3, 4, 6, 7, 8, 9];
    const layers = doneState().layers.map((row, i) => ({ ...row, sourceIndex: nodeOf[i] }));
    await send(p, { type: 'state', state: doneState({ layers, canReveal: true, summary: { ...MODEL, nodeCount: 10 } }) });
    assert.equal(await p.locator('details.nodes').isVisible(), true);
    const nodes = await p.$$eval('.nodes-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    assert.deepEqual(nodes.map((n) => n[0]), nodeOf.map(String));
    assert.deepEqual(nodes[3], ['4', 'conv2', 'Conv', '45.68']);
    assert.deepEqual(nodes[4], ['6', 'sigmoid', 'Sigmoid', '0.25']);
    assert.match((await p.locator('.nodes-note').textContent()) ?? '', /^8 nodes with a row of the graph's 10/);
    // A row click asks the extension to reveal (it answers with a 'reveal' message to this page).
    await p.locator('table.results tbody tr[data-index="6"] td.col-name').click();
    assert.deepEqual(await takePosted(p), [{ type: 'reveal', index: 6 }]);
    await p.evaluate(() => ((document.querySelector('details.nodes') as HTMLDetailsElement).open = false));
    await send(p, { type: 'reveal', row: 6 });
    const marked = await p.$$eval('.nodes-table tbody tr.highlighted', (trs) => trs.map((tr) => tr.getAttribute('data-node')));
    assert.deepEqual(marked, ['8'], 'row 6 is node 8');
    const state = await p.$eval('.nodes-table tbody tr.highlighted', (tr) => {
      const box = tr.getBoundingClientRect();
      const list = (document.querySelector('.nodes-scroll') as HTMLElement).getBoundingClientRect();
      return { open: (document.querySelector('details.nodes') as HTMLDetailsElement).open, focused: document.activeElement === tr, inView: box.top >= Math.max(0, list.top) - 1 && box.bottom <= Math.min(window.innerHeight, list.bottom) + 1, background: getComputedStyle(tr).backgroundColor };
    });
    assert.deepEqual(state, { open: true, focused: true, inView: true, background: THEME['--vscode-list-inactiveSelectionBackground'] });
    await screenshot(p, '05e-onnx-node-list');
    // The mark survives a re-render; another reveal moves it; the panel page has no node list.
    await send(p, { type: 'state', state: doneState({ layers, canReveal: true }) });
    assert.deepEqual(await p.$$eval('.nodes-table tbody tr.highlighted', (trs) => trs.map((tr) => tr.getAttribute('data-node'))), ['8']);
    await send(p, { type: 'reveal', row: 0 });
    assert.deepEqual(await p.$$eval('.nodes-table tbody tr.highlighted', (trs) => trs.map((tr) => tr.getAttribute('data-node'))), ['0']);
    const panelPage = await open('panel');
    await send(panelPage, { type: 'state', state: doneState({ layers, canReveal: true }) });
    assert.equal(await panelPage.locator('details.nodes').isVisible(), false);
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

    // Real names are long (TF.js: "StatefulPartitionedCall/functional_1/…") and so are some ops: still no cut.
    const longNames = doneState({
      // ... with a real model's wide numbers: running bounds like 2.742e5, seconds like 1.24 s.
      layers: doneState().layers.map((row, i) => ({ ...row, name: `StatefulPartitionedCall/functional_1/depthwise_conv2d_${i}/depthwise`, op: i === 3 ? 'DepthwiseConv2dNative' : row.op, runningBound: 2.742e5 * (i + 1), seconds: 1.24 })),
    });
    const fits = async (what: string) => {
      await send(p, { type: 'state', state: longNames });
      await screenshot(p, `07b-${what.split(' ')[0]}`);
      const [scroll, client] = await p.$eval('.table-scroll', (e) => [e.scrollWidth, e.clientWidth]);
      assert.ok(scroll <= client + 1, `${what}: the table fits (${scroll} > ${client})`);
      const time = await p.$eval('table.results tbody tr[data-index="3"] td.col-seconds', (td) => td.getBoundingClientRect().right);
      assert.ok(time <= (await p.$eval('.table-scroll', (e) => e.getBoundingClientRect().right)) + 1, `${what}: the time column is in view`);
      assert.equal(await p.$eval('table.results tbody tr[data-index="3"] td.col-op', (td) => td.getAttribute('title')), 'DepthwiseConv2dNative', 'a cut op keeps its name in the tooltip');
      assert.equal(await p.$eval('table.results tbody tr[data-index="3"] td.col-name', (td) => td.getAttribute('title')), longNames.layers[3].name, 'a cut name is whole in the tooltip');
    };
    await fits('half width (560 px), long names');
    const contributors = await p.$eval('.contributors-scroll', (e) => [e.scrollWidth, e.clientWidth]);
    assert.ok(contributors[0] <= contributors[1] + 1, `half width: the top contributors fit too (${contributors.join(' > ')})`);
    await p.setViewportSize({ width: 1280, height: 800 });
    await p.reload();
    await waitForReady(p);
    await fits('a full-width editor on a laptop (1280 px), long names');
    assert.equal(await p.locator('th.col-inputShape').isVisible(), false, 'below 1500 px the input shape starts hidden');
    assert.equal(await p.locator('th.col-weightShape').isVisible(), true);
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
