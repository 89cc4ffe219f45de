// Certified upper bound on the operator 2-norm of a zero-padded convolution on its real input size
// (ONNX semantics: y[o, p] = Σ_{i,t} W[o, i, t] · x[i, p·s + t·d − padBegin], zero outside the input),
// any stride, dilation, groups and 1-D/2-D/3-D.
//
// Construction (each step exact, so the bound is valid for every kernel and size):
// 1. Groups: the map is block-diagonal over groups, so its norm is the max over groups.
// 2. Polyphase (space-to-depth): writing the padded index p·s + t·d = s·(p + m_t) + r_t with
//    r_t = (t·d) mod s and m_t = ⌊t·d / s⌋, the strided conv is a stride-1 correlation over the
//    phase-split input x''[(i, r), a] = x[i, s·a + r − padBegin], with kernel K'[o, (i, r_t), m_t] =
//    W[o, i, t]. Splitting into phases is a permutation of the input entries (an isometry); dilation
//    becomes zeros in K'.
// 3. Circular embedding: on a grid Z_N with N ≥ max(H_out + M − 1, ⌊(H − 1 + padBegin)/s⌋ + 1),
//    M = ⌊(k−1)d/s⌋ + 1 taps, every input entry has its own grid point and no kept output reads
//    across the wrap, so A = R·C_N·E with E an isometric embedding and R a restriction
//    (norm ≤ 1): ||A|| ≤ ||C_N||.
// 4. ||C_N|| = max over the N^D DFT frequencies ω of σ1(K̂'(ω)), K̂'(ω) = Σ_t K'_t e^{−i ω·m_t}
//    (block-diagonalisation of the circular operator by the unitary DFT). K̂'(−ω) = conj K̂'(ω) has
//    the same σ1, so half the frequencies suffice.
// 5. Each σ1(K̂'(ω)) is bounded by certified Gram iteration (gram.ts), or proven ≤ the running max
//    by a Cholesky factorisation (cholesky.ts). The first Gram matrix of each block is formed
//    from the block (the DFT's own float64 rounding is added as a perturbation bound, Weyl), or
//    assembled from kernel-tap products when that is cheaper (tap-gram.ts, its rounding inside ε₀).

import type { ConvSpec } from '../../model/ir';
import { describeEngine, matrixUpperBound } from './dense';
import { certificateTarget, certifyNormAtMost } from './cholesky';
import { firstGramProduct, gramBoundFromFirst, gramSpectralBound, type DenseBlock, type FirstGramProduct, type GramResult } from './gram';
import { largestEigenvalueEstimate } from './top-eigenvalue';
import { TapGram, dftPhase, planTapGram } from './tap-gram';
import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from './rounding';
import { BOUND_BUDGET_FLOPS, type BoundOptions, type UpperBound } from './types';

/** Geometry of one conv after cropping negative pads; sizes per spatial axis. */
export interface ConvGeometry {
  inputSize: number[];
  outputSize: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  /** Circular grid size per axis (step 3 above). */
  grid: number[];
  /** Polyphase taps per axis, M above. */
  phaseTaps: number[];
}

const GRAM_MAX_STEPS = 8;
/**
 * Gram matrices of at least this size try the Cholesky certificate before Gram iteration, and so do
 * those small enough for it to run without a tfjs call (one panel, cholesky.ts); in between, tfjs's
 * per-call overhead makes Gram iteration the cheaper start.
 */
const CERTIFY_MIN_SIZE = 64;
const CERTIFY_JS_MAX_SIZE = 32;
/** Typical number of Gram products per frequency block, for the cost estimate only. */
const EXPECTED_PRODUCTS = 3;
/**
 * A block above the running max is tried against the smallest target its certificate could prove
 * if λmax(P₀) were its Lanczos estimate times (1 + each margin), in turn (the estimate is from
 * below and may not have converged on a clustered top).
 */
const RAISE_MARGINS = [3e-5, 3e-4];
const RAISE_PANEL = 16;
/** A blocked complex Cholesky factorisation of an n × n block costs about this times n³ flops. */
const CERTIFY_FLOPS = 6;
/** 'auto' assembles Gram matrices from tap products when that is estimated this much cheaper. */
const TAP_PATH_ADVANTAGE = 0.7;
/**
 * ...and when its stacked D_δ hold at most this many floats (64 MB; three copies live at once):
 * 512-channel 3x3 layers need 6.6M, a 1024-channel one 26M, which then forms its blocks directly.
 */
