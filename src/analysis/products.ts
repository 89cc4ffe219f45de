// Elementwise products of two data values, shared by both readers (docs/op-coverage.md, "Gated
// products"). A reader marks every Mul of two data tensors as an unbounded product; this pass, run
// on the finished IR, then decides:
// 1. x·gate(x), both factors pointwise functions of one value r (SiLU as Sigmoid + Mul, hard-swish
//    as HardSigmoid + Mul, or as x·clip(x + 3, 0, 6)/6 written with Add, Clip, Mul and Div): a
//    pointwise activation of r, whose constant is the largest slope of the scalar function, found
//    exactly for piecewise-linear gates (pieces of a product of two linear functions have a
//    derivative linear in x, so its largest size is at a piece's end) and from SiLU's constant for
//    a sigmoid gate. A scalar scale right after (the /6) is counted in that row.
// 2. otherwise, both factors with a certified value range (src/analysis/ranges.ts):
//    ‖ab − a'b'‖ ≤ sup|b|·‖a − a'‖ + sup|a|·‖b − b'‖, each term times √(copies) where broadcasting
//    copies a factor's entries: a weighted sum of the factors' bounds.
// 3. otherwise it stays unbounded, naming the factor without a range.
// The same pass bounds MatMuls of two data tensors from their factors' operator norms (attention),
// products with a factor held fixed (constant 0 with respect to the signal: only its size counts),
// recurrent cells whose initial state is a fixed input with a given range, and log of values
// bounded below (docs/op-coverage.md, "Products of two data matrices", "Inputs held fixed",
// "Moduli and logarithms"). Written-out normalisations are recognised first (src/analysis/layer-norm.ts),
// then written-out GELU (tanh approximation) and sigmoid rows (src/analysis/written-activations.ts).

import type { AddSpec, FixedSpec, IrModel, IrNode, RecurrentCell } from '../model/ir';
import { ModelError } from '../model/errors';
import { broadcastShapes } from './broadcast';
import { recurrentConstant } from './recurrent';
import { SILU_CONSTANT } from './constants';
import { recogniseLayerNorms } from './layer-norm';
import { recogniseWrittenActivations } from './written-activations';
import { nodeRange, productRange, supAbs, type Range } from './ranges';
import { hullOfRanges, nodeChannelRanges, productChannelRanges, productWeights, uniformRanges, type ChannelRanges } from './channel-ranges';
import { product as elementCount } from './shapes';

interface Piece {
  slope: number;
  intercept: number;
}

/** A continuous piecewise-linear scalar function: pieces[i] holds between breaks[i − 1] and breaks[i]. */
export interface PiecewiseLinear {
  breaks: number[];
  pieces: Piece[];
}

/** scale·sigmoid(slope·x + intercept) + shift. */
interface SigmoidGate {
  kind: 'sigmoid';
  inner: Piece;
  scale: number;
  shift: number;
}

type Pointwise = { kind: 'linear'; f: PiecewiseLinear } | SigmoidGate;

/** An exactly pointwise map of a row, as far as this pass composes them. */
type ExactMap =
  | { kind: 'affine'; scale: number; shift: number }
  | { kind: 'clip'; min: number; max: number }
  | { kind: 'hardSigmoid'; alpha: number; beta: number }
  | { kind: 'sigmoid' };

export const IDENTITY: PiecewiseLinear = { breaks: [], pieces: [{ slope: 1, intercept: 0 }] };

export function affineOf(f: PiecewiseLinear, scale: number, shift: number): PiecewiseLinear {
  return { breaks: [...f.breaks], pieces: f.pieces.map((p) => ({ slope: scale * p.slope, intercept: scale * p.intercept + shift })) };
}

function intervalOf(f: PiecewiseLinear, i: number): [number, number] {
  return [i === 0 ? -Infinity : f.breaks[i - 1], i === f.pieces.length - 1 ? Infinity : f.breaks[i]];
}

/** A point strictly inside (left, right). */
function inside(left: number, right: number): number {
  if (left === -Infinity && right === Infinity) return 0;
  if (left === -Infinity) return right - 1;
  if (right === Infinity) return left + 1;
  return (left + right) / 2;
}

/** min(max(f, lo), hi), split where f crosses lo or hi. */
export function clipOf(f: PiecewiseLinear, lo: number, hi: number): PiecewiseLinear {
  const breaks: number[] = [];
  const pieces: Piece[] = [];
  const push = (piece: Piece, end: number) => {
    const last = pieces[pieces.length - 1];
    if (last && last.slope === piece.slope && last.intercept === piece.intercept) breaks[breaks.length - 1] = end;
    else {
      pieces.push(piece);
      breaks.push(end);
    }
  };
  f.pieces.forEach((p, i) => {
    const [left, right] = intervalOf(f, i);
    const cuts = p.slope === 0 ? [] : [lo, hi].filter(Number.isFinite).map((level) => (level - p.intercept) / p.slope).filter((x) => x > left && x < right).sort((a, b) => a - b);
    const ends = [left, ...cuts, right];
    for (let k = 0; k + 1 < ends.length; k++) {
      const value = p.slope * inside(ends[k], ends[k + 1]) + p.intercept;
      const piece = value < lo ? { slope: 0, intercept: lo } : value > hi ? { slope: 0, intercept: hi } : p;
      push(piece, ends[k + 1]);
    }
  });
  breaks.pop();
  return { breaks, pieces };
}

/** The piece of f on the open interval around x (x is never a break here). */
function pieceAt(f: PiecewiseLinear, x: number): Piece {
  let i = 0;
  while (i < f.breaks.length && f.breaks[i] < x) i++;
  return f.pieces[i];
}

