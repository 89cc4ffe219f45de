// The results page's pure logic: applying messages to the panel state, classifying rows,
// sorting and filtering the table, the network-bound summary and the saved view state.
// No DOM here, so all of it runs under node:test.

import type { PanelState, PlannedLayer, RunStatus, ToWebview } from '../src/protocol/messages';
import { groupByReason } from '../src/protocol/format-number';
import { compare, parseFilter, type FilterTerm, type NumericField, type ParsedFilter } from './filter';
import type { LayerKind, LayerResult, NetworkBounds } from '../src/protocol/report';

export type Row = LayerResult | PlannedLayer;

/** A row with a result (LayerResult) rather than only a plan. */
export function isResult(row: Row): row is LayerResult {
  return 'sigma' in row && 'seconds' in row;
}

export function emptyPanel(): PanelState {
  return { model: null, layers: [], bounds: null, status: 'idle', done: 0, total: 0, canReveal: false };
}

// ---- messages ------------------------------------------------------------------------------

const STATUSES: readonly RunStatus[] = ['idle', 'running', 'done', 'cancelled', 'error'];
const KINDS: readonly LayerKind[] = ['linear', 'pool', 'normalization', 'activation', 'structural', 'merge', 'unbounded', 'unsupported'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isNumberOrNull(value: unknown): value is number | null {
  return value === null || typeof value === 'number';
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => typeof d === 'number');
}

/** A planned or finished row as the extension sends it; enough to render without throwing. */
export function isRow(value: unknown): value is Row {
  if (!isRecord(value)) return false;
  if (typeof value.name !== 'string' || typeof value.op !== 'string') return false;
  if (!KINDS.includes(value.kind as LayerKind)) return false;
  if (!(value.weightShape === null || isShape(value.weightShape))) return false;
  if (!isShape(value.inputShape) || !isShape(value.outputShape)) return false;
  if ('sigma' in value && !isNumberOrNull(value.sigma)) return false;
  return true;
}

function isBounds(value: unknown): value is NetworkBounds {
  return isRecord(value) && isNumberOrNull(value.product) && isNumberOrNull(value.certified) && Array.isArray(value.unsupported);
}

function isPanelState(value: unknown): value is PanelState {
  if (!isRecord(value)) return false;
  return (
    Array.isArray(value.layers) &&
    value.layers.every(isRow) &&
    (value.model === null || isRecord(value.model)) &&
    (value.bounds === null || isBounds(value.bounds)) &&
    STATUSES.includes(value.status as RunStatus) &&
    typeof value.done === 'number' &&
    typeof value.total === 'number' &&
    typeof value.canReveal === 'boolean'
  );
}

/** Messages arrive through window.postMessage: check their shape before use. */
export function isToWebview(value: unknown): value is ToWebview {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'state':
      return isPanelState(value.state);
    case 'layer':
      return (
        isIndex(value.index) &&
        isRow(value.layer) &&
        'sigma' in value.layer &&
        typeof value.done === 'number' &&
        typeof value.total === 'number' &&
        isNumberOrNull(value.runningBound)
      );
    case 'status':
      return (
        STATUSES.includes(value.status as RunStatus) &&
        (value.error === undefined || typeof value.error === 'string') &&
        (value.bounds === undefined || value.bounds === null || isBounds(value.bounds)) &&
        (value.seconds === undefined || typeof value.seconds === 'number')
      );
    case 'reveal':
      return isIndex(value.row);
    default:
      return false;
  }
}

/** The panel state after one message. Never mutates its input. */
export function applyMessage(panel: PanelState, message: ToWebview): PanelState {
  switch (message.type) {
    case 'state':
      return message.state;
    case 'layer': {
      const layers = panel.layers.slice();
      while (layers.length < message.index) {
        // A result beyond the planned rows (no plan was sent): keep the table dense with placeholders.
        const index = layers.length;
        layers.push({ index, name: `#${index}`, op: '', kind: 'structural', weightShape: null, inputShape: [], outputShape: [] });
      }
      layers[message.index] = {
        ...message.layer,
        runningBound: message.runningBound ?? message.layer.runningBound ?? null,
      };
      return {
        ...panel,
        layers,
        done: message.done,
        total: message.total,
        status: panel.status === 'idle' ? 'running' : panel.status,
      };
    }
    case 'status': {
      const next: PanelState = { ...panel, status: message.status };
      if (message.status === 'running') {
        delete next.error;
      }
      if (message.error !== undefined) next.error = message.error;
      if (message.bounds !== undefined) next.bounds = message.bounds;
      if (message.seconds !== undefined) next.seconds = message.seconds;
      return next;
    }
    case 'reveal':
      // Not a change of state: the view scrolls to the node (main.ts).
      return panel;
  }
}

