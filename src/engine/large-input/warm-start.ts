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
// When the symbol is on the output side (cout < cin: a layer that narrows the channels), the same
// holds for the adjoint: the start is w(p)·Re(u·e^{−iω·p}) on the OUTPUT positions p (window-lower's
// test vector for Aᵀ: (Aᵀ u e^{−iω·p})[a] = e^{−iω·a}·K̂'(ω)ᴴu, whose norm² is uᴴPu; the same real
// part as ū·e^{+iω·p}), and the solver, whose Gram side is then the output (A Aᵀ), starts there.
//
// Strides: the plane wave lives on the polyphase grid (bounds/conv.ts, step 2): the symbol's channel
// (i, r) at polyphase position a is the input x[i, s·a + r − pad], so each box position writes one
// value per phase. Groups: the symbol is block-diagonal; the wave carries the peak group's channels
// and zeros elsewhere.
//
// Conditions (else null): an ONNX Conv, batch 1, and the symbol's side (input: cin/group·phases ≤
// cout/group) the solver's Gram side (input values ≤ output values).
// Validated by its effect: Lanczos from it must need fewer pairs (test/unit/engine/large-input).

import type { LinearSpec } from '../../model/ir';
import { convSymbol, type ConvSymbol } from './conv-symbol';
import { convSpatial } from './conv-view';
import { locateSymbolPeak } from './symbol-sup';
import { certifiedConvUpper } from './twisted-grid';
import { describeWindow, normalisedProfiles, windowLowerBound, type WindowLower } from './window-lower';

export interface WarmStart {
  /** Flat vector in the solver operator's input layout (`vectorShape`, batch 1). */
  start: Float32Array;
  /** Certified: σ(layer) ≥ lower. */
  lower: number;
  /**
   * Certified: σ(layer) ≤ upper, the symbol's max over a twisted torus of the real size (stride 1) or
   * its sup (valid at every size), when its certification
   * finished; it replaces the circular-embedding bound, which costs one factorisation per DFT
   * frequency of the real size (16,900 at 128²) for a value within ~1e-4 of this one.
   */
  upper: number | null;
  /** The upper bound's description, for the row. */
  upperMethod: string;
}

/**
 * @param vectorShapes the shapes the solver's operator reads its input and output vectors in:
 * [1, ...spatial, channels] (channels last, the operators' own layout) or [1, channels, ...spatial],
 * the same layout for both; anything else gives null.
 */
export function windowWarmStart(spec: LinearSpec, inputShape: number[], vectorShapes: { input: number[]; output: number[] }, tol = 1e-4, shouldStop?: () => boolean, certifyUpper = true, galerkin = true): WarmStart | null {
  if (spec.type !== 'conv' || inputShape[0] !== 1) return null;
  const spatial = convSpatial(spec, inputShape);
  if (!spatial) return null;
  const [cout, cInPerGroup] = spec.weight.dims;
  const cin = cInPerGroup * (spec.group || 1);
  // Which side the solver's Gram operator is on (lanczos.ts: the input when it has at most as many values).
  const solverSide = elementCount(vectorShapes.input) <= elementCount(vectorShapes.output) ? 'input' : 'output';
  const symbol = convSymbol(spec, spatial);
  if (!symbol || symbol.side !== solverSide) return null;
  const g = symbol.geometry;
  const symbolSide = symbol.side;
  const positions = symbolSide === 'input' ? spatial : g.outputSize;
  const channels = symbolSide === 'input' ? cin : cout;
  // The layout, read from both shapes (a 128-channel 128x128 output alone reads both ways); when
  // both still read both ways, channels last, the operators' own layout (operators/conv2d.ts).
  const reads = (channelsLast: boolean) => readsAs(vectorShapes.input, spatial, cin, channelsLast) && readsAs(vectorShapes.output, g.outputSize, cout, channelsLast);
  const last = reads(true);
  if (!last && !reads(false)) return null;
  const peak = locateSymbolPeak(symbol, undefined, shouldStop);
  if (!peak || !(peak.lambda > 0)) return null;
  const lower = windowLowerBound(symbol, peak.group, peak.omega, peak.vector, undefined, galerkin);
  if (!lower) return null;
  // The real part, written straight into the solver's layout (no full-size float64 copies).
  const count = elementCount(positions);
  const start = new Float32Array(channels * count);
  writeWindowWave(symbol, lower, peak.group, (channel, position, re) => {
    start[last ? position * channels + channel : channel * count + position] = re;
  });
  // The bound costs a Cholesky factorisation of an n × n block per cell: the caller skips it on wide
  // blocks. Its slack is a quarter of tol: the twisted torus sits a few 1e-4 below the sup at 128²,
  // a gain a slack of tol would eat.
  const bound = certifyUpper ? certifiedConvUpper(symbol, spatial, peak, tol / 4, shouldStop) : null;
  return {
    start,
    lower: lower.sigma,
    upper: bound ? bound.sigma : null,
    upperMethod: bound ? `${bound.description}; lower bound from ${describeWindow(lower)}${symbol.side === 'output' ? ' on the outputs' : ''}, also the solver's start` : '',
  };
}

