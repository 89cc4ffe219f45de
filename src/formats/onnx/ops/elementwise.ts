// Elementwise binary ops. Add/Sub: two data tensors merge (AddSpec), a constant operand is a shift.
// Mul/Div by a constant: a diagonal map. Products and quotients of data tensors are not Lipschitz.

import type { NodeExecution, OpSpec } from '../../../model/ir';
import { IDENTITY_VALUES, powerSpec, shiftValues, structural } from '../../../analysis/constants';
import { broadcastScaleNorm } from '../../../analysis/broadcast';
import { DataType, isFloatType } from '../proto';
import { elementCount, type ConstTensor } from '../tensor';
import { broadcastIndex, broadcastShapes, formatShape, sameShape, type NodeContext, type NodeResult, type OpHandler } from '../context';

/** Constant folding of a NumPy-broadcasting elementwise op over any number of inputs. */
export function foldElementwise(ctx: NodeContext, fn: (...values: number[]) => number, outType?: number): ConstTensor[] | undefined {
  const tensors: ConstTensor[] = [];
  for (let i = 0; i < ctx.inputs.length; i++) {
    const t = ctx.constant(i);
    if (!t) return undefined;
    tensors.push(t);
  }
  const out = broadcastShapes(ctx, tensors.map((t) => t.dims));
  const count = elementCount(out);
  if (count > 1 << 24) return undefined;
  const dataType = outType ?? tensors[0].dataType;
  const isInt = !isFloatType(dataType);
  const maps = tensors.map((t) => broadcastIndex(t.dims, out));
  const data = isInt ? new Float64Array(count) : new Float32Array(count);
  const args = new Array<number>(tensors.length);
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < tensors.length; i++) args[i] = tensors[i].data[maps[i](j)];
    const v = fn(...args);
    data[j] = isInt && dataType !== DataType.BOOL ? Math.trunc(v) : v;
  }
  return [{ dims: out, dataType, data }];
}

/** Output shape of a broadcasting op over all its present inputs. */
function outShape(ctx: NodeContext): number[] {
  const shapes: number[][] = [];
  for (let i = 0; i < ctx.inputs.length; i++) if (ctx.has(i)) shapes.push(ctx.shape(i));
  return broadcastShapes(ctx, shapes);
}

/** A data tensor broadcast to a larger shape copies each entry `copies` times: constant √copies. */
function broadcastCopies(x: number[], out: number[]): number {
  return elementCount(out) / elementCount(x);
}

export function addSub(ctx: NodeContext): NodeResult {
  const out = outShape(ctx);
  const dyn = ctx.dynamicIndices();
  const subtract = ctx.op === 'Sub';
  if (dyn.length >= 2) {
    const signs = subtract ? dyn.map((i) => (i === 0 ? 1 : -1)) : undefined;
    // Sub of two data tensors subtracts the second (broadcasting as numpy does, which tfjs follows);
    // with a constant operand as well it is not executable.
    const execution = dyn.length === ctx.inputs.length ? { execution: { kind: 'sum' as const, signs: dyn.map((i) => (subtract && i === 1 ? -1 : 1)) } } : {};
    if (dyn.every((i) => sameShape(ctx.shape(i), out))) return { spec: { type: 'add', ...(signs ? { signs } : {}) }, outputShapes: [out], ...execution };
    // A data tensor broadcast to the output copies each entry c times: its bound counts √c times.
    const weights = dyn.map((i) => Math.sqrt(broadcastCopies(ctx.shape(i), out)));
    const detail = `${subtract ? 'difference' : 'sum'} of data tensors that broadcast (${dyn.map((i) => formatShape(ctx.shape(i))).join(' and ')}): each bound times √(copies) = ${weights.map((w) => w.toPrecision(4)).join(', ')}`;
    return { spec: { type: 'add', weights, detail, ...(signs ? { signs } : {}) }, outputShapes: [out], ...execution };
  }
  const x = ctx.shape(dyn[0]);
  const copies = broadcastCopies(x, out);
  const shift = ctx.constant(1 - dyn[0]);
  const values = shift ? shiftValues(shift.data, subtract && dyn[0] === 0, subtract && dyn[0] === 1) : undefined;
  const spec = copies === 1
    ? structural(`${subtract ? 'subtracting' : 'adding'} a constant (a shift): 1`, 1, values)
    : structural(`shift broadcast from ${formatShape(x)} to ${formatShape(out)}, each entry copied ${copies} times: √${copies}`, Math.sqrt(copies), values);
  const c = ctx.inputs.length === 2 ? shift : undefined;
  const execution = c ? { execution: { kind: 'shift' as const, constant: { dims: [...c.dims], data: Float32Array.from(c.data) }, sign: subtract && dyn[0] === 1 ? -1 as const : 1 as const, constantSign: subtract && dyn[0] === 0 ? -1 as const : 1 as const } } : {};
  return { spec, outputShapes: [out], dataInputs: dyn, ...execution };
}

