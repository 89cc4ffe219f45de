// Ops that only move, select or copy entries: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat,
// Split, Slice, Gather, GatherND, Expand, Tile, Shape, Size. On data they are structural (1, or √ of the largest
// number of copies of one entry); on constants they fold, which is how PyTorch's
// Shape→Gather→Unsqueeze→Concat→Reshape chains become concrete shapes.

import type { NodeExecution, OpSpec } from '../../../model/ir';
import { SELECTS, structural } from '../../../analysis/constants';
import { gatherNdNorm, gatherNdPlan } from '../../../analysis/gather-nd';
import { DataType } from '../proto';
import { elementCount, type ConstTensor } from '../tensor';
import { broadcastIndex, broadcastShapes, formatShape, normAxis, stridesOf, type NodeContext, type NodeResult, type OpHandler } from '../context';

/** Folding limit: constants built by folding stay small (shape vectors, masks), never a huge broadcast. */
const FOLD_LIMIT = 1 << 24;

function withData(x: ConstTensor, dims: number[], data: Float32Array | Float64Array = x.data): ConstTensor {
  return { dims, dataType: x.dataType, data };
}

/** Output that picks, along each axis, the listed source indices (a cartesian selection). */
function select(x: ConstTensor, perAxis: number[][]): ConstTensor | undefined {
  const outDims = perAxis.map((list) => list.length);
  const count = elementCount(outDims);
  if (count > FOLD_LIMIT) return undefined;
  const strides = stridesOf(x.dims);
  const data = new (x.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(count);
  const rank = outDims.length;
  const coords = new Array<number>(rank).fill(0);
  for (let j = 0; j < count; j++) {
    let source = 0;
    for (let d = 0; d < rank; d++) source += perAxis[d][coords[d]] * strides[d];
    data[j] = x.data[source];
    for (let d = rank - 1; d >= 0; d--) {
      if (++coords[d] < outDims[d]) break;
      coords[d] = 0;
    }
  }
  return withData(x, outDims, data);
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A structural node whose output shape comes from `shapeOf`, folding through `foldOf`. */
function shapeOp(shapeOf: (ctx: NodeContext, x: number[]) => number[][], detail: string, foldOf?: (ctx: NodeContext, x: ConstTensor) => ConstTensor[] | undefined, execution?: (ctx: NodeContext, x: number[]) => NodeExecution): OpHandler {
  return {
    infer(ctx) {
      const x = ctx.dynamic(0);
      return { spec: structural(detail, 1, SELECTS), outputShapes: shapeOf(ctx, x), dataInputs: [0], ...(execution ? { execution: execution(ctx, x) } : {}) };
    },
    fold(ctx) {
      const x = ctx.constant(0);
      if (!x) return undefined;
      if (foldOf) return foldOf(ctx, x);
      return shapeOf(ctx, x.dims).map((dims) => withData(x, dims));
    },
  };
}

// --- Reshape, Flatten, Squeeze, Unsqueeze: same data, new dims -------------------------------------

function reshapeTarget(ctx: NodeContext, x: number[]): number[] {
  const requested = ctx.opset >= 5 ? ctx.intsInput(1, 'the target shape') : ctx.attrs.ints('shape');
  if (!requested) ctx.fail('the target shape is missing');
  const allowZero = ctx.attrs.int('allowzero', 0) !== 0;
  const out = requested.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= x.length) ctx.fail(`target shape ${formatShape(requested)} copies dimension ${i}, which ${formatShape(x)} lacks`);
      return x[i];
    }
    return d;
  });
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1 || out.some((d) => d < -1 || !Number.isInteger(d))) ctx.fail(`invalid target shape ${formatShape(requested)}`);
  const known = elementCount(out.filter((d) => d !== -1));
  const total = elementCount(x);
  if (unknown === 1) {
    if (known === 0 || total % known !== 0) ctx.fail(`cannot reshape ${formatShape(x)} to ${formatShape(requested)}`);
    out[out.indexOf(-1)] = total / known;
  } else if (known !== total) ctx.fail(`cannot reshape ${formatShape(x)} (${total} entries) to ${formatShape(out)}`);
  return out;
}

function flattenShape(ctx: NodeContext, x: number[]): number[] {
  const raw = ctx.attrs.int('axis', 1);
  const axis = raw < 0 ? raw + x.length : raw;
  if (axis < 0 || axis > x.length) ctx.fail(`axis ${raw} is out of range for rank ${x.length}`);
  return [elementCount(x.slice(0, axis)), elementCount(x.slice(axis))];
}

