// The size-independent path for zero-padded convolutions on large inputs ('symbol-sup'): a
// certified interval [lower, upper] for σ whose cost does not grow with the image size
// (docs/large-inputs.md).
//
// Validity conditions (each checked here or by construction):
// - The layer is an ONNX-semantics Conv or ConvTranspose with ZERO padding (the IR's only conv
//   padding: reflect/edge padding arrives as a separate Pad node, whose own constant bounds it,
//   and the conv after it sees zero or no pads); any stride, dilation, groups, 1-D/2-D/3-D.
// - upper: σ(layer) ≤ sup_ω σ1(K̂'(ω)) holds for every input size (the layer is a restriction of
//   the infinite convolution); the sup is certified between grid points (symbol-sup.ts). With
//   stride 1 the tighter max over a twisted torus of the real size replaces it (twisted-grid.ts).
// - lower: a windowed plane wave that fits inside the real input (window-lower.ts); when no window
//   fits (tiny maps), there is no lower bound and the path declines.
// - The interval is accepted only when (upper − lower) ≤ tol·lower; otherwise the caller falls back
//   to the full-size solver (which also handles every case this path declines).

import type { ConvSpec } from '../../model/ir';
import { SCALAR_SAFETY } from '../bounds/rounding';
import { convSymbol, NATIVE_EVALUATION_MIN_N, symbolSetupSeconds } from './conv-symbol';
import { nativeRuntime } from '../native/onnxruntime';
import { locateSymbolPeak } from './symbol-sup';
import { certifiedConvUpper, chooseTwistedGrid, estimateGridPeak, minimalTorus } from './twisted-grid';
import { describeWindow, windowLowerBound } from './window-lower';

export interface SymbolInterval {
  lower: number;
  upper: number;
  /** What was done, for the row's note. */
  detail: string;
  /** Cells of the sup search (the path's "iterations"). */
  cells: number;
}

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
  // With stride 1 the certified value will be the twisted torus's max, near its grid peak.
  const minimum = minimalTorus(symbol);
  const expected = minimum ? estimateGridPeak(symbol, chooseTwistedGrid(symbol, minimum, peak.omega), peak) : peak.lambda;
  const room = ((1 + tol) * early.sigma) ** 2 / (expected * SCALAR_SAFETY ** 2) - 1;
  const relTol = Math.min(tol, 0.6 * room);
  if (!(relTol >= tol / 40)) return null;
  // The twisted torus of the real size where it applies (stride 1), else the sup (twisted-grid.ts).
  const bound = certifiedConvUpper(symbol, spatial, peak, relTol, shouldStop);
  if (!bound) return null;
  const upper = bound.sigma;
  // The certification may have met a higher λ than the peak search: the lower bound is redone there.
  const lower = bound.lambdaBest > peak.lambda ? windowLowerBound(symbol, bound.groupIndex, bound.omega, bound.vector) : early;
  if (!lower || !(upper - lower.sigma <= tol * lower.sigma)) return null;
  return {
    lower: lower.sigma,
    upper,
    detail: `${bound.description}, lower bound from ${describeWindow(lower)} at the real size`,
    cells: bound.cells,
  };
}

/**
 * Expected seconds of the symbol path on one quiet core: forming the G_δ, the peak search (a coarse
 * grid of short Lanczos runs, then ~150 more evaluations for the ascents and the window), and the
 * certified cells, each one symbol evaluation and one Cholesky factorisation. Measured (CPU seconds
 * on this machine, session 7) and fitted on the slow side: 64→64 3x3 0.56 s (model 0.61), 5x5 1.3 s
 * (1.7), 7x7 3.9 s (4.1), 512→128 and 128→512 3x3 2.3 s and 3.1 s (6.4), 512→256 27.7 s (36.6).
 */
export function symbolPathSeconds(spec: ConvSpec): number {
  const [cOut, cInPerGroup, ...kernel] = spec.weight.dims;
  const group = spec.group || 1;
  const phases = kernel.reduce((a, _, i) => a * (spec.strides[i] ?? 1), 1);
  const rows = cOut / group;
  const n = symbolChannels(spec);
  // Wider layers have flatter symbols, hence more cells: measured 350–730 at 64→64, 459 at
  // 128→128, 1,187 at 512→128, 1,383 at 128→512, 2,067 at 512→256 (3x3), so ∝ √(wider side / 64).
  const wide = Math.max(1, Math.max(rows, cInPerGroup * phases) / 64) ** 0.5;
  const degrees = symbolDegrees(spec);
  const shifts = degrees.reduce((a, d) => a * (2 * d + 1), 1);
  const degree = Math.max(0, ...degrees);
  // One symbol evaluation: the lower triangle, shifts terms per entry (2 flops each, JS float64).
  const evaluation = (shifts * n * n) / JS_FLOPS;
  // The complex Cholesky factorisation (8n³/3 flops; ~2 GFLOP/s at n = 64, ~5 from n = 256) plus
  // per-entry overheads.
  const cholesky = n * n * ((8 * n) / 3 / CHOLESKY_FLOPS + 5e-8);
  const galerkin = galerkinSeconds(n);
  const cells = group * EXPECTED_CELLS_PER_GROUP * Math.max(1, degree / 2) ** 0.9 * wide;
  return symbolSetupSeconds(spec) + symbolPeakSeconds(spec) + galerkin + cells * (evaluation + cholesky);
}