const TAP_STACK_MAX_FLOATS = 2 ** 24;

export function convUpperBound(spec: ConvSpec, inputShape: number[], options: BoundOptions = {}): UpperBound | null {
  const dims = spec.weight.dims;
  const spatialRank = dims.length - 2;
  if (spatialRank < 1 || inputShape.length !== spatialRank + 2) return null;
  const [cOut, cInPerGroup] = dims;
  const group = spec.group || 1;
  if (cOut % group !== 0) return null;
  const spatial = spec.channelsLast ? inputShape.slice(1, 1 + spatialRank) : inputShape.slice(2);
  const geometry = convGeometry(spatial, dims.slice(2), spec.strides, spec.dilations, spec.padsBegin, spec.padsEnd);
  if (!geometry) return null;
  if (geometry.outputSize.some((size) => size <= 0) || geometry.inputSize.some((size) => size <= 0)) {
    return { value: 0, method: 'empty output: the map is zero' };
  }
  return circularBound(spec.weight.data, cOut, cInPerGroup, group, geometry, options);
}

/** Crops negative pads (a coordinate projection, norm ≤ 1) and sizes the circular grid. */
export function convGeometry(
  inputSize: number[],
  kernel: number[],
  stridesIn: number[],
  dilationsIn: number[],
  padsBeginIn: number[],
  padsEndIn: number[],
): ConvGeometry | null {
  const rank = kernel.length;
  if (inputSize.length !== rank) return null;
  const g: ConvGeometry = { inputSize: [], outputSize: [], kernel: [...kernel], strides: [], dilations: [], padsBegin: [], grid: [], phaseTaps: [] };
  for (let a = 0; a < rank; a++) {
    const stride = stridesIn[a] ?? 1;
    const dilation = dilationsIn[a] ?? 1;
    const padBegin = padsBeginIn[a] ?? 0;
    const padEnd = padsEndIn[a] ?? 0;
    if (stride < 1 || dilation < 1 || kernel[a] < 1) return null;
    // A negative pad drops input entries the conv never reads.
    const size = inputSize[a] + Math.min(padBegin, 0) + Math.min(padEnd, 0);
    const begin = Math.max(padBegin, 0);
    const end = Math.max(padEnd, 0);
    const out = Math.floor((size + begin + end - (kernel[a] - 1) * dilation - 1) / stride) + 1;
    const taps = Math.floor(((kernel[a] - 1) * dilation) / stride) + 1;
    g.inputSize.push(size);
    g.outputSize.push(out);
    g.strides.push(stride);
    g.dilations.push(dilation);
    g.padsBegin.push(begin);
    g.phaseTaps.push(taps);
    g.grid.push(Math.max(out + taps - 1, Math.floor((size - 1 + begin) / stride) + 1, 1));
  }
  return g;
}

export interface TapLayout {
  /** Per flattened kernel tap: its input phase (flattened over axes) and its offsets m_t per axis. */
  phase: Int32Array;
  offsets: Int32Array[];
  phases: number;
  taps: number;
}

export function tapLayout(g: ConvGeometry): TapLayout {
  const rank = g.kernel.length;
  const taps = g.kernel.reduce((a, b) => a * b, 1);
  const phases = g.strides.reduce((a, b) => a * b, 1);
  const phase = new Int32Array(taps);
  const offsets = Array.from({ length: rank }, () => new Int32Array(taps));
  for (let t = 0; t < taps; t++) {
    let rest = t;
    let phaseIndex = 0;
    let phaseRadix = 1;
    for (let a = rank - 1; a >= 0; a--) {
      const ta = rest % g.kernel[a];
      rest = Math.floor(rest / g.kernel[a]);
      const position = ta * g.dilations[a];
      offsets[a][t] = Math.floor(position / g.strides[a]);
      phaseIndex += (position % g.strides[a]) * phaseRadix;
      phaseRadix *= g.strides[a];
    }
    phase[t] = phaseIndex;
  }
  return { phase, offsets, phases, taps };
}

