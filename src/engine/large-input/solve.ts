// Chooses, per layer, between the certified-interval paths of this folder and the full-size
// iterative solver, by a cost model (seconds on a quiet core; only ratios matter).
//
// - 'exact-dense' (exact-small.ts): the explicit matrix is small; its cost is float64 JS work.
// - 'symbol-sup' (index.ts): zero-padded conv/convTranspose whose full-size products are costly and
//   whose real size is large enough that the interval can close to tol: σ(n) sits below the
//   symbol's sup by about c·Σ_a (π/L_a)² (relative), L_a the window length, c a property of the
//   kernel (≈ 0.3 for random 64-channel 3x3 kernels, more for larger ones); the path is tried when
//   that estimate is below tol, and declines (null) when the certified interval does not close.
// - otherwise null: the caller runs the existing solver (Lanczos on the real-size operator and the
//   circular-embedding bound), which is also the route for everything these paths decline.

import type { LinearSpec } from '../../model/ir';
import { convGeometry } from '../bounds/conv';
import { BOUND_BUDGET_FLOPS } from '../bounds';
import { asConvView } from './conv-view';
import { exactFlops, exactInterval, explicitSize, EXACT_MAX_SIDE } from './exact-small';
import { galerkinSeconds, symbolChannels, symbolPathSeconds, symbolPeakSeconds, symbolSupInterval } from './index';
import { symbolSetupSeconds } from './conv-symbol';
import { windowWarmStart, type WarmStart } from './warm-start';
import { nativeRuntime } from '../native/onnxruntime';

/**
 * Layers whose iterative solve is expected to take at least this long get a windowed-plane-wave
 * start (warm-start.ts; its peak search costs a few tenths of a second). Measured on ResNet-18's
 * random-weight layers at 224² input (one core, products on ONNX Runtime, start + solve against a
 * Gaussian start): the 3→64 7x7 stride-2 stem 122 → 48 pairs (0.13 + 0.67 s against 1.85 s), the
 * four 64→64 3x3 layers at 56² 103–224 → 36–63 pairs (0.2–0.34 + 0.28–0.61 s against 0.87–1.93 s);
 * the 128→128 layers at 28² gain nothing (0.64–0.77 + 0.13–0.26 s against 0.41–0.50 s: the share
 * rule below keeps them cold). All are expected at about 0.5 s with native products (1.4 s on tfjs).
 */
const WARM_START_MIN_SECONDS = 0.25;
/**
 * The warm start's symbol and peak search may cost at most this share of the expected iterative
 * solve. It saves 60–70 % of the pairs where it runs (ResNet-18 above; 76 → 23 pairs on the int8
 * ISNet's 512→512 layer at 32², a 9.9 s solve, against 1 s of symbol, 2.7 s of peak search and
 * 0.6 s of window with native products; the JS peak search alone took 6 s there)...
 */
const WARM_START_SHARE = 0.5;
/**
 * ...or this long, whichever is more: a 64-channel symbol's start (0.2–0.34 s measured) pays on
 * ResNet's 64→64 layers at 56², which the model prices at about 0.5 s cold but took 0.9–1.9 s.
 */
const WARM_START_FLOOR_SECONDS = 0.3;
/** The window's Galerkin step (index.ts galerkinSeconds) at most this share of it. */
const GALERKIN_SHARE = 0.05;
/** ...and its certified sup, the whole symbol path's cost, at most this share. */
const SUP_SHARE = 0.5;