/**
 * Expected seconds of locateSymbolPeak (symbol-sup.ts) on one quiet core: a coarse grid of short
 * Lanczos runs, then ~150 more evaluations for the ascents (and the window's own). In JS, measured
 * 1.6 s on a 256-channel symbol and 5.5–6.5 s on a 512-channel one (3x3; model 2.1 s and 7.7 s). From
 * n = 128 the evaluations and the Lanczos products run on ONNX Runtime when it is loaded: measured
 * 0.83 s (229 evaluations) and 2.7 s (207) there, about 5e-8·n² s per evaluation.
 */
export function symbolPeakSeconds(spec: ConvSpec): number {
  const group = spec.group || 1;
  const n = symbolChannels(spec);
  const degrees = symbolDegrees(spec);
  const shifts = degrees.reduce((a, d) => a * (2 * d + 1), 1);
  const active = degrees.filter((d) => d > 0).length;
  const scoring = group * degrees.reduce((a, d) => (d > 0 ? a * Math.ceil(Math.PI * active * d) : a), 1) / 2;
  if (n >= NATIVE_EVALUATION_MIN_N && nativeRuntime()) return (scoring + PEAK_EXTRA_EVALUATIONS) * (NATIVE_EVALUATION_SECONDS * n * n * (shifts / 25) + 2e-4);
  const evaluation = (shifts * n * n) / JS_FLOPS;
  // A Lanczos run of about a dozen steps with full reorthogonalisation, plus fixed overheads.
  const lanczos = (100 * n * n + 5e5) / JS_FLOPS;
  return (scoring + PEAK_EXTRA_EVALUATIONS) * (evaluation + lanczos);
}

/** The symbol's degree per axis: (k − 1)·dilation / stride taps of reach (conv-symbol.ts `degrees`). */
function symbolDegrees(spec: ConvSpec): number[] {
  const [, , ...kernel] = spec.weight.dims;
  return kernel.map((k, i) => Math.floor(((k - 1) * (spec.dilations[i] ?? 1)) / (spec.strides[i] ?? 1)));
}

/** The side n of the symbol's n × n blocks: the narrower of a group's outputs and its inputs × phases (conv-symbol.ts). */
export function symbolChannels(spec: ConvSpec): number {
  const [cOut, cInPerGroup, ...kernel] = spec.weight.dims;
  const phases = kernel.reduce((a, _, i) => a * (spec.strides[i] ?? 1), 1);
  return Math.min(cOut / (spec.group || 1), cInPerGroup * phases);
}

/**
 * The Galerkin step of the window (window-lower.ts) on an n-channel symbol: 5 Lanczos runs (~30
 * complex products each) on a (3n)² Hermitian matrix; measured 0.28 s at n = 256 and 1.4 s at 512
 * (one core). A 3-channel symbol's is negligible, so no large constant (it would send 3→64 layers
 * at 128² to the iterative path).
 */
export function galerkinSeconds(n: number): number {
  return 0.01 + (5 * (3 * n) ** 2 * 140) / JS_FLOPS;
}

/** Measured on random 64→64 layers (diamond cells): ~350–730 cells for 3x3, 1,150–1,350 for 5x5, 1,850–2,000 for 7x7. */
const EXPECTED_CELLS_PER_GROUP = 800;
/** Ascent and window evaluations after the coarse scoring grid. */
const PEAK_EXTRA_EVALUATIONS = 150;
/** Seconds per n² of one native peak-search evaluation of a 3x3 symbol (25 shifts), Lanczos included. */
const NATIVE_EVALUATION_SECONDS = 5e-8;
/** JS float64 loops without blocking (~1 GFLOP/s). */
const JS_FLOPS = 1e9;
/** The two-column packed Cholesky at large n (measured 3.9 GFLOP/s at n = 128, 5.3 at 256 and 512). */
const CHOLESKY_FLOPS = 5e9;
