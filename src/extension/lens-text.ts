// What the model.json CodeLenses and hovers say, and where they go. Pure: the vscode providers
// turn offsets into positions and these strings into CodeLens / MarkdownString.

import type { PanelState, PlannedLayer } from '../protocol/messages';
import type { LayerResult, NetworkBounds } from '../protocol/report';
import { formatNumber, formatSeconds, formatShape } from '../protocol/format-number';
import { entriesByName, entryForLayer, type LayerEntry } from './model-json-locations';
import { isLayerResult } from './panel-state';

export interface LayerLensSpec {
  /** Offset of the layer's entry in the text (its opening brace). */
  offset: number;
  title: string;
  tooltip: string;
  /** Row index in the report / panel state. */
  row: number;
}

/** A weighted layer: one whose σ the engine computes from stored weights. */
export function isWeighted(layer: LayerResult | PlannedLayer): boolean {
  return layer.kind === 'linear' || (layer.weightShape !== null && layer.weightShape.length > 0);
}

/** A σ the solver computed (conv, dense, average pooling), as opposed to a fixed constant (activation, batch norm, ...). */
function hasSigma(layer: LayerResult): boolean {
  return layer.kind === 'linear' || (layer.kind === 'pool' && layer.iterations > 0);
}

/** The value part of one row's lens: "σ 3.2", "relu6 constant 1", with its folded σ and convergence. */
function rowValueText(layer: LayerResult): string {
  const parts = [hasSigma(layer) ? `σ ${formatNumber(layer.sigma)}` : `${layer.op} constant ${formatNumber(layer.sigma)}`];
  if (layer.foldedSigma !== undefined && layer.foldedSigma !== null) parts.push(`σ folded ${formatNumber(layer.foldedSigma)}`);
  if (!layer.converged && layer.sigma !== null) parts.push('not converged');
  return parts.join(' · ');
}

/** One lens for the rows of one entry (a layer and its fused activation; a separable conv's two halves). */
function lensTitle(rows: readonly LayerResult[], entryName: string | undefined): string {
  const parts = [entryValueText(rows, entryName)];
  const running = rows[rows.length - 1].runningBound;
  if (running !== undefined && running !== null) parts.push(`L ≈ ${formatNumber(running)} so far`);
  return parts.join(' · ');
}

/** The values of an entry's rows in one line: "depthwise σ 1.93 · pointwise σ 1.2 · relu6 constant 1". */
export function entryValueText(rows: readonly LayerResult[], entryName?: string): string {
  const named = rows.length > 1 && entryName !== undefined;
  const parts = rows.map((row) => {
    const value = rowValueText(row);
    // A separable conv's rows share an op: the part of their name below the layer's tells them apart.
    const suffix = named && hasSigma(row) && row.name.startsWith(`${entryName}/`) ? `${row.name.slice(entryName.length + 1)} ` : '';
    return suffix + value;
  });
  return parts.join(' · ');
}

/** The rows of each entry that have a value to show, by entry index (rows in report order). */
export function shownRowsByEntry(entries: readonly LayerEntry[], layers: readonly (LayerResult | PlannedLayer)[]): Map<number, number[]> {
  const byName = entriesByName(entries);
  const groups = new Map<number, number[]>();
  layers.forEach((layer, row) => {
    if (!hasShownValue(layer)) return;
    const entry = entryForLayer(entries, layer, byName);
    if (!entry) return;
    const rows = groups.get(entry.index);
    if (rows) rows.push(row);
    else groups.set(entry.index, [row]);
  });
  return groups;
}

/**
 * True for rows whose number says something: every σ and fixed constant, every merge (how its
 * branches combine), and structural rows only when they scale (an upsampling's 2); a reshape or a
 * dropout's 1 is left out.
 */
export function hasShownValue(layer: LayerResult | PlannedLayer): layer is LayerResult {
  if (!isLayerResult(layer) || layer.sigma === null) return false;
  if (layer.kind === 'structural') return layer.sigma !== 1;
  return true;
}

