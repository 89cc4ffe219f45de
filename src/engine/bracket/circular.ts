// Certified norms of partial products of wide convolutions without explicit matrices
// (docs/bracket.md, "Wide convolutions: the circular extension").
//
// A segment of a chain is a run of linear groups that all keep one spatial size and layout, made of
// stride-1 'same' convolutions (any kernel, dilation, groups, depthwise), 1x1 convolutions and
// per-channel scalings, with at most one spatial (k > 1) convolution per group, and pointwise maps
// between the groups. On a grid Z_N (per axis N ≥ size + the largest pad) every convolution of the
// segment is R·C·E, C circular, and the zero padding between two groups (the restriction R followed by
// the next embedding E, a coordinate projection) is folded into the activation between them: inside
// the window it is φ, outside it is 0, so its slopes lie in [min(a, 0), max(b, 0)]. The segment is
// then exactly a chain of circular maps and pointwise activations on the grid (the real values are its
// restriction), and its partial products M̃_{k,j} = C_k c̃ ⋯ c̃ C_{j+1} are circular: block-diagonal
// in the unitary DFT, ||M̃_{k,j}|| = max over the grid frequencies ω of σ1(S_k(ω) ⋯ S_{j+1}(ω))·∏|c̃|,
// S_i(ω) the groups' symbols (c_out × c_in complex). Each block is formed in float64 with a proven
// bound D on its distance to the exact product, and its σ1 bounded by certified Gram iteration
// (bounds/gram.ts): the result is certified, at the cost of one small matrix product per frequency.

import type { IrModel, IrNode } from '../../model/ir';
import type { Chain, Slopes } from './chains';
import { gramSpectralBound } from '../bounds/gram';
import { matrixUpperBound } from '../bounds/dense';
import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';

interface ConvFactor {
  kind: 'conv';
  cOut: number;
  cIn: number;
  group: number;
  /** Input channels per group. */
  cpg: number;
  taps: number;
  /** Canonical [cOut, cpg, taps] weights. */
  weight: Float32Array;
  /** Per axis, per tap: the input offset t·d − padBegin the tap reads (y[p] = Σ_t K_t x[p + δ_t]). */
  offsets: Int32Array[];
  /** ||Ŝ − S||_2 bound of the computed symbol (cos/sin and sums in float64). */
  symbolError: number;
  /** A certified bound on ||S(ω)||_2 valid at every ω (pointwise kernels only: S is the weight matrix). */
  constantNorm?: number;
}

interface DiagonalFactor {
  kind: 'diag';
  /** One multiplier per channel. */
  scale: Float64Array;
  largest: number;
}

type Factor = ConvFactor | DiagonalFactor;

export interface CircularGroup {
  channelsLast: boolean;
  spatial: number[];
  cIn: number;
  cOut: number;
  factors: Factor[];
  /** Contains a spatial convolution: its output outside the window is not zero (the padding it read is cut off after it). */
  truncates: boolean;
  /** Largest pad per axis (begin or end) of its convolutions. */
  pads: number[];
}

