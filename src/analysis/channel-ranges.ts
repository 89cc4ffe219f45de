// Per-channel certified value ranges (docs/op-coverage.md, "Per-channel ranges"): one interval per
// index of a value's channel axis instead of one per tensor. A linear layer's output channel o then
// gets the exact interval b_o + Σ_c (P_{o,c}·[l_c, u_c] + N_{o,c}·[u_c, l_c]) from its inputs'
// per-channel intervals, activations clip each channel, and a channel that never gets large keeps
// the next layer's range small. Everything here is interval arithmetic, so every rule is sound by
// construction; where a rule does not apply, the hull goes through the per-tensor rules of
// ranges.ts (nodeRange), and the result is one interval again.

import type { ConvSpec, ConvTransposeSpec, DenseSpec, DiagonalSpec, IrNode, NodeExecution } from '../model/ir';
import { mapRange, nodeRange, productRange, supAbs, type Range } from './ranges';

/**
 * Every entry of a value whose index along `axis` is c lies in [lo[c], hi[c]]. `axis` −1: one
 * interval for every entry (lo and hi of length 1).
 */
export interface ChannelRanges {
  axis: number;
  lo: Float64Array;
  hi: Float64Array;
}

/** Relative widening of ranges computed by float64 sums of float32 data (as in ranges.ts). */
const ROUNDING_MARGIN = 1e-9;

export function uniformRanges(r: Range): ChannelRanges {
  return { axis: -1, lo: Float64Array.of(r[0]), hi: Float64Array.of(r[1]) };
}

/** The hull of all channels' intervals, or undefined when one is not finite. */
export function hullOfRanges(v: ChannelRanges | undefined): Range | undefined {
  if (!v) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (let c = 0; c < v.lo.length; c++) {
    lo = Math.min(lo, v.lo[c]);
    hi = Math.max(hi, v.hi[c]);
  }
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : undefined;
}

/** Intervals per index of `axis` (of a value with `length` indices there): the value's own, or its hull repeated. */
function along(v: ChannelRanges, axis: number, length: number): { lo: Float64Array; hi: Float64Array } | undefined {
  if (v.axis === axis && v.lo.length === length) return { lo: v.lo, hi: v.hi };
  const h = hullOfRanges(v);
  if (!h) return undefined;
  return { lo: new Float64Array(length).fill(h[0]), hi: new Float64Array(length).fill(h[1]) };
}

/**
 * Per-channel ranges from per-channel arrays, widened by their rounding margins ('exact': a few
 * float64 operations on each end, as ranges.ts does without widening); undefined when one is not finite.
 */
function finish(axis: number, lo: Float64Array, hi: Float64Array, magnitude?: Float64Array | 'exact'): ChannelRanges | undefined {
  for (let c = 0; c < lo.length; c++) {
    const margin = magnitude === 'exact' ? 0 : ROUNDING_MARGIN * (magnitude ? magnitude[c] : Math.max(Math.abs(lo[c]), Math.abs(hi[c])));
    lo[c] -= margin;
    hi[c] += margin;
    if (!Number.isFinite(lo[c]) || !Number.isFinite(hi[c])) return undefined;
  }
  return lo.length === 1 ? { axis: -1, lo, hi } : { axis, lo, hi };
}

function perChannel(v: ChannelRanges, map: (r: Range) => Range | undefined): ChannelRanges | undefined {
  const lo = new Float64Array(v.lo.length);
  const hi = new Float64Array(v.lo.length);
  for (let c = 0; c < lo.length; c++) {
    const r = map([v.lo[c], v.hi[c]]);
    if (!r) return undefined;
    [lo[c], hi[c]] = r;
  }
  return { axis: v.axis, lo, hi };
}

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The per-tensor rule on the inputs' hulls, as one interval. */
function hullRule(node: IrNode, inputs: (ChannelRanges | undefined)[]): ChannelRanges | undefined {
  const r = nodeRange(node, inputs.map(hullOfRanges));
  return r && uniformRanges(r);
}