/** sup |d/dx (u·g)|: exact; Infinity when a piece of the product is quadratic on an unbounded interval. */
export function productSlope(u: PiecewiseLinear, g: PiecewiseLinear): number {
  const breaks = [...new Set([...u.breaks, ...g.breaks])].sort((a, b) => a - b);
  const ends = [-Infinity, ...breaks, Infinity];
  let largest = 0;
  for (let k = 0; k + 1 < ends.length; k++) {
    const [left, right] = [ends[k], ends[k + 1]];
    const x = inside(left, right);
    const a = pieceAt(u, x);
    const b = pieceAt(g, x);
    // d/dx (a₁x + c₁)(a₂x + c₂) = 2a₁a₂x + a₁c₂ + a₂c₁: linear, largest in size at an end.
    const quadratic = 2 * a.slope * b.slope;
    const constant = a.slope * b.intercept + b.slope * a.intercept;
    if (quadratic !== 0 && (left === -Infinity || right === Infinity)) return Infinity;
    for (const end of [left, right]) {
      largest = Math.max(largest, Math.abs(Number.isFinite(end) ? quadratic * end + constant : constant));
    }
  }
  return largest;
}

function evaluate(f: PiecewiseLinear, x: number): number {
  const p = pieceAt(f, x);
  return p.slope * x + p.intercept;
}

function applyMap(fn: Pointwise, map: ExactMap): Pointwise | undefined {
  if (fn.kind === 'sigmoid') {
    return map.kind === 'affine' ? { ...fn, scale: fn.scale * map.scale, shift: fn.shift * map.scale + map.shift } : undefined;
  }
  switch (map.kind) {
    case 'affine': return { kind: 'linear', f: affineOf(fn.f, map.scale, map.shift) };
    case 'clip': return { kind: 'linear', f: clipOf(fn.f, map.min, map.max) };
    case 'hardSigmoid': return { kind: 'linear', f: clipOf(affineOf(fn.f, map.alpha, map.beta), 0, 1) };
    case 'sigmoid':
      return fn.f.pieces.length === 1 ? { kind: 'sigmoid', inner: fn.f.pieces[0], scale: 1, shift: 0 } : undefined;
  }
}

/** The row's map when it is exactly pointwise (same shape in and out, one input, one output). */
function exactMap(node: IrNode): ExactMap | undefined {
  if (node.inputs.length !== 1 || node.outputs.length !== 1) return undefined;
  const [x, y] = [node.inputShapes[0], node.outputShapes[0]];
  if (!x || !y || x.length !== y.length || x.some((d, i) => d !== y[i])) return undefined;
  const spec = node.spec;
  if (spec.type === 'diagonal') {
    const s = spec.scale[0];
    return spec.scale.every((v) => v === s) ? { kind: 'affine', scale: s, shift: 0 } : undefined;
  }
  if (spec.type !== 'fixed' || !spec.values) return undefined;
  const v = spec.values;
  switch (v.kind) {
    case 'affine':
      return v.scale[0] === v.scale[1] && v.shift[0] === v.shift[1] ? { kind: 'affine', scale: v.scale[0], shift: v.shift[0] } : undefined;
    case 'clip': return { kind: 'clip', min: v.min, max: v.max };
    case 'hardSigmoid': return { kind: 'hardSigmoid', alpha: v.alpha, beta: v.beta };
    case 'sigmoid': return { kind: 'sigmoid' };
    default: return undefined;
  }
}

/** The values `value` is an exactly pointwise function of, nearest first (itself first), with the map that makes each from the next. */
function pointwiseAncestry(value: string, producers: ReadonlyMap<string, IrNode>): { value: string; map?: ExactMap }[] {
  const chain: { value: string; map?: ExactMap }[] = [{ value }];
  for (let node = producers.get(value); node; node = producers.get(chain[chain.length - 1].value)) {
    const map = exactMap(node);
    if (!map) break;
    chain[chain.length - 1].map = map;
    chain.push({ value: node.inputs[0] });
  }
  return chain;
}

/** value = fn(root), for `root` the `depth`-th entry of value's ancestry. */
function pointwiseFrom(chain: { value: string; map?: ExactMap }[], depth: number): Pointwise | undefined {
  let fn: Pointwise | undefined = { kind: 'linear', f: IDENTITY };
  for (let k = depth - 1; k >= 0 && fn; k--) fn = applyMap(fn, chain[k].map as ExactMap);
  return fn;
}

/** Both factors as pointwise functions of their nearest common ancestor, where they have one. */
function commonOrigin(a: string, b: string, producers: ReadonlyMap<string, IrNode>): { root: string; u: Pointwise; g: Pointwise } | undefined {
  const [chainA, chainB] = [pointwiseAncestry(a, producers), pointwiseAncestry(b, producers)];
  const depthB = new Map(chainB.map((entry, depth) => [entry.value, depth]));
  const depthA = chainA.findIndex((entry) => depthB.has(entry.value));
  if (depthA < 0) return undefined;
  const root = chainA[depthA].value;
  const u = pointwiseFrom(chainA, depthA);
  const g = pointwiseFrom(chainB, depthB.get(root) as number);
  return u && g ? { root, u, g } : undefined;
}

