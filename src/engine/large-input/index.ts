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
import { certifiedSymbolSup } from './symbol-sup';
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
  // An eighth of the tolerance for the sup's slack (λ relative tol/4 ⇒ σ relative tol/8); the rest
  // is left for the window's intrinsic gap, which dominates.
  const sup = certifiedSymbolSup(symbol, { relTol: tol / 4, maxCells: MAX_CELLS, shouldStop });
  if (!sup) return null;
  const upper = Math.sqrt(sup.lambdaUpper) * SCALAR_SAFETY;
  if (sup.lambdaBest === 0) return { lower: 0, upper, detail: 'zero symbol', cells: sup.cells };
  const lower = windowLowerBound(symbol, sup.groupIndex, sup.omega, sup.vector);
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
  const perCell = 4 * shifts * n * n + size ** 3 / 3 + 15 * 2 * size * size;
  const cells = group * EXPECTED_CELLS_PER_GROUP;
  return (symbolSetupFlops(spec) + cells * perCell) / JS_FLOPS;
}

const EXPECTED_CELLS_PER_GROUP = 400;
const JS_FLOPS = 1e9;
