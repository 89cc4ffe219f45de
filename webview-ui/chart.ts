// Layout of the per-layer chart, in two plots that share the x positions:
// - the rows' own constants (σ of the weighted rows, and every fixed constant other than 1) as bars
//   on their own log axis, with the certified upper bound as a tick;
// - the running estimate L ≈ from the input to each row on a second log axis below, since it
//   spans far more decades (6e43 on a MobileNet) than the per-row constants, which it would flatten.
// Layer names label the shared axis, abbreviated (the full name is the tooltip). Pure geometry;
// chart-view.ts draws it.

import { formatNumber } from '../src/protocol/format-number';
import { constantOf, isFoldedAway, isResult, isWeighted, rowState, runningBoundOf, type Row } from './model';

export interface ChartOptions {
  /** Width the bars spread over when there are few of them. */
  targetWidth: number;
  /** Smallest and largest slot (bar plus gap) per bar. */
  minSlot: number;
  maxSlot: number;
  /** Height of the stub drawn for a bar without a value yet. */
  stubHeight: number;
  /** Heights of the constants' plot and of the running bound's plot, and the gap between them. */
  barPlotHeight: number;
  runPlotHeight: number;
  plotGap: number;
  marginTop: number;
  marginRight: number;
  /** Most room under the lower plot for the slanted layer names (less when the names are short). */
  marginBottom: number;
  marginLeft: number;
  minWidth: number;
  /** Longest abbreviated name on the axis. */
  labelChars: number;
}

export const DEFAULT_CHART_OPTIONS: ChartOptions = {
  targetWidth: 640,
  minSlot: 14,
  maxSlot: 56,
  stubHeight: 3,
  barPlotHeight: 180,
  runPlotHeight: 100,
  plotGap: 22,
  marginTop: 12,
  marginRight: 16,
  marginBottom: 100,
  marginLeft: 52,
  minWidth: 200,
  labelChars: 18,
};

/** value: a positive finite σ; pending: no result yet; invalid: NaN / null; zero: σ = 0; overflow: σ = ∞. */
export type BarState = 'value' | 'pending' | 'invalid' | 'zero' | 'overflow';