/** A start vector and certified lower bound for the iterative solver, when the layer is costly enough. */
export function warmStartFor(spec: LinearSpec, inputShape: number[], vectorShapes: { input: number[]; output: number[] }, tol: number, shouldStop?: () => boolean): WarmStart | null {
  const iterative = iterativeSeconds(spec, inputShape);
  if (iterative < WARM_START_MIN_SECONDS || spec.type !== 'conv') return null;
  // Forming the symbol grows like n²·cin (n the narrower channel count) and the peak search like n²
  // per evaluation (JS float64): on wide layers at small sizes they outweigh the products they save.
  // The certified sup (one n × n factorisation per cell) is run only when the whole symbol path is
  // cheap next to the solve;
  // otherwise the row's bound is the usual one (measured on the int8 ISNet at 1024²: its
  // 1024→512 layer on 32² spent minutes certifying 512 × 512 blocks for a 58 s solve).
  if (symbolSetupSeconds(spec) + symbolPeakSeconds(spec) > Math.max(WARM_START_SHARE * iterative, WARM_START_FLOOR_SECONDS)) return null;
  // The sup replaces the row's other bound (the circular embedding, or past its budget the loose
  // sum over taps): it is worth what that bound would cost, or half the solve, whichever is more.
  const affordable = Math.max(SUP_SHARE * iterative, circularBoundSeconds(spec, inputShape));
  // The Galerkin refinement of the window (a tighter certified lower bound) changes the start little:
  // ResNet-18's layers took the same pairs with and without it, and on 512 channels it cost ~1 s per
  // layer (a 1.4 s solve). It runs only when it is a small share of the solve.
  const galerkin = galerkinSeconds(symbolChannels(spec)) <= GALERKIN_SHARE * iterative;
  return windowWarmStart(spec, inputShape, vectorShapes, tol, shouldStop, symbolPathSeconds(spec) <= affordable, galerkin);
}

/**
 * Rough seconds of the circular-embedding bound (bounds/conv.ts): per DFT frequency of the real
 * grid, forming an n × n block from the m × n symbol and one Cholesky certificate (~6n³), in float32
 * wasm, capped at the bound's budget (beyond it that module gives the sum over taps instead).
 */
export function circularBoundSeconds(spec: LinearSpec, inputShape: number[]): number {
  const conv = asConvView(spec, inputShape);
  if (!conv) return 0;
  const [cOut, cInPerGroup, ...kernel] = conv.spec.weight.dims;
  const g = convGeometry(conv.spatial, kernel, conv.spec.strides, conv.spec.dilations, conv.spec.padsBegin, conv.spec.padsEnd);
  if (!g) return 0;
  const group = conv.spec.group || 1;
  const phases = kernel.reduce((a, _, i) => a * (conv.spec.strides[i] ?? 1), 1);
  const rows = cOut / group;
  const small = Math.min(rows, cInPerGroup * phases);
  const big = Math.max(rows, cInPerGroup * phases);
  const frequencies = Math.ceil(g.grid.reduce((a, b) => a * b, 1) / 2) + 1;
  const flops = group * frequencies * (8 * big * small * small + 6 * small ** 3);
  return Math.min(flops, BOUND_BUDGET_FLOPS) / WASM_FLOPS;
}

export interface IntervalSolution {
  sigma: number;
  lower: number;
  upper: number;
  iterations: number;
  method: 'exact-dense' | 'symbol-sup';
  detail: string;
}

/** float64 JS, one quiet core (measured ~1–1.5 GFLOP/s on these loops). */
export const JS_FLOPS = 1e9;
/** float32 wasm convolutions, one core (compute notes: ~20–25 GFLOP/s for 3x3 layers). */
export const WASM_FLOPS = 2e10;
/**
 * ONNX Runtime's float32 convolutions, one thread (operators/native-conv.ts; measured per pair
 * 50–80 GFLOP/s: 64→64 3x3 at 56², 512→512 3x3 at 7² and 64²; the transposes and a stride's
 * ConvTranspose adjoint included).
 */
export const NATIVE_FLOPS = 6e10;
/** Product pairs the iterative solver typically needs at tol 1e-4, plus its bound (in pairs). */
const EXPECTED_PAIRS = 60;
/** Per-pair overhead of tfjs calls (seconds). */
const PAIR_OVERHEAD = 3e-4;
/**
 * The symbol path is tried whatever the solve costs when it is this cheap: with native products the
 * expected solve of a few-channel layer at a large size is tenths of a second, but EXPECTED_PAIRS
 * is a typical count, and such layers can run far past it (UpscalerJS ESRGAN-slim's 12→3 output conv
 * at 384²: 300 pairs, 10.4 s, unconverged, against 0.01–0.05 s on the symbol path).
 */