/** Frequencies j (multi-index, flattened) with one representative per pair {j, −j}. */
function halfSpectrum(grid: number[]): { indices: Int32Array[]; selfConjugate: boolean[] } {
  const total = grid.reduce((a, b) => a * b, 1);
  const rank = grid.length;
  const indices: Int32Array[] = [];
  const selfConjugate: boolean[] = [];
  const j = new Int32Array(rank);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let negFlat = 0;
    for (let a = rank - 1; a >= 0; a--) {
      j[a] = rest % grid[a];
      rest = Math.floor(rest / grid[a]);
    }
    for (let a = 0; a < rank; a++) negFlat = negFlat * grid[a] + ((grid[a] - j[a]) % grid[a]);
    if (flat <= negFlat) {
      indices.push(Int32Array.from(j));
      selfConjugate.push(flat === negFlat);
    }
  }
  return { indices, selfConjugate };
}

/** Extra grid sizes tried on small maps, where the circular norm depends on N by a few percent. */
const EXTRA_GRIDS = 2;
/** Only grids up to this many points get the extra sizes (larger maps differ by < 1 % anyway). */
const EXTRA_GRID_MAX_POINTS = 24 * 24;
/**
 * ...and only while all grids together cost at most this (~0.1 s): on ResNet-50's 256→256 @14
 * layers the two extra grids tripled the bound's time (2.2 → 8.3 s) for a bound 0.1 % tighter.
 */
const EXTRA_GRID_BUDGET_FLOPS = 4e9;

function circularBound(
  weight: Float32Array,
  cOut: number,
  cInPerGroup: number,
  group: number,
  g: ConvGeometry,
  options: BoundOptions,
): UpperBound {
  const layout = tapLayout(g);
  const { taps, phases } = layout;
  const rows = cOut / group;
  const cols = cInPerGroup * phases;
  // One frequency suffices when every axis has a single polyphase tap (1x1 convs, k ≤ s patchify):
  // then K̂'(ω) = K'_0 up to a unit scalar.
  const singleFrequency = g.phaseTaps.every((m) => m === 1);
  const small = Math.min(rows, cols);
  const big = Math.max(rows, cols);
  const budget = options.budgetFlops ?? BOUND_BUDGET_FLOPS;
  const frequenciesOf = (grid: number[]): number => Math.ceil(grid.reduce((a, b) => a * b, 1) / 2) + 1;
  const directCost = (grid: number[]): number =>
    // First product m·n² and later ones n³ complex multiply-adds (8 flops each), plus the DFT.
    group * frequenciesOf(grid) * (8 * big * small * small + EXPECTED_PRODUCTS * 8 * small ** 3 + 8 * rows * cInPerGroup * taps);
  const plan = planTapGram(rows, cInPerGroup, layout, phases);
  const tapCost = (grid: number[]): number =>
    group * (plan.setupFlops + frequenciesOf(grid) * (plan.flopsPerFrequency + EXPECTED_PRODUCTS * 8 * plan.n ** 3));
  const choice = options.convGram ?? 'auto';
  const baseGrid = singleFrequency ? g.grid.map(() => 1) : g.grid;
  // To choose, the Gram iteration term is replaced by one Cholesky certificate per block (most
  // blocks need only that). The tap path's rounding bound is looser (tap-gram.ts), so it must be
  // clearly cheaper to be chosen.
  const frequencies = frequenciesOf(baseGrid);
  const directForming = frequencies * (8 * big * small * small + 8 * rows * cInPerGroup * taps + CERTIFY_FLOPS * small ** 3);
  const tapForming = plan.setupFlops + frequencies * (plan.flopsPerFrequency + CERTIFY_FLOPS * plan.n ** 3);
  // Memory: the stacked D_δ (float32, plus tfjs's and XNNPACK's copies) stay under TAP_STACK_MAX_FLOATS.
  const fitsMemory = (2 * plan.shifts.length - 1) * plan.n * plan.n <= TAP_STACK_MAX_FLOATS;
  const useTaps = choice === 'taps' || (choice === 'auto' && fitsMemory && tapForming < TAP_PATH_ADVANTAGE * directForming);
  const costOf = useTaps ? tapCost : directCost;
  const baseCost = costOf(baseGrid);
  if (small > 1 && baseCost > budget) {
    return tapSumBound(weight, cOut, cInPerGroup, group, taps, options, `circular DFT bound would cost ~${(baseCost / 1e9).toFixed(0)} GFLOP`);
  }
  // Every N ≥ the minimal grid gives a valid bound (step 3), so the smallest of a few is valid too.
  const grids = [baseGrid];
  const points = baseGrid.reduce((a, b) => a * b, 1);
  if (!singleFrequency && points <= EXTRA_GRID_MAX_POINTS) {
    let spent = baseCost;
    for (let extra = 1; extra <= EXTRA_GRIDS; extra++) {
      const grid = baseGrid.map((n) => n + extra);
      spent += costOf(grid);
      if (spent <= Math.min(budget, EXTRA_GRID_BUDGET_FLOPS)) grids.push(grid);
    }
  }
  // The DFT's rounding margin applies only to blocks formed directly (the tap path carries its own).
  const dftErrors = useTaps ? [] : Array.from({ length: group }, (_, gi) => dftError(groupWeights(weight, gi, rows, cInPerGroup, taps), taps));
  let best: GridResult | null = null;
  const tapGrams = useTaps ? Array.from({ length: group }, (_, gi) => new TapGram(groupWeights(weight, gi, rows, cInPerGroup, taps), rows, cInPerGroup, layout, plan)) : null;
  try {
    for (const grid of grids) {
      const result = gridBound(weight, rows, cInPerGroup, group, layout, grid, dftErrors, tapGrams, best?.value ?? Infinity, options);
      if (result === 'stopped') {
        if (best) break;
        // The max over unvisited blocks is unknown: fall back to a bound that needs no frequencies.
        return tapSumBound(weight, cOut, cInPerGroup, group, taps, {}, 'stopped early');
      }
      if (result && (!best || result.value < best.value)) best = result;
    }
  } finally {
    tapGrams?.forEach((tapGram) => tapGram.dispose());
  }
  if (!best) return tapSumBound(weight, cOut, cInPerGroup, group, taps, {}, 'no grid finished');
  const engineText = [...best.engines].map(describeEngine).join(' / ') || 'none needed';
  const what = singleFrequency
    ? 'single-tap polyphase kernel: exact reduction to one matrix'
    : `circular embedding on a ${best.grid.join('x')} grid (best of ${grids.length} sizes), max over ${best.frequencies} DFT frequencies`;
  const polyphase = phases > 1 ? `, polyphase ${g.strides.join('x')}` : '';
  const seeded = options.lowerBound !== undefined && best.value === options.lowerBound ? '; every block proven ≤ the solver estimate' : '';
  const cholesky = best.certified > 0 ? `; ${best.certified} blocks proven ≤ the max by a Cholesky factorisation` : '';
  const raisedText = best.raised > 0 ? `; ${best.raised} blocks above it proven ≤ a target set from their Lanczos estimate, by one factorisation` : '';
  const tapText = useTaps ? `; Gram matrices assembled from kernel-tap products (${plan.side} side)` : '';
  const gramText = best.maxSteps > 0 ? `; Gram iteration ≤ ${best.maxSteps} products (${engineText})` : '';
  return { value: best.value, method: `${what}${polyphase}${tapText}${gramText}${cholesky}${raisedText}${seeded}` };
}

