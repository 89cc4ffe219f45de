// The results page's DOM: built once, then updated in place on every render so focus, scroll and
// the filter box survive live updates. Everything is created with DOM APIs; colours live in style.css.

import type { FromWebview, PanelState } from '../src/protocol/messages';
import type { ModelInfo } from '../src/protocol/report';
import { abbreviateName } from './chart';
import { createChartView } from './chart-view';
import { contributions } from './contributors';
import { FILTER_HELP, parseFilter } from './filter';
import { cell, COLUMNS } from './columns';
import { el, setAttr, setHidden, setText, svg } from './dom';
import { formatInteger, formatModelLine, formatParameterCount, formatSeconds, formatShape, formatNumber } from '../src/protocol/format-number';
import { boundSummary, bracketSummary, foldedSigmaOf, isResult, parseShapeText, rowState, shapeInUse, suggestInputShape, visibleRows, type Row, type SortKey, type SortSpec } from './model';

export interface ViewHandlers {
  post(message: FromWebview): void;
  sort(key: SortKey): void;
  filter(text: string): void;
}

export interface View {
  render(panel: PanelState, sort: SortSpec, filter: string): void;
  /** The extension asks to show a row's node (the .onnx editor's node list): scroll to it and mark it. */
  revealNode(row: number): void;
}

/** How many rows the top-contributors list shows. */
const TOP_CONTRIBUTORS = 10;

const EXPORTS: { format: 'json' | 'csv' | 'markdown' | 'netron'; label: string; title: string }[] = [
  { format: 'json', label: 'JSON', title: 'Export the report as JSON' },
  { format: 'csv', label: 'CSV', title: 'Export the table as CSV' },
  { format: 'markdown', label: 'Markdown', title: 'Export the table as Markdown' },
  { format: 'netron', label: 'Netron', title: 'Export for viewing in Netron' },
];

/** Below this page width the table starts without the columns in NARROW_HIDDEN. */
const NARROW_WIDTH = 720;
// The op too: real names end with it (".../conv2d_3/BiasAdd", "/layer1/conv1/Conv"), and the name shows its end.
const NARROW_HIDDEN: readonly SortKey[] = ['op', 'kind', 'weightShape', 'inputShape', 'iterations', 'converged'];
/** Below this width (a full-width editor on a laptop) every column does not fit: the input shape and "converged" (σ is marked when not) start hidden. */
const MEDIUM_WIDTH = 1500;
const MEDIUM_HIDDEN: readonly SortKey[] = ['inputShape', 'converged'];