/** The Lipschitz constant of r ↦ u(r)·g(r), or undefined when this pass cannot say. */
function gatedConstant(u: Pointwise, g: Pointwise): { constant: number; detail: string; f?: PiecewiseLinear[] } | undefined {
  if (u.kind === 'linear' && g.kind === 'linear') {
    const constant = productSlope(u.f, g.f);
    return Number.isFinite(constant) ? { constant, detail: 'x·gate(x), piecewise quadratic', f: [u.f, g.f] } : undefined;
  }
  const [linear, gate] = u.kind === 'sigmoid' ? [g, u] : [u, g];
  if (linear.kind !== 'linear' || gate.kind !== 'sigmoid') return undefined;
  const piece = linear.f.pieces[0];
  // a·x · s·sigmoid(k·x) = (a·s/k)·h(kx) with h(t) = t·sigmoid(t): slope a·s·h'(kx), at most |a·s|·1.0998.
  if (linear.f.pieces.length !== 1 || piece.intercept !== 0 || gate.inner.intercept !== 0 || gate.shift !== 0 || gate.inner.slope === 0) return undefined;
  const scale = Math.abs(piece.slope * gate.scale);
  const constant = scale * SILU_CONSTANT;
  return { constant, detail: scale === 1 ? 'x·sigmoid(x) = SiLU/swish: max slope ≈ 1.0998' : `${scale}·SiLU (x·sigmoid(x) scaled): ${scale} × 1.0998` };
}