interface GridResult {
  value: number;
  grid: number[];
  frequencies: number;
  maxSteps: number;
  engines: Set<GramResult['engine']>;
  /** Blocks proven ≤ the running max by the Cholesky certificate. */
  certified: number;
  /** Blocks that raised the max to their estimate plus a margin, proven by the certificate. */
  raised: number;
}

function groupWeights(weight: Float32Array, gi: number, rows: number, cInPerGroup: number, taps: number): Float32Array {
  return weight.subarray(gi * rows * cInPerGroup * taps, (gi + 1) * rows * cInPerGroup * taps);
}

/**
 * DFT rounding: each entry of K̂' is a sum of ≤ T products W·e^{−iθ}, cos/sin accurate to 2^-46
 * (angle rounding included), so |ΔK̂'| ≤ √2 (2^-46 + γ_{2T+2}) Σ_t |W_t| per entry and
 * ||ΔK̂'||_2 ≤ ||ΔK̂'||_F ≤ √2 (2^-46 + γ_{2T+2}) √T ||W_group||_F.
 */
function dftError(w: Float32Array, taps: number): number {
  let sum = 0;
  for (const v of w) sum += v * v;
  return Math.SQRT2 * (2 ** -46 + gamma(2 * taps + 2, UNIT_ROUNDOFF_F64)) * Math.sqrt(taps * sum) * 1.01;
}

/**
 * max over groups and frequencies of the certified per-block bounds on one grid; null as soon as
 * it reaches `abandonAtOrAbove` (another grid already did better), 'stopped' on cancellation.
 */
