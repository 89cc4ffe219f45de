// Layout of the per-layer chart: one bar per weighted row (its σ) on a log scale, with the
// running bound as a line through the bars' centres. Pure geometry; chart-view.ts draws it.

import { formatNumber } from '../src/protocol/format-number';
import { isResult, isWeighted, runningBoundOf, type Row } from './model';

export interface ChartOptions {
  /** Width the bars spread over when there are few of them. */
  targetWidth: number;
  /** Smallest and largest slot (bar plus gap) per bar. */
  minSlot: number;
  maxSlot: number;
  /** Height of the stub drawn for a bar without a value yet. */
  stubHeight: number;
  height: number;
  marginTop: number;
  marginRight: number;
  marginBottom: number;
  marginLeft: number;
  minWidth: number;
}

export const DEFAULT_CHART_OPTIONS: ChartOptions = {
  targetWidth: 640,
  minSlot: 14,
  maxSlot: 56,
  stubHeight: 3,
  height: 220,
  marginTop: 12,
  marginRight: 16,
  marginBottom: 28,
  marginLeft: 52,
  minWidth: 200,
};

/** value: a positive finite σ; pending: no result yet; invalid: NaN / null; zero: σ = 0; overflow: σ = ∞. */
export type BarState = 'value' | 'pending' | 'invalid' | 'zero' | 'overflow';

export interface ChartBar {
  /** Row index in the panel's layers. */
  index: number;
  name: string;
  value: number | null;
  state: BarState;
  x: number;
  y: number;
  width: number;
  height: number;
  /** y of the certified upper bound's tick, when the row has one. */
  upperY: number | null;
  upperBound: number | null;
}

export interface ChartPoint {
  index: number;
  x: number;
  y: number;
  value: number;
}

export interface ChartTick {
  value: number;
  y: number;
  label: string;
}

export interface ChartLayout {
  width: number;
  height: number;
  plotLeft: number;
  plotRight: number;
  plotTop: number;
  plotBottom: number;
  /** The log scale's domain: powers of ten around every value shown (and 1). */
  lo: number;
  hi: number;
  bars: ChartBar[];
  line: ChartPoint[];
  ticks: ChartTick[];
  /** y of the value 1 (contractive below, expansive above). */
  oneY: number;
}

function positiveFinite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** y of a positive value on the log scale from lo (at bottom) to hi (at top). */
export function logY(value: number, lo: number, hi: number, top: number, bottom: number): number {
  const t = (Math.log10(value) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
  return bottom - Math.min(1, Math.max(0, t)) * (bottom - top);
}

/**
 * The decade domain [10^a, 10^b] (a < b) that holds every value and 1, with the floor at least a
 * fifth of a decade below the smallest value so that every bar stays visible.
 */
export function logDomain(values: readonly number[]): { lo: number; hi: number } {
  const logs = values.filter(positiveFinite).map(Math.log10);
  logs.push(0);
  let a = Math.floor(Math.min(...logs) - 0.2);
  let b = Math.ceil(Math.max(...logs) - 1e-9);
  if (b <= a) {
    a -= 1;
    b += 1;
  }
  return { lo: 10 ** a, hi: 10 ** b };
}

export function chartLayout(layers: readonly Row[], options: ChartOptions = DEFAULT_CHART_OPTIONS): ChartLayout {
  const weighted = layers.map((row, index) => ({ row, index })).filter(({ row }) => isWeighted(row));
  const values: number[] = [];
  for (const { row } of weighted) {
    if (!isResult(row)) continue;
    values.push(row.sigma ?? NaN, row.upperBound ?? NaN, row.runningBound ?? NaN);
  }
  const { lo, hi } = logDomain(values);
  const available = options.targetWidth - options.marginLeft - options.marginRight;
  const slot = Math.min(options.maxSlot, Math.max(options.minSlot, available / Math.max(1, weighted.length)));
  const barWidth = slot * 0.7;
  const gap = slot - barWidth;
  const width = Math.max(options.minWidth, options.marginLeft + weighted.length * slot + options.marginRight);
  const plotTop = options.marginTop;
  const plotBottom = options.height - options.marginBottom;
  const plotLeft = options.marginLeft;
  const plotRight = width - options.marginRight;
  const y = (value: number) => logY(value, lo, hi, plotTop, plotBottom);

  const bars: ChartBar[] = weighted.map(({ row, index }, i) => {
    const x = plotLeft + i * slot + gap / 2;
    const value = isResult(row) ? row.sigma : null;
    let state: BarState;
    if (!isResult(row)) state = 'pending';
    else if (value === null || Number.isNaN(value)) state = 'invalid';
    else if (value === Infinity) state = 'overflow';
    else if (value <= 0) state = 'zero';
    else state = 'value';
    // Overflow and invalid bars fill the plot (styled apart); pending and zero ones are stubs.
    const top =
      state === 'value' ? y(value as number) : state === 'overflow' || state === 'invalid' ? plotTop : plotBottom - options.stubHeight;
    const upperBound = isResult(row) && positiveFinite(row.upperBound) ? row.upperBound : null;
    return {
      index,
      name: row.name,
      value: state === 'value' || state === 'overflow' ? value : null,
      state,
      x,
      y: top,
      width: barWidth,
      height: plotBottom - top,
      upperY: upperBound === null ? null : y(upperBound),
      upperBound,
    };
  });

  const line: ChartPoint[] = [];
  for (const bar of bars) {
    const bound = runningBoundOf(layers[bar.index]);
    if (positiveFinite(bound)) line.push({ index: bar.index, x: bar.x + bar.width / 2, y: y(bound), value: bound });
  }

  const a = Math.round(Math.log10(lo));
  const b = Math.round(Math.log10(hi));
  const step = Math.max(1, Math.ceil((b - a) / 8));
  const ticks: ChartTick[] = [];
  for (let k = a; k <= b; k += step) {
    const value = 10 ** k;
    ticks.push({ value, y: y(value), label: formatNumber(value) });
  }

  return { width, height: options.height, plotLeft, plotRight, plotTop, plotBottom, lo, hi, bars, line, ticks, oneY: y(1) };
}
