// Depthwise convolutions (one input channel per group, any channel multiplier m): the layer is a
// direct sum over groups of single-channel convs (each 1 → m), so σ = max over groups of σ_g. A
// group whose certified upper bound on σ_g lies below a certified lower bound on σ of some other
// group cannot hold the max: dropping it leaves σ exactly unchanged. The reduced layer (the kept
// groups only, usually a handful of the hundreds) then goes through the usual paths (symbol-sup,
// or the iterative solver on far fewer channels). docs/large-inputs.md §11.
//
// Upper bound per group (valid for every input size, zero padding, any stride and dilation): the
// infinite strided conv's A·Aᴴ is, on the output lattice, the m × m symbol
// (1/S) Σ_r k̂((ν + 2πr)/s) k̂((ν + 2πr)/s)ᴴ (r over the S = Π s_a aliases, k̂ ∈ ℂ^m the m filters'
// symbols), whose λmax is at most its trace q(ν) = (1/S) Σ_r Σ_j |k̂_j((ν + 2πr)/s)|² (equal for
// m = 1; for stride 1 and any m, q = ||k̂(ν)||² is exact). q is a real trig polynomial of degree
// ⌊(k_a − 1)·dil_a / s_a⌋ along axis a, so by Bernstein's inequality along each axis its sup S*
// over all ν is at most M / (1 − Σ_a deg_a·h_a), M its max on a grid of spacing 2h_a. The finite
// layer is a restriction of the infinite one, so σ_g² ≤ S*. Also σ_g ≤ (Σ_j (Σ_t |w_jt|)²)^½.
// Lower bound: the windowed plane wave of window-lower.ts on the best-looking group.

import type { ConvSpec } from '../../model/ir';
import { convSymbol } from './conv-symbol';
import { locateSymbolPeak } from './symbol-sup';
import { windowLowerBound } from './window-lower';

/** Grid points per axis (before the stride factor) of the successive refinements of the bound. */
const GRID_LEVELS = [32, 128, 1024];
/** Grid points per axis of the estimate that picks the group for the lower bound. */
const ESTIMATE_LEVEL = 16;
/**
 * Float64 rounding of the grid evaluation (T·m terms, table cos/sin, about 1e-15 of (Σ|w|)² per
 * point): covered by this relative margin on M plus a thousandth of it times (Σ|w|)².
 */
const ROUNDING_MARGIN = 1e-9;

export interface DepthwiseReduction {
  /** The layer restricted to the kept groups (same σ), and its input shape. */
  spec: ConvSpec;
  inputShape: number[];
  /** Group indices kept, ascending. */
  kept: number[];
  groups: number;
  /** The certified lower bound on σ that pruned the other groups. */
  lower: number;
  /** Groups pruned at each stage: the sum of |taps|, then each grid level. */
  prunedBy: { taps: number; grid: number[] };
  note: string;
}

/** A depthwise conv: one input channel per group, more than one group. */
export function isDepthwise(spec: ConvSpec): boolean {
  const group = spec.group || 1;
  return group > 1 && spec.weight.dims[1] === 1 && spec.weight.dims[0] % group === 0;
}

/** The layer's groups `kept`, as a conv of their channels only (same σ as the direct sum of those groups). */
export function depthwiseSubset(spec: ConvSpec, inputShape: number[], kept: number[]): { spec: ConvSpec; inputShape: number[] } {
  const group = spec.group || 1;
  const [cOut, , ...kernel] = spec.weight.dims;
  const m = cOut / group;
  const taps = kernel.reduce((a, b) => a * b, 1);
  const data = new Float32Array(kept.length * m * taps);
  kept.forEach((g, i) => data.set(spec.weight.data.subarray(g * m * taps, (g + 1) * m * taps), i * m * taps));
  const shape = [...inputShape];
  shape[spec.channelsLast ? shape.length - 1 : 1] = kept.length;
  return { spec: { ...spec, weight: { ...spec.weight, dims: [kept.length * m, 1, ...kernel], data }, group: kept.length }, inputShape: shape };
}

/** σ_g ≤ (Σ_j (Σ_t |w_jt|)²)^½ for every group (each tap is a shift, of norm ≤ 1). */
export function tapSumBounds(spec: ConvSpec): Float64Array {
  const group = spec.group || 1;
  const [cOut, , ...kernel] = spec.weight.dims;
  const m = cOut / group;
  const taps = kernel.reduce((a, b) => a * b, 1);
  const out = new Float64Array(group);
  for (let g = 0; g < group; g++) {
    let total = 0;
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let t = 0; t < taps; t++) sum += Math.abs(spec.weight.data[(g * m + j) * taps + t]);
      total += sum * sum;
    }
    out[g] = Math.sqrt(total) * (1 + ROUNDING_MARGIN);
  }
  return out;
}