/**
 * Multiplication of data `x` (shape xShape) by constant `c`: a DiagonalSpec when c varies along at most
 * one axis of x, otherwise the exact constant of y_j = c_j·x_p(j): max over inputs of √(Σ of c_j² over its copies).
 */
export function scaleByConstant(xShape: number[], c: ConstTensor, out: number[], invert: boolean, what: string): OpSpec {
  const value = (v: number) => (invert ? 1 / v : v);
  if (invert && c.data.some((v) => v === 0)) return { type: 'unbounded', reason: 'division by a constant that holds 0' };
  if (sameShape(xShape, out) && c.dims.length <= xShape.length) {
    const offset = xShape.length - c.dims.length;
    const varying = c.dims.flatMap((d, i) => (d !== 1 ? [i + offset] : []));
    if (varying.length === 0) return { type: 'diagonal', scale: Float32Array.of(value(c.data[0] ?? 1)), axis: -1 };
    if (varying.length === 1) return { type: 'diagonal', scale: Float32Array.from(c.data, value), axis: varying[0] };
  }
  const scale = Float64Array.from(c.data, value);
  return structural(`${what} by a constant ${formatShape(c.dims)} broadcast to ${formatShape(out)}: max √(Σ c²) over copies`, broadcastScaleNorm(xShape, c.dims, scale, out));
}

export function mulDiv(ctx: NodeContext): NodeResult {
  const out = outShape(ctx);
  const dyn = ctx.dynamicIndices();
  if (dyn.length >= 2 && ctx.op === 'Mul') {
    // Resolved on the finished graph (src/analysis/products.ts): a gated activation, a product of bounded factors, or unbounded.
    return { spec: { type: 'unbounded', product: true, reason: 'Mul of two data-dependent tensors (x·y) is not globally Lipschitz' }, outputShapes: [out] };
  }
  if (dyn.length >= 2) return { spec: { type: 'unbounded', reason: `${ctx.op} of two data-dependent tensors (x/y) is not globally Lipschitz` }, outputShapes: [out] };
  if (ctx.op === 'Div' && dyn[0] === 1) {
    const c = ctx.constant(0);
    const uniform = c && c.data.length > 0 && Array.prototype.every.call(c.data, (v: number) => v === c.data[0]) ? { numerator: Number(c.data[0]) } : {};
    return { spec: { type: 'unbounded', reason: 'division by a data-dependent tensor is not globally Lipschitz', ...uniform }, outputShapes: [out] };
  }
  const x = ctx.shape(dyn[0]);
  const c = ctx.requireConstant(1 - dyn[0], 'the constant operand');
  const spec = scaleByConstant(x, c, out, ctx.op === 'Div', ctx.op === 'Div' ? 'division' : 'multiplication');
  // A diagonal spec scales by its own entries; a broadcast scaling runs as a multiplication by the constant.
  const execution: NodeExecution | undefined = spec.type === 'diagonal' ? { kind: 'affine' } : spec.type === 'fixed' ? { kind: 'activation', name: 'scale', operand: { dims: [...c.dims], data: Float32Array.from(c.data, (v) => (ctx.op === 'Div' ? 1 / v : v)) } } : undefined;
  return { spec, outputShapes: [out], weightShape: [...c.dims], dataInputs: dyn, ...(execution ? { execution } : {}) };
}