function gridBound(
  weight: Float32Array,
  rows: number,
  cInPerGroup: number,
  group: number,
  layout: TapLayout,
  grid: number[],
  dftErrors: number[],
  tapGrams: TapGram[] | null,
  abandonAtOrAbove: number,
  options: BoundOptions,
): GridResult | null | 'stopped' {
  const spectrum = halfSpectrum(grid);
  const cols = cInPerGroup * layout.phases;
  const weightsOf = (gi: number): Float32Array => groupWeights(weight, gi, rows, cInPerGroup, layout.taps);
  // Rough ||K̂'(ω)||_F² per (group, frequency) via the kernel autocorrelation, to visit the largest
  // blocks first (only an ordering heuristic: pruning against the running max stays exact).
  const order = visitOrder(weightsOf, group, rows, cInPerGroup, layout, grid, spectrum.indices);
  // Seeding the running max with L is valid: each block is either bounded (and raises the max to
  // its bound) or proven ≤ the max by its own certified bound, so the returned max ≥ every σ1(K̂').
  const seed = options.lowerBound;
  let best = seed !== undefined && Number.isFinite(seed) && seed > 0 ? seed : 0;
  let maxSteps = 0;
  let certified = 0;
  let raised = 0;
  const engines = new Set<GramResult['engine']>();
  /** Assembled tap-path Gram matrices by position in `order`, a batch ahead. */
  const assembled = new Map<number, FirstGramProduct | null>();
  const assemble = (position: number): FirstGramProduct | null => {
    if (!assembled.has(position) && tapGrams) {
      const tapGram = tapGrams[order[position].groupIndex];
      const positions: number[] = [];
      // The next blocks of the same group that may still need their Gram matrix.
      for (let p = position; p < order.length && positions.length < tapGram.batch; p++) {
        if (order[p].groupIndex === order[position].groupIndex && order[p].frobeniusBound > best) positions.push(p);
      }
      const frequencies = positions.map((p) => order[p].frequency);
      const products = tapGram.firstProducts(frequencies.map((f) => spectrum.indices[f]), frequencies.map((f) => spectrum.selfConjugate[f]), grid);
      positions.forEach((p, k) => assembled.set(p, products[k]));
    }
    const first = assembled.get(position) ?? null;
    assembled.delete(position);
    return first;
  };
  for (const [position, { groupIndex, frequency, frobeniusBound }] of order.entries()) {
    if (options.shouldStop?.()) return 'stopped';
    // σ1 ≤ ||·||_F: this block (and, in this order, most later ones) cannot raise the max.
    if (frobeniusBound <= best) continue;
    let first: FirstGramProduct | null | undefined;
    let margin: number;
    let dense: DenseBlock | undefined;
    if (tapGrams) {
      // The assembled Gram matrix carries its whole rounding in ε₀: no DFT margin.
      margin = 0;
      first = assemble(position);
      if (!first) continue; // a zero block
    } else {
      const block = frequencyBlock(weightsOf(groupIndex), rows, cInPerGroup, layout, grid, spectrum.indices[frequency], spectrum.selfConjugate[frequency]);
      margin = dftErrors[groupIndex];
      // Wide blocks come conjugate-transposed (tall, same σ1), the orientation the Gram code works in.
      dense = cols > rows ? { rows: cols, cols: rows, re: block.re, im: block.im } : { rows, cols, re: block.re, im: block.im };
      if (Math.min(rows, cols) >= CERTIFY_MIN_SIZE) first = firstGramProduct(dense);
    }
    // A block proven ≤ the running max by one Cholesky factorisation needs no Gram iteration.
    // A block above it is proven ≤ its own Lanczos estimate plus a small margin by one more
    // factorisation, which then becomes the max. Gram iteration is the fallback for both.
    if (first && (first.n >= CERTIFY_MIN_SIZE || first.n <= CERTIFY_JS_MAX_SIZE)) {
      // A single block's σ1 IS the layer's σ, so the caller's estimate L (from below) is its
      // estimate too, and certifying against L itself would all but surely fail.
      const onlyBlock = order.length === 1 && seed !== undefined && Number.isFinite(seed) && seed > 0;
      if (!onlyBlock && best > margin && certifyNormAtMost(first, best - margin, { shouldStop: options.shouldStop })) {
        certified++;
        continue;
      }
      const lambda = onlyBlock ? ((seed as number) * 2 ** -first.scaleExp) ** 2 : largestEigenvalueEstimate(first.n, first.re, first.im);
      const proven = first;
      // These few factorisations set the bound's value: the narrower panel halves their shift.
      const target = RAISE_MARGINS.map((m) => certificateTarget(proven, lambda * (1 + m), RAISE_PANEL)).find(
        (t) => t > best - margin && certifyNormAtMost(proven, t, { shouldStop: options.shouldStop, panel: RAISE_PANEL }),
      );
      if (target !== undefined) {
        raised++;
        best = Math.max(best, target + margin);
        if (best >= abandonAtOrAbove) return null;
        continue;
      }
    }
    const gramOptions = { maxSteps: GRAM_MAX_STEPS, stopAtOrBelow: Math.max(0, best - margin), shouldStop: options.shouldStop };
    const result = first ? gramBoundFromFirst(first, gramOptions) : gramSpectralBound(dense as DenseBlock, gramOptions);
    best = Math.max(best, result.bound + margin);
    maxSteps = Math.max(maxSteps, result.steps);
    engines.add(result.engine);
    if (best >= abandonAtOrAbove) return null;
  }
  return { value: best, grid, frequencies: spectrum.indices.length, maxSteps, engines, certified, raised };
}