export function createView(root: HTMLElement, handlers: ViewHandlers): View {
  // ---- header, banners, summary
  const title = el('h1', { className: 'title', text: 'Lipschitz Lens' });
  const modelLine = el('p', { className: 'model-line' });
  const cacheBadge = el('span', { className: 'badge cache-badge', text: 'from cache', attrs: { title: 'These results were reused from the cache for this file content' } });
  const header = el('header', { className: 'header' }, [el('div', { className: 'header-text' }, [title, modelLine]), cacheBadge]);
  const errorBanner = el('div', { className: 'error-banner', attrs: { role: 'alert' } });
  const summaryList = el('dl', { className: 'summary-list' });
  // The .onnx editor's input shape: a field pre-filled with the shape in use (or a suggestion) and an Estimate button.
  const shapeInput = el('input', { className: 'shape-input', attrs: { type: 'text', 'aria-label': 'Input shape, batch first', spellcheck: 'false', placeholder: '1,3,224,224' } });
  const shapeButton = el('button', { className: 'primary shape-estimate', text: 'Estimate', attrs: { type: 'button' } });
  const shapeNote = el('p', { className: 'shape-note' });
  const shapeError = el('p', { className: 'shape-error', attrs: { role: 'alert' } });
  let shapeEdited = false;
  shapeInput.addEventListener('input', () => {
    shapeEdited = true;
    setText(shapeError, '');
  });
  const submitShape = () => {
    const shape = parseShapeText(shapeInput.value);
    if (!shape) {
      setText(shapeError, 'Give positive integers, batch first, separated by commas: 1,3,224,224.');
      return;
    }
    setText(shapeError, '');
    shapeEdited = false;
    handlers.post({ type: 'estimate', inputShape: shape });
  };
  shapeButton.addEventListener('click', submitShape);
  shapeInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') submitShape();
  });
  const shapeBox = el('div', { className: 'shape-box' }, [
    el('label', { className: 'shape-label' }, ['Input shape ', shapeInput]),
    shapeButton,
    shapeNote,
    shapeError,
  ]);
  const summary = el('section', { className: 'summary', attrs: { 'aria-label': 'Model summary' } }, [
    el('h2', { text: 'Model' }),
    summaryList,
    shapeBox,
  ]);

  // ---- bound and controls
  const boundStatus = el('span', { className: 'bound-status' });
  const boundValue = el('span', { className: 'bound-value' });
  const boundEstimate = el('span', { className: 'bound-estimate' });
  const boundExplain = el('ul', { className: 'bound-explain' });
  const boundReasons = el('ul', { className: 'bound-reasons' });
  // The bracket L ∈ [measured lower, certified upper] (docs/bracket.md), when the report has one.
  const bracketValue = el('span', { className: 'bracket-value' });
  const bracketWidth = el('span', { className: 'bracket-width' });
  const bracketExplain = el('ul', { className: 'bracket-explain' });
  const bracketChains = el('ol', { className: 'bracket-chains' });
  const bracketChainsHead = el('p', { className: 'bracket-chains-head', text: 'Where the per-layer product was loosest (product → certified bound of the chain):' });
  const bracketBox = el('div', { className: 'bracket', attrs: { 'aria-label': 'Bracket' } }, [
    el('div', { className: 'bracket-numbers' }, [bracketValue, bracketWidth]),
    bracketExplain,
    bracketChainsHead,
    bracketChains,
  ]);
  const bound = el('section', { className: 'bound', attrs: { 'aria-label': 'Network bound' } }, [
    el('div', { className: 'bound-head' }, [el('span', { className: 'bound-label', text: 'Network Lipschitz constant' }), boundStatus]),
    el('div', { className: 'bound-numbers' }, [boundValue, boundEstimate]),
    boundExplain,
    bracketBox,
    boundReasons,
  ]);

  const progress = el('progress', { className: 'progress', attrs: { max: '1', value: '0', 'aria-label': 'Layers estimated' } });
  const progressText = el('span', { className: 'progress-text' });
  const progressBox = el('div', { className: 'progress-box' }, [progress, progressText]);
  const estimateButton = el('button', { className: 'primary estimate', text: 'Estimate', attrs: { type: 'button' } });
  const cancelButton = el('button', { className: 'secondary cancel', text: 'Cancel', attrs: { type: 'button' } });
  estimateButton.addEventListener('click', () => handlers.post({ type: 'estimate' }));
  cancelButton.addEventListener('click', () => handlers.post({ type: 'cancel' }));
  const exportButtons = EXPORTS.map(({ format, label, title }) => {
    const button = el('button', { className: 'secondary export', text: label, attrs: { type: 'button', title, 'data-format': format } });
    button.addEventListener('click', () => handlers.post({ type: 'export', format }));
    return button;
  });
  const exportGroup = el('div', { className: 'export-group', attrs: { role: 'group', 'aria-label': 'Export' } }, [
    el('span', { className: 'export-label', text: 'Export' }),
    ...exportButtons,
  ]);
  const toolbar = el('div', { className: 'toolbar' }, [progressBox, estimateButton, cancelButton, exportGroup]);

  // ---- chart
  const chartBox = el('div', { className: 'chart-scroll' });
  const chart = el('section', { className: 'chart', attrs: { 'aria-label': 'Chart' } }, [
    el('h2', { text: 'Per-row constants and the running estimate (log scales)' }),
    chartBox,
    el('p', { className: 'legend' }, [
      el('span', { className: 'swatch swatch-bar', attrs: { 'aria-hidden': 'true' } }),
      ' σ  ',
      el('span', { className: 'swatch swatch-constant', attrs: { 'aria-hidden': 'true' } }),
      ' fixed constant ≠ 1  ',
      el('span', { className: 'swatch swatch-upper', attrs: { 'aria-hidden': 'true' } }),
      ' certified upper bound  ',
      el('span', { className: 'swatch swatch-one', attrs: { 'aria-hidden': 'true' } }),
      ' σ = 1  ',
      el('span', { className: 'swatch swatch-line', attrs: { 'aria-hidden': 'true' } }),
      ' running estimate L ≈ (lower plot, own axis)',
    ]),
  ]);

  // ---- top contributors: the rows whose factors add most to log L
  const contributorsBody = el('tbody');
  const contributorsNote = el('p', { className: 'contributors-note' });
  const contributorsTable = el('table', { className: 'contributors-table' }, [
    el('caption', { className: 'visually-hidden', text: 'Rows whose factors add most to log L' }),
    el('thead', {}, [
      el('tr', {}, [
        el('th', { text: '#', attrs: { scope: 'col', title: 'Layer index' } }),
        el('th', { text: 'Name', attrs: { scope: 'col' } }),
        el('th', { text: 'Op', attrs: { scope: 'col' } }),
        el('th', { className: 'numeric', text: 'Factor', attrs: { scope: 'col', title: 'The row\'s factor in the bound: its certified upper bound (folded with the next batch norm where there is one), or its fixed constant' } }),
        el('th', { className: 'numeric', text: 'log₁₀', attrs: { scope: 'col' } }),
        el('th', { className: 'numeric', text: 'Share', attrs: { scope: 'col', title: 'Share of the sum of log₁₀ over all factors above 1' } }),
      ]),
    ]),
    contributorsBody,
  ]);
  const contributorsSection = el('section', { className: 'contributors', attrs: { 'aria-label': 'Top contributors' } }, [
    el('h2', { text: 'Top contributors to log L' }),
    contributorsNote,
    el('div', { className: 'contributors-scroll' }, [contributorsTable]),
  ]);
  contributorsBody.addEventListener('click', (event) => {
    const tr = (event.target as Element | null)?.closest('tr[data-row]');
    if (tr) pick(Number(tr.getAttribute('data-row')));
  });
  contributorsBody.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const tr = (event.target as Element | null)?.closest('tr[data-row]');
    if (!tr || event.target !== tr) return;
    event.preventDefault();
    pick(Number(tr.getAttribute('data-row')));
  });

  // ---- the .onnx editor's node list: the graph's nodes with their σ; a reveal scrolls to one
  const isEditor = document.body.getAttribute('data-view') === 'editor';
  const nodesBody = el('tbody');
  const nodesNote = el('p', { className: 'nodes-note' });
  const nodesSection = el('details', { className: 'nodes', attrs: { 'aria-label': 'Graph nodes' } }, [
    el('summary', { text: 'Graph nodes' }),
    nodesNote,
    el('div', { className: 'nodes-scroll' }, [
      el('table', { className: 'nodes-table' }, [
        el('thead', {}, [
          el('tr', {}, [
            el('th', { className: 'numeric', text: 'Node', attrs: { scope: 'col', title: 'Position of the node in the ONNX graph' } }),
            el('th', { text: 'Name', attrs: { scope: 'col' } }),
            el('th', { text: 'Op', attrs: { scope: 'col' } }),
            el('th', { className: 'numeric', text: 'σ / constant', attrs: { scope: 'col' } }),
          ]),
        ]),
        nodesBody,
      ]),
    ]),
  ]);
  nodesSection.hidden = !isEditor;
  nodesBody.addEventListener('click', (event) => {
    const tr = (event.target as Element | null)?.closest('tr[data-row]');
    if (tr) showRow(Number(tr.getAttribute('data-row')));
  });

  // ---- table
  const filterInput = el('input', {
    className: 'filter-input',
    attrs: { type: 'search', placeholder: 'conv  kind:linear  op:Conv  σ > 2', title: FILTER_HELP, 'aria-label': 'Filter rows: words, kind:, op:, name:, or σ > 2', spellcheck: 'false' },
  });
  filterInput.addEventListener('input', () => handlers.filter(filterInput.value));
  const rowCount = el('span', { className: 'row-count', attrs: { 'aria-live': 'polite' } });
  const filterNote = el('span', { className: 'filter-note' });
  // Columns can be hidden; a narrow editor (half width) starts without the op, shape and solver columns.
  const hiddenColumns = new Set<SortKey>(window.innerWidth < NARROW_WIDTH ? NARROW_HIDDEN : window.innerWidth < MEDIUM_WIDTH ? MEDIUM_HIDDEN : []);
  const columnBoxes = COLUMNS.filter((column) => column.key !== 'index' && column.key !== 'name').map((column) => {
    const box = el('input', { className: 'column-toggle', attrs: { type: 'checkbox', 'data-key': column.key } });
    box.checked = !hiddenColumns.has(column.key);
    box.addEventListener('change', () => {
      if (box.checked) hiddenColumns.delete(column.key);
      else hiddenColumns.add(column.key);
      applyHiddenColumns();
    });
    return el('label', { className: 'column-choice', attrs: { title: column.title } }, [box, ` ${column.label}`]);
  });
  const columnPicker = el('details', { className: 'column-picker' }, [el('summary', { text: 'Columns' }), el('div', { className: 'column-choices' }, columnBoxes)]);
  const filterBar = el('div', { className: 'filter-bar' }, [el('label', { className: 'filter-label' }, ['Filter ', filterInput]), rowCount, filterNote, columnPicker]);

  const headerCells = new Map<SortKey, { th: HTMLTableCellElement; indicator: HTMLSpanElement }>();
  const headRow = el('tr');
  for (const column of COLUMNS) {
    const indicator = el('span', { className: 'sort-indicator', attrs: { 'aria-hidden': 'true' } });
    const button = el('button', { className: 'sort-button', attrs: { type: 'button', title: `${column.title}: sort`, 'data-key': column.key } }, [
      column.label,
      indicator,
    ]);
    button.addEventListener('click', () => handlers.sort(column.key));
    const th = el('th', { className: `col-${column.key}${column.numeric ? ' numeric' : ''}`, attrs: { scope: 'col' } }, [button]);
    headerCells.set(column.key, { th, indicator });
    headRow.append(th);
  }
  const tbody = el('tbody');
  const table = el('table', { className: 'results' }, [el('caption', { className: 'visually-hidden', text: 'Per-layer Lipschitz constants' }), el('thead', {}, [headRow]), tbody]);
  function applyHiddenColumns(): void {
    for (const column of COLUMNS) table.classList.toggle(`hide-${column.key}`, hiddenColumns.has(column.key));
  }
  applyHiddenColumns();
  const emptyNote = el('p', { className: 'empty-note' });
  const tableSection = el('section', { className: 'table-section', attrs: { 'aria-label': 'Layers' } }, [
    filterBar,
    el('div', { className: 'table-scroll' }, [table]),
    emptyNote,
  ]);

  let canReveal = false;
  /** Where a reveal goes, for the rows' tooltips. */
  let revealTarget = 'the model';
  tbody.addEventListener('click', (event) => {
    const tr = (event.target as Element | null)?.closest('tr[data-index]');
    if (!tr || !canReveal) return;
    handlers.post({ type: 'reveal', index: Number(tr.getAttribute('data-index')) });
  });
  /** A bar or a top contributor stands for a table row: scroll to it and mark it, and reveal it in the model when the host can. */
  function pick(index: number): void {
    showRow(index);
    if (canReveal) handlers.post({ type: 'reveal', index });
  }
  tbody.addEventListener('keydown', (event) => {
    if (!canReveal || (event.key !== 'Enter' && event.key !== ' ')) return;
    const tr = (event.target as Element | null)?.closest('tr[data-index]');
    if (!tr || event.target !== tr) return;
    event.preventDefault();
    handlers.post({ type: 'reveal', index: Number(tr.getAttribute('data-index')) });
  });

  const chartView = createChartView(chartBox);
  // A bar (or its name on the axis) stands for a table row (filtered-out rows stay hidden).
  chartBox.addEventListener('click', (event) => {
    const bar = (event.target as Element | null)?.closest('rect.bar[data-index], text.x-label[data-index]');
    if (bar) pick(Number(bar.getAttribute('data-index')));
  });

  // Announces run transitions only (not every layer) to screen readers.
  const announcer = el('div', { className: 'visually-hidden announcer', attrs: { role: 'status', 'aria-live': 'polite' } });
  let announcedStatus: PanelState['status'] | null = null;

  const main = el('main', { className: 'page' }, [header, errorBanner, summary, bound, toolbar, chart, contributorsSection, nodesSection, tableSection, announcer]);
  root.replaceChildren(main);

  // ---- rendering
  interface RowView {
    tr: HTMLTableRowElement;
    cells: HTMLTableCellElement[];
    row: Row | null;
    reveal: boolean;
    highlighted: boolean;
  }
  const rowViews = new Map<number, RowView>();
  let lastLayers: readonly Row[] | null = null;
  /** The row last picked from the chart. */
  let highlighted: number | null = null;

  function showRow(index: number): void {
    const previous = highlighted;
    highlighted = index;
    for (const changed of [previous, index]) {
      const view = changed === null ? undefined : rowViews.get(changed);
      if (view?.row) updateRow(view, view.row, changed as number);
    }
    const view = rowViews.get(index);
    if (!view?.tr.isConnected) return;
    view.tr.scrollIntoView({ block: 'nearest' });
    view.tr.focus({ preventScroll: true });
  }

  function rowView(index: number): RowView {
    let view = rowViews.get(index);
    if (!view) {
      const cells = COLUMNS.map((column) => el('td', { className: `col-${column.key}${column.numeric ? ' numeric' : ''}` }));
      const tr = el('tr', { attrs: { 'data-index': String(index) } }, cells);
      view = { tr, cells, row: null, reveal: false, highlighted: false };
      rowViews.set(index, view);
    }
    return view;
  }

  function updateRow(view: RowView, row: Row, index: number): void {
    const isHighlighted = highlighted === index;
    if (view.row === row && view.reveal === canReveal && view.highlighted === isHighlighted) return;
    view.row = row;
    view.reveal = canReveal;
    view.highlighted = isHighlighted;
    const state = rowState(row);
    const classes = [`row-${state}`, `kind-${row.kind}`];
    if (isResult(row) && state === 'computed' && !row.converged) classes.push('not-converged');
    if (canReveal) classes.push('revealable');
    if (isHighlighted) classes.push('highlighted');
    view.tr.className = classes.join(' ');
    // A row picked from the chart takes focus even when it cannot be revealed.
    setAttr(view.tr, 'tabindex', canReveal ? '0' : isHighlighted ? '-1' : null);
    setAttr(view.tr, 'title', canReveal ? `${row.name}: reveal in ${revealTarget}` : null);
    setAttr(view.tr, 'aria-busy', state === 'planned' ? 'true' : null);
    COLUMNS.forEach((column, i) => {
      const content = cell(row, index, column.key);
      const td = view.cells[i];
      if (column.key === 'name') {
        // The name sits in its own span so that a long one is cut at its start, keeping the end
        // (the layer, not the "StatefulPartitionedCall/model/" prefix) in view (style.css).
        let span = td.firstElementChild;
        if (!(span instanceof HTMLSpanElement)) {
          span = el('span', { className: 'name-text' });
          td.replaceChildren(span);
        }
        setText(span, content.text);
      } else {
        setText(td, content.text);
      }
      td.className = [`col-${column.key}`, column.numeric ? 'numeric' : '', content.className ?? ''].filter(Boolean).join(' ');
      setAttr(td, 'title', content.title ?? null);
    });
  }

  function renderRows(panel: PanelState, sort: SortSpec, filter: string): number {
    canReveal = panel.canReveal;
    const format = (panel.model ?? panel.summary)?.format;
    const nextTarget = format === 'onnx' ? 'the .onnx editor\'s node list' : format ? 'model.json' : 'the model';
    if (nextTarget !== revealTarget) {
      revealTarget = nextTarget;
      for (const view of rowViews.values()) view.row = null; // the tooltips change
    }
    const layers = panel.layers;
    if (layers !== lastLayers) {
      for (const [index, view] of rowViews) {
        if (index >= layers.length) {
          view.tr.remove();
          rowViews.delete(index);
        }
      }
      lastLayers = layers;
    }
    const order = visibleRows(layers, sort, filter);
    const wanted = new Set(order);
    for (const [index, view] of rowViews) if (!wanted.has(index)) view.tr.remove();
    let previous: HTMLTableRowElement | null = null;
    for (const index of order) {
      const view = rowView(index);
      updateRow(view, layers[index], index);
      const expected: ChildNode | null = previous ? previous.nextSibling : tbody.firstChild;
      if (expected !== view.tr) tbody.insertBefore(view.tr, expected);
      previous = view.tr;
    }
    return order.length;
  }

  function renderHeader(panel: PanelState, sort: SortSpec): void {
    const hasUpper = panel.layers.some((row) => isResult(row) && row.upperBound !== null);
    table.classList.toggle('no-upper', !hasUpper);
    table.classList.toggle('no-folded', !panel.layers.some((row) => foldedSigmaOf(row) !== null));
    for (const column of COLUMNS) {
      const entry = headerCells.get(column.key);
      if (!entry) continue;
      const sorted = sort.key === column.key;
      setAttr(entry.th, 'aria-sort', sorted ? sort.direction : 'none');
      setText(entry.indicator, sorted ? (sort.direction === 'ascending' ? ' ▲' : ' ▼') : '');
    }
  }

  function renderSummary(panel: PanelState): void {
    const info: ModelInfo | undefined = panel.summary;
    setHidden(summary, !info);
    if (!info) return;
    const entries: [string, string][] = [];
    entries.push(['Format', info.format]);
    if (info.producer) entries.push(['Producer', info.producerVersion ? `${info.producer} ${info.producerVersion}` : info.producer]);
    if (info.opset !== undefined) entries.push(['Opset', String(info.opset)]);
    const io = (list: { name: string; shape: (number | string)[] }[] | undefined) =>
      list && list.length ? list.map((t) => `${t.name}: ${formatShape(t.shape)}`).join(', ') : '—';
    entries.push(['Inputs', io(info.inputs)]);
    entries.push(['Outputs', io(info.outputs)]);
    if (info.nodeCount !== undefined) entries.push(['Nodes', formatInteger(info.nodeCount)]);
    if (info.parameterCount !== undefined) entries.push(['Parameters', formatParameterCount(info.parameterCount)]);
    const inUse = shapeInUse(panel);
    entries.push(['Input shape used', inUse ? formatShape(inUse) : 'none yet: give one below']);
    summaryList.replaceChildren(...entries.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })]));
    const suggestion = suggestInputShape(info.inputs?.[0]?.shape);
    const running = panel.status === 'running';
    if (!shapeEdited && document.activeElement !== shapeInput) shapeInput.value = (inUse ?? suggestion ?? []).join(',');
    shapeButton.disabled = running;
    setText(
      shapeNote,
      panel.needsInputShape
        ? `The input shape cannot be read from the file (${panel.needsInputShape}). ${inUse ? '' : 'Suggested: '}Enter the shape to estimate at, batch first.`
        : 'Batch first, in the file\'s own layout. Estimate runs at this shape.',
    );
    shapeNote.classList.toggle('warn', panel.needsInputShape !== undefined && !inUse);
  }

  function renderBound(panel: PanelState): void {
    const b = boundSummary(panel);
    bound.setAttribute('data-status', b.status);
    const statusText: Record<typeof b.status, string> = {
      pending: panel.status === 'cancelled' ? 'cancelled' : 'not estimated yet',
      running: panel.status === 'running' ? 'estimating…' : panel.status === 'cancelled' ? 'cancelled: partial' : 'partial',
      valid: 'valid',
      unbounded: 'unbounded',
      unsupported: 'unsupported ops',
      invalid: 'invalid',
    };
    setText(boundStatus, statusText[b.status]);
    const explain: string[] = [];
    if (b.partial) {
      // Rows finish out of order: a running value belongs to its row, never to the whole network.
      setText(boundValue, `L ≈ ${formatNumber(b.partial.value)} up to row ${b.partial.row} (${b.partial.name})`);
      setText(boundEstimate, '');
      explain.push(`Known only from the input to row ${b.partial.row}: the network's value comes when every row is done.`);
    } else if (b.certified !== null) {
      setText(boundValue, `L ≤ ${formatNumber(b.certified)}`);
      setText(boundEstimate, b.estimate === null ? '' : `L ≈ ${formatNumber(b.estimate)} (estimate)`);
    } else if (b.estimate !== null) {
      setText(boundValue, `L ≈ ${formatNumber(b.estimate)} (estimate)`);
      setText(boundEstimate, 'no certified bound');
    } else {
      setText(boundValue, '—');
      setText(boundEstimate, '');
    }
    const bracket = b.partial || b.status !== 'valid' ? null : bracketSummary(panel.bounds);
    if (!b.partial && b.certified !== null) {
      explain.push(
        bracket?.product != null
          ? `L ≤ is proven: the activation-midpoint expansion (certified partial products), tighter than the composition of the layers' certified upper bounds, L ≤ ${formatNumber(bracket.product)}.`
          : 'L ≤ is proven: the graph composition of every layer\'s certified upper bound.',
      );
    }
    if (!b.partial && b.estimate !== null) {
      explain.push(
        bracket?.product != null
          ? 'L ≈ is an estimate of the per-layer composition (the σ values composed, each found from below within the tolerance); not proven, and the expansion\'s certified bound can lie below it.'
          : 'L ≈ is an estimate: the same composition of the σ values, each found from below within the tolerance; not proven.',
      );
    }
    if (!b.partial && b.certified === null && b.estimate !== null) explain.push('No certified bound: some layer has no certified upper bound on its constant.');
    boundEstimate.classList.toggle('has-estimate', b.estimate !== null && b.certified !== null);
    boundExplain.replaceChildren(...explain.map((line) => el('li', { text: line })));
    boundReasons.replaceChildren(...b.reasons.map((reason) => el('li', { text: reason })));
    renderBracket(bracket);
  }

  /** The bracket L ∈ [lower, upper]: each side and the width in one line, and the loosest chains. */
  function renderBracket(bracket: ReturnType<typeof bracketSummary>): void {
    setHidden(bracketBox, !bracket);
    if (!bracket) return;
    const lower = bracket.lower === null ? '—' : formatNumber(bracket.lower);
    const upper = bracket.upper === null ? '—' : formatNumber(bracket.upper);
    setText(bracketValue, `L ∈ [${lower}, ${upper}]`);
    setText(bracketWidth, bracket.width === null ? '' : `width ×${formatNumber(bracket.width)}`);
    const range = bracket.inputRange ? ` on inputs in [${bracket.inputRange.join(', ')}]` : '';
    const lines: string[] = [];
    lines.push(
      bracket.lower === null
        ? `No measured lower bound: ${bracket.lowerUnavailable ?? 'the search found none'}.`
        : `L ≥ ${lower} is measured, not certified: the largest ‖f(a) − f(b)‖ / ‖a − b‖ found${bracket.foundBy ? ` (by ${bracket.foundBy})` : ''}${range}; true up to float32 rounding.`,
    );
    // What the CLI prints as "lower side stopped": which step did not fit the budget, and what was not run.
    if (bracket.lowerTimedOutReason) lines.push(`The lower side stopped on its time budget: ${bracket.lowerTimedOutReason}.`);
    if (bracket.upper !== null) lines.push(`L ≤ ${upper} is certified: proven for every input.`);
    if (bracket.width !== null) lines.push(`Width ×${formatNumber(bracket.width)}: the true constant lies between the two; the wider, the less either side says.`);
    if (bracket.timedOut) lines.push('A side of the bracket stopped on its time budget: a longer run may narrow it.');
    bracketExplain.replaceChildren(...lines.map((line) => el('li', { text: line })));
    setHidden(bracketChainsHead, bracket.chains.length === 0);
    bracketChains.replaceChildren(
      ...bracket.chains.map((chain) =>
        el('li', {
          text: `${chain.from} → ${chain.to}: ${formatNumber(chain.product)} → ${formatNumber(chain.bound)} (×${formatNumber(chain.gain)} tighter)`,
        }),
      ),
    );
  }

  let contributorsKey = '';
  let lastContributorLayers: readonly Row[] | null = null;
  function renderContributors(panel: PanelState): void {
    // Rebuilt only when the rows or what a click does change (layer messages re-render often).
    const key = `${panel.layers.length}|${canReveal}|${revealTarget}`;
    if (panel.layers === lastContributorLayers && key === contributorsKey) return;
    lastContributorLayers = panel.layers;
    contributorsKey = key;
    const c = contributions(panel.layers);
    setHidden(contributorsSection, c.rows.length === 0);
    if (c.rows.length === 0) return;
    const top = c.rows.slice(0, TOP_CONTRIBUTORS);
    const shown = top.reduce((sum, row) => sum + row.share, 0);
    setText(
      contributorsNote,
      `The ${top.length} of ${c.rows.length} expanding rows that add most to log₁₀ L (${Math.round(shown * 100)} % of the ${formatNumber(c.growth, 3)} decades the factors above 1 add${c.shrink < 0 ? `; the factors below 1 take back ${formatNumber(-c.shrink, 3)}` : ''}).${c.estimated ? ' ≈: a σ estimate, the row has no certified upper bound.' : ''}`,
    );
    contributorsBody.replaceChildren(
      ...top.map((row) => {
        // The bars compare the rows with each other: the largest share fills its bar.
        const meter = svg('svg', { class: 'share-bar', width: 60, height: 8, 'aria-hidden': 'true' }, [
          svg('rect', { class: 'share-track', x: 0, y: 0, width: 60, height: 8 }),
          svg('rect', { class: 'share-fill', x: 0, y: 0, width: Math.max(0.5, (60 * row.share) / top[0].share), height: 8 }),
        ]);
        const factorText = `${row.certified ? '' : '≈ '}${formatNumber(row.value)}`;
        return el('tr', { className: 'contributor', attrs: { 'data-row': String(row.index), tabindex: '0', title: `${row.name}: show in the table${canReveal ? ` and reveal in ${revealTarget}` : ''}` } }, [
          el('td', { className: 'numeric', text: String(row.index) }),
          el('td', { className: 'contributor-name', attrs: { title: row.name } }, [el('span', { className: 'name-text', text: abbreviateName(row.name, 40) })]),
          el('td', { className: 'contributor-op', text: row.op, attrs: { title: row.op } }),
          el('td', { className: 'numeric', text: factorText, attrs: { title: row.folded ? 'σ with the next batch norm folded in' : row.certified ? 'certified' : 'estimate: no certified upper bound' } }),
          el('td', { className: 'numeric', text: formatNumber(row.log10, 3) }),
          el('td', { className: 'numeric share' }, [meter, ` ${(row.share * 100).toFixed(1)} %`]),
        ]);
      }),
    );
  }

  /** The .onnx editor's node list: one entry per graph node with a row, in graph order, with its σ or constant. */
  let nodesKey = '';
  function renderNodes(panel: PanelState): void {
    if (!isEditor) return;
    const byNode = new Map<number, number>();
    panel.layers.forEach((row, index) => {
      const node = row.sourceIndex ?? -1;
      // A node split into several rows (a fused activation, an inlined If) is listed with its first row.
      if (node >= 0 && !byNode.has(node)) byNode.set(node, index);
    });
    const nodes = [...byNode.entries()].sort((a, b) => a[0] - b[0]);
    const key = nodes.map(([node, index]) => `${node}:${index}:${cell(panel.layers[index], index, 'sigma').text}${cell(panel.layers[index], index, 'constant').text}`).join(',');
    if (key !== nodesKey) {
      nodesKey = key;
      nodesBody.replaceChildren(
        ...nodes.map(([node, index]) => {
          const row = panel.layers[index];
          const value = cell(row, index, 'sigma').text || cell(row, index, 'constant').text;
          return el('tr', { attrs: { 'data-node': String(node), 'data-row': String(index), title: `${row.name}: show row ${index} in the table` } }, [
            el('td', { className: 'numeric', text: String(node) }),
            el('td', { className: 'node-name', text: row.name }),
            el('td', { text: row.op }),
            el('td', { className: 'numeric', text: value }),
          ]);
        }),
      );
      markNode();
    }
    const total = panel.summary?.nodeCount ?? panel.model?.nodeCount;
    setText(
      nodesNote,
      nodes.length === 0
        ? 'No nodes read yet.'
        : `${nodes.length} nodes with a row${total !== undefined && total > nodes.length ? ` of the graph's ${total}; the others are folded (constants, shape arithmetic) or elided` : ''}. A click on a table row, a bar or a contributor scrolls here.`,
    );
  }

  /** The node a reveal asked for, marked until another one is. */
  let revealedRow: number | null = null;
  function markNode(): void {
    const node = revealedRow === null ? null : String(lastLayers?.[revealedRow]?.sourceIndex ?? -1);
    for (const tr of Array.from(nodesBody.rows)) tr.classList.toggle('highlighted', node !== null && tr.getAttribute('data-node') === node);
  }

  function revealNode(row: number): void {
    if (!isEditor || !lastLayers?.[row]) return;
    revealedRow = row;
    nodesSection.open = true;
    markNode();
    const tr = nodesBody.querySelector('tr.highlighted');
    if (tr instanceof HTMLElement) {
      tr.scrollIntoView({ block: 'center' });
      setAttr(tr, 'tabindex', '-1');
      tr.focus({ preventScroll: true });
    }
  }

  function renderControls(panel: PanelState): void {
    const running = panel.status === 'running';
    setHidden(estimateButton, running);
    setHidden(cancelButton, !running);
    estimateButton.textContent = panel.layers.some(isResult) ? 'Estimate again' : 'Estimate';
    const hasResults = panel.layers.some(isResult);
    for (const button of exportButtons) button.disabled = running || !hasResults;
    setHidden(progress, !running);
    const total = Math.max(panel.total, 0);
    setAttr(progress, 'max', String(Math.max(total, 1)));
    setAttr(progress, 'value', String(Math.min(panel.done, Math.max(total, 1))));
    let text = '';
    if (running) text = `${panel.done} / ${total} layers`;
    else if (panel.status === 'done') text = `${panel.layers.length} layers${panel.seconds !== undefined ? ` in ${formatSeconds(panel.seconds)}` : ''}`;
    else if (panel.status === 'cancelled') text = `cancelled after ${panel.done} / ${total} layers`;
    else if (panel.status === 'error') text = 'failed';
    setText(progressText, text);
  }

  function announce(panel: PanelState): void {
    if (panel.status === announcedStatus) return;
    const first = announcedStatus === null;
    announcedStatus = panel.status;
    if (first && panel.status !== 'running') return;
    const b = boundSummary(panel);
    const messages: Record<PanelState['status'], string> = {
      idle: '',
      running: `Estimating ${panel.total} layers`,
      done: `Estimation finished: ${b.certified !== null ? `L ≤ ${formatNumber(b.certified)}` : b.estimate !== null ? `L ≈ ${formatNumber(b.estimate)} (estimate)` : b.status}`,
      cancelled: `Estimation cancelled after ${panel.done} of ${panel.total} layers`,
      error: 'Estimation failed',
    };
    setText(announcer, messages[panel.status]);
  }

  return {
    render(panel, sort, filter) {
      const model = panel.model ?? panel.summary ?? null;
      setText(modelLine, model ? formatModelLine(model) : 'No model loaded');
      setHidden(cacheBadge, !panel.fromCache);
      setHidden(errorBanner, !panel.error);
      setText(errorBanner, panel.error ?? '');
      renderSummary(panel);
      renderBound(panel);
      renderControls(panel);
      if (filterInput.value !== filter) filterInput.value = filter;
      renderHeader(panel, sort);
      const shown = renderRows(panel, sort, filter);
      setText(rowCount, filter.trim() ? `${shown} of ${panel.layers.length} rows` : `${panel.layers.length} rows`);
      const parsed = parseFilter(filter);
      setText(filterNote, parsed.incomplete.length ? `ignored: ${parsed.incomplete.join(', ')} (needs a value)` : '');
      setHidden(emptyNote, shown > 0);
      setText(emptyNote, panel.layers.length === 0 ? 'No layers yet. Estimate to fill the table.' : 'No rows match the filter.');
      chartView.render(panel.layers);
      renderContributors(panel);
      renderNodes(panel);
      announce(panel);
    },
    revealNode,
  };
}