const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Mod: (a, b) => a - Math.floor(a / b) * b,
  Equal: (a, b) => +(a === b),
  Less: (a, b) => +(a < b),
  LessOrEqual: (a, b) => +(a <= b),
  Greater: (a, b) => +(a > b),
  GreaterOrEqual: (a, b) => +(a >= b),
  And: (a, b) => +(a !== 0 && b !== 0),
  Or: (a, b) => +(a !== 0 || b !== 0),
  Xor: (a, b) => +((a !== 0) !== (b !== 0)),
};
const COMPARISONS = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

function binaryFold(op: string): OpHandler['fold'] {
  const fn = BINARY[op];
  return (ctx) => {
    const a = ctx.constant(0);
    if (!a) return undefined;
    const isInt = !isFloatType(a.dataType);
    // Integer division truncates (as ONNX runtimes do for shape arithmetic).
    const f = op === 'Div' && isInt ? (x: number, y: number) => Math.trunc(x / y) : fn;
    return foldElementwise(ctx, f, COMPARISONS.has(op) ? DataType.BOOL : undefined);
  };
}

export const add: OpHandler = { infer: addSub, fold: binaryFold('Add') };
export const sub: OpHandler = { infer: addSub, fold: binaryFold('Sub') };
export const mul: OpHandler = { infer: mulDiv, fold: binaryFold('Mul') };
export const div: OpHandler = { infer: mulDiv, fold: binaryFold('Div') };

/** Comparisons and logic on data are discontinuous (or not real-valued): unsupported, shape from broadcasting. */
function comparison(op: string): OpHandler {
  return {
    infer: (ctx) => ({ spec: { type: 'unsupported', detail: `${op} on data-dependent values is not a continuous map` }, outputShapes: [outShape(ctx)] }),
    fold: binaryFold(op),
  };
}

export const pow: OpHandler = {
  infer(ctx) {
    const out = outShape(ctx);
    const exponent = ctx.constant(1);
    if (ctx.isDynamic(0) && exponent && exponent.data.length >= 1) {
      // The executor runs any constant exponent as the file does (tf.pow, broadcast); the bound needs one exponent for every entry.
      const execution: NodeExecution = { kind: 'power', exponent: { dims: [...exponent.dims], data: Float32Array.from(exponent.data) } };
      const e = exponent.data[0];
      if (!exponent.data.every((v) => v === e)) return { spec: { type: 'unsupported', detail: 'Pow with a constant exponent that differs between entries' }, outputShapes: [out], dataInputs: [0], execution };
      // An exponent that broadcasts x up copies its entries: x^1 is then a copy, not the identity.
      const copies = Math.sqrt(broadcastCopies(ctx.shape(0), out));
      return { spec: powerSpec(e, copies), outputShapes: [out], dataInputs: [0], execution };
    }
    return { spec: { type: 'unsupported', detail: 'Pow with a data-dependent exponent (only a constant exponent is read)' }, outputShapes: [out] };
  },
  fold: binaryFold('Pow'),
};