interface VisitItem {
  groupIndex: number;
  frequency: number;
  /** Certified upper bound on ||K̂'(ω)||_F (exact DFT), hence on σ1(K̂'(ω)). */
  frobeniusBound: number;
}

/**
 * ||K̂'(ω)||_F² = Σ_{t,u same phase} C(t,u) cos(ω·(m_t − m_u)) with C(t,u) = Σ_{o,i} W_oit W_oiu (the
 * kernel autocorrelation), so every block's Frobenius norm costs one term per offset difference
 * δ = m_t − m_u instead of a DFT: c_δ = Σ C(t,u) over the pairs with that δ (C is symmetric, so
 * each unordered pair is taken once, twice weighted, and δ and −δ share a cosine). Float64
 * rounding: C has |ΔC| ≤ γ_R A(t,u) with A = Σ|W_t||W_u|, the grouping and the frequency sum add at
 * most 2P more terms, the cosines 2^-46; so the total error is ≤ (γ_{R+2P+4} + 2^-45) Σ A(t,u)
 * (P ordered pairs). Blocks are visited largest first (heuristic).
 */
function visitOrder(
  blockWeights: (gi: number) => Float32Array,
  group: number,
  rows: number,
  cInPerGroup: number,
  layout: TapLayout,
  grid: number[],
  frequencies: Int32Array[],
): VisitItem[] {
  const { taps, phase, offsets } = layout;
  const rank = grid.length;
  // Unordered same-phase pairs t ≤ u, and for each its offset-difference class.
  const first: number[] = [];
  const second: number[] = [];
  const weight: number[] = [];
  const classOf: number[] = [];
  const classKeys = new Map<string, number>();
  const classShifts: number[][] = [];
  let orderedPairs = 0;
  for (let t = 0; t < taps; t++) {
    for (let u = t; u < taps; u++) {
      if (phase[t] !== phase[u]) continue;
      orderedPairs += t === u ? 1 : 2;
      const shift = offsets.map((axis) => axis[t] - axis[u]);
      // δ and −δ have the same cosine: one class, keyed by the lexicographically larger sign.
      const negated = shift.map((d) => -d);
      const canonical = shift.join() > negated.join() ? shift : negated;
      const key = canonical.join();
      let index = classKeys.get(key);
      if (index === undefined) {
        index = classShifts.length;
        classKeys.set(key, index);
        classShifts.push(canonical);
      }
      first.push(t);
      second.push(u);
      weight.push(t === u ? 1 : 2);
      classOf.push(index);
    }
  }
  const pairCount = first.length;
  const errorFactor = gamma(rows * cInPerGroup + 2 * orderedPairs + 4, UNIT_ROUNDOFF_F64) + 2 ** -45;
  const order: VisitItem[] = [];
  for (let gi = 0; gi < group; gi++) {
    const w = blockWeights(gi);
    const correlation = new Float64Array(pairCount);
    let absoluteTotal = 0;
    for (let oi = 0; oi < rows * cInPerGroup; oi++) {
      const base = oi * taps;
      for (let p = 0; p < pairCount; p++) {
        const product = w[base + first[p]] * w[base + second[p]];
        correlation[p] += product;
        absoluteTotal += weight[p] * Math.abs(product);
      }
    }
    const byClass = new Float64Array(classShifts.length);
    for (let p = 0; p < pairCount; p++) byClass[classOf[p]] += weight[p] * correlation[p];
    const error = errorFactor * absoluteTotal * 1.01;
    for (let f = 0; f < frequencies.length; f++) {
      const j = frequencies[f];
      let score = 0;
      for (let c = 0; c < classShifts.length; c++) {
        const shift = classShifts[c];
        let turns = 0;
        for (let a = 0; a < rank; a++) turns += ((j[a] * shift[a]) % grid[a]) / grid[a];
        score += byClass[c] * Math.cos(2 * Math.PI * turns);
      }
      order.push({ groupIndex: gi, frequency: f, frobeniusBound: Math.sqrt(Math.max(0, score + error)) * SCALAR_SAFETY });
    }
  }
  order.sort((a, b) => b.frobeniusBound - a.frobeniusBound);
  return order;
}