// ---- rows ---------------------------------------------------------------------------------

/**
 * - planned: no result yet
 * - computed: σ found by a solver (or exactly) for a layer's own linear map
 * - fixed: a fixed or closed-form constant (activations, pooling, batch norm, reshape, ...)
 * - unbounded / unsupported: no constant exists / the engine does not know the op
 * - invalid: a weighted layer whose σ could not be computed (NaN or Inf weights)
 */
export type RowState = 'planned' | 'computed' | 'fixed' | 'unbounded' | 'unsupported' | 'invalid';

export function rowState(row: Row): RowState {
  if (!isResult(row)) return 'planned';
  if (row.kind === 'unbounded') return 'unbounded';
  if (row.kind === 'unsupported') return 'unsupported';
  if (row.sigma === null || Number.isNaN(row.sigma)) return row.kind === 'merge' ? 'fixed' : 'invalid';
  if (isComputed(row)) return 'computed';
  return 'fixed';
}

/** True for a row whose σ is a solver's result rather than a fixed constant. */
function isComputed(row: LayerResult): boolean {
  if (row.kind === 'linear') return true;
  // A batch norm's constant is max |γ/√(var+ε)| of a diagonal map: a fixed constant, not a σ.
  if (row.kind === 'normalization' || row.kind === 'activation' || row.kind === 'merge') return false;
  if (row.method === 'lanczos' || row.method === 'power' || row.method === 'exact') return true;
  if (row.method === 'closed-form') return false;
  return row.weightShape !== null || row.iterations > 0;
}

/** A row that holds a weight tensor: these get a bar in the chart. */
export function isWeighted(row: Row): boolean {
  return row.kind === 'linear' || (row.weightShape !== null && row.kind !== 'normalization');
}

/**
 * A batch norm folded into the convolution before it: the bound counts it in that convolution's
 * folded σ and as 1 here (the engine's note says so: "folded into <conv>: counted there").
 */
export function isFoldedAway(row: Row): boolean {
  return isResult(row) && row.kind === 'normalization' && /\bfolded into\b/.test(row.note ?? '');
}

/** σ with the next batch norm folded in (the value the bound uses), when the row has one. */
export function foldedSigmaOf(row: Row): number | null {
  return isResult(row) && row.foldedSigma !== undefined && row.foldedSigma !== null ? row.foldedSigma : null;
}

/** The σ column: solver results only. */
export function sigmaOf(row: Row): number | null {
  return isResult(row) && rowState(row) === 'computed' ? row.sigma : null;
}

/** The constant column: fixed rows only. */
export function constantOf(row: Row): number | null {
  return isResult(row) && rowState(row) === 'fixed' ? row.sigma : null;
}

export function runningBoundOf(row: Row): number | null {
  return isResult(row) ? (row.runningBound ?? null) : null;
}

// ---- sorting and filtering ----------------------------------------------------------------

export type SortKey =
  | 'index'
  | 'name'
  | 'op'
  | 'kind'
  | 'weightShape'
  | 'inputShape'
  | 'sigma'
  | 'upperBound'
  | 'foldedSigma'
  | 'constant'
  | 'runningBound'
  | 'iterations'
  | 'converged'
  | 'seconds';

export type SortDirection = 'ascending' | 'descending';

export interface SortSpec {
  key: SortKey;
  direction: SortDirection;
}

export const SORT_KEYS: readonly SortKey[] = [
  'index',
  'name',
  'op',
  'kind',
  'weightShape',
  'inputShape',
  'sigma',
  'upperBound',
  'foldedSigma',
  'constant',
  'runningBound',
  'iterations',
  'converged',
  'seconds',
];

export const DEFAULT_SORT: SortSpec = { key: 'index', direction: 'ascending' };