/** The ranges of a row's output from its inputs' ranges (undefined: unknown). */
export function nodeChannelRanges(node: IrNode, inputs: (ChannelRanges | undefined)[]): ChannelRanges | undefined {
  const spec = node.spec;
  const first = inputs[0];
  const oneInput = inputs.length === 1 && first !== undefined;
  switch (spec.type) {
    case 'conv':
    case 'convTranspose':
    case 'dense':
      return oneInput ? linearChannelRanges(node, spec, first) ?? hullRule(node, inputs) : undefined;
    case 'diagonal':
      return oneInput ? diagonalChannelRanges(node, spec, first) ?? hullRule(node, inputs) : undefined;
    case 'maxPool':
    case 'avgPool':
    case 'globalAvgPool': {
      if (!oneInput) return undefined;
      const padded = spec.type === 'avgPool' && spec.countIncludePad;
      const moved = keepChannels(node, first, spec.channelsLast);
      if (!moved) return hullRule(node, inputs);
      return padded ? perChannel(moved, (r) => [Math.min(r[0], 0), Math.max(r[1], 0)]) : moved;
    }
    case 'reduceMean':
      return oneInput ? reducedChannels(node, spec.axes, first) ?? hullRule(node, inputs) : undefined;
    case 'concat':
      return concatChannelRanges(node, spec.axis, inputs) ?? hullRule(node, inputs);
    case 'add':
      if (spec.weights) return undefined;
      return broadcastChannels(node, inputs, (ranges) => {
        let lo = 0;
        let hi = 0;
        ranges.forEach((r, i) => {
          const sign = spec.signs?.[i] ?? 1;
          lo += sign > 0 ? r[0] : -r[1];
          hi += sign > 0 ? r[1] : -r[0];
        });
        return [lo, hi];
      }) ?? hullRule(node, inputs);
    case 'fixed':
      if (!spec.values || inputs.length > 1) return undefined;
      return (first && fixedChannelRanges(node, spec.values, first)) ?? hullRule(node, inputs);
    default:
      return undefined;
  }
}

/** The per-channel corners of a·b (broadcasting), for an elementwise product of two data values. */
export function productChannelRanges(node: IrNode, a: ChannelRanges | undefined, b: ChannelRanges | undefined): ChannelRanges | undefined {
  if (!a || !b) return undefined;
  return broadcastChannels(node, [a, b], ([x, y]) => productRange(x, y) ?? [NaN, NaN])
    ?? (() => {
      const r = productRange(hullOfRanges(a) ?? [NaN, NaN], hullOfRanges(b) ?? [NaN, NaN]);
      return r && uniformRanges(r);
    })();
}

/** A channel-preserving row (pools): the input's channels, on the output's channel axis. */
function keepChannels(node: IrNode, x: ChannelRanges, channelsLast: boolean): ChannelRanges | undefined {
  if (x.axis < 0) return x;
  const [inShape, outShape] = [node.inputShapes[0], node.outputShapes[0]];
  if (!inShape || !outShape) return undefined;
  const [inAxis, outAxis] = channelsLast ? [inShape.length - 1, outShape.length - 1] : [1, 1];
  if (x.axis !== inAxis || outShape[outAxis] !== x.lo.length) return undefined;
  return { axis: outAxis, lo: x.lo, hi: x.hi };
}

/** A mean over axes that leave the channel axis alone keeps each channel's interval. */
function reducedChannels(node: IrNode, axes: number[], x: ChannelRanges): ChannelRanges | undefined {
  if (x.axis < 0) return x;
  const [inShape, outShape] = [node.inputShapes[0], node.outputShapes[0]];
  if (!inShape || !outShape) return undefined;
  const reduced = axes.map((a) => (a < 0 ? a + inShape.length : a));
  if (reduced.includes(x.axis)) return undefined;
  const axis = outShape.length === inShape.length ? x.axis : x.axis - reduced.filter((a) => a < x.axis).length;
  return outShape[axis] === x.lo.length ? { axis, lo: x.lo, hi: x.hi } : undefined;
}

/**
 * Inputs combined entry by entry with broadcasting (aligned from the right): each output channel
 * combines the inputs' intervals at that channel. The output's channel axis is the first input's
 * that runs along a full axis of the output; inputs with another axis count with their hull.
 */
