// A certified upper bound on σ of a zero-padded stride-1 convolution that depends on the input size:
// the largest λmax(P(ω)) over the frequencies of a twisted torus that holds the layer
// (docs/large-inputs.md §10).
//
// Why it is valid. On one spatial axis let the input have H positions, the pads be p_b and p_e and
// the output Hout positions. Output o reads positions o − p_b + t·dil, from −p_b up to H + p_e − 1.
// Wrap the line into a cycle of N ≥ max(H + max(p_b, p_e), Hout) positions, with the rule that a
// read crossing the cut is multiplied by e^{iθ}: the twisted circular convolution T_θ. Every read
// that falls outside [0, H) lands on a position of [H, N), where the embedded input is zero, and the
// Hout outputs sit on distinct positions, so the layer is R·T_θ·E (E the zero embedding, R the
// restriction to the outputs; ||E|| = ||R|| = 1) on complex inputs, hence ||layer|| ≤ ||T_θ||. T_θ is
// diagonalised by the twisted Fourier basis: its norm is the max of σ1(K̂(ω)) over the frequencies
// ω_j = (2πj + θ)/N, j = 0 … N − 1, per axis (the product grid in 2-D and 3-D). A real layer's norm
// is that of its complex extension, so this bounds σ.
//
// Why it is tighter than the sup. σ(n) sits about c·Σ(π/L)² below the sup (§4); the grid max sits
// below the sup by the symbol's drop from its peak ω* to the nearest grid frequency. θ ∈ {0, π} and N
// are free (any N at or above the minimum): choosing them so that ω* falls halfway between grid
// frequencies (distance π/N per axis) drops the grid max by about the same c·Σ(π/N)², so the bound
// comes close to σ(n) instead of the sup. Only θ ∈ {0, π} keeps the grid symmetric under ω → −ω,
// where the mirrored peak of a real layer sits (P(−ω) = conj P(ω)).
//
// How it is certified: the cells of symbol-sup.ts, with two changes. A cell holding no grid frequency
// is dropped, and a cell that fails its centre test while holding at most a few grid frequencies has
// those frequencies certified one by one (each an exact point: no curvature factor).

import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { certifiedPackedHermitianBound, topHermitianEigenpair } from './dense-symmetric';
import { symbolAt, symbolLowerAt, symbolTraceAt, unpackHermitian, type ConvSymbol } from './conv-symbol';
import { cellSpread, certifiedSymbolSup, frameOf, gridCells, splitCell, type Cell, type Frame, type SymbolPeak, type SymbolSup } from './symbol-sup';

/** The twisted torus: per spatial axis its size N_a and twist θ_a ∈ {0, π}. */
export interface TwistedGrid {
  sizes: number[];
  twists: number[];
}

/** Sizes above the minimum tried per axis when placing the peak between grid frequencies. */
const EXTRA_SIZES = 8;
/** A failing cell with at most this many grid frequencies has them certified one by one. */
const DIRECT_POINTS = 4;

/**
 * The smallest torus per axis that holds the layer, or null when the conv is not one this bound
 * covers (a stride above 1: the polyphase symbol lives on a coarser grid, not handled here).
 */
export function minimalTorus(symbol: ConvSymbol): number[] | null {
  const g = symbol.geometry;
  if (g.strides.some((s) => s !== 1)) return null;
  return g.inputSize.map((size, a) => {
    const reach = (g.kernel[a] - 1) * g.dilations[a];
    const padEnd = g.outputSize[a] - 1 + reach - (size - 1) - g.padsBegin[a];
    return Math.max(size + Math.max(g.padsBegin[a], padEnd, 0), g.outputSize[a], 1);
  });
}

/**
 * Per active axis, the size in [N0, N0 + EXTRA_SIZES] and twist whose grid frequencies stay farthest
 * from the peak's coordinate (at best π/N); the smaller size on ties, since its spacing is wider.
 */