/** The group as symbols on a circular grid, or null when it is not a stride-1 same-size map of convs and channel scalings. */
export function circularGroup(model: IrModel, nodes: readonly number[]): CircularGroup | null {
  let layout: { channelsLast: boolean; spatial: number[]; channels: number } | null = null;
  const factors: Factor[] = [];
  let spatialConvs = 0;
  let pads: number[] = [];
  let cIn = 0;
  // Layout from the first convolution (a scaling alone does not say which axis is the channel).
  for (const index of nodes) {
    const node = model.nodes[index];
    if (node.spec.type === 'conv') {
      layout = layoutOf(node.inputShapes[0], node.spec.channelsLast);
      break;
    }
  }
  if (!layout) return null;
  const { channelsLast, spatial } = layout;
  let channels = -1;
  for (const index of nodes) {
    const node = model.nodes[index];
    const inShape = node.inputShapes[0];
    const outShape = node.outputShapes[0];
    if (!inShape || !outShape || inShape.length !== spatial.length + 2) return null;
    const input = layoutOf(inShape, channelsLast);
    const output = layoutOf(outShape, channelsLast);
    if (!sameSizes(input.spatial, spatial) || !sameSizes(output.spatial, spatial)) return null;
    if (channels === -1) {
      channels = input.channels;
      cIn = channels;
    }
    if (input.channels !== channels) return null;
    const spec = node.spec;
    if (spec.type === 'conv') {
      const factor = convFactor(spec, input.channels, output.channels, spatial.length);
      if (!factor || spec.channelsLast !== channelsLast) return null;
      if (factor.taps > 1 || factor.offsets.some((axis) => axis.some((o) => o !== 0))) {
        spatialConvs++;
        pads = spec.padsBegin.map((b, a) => Math.max(pads[a] ?? 0, b, spec.padsEnd[a]));
      }
      factors.push(factor);
    } else if (spec.type === 'diagonal') {
      const axis = channelsLast ? inShape.length - 1 : 1;
      if (spec.axis >= 0 && spec.axis !== axis) return null;
      if (spec.axis >= 0 && spec.scale.length !== channels) return null;
      const scale = Float64Array.from({ length: channels }, (_, i) => spec.scale[spec.axis < 0 ? 0 : i]);
      if (!scale.every(Number.isFinite)) return null;
      factors.push({ kind: 'diag', scale, largest: scale.reduce((m, v) => Math.max(m, Math.abs(v)), 0) });
    } else if (spec.type === 'fixed' && node.execution?.kind === 'reshape' && sameSizes(inShape, outShape)) {
      // A reshape to the same shape is the identity.
    } else {
      return null;
    }
    channels = output.channels;
  }
  // Two spatial convolutions in one group would need the cut between them inside the group.
  if (spatialConvs > 1 || channels <= 0) return null;
  return { channelsLast, spatial, cIn, cOut: channels, factors, truncates: spatialConvs > 0, pads: spatial.map((_, a) => pads[a] ?? 0) };
}

function layoutOf(shape: readonly number[], channelsLast: boolean): { channelsLast: boolean; spatial: number[]; channels: number } {
  return channelsLast
    ? { channelsLast, spatial: shape.slice(1, -1), channels: shape[shape.length - 1] }
    : { channelsLast, spatial: shape.slice(2), channels: shape[1] };
}

function sameSizes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function convFactor(spec: Extract<IrNode['spec'], { type: 'conv' }>, cIn: number, cOut: number, rank: number): ConvFactor | null {
  const dims = spec.weight.dims;
  if (dims.length !== rank + 2 || dims[0] !== cOut) return null;
  const group = spec.group || 1;
  const cpg = dims[1];
  if (cpg * group !== cIn || cOut % group !== 0) return null;
  const kernel = dims.slice(2);
  const taps = kernel.reduce((a, b) => a * b, 1);
  const offsets: Int32Array[] = [];
  for (let a = 0; a < rank; a++) {
    const stride = spec.strides[a] ?? 1;
    const dilation = spec.dilations[a] ?? 1;
    const begin = spec.padsBegin[a] ?? 0;
    const end = spec.padsEnd[a] ?? 0;
    // Same size at stride 1: (k − 1)·d = begin + end.
    if (stride !== 1 || begin < 0 || end < 0 || (kernel[a] - 1) * dilation !== begin + end) return null;
    offsets.push(new Int32Array(taps));
  }
  for (let t = 0; t < taps; t++) {
    let rest = t;
    for (let a = rank - 1; a >= 0; a--) {
      const k = rest % kernel[a];
      rest = Math.floor(rest / kernel[a]);
      offsets[a][t] = k * (spec.dilations[a] ?? 1) - (spec.padsBegin[a] ?? 0);
    }
  }
  const weight = spec.weight.data;
  if (!weight.every(Number.isFinite)) return null;
  const trivialPhase = taps === 1 && offsets.every((axis) => axis[0] === 0);
  let symbolError = 0;
  if (!trivialPhase) {
    // Each entry is Σ_t W_t e^{iθ_t}: cos/sin to 2^-46 (angle rounding included) and the sums'
    // γ, so ||ΔS||_F ≤ √2 (2^-46 + γ_{2T+2}) √T ||W||_F (as bounds/conv.ts's DFT blocks).
    let sum = 0;
    for (const v of weight) sum += v * v;
    symbolError = Math.SQRT2 * (2 ** -46 + gamma(2 * taps + 2, UNIT_ROUNDOFF_F64)) * Math.sqrt(taps * sum) * 1.01;
  }
  const factor: ConvFactor = { kind: 'conv', cOut, cIn, group, cpg, taps, weight, offsets, symbolError };
  if (trivialPhase) {
    // S(ω) = W at every frequency: its certified norm once (block-diagonal over groups).
    const rows = cOut / group;
    let largest = 0;
    for (let g = 0; g < group; g++) {
      const block = new Float64Array(rows * cpg);
      for (let o = 0; o < rows; o++) for (let i = 0; i < cpg; i++) block[o * cpg + i] = weight[(g * rows + o) * cpg + i];
      largest = Math.max(largest, matrixUpperBound(block, rows, cpg).value);
    }
    factor.constantNorm = largest;
  }
  return factor;
}

