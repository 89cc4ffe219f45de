// Constant folding of a TF.js graph-model's shape arithmetic (docs/graphs.md): once the input shape
// is fixed, Shape / Size / Rank of any value are constants, and so is everything computed from
// constants and shapes alone (StridedSlice, Pack, ConcatV2, Cast, FloorDiv, Prod, Fill, ...), which
// is how converted models compute their Reshape targets at run time.

import { broadcastShapes } from '../../analysis/broadcast';
import { product } from '../../analysis/shapes';

export interface ConstValue {
  shape: number[];
  dtype: string;
  values: Float32Array | Int32Array | Uint8Array;
}

/** What the folder needs of a node: its op, attributes and inputs. */
export interface FoldNode {
  op: string;
  /** Attribute access (TF AttrValue JSON decoded). */
  int(name: string): number | undefined;
  ints(name: string): number[] | undefined;
  type(name: string): string | undefined;
  bool(name: string): boolean;
  /** Input k as a constant, or undefined. */
  input(k: number): ConstValue | undefined;
  /** Shape of input k (a signal's or a constant's), or undefined when unknown. */
  shapeOf(k: number): number[] | undefined;
  inputCount: number;
}

/** Ops that give a constant from their first input's shape alone. */
export const SHAPE_OPS = new Set(['Shape', 'Size', 'Rank']);

/** Most values one folded constant may hold: shape arithmetic is small, a huge Fill is not folded. */
const FOLD_LIMIT = 1 << 22;

const INT_TYPES = new Set(['DT_INT32', 'DT_INT64', 'DT_INT16', 'DT_INT8', 'DT_UINT8', 'DT_UINT16']);

