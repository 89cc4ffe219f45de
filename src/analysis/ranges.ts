// Certified value ranges: where every entry of a value is known to lie in [lo, hi] whatever the
// network input (sigmoid, tanh and softmax outputs, clips, and what constant scaling, shifts,
// averages and moves make of them). The product rule for a·b needs sup|a| and sup|b|
// (docs/op-coverage.md, "Gated products"). Given a box for the network input (--input-range),
// linear layers with their biases carry ranges too (docs/op-coverage.md, "Bounds on an input domain").

import { geluTanhRange } from './written-activations';
import type { ConvSpec, ConvTransposeSpec, DenseSpec, DiagonalSpec, IrNode, ValueMap } from '../model/ir';

/** lo ≤ hi, both finite. */
export type Range = readonly [number, number];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The hull of the given points, or undefined when any is not finite. */
function hull(...points: number[]): Range | undefined {
  if (!points.every(Number.isFinite)) return undefined;
  return [Math.min(...points), Math.max(...points)];
}

/** {s·x + t : s ∈ scale, x ∈ r, t ∈ shift}: its extremes are at the corners. */
function affineRange(r: Range, scale: readonly [number, number], shift: readonly [number, number]): Range | undefined {
  const products = [scale[0] * r[0], scale[0] * r[1], scale[1] * r[0], scale[1] * r[1]];
  return hull(Math.min(...products) + shift[0], Math.max(...products) + shift[1]);
}

/** The range of a pointwise or selecting map's output, given its input's range (undefined: unbounded). */
export function mapRange(map: ValueMap, input: Range | undefined): Range | undefined {
  switch (map.kind) {
    case 'select':
      return input && (map.zero ? hull(input[0], input[1], 0) : input);
    case 'affine':
      // Scale 0 (x^0): the output is the shift whatever the input, also one without a range.
      if (map.scale[0] === 0 && map.scale[1] === 0) return hull(map.shift[0], map.shift[1]);
      return input && affineRange(input, map.scale, map.shift);
    case 'clip': {
      const lo = input ? Math.min(Math.max(input[0], map.min), map.max) : map.min;
      const hi = input ? Math.min(Math.max(input[1], map.min), map.max) : map.max;
      return hull(lo, hi);
    }
    case 'sigmoid':
      return input ? [sigmoid(input[0]), sigmoid(input[1])] : [0, 1];
    case 'tanh':
      return input ? [Math.tanh(input[0]), Math.tanh(input[1])] : [-1, 1];
    case 'hardSigmoid': {
      if (!input) return [0, 1];
      const clip = (v: number) => Math.min(Math.max(map.alpha * v + map.beta, 0), 1);
      return hull(clip(input[0]), clip(input[1]));
    }
    case 'bounded':
      return hull(map.min, map.max);
    case 'geluTanh': {
      // Unbounded above without an input range; else G's range over k·input, scaled and shifted.
      const g = input && geluTanhRange(map.k * input[0], map.k * input[1]);
      return g && affineRange(g, [map.scale, map.scale], [map.shift, map.shift]);
    }
  }
}

/** sup |v| over a range. */
export function supAbs(r: Range): number {
  return Math.max(Math.abs(r[0]), Math.abs(r[1]));
}

/** {a·b : a ∈ x, b ∈ y}. */
export function productRange(x: Range, y: Range): Range | undefined {
  return hull(x[0] * y[0], x[0] * y[1], x[1] * y[0], x[1] * y[1]);
}

/** The range of a row's output from its inputs' ranges, where the row's spec says enough; else undefined. */
export function nodeRange(node: IrNode, inputs: (Range | undefined)[]): Range | undefined {
  const spec = node.spec;
  const first = inputs[0];
  switch (spec.type) {
    case 'fixed':
      return spec.values && inputs.length <= 1 ? mapRange(spec.values, first) : undefined;
    case 'diagonal':
      return first && diagonalRange(node, spec, first);
    case 'conv':
    case 'convTranspose':
    case 'dense':
      return first && inputs.length === 1 ? linearRange(node, spec, first) : undefined;
    case 'maxPool':
    case 'globalAvgPool':
    case 'reduceMean':
      // A maximum or a mean of entries lies within their range (max pooling ignores its padding).
      return first;
    case 'avgPool':
      return first && (spec.countIncludePad ? hull(first[0], first[1], 0) : first);
    case 'concat': {
      if (inputs.length === 0 || inputs.some((r) => !r)) return undefined;
      const known = inputs as Range[];
      return hull(...known.flatMap((r) => [r[0], r[1]]));
    }
    case 'add': {
      if (spec.weights || inputs.length === 0 || inputs.some((r) => !r)) return undefined;
      let lo = 0;
      let hi = 0;
      (inputs as Range[]).forEach((r, i) => {
        const sign = spec.signs?.[i] ?? 1;
        lo += sign > 0 ? r[0] : -r[1];
        hi += sign > 0 ? r[1] : -r[0];
      });
      return hull(lo, hi);
    }
    default:
      return undefined;
  }
}

