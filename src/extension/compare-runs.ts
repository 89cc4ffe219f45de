// Two runs side by side: per-layer σ of each, their ratio, and the network bounds, with rows matched
// by name (the n-th row of a name with the n-th of the same name): docs/architecture.md#run-history-and-compare-runs.
// Pure; the page is plain HTML styled by the theme's own variables.

import type { LayerResult, NetworkBounds, Report } from '../protocol/report';
import { formatNumber, formatShape } from '../protocol/format-number';
import { documentStart, escapeHtml } from './webview-html';

export interface LayerComparison {
  name: string;
  op: string;
  kind: LayerResult['kind'];
  a: LayerResult | undefined;
  b: LayerResult | undefined;
  /** σ(b) / σ(a): above 1 when the second run's layer stretches more. Null without both σ (or σ(a) = 0). */
  ratio: number | null;
}

export interface BoundComparison {
  a: number | null;
  b: number | null;
  ratio: number | null;
}

export interface RunComparison {
  layers: LayerComparison[];
  certified: BoundComparison;
  product: BoundComparison;
  /** Rows present in only one of the runs. */
  onlyA: string[];
  onlyB: string[];
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return null;
  return b / a;
}

function bound(a: NetworkBounds, b: NetworkBounds, which: 'certified' | 'product'): BoundComparison {
  return { a: a[which], b: b[which], ratio: ratio(a[which], b[which]) };
}

/** Matches the rows of `b` to those of `a` by name and occurrence; a's order first, then b's extra rows. */
export function compareReports(a: Report, b: Report): RunComparison {
  const occurrence = (layers: readonly LayerResult[]) => {
    const seen = new Map<string, number>();
    return layers.map((layer) => {
      const n = seen.get(layer.name) ?? 0;
      seen.set(layer.name, n + 1);
      return `${n}\u0000${layer.name}`;
    });
  };
  const keysA = occurrence(a.layers);
  const keysB = occurrence(b.layers);
  const byKeyB = new Map(keysB.map((key, i) => [key, b.layers[i]]));
  const matched = new Set<string>();
  const layers: LayerComparison[] = a.layers.map((layer, i) => {
    const other = byKeyB.get(keysA[i]);
    if (other) matched.add(keysA[i]);
    return { name: layer.name, op: layer.op, kind: layer.kind, a: layer, b: other, ratio: ratio(layer.sigma, other?.sigma) };
  });
  const onlyB: string[] = [];
  b.layers.forEach((layer, i) => {
    if (matched.has(keysB[i])) return;
    onlyB.push(layer.name);
    layers.push({ name: layer.name, op: layer.op, kind: layer.kind, a: undefined, b: layer, ratio: null });
  });
  const onlyA = layers.filter((l) => l.a && !l.b).map((l) => l.name);
  return { layers, certified: bound(a.bounds, b.bounds, 'certified'), product: bound(a.bounds, b.bounds, 'product'), onlyA, onlyB };
}

export interface RunLabel {
  /** Short title: "model.json, 12:03:05". */
  title: string;
  /** Where the model is and which input shape the run used. */
  detail: string;
}

function ratioCell(value: number | null): string {
  if (value === null) return '<td class="num">—</td>';
  // A change of more than 1 % is marked; the class carries the direction, the text the number.
  const trend = value > 1.01 ? ' up' : value < 0.99 ? ' down' : '';
  return `<td class="num ratio${trend}">×${escapeHtml(formatNumber(value))}</td>`;
}

/** The comparison page: a bounds table and a per-layer table; no script, styles by nonce only. */
export function compareHtml(comparison: RunComparison, a: RunLabel, b: RunLabel, nonce: string): string {
  if (!/^[A-Za-z0-9]{16,}$/.test(nonce)) throw new Error('the nonce must be at least 16 letters or digits');
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`;
  const boundRow = (label: string, meaning: string, c: BoundComparison) =>
    `<tr><th scope="row" title="${escapeHtml(meaning)}">${escapeHtml(label)}</th><td class="num">${escapeHtml(formatNumber(c.a))}</td><td class="num">${escapeHtml(formatNumber(c.b))}</td>${ratioCell(c.ratio)}</tr>`;
  const rows = comparison.layers
    .map((l, i) => {
      const upper = (r: LayerResult | undefined) => (r?.upperBound === null || r?.upperBound === undefined ? '' : ` title="certified ≤ ${escapeHtml(formatNumber(r.upperBound, 6))}"`);
      const cell = (r: LayerResult | undefined) => (r ? `<td class="num"${upper(r)}>${escapeHtml(formatNumber(r.sigma))}</td>` : '<td class="num missing">absent</td>');
      const shape = l.a?.weightShape ?? l.b?.weightShape;
      return `<tr><td class="num">${i}</td><td class="name">${escapeHtml(l.name)}</td><td>${escapeHtml(l.op)}</td><td>${shape ? escapeHtml(formatShape(shape)) : ''}</td>${cell(l.a)}${cell(l.b)}${ratioCell(l.ratio)}</tr>`;
    })
    .join('\n');
  const only = [
    comparison.onlyA.length ? `<p class="note">Only in A: ${escapeHtml(comparison.onlyA.join(', '))}</p>` : '',
    comparison.onlyB.length ? `<p class="note">Only in B: ${escapeHtml(comparison.onlyB.join(', '))}</p>` : '',
  ].join('');
  return `${documentStart(csp, 'Compare runs')}
<style nonce="${nonce}">
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 16px 16px; }
h1 { font-size: 1.3em; font-weight: 600; }
h2 { font-size: 1.1em; font-weight: 600; margin-top: 1.4em; }
.runs dt { font-weight: 600; }
.runs dd { margin: 0 0 0.4em 1.5em; color: var(--vscode-descriptionForeground); }
table { border-collapse: collapse; }
th, td { padding: 2px 10px; border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); text-align: left; }
thead th { position: sticky; top: 0; background: var(--vscode-editor-background); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; font-family: var(--vscode-editor-font-family); }
.name { font-family: var(--vscode-editor-font-family); }
.missing, .note { color: var(--vscode-descriptionForeground); }
.ratio.up { color: var(--vscode-editorError-foreground, var(--vscode-errorForeground)); }
.ratio.down { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
</style>
</head>
<body>
<h1>Compare runs</h1>
<dl class="runs"><dt>A: ${escapeHtml(a.title)}</dt><dd>${escapeHtml(a.detail)}</dd><dt>B: ${escapeHtml(b.title)}</dt><dd>${escapeHtml(b.detail)}</dd></dl>
<p class="note">Ratio is B / A: above 1 the layer (or the network) of B stretches distances more than A's.</p>
<h2>Network</h2>
<table class="bounds">
<thead><tr><th></th><th class="num">A</th><th class="num">B</th><th class="num">B / A</th></tr></thead>
<tbody>
${boundRow('L ≤ (certified)', 'proven: the composition of every layer\'s certified upper bound', comparison.certified)}
${boundRow('L ≈ (estimate)', 'the same composition of the σ estimates; not proven', comparison.product)}
</tbody>
</table>
<h2>Layers</h2>
<table class="layers">
<thead><tr><th class="num">#</th><th>Name</th><th>Op</th><th>Weight</th><th class="num">σ A</th><th class="num">σ B</th><th class="num">B / A</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${only}
</body>
</html>
`;
}