export function chooseTwistedGrid(symbol: ConvSymbol, minimum: number[], peakOmega: number[]): TwistedGrid {
  const sizes: number[] = [];
  const twists: number[] = [];
  minimum.forEach((n0, a) => {
    if (symbol.degrees[a] === 0) {
      sizes.push(n0);
      twists.push(0);
      return;
    }
    let best = { size: n0, twist: 0, distance: -1 };
    for (let size = n0; size <= n0 + EXTRA_SIZES; size++) {
      for (const twist of [0, Math.PI]) {
        const u = (peakOmega[a] * size - twist) / (2 * Math.PI);
        const distance = ((2 * Math.PI) / size) * Math.abs(u - Math.round(u));
        if (distance > best.distance * (1 + 1e-9)) best = { size, twist, distance };
      }
    }
    sizes.push(best.size);
    twists.push(best.twist);
  });
  return { sizes, twists };
}

/** The grid frequencies inside a cell (boundary included), as frequency vectors. */
export function gridPointsIn(symbol: ConvSymbol, frame: Frame, cell: Cell, grid: TwistedGrid, limit: number): number[][] | null {
  const rank = symbol.degrees.length;
  const active = symbol.degrees.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
  // The cell's extent per axis (its ω bounding box), then the integer j range inside it.
  const ranges = active.map((a) => {
    const extent = cell.half.reduce((sum, h, k) => sum + h * Math.abs(frame.directions[k][a]), 0) * (1 + 1e-12) + 1e-12;
    const n = grid.sizes[a];
    const from = Math.ceil(((cell.center[a] - extent) * n - grid.twists[a]) / (2 * Math.PI));
    const to = Math.floor(((cell.center[a] + extent) * n - grid.twists[a]) / (2 * Math.PI));
    return { a, from, to };
  });
  const points: number[][] = [];
  const count = ranges.reduce((c, r) => c * Math.max(0, r.to - r.from + 1), 1);
  if (count === 0) return points;
  const index = ranges.map((r) => r.from);
  for (;;) {
    const omega = new Array<number>(rank).fill(0);
    ranges.forEach((r, k) => (omega[r.a] = (2 * Math.PI * index[k] + grid.twists[r.a]) / grid.sizes[r.a]));
    if (insideCell(frame, cell, omega)) {
      points.push(omega);
      if (points.length > limit) return null;
    }
    let k = 0;
    while (k < ranges.length && ++index[k] > ranges[k].to) {
      index[k] = ranges[k].from;
      k++;
    }
    if (k === ranges.length) break;
  }
  return points;
}

/** Whether ω lies in the cell: its coordinates in the frame's directions are within the half-widths. */
function insideCell(frame: Frame, cell: Cell, omega: number[]): boolean {
  // No active axis (a 1x1 kernel): the symbol is constant and the one cell is the whole domain.
  if (frame.directions.length === 0) return true;
  const delta = omega.map((w, a) => w - cell.center[a]);
  const axes = frame.directions[0].map((_, a) => a).filter((a) => frame.directions.some((d) => d[a] !== 0));
  let t: number[];
  if (frame.diamond) {
    // directions ±: (1/(2d₁), ±1/(2d₂)) on the two active axes, so t± = d₁Δ₁ ± d₂Δ₂.
    const [a1, a2] = axes;
    const d1 = 1 / (2 * frame.directions[0][a1]);
    const d2 = 1 / (2 * frame.directions[0][a2]);
    t = [d1 * delta[a1] + d2 * delta[a2], d1 * delta[a1] - d2 * delta[a2]];
  } else {
    // Unit axis directions, one per active axis, in axis order.
    t = axes.map((a) => delta[a]);
  }
  return t.every((v, k) => Math.abs(v) <= cell.half[k] * (1 + 1e-12) + 1e-12);
}