/** One run of groups [first, last] (1-based group numbers of the chain) on one grid. */
export interface CircularSegment {
  first: number;
  last: number;
  grid: number[];
  groups: CircularGroup[];
}

/**
 * The chain's segments (at least one group each), and the slopes of every non-linear map of the chain
 * in the circular representation: widened to contain 0 where the map follows a group that truncates
 * inside a segment (the cut-off padding is folded into it), unchanged elsewhere.
 */
export function circularSegments(model: IrModel, chain: Chain): { segments: CircularSegment[]; slopes: Slopes[] } {
  const K = chain.linear.length;
  const groups = chain.linear.map((nodes) => (nodes.length > 0 ? circularGroup(model, nodes) : null));
  const slopes = chain.nonlinear.map((n) => n.slopes);
  const segments: CircularSegment[] = [];
  let current: CircularSegment | null = null;
  for (let i = 1; i <= K; i++) {
    const group = groups[i - 1];
    if (!group) {
      current = null;
      continue;
    }
    const previous = current ? current.groups[current.groups.length - 1] : null;
    const between = i > 1 ? chain.nonlinear[i - 2] : null;
    const joins =
      current !== null &&
      previous !== null &&
      between !== null &&
      previous.channelsLast === group.channelsLast &&
      sameSizes(previous.spatial, group.spatial) &&
      previous.cOut === group.cIn &&
      pointwise(model.nodes[between.index]);
    if (joins && current) {
      current.groups.push(group);
      current.last = i;
      if (previous?.truncates) slopes[i - 2] = widened(slopes[i - 2]);
    } else {
      current = { first: i, last: i, grid: [], groups: [group] };
      segments.push(current);
    }
  }
  for (const segment of segments) {
    const spatial = segment.groups[0].spatial;
    segment.grid = spatial.map((size, a) => size + Math.max(0, ...segment.groups.map((g) => g.pads[a])));
  }
  return { segments, slopes };
}

/** Shape-preserving elementwise map (its slopes then act per coordinate). */
function pointwise(node: IrNode): boolean {
  const execution = node.execution;
  if (execution?.kind !== 'activation') return false;
  if (['softmax', 'logSoftmax'].includes(execution.name)) return false;
  return sameSizes(node.inputShapes[0] ?? [], node.outputShapes[0] ?? []);
}

/** φ inside the window and 0 outside it: slopes [min(a, 0), max(b, 0)]. A map with c = 0 (any L-Lipschitz map) stays as it is. */
function widened(s: Slopes): Slopes {
  if (s.c === 0) return s;
  const low = Math.min(s.c - s.rho, 0);
  const high = Math.max(s.c + s.rho, 0);
  return { c: (low + high) / 2, rho: (high - low) / 2, source: `${s.source}; with the cut-off padding: slopes in [${low}, ${high}]` };
}