/** Max/Min with a constant clamps (1-Lipschitz); of two data tensors it is not modelled. */
function extremum(op: 'Max' | 'Min'): OpHandler {
  const fn = op === 'Max' ? Math.max : Math.min;
  return {
    infer(ctx) {
      const out = outShape(ctx);
      const dyn = ctx.dynamicIndices();
      if (dyn.length === 1 && sameShape(ctx.shape(dyn[0]), out)) {
        const limit = ctx.constant(1 - dyn[0]);
        const value = limit && limit.data.length === 1 ? limit.data[0] : undefined;
        const values = value === undefined || ctx.inputs.length !== 2 ? undefined : op === 'Max' ? { kind: 'clip' as const, min: value, max: Infinity } : { kind: 'clip' as const, min: -Infinity, max: value };
        const c = ctx.inputs.length === 2 ? limit : undefined;
        const execution = c ? { execution: { kind: 'activation' as const, name: op === 'Max' ? 'maximum' : 'minimum', operand: { dims: [...c.dims], data: Float32Array.from(c.data) } } } : {};
        return { spec: { type: 'fixed', kind: 'activation', constant: 1, detail: `${op} with a constant (a clamp): 1`, ...(values ? { values } : {}) }, outputShapes: [out], dataInputs: dyn, ...execution };
      }
      return { spec: { type: 'unsupported', detail: `${op} of several data-dependent tensors` }, outputShapes: [out] };
    },
    fold: (ctx) => foldElementwise(ctx, (...v) => fn(...v)),
  };
}

export const where: OpHandler = {
  infer: (ctx) => ({ spec: { type: 'unsupported', detail: 'Where on data-dependent values' }, outputShapes: [outShape(ctx)] }),
  fold(ctx) {
    const x = ctx.constant(1);
    if (!x) return undefined;
    return foldElementwise(ctx, (c, a, b) => (c ? a : b), x.dataType);
  },
};

/**
 * Variadic Sum and Mean (opset 6+): with two inputs, or several data inputs, they are Add's sum
 * (Mean's weights divided by the count k); one input is the identity (Mean: the identity too);
 * one data input among several constants is a shift (Mean: scaled by 1/k), broadcasting as Add does.
 */
function variadic(op: 'Sum' | 'Mean'): OpHandler {
  return {
    infer(ctx) {
      const k = ctx.inputs.length;
      const mean = op === 'Mean';
      const dyn = ctx.dynamicIndices();
      const out = outShape(ctx);
      if (k === 1) return { spec: structural(`${op} of one input (identity): 1`, 1, IDENTITY_VALUES), outputShapes: [out], dataInputs: [0] };
      const weights = dyn.map((i) => Math.sqrt(broadcastCopies(ctx.shape(i), out)) / (mean ? k : 1));
      if (dyn.length >= 2) {
        const plain = !mean && weights.every((w) => w === 1);
        const execution = !mean && dyn.length === k ? { execution: { kind: 'sum' as const, signs: dyn.map(() => 1) } } : {};
        const detail = `${mean ? `mean of ${k} inputs` : 'sum'}: each data input's bound times √(copies)${mean ? `/${k}` : ''} = ${weights.map((w) => w.toPrecision(4)).join(', ')}`;
        return { spec: plain ? { type: 'add' } : { type: 'add', weights, detail }, outputShapes: [out], ...execution };
      }
      const copies = broadcastCopies(ctx.shape(dyn[0]), out);
      return { spec: structural(`${op} of one data input (each entry copied ${copies} times) and constants: √${copies}${mean ? `/${k}` : ''}`, weights[0]), outputShapes: [out], dataInputs: dyn };
    },
    fold: (ctx) => foldElementwise(ctx, (...v) => v.reduce((a, b) => a + b, 0) / (op === 'Mean' ? v.length : 1)),
  };
}

export const binaryOps: Record<string, OpHandler> = {
  Add: add, Sub: sub, Mul: mul, Div: div, Pow: pow,
  Max: extremum('Max'), Min: extremum('Min'), Where: where,
  Sum: variadic('Sum'), Mean: variadic('Mean'),
  Mod: comparison('Mod'),
  ...Object.fromEntries([...COMPARISONS].map((op) => [op, comparison(op)])),
};