/** The grid frequencies within one spacing of ω on every active axis (up to 3 per axis). */
function gridPointsAround(symbol: ConvSymbol, grid: TwistedGrid, omega: number[]): number[][] {
  const { degrees } = symbol;
  const directions = degrees.map((_, a) => degrees.map((_, b) => (a === b ? 1 : 0))).filter((_, a) => degrees[a] > 0);
  const frame: Frame = { directions, diamond: false };
  const half = directions.map((direction) => (2 * Math.PI) / grid.sizes[direction.indexOf(1)]);
  return gridPointsIn(symbol, frame, { group: 0, center: omega, half }, grid, 64) ?? [];
}

/** An estimate (no proof) of the grid's largest λmax near the peak: what the certified max will be. */
export function estimateGridPeak(symbol: ConvSymbol, grid: TwistedGrid, peak: SymbolPeak): number {
  const { n } = symbol;
  let best = 0;
  for (const omega of gridPointsAround(symbol, grid, peak.omega)) {
    const matrix = symbolAt(symbol, peak.group, omega);
    best = Math.max(best, topHermitianEigenpair(matrix.re, matrix.im, n, 1e-7, peak.vector).value);
  }
  return best;
}

export interface GridMaxOptions {
  /** Relative slack on λ: lambdaUpper = (largest grid λ found)·(1 + relTol). */
  relTol: number;
  maxCells: number;
  shouldStop?: () => boolean;
}

/**
 * Certified: λmax(P(ω)) ≤ lambdaUpper at every frequency of the twisted grid, for every group, so
 * σ(layer) ≤ √lambdaUpper. Null when the certification gives up (too many cells, or a frequency
 * whose certificate fails even after its estimate raised the target).
 */
export function certifiedGridMax(symbol: ConvSymbol, grid: TwistedGrid, options: GridMaxOptions, peak: SymbolPeak | null): (SymbolSup & { grid: TwistedGrid }) | null {
  const { degrees, n } = symbol;
  const lanczosTol = Math.min(1e-7, options.relTol / 20);
  type Best = { lambda: number; omega: number[]; group: number; vector: { re: Float64Array; im: Float64Array } };
  let best: Best | null = null;
  let cells = 0;
  let factorisations = 0;
  const entries = (n * (n + 1)) / 2;
  const lowerRe = new Float64Array(entries);
  const lowerIm = new Float64Array(entries);
  // A loose estimate first and a tight one where it may be the running max; `tight` forces the
  // tight one (a frequency whose certificate failed: its loose estimate was too low).
  const estimateAt = (group: number, omega: number[], tight = false): number => {
    symbolLowerAt(symbol, group, omega, lowerRe, lowerIm);
    const matrix = unpackHermitian(lowerRe, lowerIm, n);
    const start = best && best.group === group ? best.vector : undefined;
    let pair = topHermitianEigenpair(matrix.re, matrix.im, n, 1e-3, start);
    if (tight || !best || pair.value > best.lambda * (1 - 3e-3)) pair = topHermitianEigenpair(matrix.re, matrix.im, n, lanczosTol, pair);
    if (!best || pair.value > best.lambda) best = { lambda: pair.value, omega: [...omega], group, vector: { re: pair.re, im: pair.im } };
    return pair.value;
  };
  const upper = (): number => (best ? best.lambda : 0) * (1 + options.relTol);
  // The grid frequencies around the peak first: their largest λ sets the target from the start.
  if (peak) for (const omega of gridPointsAround(symbol, grid, peak.omega)) estimateAt(peak.group, omega);
  const certifyPoint = (group: number, omega: number[]): boolean => {
    const error = symbol.groups[group].error;
    symbolLowerAt(symbol, group, omega, lowerRe, lowerIm);
    factorisations++;
    let bound = certifiedPackedHermitianBound(lowerRe, lowerIm, n, (upper() - error) * (1 - 4 * lanczosTol));
    if (bound !== null && bound <= upper() - error) return true;
    // Above the running max: estimate it tightly (raising the target), then certify between the two.
    const lambda = estimateAt(group, omega, true);
    const goal = upper() - error;
    if (!(lambda < goal)) return false;
    symbolLowerAt(symbol, group, omega, lowerRe, lowerIm);
    factorisations++;
    bound = certifiedPackedHermitianBound(lowerRe, lowerIm, n, (lambda + goal) / 2);
    return bound !== null && bound <= goal;
  };
  const frame = frameOf(symbol, true);
  const stack: Cell[] = gridCells(symbol, 0.5, frame);
  while (stack.length > 0) {
    if (options.shouldStop?.()) return null;
    if (++cells > options.maxCells) return null;
    const cell = stack.pop() as Cell;
    const points = gridPointsIn(symbol, frame, cell, grid, DIRECT_POINTS);
    if (points && points.length === 0) continue;
    const spread = cellSpread(degrees, frame, cell.half);
    // f = 1 − ¼(sup_cell Σ_a d_a|Δ_a|)², as in symbol-sup.ts: λmax ≤ λmax(P(centre))/f on the cell.
    const f = 1 - 0.25 * spread * spread;
    const error = symbol.groups[cell.group].error;
    if (f > 0 && best) {
      const target = upper() * f - error;
      const scale = symbol.groups[cell.group].absoluteScale;
      const traceBound = symbolTraceAt(symbol, cell.group, cell.center) + n * error + 2 * gamma(n + symbol.shifts.length + 4, UNIT_ROUNDOFF_F64) * scale;
      if (target > 0 && traceBound <= target) continue;
      if (target > 0) {
        symbolLowerAt(symbol, cell.group, cell.center, lowerRe, lowerIm);
        factorisations++;
        const bound = certifiedPackedHermitianBound(lowerRe, lowerIm, n, target * (1 - 4 * lanczosTol));
        if (bound !== null && bound <= target) continue;
      }
    }
    if (points) {
      for (const omega of points) if (!certifyPoint(cell.group, omega)) return null;
      continue;
    }
    stack.push(...splitCell(cell, frame));
  }
  if (!best) return null;
  const found = best as Best;
  return { lambdaUpper: upper(), lambdaBest: found.lambda, omega: found.omega, groupIndex: found.group, vector: found.vector, cells, factorisations, grid };
}