export interface SegmentOptions {
  /** Longest window (groups). */
  window: number;
  /** Largest estimated cost (flops) of the segment's windows. */
  maxCost: number;
  outOfTime: () => boolean;
  /**
   * The budget's end (performance.now() time): a segment whose remaining frequencies, at the rate of
   * its recent ones, would not be done by then is abandoned at once, leaving the time to cheaper work.
   */
  deadline?: number;
  /**
   * Where the windows' blocks are evaluated: the grid's frequencies (exact max), or the centres of
   * cells covering all frequencies (the sup, through Bernstein's inequality: its cost does not grow
   * with the map); 'auto' takes whichever has fewer points.
   */
  sampling?: 'grid' | 'cells' | 'auto';
}

/** The longest window (≤ `window`) whose estimated cost fits `maxCost` (0: none), and that cost. */
export function segmentPlan(segment: CircularSegment, window: number, maxCost: number): { window: number; cost: number } {
  let w = Math.min(window, segment.last - segment.first + 1);
  const frequencies = Math.min(gridPointCount(segment.grid), cellCover(segment, w).count);
  while (w > 0 && segmentCost(segment, w, frequencies) > maxCost) w--;
  return { window: w, cost: w > 0 ? segmentCost(segment, w, frequencies) : 0 };
}

/**
 * Certified bounds on ||M̃_{k,j}|| for the windows of one segment (j + 1 ≥ first, k ≤ last,
 * k − j ≤ the window), keyed `${k},${j}` with k, j the chain's group numbers; c̃ the segment's
 * slopes. The window shrinks until the estimated cost fits `maxCost`; null when not even single
 * groups fit, or when the time budget ran out (every frequency must be visited for any result).
 *
 * Per frequency, windows are visited by start j from the last down and length up, so a window's
 * splits at that frequency, ||S_k⋯S_{m+1}||·||S_m⋯S_{j+1}||, are already certified: a block whose
 * split (or Frobenius) bound is at most the window's running max over frequencies needs no Gram
 * iteration. A single group that is diagonal at every frequency (a depthwise conv or a scaling) or
 * constant (a 1x1 conv) needs no product either.
 */