/** Hard-swish x·clip(x + 3, 0, 6)/6, checked on points around its three pieces. */
function isHardSwish(u: PiecewiseLinear, g: PiecewiseLinear, scale: number): boolean {
  return [-7, -4, -3, -2, -0.5, 0, 1, 2.5, 3, 4, 9].every((x) => {
    const written = evaluate(u, x) * evaluate(g, x) * scale;
    const expected = (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
    return Math.abs(written - expected) <= 1e-6 * Math.max(1, Math.abs(expected));
  });
}

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The passes both readers run on their finished IR: written-out normalisations first (their rows
 * then carry constants and ranges), then products, data matrix products, recurrent cells with data
 * states and logarithms of positive values, in one pass over the ranges (see the header).
 */
export function resolveSharedPatterns(model: IrModel, inputRange?: readonly [number, number], inputRanges?: Readonly<Record<string, readonly [number, number]>>): void {
  const signal = model.signalInput ?? model.inputs[0]?.name;
  const names = model.inputs.map((i) => i.name);
  for (const name of Object.keys(inputRanges ?? {})) {
    if (!names.includes(name)) throw new ModelError(model.path, `has no input "${name}" (--input-range ${name}=…); its inputs are ${names.map((n) => `"${n}"`).join(', ')}`);
  }
  // A named range for the signal input is its box, as the plain --input-range LO,HI.
  const signalRange = inputRange ?? (signal !== undefined ? inputRanges?.[signal] : undefined);
  recogniseLayerNorms(model);
  recogniseWrittenActivations(model);
  resolveProducts(model, signalRange, inputRanges);
}

/**
 * Resolves every product row of the model in place (see the header). With `inputRange`, the signal
 * input lies in the box [lo, hi]ⁿ and ranges also flow from it (through linear layers too), so
 * products bounded only there get a bound valid on that box (docs/op-coverage.md, "Bounds on an
 * input domain"); `model.domain` records it. Returns the value ranges it used.
 */
export function resolveProducts(model: IrModel, inputRange?: readonly [number, number], fixedRanges?: Readonly<Record<string, readonly [number, number]>>): ReadonlyMap<string, Range> {
  return resolveProductsWithChannels(model, inputRange, fixedRanges).hulls;
}

/**
 * resolveProducts, returning also the per-channel ranges it used (src/analysis/channel-ranges.ts,
 * docs/op-coverage.md "Per-channel ranges"): each value's per-tensor range is the intersection of
 * the per-tensor rule's and the hull of its channels (both enclose every value).
 */
export function resolveProductsWithChannels(model: IrModel, inputRange?: readonly [number, number], fixedRanges?: Readonly<Record<string, readonly [number, number]>>): { hulls: ReadonlyMap<string, Range>; channels: ReadonlyMap<string, ChannelRanges> } {
  const producers = new Map<string, IrNode>();
  const consumers = new Map<string, IrNode[]>();
  for (const node of model.nodes) for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const graphOutputs = new Set(model.outputs);
  // Ranges whatever the input, and (with a domain) ranges for inputs in the box.
  const global = new Map<string, Range>();
  const domain = inputRange ? new Map<string, Range>() : undefined;
  const channelGlobal = new Map<string, ChannelRanges>();
  const channelDomain = inputRange ? new Map<string, ChannelRanges>() : undefined;
  const signal = model.signalInput ?? model.inputs[0]?.name;
  if (domain && inputRange && signal !== undefined) {
    domain.set(signal, [inputRange[0], inputRange[1]]);
    channelDomain?.set(signal, uniformRanges([inputRange[0], inputRange[1]]));
    model.domain = { inputRange: [inputRange[0], inputRange[1]] };
  }

  // Values that do not depend on the signal (inputs held fixed and what is computed from them
  // alone): Lipschitz constant 0 with respect to it, and the graph inputs each comes from.
  const fixed = new Map<string, Set<string>>();
  for (const input of model.inputs) if (input.name !== signal) fixed.set(input.name, new Set([input.name]));
  const givenFixed: Record<string, [number, number]> = {};
  for (const [name, r] of Object.entries(fixedRanges ?? {})) {
    if (!fixed.has(name)) continue;
    global.set(name, [r[0], r[1]]);
    domain?.set(name, [r[0], r[1]]);
    channelGlobal.set(name, uniformRanges([r[0], r[1]]));
    channelDomain?.set(name, uniformRanges([r[0], r[1]]));
    givenFixed[name] = [r[0], r[1]];
  }
  if (Object.keys(givenFixed).length > 0) model.fixedInputRanges = givenFixed;
  const context: PassContext = { producers, consumers, graphOutputs, fixed, inputRange };

  for (const node of model.nodes) {
    squareAsProduct(node, domain ?? global, inputRange);
    const product = node.spec.type === 'unbounded' && node.spec.product && node.inputs.length === 2;
    const matmul = node.spec.type === 'unbounded' && node.spec.matmul && node.inputs.length === 2;
    const rangeIn = (ranges: ReadonlyMap<string, Range>) => {
      const inputs = node.inputs.map((name) => ranges.get(name));
      if (matmul) return matmulRange(node, inputs[0], inputs[1], producers);
      return product ? (inputs[0] && inputs[1] ? productRange(inputs[0], inputs[1]) : undefined) : nodeRange(node, inputs);
    };
    // A product resolved by an earlier pass (the ranges are recomputed on a resolved model): from its factors.
    // (A written-out GELU's row has its own value map: its ranges come from that, below.)
    const earlier = !product && node.execution?.kind === 'product' && !(node.spec.type === 'fixed' && node.spec.values) ? node.execution : undefined;
    const channelsIn = (ranges: ReadonlyMap<string, ChannelRanges>, hulls: ReadonlyMap<string, Range>, scalar: Range | undefined): ChannelRanges | undefined => {
      let found: ChannelRanges | undefined;
      if (earlier) {
        const [a, b] = earlier.factors;
        if (node.spec.type !== 'fixed') found = productChannelRanges(node, ranges.get(a), ranges.get(b));
        else {
          const origin = commonOrigin(a, b, producers);
          const root = origin && ranges.get(origin.root);
          found = origin && root && gatedConstant(origin.u, origin.g) ? mapChannels(root, (r) => gatedRange(origin.u, origin.g, earlier.scale, r)) : undefined;
        }
      } else if (product) found = productChannelRanges(node, ranges.get(node.inputs[0]), ranges.get(node.inputs[1]));
      else if (!matmul) found = nodeChannelRanges(node, node.inputs.map((name) => ranges.get(name) ?? (hulls.get(name) && uniformRanges(hulls.get(name) as Range))));
      return found ?? (scalar && uniformRanges(scalar));
    };
    // Before resolving: rule 1 rewrites the row's inputs.
    let globalRange = rangeIn(global);
    let domainRange = domain && rangeIn(domain);
    let globalChannels = channelsIn(channelGlobal, global, globalRange);
    let domainChannels = channelDomain && domain && channelsIn(channelDomain, domain, domainRange);
    const origins = node.inputs.length > 0 && node.inputs.every((v) => fixed.has(v)) ? new Set(node.inputs.flatMap((v) => [...(fixed.get(v) as Set<string>)])) : undefined;
    if (origins) {
      // Computed from inputs held fixed alone: a constant for the bound (the sub-network selection drops it).
    } else if (product) {
      const gated = resolveProduct(node, context, domain ?? global, domain ? global : undefined, channelDomain ?? channelGlobal);
      if (gated) {
        // x·gate(x): the exact range of the scalar function on each channel of its origin, the scale after it included.
        const exact = (ranges: ReadonlyMap<string, ChannelRanges>, corners: ChannelRanges | undefined) => {
          const root = ranges.get(node.inputs[0]);
          const fromRoot = root && mapChannels(root, gated.range);
          return fromRoot ?? (corners && gated.scale !== 1 ? mapChannels(corners, (r) => scaled(r, gated.scale)) : corners);
        };
        globalChannels = exact(channelGlobal, globalChannels);
        domainChannels = channelDomain && exact(channelDomain, domainChannels);
        globalRange = undefined;
        domainRange = undefined;
      }
    }
    else if (matmul) resolveMatmul(node, context, domain ?? global, domain ? global : undefined);
    else if (node.spec.type === 'unbounded' && node.spec.recurrent) resolveRecurrent(node, node.spec.recurrent, context, global);
    else if (node.spec.type === 'unbounded' && node.op === 'Log' && node.inputs.length === 1) resolveLog(node, producers, global);
    const globalHull = intersect(globalRange, hullOfRanges(globalChannels));
    const domainHull = intersect(domainRange, hullOfRanges(domainChannels));
    for (const output of node.outputs) {
      producers.set(output, node);
      if (origins) fixed.set(output, origins);
      if (globalHull) global.set(output, globalHull);
      if (domain && domainHull) domain.set(output, domainHull);
      if (globalChannels) channelGlobal.set(output, globalChannels);
      if (channelDomain && domainChannels) channelDomain.set(output, domainChannels);
    }
  }
  // The ranges the bounds used (tests check them against sampled values).
  return { hulls: domain ?? global, channels: channelDomain ?? channelGlobal };
}

/**
 * x² (ONNX Pow with exponent 2, TF.js Square) left after the normalisations are recognised: the
 * product x·x, so where x has a range the product rule bounds it, 2·sup|x| (docs/op-coverage.md,
 * "Squares"); the row is rewritten to read x twice and runs as that product. Without a range it
 * stays unbounded, its reason naming the value without one.
 */
function squareAsProduct(node: IrNode, ranges: ReadonlyMap<string, Range>, inputRange: readonly [number, number] | undefined): void {
  const spec = node.spec;
  if (spec.type !== 'unbounded' || node.inputs.length !== 1 || !(spec.power === 2 || node.op === 'Square')) return;
  const [x] = node.inputs;
  if (ranges.has(x)) {
    node.inputs = [x, x];
    node.inputShapes = [node.inputShapes[0], node.inputShapes[0]];
    node.spec = { type: 'unbounded', product: true, reason: spec.reason };
  } else if (!spec.reason.includes('no bounded range')) {
    node.spec = { ...spec, reason: `${spec.reason}: "${x}" has no bounded range${inputRange ? ` (even for inputs in [${inputRange[0]}, ${inputRange[1]}])` : ''}` };
  }
}

/** The intersection of two enclosures of the same values (either may be unknown). */
function intersect(a: Range | undefined, b: Range | undefined): Range | undefined {
  if (!a || !b) return a ?? b;
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : a;
}

function scaled(r: Range, s: number): Range {
  return s >= 0 ? [s * r[0], s * r[1]] : [s * r[1], s * r[0]];
}

function mapChannels(v: ChannelRanges, map: (r: Range) => Range | undefined): ChannelRanges | undefined {
  const lo = new Float64Array(v.lo.length);
  const hi = new Float64Array(v.lo.length);
  for (let c = 0; c < lo.length; c++) {
    const r = map([v.lo[c], v.hi[c]]);
    if (!r || !Number.isFinite(r[0]) || !Number.isFinite(r[1])) return undefined;
    [lo[c], hi[c]] = r;
  }
  return { axis: v.axis, lo, hi };
}

/** t·sigmoid(t) has its one minimum at t* (1 + t·(1 − sigmoid(t)) = 0): decreasing before, increasing after. */
const SILU_ARGMIN = -1.2784645427610738;

/** {scale·u(x)·g(x) : x ∈ r}, exactly (up to a relative 1e-9 widening), for the pointwise maps rule 1 resolves. */
function gatedRange(u: Pointwise, g: Pointwise, scale: number, r: Range): Range | undefined {
  const values: number[] = [];
  if (u.kind === 'linear' && g.kind === 'linear') {
    // Piecewise quadratic: extremes at the ends, at breaks, or at a piece's vertex.
    const inner = [...new Set([...u.f.breaks, ...g.f.breaks])].filter((x) => x > r[0] && x < r[1]).sort((a, b) => a - b);
    const ends = [r[0], ...inner, r[1]];
    const points = [...ends];
    for (let k = 0; k + 1 < ends.length; k++) {
      const middle = (ends[k] + ends[k + 1]) / 2;
      const [p, q] = [pieceAt(u.f, middle), pieceAt(g.f, middle)];
      const quadratic = p.slope * q.slope;
      const vertex = quadratic !== 0 ? -(p.slope * q.intercept + q.slope * p.intercept) / (2 * quadratic) : NaN;
      if (vertex > ends[k] && vertex < ends[k + 1]) points.push(vertex);
    }
    for (const x of points) values.push(scale * evaluate(u.f, x) * evaluate(g.f, x));
  } else {
    const [linear, gate] = u.kind === 'sigmoid' ? [g, u] : [u, g];
    if (linear.kind !== 'linear' || gate.kind !== 'sigmoid' || linear.f.pieces.length !== 1) return undefined;
    const a = linear.f.pieces[0];
    const k = gate.inner.slope;
    const h = (x: number) => scale * (a.slope * x + a.intercept) * (gate.scale / (1 + Math.exp(-(k * x + gate.inner.intercept))) + gate.shift);
    // gatedConstant accepts only a·x·s·sigmoid(k·x): (a·s/k)·φ(kx) with φ(t) = t·sigmoid(t), extreme at the ends or at t*.
    if (a.intercept !== 0 || gate.inner.intercept !== 0 || gate.shift !== 0 || k === 0) return undefined;
    values.push(h(r[0]), h(r[1]));
    const critical = SILU_ARGMIN / k;
    if (critical > Math.min(r[0], r[1]) && critical < Math.max(r[0], r[1])) values.push(h(critical));
  }
  if (!values.every(Number.isFinite)) return undefined;
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const margin = 1e-9 * Math.max(Math.abs(lo), Math.abs(hi), 1e-300);
  return [lo - margin, hi + margin];
}

/**
 * `ranges` are those the bound may use (the domain's, when one is given); `global`, given with a
 * domain, tells which factors are bounded only on it (their row says so).
 */
function resolveProduct(node: IrNode, context: PassContext, ranges: ReadonlyMap<string, Range>, global: ReadonlyMap<string, Range> | undefined, channels: ReadonlyMap<string, ChannelRanges>): { range: (r: Range) => Range | undefined; scale: number } | undefined {
  const { producers, consumers, graphOutputs, inputRange } = context;
  const [a, b] = node.inputs;
  const [ra, rb] = [ranges.get(a), ranges.get(b)];
  const out = node.outputShapes[0];

  // 1. x·gate(x): both factors pointwise functions of one value, nothing broadcast.
  if (sameShape(node.inputShapes[0], out) && sameShape(node.inputShapes[1], out)) {
    const origin = commonOrigin(a, b, producers);
    const gated = origin && gatedConstant(origin.u, origin.g);
    if (origin && gated) {
      // A scalar scale that alone reads the product (hard-swish's /6) is counted here, as 1 there.
      const users = node.outputs.length === 1 && !graphOutputs.has(node.outputs[0]) ? consumers.get(node.outputs[0]) ?? [] : [];
      const next = users.length === 1 ? users[0] : undefined;
      const scaleMap = next ? exactMap(next) : undefined;
      const scale = scaleMap?.kind === 'affine' && scaleMap.shift === 0 ? scaleMap.scale : undefined;
      let constant = gated.constant;
      let detail = gated.detail;
      if (next && scale !== undefined) {
        constant *= Math.abs(scale);
        detail = gated.f && isHardSwish(gated.f[0], gated.f[1], scale)
          ? `hard-swish x·clip(x + 3, 0, 6)/6 as written (${node.op} with ${next.op} "${next.name}" after it): max slope ${constant}`
          : `${detail}, with the scale ${scale} of ${next.op} "${next.name}" after it: max slope ${constant}`;
        // Its values pass on unchanged too: the product's range includes the scale.
        next.spec = { type: 'fixed', kind: 'structural', constant: 1, detail: `scale ${scale}: counted in the gated product "${node.name}" before it, as 1 here`, values: { kind: 'select' } };
        // Executed where it is counted: the product applies the scale, this row passes values on.
        next.execution = { kind: 'reshape' };
      } else if (gated.f) {
        detail = gated.f && isHardSwish(gated.f[0], gated.f[1], 1) ? `hard-swish written as x·hardsigmoid(x): max slope ${constant}` : `${detail}: max slope ${constant}`;
      }
      const spec: FixedSpec = { type: 'fixed', kind: 'activation', constant, detail };
      node.spec = spec;
      const counted = next && scale !== undefined ? scale : 1;
      node.execution = { kind: 'product', factors: [a, b], scale: counted };
      node.inputs = [origin.root];
      node.inputShapes = [out];
      return { range: (r) => gatedRange(origin.u, origin.g, counted, r), scale: counted };
    }
  }

  node.execution = { kind: 'product', factors: [a, b], scale: 1 };
  // A factor held fixed (constant 0 with respect to the signal): only its size counts.
  const held = heldFactor(node, context, [ra, rb], `${node.op} of a signal and a value held fixed`);
  if (held) return undefined;
  // 2. Both factors bounded: the product rule, each factor's bound weighted by the other's size.
  if (ra && rb) {
    const count = elementCount(out);
    const copies = node.inputShapes.map((shape) => count / elementCount(shape));
    // Per channel where the factors' channel ranges are known (docs/op-coverage.md, "Per-channel ranges").
    const weights = productWeights(node, channels.get(a) ?? uniformRanges(ra), channels.get(b) ?? uniformRanges(rb));
    const onDomain = global && inputRange ? [a, b].filter((v) => !global.has(v)) : [];
    const spec: AddSpec = {
      type: 'add',
      weights,
      detail: (a === b
        ? `square of a bounded value (|${a}| ≤ ${supAbs(ra).toPrecision(4)}), as x·x: L ≤ 2·sup|x|·L_x`
        : `product of bounded factors (|${a}| ≤ ${supAbs(ra).toPrecision(4)}, |${b}| ≤ ${supAbs(rb).toPrecision(4)}): L ≤ sup|b|·L_a + sup|a|·L_b${copies.some((c) => c > 1) ? ', per channel, times √(copies) for broadcast factors' : ''}`)
        + (onDomain.length > 0 && inputRange ? `; ${onDomain.map((v) => `"${v}"`).join(' and ')} bounded only for inputs in [${inputRange[0]}, ${inputRange[1]}]: valid on that domain` : ''),
      ...(onDomain.length > 0 ? { domain: true as const } : {}),
    };
    node.spec = spec;
    return undefined;
  }

  // 3. Unbounded, naming the factor without a range.
  const open = [...new Set([ra ? undefined : a, rb ? undefined : b])].filter((v): v is string => v !== undefined);
  node.spec = {
    type: 'unbounded',
    product: true,
    reason: `${node.op} of two data-dependent tensors (x·y) is not globally Lipschitz: ${open.map((v) => `"${v}"`).join(' and ')} ${open.length > 1 ? 'have' : 'has'} no bounded range${inputRange ? ` (even for inputs in [${inputRange[0]}, ${inputRange[1]}])` : ''}`,
  };
}

/** What the resolving pass knows besides the ranges. */
interface PassContext {
  producers: ReadonlyMap<string, IrNode>;
  consumers: ReadonlyMap<string, IrNode[]>;
  graphOutputs: ReadonlySet<string>;
  /** Values held fixed (not depending on the signal), with the graph inputs each comes from. */
  fixed: ReadonlyMap<string, ReadonlySet<string>>;
  inputRange?: readonly [number, number];
}

const rangeFlag = (names: Iterable<string>) => [...names].map((n) => `--input-range ${n}=LO,HI`).join(', ');

/**
 * A two-factor row with exactly one factor held fixed: the fixed factor's bound is 0, so only the
 * other's counts, weighted by `weightOf(fixed factor's range)`. Rewrites the row to read the signal's
 * factor alone and returns true; with the fixed factor's range unknown, makes the row unbounded
 * naming the input and the flag that gives it, and returns true; false when neither factor is fixed.
 */
function heldFactor(node: IrNode, context: PassContext, factorRanges: (Range | undefined)[], what: string, weightOf?: (index: number, range: Range) => number): boolean {
  const index = node.inputs.findIndex((v) => context.fixed.has(v));
  if (index < 0 || node.inputs.every((v) => context.fixed.has(v))) return false;
  const held = node.inputs[index];
  const range = factorRanges[index];
  const origins = context.fixed.get(held) as ReadonlySet<string>;
  if (!range) {
    node.spec = { type: 'unbounded', reason: `${what}: "${held}" comes from the input${origins.size > 1 ? 's' : ''} ${[...origins].map((n) => `"${n}"`).join(', ')} held fixed, whose range is not given (give it with ${rangeFlag(origins)})` };
    return true;
  }
  const other = 1 - index;
  const out = node.outputShapes[0];
  const copies = elementCount(out) / elementCount(node.inputShapes[other]);
  const weight = weightOf ? weightOf(other, range) : supAbs(range) * Math.sqrt(copies);
  const signalFactor = node.inputs[other];
  node.spec = {
    type: 'add',
    weights: [weight],
    detail: `${what} ("${held}" from ${[...origins].map((n) => `"${n}"`).join(', ')}, |·| ≤ ${supAbs(range).toPrecision(4)}): L ≤ ${weight.toPrecision(4)}·L("${signalFactor}"), the fixed factor's bound being 0`,
  };
  node.inputs = [signalFactor];
  node.inputShapes = [node.inputShapes[other]];
  return true;
}

/** A matrix's operand shape as [batch…, rows, cols] (numpy.matmul's promotion of vectors). */
function asMatrix(shape: readonly number[], left: boolean): number[] {
  return shape.length === 1 ? (left ? [1, shape[0]] : [shape[0], 1]) : [...shape];
}

/** True when `value` is a softmax over its last axis (each row a probability vector). */
function softmaxRows(value: string, producers: ReadonlyMap<string, IrNode>): boolean {
  const node = producers.get(value);
  const execution = node?.execution;
  const rank = node?.outputShapes[0]?.length ?? 0;
  return !!node && node.outputs[0] === value && execution?.kind === 'activation' && execution.name === 'softmax' && (execution.axis === rank - 1 || execution.axis === -1);
}

/**
 * sup over the batch of ‖X‖₂ for an operand of `shape` ([…, rows, cols]) with entries in `range`:
 * at most its Frobenius norm sup|x|·√(rows·cols); rows that are softmax probability vectors give
 * ‖X‖₂ ≤ √(‖X‖₁·‖X‖_∞) ≤ √rows (each row sums to 1, each column to at most rows).
 */
function operatorNormBound(value: string, shape: readonly number[], range: Range, producers: ReadonlyMap<string, IrNode>): { bound: number; how: string } {
  const [rows, cols] = shape.slice(-2);
  const frobenius = supAbs(range) * Math.sqrt(rows * cols);
  const rowsBound = softmaxRows(value, producers) ? Math.sqrt(rows) : Infinity;
  return rowsBound < frobenius ? { bound: rowsBound, how: `softmax rows: ≤ √${rows}` } : { bound: frobenius, how: `≤ ${supAbs(range).toPrecision(4)}·√(${rows}·${cols})` };
}

/** The matmul row's form (docs/op-coverage.md, "Products of two data matrices"): transposes, scalar factor, constant shift. */
function matmulForm(node: IrNode): { transposeA: boolean; transposeB: boolean; scale: number; shift: [number, number] } {
  const form = node.spec.type === 'unbounded' ? node.spec.matmulForm : undefined;
  return { transposeA: !!form?.transposeA, transposeB: !!form?.transposeB, scale: form?.scale ?? 1, shift: form?.shift ?? [0, 0] };
}

/**
 * The range of scale·op(A)·op(B) + shift from the factors' ranges: B's range when op(A)'s rows are
 * softmax probabilities (A not transposed: convex combinations), else k·(ranges' product), k the
 * contracted length.
 */
function matmulRange(node: IrNode, ra: Range | undefined, rb: Range | undefined, producers: ReadonlyMap<string, IrNode>): Range | undefined {
  if (!ra || !rb) return undefined;
  const form = matmulForm(node);
  let r: Range | undefined;
  if (!form.transposeA && softmaxRows(node.inputs[0], producers)) r = rb;
  else {
    const a = asMatrix(node.inputShapes[0], true);
    const k = a[a.length - (form.transposeA ? 2 : 1)];
    const p = productRange(ra, rb);
    r = p && [k * p[0], k * p[1]];
  }
  if (!r) return undefined;
  const [lo, hi] = scaled(r, form.scale);
  return [lo + form.shift[0], hi + form.shift[1]];
}

/**
 * A MatMul of two data tensors (attention): ‖AB − A'B'‖ ≤ ‖(A − A')B‖ + ‖A'(B − B')‖ ≤
 * sup‖B‖₂·‖A − A'‖ + sup‖A‖₂·‖B − B'‖, batch by batch, so L ≤ sup‖B‖₂·√cA·L_A + sup‖A‖₂·√cB·L_B
 * with cX the times broadcasting copies X's batches (docs/op-coverage.md, "Products of two data matrices").
 */
function resolveMatmul(node: IrNode, context: PassContext, ranges: ReadonlyMap<string, Range>, global?: ReadonlyMap<string, Range>): void {
  const { producers, inputRange } = context;
  const [a, b] = node.inputs;
  const [ra, rb] = [ranges.get(a), ranges.get(b)];
  // The operands as stored: transposing one (adj_x, transA, …) changes neither its operator norm nor its batches.
  const shapes = [asMatrix(node.inputShapes[0], true), asMatrix(node.inputShapes[1], false)];
  const factor = Math.abs(matmulForm(node).scale);
  const batch = (shape: number[]) => elementCount(shape.slice(0, -2));
  const outBatch = elementCount(broadcastShapes(shapes[0].slice(0, -2), shapes[1].slice(0, -2)) ?? []);
  const copies = shapes.map((shape) => outBatch / batch(shape));
  const norms = [ra && operatorNormBound(a, shapes[0], ra, producers), rb && operatorNormBound(b, shapes[1], rb, producers)];
  // Each factor's bound is weighted by the other's operator norm (and by |alpha| for a Gemm).
  const weightOf = (index: number, range: Range) => factor * operatorNormBound(node.inputs[1 - index], shapes[1 - index], range, producers).bound * Math.sqrt(copies[index]);
  if (heldFactor(node, context, [ra, rb], `${node.op} of a signal and a value held fixed`, weightOf)) return;
  if (ra && rb && norms[0] && norms[1]) {
    const weights = [factor * norms[1].bound * Math.sqrt(copies[0]), factor * norms[0].bound * Math.sqrt(copies[1])];
    const onDomain = global && inputRange ? [a, b].filter((v) => !global.has(v)) : [];
    node.spec = {
      type: 'add',
      weights,
      detail: `${node.op} of two bounded data matrices: L ≤ ${factor !== 1 ? `${factor}·(sup‖B‖·L_A + sup‖A‖·L_B)` : 'sup‖B‖·L_A + sup‖A‖·L_B'} with sup‖"${a}"‖ ${norms[0].how}, sup‖"${b}"‖ ${norms[1].how}${copies.some((c) => c > 1) ? ', times √(copies) for broadcast batches' : ''}`
        + (onDomain.length > 0 && inputRange ? `; ${onDomain.map((v) => `"${v}"`).join(' and ')} bounded only for inputs in [${inputRange[0]}, ${inputRange[1]}]: valid on that domain` : ''),
      ...(onDomain.length > 0 ? { domain: true as const } : {}),
    };
    return;
  }
  const open = [...new Set([ra ? undefined : a, rb ? undefined : b])].filter((v): v is string => v !== undefined);
  node.spec = {
    type: 'unbounded',
    matmul: true,
    reason: `${node.op} of two data-dependent tensors (x·y) is not globally Lipschitz: ${open.map((v) => `"${v}"`).join(' and ')} ${open.length > 1 ? 'have' : 'has'} no bounded range${inputRange ? ` (even for inputs in [${inputRange[0]}, ${inputRange[1]}])` : ''}`,
  };
}

/** A recurrent cell whose initial state is data: bounded once the state is held fixed with a known range. */
function resolveRecurrent(node: IrNode, cell: RecurrentCell, context: PassContext, ranges: ReadonlyMap<string, Range>): void {
  const moving = cell.fixedStates.filter((v) => !context.fixed.has(v));
  if (moving.length > 0) {
    node.spec = { type: 'unbounded', reason: `the initial state${moving.length > 1 ? 's' : ''} ${moving.map((v) => `"${v}"`).join(', ')} of this ${cell.kind} depend${moving.length > 1 ? '' : 's'} on the signal input: its bound holds only for states held fixed` };
    return;
  }
  if (cell.constant !== undefined) {
    node.spec = { type: 'fixed', kind: 'activation', constant: cell.constant, detail: cell.detail };
    return;
  }
  const state = cell.state as string;
  const origins = context.fixed.get(state) ?? new Set<string>();
  const range = ranges.get(state);
  const named = [...origins].map((n) => `"${n}"`).join(', ');
  if (!range) {
    node.spec = { type: 'unbounded', reason: `the bound of this ${cell.kind} grows with the size of its initial ${cell.kind === 'LSTM' ? 'cell ' : ''}state "${state}", from the input${origins.size > 1 ? 's' : ''} ${named} held fixed, whose range is not given: give it with ${rangeFlag(origins)}` };
    return;
  }
  const sup = supAbs(range);
  node.spec = { type: 'fixed', kind: 'activation', constant: recurrentConstant(cell.directions, cell.steps, sup), detail: `${cell.detail}; |${cell.kind === 'LSTM' ? 'c₀' : 'h₀'}| ≤ ${sup.toPrecision(4)} from ${named} in its given range` };
}

/** Ops whose output is never negative. */
const NONNEGATIVE = /^(Sqrt|ReduceL2|Abs|Relu|Exp|Sigmoid|Softplus|Softmax)$/;

/** A certified lower bound of every entry of `value` for all inputs (its range, or ≥ 0 ops through positive affine maps), else undefined. */
function lowerBound(value: string, producers: ReadonlyMap<string, IrNode>, ranges: ReadonlyMap<string, Range>, depth = 0): number | undefined {
  const known = ranges.get(value);
  if (known) return known[0];
  const node = producers.get(value);
  if (!node || depth > 8) return undefined;
  if (NONNEGATIVE.test(node.op) && node.spec.type !== 'unsupported') return 0;
  if (node.inputs.length !== 1) return undefined;
  const spec = node.spec;
  const below = () => lowerBound(node.inputs[0], producers, ranges, depth + 1);
  if (spec.type === 'fixed' && spec.values?.kind === 'clip') return Math.max(spec.values.min, below() ?? -Infinity);
  if (spec.type === 'fixed' && spec.values?.kind === 'affine' && spec.values.scale[0] > 0) {
    const lb = below();
    if (lb === undefined) return undefined;
    const [s0, s1] = spec.values.scale;
    return Math.min(s0 * lb, s1 * lb) + spec.values.shift[0];
  }
  if (spec.type === 'diagonal' && spec.scale.length > 0 && spec.scale.every((s) => s > 0) && !/norm/i.test(node.op)) {
    const lb = below();
    if (lb === undefined || lb < 0) return undefined;
    return Math.min(...spec.scale) * lb;
  }
  return undefined;
}

/** log on inputs bounded below by m > 0 has slope at most 1/m. */
function resolveLog(node: IrNode, producers: ReadonlyMap<string, IrNode>, ranges: ReadonlyMap<string, Range>): void {
  const lb = lowerBound(node.inputs[0], producers, ranges);
  if (lb === undefined || !(lb > 0)) return;
  node.spec = { type: 'fixed', kind: 'activation', constant: 1 / lb, detail: `log of values ≥ ${lb.toPrecision(4)} (a positive shift of a value that is never negative): slope ≤ 1/${lb.toPrecision(4)}` };
}
