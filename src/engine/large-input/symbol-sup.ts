// Certified sup over all frequencies of λmax(P(ω)) = σ1(K̂'(ω))² (conv-symbol.ts), by adaptive cells.
//
// Why a cell's centre bounds its whole cell (docs/large-inputs.md, "Between grid points"): let S be
// the sup, attained at (ω*, v*). Along the line ω* + tΔ, g(t) = K̂'(ω* + tΔ)v*·e^{i(ω*+tΔ)·μ}, μ the
// centre of the polyphase tap offsets, is an exponential sum of type τ = ½Σ_a d_a|Δ_a| with
// ||g|| ≤ √S, so Bernstein's inequality gives ||g''|| ≤ τ²√S; q(t) = ||g(t)||² = v*ᴴP v* has q(0) = S,
// q'(0) = 0 and q'' = 2Re⟨g'', g⟩ + 2||g'||² ≥ −2τ²S. For the centre c of the cell holding ω*
// (half-widths h_a): λmax(P(c)) ≥ q(c) ≥ S(1 − ¼(Σ_a d_a h_a)²), i.e. S ≤ λmax(P(c))/f.
// Hence S ≤ U as soon as every cell is certified λmax(P(c)) ≤ U·f_cell. P(−ω) = conj P(ω), so cells
// cover ω_a ∈ [0, π] on the first axis with d_a > 0; axes with d_a = 0 need no cells at all.
// Each centre's λmax is certified by a Cholesky factorisation (dense-symmetric.ts) plus the symbol's
// own rounding bound; cells that fail are split in two along every axis with d_a > 0. The peak is
// located first (an estimate), so that cells are tested against the final U from the start.

import { UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { certifiedHermitianBound, topHermitianEigenpair } from './dense-symmetric';
import { symbolAt, type ConvSymbol } from './conv-symbol';

export interface SymbolSup {
  /** Certified: λmax(P(ω)) ≤ lambdaUpper for every ω and group. */
  lambdaUpper: number;
  /** Largest λmax estimate met, where, and its eigenvector. */
  lambdaBest: number;
  omega: number[];
  groupIndex: number;
  vector: { re: Float64Array; im: Float64Array };
  /** Cells visited and Cholesky factorisations run. */
  cells: number;
  factorisations: number;
}

export interface SupOptions {
  /** Relative slack on λ: lambdaUpper ≈ lambdaBest·(1 + relTol). */
  relTol: number;
  /** Give up (null) after this many cells. */
  maxCells: number;
  shouldStop?: () => boolean;
}

/** Where the sup is (an estimate, no proof): the start of the certification. */
export interface SymbolPeak {
  lambda: number;
  omega: number[];
  group: number;
  vector: { re: Float64Array; im: Float64Array };
  /** Symbol evaluations spent finding it. */
  evaluations: number;
}

interface Cell {
  group: number;
  center: number[];
  half: number[];
  /** λmax estimate of the parent cell (ordering only). */
  score: number;
}

/** Spread Σ_a d_a h_a of the cells the peak search scores (coarse: a grid to start ascents from). */
const SCORE_SPREAD = 1;
/** Spread of the first certification cells: f = 1 − ¼·0.5² ≈ 0.94, so far cells pass at once. */
const COARSE_SPREAD = 0.5;
/** Ascents from this many of the best-scored cells. */
const ASCENT_SEEDS = 3;
/** The ascent stops at steps this small (radians): λ is then within ~1e-6 of the local max. */
const ASCENT_STEP = 2e-3;

/** A grid of cells whose Σ_a d_a h_a is at most `spread`; the first active axis on [0, π]. */
function gridCells(symbol: ConvSymbol, spread: number): Cell[] {
  const { degrees } = symbol;
  const rank = degrees.length;
  const active = degrees.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
  const counts = degrees.map((d) => (d > 0 ? Math.max(2, Math.ceil((Math.PI * active.length * d) / spread)) : 1));
  const ranges = degrees.map((d, a) => (d > 0 ? (a === active[0] ? Math.PI : 2 * Math.PI) : 0));
  const cellCounts = counts.map((c, a) => (a === active[0] ? Math.max(1, Math.ceil(c / 2)) : c));
  const cells: Cell[] = [];
  const total = cellCounts.reduce((a, b) => a * b, 1);
  for (let g = 0; g < symbol.groups.length; g++) {
    for (let flat = 0; flat < total; flat++) {
      let rest = flat;
      const center = new Array<number>(rank).fill(0);
      const half = new Array<number>(rank).fill(0);
      for (let a = rank - 1; a >= 0; a--) {
        const j = rest % cellCounts[a];
        rest = Math.floor(rest / cellCounts[a]);
        if (degrees[a] === 0) continue;
        half[a] = ranges[a] / (2 * cellCounts[a]);
        center[a] = (2 * j + 1) * half[a];
      }
      cells.push({ group: g, center, half, score: 0 });
    }
  }
  return cells;
}

/**
 * An estimate of the sup and where it is attained: loose λmax estimates on a coarse grid, then a
 * pattern search from the best few. No proof: certifiedSymbolSup certifies (and raises it if a
 * higher value turns up).
 */
export function locateSymbolPeak(symbol: ConvSymbol, lanczosTol = 1e-7, shouldStop?: () => boolean): SymbolPeak | null {
  const { n, degrees } = symbol;
  const active = degrees.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
  let best: SymbolPeak | null = null;
  let evaluations = 0;
  const scored = gridCells(symbol, SCORE_SPREAD);
  for (const cell of scored) {
    if (shouldStop?.()) return null;
    const matrix = symbolAt(symbol, cell.group, cell.center);
    evaluations++;
    const start = best && best.group === cell.group ? best.vector : undefined;
    const pair = topHermitianEigenpair(matrix.re, matrix.im, n, 1e-3, start, 12);
    cell.score = pair.value;
    if (!best || pair.value > best.lambda) best = { lambda: pair.value, omega: [...cell.center], group: cell.group, vector: { re: pair.re, im: pair.im }, evaluations: 0 };
  }
  scored.sort((a, b) => b.score - a.score);
  const evaluate = (group: number, omega: number[], start: { re: Float64Array; im: Float64Array } | undefined): SymbolPeak => {
    const matrix = symbolAt(symbol, group, omega);
    evaluations++;
    const pair = topHermitianEigenpair(matrix.re, matrix.im, n, lanczosTol, start);
    return { lambda: pair.value, omega, group, vector: { re: pair.re, im: pair.im }, evaluations: 0 };
  };
  best = null;
  for (const cell of scored.slice(0, ASCENT_SEEDS)) {
    if (shouldStop?.()) return null;
    let here = evaluate(cell.group, [...cell.center], undefined);
    let steps = cell.half.map((h) => h / 2);
    while (active.some((a) => steps[a] > ASCENT_STEP)) {
      let moved = false;
      for (const a of active) {
        for (const sign of [1, -1]) {
          const trial = [...here.omega];
          trial[a] += sign * steps[a];
          const next = evaluate(cell.group, trial, here.vector);
          if (next.lambda > here.lambda) {
            here = next;
            moved = true;
            break;
          }
        }
      }
      if (!moved) steps = steps.map((s) => s / 2);
    }
    if (!best || here.lambda > best.lambda) best = here;
  }
  return best && { ...best, evaluations };
}

/**
 * Certified sup of λmax(P(ω)) over all ω, by adaptive cells (see the header), starting from
 * `peak` (locateSymbolPeak's estimate; found here when omitted).
 */
export function certifiedSymbolSup(symbol: ConvSymbol, options: SupOptions, peak?: SymbolPeak | null): SymbolSup | null {
  const { degrees, n } = symbol;
  const rank = degrees.length;
  const active = degrees.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
  const lanczosTol = Math.min(1e-7, options.relTol / 20);
  type Best = { lambda: number; omega: number[]; group: number; vector: { re: Float64Array; im: Float64Array } };
  const located = peak === undefined ? locateSymbolPeak(symbol, lanczosTol, options.shouldStop) : peak;
  let best: Best | null = located ? { lambda: located.lambda, omega: located.omega, group: located.group, vector: located.vector } : null;
  let cells = 0;
  let factorisations = 0;
  const estimate = (cell: Cell, matrix: { re: Float64Array; im: Float64Array }): number => {
    const start = best && best.group === cell.group ? best.vector : undefined;
    // A loose estimate first; a tight one only where it may be the running max.
    let pair = topHermitianEigenpair(matrix.re, matrix.im, n, 1e-3, start);
    if (!best || pair.value > best.lambda * (1 - 3e-3)) pair = topHermitianEigenpair(matrix.re, matrix.im, n, lanczosTol, pair);
    if (!best || pair.value > best.lambda) best = { lambda: pair.value, omega: [...cell.center], group: cell.group, vector: { re: pair.re, im: pair.im } };
    return pair.value;
  };
  const upper = (): number => (best ? best.lambda : 0) * (1 + options.relTol);
  const stack: Cell[] = gridCells(symbol, COARSE_SPREAD);
  while (stack.length > 0) {
    if (options.shouldStop?.()) return null;
    if (++cells > options.maxCells) return null;
    const cell = stack.pop() as Cell;
    let spread = 0;
    for (const a of active) spread += degrees[a] * cell.half[a];
    // f = 1 − ¼(Σ_a d_a h_a)²: Bernstein's inequality on K̂'(ω)v* (type Σ_a d_a|Δ_a|/2 along a
    // line, after centring the taps), docs/large-inputs.md §2.
    const f = 1 - 0.25 * spread * spread;
    const error = symbol.groups[cell.group].error;
    if (f > 0) {
      const target = (): number => upper() * f - error;
      // λmax ≤ trace (P ⪰ 0): enough on narrow blocks and far from the peak, at no cost. Its
      // rounding: n diagonal errors of the symbol, plus the n + S sums of traceAt.
      const scale = symbol.groups[cell.group].absoluteScale;
      const traceBound = traceAt(symbol, cell.group, cell.center) + n * error + 2 * gamma(n + symbol.shifts.length + 4, UNIT_ROUNDOFF_F64) * scale;
      if (traceBound <= target() && target() > 0) continue;
      const matrix = symbolAt(symbol, cell.group, cell.center);
      let proven = false;
      let lambda = cell.score;
      if (target() > 0) {
        factorisations++;
        const bound = certifiedHermitianBound(matrix.re, matrix.im, n, target() * (1 - 4 * lanczosTol));
        proven = bound !== null && bound <= target();
      }
      if (!proven) {
        lambda = estimate(cell, matrix);
        const goal = target();
        if (lambda < goal) {
          factorisations++;
          const bound = certifiedHermitianBound(matrix.re, matrix.im, n, (lambda + goal) / 2);
          proven = bound !== null && bound <= goal;
        }
      }
      if (proven) continue;
      cell.score = lambda;
    }
    // Split along every active axis.
    const children = 1 << active.length;
    for (let c = 0; c < children; c++) {
      const center = [...cell.center];
      const half = [...cell.half];
      active.forEach((a, k) => {
        half[a] = cell.half[a] / 2;
        center[a] = cell.center[a] + ((c >> k) & 1 ? half[a] : -half[a]);
      });
      stack.push({ group: cell.group, center, half, score: cell.score });
    }
  }
  if (!best) {
    // Every block passed on its trace: the map is (near) zero; bound by the trace bound's target.
    const zero = new Array<number>(rank).fill(0);
    return { lambdaUpper: upper(), lambdaBest: 0, omega: zero, groupIndex: 0, vector: { re: new Float64Array(n), im: new Float64Array(n) }, cells, factorisations };
  }
  const found = best as Best;
  return { lambdaUpper: upper(), lambdaBest: found.lambda, omega: found.omega, groupIndex: found.group, vector: found.vector, cells, factorisations };
}

/** trace P(ω) = tr G_0 + Σ_δ tr(sym_δ) cos(ω·δ) (the anti parts have zero trace). */
function traceAt(symbol: ConvSymbol, group: number, omega: number[]): number {
  const { n, shifts } = symbol;
  const g = symbol.groups[group];
  const diagonal = (m: Float64Array): number => {
    let tr = 0;
    for (let i = 0; i < n; i++) tr += m[i * n + i];
    return tr;
  };
  let total = diagonal(g.zero);
  for (let s = 0; s < shifts.length; s++) {
    let angle = 0;
    for (let a = 0; a < omega.length; a++) angle += omega[a] * shifts[s][a];
    total += diagonal(g.sym[s]) * Math.cos(angle);
  }
  return total;
}