export function segmentWindowBounds(segment: CircularSegment, c: (m: number) => number, options: SegmentOptions): Map<string, number> | null {
  const groupOf = (i: number) => segment.groups[i - segment.first];
  const { window } = segmentPlan(segment, options.window, options.maxCost);
  if (window === 0) return null;
  const cover = cellCover(segment, window);
  const sampling = options.sampling ?? 'auto';
  const useCells = sampling === 'cells' || (sampling === 'auto' && cover.count < gridPointCount(segment.grid));
  const frequencies: Frequency[] = useCells ? cover.centres().map((omega) => ({ omega })) : halfSpectrum(segment.grid).map((index) => ({ index, omega: Float64Array.from(index, (j, a) => (2 * Math.PI * j) / segment.grid[a]) }));
  // Cells: the angles ω·offset are rounded in float64 (the grid's are exact fractions of a turn).
  const errorScale = useCells ? cover.phaseErrorScale : 1;
  // When each frequency was done, for the projection against the deadline.
  const doneAt = new Float64Array(frequencies.length);
  const first = segment.first;
  const last = segment.last;
  // best[k][j]: max over the frequencies so far of the bound on ||S_k⋯S_{j+1}(ω)||.
  const best = Array.from({ length: last + 1 }, () => new Float64Array(last + 1));
  for (let f = 0; f < frequencies.length; f++) {
    const frequency = frequencies[f];
    if (options.deadline !== undefined && f >= 16) {
      // The rate of the latest half: the first frequencies are the slowest (every block needs its
      // Gram iteration until the running maxima settle).
      const now = performance.now();
      const half = f >> 1;
      const projected = now + ((now - doneAt[half]) / (f - 1 - half)) * (frequencies.length - f);
      if (projected > options.deadline) return null;
    }
    const here = Array.from({ length: last + 1 }, () => new Float64Array(last + 1).fill(Infinity));
    const phases = new Map<ConvFactor, { cos: Float64Array; sin: Float64Array }>();
    for (let j = last - 1; j >= first - 1; j--) {
      let product: Block | null = null;
      for (let k = j + 1; k <= Math.min(last, j + window); k++) {
        // Wide groups make one frequency long too (a 512-channel window: seconds), so a cancel is
        // also checked per block.
        if (options.outOfTime()) return null;
        const group = groupOf(k);
        const known = k === j + 1 ? singleGroupNorm(group, frequency, segment.grid, phases, errorScale) : undefined;
        for (const factor of group.factors) product = apply(factor, product, frequency, segment.grid, phases, errorScale);
        if (!product) {
          here[k][j] = 1; // no factors: the identity
          best[k][j] = Math.max(best[k][j], 1);
          continue;
        }
        let bound = frobeniusOf(product) + product.error;
        if (known !== undefined) bound = Math.min(bound, known);
        for (let m = j + 1; m < k; m++) bound = Math.min(bound, here[k][m] * here[m][j] * SCALAR_SAFETY);
        if (bound > best[k][j] && known === undefined) {
          const certified = gramSpectralBound({ rows: product.rows, cols: product.cols, re: product.re, im: product.im }, { maxSteps: 8, stopAtOrBelow: Math.max(0, best[k][j] - product.error) }).bound;
          bound = Math.min(bound, certified + product.error);
        }
        here[k][j] = bound;
        best[k][j] = Math.max(best[k][j], bound);
      }
    }
    doneAt[f] = performance.now();
  }
  const out = new Map<string, number>();
  for (let j = first - 1; j < last; j++) {
    for (let k = j + 1; k <= Math.min(last, j + window); k++) {
      let scalars = 1;
      for (let m = j + 1; m < k; m++) scalars *= Math.abs(c(m));
      // Cells: sup over every ω ≤ (max over the centres)/√f for the window's degree (cellCover).
      const inflation = useCells ? cover.inflation(k, j) : 1;
      out.set(`${k},${j}`, best[k][j] * scalars * inflation * SCALAR_SAFETY);
    }
  }
  return out;
}

/**
 * ||S(ω)|| of a group that is one factor diagonal in channels (a depthwise conv, a scaling: the largest
 * |entry|, plus the symbol's error) or one constant 1x1 conv (its certified norm); else undefined.
 */
function singleGroupNorm(group: CircularGroup, frequency: Frequency, grid: number[], cache: Map<ConvFactor, { cos: Float64Array; sin: Float64Array }>, errorScale: number): number | undefined {
  if (group.factors.length !== 1) return undefined;
  const factor = group.factors[0];
  if (factor.kind === 'diag') return factor.largest;
  if (factor.constantNorm !== undefined) return factor.constantNorm;
  if (factor.cpg !== 1 || factor.cOut !== factor.cIn) return undefined;
  const { cos, sin } = phasesOf(factor, frequency, grid, cache);
  let largest = 0;
  for (let o = 0; o < factor.cOut; o++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < factor.taps; t++) {
      const w = factor.weight[o * factor.taps + t];
      sr += w * cos[t];
      si += w * sin[t];
    }
    largest = Math.max(largest, Math.hypot(sr, si));
  }
  return (largest * (1 + 4 * UNIT_ROUNDOFF_F64) + factor.symbolError * errorScale) * SCALAR_SAFETY;
}

function phasesOf(factor: ConvFactor, frequency: Frequency, grid: number[], cache: Map<ConvFactor, { cos: Float64Array; sin: Float64Array }>): { cos: Float64Array; sin: Float64Array } {
  let phase = cache.get(factor);
  if (!phase) {
    phase = { cos: new Float64Array(factor.taps), sin: new Float64Array(factor.taps) };
    const { index, omega } = frequency;
    for (let t = 0; t < factor.taps; t++) {
      let angle = 0;
      if (index) {
        // Grid frequencies: exact fractions of a turn, reduced before the one rounding.
        let turns = 0;
        for (let a = 0; a < grid.length; a++) {
          const n = grid[a];
          turns += ((((index[a] * factor.offsets[a][t]) % n) + n) % n) / n;
        }
        angle = 2 * Math.PI * turns;
      } else {
        for (let a = 0; a < omega.length; a++) angle += omega[a] * factor.offsets[a][t];
      }
      phase.cos[t] = Math.cos(angle);
      phase.sin[t] = Math.sin(angle);
    }
    cache.set(factor, phase);
  }
  return phase;
}

