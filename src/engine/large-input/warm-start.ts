// A start vector for the full-size solver on a layer the symbol path cannot close (docs/large-inputs.md,
// "When the interval cannot close"), and the certified lower bound that comes with it.
//
// The start is the real part of window-lower.ts's windowed plane wave, w(a)·Re(v·e^{−iω·a}): near the
// top right singular vector of a zero-padded conv (the finite layer's top mode is a plane wave at
// the symbol's peak under the ground state of the Dirichlet Laplacian, which the sine window is).
// Its quotient is within O(1/L) of the complex wave's. Lanczos started there has far less to remove
// than from a random vector (measured: 42 pairs against 87 on a 64→64 3x3 layer at 48²). Nothing
// certified depends on the start: the solver's result is an estimate as always, and the lower bound
// is window-lower's (rigorous at the real size, from the complex wave).
//
// Conditions (else null): an ONNX Conv, one group, stride 1 on every axis, batch 1, the symbol on
// the input side (cin ≤ cout), and the solver's Gram side the input (input values ≤ output values).
// Validated by its effect: Lanczos from it must need fewer pairs (test/unit/engine/large-input).

import type { LinearSpec } from '../../model/ir';
import { convSymbol } from './conv-symbol';
import { convSpatial } from './conv-view';
import { certifiedSymbolSup, locateSymbolPeak } from './symbol-sup';
import { SCALAR_SAFETY } from '../bounds/rounding';
import { windowLengths, windowLowerBound } from './window-lower';

export interface WarmStart {
  /** Flat vector in the solver operator's input layout (`vectorShape`, batch 1). */
  start: Float32Array;
  /** Certified: σ(layer) ≥ lower. */
  lower: number;
  /**
   * Certified: σ(layer) ≤ upper, the symbol's sup (valid at every size), when its certification
   * finished; it replaces the circular-embedding bound, which costs one factorisation per DFT
   * frequency of the real size (16,900 at 128²) for a value within ~1e-4 of this one.
   */
  upper: number | null;
  /** The upper bound's description, for the row. */
  upperMethod: string;
}

/**
 * @param vectorShape the shape the solver's operator reads its input vectors in: [1, ...spatial, cin]
 * (channels last, the operators' own layout) or [1, cin, ...spatial]; anything else, or a shape
 * that reads both ways, gives null.
 */
export function windowWarmStart(spec: LinearSpec, inputShape: number[], vectorShape: number[], tol = 1e-4, shouldStop?: () => boolean): WarmStart | null {
  if (spec.type !== 'conv' || (spec.group || 1) !== 1 || inputShape[0] !== 1) return null;
  const spatial = convSpatial(spec, inputShape);
  if (!spatial || spec.strides.some((s) => s !== 1)) return null;
  const cinOf = spec.weight.dims[1];
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const last = same(vectorShape, [1, ...spatial, cinOf]);
  const leading = same(vectorShape, [1, cinOf, ...spatial]);
  if (last === leading) return null;
  const symbol = convSymbol(spec, spatial);
  if (!symbol || symbol.side !== 'input') return null;
  const cin = spec.weight.dims[1];
  const inputValues = cin * spatial.reduce((a, b) => a * b, 1);
  const outputValues = spec.weight.dims[0] * symbol.geometry.outputSize.reduce((a, b) => a * b, 1);
  if (inputValues > outputValues) return null;
  const peak = locateSymbolPeak(symbol, undefined, shouldStop);
  if (!peak || !(peak.lambda > 0)) return null;
  const lower = windowLowerBound(symbol, peak.group, peak.omega, peak.vector);
  const lengths = windowLengths(symbol);
  if (!lower || !lengths) return null;
  // The box of window-lower.ts on the input side, stride 1: positions a_a from max(M_a − 1, pad_a),
  // input index x_a = a_a − pad_a.
  const g = symbol.geometry;
  const first = lengths.map((_, a) => Math.max(g.phaseTaps[a] - 1, g.padsBegin[a]));
  const window = lengths.map((length) => Float64Array.from({ length }, (_, p) => Math.sin((Math.PI * (p + 1)) / (length + 1))));
  const start = new Float32Array(inputValues);
  const rank = spatial.length;
  const strides = spatial.map((_, a) => spatial.slice(a + 1).reduce((x, y) => x * y, 1));
  const positions = lengths.reduce((x, y) => x * y, 1);
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < positions; flat++) {
    let rest = flat;
    let weight = 1;
    let angle = 0;
    let spatialOffset = 0;
    for (let a = rank - 1; a >= 0; a--) {
      index[a] = rest % lengths[a];
      rest = Math.floor(rest / lengths[a]);
      const position = first[a] + index[a];
      weight *= window[a][index[a]];
      angle += lower.omega[a] * position;
      spatialOffset += (position - g.padsBegin[a]) * strides[a];
    }
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    for (let channel = 0; channel < cin; channel++) {
      // Re(v e^{−iθ}) = v_re cos θ + v_im sin θ.
      const value = weight * (lower.vector.re[channel] * c + lower.vector.im[channel] * s);
      start[last ? spatialOffset * cin + channel : channel * positionsOf(spatial) + spatialOffset] = value;
    }
  }
  const sup = certifiedSymbolSup(symbol, { relTol: tol, maxCells: 20_000, shouldStop }, peak);
  return {
    start,
    lower: lower.sigma,
    upper: sup ? Math.sqrt(sup.lambdaUpper) * SCALAR_SAFETY : null,
    upperMethod: sup ? `symbol sup over all frequencies (${symbol.n}x${symbol.n} blocks, ${sup.cells} cells; valid at every input size); lower bound from a ${lengths.join('x')} sine-windowed plane wave, also the solver's start` : '',
  };
}

function positionsOf(spatial: number[]): number {
  return spatial.reduce((a, b) => a * b, 1);
}
