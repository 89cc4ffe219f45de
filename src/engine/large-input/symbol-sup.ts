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
// The argument only needs sup over the cell of Σ_a d_a|Δ_a| (the cell's spread): with two active
// axes the cells are diamonds (squares in d₁ω₁ ± d₂ω₂), half as many as axis boxes for the same f.
// Each centre's λmax is certified by a Cholesky factorisation (dense-symmetric.ts) plus the symbol's
// own rounding bound; cells that fail are split in two along every cell direction. The peak is
// located first (an estimate), so that cells are tested against the final U from the start; a
// failing cell is estimated (Lanczos) only when it is fine enough that failing means a higher λ.

import { UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { certifiedPackedHermitianBound, topHermitianEigenpair } from './dense-symmetric';
import { symbolAt, symbolLowerAt, symbolTraceAt, unpackHermitian, type ConvSymbol } from './conv-symbol';

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

/** Spread of the cells the peak search scores (diamonds with two active axes, as the certification's). */
const SCORE_SPREAD = 1;
/** Spread of the first certification cells: f = 1 − ¼·0.5² ≈ 0.94, so far cells pass at once. */
const COARSE_SPREAD = 0.5;
/** Ascents from this many of the best-scored cells. */
const ASCENT_SEEDS = 3;
/**
 * Relative Ritz residual of the ascent's estimates: a Ritz value's error is about residual²/gap, so
 * 1e-5 leaves λ within ~1e-9 of the block's top eigenvalue (it only guides the search; U rises if a
 * cell meets more).
 */
const ASCENT_LANCZOS_TOL = 1e-5;
/** The ascent stops at steps this small (radians): λ is then within ~1e-6 of the local max. */
const ASCENT_STEP = 2e-3;

/**
 * A cell: {center + Σ_k t_k·directions[k] : |t_k| ≤ half[k]} for the frame's directions (vectors in
 * ω-space, one per active axis). Its spread sup_Δ Σ_a d_a|Δ_a| over the cell sets f (see the header).
 */
export interface Cell {
  group: number;
  center: number[];
  half: number[];
}

/**
 * The cells' directions. Axis-aligned boxes in general; with exactly two active axes, squares in
 * u = d₁ω₁ + d₂ω₂, v = d₁ω₁ − d₂ω₂ ("diamonds" in ω): there Σ_a d_a|Δ_a| = max(|Δu|, |Δv|), so a
 * diamond of spread s covers twice the area of an axis box of the same spread (half the cells for
 * the same f).
 */
export interface Frame {
  directions: number[][];
  diamond: boolean;
}

export function frameOf(symbol: ConvSymbol, diamond: boolean): Frame {
  const { degrees } = symbol;
  const active = activeAxes(degrees);
  const unit = (a: number, scale: number): number[] => degrees.map((_, b) => (b === a ? scale : 0));
  if (diamond && active.length === 2) {
    const [a1, a2] = active;
    const plus = degrees.map((_, b) => (b === a1 ? 1 / (2 * degrees[a1]) : b === a2 ? 1 / (2 * degrees[a2]) : 0));
    const minus = degrees.map((_, b) => (b === a1 ? 1 / (2 * degrees[a1]) : b === a2 ? -1 / (2 * degrees[a2]) : 0));
    return { directions: [plus, minus], diamond: true };
  }
  return { directions: active.map((a) => unit(a, 1)), diamond: false };
}

function activeAxes(degrees: number[]): number[] {
  return degrees.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
}

/** sup over the cell of Σ_a d_a|Δ_a|: the largest over its corners (the sum is convex in Δ). */
export function cellSpread(degrees: number[], frame: Frame, half: number[]): number {
  const corners = 1 << half.length;
  let spread = 0;
  for (let c = 0; c < corners; c++) {
    let sum = 0;
    for (let a = 0; a < degrees.length; a++) {
      if (degrees[a] === 0) continue;
      let delta = 0;
      for (let k = 0; k < half.length; k++) delta += ((c >> k) & 1 ? half[k] : -half[k]) * frame.directions[k][a];
      sum += degrees[a] * Math.abs(delta);
    }
    spread = Math.max(spread, sum);
  }
  return spread;
}

/**
 * Cells of spread at most `spread` covering the fundamental domain: ω_a ∈ [0, π] on the first active
 * axis (P(−ω) = conj P(ω)), [0, 2π] on the others (P is 2π-periodic), 0 on inactive axes.
 */
export function gridCells(symbol: ConvSymbol, spread: number, frame: Frame): Cell[] {
  const { degrees } = symbol;
  const rank = degrees.length;
  const active = activeAxes(degrees);
  const cells: Cell[] = [];
  const top = (a: number): number => (a === active[0] ? Math.PI : 2 * Math.PI);
  if (frame.diamond) {
    // Squares of half-width `spread` in (u, v) over the ranges u, v take on the domain box; those
    // whose ω bounding box (|Δω_a| ≤ spread/d_a) misses the box are dropped.
    const [a1, a2] = active;
    const [d1, d2] = [degrees[a1], degrees[a2]];
    const uRange: [number, number] = [0, d1 * top(a1) + d2 * top(a2)];
    const vRange: [number, number] = [-d2 * top(a2), d1 * top(a1)];
    const count = (range: [number, number]) => Math.max(1, Math.ceil((range[1] - range[0]) / (2 * spread)));
    const [nu, nv] = [count(uRange), count(vRange)];
    const [hu, hv] = [(uRange[1] - uRange[0]) / (2 * nu), (vRange[1] - vRange[0]) / (2 * nv)];
    for (let g = 0; g < symbol.groups.length; g++) {
      for (let i = 0; i < nu; i++) {
        for (let j = 0; j < nv; j++) {
          const u = uRange[0] + (2 * i + 1) * hu;
          const v = vRange[0] + (2 * j + 1) * hv;
          const center = new Array<number>(rank).fill(0);
          center[a1] = (u + v) / (2 * d1);
          center[a2] = (u - v) / (2 * d2);
          const reach = Math.max(hu, hv);
          if (center[a1] + reach / d1 < 0 || center[a1] - reach / d1 > top(a1)) continue;
          if (center[a2] + reach / d2 < 0 || center[a2] - reach / d2 > top(a2)) continue;
          cells.push({ group: g, center, half: [hu, hv] });
        }
      }
    }
    return cells;
  }
  const counts = degrees.map((d) => (d > 0 ? Math.max(2, Math.ceil((Math.PI * active.length * d) / spread)) : 1));
  const cellCounts = counts.map((c, a) => (a === active[0] ? Math.max(1, Math.ceil(c / 2)) : c));
  const total = cellCounts.reduce((a, b) => a * b, 1);
  for (let g = 0; g < symbol.groups.length; g++) {
    for (let flat = 0; flat < total; flat++) {
      let rest = flat;
      const center = new Array<number>(rank).fill(0);
      const half: number[] = [];
      for (let a = rank - 1; a >= 0; a--) {
        const j = rest % cellCounts[a];
        rest = Math.floor(rest / cellCounts[a]);
        if (degrees[a] === 0) continue;
        const h = top(a) / (2 * cellCounts[a]);
        half.unshift(h);
        center[a] = (2 * j + 1) * h;
      }
      cells.push({ group: g, center, half });
    }
  }
  return cells;
}

/** The 2^k halves of a cell, split along every frame direction: together they cover it. */
export function splitCell(cell: Cell, frame: Frame): Cell[] {
  const children: Cell[] = [];
  const half = cell.half.map((h) => h / 2);
  for (let c = 0; c < 1 << cell.half.length; c++) {
    const center = [...cell.center];
    half.forEach((h, k) => {
      const sign = (c >> k) & 1 ? h : -h;
      for (let a = 0; a < center.length; a++) center[a] += sign * frame.directions[k][a];
    });
    children.push({ group: cell.group, center, half });
  }
  return children;
}

/**
 * An estimate of the sup and where it is attained: loose λmax estimates on a coarse grid, then a
 * pattern search from the best few. No proof: certifiedSymbolSup certifies (and raises it if a
 * higher value turns up).
 */
export function locateSymbolPeak(symbol: ConvSymbol, lanczosTol = ASCENT_LANCZOS_TOL, shouldStop?: () => boolean): SymbolPeak | null {
  const { n, degrees } = symbol;
  const active = degrees.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
  let best: SymbolPeak | null = null;
  let evaluations = 0;
  const scoreFrame = frameOf(symbol, true);
  const scored = gridCells(symbol, SCORE_SPREAD, scoreFrame).map((cell) => ({ ...cell, score: 0 }));
  const buffer = { re: new Float64Array(n * n), im: new Float64Array(n * n) };
  for (const cell of scored) {
    if (shouldStop?.()) return null;
    const matrix = symbolAt(symbol, cell.group, cell.center, undefined, buffer);
    evaluations++;
    const start = best && best.group === cell.group ? best.vector : undefined;
    const pair = topHermitianEigenpair(matrix.re, matrix.im, n, 1e-3, start, 12);
    cell.score = pair.value;
    if (!best || pair.value > best.lambda) best = { lambda: pair.value, omega: [...cell.center], group: cell.group, vector: { re: pair.re, im: pair.im }, evaluations: 0 };
  }
  scored.sort((a, b) => b.score - a.score);
  const evaluate = (group: number, omega: number[], start: { re: Float64Array; im: Float64Array } | undefined): SymbolPeak => {
    const matrix = symbolAt(symbol, group, omega, undefined, buffer);
    evaluations++;
    const pair = topHermitianEigenpair(matrix.re, matrix.im, n, lanczosTol, start);
    return { lambda: pair.value, omega, group, vector: { re: pair.re, im: pair.im }, evaluations: 0 };
  };
  best = null;
  for (const cell of scored.slice(0, ASCENT_SEEDS)) {
    if (shouldStop?.()) return null;
    let here = evaluate(cell.group, [...cell.center], undefined);
    let steps = symbol.degrees.map(() => 0);
    // Half the cell's extent along each axis (a diamond's is half/d_a along both).
    active.forEach((a) => (steps[a] = cell.half.reduce((sum, h, k) => sum + h * Math.abs(scoreFrame.directions[k][a]), 0) / 2));
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
  const frame = frameOf(symbol, true);
  const stack: Cell[] = gridCells(symbol, COARSE_SPREAD, frame);
  const entries = (n * (n + 1)) / 2;
  const lowerRe = new Float64Array(entries);
  const lowerIm = new Float64Array(entries);
  while (stack.length > 0) {
    if (options.shouldStop?.()) return null;
    if (++cells > options.maxCells) return null;
    const cell = stack.pop() as Cell;
    const spread = cellSpread(degrees, frame, cell.half);
    // f = 1 − ¼(sup_cell Σ_a d_a|Δ_a|)²: Bernstein's inequality on K̂'(ω)v* (type Σ_a d_a|Δ_a|/2
    // along a line, after centring the taps), docs/large-inputs.md §2.
    const f = 1 - 0.25 * spread * spread;
    const error = symbol.groups[cell.group].error;
    if (f > 0) {
      const target = (): number => upper() * f - error;
      // λmax ≤ trace (P ⪰ 0): enough on narrow blocks and far from the peak, at no cost. Its
      // rounding: n diagonal errors of the symbol, plus the n + S sums of symbolTraceAt.
      const scale = symbol.groups[cell.group].absoluteScale;
      const traceBound = symbolTraceAt(symbol, cell.group, cell.center) + n * error + 2 * gamma(n + symbol.shifts.length + 4, UNIT_ROUNDOFF_F64) * scale;
      if (traceBound <= target() && target() > 0) continue;
      symbolLowerAt(symbol, cell.group, cell.center, lowerRe, lowerIm);
      let proven = false;
      if (target() > 0) {
        factorisations++;
        const bound = certifiedPackedHermitianBound(lowerRe, lowerIm, n, target() * (1 - 4 * lanczosTol));
        proven = bound !== null && bound <= target();
      }
      // A failed cell is split, except where failing means more than the cell's curvature allows:
      // with 1 − f ≤ relTol/2 a cell whose λmax is at most the running max passes, so its λmax is
      // above it; estimate it there (raising U), and retry. (No estimate yet: the first one.)
      if (!proven && (!best || 1 - f <= options.relTol / 2)) {
        const lambda = estimate(cell, unpackHermitian(lowerRe, lowerIm, n));
        const goal = target();
        if (lambda < goal) {
          factorisations++;
          const bound = certifiedPackedHermitianBound(lowerRe, lowerIm, n, (lambda + goal) / 2);
          proven = bound !== null && bound <= goal;
        }
      }
      if (proven) continue;
    }
    stack.push(...splitCell(cell, frame));
  }
  if (!best) {
    // Every block passed on its trace: the map is (near) zero; bound by the trace bound's target.
    const zero = new Array<number>(rank).fill(0);
    return { lambdaUpper: upper(), lambdaBest: 0, omega: zero, groupIndex: 0, vector: { re: new Float64Array(n), im: new Float64Array(n) }, cells, factorisations };
  }
  const found = best as Best;
  return { lambdaUpper: upper(), lambdaBest: found.lambda, omega: found.omega, groupIndex: found.group, vector: found.vector, cells, factorisations };
}