/** A complex block (rows × cols row-major) with a bound on its distance (2-norm) to the exact product. */
interface Block {
  rows: number;
  cols: number;
  re: Float64Array;
  im: Float64Array;
  error: number;
}

/** factor · product (the identity when product is null), with its error bound carried on. */
function apply(factor: Factor, product: Block | null, frequency: Frequency, grid: number[], cache: Map<ConvFactor, { cos: Float64Array; sin: Float64Array }>, errorScale: number): Block {
  const rows = factor.kind === 'conv' ? factor.cOut : factor.scale.length;
  const inner = factor.kind === 'conv' ? factor.cIn : factor.scale.length;
  const cols = product ? product.cols : inner;
  const re = new Float64Array(rows * cols);
  const im = new Float64Array(rows * cols);
  // The identity start is exact and has norm 1.
  const inRe = product?.re;
  const inIm = product?.im;
  const productNorm = product ? frobeniusOf(product) : 1;
  const carried = product?.error ?? 0;
  if (factor.kind === 'diag') {
    for (let o = 0; o < rows; o++) {
      const s = factor.scale[o];
      for (let col = 0; col < cols; col++) {
        const at = o * cols + col;
        if (inRe && inIm) {
          re[at] = s * inRe[at];
          im[at] = s * inIm[at];
        } else if (col === o) re[at] = s;
      }
    }
    // One rounding per entry; the exact scaling has norm max|s|.
    const error = factor.largest * carried + UNIT_ROUNDOFF_F64 * factor.largest * productNorm;
    return { rows, cols, re, im, error };
  }
  const { cos, sin } = phasesOf(factor, frequency, grid, cache);
  const { cpg, taps, weight } = factor;
  const rowsPerGroup = factor.cOut / factor.group;
  const symbolRe = new Float64Array(cpg);
  const symbolIm = new Float64Array(cpg);
  let symbolFrobenius2 = 0;
  let symbolOne = new Float64Array(factor.cIn);
  let symbolInf = 0;
  for (let o = 0; o < rows; o++) {
    const g = Math.floor(o / rowsPerGroup);
    let rowSum = 0;
    for (let i = 0; i < cpg; i++) {
      let sr = 0;
      let si = 0;
      const base = (o * cpg + i) * taps;
      for (let t = 0; t < taps; t++) {
        const w = weight[base + t];
        sr += w * cos[t];
        si += w * sin[t];
      }
      symbolRe[i] = sr;
      symbolIm[i] = si;
      const magnitude = Math.hypot(sr, si);
      symbolFrobenius2 += sr * sr + si * si;
      rowSum += magnitude;
      symbolOne[g * cpg + i] += magnitude;
    }
    symbolInf = Math.max(symbolInf, rowSum);
    const out = o * cols;
    for (let i = 0; i < cpg; i++) {
      const sr = symbolRe[i];
      const si = symbolIm[i];
      if (sr === 0 && si === 0) continue;
      const source = (g * cpg + i) * cols;
      if (inRe && inIm) {
        for (let col = 0; col < cols; col++) {
          const pr = inRe[source + col];
          const pi = inIm[source + col];
          re[out + col] += sr * pr - si * pi;
          im[out + col] += sr * pi + si * pr;
        }
      } else {
        re[out + g * cpg + i] = sr;
        im[out + g * cpg + i] = si;
      }
    }
  }
  const symbolFrobenius = Math.sqrt(symbolFrobenius2) * (1 + 1e-15 * (factor.cIn + 4));
  let largestColumn = 0;
  for (const v of symbolOne) largestColumn = Math.max(largestColumn, v);
  symbolOne = new Float64Array(0);
  // ||S||_2 ≤ √(||S||_1 ||S||_∞) and ≤ ||S||_F (of the computed symbol, inflated for their own rounding), plus its error.
  const computedNorm = factor.constantNorm ?? Math.min(symbolFrobenius, Math.sqrt(largestColumn * symbolInf) * (1 + 1e-15 * (factor.cIn + factor.cOut + 4)));
  const symbolError = factor.symbolError * errorScale;
  const exactNorm = computedNorm + symbolError;
  // ||S P − fl(Ŝ P̂)|| ≤ ||S|| ||P − P̂|| + ||S − Ŝ|| ||P̂|| + ||Ŝ P̂ − fl(Ŝ P̂)||; the last is entrywise
  // ≤ √2 γ_{2n+4} (|Ŝ||P̂|), complex sums of n = cpg terms, so in Frobenius ≤ √2 γ ||Ŝ||_F ||P̂||_F.
  const rounding = product ? Math.SQRT2 * gamma(2 * cpg + 4, UNIT_ROUNDOFF_F64) * symbolFrobenius * productNorm : 0;
  const error = exactNorm * carried + symbolError * productNorm + rounding;
  return { rows, cols, re, im, error: error * SCALAR_SAFETY };
}