/**
 * One lens per model.json entry with finished rows that have a value (σ, fixed constants, and
 * scaling structural rows), placed at the entry; rows of one entry share its lens.
 */
export function layerLenses(entries: readonly LayerEntry[], layers: readonly (LayerResult | PlannedLayer)[]): LayerLensSpec[] {
  return [...shownRowsByEntry(entries, layers)].map(([index, rows]) => {
    const results = rows.map((row) => layers[row] as LayerResult);
    return { offset: entries[index].start, title: lensTitle(results, entries[index].name), tooltip: results.map(rowTooltip).join('\n'), row: rows[0] };
  });
}

function rowTooltip(layer: LayerResult): string {
  return hasSigma(layer)
    ? `${layer.name} (${layer.op}): σ ${formatNumber(layer.sigma, 6)} (estimate), certified σ ≤ ${formatNumber(layer.upperBound, 6)}`
    : `${layer.name} (${layer.op}): Lipschitz constant ${formatNumber(layer.sigma, 6)}`;
}

/** The lens at the top of a model.json: what to do next, or where the run stands. */
export function topLensTitle(state: PanelState | undefined): string {
  if (!state || state.status === 'idle') return '$(pulse) Estimate Lipschitz';
  switch (state.status) {
    case 'running':
      return state.total > 0 ? `$(sync~spin) Estimating Lipschitz… ${state.done}/${state.total}` : '$(sync~spin) Estimating Lipschitz…';
    case 'done':
      return `$(pulse) ${boundSummary(state.bounds)}${state.fromCache ? ' (cached)' : ''} · re-run`;
    case 'cancelled':
      return '$(pulse) Estimate Lipschitz (last run cancelled)';
    case 'error':
      return '$(error) Estimate Lipschitz (last run failed)';
  }
}

/**
 * The network's constant in one line: the certified value is the bound ("L ≤"), the composition of
 * σ estimates is an estimate ("L ≈"); neither is shown as the other.
 */
export function boundSummary(bounds: NetworkBounds | null): string {
  if (!bounds) return 'Lipschitz —';
  if (bounds.certified !== null) {
    const estimate = bounds.product === null ? '' : ` · L ≈ ${formatNumber(bounds.product)} (estimate)`;
    return `Lipschitz L ≤ ${formatNumber(bounds.certified)}${estimate}`;
  }
  if (bounds.product !== null) return `Lipschitz L ≈ ${formatNumber(bounds.product)} (estimate; no certified bound)`;
  if (bounds.invalid?.length) return 'Lipschitz: no bound (invalid weights)';
  if (bounds.unsupported.length) return 'Lipschitz: no bound (unsupported ops)';
  if (bounds.unbounded?.length) return 'Lipschitz: unbounded';
  return 'Lipschitz —';
}

/** The status bar's short form: "L ≤ 0.699", else "L ≈ 0.595", else why there is none. */
export function boundShort(bounds: NetworkBounds): string {
  if (bounds.certified !== null) return `L ≤ ${formatNumber(bounds.certified)}`;
  if (bounds.product !== null) return `L ≈ ${formatNumber(bounds.product)}`;
  if (bounds.unbounded?.length && !bounds.unsupported.length && !bounds.invalid?.length) return 'L unbounded';
  return 'L —';
}

/** What "L ≤" and "L ≈" mean, in one line each (tooltips and exports). */
export const CERTIFIED_MEANING = 'L ≤ is proven: the graph composition of every layer\'s certified upper bound.';
export const ESTIMATE_MEANING = 'L ≈ is an estimate: the same composition of the σ values, each found from below within the tolerance; not proven.';

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/**
 * Share of the network bound on a log scale: ln σ / ln L. Only meaningful when L > 1 and σ > 0;
 * a value below 0 means the layer shrinks distances.
 */
export function logShare(sigma: number | null, product: number | null | undefined): number | null {
  if (sigma === null || product === null || product === undefined) return null;
  if (!(sigma > 0) || !(product > 1 + 1e-9) || !Number.isFinite(product) || !Number.isFinite(sigma)) return null;
  return Math.log(sigma) / Math.log(product);
}