function broadcastChannels(node: IrNode, inputs: (ChannelRanges | undefined)[], combine: (ranges: Range[]) => Range): ChannelRanges | undefined {
  if (inputs.length === 0 || inputs.some((r) => !r)) return undefined;
  const known = inputs as ChannelRanges[];
  const outShape = node.outputShapes[0];
  if (!outShape || node.inputShapes.length !== known.length) return undefined;
  const rank = outShape.length;
  const outAxisOf = (i: number) => (known[i].axis < 0 ? -1 : known[i].axis + rank - node.inputShapes[i].length);
  let axis = -1;
  known.forEach((r, i) => {
    const o = outAxisOf(i);
    if (axis < 0 && o >= 0 && r.lo.length === outShape[o] && r.lo.length > 1) axis = o;
  });
  const length = axis < 0 ? 1 : outShape[axis];
  const per = known.map((r, i) => (axis >= 0 && outAxisOf(i) === axis && r.lo.length === length ? { lo: r.lo, hi: r.hi } : along(r, -2, length)));
  if (per.some((p) => !p)) return undefined;
  const lo = new Float64Array(length);
  const hi = new Float64Array(length);
  for (let c = 0; c < length; c++) {
    const r = combine(per.map((p) => [p!.lo[c], p!.hi[c]] as Range));
    [lo[c], hi[c]] = r;
  }
  return finish(axis, lo, hi, 'exact');
}

function concatChannelRanges(node: IrNode, concatAxis: number, inputs: (ChannelRanges | undefined)[]): ChannelRanges | undefined {
  if (inputs.length === 0 || inputs.some((r) => !r)) return undefined;
  const known = inputs as ChannelRanges[];
  const outShape = node.outputShapes[0];
  if (!outShape || node.inputShapes.length !== known.length) return undefined;
  const axis = concatAxis < 0 ? concatAxis + outShape.length : concatAxis;
  // Channels along the concatenated axis: the inputs' intervals one after another.
  if (known.some((r) => r.axis === axis) && known.every((r) => r.axis === axis || r.axis < 0)) {
    const parts = known.map((r, i) => along(r, axis, node.inputShapes[i][axis]));
    if (parts.some((p) => !p)) return undefined;
    const lo = Float64Array.from(parts.flatMap((p) => [...p!.lo]));
    const hi = Float64Array.from(parts.flatMap((p) => [...p!.hi]));
    return lo.length === outShape[axis] ? { axis, lo, hi } : undefined;
  }
  // Another axis: each channel is the hull of the inputs' intervals at that channel.
  const channel = known.find((r) => r.axis >= 0)?.axis;
  if (channel === undefined || known.some((r) => r.axis >= 0 && (r.axis !== channel || r.lo.length !== outShape[channel]))) return undefined;
  const per = known.map((r) => along(r, channel, outShape[channel]));
  const lo = new Float64Array(outShape[channel]).fill(Infinity);
  const hi = new Float64Array(outShape[channel]).fill(-Infinity);
  for (const p of per) {
    if (!p) return undefined;
    for (let c = 0; c < lo.length; c++) {
      lo[c] = Math.min(lo[c], p.lo[c]);
      hi[c] = Math.max(hi[c], p.hi[c]);
    }
  }
  return { axis: channel, lo, hi };
}

/** Pointwise and selecting rows with a value map (src/model/ir.ts ValueMap). */
function fixedChannelRanges(node: IrNode, values: NonNullable<Extract<IrNode['spec'], { type: 'fixed' }>['values']>, x: ChannelRanges): ChannelRanges | undefined {
  const pointwise = sameShape(node.inputShapes[0], node.outputShapes[0]);
  const execution = node.execution;
  if (values.kind === 'select') {
    if (x.axis < 0) return perChannel(x, (r) => mapRange(values, r));
    // Identity reshapes keep every entry in place; zero (or constant) padding keeps channels when it pads other axes.
    if (pointwise && execution?.kind === 'reshape') return x;
    if (execution?.kind === 'pad' && execution.begin.length === node.inputShapes[0]?.length && execution.begin[x.axis] === 0 && execution.end[x.axis] === 0) {
      return perChannel(x, (r) => [Math.min(r[0], execution.value), Math.max(r[1], execution.value)]);
    }
    return undefined;
  }
  if (!pointwise) return x.axis < 0 ? perChannel(x, (r) => mapRange(values, r)) : undefined;
  if (values.kind === 'affine' && execution?.kind === 'shift') return shiftChannelRanges(node, execution, x) ?? perChannel(x, (r) => mapRange(values, r));
  return perChannel(x, (r) => mapRange(values, r));
}