function shapeSize(shape: readonly number[] | null): number | null {
  if (!shape) return null;
  return shape.reduce((a, b) => a * Math.max(1, b), 1);
}

/** The value a column sorts by; null sorts last in both directions. */
export function sortValue(row: Row, index: number, key: SortKey): number | string | null {
  switch (key) {
    case 'index':
      return index;
    case 'name':
      return row.name;
    case 'op':
      return row.op;
    case 'kind':
      return row.kind;
    case 'weightShape':
      return shapeSize(row.weightShape);
    case 'inputShape':
      return shapeSize(row.inputShape);
    case 'sigma':
      return finiteOrNull(sigmaOf(row));
    case 'upperBound':
      return isResult(row) ? finiteOrNull(row.upperBound) : null;
    case 'foldedSigma':
      return finiteOrNull(foldedSigmaOf(row));
    case 'constant':
      return finiteOrNull(constantOf(row));
    case 'runningBound':
      return finiteOrNull(runningBoundOf(row), true);
    case 'iterations':
      return isResult(row) && rowState(row) === 'computed' ? row.iterations : null;
    case 'converged':
      return isResult(row) && rowState(row) === 'computed' ? (row.converged ? 1 : 0) : null;
    case 'seconds':
      return isResult(row) ? row.seconds : null;
  }
}

function finiteOrNull(value: number | null | undefined, allowInfinity = false): number | null {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  if (!allowInfinity && !Number.isFinite(value)) return null;
  return value;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  return collator.compare(String(a), String(b));
}

/** The value a numeric filter term compares (filter.ts); null when the row has none. */
export function filterValue(row: Row, field: NumericField): number | null {
  if (!isResult(row)) return null;
  switch (field) {
    case 'sigma':
      // The row's own constant: a solver's σ or a fixed constant; a merge has none of its own.
      return row.kind === 'merge' ? null : finiteOrNull(sigmaOf(row) ?? constantOf(row), true);
    case 'upper':
      return finiteOrNull(row.upperBound, true);
    case 'folded':
      return finiteOrNull(foldedSigmaOf(row), true);
    case 'running':
      return finiteOrNull(runningBoundOf(row), true);
    case 'seconds':
      return row.seconds;
    case 'iterations':
      return rowState(row) === 'computed' ? row.iterations : null;
  }
}

function termHolds(row: Row, term: FilterTerm): boolean {
  switch (term.type) {
    case 'text':
      return `${row.name}\n${row.op}\n${row.kind}`.toLowerCase().includes(term.text);
    case 'field':
      return term.field === 'kind' ? row.kind.toLowerCase() === term.text : row[term.field].toLowerCase().includes(term.text);
    case 'compare': {
      const value = filterValue(row, term.field);
      return value !== null && compare(value, term.op, term.value);
    }
  }
}

/**
 * Does a row match the filter? Every term must hold (filter.ts gives the syntax): words occur in
 * the name, op or kind; kind:/op:/name: match one field; "σ > 2" compares a number; "-" negates.
 */
export function matchesFilter(row: Row, filter: string | ParsedFilter): boolean {
  const parsed = typeof filter === 'string' ? parseFilter(filter) : filter;
  return parsed.terms.every((term) => termHolds(row, term) !== term.negate);
}

/** Indices of the rows to show, in display order. Ties (and nulls, always last) keep network order. */
export function visibleRows(layers: readonly Row[], sort: SortSpec, filter: string): number[] {
  const parsed = parseFilter(filter);
  const indices = layers.map((_, i) => i).filter((i) => matchesFilter(layers[i], parsed));
  const sign = sort.direction === 'ascending' ? 1 : -1;
  const values = new Map(indices.map((i) => [i, sortValue(layers[i], i, sort.key)]));
  return indices.sort((i, j) => {
    const a = values.get(i) ?? null;
    const b = values.get(j) ?? null;
    if (a === null && b === null) return i - j;
    if (a === null) return 1;
    if (b === null) return -1;
    return sign * compareValues(a, b) || i - j;
  });
}