function make(shape: number[], dtype: string, values: ArrayLike<number>): ConstValue {
  if (dtype === 'int32') return { shape, dtype, values: Int32Array.from(values, (v) => Math.trunc(v)) };
  if (dtype === 'bool') return { shape, dtype, values: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
  return { shape, dtype: 'float32', values: Float32Array.from(values) };
}

function dtypeOf(tfType: string | undefined, fallback: string): string {
  if (!tfType) return fallback;
  if (INT_TYPES.has(tfType)) return 'int32';
  if (tfType === 'DT_BOOL') return 'bool';
  return 'float32';
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/** Values of `c` broadcast to `out` (row-major). */
function broadcastTo(c: ConstValue, out: number[]): number[] {
  const count = product(out);
  const outStrides = stridesOf(out);
  const inStrides = stridesOf(c.shape);
  const offset = out.length - c.shape.length;
  const result = new Array<number>(count);
  for (let flat = 0; flat < count; flat++) {
    let index = 0;
    let rest = flat;
    for (let d = 0; d < out.length; d++) {
      const coordinate = Math.floor(rest / outStrides[d]);
      rest -= coordinate * outStrides[d];
      const k = d - offset;
      if (k >= 0 && c.shape[k] !== 1) index += coordinate * inStrides[k];
    }
    result[flat] = c.values[index];
  }
  return result;
}

const BINARY: Record<string, (a: number, b: number, int: boolean) => number> = {
  Add: (a, b) => a + b,
  AddV2: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  RealDiv: (a, b) => a / b,
  Div: (a, b, int) => (int ? Math.trunc(a / b) : a / b),
  FloorDiv: (a, b, int) => (int ? Math.floor(a / b) : Math.floor(a / b)),
  FloorMod: (a, b) => a - Math.floor(a / b) * b,
  Mod: (a, b) => a % b,
  Maximum: (a, b) => Math.max(a, b),
  Minimum: (a, b) => Math.min(a, b),
  Pow: (a, b) => a ** b,
  SquaredDifference: (a, b) => (a - b) ** 2,
  Equal: (a, b) => Number(a === b),
  NotEqual: (a, b) => Number(a !== b),
  Less: (a, b) => Number(a < b),
  LessEqual: (a, b) => Number(a <= b),
  Greater: (a, b) => Number(a > b),
  GreaterEqual: (a, b) => Number(a >= b),
  LogicalAnd: (a, b) => Number(Boolean(a) && Boolean(b)),
  LogicalOr: (a, b) => Number(Boolean(a) || Boolean(b)),
};
const COMPARISONS = new Set(['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr']);

const UNARY: Record<string, (a: number) => number> = {
  Neg: (a) => -a,
  Abs: (a) => Math.abs(a),
  Floor: (a) => Math.floor(a),
  Ceil: (a) => Math.ceil(a),
  Round: (a) => {
    // Banker's rounding, as TF's Round.
    const r = Math.round(a);
    return Math.abs(a % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
  Sqrt: (a) => Math.sqrt(a),
  Rsqrt: (a) => 1 / Math.sqrt(a),
  Reciprocal: (a) => 1 / a,
  Square: (a) => a * a,
  Exp: (a) => Math.exp(a),
  Log: (a) => Math.log(a),
  Sign: (a) => Math.sign(a),
  LogicalNot: (a) => Number(!a),
  ZerosLike: () => 0,
  OnesLike: () => 1,
};

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** The node's value when it can be computed from constants and shapes; undefined otherwise. */
export function foldTfNode(node: FoldNode): ConstValue | undefined {
  const op = node.op;
  const x = node.input(0);
  if (op === 'Shape' || op === 'Size' || op === 'Rank') {
    const shape = node.shapeOf(0);
    if (!shape) return undefined;
    if (op === 'Shape') return make([shape.length], dtypeOf(node.type('out_type'), 'int32'), shape);
    if (op === 'Size') return make([], dtypeOf(node.type('out_type'), 'int32'), [product(shape)]);
    return make([], 'int32', [shape.length]);
  }
  if (op === 'Identity' || op === 'StopGradient' || op === 'Snapshot' || op === 'Enter') return x;
  if (op in UNARY) {
    if (!x) return undefined;
    const dtype = op === 'LogicalNot' ? 'bool' : x.dtype;
    return make([...x.shape], dtype, Array.from(x.values, UNARY[op]));
  }
  if (op in BINARY || op === 'AddN') {
    const operands = Array.from({ length: node.inputCount }, (_, k) => node.input(k));
    if (operands.some((o) => !o)) return undefined;
    const cs = operands as ConstValue[];
    const out = broadcastShapes(...cs.map((c) => c.shape));
    if (!out || product(out) > FOLD_LIMIT) return undefined;
    const int = cs.every((c) => c.dtype === 'int32');
    const f = op === 'AddN' ? BINARY.Add : BINARY[op];
    const columns = cs.map((c) => broadcastTo(c, out));
    const values = columns[0].map((_, i) => columns.slice(1).reduce((acc, col) => f(acc, col[i], int), columns[0][i]));
    return make(out, COMPARISONS.has(op) ? 'bool' : cs[0].dtype, values);
  }
  switch (op) {
    case 'SelectV2':
    case 'Select': {
      // cond ? a : b entrywise; jax2tf's shape-polymorphic graphs pick reshape targets this way.
      const [cond, a, b] = [x, node.input(1), node.input(2)];
      if (!cond || !a || !b) return undefined;
      // TF1's Select broadcasts a vector condition along the first axis only.
      const condShape = op === 'Select' && cond.shape.length === 1 && a.shape.length > 1 ? [cond.shape[0], ...a.shape.slice(1).map(() => 1)] : cond.shape;
      const out = broadcastShapes(condShape, a.shape, b.shape);
      if (!out || product(out) > FOLD_LIMIT) return undefined;
      const [c, va, vb] = [{ ...cond, shape: condShape }, a, b].map((v) => broadcastTo(v, out));
      return make(out, a.dtype, c.map((k, i) => (k ? va[i] : vb[i])));
    }
    case 'Cast': {
      if (!x) return undefined;
      return make([...x.shape], dtypeOf(node.type('DstT'), x.dtype), x.values);
    }
    case 'Pack': {
      const parts = Array.from({ length: node.inputCount }, (_, k) => node.input(k));
      if (parts.length === 0 || parts.some((p) => !p)) return undefined;
      const ps = parts as ConstValue[];
      const axis = norm(node.int('axis') ?? 0, ps[0].shape.length + 1);
      const expanded = ps.map((p) => ({ ...p, shape: [...p.shape.slice(0, axis), 1, ...p.shape.slice(axis)] }));
      return concat(expanded, axis);
    }
    case 'ConcatV2':
    case 'Concat': {
      const all = Array.from({ length: node.inputCount }, (_, k) => node.input(k));
      const axisValue = op === 'ConcatV2' ? all[all.length - 1] : all[0];
      const parts = op === 'ConcatV2' ? all.slice(0, -1) : all.slice(1);
      if (!axisValue || parts.some((p) => !p) || parts.length === 0) return undefined;
      const ps = parts as ConstValue[];
      return concat(ps, norm(Number(axisValue.values[0]), ps[0].shape.length));
    }
    case 'ExpandDims': {
      const axis = node.input(1);
      if (!x || !axis) return undefined;
      const a = norm(Number(axis.values[0]), x.shape.length + 1);
      return { ...x, shape: [...x.shape.slice(0, a), 1, ...x.shape.slice(a)] };
    }
    case 'Squeeze': {
      if (!x) return undefined;
      const listed = (node.ints('squeeze_dims') ?? node.ints('axis') ?? []).map((a) => norm(a, x.shape.length));
      const drop = listed.length > 0 ? listed : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      return { ...x, shape: x.shape.filter((_, i) => !drop.includes(i)) };
    }
    case 'Reshape': {
      const target = node.input(1);
      if (!x || !target) return undefined;
      const dims = Array.from(target.values, Number);
      const known = product(dims.filter((d) => d !== -1));
      const shape = dims.map((d) => (d === -1 ? x.values.length / known : d));
      if (product(shape) !== x.values.length || shape.some((d) => !Number.isInteger(d) || d < 0)) return undefined;
      return { ...x, shape };
    }
    case 'Fill': {
      const dims = x;
      const value = node.input(1);
      if (!dims || !value) return undefined;
      const shape = Array.from(dims.values, Number);
      if (product(shape) > FOLD_LIMIT) return undefined;
      return make(shape, value.dtype, new Array<number>(product(shape)).fill(Number(value.values[0])));
    }
    case 'Range': {
      const [start, limit, delta] = [0, 1, 2].map((k) => node.input(k));
      if (!start || !limit || !delta) return undefined;
      const [s, l, d] = [start, limit, delta].map((c) => Number(c.values[0]));
      const count = Math.max(0, Math.ceil((l - s) / d));
      if (!Number.isFinite(count) || count > FOLD_LIMIT) return undefined;
      return make([count], start.dtype, Array.from({ length: count }, (_, i) => s + i * d));
    }
    case 'Tile': {
      const multiples = node.input(1);
      if (!x || !multiples) return undefined;
      const reps = Array.from(multiples.values, Number);
      const out = x.shape.map((d, i) => d * reps[i]);
      if (product(out) > FOLD_LIMIT) return undefined;
      const outStrides = stridesOf(out);
      const inStrides = stridesOf(x.shape);
      const values = Array.from({ length: product(out) }, (_, flat) => {
        let index = 0;
        let rest = flat;
        for (let k = 0; k < out.length; k++) {
          const c = Math.floor(rest / outStrides[k]);
          rest -= c * outStrides[k];
          index += (c % x.shape[k]) * inStrides[k];
        }
        return x.values[index];
      });
      return make(out, x.dtype, values);
    }
    case 'BroadcastTo': {
      const target = node.input(1);
      if (!x || !target) return undefined;
      const out = broadcastShapes(x.shape, Array.from(target.values, Number));
      if (!out || product(out) > FOLD_LIMIT) return undefined;
      return make(out, x.dtype, broadcastTo(x, out));
    }
    case 'Prod':
    case 'Sum':
    case 'Max':
    case 'Min': {
      const axesValue = node.input(1);
      if (!x || !axesValue) return undefined;
      const axes = Array.from(axesValue.values, (a) => norm(Number(a), x.shape.length));
      return reduce(x, axes, node.bool('keep_dims'), op);
    }
    case 'GatherV2':
    case 'Gather': {
      const indices = node.input(1);
      const axisValue = op === 'GatherV2' ? node.input(2) : undefined;
      if (!x || !indices || (op === 'GatherV2' && !axisValue)) return undefined;
      const axis = norm(axisValue ? Number(axisValue.values[0]) : 0, x.shape.length);
      const outer = product(x.shape.slice(0, axis));
      const inner = product(x.shape.slice(axis + 1));
      const n = x.shape[axis];
      const values: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of indices.values) {
          const i = Number(raw) < 0 ? Number(raw) + n : Number(raw);
          if (!(i >= 0 && i < n)) return undefined;
          for (let k = 0; k < inner; k++) values.push(x.values[(o * n + i) * inner + k]);
        }
      }
      return make([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype, values);
    }
    case 'Slice': {
      const begin = node.input(1);
      const size = node.input(2);
      if (!x || !begin || !size) return undefined;
      const b = Array.from(begin.values, Number);
      const s = Array.from(size.values, Number).map((d, i) => (d === -1 ? x.shape[i] - b[i] : d));
      return sliceBox(x, b, s.map(() => 1), s);
    }
    case 'StridedSlice':
      return stridedSlice(node, x);
    case 'SparseToDense': {
      // dense[indices[k]] = values[k] (or the one value), the rest default_value (ONNX-to-TF shape arithmetic writes it).
      const [indices, shapeValue, values, fallback] = [x, node.input(1), node.input(2), node.input(3)];
      if (!indices || !shapeValue || !values || !fallback || fallback.values.length !== 1) return undefined;
      const out = Array.from(shapeValue.values, Number);
      if (out.some((d) => !Number.isInteger(d) || d < 0) || product(out) > FOLD_LIMIT) return undefined;
      const rank = out.length;
      const count = indices.shape.length === 0 ? 1 : indices.shape[0];
      if (indices.values.length !== count * Math.max(rank, 1) || (values.values.length !== 1 && values.values.length !== count)) return undefined;
      const dense = new Array<number>(product(out)).fill(Number(fallback.values[0]));
      for (let k = 0; k < count; k++) {
        let flat = 0;
        for (let a = 0; a < rank; a++) {
          const i = Number(indices.values[k * rank + a]);
          if (!(i >= 0 && i < out[a])) return undefined;
          flat = flat * out[a] + i;
        }
        dense[flat] = Number(values.values[values.values.length === 1 ? 0 : k]);
      }
      return make(out, values.dtype, dense);
    }
    default:
      return undefined;
  }
}

/** The outputs of a multi-output node on constants (Unpack, Split, SplitV), or undefined. */
export function foldTfOutputs(node: FoldNode): ConstValue[] | undefined {
  if (node.op === 'Unpack' || node.op === 'Unstack') {
    const x = node.input(0);
    if (!x || x.shape.length === 0) return undefined;
    const axis = norm(node.int('axis') ?? 0, x.shape.length);
    const shape = x.shape.filter((_, i) => i !== axis);
    return Array.from({ length: x.shape[axis] }, (_, k) => {
      const begin = x.shape.map((_, i) => (i === axis ? k : 0));
      const counts = x.shape.map((d, i) => (i === axis ? 1 : d));
      const box = sliceBox(x, begin, x.shape.map(() => 1), counts);
      return box ? { ...box, shape } : make(shape, x.dtype, []);
    });
  }
  if (node.op === 'Split' || node.op === 'SplitV') {
    const x = node.op === 'Split' ? node.input(1) : node.input(0);
    const axisValue = node.op === 'Split' ? node.input(0) : node.input(2);
    if (!x || !axisValue) return undefined;
    const axis = norm(Number(axisValue.values[0]), x.shape.length);
    let sizes: number[];
    if (node.op === 'Split') {
      const n = node.int('num_split') ?? 1;
      sizes = new Array<number>(n).fill(x.shape[axis] / n);
    } else {
      const given = node.input(1);
      if (!given) return undefined;
      sizes = Array.from(given.values, Number);
      const rest = x.shape[axis] - sizes.filter((d) => d >= 0).reduce((a, b) => a + b, 0);
      sizes = sizes.map((d) => (d < 0 ? rest : d));
    }
    if (sizes.some((d) => !Number.isInteger(d) || d < 0)) return undefined;
    let start = 0;
    return sizes.map((size) => {
      const begin = x.shape.map((_, i) => (i === axis ? start : 0));
      const counts = x.shape.map((d, i) => (i === axis ? size : d));
      start += size;
      return sliceBox(x, begin, x.shape.map(() => 1), counts) ?? make(counts, x.dtype, []);
    });
  }
  return undefined;
}

function concat(parts: ConstValue[], axis: number): ConstValue | undefined {
  const rank = parts[0].shape.length;
  if (parts.some((p) => p.shape.length !== rank || p.shape.some((d, i) => i !== axis && d !== parts[0].shape[i]))) return undefined;
  const outer = product(parts[0].shape.slice(0, axis));
  const values: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = product(p.shape.slice(axis));
      for (let k = 0; k < block; k++) values.push(p.values[o * block + k]);
    }
  }
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((sum, p) => sum + p.shape[axis], 0);
  return make(shape, parts[0].dtype, values);
}

function reduce(x: ConstValue, axes: number[], keep: boolean, op: string): ConstValue {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = stridesOf(outShape);
  const inStrides = stridesOf(x.shape);
  const init = op === 'Prod' ? 1 : op === 'Sum' ? 0 : op === 'Max' ? -Infinity : Infinity;
  const values = new Array<number>(product(outShape)).fill(init);
  for (let flat = 0; flat < x.values.length; flat++) {
    let rest = flat;
    let o = 0;
    for (let d = 0; d < x.shape.length; d++) {
      const c = Math.floor(rest / inStrides[d]);
      rest -= c * inStrides[d];
      if (!axes.includes(d)) o += c * outStrides[d];
    }
    const v = Number(x.values[flat]);
    values[o] = op === 'Prod' ? values[o] * v : op === 'Sum' ? values[o] + v : op === 'Max' ? Math.max(values[o], v) : Math.min(values[o], v);
  }
  return make(keep ? outShape : x.shape.filter((_, i) => !axes.includes(i)), x.dtype, values);
}

/** Entries begin + k·stride for k < count along each axis. */
function sliceBox(x: ConstValue, begin: number[], strides: number[], counts: number[]): ConstValue | undefined {
  if (counts.some((c) => !(c >= 0))) return undefined;
  const inStrides = stridesOf(x.shape);
  const outStrides = stridesOf(counts);
  const values = Array.from({ length: product(counts) }, (_, flat) => {
    let rest = flat;
    let index = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = Math.floor(rest / outStrides[d]);
      rest -= c * outStrides[d];
      index += (begin[d] + c * strides[d]) * inStrides[d];
    }
    return x.values[index];
  });
  return make(counts, x.dtype, values);
}