/**
 * y = sign·x + constantSign·c for a broadcast constant c: per channel, c's smallest and largest
 * entries at that channel. A constant that varies along one axis gives a uniform input channels there.
 */
function shiftChannelRanges(node: IrNode, execution: Extract<NodeExecution, { kind: 'shift' }>, x: ChannelRanges): ChannelRanges | undefined {
  const outShape = node.outputShapes[0];
  const { dims, data } = execution.constant;
  if (!outShape || dims.length > outShape.length || data.length === 0) return undefined;
  const offset = outShape.length - dims.length;
  let axis = x.axis;
  if (axis < 0) {
    const varying = dims.map((d, i) => (d > 1 ? i + offset : -1)).filter((a) => a >= 0);
    if (varying.length !== 1) return undefined;
    axis = varying[0];
  }
  const length = outShape[axis];
  const xs = along(x, axis, length);
  if (!xs) return undefined;
  const cAxis = axis - offset;
  const cmin = new Float64Array(length).fill(Infinity);
  const cmax = new Float64Array(length).fill(-Infinity);
  const stride = dims.slice(cAxis + 1).reduce((a, b) => a * b, 1);
  const spread = cAxis < 0 || dims[cAxis] === 1;
  for (let k = 0; k < data.length; k++) {
    const value = execution.constantSign * data[k];
    const channels = spread ? [...Array(length).keys()] : [Math.floor(k / stride) % dims[cAxis]];
    for (const c of channels) {
      cmin[c] = Math.min(cmin[c], value);
      cmax[c] = Math.max(cmax[c], value);
    }
  }
  const lo = new Float64Array(length);
  const hi = new Float64Array(length);
  for (let c = 0; c < length; c++) {
    const [l, u] = execution.sign > 0 ? [xs.lo[c], xs.hi[c]] : [-xs.hi[c], -xs.lo[c]];
    lo[c] = l + cmin[c];
    hi[c] = u + cmax[c];
  }
  return finish(axis, lo, hi, 'exact');
}

/** y_c = s_c·x_c + b_c along the spec's axis, where the reader recorded the shift (node.execution). */
function diagonalChannelRanges(node: IrNode, spec: DiagonalSpec, x: ChannelRanges): ChannelRanges | undefined {
  const execution = node.execution;
  if (execution?.kind !== 'affine' || spec.scale.length === 0) return undefined;
  const bias = execution.bias;
  const n = spec.scale.length;
  if (bias && bias.length !== n && bias.length !== 1) return undefined;
  const biasAt = (c: number) => (bias ? bias[bias.length === 1 ? 0 : c] : 0);
  if (n === 1 || spec.axis < 0) {
    if (n !== 1) return undefined;
    const [s, b] = [spec.scale[0], biasAt(0)];
    return perChannel(x, (r) => [Math.min(s * r[0], s * r[1]) + b, Math.max(s * r[0], s * r[1]) + b]);
  }
  if (node.inputShapes[0]?.[spec.axis] !== n) return undefined;
  const xs = along(x, spec.axis, n);
  if (!xs) return undefined;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const magnitude = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const [s, b] = [spec.scale[c], biasAt(c)];
    lo[c] = Math.min(s * xs.lo[c], s * xs.hi[c]) + b;
    hi[c] = Math.max(s * xs.lo[c], s * xs.hi[c]) + b;
    magnitude[c] = Math.abs(b) + Math.abs(s) * Math.max(Math.abs(xs.lo[c]), Math.abs(xs.hi[c]));
  }
  return finish(spec.axis, lo, hi, magnitude);
}