const SYMBOL_CHEAP_SECONDS = 0.25;
/** The exact path is taken when it costs at most this, or no more than the iterative solver. */
const EXACT_BUDGET_SECONDS = 0.5;
/**
 * Curvature constant of the finite-size gap estimate (see the header), for degree-2 symbols (3x3);
 * it grows about like (degree/2)^1.5 (random 64→64 layers at 512²–1024²: c ≈ 0.26, 0.8 and 1.2
 * for 3x3, 5x5 and 7x7).
 */
const GAP_CURVATURE = 0.3;
/**
 * The certified interval over the a-priori window-to-sup gap above, now that the lower bound is the
 * Galerkin window (window-lower.ts; docs/large-inputs.md §12) and, with stride 1, the upper bound the
 * twisted torus. Measured on random He-scaled layers at tol 1e-4 (the interval as the path returns
 * it, its certification slack included): 64→64 3x3 0.11–0.13 at 96²–128², 5x5 0.08 at 192², 7x7 0.1
 * at 192²–256², 64→64 3x3 stride 2 (the sup as upper bound) 0.1 at 192². With margin, a 3x3 layer
 * takes the path from about 100², 5x5 from 192², 7x7 from 256², 3x3 stride 2 from about 192².
 */
const INTERVAL_GAP_SHARE = 0.15;

/** Float operations of one forward product of a linear layer. */
export function forwardFlops(spec: LinearSpec, inputShape: number[]): number {
  if (spec.type === 'dense') return 2 * spec.weight.data.length;
  if (spec.type === 'avgPool') return 2 * inputShape.reduce((a, b) => a * b, 1);
  const conv = asConvView(spec, inputShape);
  if (!conv) return 0;
  const [cOut, cInPerGroup, ...kernel] = conv.spec.weight.dims;
  const g = convGeometry(conv.spatial, kernel, conv.spec.strides, conv.spec.dilations, conv.spec.padsBegin, conv.spec.padsEnd);
  if (!g) return 0;
  return 2 * cOut * cInPerGroup * kernel.reduce((a, b) => a * b, 1) * g.outputSize.reduce((a, b) => Math.max(0, a * b), 1);
}

/**
 * tfjs-wasm depthwise convs (one input channel per group) run far below WASM_FLOPS: measured one
 * core, 3x3, product pair (forward + adjoint) 0.31 s for 384 channels at 160², 2.5 s at 320²
 * (0.5 GFLOP/s; the model had said 0.018 and 0.071 s), 2.9 s with stride 2 at 320² (its adjoint is
 * one conv per stride phase plus an interleave: about 3× the stride-1 rate per flop).
 * docs/large-inputs.md §11.
 */
const DEPTHWISE_FLOPS = 4e8;
const DEPTHWISE_STRIDED_FACTOR = 3;

/** Seconds of one forward + adjoint product, on ONNX Runtime when it runs the layer's conv, else tfjs wasm. */
export function pairSeconds(spec: LinearSpec, inputShape: number[]): number {
  const flops = 2 * forwardFlops(spec, inputShape);
  const conv = asConvView(spec, inputShape);
  const group = conv?.spec.group || 1;
  // ONNX Runtime takes every conv but the depthwise ones (operators/conv.ts).
  const native = conv !== null && nativeRuntime() !== null && !(conv.spec.weight.dims[1] === 1 && group > 1);
  // Also a single channel with a few outputs: what a depthwise layer reduced to its top groups is
  // (depthwise.ts); measured 7.7 ms per pair for one 3x3 channel at 320² (the generic rate: 0.5 ms).
  if (!native && conv && conv.spec.weight.dims[1] === 1 && (group > 1 || conv.spec.weight.dims[0] <= 4)) {
    const strided = conv.spec.strides.some((s) => s > 1) ? DEPTHWISE_STRIDED_FACTOR : 1;
    return (flops / DEPTHWISE_FLOPS) * strided + PAIR_OVERHEAD;
  }
  return flops / (native ? NATIVE_FLOPS : WASM_FLOPS) + PAIR_OVERHEAD;
}

