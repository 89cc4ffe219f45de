// "Who makes this model sensitive": each row's factor in the network bound and its share of
// log L. Along a chain the certified bound is the product of the rows' certified factors, so
// log10 L is the sum of their log10; a row's share is its log10 over the sum of the log10 of every
// factor above 1 (the rows that expand). On a graph with residual sums the composition is not a
// plain product, but the factors and their order still say where the growth comes from
// (docs/math.md#who-contributes-most). Pure.

import { constantOf, foldedSigmaOf, isFoldedAway, isResult, rowState, type Row } from './model';

export interface Factor {
  value: number;
  /** True when the factor is certified (an upper bound or an exact constant), false for a σ estimate. */
  certified: boolean;
  /** True when it is a convolution's σ with the next batch norm folded in. */
  folded: boolean;
}

export interface Contributor extends Factor {
  index: number;
  name: string;
  op: string;
  log10: number;
  /** Fraction (0..1) of the sum of log10 over all factors above 1. */
  share: number;
}

export interface Contributions {
  /** Rows with a factor above 1, largest first. */
  rows: Contributor[];
  /** Σ log10 of the factors above 1. */
  growth: number;
  /** Σ log10 of the factors below 1 (≤ 0): what the contracting rows take back. */
  shrink: number;
  /** True when some factor is an estimate (a row with no certified upper bound). */
  estimated: boolean;
}

/** The factor a row contributes to the certified bound, or null when it contributes none. */
export function factorOf(row: Row): Factor | null {
  if (!isResult(row) || row.kind === 'merge' || isFoldedAway(row)) return null;
  const state = rowState(row);
  if (state === 'computed') {
    const folded = foldedSigmaOf(row);
    if (folded !== null) {
      const upper = row.foldedUpperBound ?? null;
      return { value: upper ?? folded, certified: upper !== null, folded: true };
    }
    if (row.sigma === null) return null;
    return { value: row.upperBound ?? row.sigma, certified: row.upperBound !== null, folded: false };
  }
  if (state === 'fixed') {
    const constant = constantOf(row);
    // Fixed constants are exact (closed forms), so they are certified as they stand.
    return constant === null ? null : { value: row.upperBound ?? constant, certified: true, folded: false };
  }
  return null;
}

export function contributions(layers: readonly Row[]): Contributions {
  const rows: Contributor[] = [];
  let growth = 0;
  let shrink = 0;
  let estimated = false;
  layers.forEach((row, index) => {
    const factor = factorOf(row);
    if (!factor || !Number.isFinite(factor.value) || factor.value <= 0) return;
    const log10 = Math.log10(factor.value);
    if (log10 < 0) shrink += log10;
    if (log10 <= 0) return;
    growth += log10;
    if (!factor.certified) estimated = true;
    rows.push({ ...factor, index, name: row.name, op: row.op, log10, share: 0 });
  });
  for (const row of rows) row.share = growth > 0 ? row.log10 / growth : 0;
  rows.sort((a, b) => b.log10 - a.log10 || a.index - b.index);
  return { rows, growth, shrink, estimated };
}