/**
 * A conv, transposed conv or dense output channel o: b_o + Σ over its taps w reading input channel
 * c of (w > 0 ? w·[l_c, u_c] : w·[u_c, l_c]). Zero padding (and a transposed conv's missing taps)
 * let 0 join each input channel's interval. Only where the reader recorded the bias.
 */
export function linearChannelRanges(node: IrNode, spec: ConvSpec | ConvTransposeSpec | DenseSpec, x: ChannelRanges): ChannelRanges | undefined {
  const execution = node.execution;
  const [inShape, outShape] = [node.inputShapes[0], node.outputShapes[0]];
  if (execution?.kind !== 'affine' || !inShape || !outShape) return undefined;
  const { dims, data } = spec.weight;
  let inAxis: number;
  let outAxis: number;
  let outputs: number;
  let inputsPerOutput: number;
  /** Visits output o's taps as (input channel, weight). */
  let tapsOf: (o: number, visit: (c: number, w: number) => void) => void;
  let zeroJoins = false;
  if (spec.type === 'dense') {
    if (dims.length !== 2) return undefined;
    const [inFeatures, outFeatures] = dims;
    inAxis = spec.axis ?? inShape.length - 1;
    const inPlace = inAxis + outShape.length - inShape.length;
    // An Einsum's permuted output: the out features sit where the permutation moved that axis.
    outAxis = spec.outputPerm ? spec.outputPerm.indexOf(inPlace) : inPlace;
    outputs = outFeatures;
    inputsPerOutput = inFeatures;
    tapsOf = (o, visit) => {
      for (let i = 0; i < inFeatures; i++) visit(i, data[i * outFeatures + o]);
    };
  } else if (spec.type === 'conv') {
    inAxis = spec.channelsLast ? inShape.length - 1 : 1;
    outAxis = spec.channelsLast ? outShape.length - 1 : 1;
    outputs = dims[0];
    const perGroupIn = dims[1];
    const perGroupOut = outputs / spec.group;
    const kernel = dims.slice(2).reduce((a, b) => a * b, 1);
    inputsPerOutput = perGroupIn * spec.group;
    tapsOf = (o, visit) => {
      const g = Math.floor(o / perGroupOut);
      for (let j = 0; j < perGroupIn; j++) {
        const base = (o * perGroupIn + j) * kernel;
        for (let k = 0; k < kernel; k++) visit(g * perGroupIn + j, data[base + k]);
      }
    };
    zeroJoins = [...spec.padsBegin, ...spec.padsEnd].some((p) => p > 0);
  } else {
    inAxis = spec.channelsLast ? inShape.length - 1 : 1;
    outAxis = spec.channelsLast ? outShape.length - 1 : 1;
    const [inChannels, perGroupOut] = dims;
    const kernel = dims.slice(2).reduce((a, b) => a * b, 1);
    const inPerGroup = inChannels / spec.group;
    outputs = perGroupOut * spec.group;
    inputsPerOutput = inChannels;
    tapsOf = (o, visit) => {
      const g = Math.floor(o / perGroupOut);
      const j = o % perGroupOut;
      for (let ci = g * inPerGroup; ci < (g + 1) * inPerGroup; ci++) {
        const base = (ci * perGroupOut + j) * kernel;
        for (let k = 0; k < kernel; k++) visit(ci, data[base + k]);
      }
    };
    zeroJoins = true;
  }
  if (inShape[inAxis] !== inputsPerOutput || outShape[outAxis] !== outputs) return undefined;
  const xs = along(x, inAxis, inputsPerOutput);
  if (!xs) return undefined;
  const [inLo, inHi] = zeroJoins ? [xs.lo.map((v) => Math.min(v, 0)), xs.hi.map((v) => Math.max(v, 0))] : [xs.lo, xs.hi];
  const bias = execution.bias;
  if (bias && bias.length !== outputs) return undefined;
  const lo = new Float64Array(outputs);
  const hi = new Float64Array(outputs);
  const magnitude = new Float64Array(outputs);
  for (let o = 0; o < outputs; o++) {
    const b = bias ? bias[o] : 0;
    let [l, u, m] = [b, b, Math.abs(b)];
    tapsOf(o, (c, w) => {
      if (w > 0) {
        l += w * inLo[c];
        u += w * inHi[c];
      } else {
        l += w * inHi[c];
        u += w * inLo[c];
      }
      m += Math.abs(w) * Math.max(Math.abs(inLo[c]), Math.abs(inHi[c]));
    });
    [lo[o], hi[o], magnitude[o]] = [l, u, m];
  }
  // The sums' rounding error is relative to the size of their terms, not of the result.
  return finish(outAxis, lo, hi, magnitude);
}