/** Clicking a header: a new column sorts ascending (numbers descending for σ-like columns), the same column flips. */
export function nextSort(current: SortSpec, key: SortKey): SortSpec {
  if (current.key === key) return { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
  const firstDescending: readonly SortKey[] = ['sigma', 'upperBound', 'foldedSigma', 'constant', 'runningBound', 'iterations', 'seconds'];
  return { key, direction: firstDescending.includes(key) ? 'descending' : 'ascending' };
}

// ---- the network bound --------------------------------------------------------------------

export type BoundStatus = 'pending' | 'running' | 'valid' | 'unbounded' | 'unsupported' | 'invalid';

export interface BoundSummary {
  status: BoundStatus;
  /** The proven bound, shown "L ≤ …": bounds.certifiedTight when the bracket ran, else bounds.certified. */
  certified: number | null;
  /** bounds.product: the same composition of σ estimates, shown "L ≈ …"; not proven. */
  estimate: number | null;
  /**
   * While a run is going or after a cancel: the estimate from the input to the furthest row (in
   * network order) whose running value is known. It is that row's, never the network's.
   */
  partial: PartialBound | null;
  /** One line for the status, e.g. "unbounded because attn (MatMul): x·y is not Lipschitz". */
  reasons: string[];
}

export interface PartialBound {
  value: number;
  /** Row index of the furthest row with a known running value. */
  row: number;
  name: string;
}

/** The furthest row in network order with a known running value (rows finish out of order). */
export function latestRunningBound(layers: readonly Row[]): PartialBound | null {
  for (let i = layers.length - 1; i >= 0; i--) {
    const value = runningBoundOf(layers[i]);
    if (value !== null && Number.isFinite(value)) return { value, row: i, name: layers[i].name };
  }
  return null;
}

export function boundSummary(panel: PanelState): BoundSummary {
  const bounds = panel.bounds;
  if (!bounds) {
    // Before the first row of a run is done, the rows shown may still be the previous run's.
    const partial = panel.done > 0 ? latestRunningBound(panel.layers) : null;
    return { status: panel.status === 'running' || partial !== null ? 'running' : 'pending', certified: null, estimate: null, partial, reasons: [] };
  }
  const reasons: string[] = [];
  let status: BoundStatus = 'valid';
  if (bounds.invalid?.length) {
    status = 'invalid';
    reasons.push(`invalid: ${groupByReason(bounds.invalid.map((i) => ({ reason: `${i.op}: ${i.reason}`, name: i.name })))}`);
  }
  if (bounds.unsupported.length) {
    if (status === 'valid') status = 'unsupported';
    reasons.push(`unsupported ops: ${groupByReason(bounds.unsupported.map((u) => ({ reason: u.op, name: u.name })))}`);
  }
  if (bounds.unbounded?.length) {
    if (status === 'valid') status = 'unbounded';
    reasons.push(`unbounded because ${groupByReason(bounds.unbounded.map((u) => ({ reason: `${u.op}: ${u.reason}`, name: u.name })))}`);
  }
  if (status === 'valid' && bounds.product === null && bounds.certified === null) {
    status = 'invalid';
    reasons.push('no bound was reported');
  }
  const valid = status === 'valid';
  return { status, certified: valid ? (bounds.certifiedTight ?? bounds.certified) : null, estimate: valid ? bounds.product : null, partial: null, reasons };
}

// ---- the bracket (docs/bracket.md) --------------------------------------------------------

export interface BracketChain {
  from: string;
  to: string;
  /** The per-layer product over the chain, and the expansion's certified bound on it. */
  product: number;
  bound: number;
  /** product / bound: how much looser the product was on this chain. */
  gain: number;
}

export interface BracketSummary {
  /** bounds.lower: MEASURED, not certified; null when the search found none. */
  lower: number | null;
  /** bounds.certifiedTight: the tighter certified bound. */
  upper: number | null;
  /** upper / lower. */
  width: number | null;
  /** How the lower bound was found ("ascent", "sample", ...), and on which input box. */
  foundBy?: string;
  inputRange?: [number, number];
  /** Why there is no lower bound. */
  lowerUnavailable?: string;
  /** How the time budget ended the lower side's search, and the steps not run (bracket.lower.timedOutReason). */
  lowerTimedOutReason?: string;
  /** bounds.certified when the expansion beat it: what the tighter bound improves on. */
  product: number | null;
  /** The chains where the product was loosest, largest gain first (the report's order). */
  chains: BracketChain[];
  timedOut: boolean;
}

/** The bracket the report carries, or null when the bracket did not run (or the bound is not valid). */
export function bracketSummary(bounds: NetworkBounds | null | undefined, most = 3): BracketSummary | null {
  const bracket = bounds?.bracket;
  if (!bounds || !bracket) return null;
  const lower = bounds.lower ?? null;
  const upper = bounds.certifiedTight ?? bounds.certified ?? null;
  const width = typeof bracket.width === 'number' ? bracket.width : (lower !== null && upper !== null && lower > 0 ? upper / lower : null);
  // The page checks only the bounds' main fields (isBounds): read the details defensively.
  const chains = (Array.isArray(bracket.upper?.chains) ? bracket.upper.chains : [])
    .filter((c) => Number.isFinite(c.product) && Number.isFinite(c.bound) && c.bound > 0)
    .map((c) => ({ from: c.from, to: c.to, product: c.product, bound: c.bound, gain: c.product / c.bound }))
    .filter((c) => c.gain > 1)
    .slice(0, most);
  return {
    lower,
    upper,
    width,
    ...(bracket.lower?.foundBy ? { foundBy: bracket.lower.foundBy } : {}),
    ...(Array.isArray(bracket.lower?.inputRange) ? { inputRange: bracket.lower.inputRange } : {}),
    ...(bracket.lower?.unavailable ? { lowerUnavailable: bracket.lower.unavailable } : {}),
    ...(typeof bracket.lower?.timedOutReason === 'string' && bracket.lower.timedOutReason ? { lowerTimedOutReason: bracket.lower.timedOutReason } : {}),
    product: bounds.certified !== null && upper !== null && upper < bounds.certified ? bounds.certified : null,
    chains,
    timedOut: Boolean(bracket.lower?.timedOut || bracket.upper?.timedOut),
  };
}

// ---- saved view state ---------------------------------------------------------------------

/** What the page saves with setState: the panel plus the user's sort and filter. */
export interface ViewState {
  version: 1;
  panel: PanelState;
  sort: SortSpec;
  filter: string;
}

export function viewState(panel: PanelState, sort: SortSpec, filter: string): ViewState {
  return { version: 1, panel, sort, filter };
}

/** Reads what getState returned; anything malformed (an older version, a stray value) is ignored. */
export function restoreViewState(value: unknown): ViewState | undefined {
  if (!isRecord(value) || value.version !== 1) return undefined;
  if (!isPanelState(value.panel)) return undefined;
  const sort = isRecord(value.sort) ? value.sort : {};
  const key = SORT_KEYS.includes(sort.key as SortKey) ? (sort.key as SortKey) : DEFAULT_SORT.key;
  const direction: SortDirection = sort.direction === 'descending' ? 'descending' : 'ascending';
  return { version: 1, panel: value.panel, sort: { key, direction }, filter: typeof value.filter === 'string' ? value.filter : '' };
}

// ---- the .onnx editor's input shape ---------------------------------------------------------

/**
 * A shape to offer for a model whose input has symbolic dimensions: the declared numbers kept, a
 * symbolic batch as 1, other symbolic dimensions 224 on a 4-D (image) input and 64 otherwise.
 */
export function suggestInputShape(declared: readonly (number | string)[] | undefined): number[] | null {
  if (!declared || declared.length === 0) return null;
  return declared.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : declared.length === 4 ? 224 : 64));
}

/** "1,3,224,224", "1x3x224x224" or "1×3×224×224" → [1, 3, 224, 224]; null unless every part is a positive integer. */
export function parseShapeText(text: string): number[] | null {
  const parts = text.trim().split(/\s*[,x×\s]\s*/i).filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 8) return null;
  const dims = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  return dims.every((d) => Number.isSafeInteger(d) && d > 0) ? dims : null;
}

/** The input shape the page's numbers are for: the run's, else the summary's; null when none is resolved. */
export function shapeInUse(panel: PanelState): number[] | null {
  if (panel.model && panel.model.inputShape.length > 0 && panel.layers.some(isResult)) return panel.model.inputShape;
  const summary = panel.summary?.inputShape;
  return summary && summary.length > 0 ? summary : null;
}