export interface ChartBar {
  /** Row index in the panel's layers. */
  index: number;
  name: string;
  /** 'sigma': a weighted row's σ; 'constant': a fixed row's constant (activation, pooling, batch norm, scale). */
  role: 'sigma' | 'constant';
  value: number | null;
  state: BarState;
  x: number;
  y: number;
  width: number;
  height: number;
  /** y of the certified upper bound's tick, when the row has one above its value. */
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

export interface ChartLabel {
  index: number;
  /** The bar's centre. */
  x: number;
  text: string;
  full: string;
}

export interface ChartLayout {
  width: number;
  height: number;
  plotLeft: number;
  plotRight: number;
  /** The constants' plot. */
  plotTop: number;
  plotBottom: number;
  /** The constants' log scale: powers of ten around every value shown (and 1). */
  lo: number;
  hi: number;
  bars: ChartBar[];
  ticks: ChartTick[];
  /** y of the value 1 in the constants' plot (contractive below, expansive above). */
  oneY: number;
  /** The running bound's plot, its own log scale, its ticks and its line. */
  runTop: number;
  runBottom: number;
  runLo: number;
  runHi: number;
  runTicks: ChartTick[];
  line: ChartPoint[];
  labels: ChartLabel[];
  /** y where the names start (they slant down-left from each bar's centre, at 60°). */
  labelY: number;
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

/** Decade ticks, every few decades on a wide domain (at most about 8). */
function decadeTicks(lo: number, hi: number, y: (value: number) => number, most = 8): ChartTick[] {
  const a = Math.round(Math.log10(lo));
  const b = Math.round(Math.log10(hi));
  const step = Math.max(1, Math.ceil((b - a) / most));
  const ticks: ChartTick[] = [];
  for (let k = a; k <= b; k += step) {
    const value = 10 ** k;
    ticks.push({ value, y: y(value), label: formatNumber(value) });
  }
  return ticks;
}

/**
 * A row the chart shows: a weighted row (its σ), or a finished fixed row whose constant is not 1
 * (a factor 1 changes nothing). Merges combine branches and have no factor; a batch norm folded
 * into the convolution before it is counted in that convolution's folded σ.
 */
export function isCharted(row: Row): boolean {
  if (isWeighted(row)) return true;
  if (!isResult(row) || row.kind === 'merge' || isFoldedAway(row) || rowState(row) !== 'fixed') return false;
  const constant = constantOf(row);
  return constant !== null && Number.isFinite(constant) && Math.abs(constant - 1) > 1e-9;
}

/** Path segments that name an op rather than a layer ("conv2d_3/BiasAdd", "conv1/Conv"); case matters: "conv2d" is a Keras layer. */
const GENERIC_SEGMENT = /^(depthwise|pointwise|BiasAdd|Conv2D|Conv|ConvTranspose|DepthwiseConv2dNative|MatMul|Gemm|Relu6?|Add(V2)?|Mul|Sub|BatchNorm|FusedBatchNorm(V\d)?|kernel|bias|weights?|Identity|Sigmoid|Mean|MaxPool|AvgPool|read)$/;

/**
 * A layer name short enough for the axis: its trailing path segments that name layers, as many
 * as fit ("layer1.0/conv1" of "/layer1/layer1.0/conv1/Conv", "conv2d_3" of
 * "StatefulPartitionedCall/model/conv2d_3/BiasAdd"), with the middle elided when one is too long.
 */
export function abbreviateName(name: string, max = DEFAULT_CHART_OPTIONS.labelChars): string {
  const segments = name.split('/').filter(Boolean);
  while (segments.length > 1 && GENERIC_SEGMENT.test(segments[segments.length - 1])) segments.pop();
  let text = segments.pop() ?? name;
  while (segments.length > 0 && text.length + 1 + segments[segments.length - 1].length <= max) text = `${segments.pop()}/${text}`;
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

export function chartLayout(layers: readonly Row[], options: ChartOptions = DEFAULT_CHART_OPTIONS): ChartLayout {
  const charted = layers.map((row, index) => ({ row, index })).filter(({ row }) => isCharted(row));
  const values: number[] = [];
  const running: number[] = [];
  for (const { row } of charted) {
    if (!isResult(row)) continue;
    values.push(row.sigma ?? NaN, row.upperBound ?? NaN);
    running.push(runningBoundOf(row) ?? NaN);
  }
  const { lo, hi } = logDomain(values);
  const { lo: runLo, hi: runHi } = logDomain(running);
  const available = options.targetWidth - options.marginLeft - options.marginRight;
  const slot = Math.min(options.maxSlot, Math.max(options.minSlot, available / Math.max(1, charted.length)));
  const barWidth = slot * 0.7;
  const gap = slot - barWidth;
  const width = Math.max(options.minWidth, options.marginLeft + charted.length * slot + options.marginRight);
  const plotTop = options.marginTop;
  const plotBottom = plotTop + options.barPlotHeight;
  const runTop = plotBottom + options.plotGap;
  const runBottom = runTop + options.runPlotHeight;
  const labelTexts = charted.map(({ row }) => abbreviateName(row.name, options.labelChars));
  // Slanted at 60°, a 10 px name of n characters drops about 5 px per character: room for the longest.
  const longest = Math.max(0, ...labelTexts.map((t) => t.length));
  const height = runBottom + Math.min(options.marginBottom, 18 + 5.2 * longest);
  const plotLeft = options.marginLeft;
  const plotRight = width - options.marginRight;
  const y = (value: number) => logY(value, lo, hi, plotTop, plotBottom);
  const runY = (value: number) => logY(value, runLo, runHi, runTop, runBottom);

  const bars: ChartBar[] = charted.map(({ row, index }, i) => {
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
    // A fixed constant is exact: its "upper bound" is the constant itself, not worth a tick.
    const upperBound = isResult(row) && positiveFinite(row.upperBound) && row.upperBound !== row.sigma ? row.upperBound : null;
    return {
      index,
      name: row.name,
      role: isWeighted(row) ? 'sigma' : 'constant',
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
    if (positiveFinite(bound)) line.push({ index: bar.index, x: bar.x + bar.width / 2, y: runY(bound), value: bound });
  }

  // Names slant at 60°: one per slot fits from 12 px up; closer slots label every k-th bar.
  const every = Math.max(1, Math.ceil(12 / slot));
  const labels: ChartLabel[] = bars.flatMap((bar, i) =>
    i % every === 0 ? [{ index: bar.index, x: bar.x + bar.width / 2, text: labelTexts[i], full: bar.name }] : [],
  );

  return {
    width,
    height,
    plotLeft,
    plotRight,
    plotTop,
    plotBottom,
    lo,
    hi,
    bars,
    ticks: decadeTicks(lo, hi, y),
    oneY: y(1),
    runTop,
    runBottom,
    runLo,
    runHi,
    runTicks: decadeTicks(runLo, runHi, runY, 4),
    line,
    labels,
    labelY: runBottom + 12,
  };
}