/** Where a StridedSlice reads (begin, stride and count per input axis) and its output shape, for an input of `shape`. */
export function stridedSliceGeometry(node: FoldNode, shape: readonly number[]): { begin: number[]; strides: number[]; counts: number[]; outShape: number[] } | undefined {
  const [beginV, endV, stridesV] = [1, 2, 3].map((k) => node.input(k));
  if (!beginV || !endV) return undefined;
  const spec = Array.from(beginV.values, Number);
  const ends = Array.from(endV.values, Number);
  const steps = stridesV ? Array.from(stridesV.values, Number) : spec.map(() => 1);
  const beginMask = node.int('begin_mask') ?? 0;
  const endMask = node.int('end_mask') ?? 0;
  const ellipsisMask = node.int('ellipsis_mask') ?? 0;
  const newAxisMask = node.int('new_axis_mask') ?? 0;
  const shrinkMask = node.int('shrink_axis_mask') ?? 0;
  // Expand the spec to one entry per input axis (an ellipsis covers the axes not named).
  const rank = shape.length;
  const named = spec.filter((_, i) => !(newAxisMask & (1 << i)) && !(ellipsisMask & (1 << i))).length;
  const begin: number[] = [];
  const strides: number[] = [];
  const counts: number[] = [];
  const outShape: number[] = [];
  let axis = 0;
  for (let i = 0; i < spec.length; i++) {
    const bit = 1 << i;
    if (ellipsisMask & bit) {
      const covered = rank - named;
      for (let k = 0; k < covered; k++, axis++) {
        begin.push(0);
        strides.push(1);
        counts.push(shape[axis]);
        outShape.push(shape[axis]);
      }
      continue;
    }
    if (newAxisMask & bit) {
      outShape.push(1);
      continue;
    }
    if (axis >= rank) return undefined;
    const n = shape[axis];
    const step = steps[i];
    if (!step) return undefined;
    if (shrinkMask & bit) {
      const b = spec[i] < 0 ? spec[i] + n : spec[i];
      if (!(b >= 0 && b < n)) return undefined;
      begin.push(b);
      strides.push(1);
      counts.push(1);
      axis++;
      continue;
    }
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let b = beginMask & bit ? (step > 0 ? 0 : n - 1) : spec[i] < 0 ? spec[i] + n : spec[i];
    let e = endMask & bit ? (step > 0 ? n : -1) : ends[i] < 0 ? ends[i] + n : ends[i];
    b = step > 0 ? clamp(b, 0, n) : clamp(b, -1, n - 1);
    e = step > 0 ? clamp(e, 0, n) : clamp(e, -1, n - 1);
    const count = Math.max(0, Math.ceil((e - b) / step));
    begin.push(b);
    strides.push(step);
    counts.push(count);
    outShape.push(count);
    axis++;
  }
  for (; axis < rank; axis++) {
    begin.push(0);
    strides.push(1);
    counts.push(shape[axis]);
    outShape.push(shape[axis]);
  }
  return { begin, strides, counts, outShape };
}

/** TF StridedSlice (begin/end/ellipsis/new-axis/shrink masks) on a constant. */
function stridedSlice(node: FoldNode, x: ConstValue | undefined): ConstValue | undefined {
  if (!x) return undefined;
  const geometry = stridedSliceGeometry(node, x.shape);
  if (!geometry) return undefined;
  const box = sliceBox(x, geometry.begin, geometry.strides, geometry.counts);
  return box && { ...box, shape: geometry.outShape };
}