/**
 * The complex test vector of `lower` on the real layer: Σ_j profile_j(a)·v_j·e^{−iω·a} on the box of
 * window-lower.ts (polyphase positions), channels first over the symbol side's positions (the
 * input, or the outputs for an output-side symbol), zero outside the box and the group.
 *
 * The boxes of window-lower.ts. Input side: a_a from max(M_a − 1, ⌈pad_a/s_a⌉), phase r_a of position
 * a_a the input index s_a·a_a + r_a − pad_a. Output side: outputs p_a from max(0, ⌈pad_a/s_a⌉), one
 * value per position. The peak group's channels: v's entry (i, r) is at i·phases + r (conv-symbol.ts),
 * r flattened with the last axis fastest (bounds/conv.ts tapLayout).
 */
export function windowWave(symbol: ConvSymbol, lower: WindowLower, groupIndex: number): { re: Float64Array; im: Float64Array } {
  const g = symbol.geometry;
  const count = elementCount(symbol.side === 'input' ? g.inputSize : g.outputSize);
  const channels = (symbol.side === 'input' ? symbol.cInPerGroup : symbol.rows) * symbol.groups.length;
  const re = new Float64Array(channels * count);
  const im = new Float64Array(channels * count);
  writeWindowWave(symbol, lower, groupIndex, (channel, position, valueRe, valueIm) => {
    re[channel * count + position] = valueRe;
    im[channel * count + position] = valueIm;
  });
  return { re, im };
}

/** windowWave's nonzero entries, one call per (channel, flat position) inside the box. */
function writeWindowWave(symbol: ConvSymbol, lower: WindowLower, groupIndex: number, put: (channel: number, position: number, re: number, im: number) => void): void {
  const g = symbol.geometry;
  const symbolSide = symbol.side;
  const positions = symbolSide === 'input' ? g.inputSize : g.outputSize;
  const groupChannels = symbolSide === 'input' ? symbol.cInPerGroup : symbol.rows;
  const lengths = lower.window;
  const rank = positions.length;
  const first = lengths.map((_, a) => Math.max(symbolSide === 'input' ? g.phaseTaps[a] - 1 : 0, Math.ceil(g.padsBegin[a] / g.strides[a])));
  const phaseStrides = symbolSide === 'input' ? g.strides : g.strides.map(() => 1);
  const phases = phaseStrides.reduce((x, y) => x * y, 1);
  const profiles = lengths.map((length) => normalisedProfiles(length));
  const strides = positions.map((_, a) => positions.slice(a + 1).reduce((x, y) => x * y, 1));
  const boxPositions = lengths.reduce((x, y) => x * y, 1);
  const channelBase = groupIndex * groupChannels;
  const phaseOffset = new Int32Array(phases);
  for (let r = 0; r < phases; r++) {
    let rest = r;
    let offset = 0;
    for (let a = rank - 1; a >= 0; a--) {
      const ra = rest % phaseStrides[a];
      rest = Math.floor(rest / phaseStrides[a]);
      offset += ra * strides[a];
    }
    phaseOffset[r] = offset;
  }
  const index = new Int32Array(rank);
  const weights = new Float64Array(lower.components.length);
  for (let flat = 0; flat < boxPositions; flat++) {
    let rest = flat;
    let angle = 0;
    let spatialOffset = 0;
    for (let a = rank - 1; a >= 0; a--) {
      index[a] = rest % lengths[a];
      rest = Math.floor(rest / lengths[a]);
      const position = first[a] + index[a];
      angle += lower.omega[a] * position;
      spatialOffset += (position * phaseStrides[a] - (symbolSide === 'input' ? g.padsBegin[a] : 0)) * strides[a];
    }
    lower.components.forEach((component, j) => {
      let w = 1;
      for (let a = 0; a < rank; a++) w *= profiles[a][component.cosineAxis === a ? 1 : 0][index[a]];
      weights[j] = w;
    });
    // v·e^{−iθ} = (v_re cos θ + v_im sin θ) + i(v_im cos θ − v_re sin θ).
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    for (let i = 0; i < groupChannels; i++) {
      for (let r = 0; r < phases; r++) {
        const at = i * phases + r;
        let valueRe = 0;
        let valueIm = 0;
        lower.components.forEach((component, j) => {
          valueRe += weights[j] * (component.re[at] * c + component.im[at] * s);
          valueIm += weights[j] * (component.im[at] * c - component.re[at] * s);
        });
        put(channelBase + i, spatialOffset + phaseOffset[r], valueRe, valueIm);
      }
    }
  }
}

function readsAs(shape: number[], spatial: number[], channels: number, channelsLast: boolean): boolean {
  const expected = channelsLast ? [1, ...spatial, channels] : [1, channels, ...spatial];
  return shape.length === expected.length && shape.every((v, i) => v === expected[i]);
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