/** Markdown for the hover over a layer's entry in model.json. */
export function layerHoverMarkdown(layer: LayerResult | PlannedLayer, bounds: NetworkBounds | null): string {
  const rows: [string, string][] = [];
  rows.push(['Kind', layer.kind]);
  if (layer.weightShape) rows.push(['Weight', formatShape(layer.weightShape)]);
  rows.push(['Input → output', `${formatShape(layer.inputShape)} → ${formatShape(layer.outputShape)}`]);
  if (isLayerResult(layer)) {
    const linear = layer.kind === 'linear' || layer.kind === 'pool';
    // exact-dense and symbol-sup rows prove a lower bound too: σ then lies in a certified interval.
    const lower = layer.lowerBound ?? null;
    const interval = linear && lower !== null && layer.upperBound !== null;
    rows.push([interval ? 'σ (certified lower bound)' : linear ? 'σ (estimate from below)' : 'Lipschitz constant', formatNumber(layer.sigma, 6)]);
    rows.push(['Certified upper bound', layer.upperBound === null ? 'none' : formatNumber(layer.upperBound, 6)]);
    if (interval) rows.push(['Certified interval width', `${formatNumber((layer.upperBound! - lower) / lower, 2)} of σ`]);
    if (layer.foldedSigma !== undefined && layer.foldedSigma !== null) {
      const upper = layer.foldedUpperBound === undefined || layer.foldedUpperBound === null ? '' : ` (certified ≤ ${formatNumber(layer.foldedUpperBound, 6)})`;
      rows.push(['With the next batch norm folded in (used by the bound)', `${formatNumber(layer.foldedSigma, 6)}${upper}`]);
    }
    if (layer.iterations > 0 && layer.method === 'symbol-sup') {
      // Its `iterations` count the frequency cells certified, and its `residual` is the interval's width.
      rows.push(['Method', `symbol sup (${layer.iterations} frequency cells certified)`]);
    } else if (layer.iterations > 0) {
      const convergence = layer.converged ? 'converged' : 'not converged';
      const residual = layer.residual === null || layer.residual === undefined ? '' : `, residual ${formatNumber(layer.residual)}`;
      rows.push(['Iterations', `${layer.iterations} (${layer.method ?? 'solver'}), ${convergence}${residual}`]);
    } else if (layer.method) {
      rows.push(['Method', layer.method.replace(/-/g, ' ')]);
    }
    if (layer.runningBound !== undefined && layer.runningBound !== null) rows.push(['L ≈ from the input to here (estimate)', formatNumber(layer.runningBound)]);
    const share = logShare(layer.sigma, bounds?.product);
    if (share !== null && bounds?.product !== null && bounds?.product !== undefined) {
      rows.push(['Share of the network estimate', `${Math.round(share * 100)} % of log L ≈ ${formatNumber(bounds.product)}`]);
    }
    if (layer.seconds > 0) rows.push(['Time', formatSeconds(layer.seconds)]);
  } else {
    rows.push(['σ', 'pending']);
  }
  const lines = [`**${escapeMarkdown(layer.name)}** · \`${layer.op.replace(/`/g, "'")}\``, '', '| | |', '|---|---|'];
  for (const [label, value] of rows) lines.push(`| ${label} | ${value.replace(/\|/g, '\\|')} |`);
  if (isLayerResult(layer) && layer.note) lines.push('', escapeMarkdown(layer.note));
  return lines.join('\n');
}

/** The report rows of a model.json entry (a layer with a fused activation can give two rows): by sourceIndex, else by name. */
export function rowsForEntry(entry: LayerEntry, layers: readonly (LayerResult | PlannedLayer)[]): number[] {
  const rows: number[] = [];
  layers.forEach((layer, row) => {
    if (layer.sourceIndex === entry.index && (entry.name === undefined || layer.name === entry.name || layer.name.startsWith(`${entry.name}/`))) rows.push(row);
  });
  if (rows.length > 0 || entry.name === undefined) return rows;
  layers.forEach((layer, row) => {
    if (layer.name === entry.name) rows.push(row);
  });
  return rows;
}