/** Expected seconds of the full-size iterative solver on this layer. */
export function iterativeSeconds(spec: LinearSpec, inputShape: number[]): number {
  return EXPECTED_PAIRS * pairSeconds(spec, inputShape);
}

export function exactSeconds(spec: LinearSpec, inputShape: number[]): number | null {
  const size = explicitSize(spec, inputShape);
  if (!size || Math.min(size.rows, size.cols) > EXACT_MAX_SIDE) return null;
  const conv = asConvView(spec, inputShape);
  const perRow = conv ? conv.spec.weight.dims[1] * conv.spec.weight.dims.slice(2).reduce((a, b) => a * b, 1) : size.cols;
  return exactFlops(size.rows, size.cols, perRow) / JS_FLOPS;
}

/** The path the cost model picks, with its expected seconds. */
export function planLayer(spec: LinearSpec, inputShape: number[], tol: number): { path: 'exact-dense' | 'symbol-sup' | 'iterative'; seconds: number } {
  const iterative = iterativeSeconds(spec, inputShape);
  const exact = exactSeconds(spec, inputShape);
  if (exact !== null && exact <= Math.max(EXACT_BUDGET_SECONDS, iterative)) return { path: 'exact-dense', seconds: exact };
  const conv = asConvView(spec, inputShape);
  if (conv) {
    const symbol = symbolPathSeconds(conv.spec);
    const [, , ...kernel] = conv.spec.weight.dims;
    const g = convGeometry(conv.spatial, kernel, conv.spec.strides, conv.spec.dilations, conv.spec.padsBegin, conv.spec.padsEnd);
    if (g && (symbol < 0.5 * iterative || symbol <= SYMBOL_CHEAP_SECONDS)) {
      const degree = Math.max(...g.phaseTaps) - 1;
      const curvature = GAP_CURVATURE * Math.max(1, degree / 2) ** 1.5;
      const gap = curvature * g.outputSize.reduce((sum, size, a) => sum + (g.phaseTaps[a] > 1 ? (Math.PI / Math.max(1, size - g.phaseTaps[a])) ** 2 : 0), 0);
      if (gap * INTERVAL_GAP_SHARE <= tol) return { path: 'symbol-sup', seconds: symbol };
    }
  }
  return { path: 'iterative', seconds: iterative };
}

/** A certified interval by the planned path, or null (the caller runs the iterative solver). */
export function solveByInterval(spec: LinearSpec, inputShape: number[], tol: number, shouldStop?: () => boolean, trySymbol = false): IntervalSolution | null {
  const plan = planLayer(spec, inputShape, tol);
  // `trySymbol` (a depthwise layer reduced to its top groups, depthwise.ts): the symbol path is
  // attempted whenever it is cheap next to the solve, since the a-priori gap estimate is
  // conservative for strided layers (a random 3x3 stride-2 channel at 320² closes at 7e-5 where
  // the estimate says 2.4e-4); a failed attempt costs a tenth of a second.
  if (trySymbol && plan.path === 'iterative') {
    const conv = asConvView(spec, inputShape);
    if (conv && symbolPathSeconds(conv.spec) <= 0.5 * plan.seconds) plan.path = 'symbol-sup';
  }
  if (plan.path === 'exact-dense') {
    const exact = exactInterval(spec, inputShape);
    if (exact) return { sigma: exact.sigma, lower: exact.lower, upper: exact.upper, iterations: exact.steps, method: 'exact-dense', detail: exact.detail };
  }
  if (plan.path === 'symbol-sup') {
    const conv = asConvView(spec, inputShape);
    const interval = conv && symbolSupInterval(conv.spec, conv.spatial, tol, shouldStop);
    if (interval) {
      const what = spec.type === 'convTranspose' ? `adjoint conv: ${interval.detail}` : interval.detail;
      return { sigma: interval.lower, lower: interval.lower, upper: interval.upper, iterations: interval.cells, method: 'symbol-sup', detail: what };
    }
  }
  return null;
}