/**
 * Certified upper bound on σ_g (every input size) and the grid's max √M (an estimate of the sup),
 * from q on a grid of `level`·s_a points per axis; bound Infinity when Bernstein's factor is ≥ 1/2.
 */
export function gridBound(spec: ConvSpec, groupIndex: number, level: number): { bound: number; estimate: number } {
  const group = spec.group || 1;
  const [cOut, , ...kernel] = spec.weight.dims;
  const m = cOut / group;
  const rank = kernel.length;
  const taps = kernel.reduce((a, b) => a * b, 1);
  const strides = kernel.map((_, a) => spec.strides[a] ?? 1);
  const dilations = kernel.map((_, a) => spec.dilations[a] ?? 1);
  const sizes = kernel.map((k, a) => (k > 1 ? level * strides[a] : 1));
  const points = sizes.reduce((a, b) => a * b, 1);
  // Per axis: cos/sin of ω_a·t·dil for every grid frequency ω_a = 2πi/N_a and tap t.
  const tables = kernel.map((k, a) => {
    const re = new Float64Array(sizes[a] * k);
    const im = new Float64Array(sizes[a] * k);
    for (let i = 0; i < sizes[a]; i++) {
      for (let t = 0; t < k; t++) {
        // Reduce i·t·dil mod N first: the angle stays in [0, 2π).
        const angle = (2 * Math.PI * ((i * t * dilations[a]) % sizes[a])) / sizes[a];
        re[i * k + t] = Math.cos(angle);
        im[i * k + t] = -Math.sin(angle);
      }
    }
    return { re, im };
  });
  // Separable: per index of the leading axes, the partial sums over their taps for each tap of
  // the last axis (T complex products), then k_last products per point of the last axis.
  const last = rank - 1;
  const kLast = kernel[last];
  const nLast = sizes[last];
  const prefixTaps = taps / kLast;
  const prefixPoints = points / nLast;
  const q = new Float64Array(points);
  const index = new Int32Array(Math.max(1, last));
  const tapIndex = new Int32Array(Math.max(1, last));
  const partRe = new Float64Array(kLast);
  const partIm = new Float64Array(kLast);
  for (let j = 0; j < m; j++) {
    const w = spec.weight.data.subarray((groupIndex * m + j) * taps, (groupIndex * m + j + 1) * taps);
    index.fill(0);
    for (let p = 0; p < prefixPoints; p++) {
      partRe.fill(0);
      partIm.fill(0);
      tapIndex.fill(0);
      for (let pt = 0; pt < prefixTaps; pt++) {
        let fr = 1;
        let fi = 0;
        for (let a = 0; a < last; a++) {
          const e = index[a] * kernel[a] + tapIndex[a];
          const tr = tables[a].re[e];
          const ti = tables[a].im[e];
          const nr = fr * tr - fi * ti;
          fi = fr * ti + fi * tr;
          fr = nr;
        }
        for (let t = 0; t < kLast; t++) {
          const wt = w[pt * kLast + t];
          partRe[t] += wt * fr;
          partIm[t] += wt * fi;
        }
        for (let a = last - 1; a >= 0; a--) {
          if (++tapIndex[a] < kernel[a]) break;
          tapIndex[a] = 0;
        }
      }
      const tr = tables[last].re;
      const ti = tables[last].im;
      const base = p * nLast;
      for (let i = 0; i < nLast; i++) {
        let sr = 0;
        let si = 0;
        for (let t = 0; t < kLast; t++) {
          const cr = tr[i * kLast + t];
          const ci = ti[i * kLast + t];
          sr += partRe[t] * cr - partIm[t] * ci;
          si += partRe[t] * ci + partIm[t] * cr;
        }
        q[base + i] += sr * sr + si * si;
      }
      for (let a = last - 1; a >= 0; a--) {
        if (++index[a] < sizes[a]) break;
        index[a] = 0;
      }
    }
  }
  // Alias average on the output lattice: ν index i' ↔ ω indices i' + r·N_a/s_a.
  const outSizes = sizes.map((n, a) => (kernel[a] > 1 ? n / strides[a] : 1));
  const phases = sizes.map((n, a) => n / outSizes[a]);
  const aliasCount = phases.reduce((a, b) => a * b, 1);
  const outPoints = outSizes.reduce((a, b) => a * b, 1);
  let best = 0;
  const nu = new Int32Array(rank);
  const r = new Int32Array(rank);
  for (let p = 0; p < outPoints; p++) {
    let sum = 0;
    r.fill(0);
    for (let k = 0; k < aliasCount; k++) {
      let flat = 0;
      for (let a = 0; a < rank; a++) flat = flat * sizes[a] + nu[a] + r[a] * outSizes[a];
      sum += q[flat];
      for (let a = rank - 1; a >= 0; a--) {
        if (++r[a] < phases[a]) break;
        r[a] = 0;
      }
    }
    best = Math.max(best, sum / aliasCount);
    for (let a = rank - 1; a >= 0; a--) {
      if (++nu[a] < outSizes[a]) break;
      nu[a] = 0;
    }
  }
  // Bernstein along each axis: within h_a = π/outSizes_a of a grid point, q moves by ≤ deg_a·h_a·S*.
  const spread = kernel.reduce((sum, k, a) => sum + (Math.floor(((k - 1) * dilations[a]) / strides[a]) * Math.PI) / outSizes[a], 0);
  const estimate = Math.sqrt(best);
  if (!(spread < 0.5)) return { bound: Infinity, estimate };
  // Rounding is relative to (Σ|w|)², not to q: under cancellation M can be far below it.
  let scale = 0;
  for (let j = 0; j < m; j++) {
    let sum = 0;
    for (let t = 0; t < taps; t++) sum += Math.abs(spec.weight.data[(groupIndex * m + j) * taps + t]);
    scale += sum * sum;
  }
  const certified = best * (1 + ROUNDING_MARGIN) + ROUNDING_MARGIN * 1e-3 * scale;
  return { bound: Math.sqrt(certified / (1 - spread)) * (1 + ROUNDING_MARGIN), estimate };
}