function squeezeShape(ctx: NodeContext, x: number[]): number[] {
  const listed = ctx.opset >= 13 ? ctx.intsInput(1, 'axes') : ctx.attrs.ints('axes');
  if (!listed) return x.filter((d) => d !== 1);
  const axes = listed.map((a) => normAxis(ctx, a, x.length));
  for (const a of axes) if (x[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of ${formatShape(x)}`);
  return x.filter((_, i) => !axes.includes(i));
}

function unsqueezeShape(ctx: NodeContext, x: number[]): number[] {
  const listed = ctx.opset >= 13 ? ctx.intsInput(1, 'axes') : ctx.attrs.ints('axes');
  if (!listed) ctx.fail('axes are missing');
  const rank = x.length + listed.length;
  const axes = listed.map((a) => normAxis(ctx, a, rank));
  if (new Set(axes).size !== axes.length) ctx.fail(`repeated axes ${formatShape(listed)}`);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x[k++]);
  return out;
}

// --- Transpose ---------------------------------------------------------------------------------

function permutation(ctx: NodeContext, rank: number): number[] {
  const perm = ctx.attrs.ints('perm') ?? all(rank).reverse();
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) ctx.fail(`perm ${formatShape(perm)} is not a permutation of ${rank} axes`);
  return perm;
}

function foldTranspose(ctx: NodeContext, x: ConstTensor): ConstTensor[] | undefined {
  const perm = permutation(ctx, x.dims.length);
  const outDims = perm.map((p) => x.dims[p]);
  const inStrides = stridesOf(x.dims);
  const count = x.data.length;
  const data = new (x.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(count);
  const coords = new Array<number>(outDims.length).fill(0);
  for (let j = 0; j < count; j++) {
    let source = 0;
    for (let d = 0; d < outDims.length; d++) source += coords[d] * inStrides[perm[d]];
    data[j] = x.data[source];
    for (let d = outDims.length - 1; d >= 0; d--) {
      if (++coords[d] < outDims[d]) break;
      coords[d] = 0;
    }
  }
  return [withData(x, outDims, data)];
}

// --- Concat, Split -------------------------------------------------------------------------------

function concatShape(ctx: NodeContext): { out: number[]; axis: number } {
  const shapes = ctx.inputs.map((_, i) => ctx.shape(i));
  const rank = shapes[0].length;
  const axis = normAxis(ctx, ctx.attrs.int('axis', 0), rank);
  const out = [...shapes[0]];
  out[axis] = 0;
  for (const s of shapes) {
    if (s.length !== rank || s.some((d, i) => i !== axis && d !== shapes[0][i])) ctx.fail(`inputs ${shapes.map(formatShape).join(', ')} do not concatenate on axis ${axis}`);
    out[axis] += s[axis];
  }
  return { out, axis };
}

export const concat: OpHandler = {
  infer(ctx): NodeResult {
    const { out, axis } = concatShape(ctx);
    const spec: OpSpec = { type: 'concat', axis };
    // With a constant operand the data inputs alone do not make the output: not executable.
    const executable = ctx.dynamicIndices().length === ctx.inputs.length;
    return { spec, outputShapes: [out], dataInputs: ctx.dynamicIndices(), ...(executable ? { execution: { kind: 'spec' } } : {}) };
  },
  fold(ctx) {
    const tensors = ctx.inputs.map((_, i) => ctx.constant(i));
    if (tensors.some((t) => !t)) return undefined;
    const { out, axis } = concatShape(ctx);
    const count = elementCount(out);
    if (count > FOLD_LIMIT) return undefined;
    const first = tensors[0] as ConstTensor;
    const data = new (first.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(count);
    const outer = elementCount(out.slice(0, axis));
    const inner = elementCount(out.slice(axis + 1));
    let offset = 0;
    for (let o = 0; o < outer; o++) {
      for (const t of tensors as ConstTensor[]) {
        const block = t.dims[axis] * inner;
        data.set(t.data.subarray(o * block, (o + 1) * block), offset);
        offset += block;
      }
    }
    return [withData(first, out, data)];
  },
};

function splitSizes(ctx: NodeContext, x: number[]): { axis: number; sizes: number[] } {
  const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.length);
  const listed = ctx.opset >= 13 ? ctx.intsInput(1, 'split') : ctx.attrs.ints('split');
  const outputs = ctx.outputCount;
  let sizes: number[];
  if (listed && listed.length > 0) sizes = listed;
  else {
    const n = ctx.attrs.int('num_outputs', outputs);
    const chunk = Math.ceil(x[axis] / n);
    sizes = all(n).map((i) => Math.max(0, Math.min(chunk, x[axis] - i * chunk)));
  }
  if (sizes.length !== outputs || sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== x[axis]) {
    ctx.fail(`split ${formatShape(sizes)} does not divide axis ${axis} of ${formatShape(x)} into ${outputs} outputs`);
  }
  return { axis, sizes };
}

export const split: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const { axis, sizes } = splitSizes(ctx, x);
    return { spec: structural('split: each output is a restriction: 1', 1, SELECTS), outputShapes: sizes.map((s) => x.map((d, i) => (i === axis ? s : d))), dataInputs: [0], execution: { kind: 'split', axis, sizes } };
  },
  fold(ctx) {
    const x = ctx.constant(0);
    if (!x) return undefined;
    const { axis, sizes } = splitSizes(ctx, x.dims);
    let start = 0;
    const parts: ConstTensor[] = [];
    for (const s of sizes) {
      const part = select(x, x.dims.map((d, i) => (i === axis ? all(s).map((k) => k + start) : all(d))));
      if (!part) return undefined;
      parts.push(part);
      start += s;
    }
    return parts;
  },
};

// --- Slice ---------------------------------------------------------------------------------------

function sliceIndices(ctx: NodeContext, x: number[]): number[][] {
  let starts: number[] | undefined;
  let ends: number[] | undefined;
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset >= 10) {
    starts = ctx.intsInput(1, 'starts');
    ends = ctx.intsInput(2, 'ends');
    axes = ctx.intsInput(3, 'axes');
    steps = ctx.intsInput(4, 'steps');
  } else {
    starts = ctx.attrs.ints('starts');
    ends = ctx.attrs.ints('ends');
    axes = ctx.attrs.ints('axes');
  }
  if (!starts || !ends || starts.length !== ends.length) ctx.fail('starts and ends are missing or differ in length');
  axes ??= all(starts.length);
  steps ??= starts.map(() => 1);
  if (axes.length !== starts.length || steps.length !== starts.length) ctx.fail('starts, ends, axes and steps differ in length');
  const perAxis = x.map((d) => all(d));
  axes.forEach((rawAxis, k) => {
    const axis = normAxis(ctx, rawAxis, x.length);
    const dim = x[axis];
    const step = steps[k];
    if (step === 0) ctx.fail('a step is 0');
    let start = starts[k] < 0 ? starts[k] + dim : starts[k];
    let end = ends[k] < 0 ? ends[k] + dim : ends[k];
    if (step > 0) {
      start = Math.min(Math.max(start, 0), dim);
      end = Math.min(Math.max(end, 0), dim);
    } else {
      start = Math.min(Math.max(start, 0), dim - 1);
      end = Math.min(Math.max(end, -1), dim - 1);
    }
    const list: number[] = [];
    for (let i = start; step > 0 ? i < end : i > end; i += step) list.push(i);
    perAxis[axis] = list;
  });
  return perAxis;
}

export const slice: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const perAxis = sliceIndices(ctx, x);
    return { spec: structural('slice: a restriction: 1', 1, SELECTS), outputShapes: [perAxis.map((l) => l.length)], dataInputs: [0], execution: selection(perAxis, x) };
  },
  fold(ctx) {
    const x = ctx.constant(0);
    if (!x) return undefined;
    const part = select(x, sliceIndices(ctx, x.dims));
    return part ? [part] : undefined;
  },
};

// --- Gather ------------------------------------------------------------------------------------

function gatherIndices(ctx: NodeContext, data: number[]): { axis: number; indices: ConstTensor; flat: number[]; out: number[] } {
  const axis = normAxis(ctx, ctx.attrs.int('axis', 0), data.length);
  const indices = ctx.requireConstant(1, 'indices');
  const flat = [...indices.data].map((i) => {
    const k = i < 0 ? i + data[axis] : i;
    if (!Number.isInteger(k) || k < 0 || k >= data[axis]) ctx.fail(`index ${i} is out of range for axis ${axis} of ${formatShape(data)}`);
    return k;
  });
  return { axis, indices, flat, out: [...data.slice(0, axis), ...indices.dims, ...data.slice(axis + 1)] };
}

/** Longest index list recorded for the executor (a hostile file's shape bomb records none and is not executable). */
export const INDEX_LIMIT = 1 << 22;

const gatherAxis = (ctx: NodeContext, data: number[]) => normAxis(ctx, ctx.attrs.int('axis', 0), data.length);

/** The executor's cartesian selection (null where an axis is taken whole, in order). */
function selection(perAxis: number[][], x: number[], rank?: number): NodeExecution {
  const lists = perAxis.map((list, axis) => (list.length === x[axis] && list.every((v, k) => v === k) ? null : list));
  return { kind: 'select', perAxis: lists, ...(rank !== undefined ? { rank } : {}) };
}

export const gather: OpHandler = {
  infer(ctx) {
    if (ctx.isDynamic(1)) {
      const data = ctx.shape(0);
      const axis = normAxis(ctx, ctx.attrs.int('axis', 0), data.length);
      const out = [...data.slice(0, axis), ...ctx.shape(1), ...data.slice(axis + 1)];
      return { spec: { type: 'unsupported', detail: 'Gather with data-dependent indices (a lookup) is not a continuous map of its input' }, outputShapes: [out] };
    }
    const x = ctx.dynamic(0);
    const { flat, out } = gatherIndices(ctx, x);
    const counts = new Map<number, number>();
    for (const k of flat) counts.set(k, (counts.get(k) ?? 0) + 1);
    const most = Math.max(1, ...counts.values());
    const spec = most === 1 ? structural('gather of distinct entries: 1', 1, SELECTS) : structural(`gather copies one entry ${most} times: √${most}`, Math.sqrt(most), SELECTS);
    return { spec, outputShapes: [out], dataInputs: [0], execution: selection(x.map((d, i) => (i === gatherAxis(ctx, x) ? flat : all(d))), x) };
  },
  fold(ctx) {
    const x = ctx.constant(0);
    if (!x || !ctx.constant(1)) return undefined;
    const { axis, flat, out } = gatherIndices(ctx, x.dims);
    const picked = select(x, x.dims.map((d, i) => (i === axis ? flat : all(d))));
    return picked ? [withData(picked, out)] : undefined;
  },
};

/**
 * GatherND (batch_dims 0) of the signal at constant indices: one slice per index tuple, σ = √ of the
 * most times one tuple occurs (src/analysis/gather-nd.ts, shared with TF.js GatherNd).
 */
export const gatherNd: OpHandler = {
  infer(ctx) {
    const data = ctx.shape(0);
    if (ctx.isDynamic(1)) {
      const indices = ctx.shape(1);
      const depth = indices[indices.length - 1] ?? 0;
      return { spec: { type: 'unsupported', detail: 'GatherND with data-dependent indices (a lookup) is not a continuous map of its input' }, outputShapes: [[...indices.slice(0, -1), ...data.slice(depth)]] };
    }
    const indices = ctx.requireConstant(1, 'indices');
    const batchDims = ctx.attrs.int('batch_dims', 0);
    const plan = batchDims === 0 ? gatherNdPlan(data, indices.dims, indices.data, true) : `with batch_dims ${batchDims}`;
    if (typeof plan === 'string') {
      const depth = indices.dims[indices.dims.length - 1] ?? 0;
      return { spec: { type: 'unsupported', detail: `GatherND ${plan}` }, outputShapes: [[...indices.dims.slice(0, -1), ...data.slice(batchDims + depth)]] };
    }
    const { detail, constant } = gatherNdNorm(plan);
    const execution: NodeExecution | undefined = plan.rows.length <= INDEX_LIMIT ? { kind: 'gatherNd', depth: plan.depth, rows: plan.rows } : undefined;
    return { spec: structural(detail, constant, SELECTS), outputShapes: [plan.outputShape], dataInputs: [0], ...(execution ? { execution } : {}) };
  },
};

// --- Expand, Tile --------------------------------------------------------------------------------

function expandShape(ctx: NodeContext, x: number[]): number[] {
  return broadcastShapes(ctx, [x, ctx.intsInput(1, 'the target shape') ?? ctx.fail('the target shape is missing')]);
}

export const expand: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const out = expandShape(ctx, x);
    const copies = elementCount(out) / elementCount(x);
    // Promoted to the output's rank (leading 1s), each size-1 axis read as often as the output is long.
    const promoted = [...new Array<number>(out.length - x.length).fill(1), ...x];
    const execution = out.some((d) => d > INDEX_LIMIT) ? undefined : selection(promoted.map((d, i) => (d === out[i] ? all(d) : new Array<number>(out[i]).fill(0))), promoted, out.length);
    return { spec: structural(copies === 1 ? 'expand without copies: 1' : `expand copies each entry ${copies} times: √${copies}`, Math.sqrt(copies), SELECTS), outputShapes: [out], dataInputs: [0], ...(execution ? { execution } : {}) };
  },
  fold(ctx) {
    const x = ctx.constant(0);
    if (!x) return undefined;
    const out = expandShape(ctx, x.dims);
    const count = elementCount(out);
    if (count > FOLD_LIMIT) return undefined;
    const map = broadcastIndex(x.dims, out);
    const data = new (x.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(count);
    for (let j = 0; j < count; j++) data[j] = x.data[map(j)];
    return [withData(x, out, data)];
  },
};

function repeats(ctx: NodeContext, x: number[]): number[] {
  const r = ctx.opset >= 6 ? ctx.intsInput(1, 'repeats') : undefined;
  if (!r || r.length !== x.length || r.some((v) => v < 0)) ctx.fail(`repeats ${r ? formatShape(r) : '(missing)'} do not fit ${formatShape(x)}`);
  return r;
}

export const tile: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const r = repeats(ctx, x);
    const copies = elementCount(r);
    const execution = x.some((d, i) => d * r[i] > INDEX_LIMIT) ? undefined : selection(x.map((d, i) => all(d * r[i]).map((k) => k % d)), x);
    return { spec: structural(`tile copies each entry ${copies} times: √${copies}`, Math.sqrt(copies), SELECTS), outputShapes: [x.map((d, i) => d * r[i])], dataInputs: [0], ...(execution ? { execution } : {}) };
  },
  fold(ctx) {
    const x = ctx.constant(0);
    if (!x) return undefined;
    const r = repeats(ctx, x.dims);
    if (elementCount(x.dims.map((d, i) => d * r[i])) > FOLD_LIMIT) return undefined;
    const picked = select(x, x.dims.map((d, i) => all(d * r[i]).map((k) => k % d)));
    return picked ? [picked] : undefined;
  },
};

// --- Shape, Size: constants even on data --------------------------------------------------------

function shapeOf(ctx: NodeContext, x: number[]): ConstTensor[] {
  const rank = x.length;
  const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clampIndex(ctx.attrs.int('start', 0));
  const end = clampIndex(ctx.attrs.int('end', rank));
  const dims = x.slice(start, Math.max(start, end));
  return [{ dims: [dims.length], dataType: DataType.INT64, data: Float64Array.from(dims) }];
}

export const shapeOps: Record<string, OpHandler> = {
  Reshape: shapeOp((ctx, x) => [reshapeTarget(ctx, x)], 'reshape: 1', undefined, () => ({ kind: 'reshape' })),
  Flatten: shapeOp((ctx, x) => [flattenShape(ctx, x)], 'flatten: 1', undefined, () => ({ kind: 'reshape' })),
  Squeeze: shapeOp((ctx, x) => [squeezeShape(ctx, x)], 'squeeze: 1', undefined, () => ({ kind: 'reshape' })),
  Unsqueeze: shapeOp((ctx, x) => [unsqueezeShape(ctx, x)], 'unsqueeze: 1', undefined, () => ({ kind: 'reshape' })),
  Transpose: shapeOp((ctx, x) => [permutation(ctx, x.length).map((p) => x[p])], 'transpose: 1', foldTranspose, (ctx, x) => ({ kind: 'transpose', perm: permutation(ctx, x.length) })),
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherND: gatherNd,
  Expand: expand,
  Tile: tile,
  Shape: {
    infer: (ctx) => shapeOf(ctx, ctx.dynamic(0)),
    fold: (ctx) => shapeOf(ctx, ctx.shape(0)),
  },
  Size: {
    infer: (ctx) => [{ dims: [], dataType: DataType.INT64, data: Float64Array.of(elementCount(ctx.dynamic(0))) }],
    fold: (ctx) => [{ dims: [], dataType: DataType.INT64, data: Float64Array.of(elementCount(ctx.shape(0))) }],
  },
};