/** K̂'(ω) for one group (rows = output channels, cols = (input channel, phase)), float64; K̂'(ω)ᴴ when cols > rows. */
function frequencyBlock(
  w: Float32Array,
  rows: number,
  cInPerGroup: number,
  layout: TapLayout,
  grid: number[],
  j: Int32Array,
  selfConjugate: boolean,
): { re: Float64Array; im: Float64Array | null } {
  const { taps, phases, phase, offsets } = layout;
  const cols = cInPerGroup * phases;
  const cos = new Float64Array(taps);
  const sin = new Float64Array(taps);
  for (let t = 0; t < taps; t++) [cos[t], sin[t]] = dftPhase(j, grid, (a) => offsets[a][t]);
  const re = new Float64Array(rows * cols);
  const im = selfConjugate ? null : new Float64Array(rows * cols);
  // Wide blocks are written as K̂'ᴴ (cols × rows): entry (o, c) goes to (c, o), imaginary part negated.
  const transposed = cols > rows;
  const at = (o: number, c: number): number => (transposed ? c * rows + o : o * cols + c);
  const imSign = transposed ? -1 : 1;
  for (let o = 0; o < rows; o++) {
    for (let i = 0; i < cInPerGroup; i++) {
      const base = (o * cInPerGroup + i) * taps;
      const column = i * phases;
      if (phases === 1) {
        // One phase: the same sums in the same order, kept in locals (the common stride-1 case).
        let sumRe = 0;
        let sumIm = 0;
        for (let t = 0; t < taps; t++) {
          const v = w[base + t];
          sumRe += v * cos[t];
          sumIm += v * sin[t];
        }
        const index = at(o, column);
        re[index] = sumRe;
        if (im) im[index] = imSign * sumIm;
        continue;
      }
      for (let t = 0; t < taps; t++) {
        const v = w[base + t];
        if (v === 0) continue;
        const index = at(o, column + phase[t]);
        re[index] += v * cos[t];
        if (im) im[index] += imSign * v * sin[t];
      }
    }
  }
  return { re, im };
}

/**
 * Fallback valid for any padding, stride and input size: y = Σ_t K_t (S_t x) where S_t selects the
 * inputs read by tap t (an injective selection, norm ≤ 1), so ||A|| ≤ Σ_t ||K_t||_2; max over groups.
 */
function tapSumBound(
  weight: Float32Array,
  cOut: number,
  cInPerGroup: number,
  group: number,
  taps: number,
  options: BoundOptions,
  why: string,
): UpperBound {
  const outPerGroup = cOut / group;
  let best = 0;
  for (let gi = 0; gi < group; gi++) {
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const tap = new Float64Array(outPerGroup * cInPerGroup);
      for (let o = 0; o < outPerGroup; o++) {
        for (let i = 0; i < cInPerGroup; i++) tap[o * cInPerGroup + i] = weight[((gi * outPerGroup + o) * cInPerGroup + i) * taps + t];
      }
      sum += matrixUpperBound(tap, outPerGroup, cInPerGroup, { budgetFlops: options.budgetFlops }).value;
    }
    best = Math.max(best, sum * (1 + (taps + 2) * 2 ** -52));
  }
  return { value: best, method: `sum over kernel taps of ||K_t||_2 (${why})` };
}