/**
 * The depthwise layer restricted to the groups that can hold σ, or null when it is not depthwise,
 * no certified lower bound is available (maps too small for a window), or nothing can be pruned.
 */
export function reduceDepthwise(spec: ConvSpec, inputShape: number[], shouldStop?: () => boolean): DepthwiseReduction | null {
  if (!isDepthwise(spec)) return null;
  const group = spec.group || 1;
  const rank = spec.weight.dims.length - 2;
  const spatial = spec.channelsLast ? inputShape.slice(1, 1 + rank) : inputShape.slice(2);
  if (spatial.length !== rank) return null;
  // The lower bound comes from the group whose symbol looks largest on a coarse grid (no bound
  // needed there), checked only among groups whose sum of |taps| could reach the largest estimate.
  const tapSums = tapSumBounds(spec);
  let top = 0;
  let topEstimate = 0;
  const order = Array.from({ length: group }, (_, g) => g).sort((a, b) => tapSums[b] - tapSums[a]);
  for (const g of order) {
    if (tapSums[g] <= topEstimate) break;
    const estimate = gridBound(spec, g, ESTIMATE_LEVEL).estimate;
    if (estimate > topEstimate) {
      top = g;
      topEstimate = estimate;
    }
  }
  if (shouldStop?.()) return null;
  const one = depthwiseSubset(spec, inputShape, [top]);
  const symbol = convSymbol(one.spec, spatial);
  const peak = symbol && locateSymbolPeak(symbol, undefined, shouldStop);
  if (!symbol || !peak || !(peak.lambda > 0)) return null;
  const window = windowLowerBound(symbol, peak.group, peak.omega, peak.vector);
  if (!window || !(window.sigma > 0)) return null;
  const lower = window.sigma;
  let candidates = order.filter((g) => g === top || tapSums[g] >= lower);
  const prunedByTaps = group - candidates.length;
  const prunedByGrid: number[] = [];
  for (const level of GRID_LEVELS) {
    if (shouldStop?.()) return null;
    const before = candidates.length;
    candidates = candidates.filter((g) => g === top || gridBound(spec, g, level).bound >= lower);
    prunedByGrid.push(before - candidates.length);
  }
  if (!candidates.includes(top)) candidates.push(top);
  candidates.sort((a, b) => a - b);
  if (candidates.length === group) return null;
  const reduced = depthwiseSubset(spec, inputShape, candidates);
  const groupsNote = candidates.length <= 4 ? ` (${candidates.join(', ')})` : '';
  return {
    ...reduced,
    kept: candidates,
    groups: group,
    lower,
    prunedBy: { taps: prunedByTaps, grid: prunedByGrid },
    note: `depthwise: ${candidates.length} of ${group} groups kept${groupsNote}, the others' certified symbol bound below the lower bound ${lower.toPrecision(6)} of group ${top}`,
  };
}
