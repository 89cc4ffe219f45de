// The table's columns and what each cell says. Pure: the view only copies text and classes.

import { formatSeconds, formatShape, formatNumber } from '../src/protocol/format-number';
import { constantOf, foldedSigmaOf, isResult, rowState, runningBoundOf, type Row, type SortKey } from './model';

export interface Column {
  key: SortKey;
  label: string;
  /** Accessible name of the header when the label is a symbol. */
  title: string;
  numeric: boolean;
  /** Shown only when some row has a value for it (the upper bound). */
  optional?: boolean;
}

export const COLUMNS: readonly Column[] = [
  { key: 'index', label: '#', title: 'Layer index', numeric: true },
  { key: 'name', label: 'Name', title: 'Layer name', numeric: false },
  { key: 'op', label: 'Op', title: 'Op type', numeric: false },
  { key: 'kind', label: 'Kind', title: 'Kind of layer', numeric: false },
  { key: 'weightShape', label: 'Weight', title: 'Weight shape', numeric: false },
  { key: 'inputShape', label: 'Input', title: 'Input shape', numeric: false },
  { key: 'sigma', label: 'σ', title: 'Spectral norm σ (largest singular value)', numeric: true },
  { key: 'upperBound', label: 'Upper bound', title: 'Certified upper bound on σ', numeric: true, optional: true },
  { key: 'foldedSigma', label: 'σ folded', title: 'σ of the convolution with the next batch norm folded in: the value the bound uses (the batch norm then counts as 1)', numeric: true, optional: true },
  { key: 'constant', label: 'Constant', title: 'Fixed Lipschitz constant (activations, pooling, batch norm), or how a merge combines its branches', numeric: true },
  { key: 'runningBound', label: 'L ≈ so far', title: 'Estimate of the constant from the network input to this row: the composition of σ estimates up to here, not a proven bound', numeric: true },
  { key: 'iterations', label: 'Iters', title: 'Solver iterations', numeric: true },
  { key: 'converged', label: 'Converged', title: 'Converged within the tolerance', numeric: false },
  { key: 'seconds', label: 'Time', title: 'Time spent on this layer', numeric: true },
];

export interface Cell {
  text: string;
  /** Extra class on the cell: pending, invalid, unbounded, warn, ... */
  className?: string;
  title?: string;
}

export function cell(row: Row, index: number, key: SortKey): Cell {
  const state = rowState(row);
  const result = isResult(row) ? row : null;
  switch (key) {
    case 'index':
      return { text: String(index) };
    case 'name':
      // A long name is cut at its start in the table: the tooltip has it whole, with the row's note.
      return { text: row.name, title: result?.note ? `${row.name}\n${result.note}` : row.name };
    case 'op':
      // Long op names (DepthwiseConv2dNative) are cut in a narrow column: the tooltip has it whole.
      return { text: row.op, title: row.op.length > 12 ? row.op : undefined };
    case 'kind':
      return { text: row.kind };
    case 'weightShape':
      return { text: row.weightShape ? formatShape(row.weightShape) : '' };
    case 'inputShape':
      return { text: formatShape(row.inputShape) };
    case 'sigma':
      if (state === 'planned') return isWeightedPlan(row) ? { text: '…', className: 'pending', title: 'not computed yet' } : { text: '' };
      if (state === 'computed') {
        const converged = result?.converged ?? true;
        return {
          text: formatNumber(result?.sigma),
          className: converged ? undefined : 'warn',
          title: [result?.method ? `method: ${result.method}` : '', intervalText(result ?? undefined) ?? residualText(result?.residual), converged ? '' : 'not converged']
            .filter(Boolean)
            .join(', ') || undefined,
        };
      }
      if (state === 'invalid') return { text: 'invalid', className: 'invalid', title: result?.note ?? 'σ could not be computed (NaN or Inf weights?)' };
      return { text: '' };
    case 'upperBound':
      return { text: result && result.upperBound !== null ? formatNumber(result.upperBound) : '' };
    case 'foldedSigma': {
      const folded = foldedSigmaOf(row);
      return folded === null ? { text: '' } : { text: formatNumber(folded), title: 'σ with the next batch norm folded in; the bound uses this' };
    }
    case 'constant':
      // A merge is not a factor: Add sums its branches' bounds, Concat takes √(Σ bound²).
      if (row.kind === 'merge' && state !== 'planned') return mergeCell(row.op);
      if (state === 'fixed') return { text: formatNumber(constantOf(row)), title: result?.note };
      if (state === 'unbounded') return { text: 'unbounded', className: 'unbounded', title: result?.note ?? 'not globally Lipschitz' };
      if (state === 'unsupported') return { text: 'unsupported', className: 'unsupported', title: result?.note ?? 'op not supported by the engine' };
      return { text: '' };
    case 'runningBound': {
      const bound = runningBoundOf(row);
      return { text: bound === null ? '' : formatNumber(bound) };
    }
    case 'iterations':
      return { text: state === 'computed' && result ? String(result.iterations) : '' };
    case 'converged':
      if (state !== 'computed' || !result) return { text: '' };
      return result.converged ? { text: 'yes', className: 'ok' } : { text: 'no', className: 'warn', title: 'stopped at the iteration cap' };
    case 'seconds':
      return { text: result ? formatSeconds(result.seconds) : '' };
  }
}

function isWeightedPlan(row: Row): boolean {
  return row.weightShape !== null || row.kind === 'linear';
}

/** exact-dense and symbol-sup rows carry a certified lower bound: σ lies in [lower, upper]. */
function intervalText(result: { lowerBound?: number | null; upperBound: number | null } | undefined): string | undefined {
  const lower = result?.lowerBound;
  if (lower === null || lower === undefined || result?.upperBound === null || result?.upperBound === undefined || !(lower > 0)) return undefined;
  return `certified interval [${formatNumber(lower)}, ${formatNumber(result.upperBound)}], width ${formatNumber((result.upperBound - lower) / lower, 2)} of σ`;
}

function residualText(residual: number | null | undefined): string {
  return residual === null || residual === undefined ? '' : `residual ${formatNumber(residual, 2)}`;
}

/** How a merge row combines the bounds of its branches (docs: the composition rule of the bound). */
function mergeCell(op: string): Cell {
  if (/concat|pack|stack/i.test(op)) return { text: '√Σ Lᵢ²', className: 'merge', title: 'Concatenation: the bound is the square root of the sum of the branches\' squared bounds' };
  if (/add|sum|sub/i.test(op)) return { text: 'Σ Lᵢ', className: 'merge', title: 'Sum: the bound is the sum of the branches\' bounds' };
  return { text: 'c·√Σ Lᵢ²', className: 'merge', title: 'A map of several inputs: its constant times the root of the sum of the branches\' squared bounds' };
}