function frobeniusOf(block: Block): number {
  let sum = 0;
  for (let i = 0; i < block.re.length; i++) sum += block.re[i] * block.re[i] + block.im[i] * block.im[i];
  return Math.sqrt(sum * (1 + gamma(2 * block.re.length + 2, UNIT_ROUNDOFF_F64)) + block.re.length * 2 ** -1074) * SCALAR_SAFETY;
}

/** Frequency index vectors on the grid, one of each conjugate pair ±ω (real weights: conjugate blocks, same σ1). */
function halfSpectrum(grid: number[]): Int32Array[] {
  const total = grid.reduce((a, b) => a * b, 1);
  const out: Int32Array[] = [];
  for (let flat = 0; flat < total; flat++) {
    const j = new Int32Array(grid.length);
    const negated = new Int32Array(grid.length);
    let rest = flat;
    for (let a = grid.length - 1; a >= 0; a--) {
      j[a] = rest % grid[a];
      negated[a] = (grid[a] - j[a]) % grid[a];
      rest = Math.floor(rest / grid[a]);
    }
    let negatedFlat = 0;
    for (let a = 0; a < grid.length; a++) negatedFlat = negatedFlat * grid[a] + negated[a];
    if (negatedFlat >= flat) out.push(j);
  }
  return out;
}

/** Flops of all windows up to `window` long: each group applied to each start's block, and a few Gram products per block. */
function segmentCost(segment: CircularSegment, window: number, frequencies: number): number {
  let cost = 0;
  for (let j = segment.first - 1; j < segment.last; j++) {
    const cols = segment.groups[j + 1 - segment.first].cIn;
    for (let k = j + 1; k <= Math.min(segment.last, j + window); k++) {
      const group = segment.groups[k - segment.first];
      // From the identity start a factor costs its symbol; on a block, a product with `cols` columns.
      group.factors.forEach((f, index) => {
        const width = k === j + 1 && index === 0 ? 0 : cols;
        cost += f.kind === 'conv' ? 8 * f.cOut * f.cpg * (width + f.taps) : 2 * f.scale.length * Math.max(width, 1);
      });
      // One Gram product per block on average (most are settled by their splits).
      const small = Math.min(group.cOut, cols);
      const big = Math.max(group.cOut, cols);
      if (k > j + 1 || group.factors.length > 1) cost += 8 * big * small * small;
    }
  }
  return cost * frequencies;
}

/** A frequency: grid indices (exact phases) or a point ω in radians (a cell centre). */
interface Frequency {
  index?: Int32Array;
  omega: Float64Array;
}

function gridPointCount(grid: number[]): number {
  return Math.floor(grid.reduce((a, b) => a * b, 1) / 2) + 1;
}