/** Batch norms whose shift the reader did not record: their range is unknown (the shift moves it). */
const SHIFTED_DIAGONAL = /norm/i;

/**
 * y = s_c·x + b_c along the spec's axis. The bias is the reader's (node.execution); a batch norm
 * without one is unknown. A plain multiply's recorded multipliers may be their largest size only
 * (TF.js collapses multi-axis constants), so without a bias record the sign is not trusted: ±max|s|.
 */
function diagonalRange(node: IrNode, spec: DiagonalSpec, input: Range): Range | undefined {
  if (spec.scale.length === 0) return undefined;
  const execution = node.execution?.kind === 'affine' ? node.execution : undefined;
  if (!execution) {
    if (SHIFTED_DIAGONAL.test(node.op)) return undefined;
    let largest = 0;
    for (const s of spec.scale) largest = Math.max(largest, Math.abs(s));
    return affineRange(input, [-largest, largest], [0, 0]);
  }
  const bias = execution.bias;
  if (bias && bias.length !== spec.scale.length && bias.length !== 1) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  spec.scale.forEach((s, c) => {
    const b = bias ? bias[bias.length === 1 ? 0 : c] : 0;
    const r = affineRange(input, [s, s], [b, b]);
    if (!r) return;
    lo = Math.min(lo, r[0]);
    hi = Math.max(hi, r[1]);
  });
  return widen(hull(lo, hi));
}

/** Relative widening of a range computed by float64 sums of float32 data (docs/op-coverage.md). */
const ROUNDING_MARGIN = 1e-9;

function widen(r: Range | undefined): Range | undefined {
  if (!r) return undefined;
  const margin = ROUNDING_MARGIN * Math.max(Math.abs(r[0]), Math.abs(r[1]));
  return hull(r[0] - margin, r[1] + margin);
}

/**
 * y_o = b_o + Σ_i W_{o,i}·x_i over the taps of output feature o, each x_i ∈ [l, u] (or 0 where a
 * convolution reads its zero padding, or a transposed convolution's tap misses: 0 joins the range).
 * Then y_o ∈ b_o + P_o·[l, u] + N_o·[u, l] with P_o, N_o the sums of W's positive and negative taps.
 * Only where the reader recorded the bias (node.execution); otherwise unknown.
 */
export function linearRange(node: IrNode, spec: ConvSpec | ConvTransposeSpec | DenseSpec, input: Range): Range | undefined {
  const execution = node.execution;
  if (execution?.kind !== 'affine') return undefined;
  const { dims, data } = spec.weight;
  let outputs: number;
  let tapsOf: (o: number, visit: (w: number) => void) => void;
  let x = input;
  if (spec.type === 'dense') {
    if (dims.length !== 2) return undefined;
    const [inFeatures, outFeatures] = dims;
    outputs = outFeatures;
    tapsOf = (o, visit) => {
      for (let i = 0; i < inFeatures; i++) visit(data[i * outFeatures + o]);
    };
  } else if (spec.type === 'conv') {
    outputs = dims[0];
    const perOutput = data.length / outputs;
    tapsOf = (o, visit) => {
      for (let k = o * perOutput; k < (o + 1) * perOutput; k++) visit(data[k]);
    };
    if ([...spec.padsBegin, ...spec.padsEnd].some((p) => p > 0)) x = [Math.min(x[0], 0), Math.max(x[1], 0)];
  } else {
    // [cIn, cOut / group, ...kernel]: output o of group g reads inputs g·cIn/group … with taps W[ci, o mod cOut/group].
    const [inChannels, perGroupOut] = dims;
    const kernel = dims.slice(2).reduce((a, b) => a * b, 1);
    const inPerGroup = inChannels / spec.group;
    outputs = perGroupOut * spec.group;
    tapsOf = (o, visit) => {
      const g = Math.floor(o / perGroupOut);
      const j = o % perGroupOut;
      for (let ci = g * inPerGroup; ci < (g + 1) * inPerGroup; ci++) {
        const base = (ci * perGroupOut + j) * kernel;
        for (let k = 0; k < kernel; k++) visit(data[base + k]);
      }
    };
    x = [Math.min(x[0], 0), Math.max(x[1], 0)];
  }
  const bias = execution.bias;
  if (bias && bias.length !== outputs) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  let magnitude = 0;
  for (let o = 0; o < outputs; o++) {
    let positive = 0;
    let negative = 0;
    tapsOf(o, (w) => {
      if (w > 0) positive += w;
      else negative += w;
    });
    const b = bias ? bias[o] : 0;
    lo = Math.min(lo, b + positive * x[0] + negative * x[1]);
    hi = Math.max(hi, b + positive * x[1] + negative * x[0]);
    magnitude = Math.max(magnitude, Math.abs(b) + (positive - negative) * Math.max(Math.abs(x[0]), Math.abs(x[1])));
  }
  // The sums' rounding error is relative to the size of their terms, not of the result.
  const margin = ROUNDING_MARGIN * magnitude;
  return hull(lo - margin, hi + margin);
}
