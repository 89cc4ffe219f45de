// The size-independent path for zero-padded convolutions on large inputs ('symbol-sup'): a
// certified interval [lower, upper] for σ whose cost does not grow with the image size
// (docs/large-inputs.md).
//
// Validity conditions (each checked here or by construction):
// - The layer is an ONNX-semantics Conv or ConvTranspose with ZERO padding (the IR's only conv
//   padding: reflect/edge padding arrives as a separate Pad node, whose own constant bounds it,
//   and the conv after it sees zero or no pads); any stride, dilation, groups, 1-D/2-D/3-D.
// - upper: σ(layer) ≤ sup_ω σ1(K̂'(ω)) holds for every input size (the layer is a restriction of
//   the infinite convolution); the sup is certified between grid points (symbol-sup.ts).
// - lower: a windowed plane wave that fits inside the real input (window-lower.ts); when no window
//   fits (tiny maps), there is no lower bound and the path declines.
// - The interval is accepted only when (upper − lower) ≤ tol·lower; otherwise the caller falls back
//   to the full-size solver (which also handles every case this path declines).

import type { ConvSpec } from '../../model/ir';
import { SCALAR_SAFETY } from '../bounds/rounding';
import { convSymbol, symbolSetupFlops, type ConvSymbol } from './conv-symbol';
import { certifiedSymbolSup, locateSymbolPeak } from './symbol-sup';
import { windowLowerBound } from './window-lower';

export interface SymbolInterval {
  lower: number;
  upper: number;
  /** What was done, for the row's note. */
  detail: string;
  /** Cells of the sup search (the path's "iterations"). */
  cells: number;
}

/** Most cells the sup search may visit before it gives up (flat or degenerate symbols). */
const MAX_CELLS = 20_000;

/** The interval for a zero-padded conv on `spatial`, or null when it does not close to tol. */
export function symbolSupInterval(spec: ConvSpec, spatial: number[], tol: number, shouldStop?: () => boolean): SymbolInterval | null {
  const symbol = convSymbol(spec, spatial);
  if (!symbol) return null;
  // Locate the peak and bound σ from below at the real size first: when even the estimate of the
  // sup is too far above that lower bound, the interval cannot close and the path declines before
  // any certification. Otherwise the λ slack of the certification is what the window's gap leaves:
  // (1 + relTol)·λpeak ≤ ((1 + tol)·lower)², with a margin (at most tol, and at least tol/40,
  // below which cells multiply for a sliver of width).
  const peak = locateSymbolPeak(symbol, undefined, shouldStop);
  if (shouldStop?.()) return null;
  // A zero symbol (an all-zero kernel) has no peak to certify against: the iterative solver takes it.
  if (!peak || !(peak.lambda > 0)) return null;
  const early = windowLowerBound(symbol, peak.group, peak.omega, peak.vector);
  if (!early) return null;
  const room = ((1 + tol) * early.sigma) ** 2 / (peak.lambda * SCALAR_SAFETY ** 2) - 1;
  const relTol = Math.min(tol, 0.6 * room);
  if (!(relTol >= tol / 40)) return null;
  const sup = certifiedSymbolSup(symbol, { relTol, maxCells: MAX_CELLS, shouldStop }, peak);
  if (!sup) return null;
  const upper = Math.sqrt(sup.lambdaUpper) * SCALAR_SAFETY;
  // The certification may have met a higher λ than the peak search: the lower bound is redone there.
  const lower = sup.lambdaBest > peak.lambda ? windowLowerBound(symbol, sup.groupIndex, sup.omega, sup.vector) : early;
  if (!lower || !(upper - lower.sigma <= tol * lower.sigma)) return null;
  return {
    lower: lower.sigma,
    upper,
    detail: describe(symbol, sup.cells, sup.factorisations, lower.window),
    cells: sup.cells,
  };
}

function describe(symbol: ConvSymbol, cells: number, factorisations: number, window: number[]): string {
  return (
    `symbol sup over all frequencies (${symbol.side}-side ${symbol.n}x${symbol.n} blocks, ${cells} cells, ${factorisations} Cholesky certificates), ` +
    `lower bound from a ${window.join('x')} sine-windowed plane wave at the real size`
  );
}

/**
 * Expected seconds of the symbol path (JS float64 at ~1 GFLOP/s): forming the symbol plus about
 * COARSE + REFINED cells, each an embedding, a short Lanczos run and a Cholesky factorisation.
 */
export function symbolPathSeconds(spec: ConvSpec): number {
  const [cOut, cInPerGroup, ...kernel] = spec.weight.dims;
  const group = spec.group || 1;
  const phases = kernel.reduce((a, _, i) => a * (spec.strides[i] ?? 1), 1);
  const n = Math.min(cOut / group, cInPerGroup * phases);
  const size = 2 * n;
  const shifts = kernel.reduce((a, k, i) => a * (2 * Math.floor(((k - 1) * (spec.dilations[i] ?? 1)) / (spec.strides[i] ?? 1)) + 1), 1);
  // Each cell: one triangle of the symbol (half the shifts on half the entries, 4 flops each), a
  // Cholesky factorisation, and for a share of them a short Lanczos run.
  const perCell = shifts * n * n + size ** 3 / 3 + 15 * 2 * size * size;
  const degree = Math.max(...kernel.map((k, i) => Math.floor(((k - 1) * (spec.dilations[i] ?? 1)) / (spec.strides[i] ?? 1))));
  const cells = group * EXPECTED_CELLS_PER_GROUP * Math.max(1, degree / 2) ** 0.9;
  return (symbolSetupFlops(spec) + cells * perCell) / JS_FLOPS;
}

/** Measured on random 64→64 layers: ~1,140 cells for 3x3, 2,150 for 5x5, 3,230 for 7x7. */
const EXPECTED_CELLS_PER_GROUP = 1100;
const JS_FLOPS = 1e9;