/** The largest spread Σ_a D_a·h_a of a cell for the longest window: f = 1 − ¼·0.6² = 0.91. */
const CELL_SPREAD = 0.6;

/**
 * Box cells covering ω_1 ∈ [0, π] (σ1(S(−ω)) = σ1(S(ω)) for real weights) and [0, 2π) on the other
 * active axes, sized for the windows up to `window` groups (docs/bracket.md, "Large maps: the sup
 * over cells"). A window (k, j) is a trigonometric polynomial in ω of degree D_a = Σ of its groups'
 * tap spans on axis a; Bernstein's inequality (as in src/engine/large-input/symbol-sup.ts) gives
 * sup_ω σ1(S_k⋯S_{j+1}(ω)) ≤ max over the centres / √f with f = 1 − ¼(Σ_a D_a h_a)², h_a the cells'
 * half-widths: `inflation(k, j)` is 1/√f.
 */
function cellCover(segment: CircularSegment, window: number): { count: number; centres: () => Float64Array[]; inflation: (k: number, j: number) => number; phaseErrorScale: number } {
  const rank = segment.grid.length;
  // Per group and axis, the span of its taps' offsets (0 for 1x1 convs and scalings).
  const spans = segment.groups.map((group) =>
    Array.from({ length: rank }, (_, a) =>
      group.factors.reduce((sum, f) => {
        if (f.kind !== 'conv' || f.taps === 1) return sum;
        const axis = f.offsets[a];
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of axis) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        return sum + (hi - lo);
      }, 0),
    ),
  );
  const degreeOf = (k: number, j: number): number[] => {
    const d = new Array<number>(rank).fill(0);
    for (let m = j + 1; m <= k; m++) spans[m - segment.first].forEach((v, a) => (d[a] += v));
    return d;
  };
  const longest = new Array<number>(rank).fill(0);
  for (let j = segment.first - 1; j < segment.last; j++) {
    const d = degreeOf(Math.min(segment.last, j + window), j);
    d.forEach((v, a) => (longest[a] = Math.max(longest[a], v)));
  }
  const active = longest.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
  const range = (a: number): number => (a === active[0] ? Math.PI : 2 * Math.PI);
  const counts = longest.map((d, a) => (d > 0 ? Math.max(1, Math.ceil((range(a) * d * active.length) / (2 * CELL_SPREAD))) : 1));
  const half = longest.map((d, a) => (d > 0 ? range(a) / (2 * counts[a]) : 0));
  const total = counts.reduce((a, b) => a * b, 1);
  const centres = (): Float64Array[] => {
    const out: Float64Array[] = [];
    for (let flat = 0; flat < total; flat++) {
      let rest = flat;
      const omega = new Float64Array(rank);
      for (let a = rank - 1; a >= 0; a--) {
        const i = rest % counts[a];
        rest = Math.floor(rest / counts[a]);
        omega[a] = longest[a] > 0 ? (2 * i + 1) * half[a] : 0;
      }
      out.push(omega);
    }
    return out;
  };
  const inflation = (k: number, j: number): number => {
    const spread = degreeOf(k, j).reduce((sum, d, a) => sum + d * half[a], 0);
    const f = 1 - 0.25 * spread * spread;
    return f > 0 ? 1 / Math.sqrt(f) : Infinity;
  };
  // The float64 angle Σ_a ω_a·offset has error ≤ (rank + 1)·u·Σ_a |ω_a||offset| ≤ (rank + 1)·u·2π·Σ_a
  // max|offset|, against the grid's 2^-46 in the symbol's error bound (convFactor): scale that.
  let largestOffset = 0;
  for (const group of segment.groups) {
    for (const f of group.factors) {
      if (f.kind !== 'conv') continue;
      let sum = 0;
      for (const axis of f.offsets) sum += axis.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      largestOffset = Math.max(largestOffset, sum);
    }
  }
  const phaseErrorScale = 1 + ((rank + 1) * UNIT_ROUNDOFF_F64 * 2 * Math.PI * largestOffset) / 2 ** -46;
  return { count: total, centres, inflation, phaseErrorScale };
}