/** sup |v| at each channel. */
function supAbsAt(v: ChannelRanges, c: number): number {
  return supAbs([v.lo[v.axis < 0 ? 0 : c], v.hi[v.axis < 0 ? 0 : c]]);
}

/** Output entries beyond which the product weights fall back to the per-tensor sizes (the exact sum loops over every entry). */
const WEIGHT_LOOP_LIMIT = 1 << 24;

/**
 * The product rule's weights for y = a ⊙ b with broadcasting: ‖Δa ⊙ b‖ ≤ w_a·‖Δa‖ with
 * w_a = max over a's entries k of √(Σ over the outputs i that read k of sup|b_i|²), and the same
 * for b. For a per-channel gate b broadcast over an image a this is max_c sup|a_c|·√(spatial size)
 * for b, and max sup|b| for a (docs/op-coverage.md, "Per-channel ranges").
 */
export function productWeights(node: IrNode, a: ChannelRanges, b: ChannelRanges): [number, number] {
  const out = node.outputShapes[0];
  const shapes = node.inputShapes;
  const count = out.reduce((x, y) => x * y, 1);
  if (count > WEIGHT_LOOP_LIMIT || shapes.length !== 2) {
    const copies = shapes.map((s) => count / s.reduce((x, y) => x * y, 1));
    return [supAbs(hullOfRanges(b) ?? [NaN, NaN]) * Math.sqrt(copies[0]), supAbs(hullOfRanges(a) ?? [NaN, NaN]) * Math.sqrt(copies[1])];
  }
  const rank = out.length;
  // Per factor: strides into it for each output axis (0 where broadcast), and its channel's stride and size.
  const layout = [a, b].map((r, f) => {
    const shape = shapes[f];
    const offset = rank - shape.length;
    const strides = new Array<number>(rank).fill(0);
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (shape[i] !== 1) strides[i + offset] = s;
      s *= shape[i];
    }
    const channelStride = r.axis < 0 ? 0 : shape.slice(r.axis + 1).reduce((x, y) => x * y, 1);
    return { strides, size: s, channelStride, channels: r.axis < 0 ? 1 : shape[r.axis] };
  });
  const sums = layout.map((l) => new Float64Array(l.size));
  const sup = [a, b].map((r, f) => Float64Array.from({ length: layout[f].channels }, (_, c) => supAbsAt(r, c) ** 2));
  const index = new Array<number>(rank).fill(0);
  const flat = [0, 0];
  for (let i = 0; i < count; i++) {
    const ka = flat[0];
    const kb = flat[1];
    const ca = layout[0].channelStride ? Math.floor(ka / layout[0].channelStride) % layout[0].channels : 0;
    const cb = layout[1].channelStride ? Math.floor(kb / layout[1].channelStride) % layout[1].channels : 0;
    sums[0][ka] += sup[1][cb];
    sums[1][kb] += sup[0][ca];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      flat[0] += layout[0].strides[d];
      flat[1] += layout[1].strides[d];
      if (index[d] < out[d]) break;
      flat[0] -= layout[0].strides[d] * out[d];
      flat[1] -= layout[1].strides[d] * out[d];
      index[d] = 0;
    }
  }
  const largest = (s: Float64Array) => Math.sqrt(s.reduce((m, v) => Math.max(m, v), 0));
  return [largest(sums[0]), largest(sums[1])];
}