/** The certification's result (symbol-sup.ts's fields) with σ in place of λ. */
export interface ConvUpper extends Omit<SymbolSup, 'lambdaUpper'> {
  /** Certified: σ(layer) ≤ sigma (rounding included). */
  sigma: number;
  /** What bounds it, for the row's note. */
  description: string;
}

/**
 * The tightest certified upper bound of this folder for a zero-padded conv on `spatial`: the twisted
 * torus of the real size where it applies (stride 1), else the symbol's sup (any stride; valid at
 * every size). Null when certification gives up or is stopped.
 */
export function certifiedConvUpper(symbol: ConvSymbol, spatial: number[], peak: SymbolPeak, relTol: number, shouldStop?: () => boolean): ConvUpper | null {
  const blocks = `${symbol.side}-side ${symbol.n}x${symbol.n} blocks`;
  const minimum = minimalTorus(symbol);
  if (minimum) {
    const grid = chooseTwistedGrid(symbol, minimum, peak.omega);
    const result = certifiedGridMax(symbol, grid, { relTol, maxCells: 20_000, shouldStop }, peak);
    if (shouldStop?.()) return null;
    if (result) {
      const twists = grid.twists.map((t) => (t ? 'π' : '0')).join(',');
      return {
        ...result,
        sigma: Math.sqrt(result.lambdaUpper) * SCALAR_SAFETY,
        description: `symbol max over a ${grid.sizes.join('x')} twisted torus (twists ${twists}) holding the ${spatial.join('x')} layer (${blocks}, ${result.cells} cells, ${result.factorisations} Cholesky certificates)`,
      };
    }
  }
  const sup = certifiedSymbolSup(symbol, { relTol, maxCells: 20_000, shouldStop }, peak);
  if (!sup) return null;
  return { ...sup, sigma: Math.sqrt(sup.lambdaUpper) * SCALAR_SAFETY, description: `symbol sup over all frequencies (${blocks}, ${sup.cells} cells, ${sup.factorisations} Cholesky certificates; valid at every input size)` };
}
