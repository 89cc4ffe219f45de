// Ops that make constants: Constant (weights in Paddle and older exports), ConstantOfShape, Range,
// and the quantisation pair: DequantizeLinear of an int8/uint8/int32 weight folds to float32
// (per-tensor or per-axis scale and zero point).

import { DataType } from '../proto';
import { elementCount, type ConstTensor } from '../tensor';
import { formatShape, normAxis, type NodeContext, type NodeResult, type OpHandler } from '../context';
import { dequantizeLinearOnData, quantizeLinear as quantizeOnData } from './quantized';
import { roundHalfEven } from './activation';

const FOLD_LIMIT = 1 << 24;

export const constant: OpHandler = {
  fold(ctx) {
    const a = ctx.attrs;
    const t = a.tensor('value');
    if (t) return [ctx.tensorAttribute(t, `Constant "${ctx.name}"`)];
    const f = a.float('value_float');
    if (f !== undefined && a.has('value_float')) return [{ dims: [], dataType: DataType.FLOAT, data: Float32Array.of(f) }];
    const fs = a.floats('value_floats');
    if (fs) return [{ dims: [fs.length], dataType: DataType.FLOAT, data: Float32Array.from(fs) }];
    if (a.has('value_int')) return [{ dims: [], dataType: DataType.INT64, data: Float64Array.of(a.int('value_int', 0)) }];
    const is = a.ints('value_ints');
    if (is) return [{ dims: [is.length], dataType: DataType.INT64, data: Float64Array.from(is) }];
    return undefined;
  },
};

export const constantOfShape: OpHandler = {
  fold(ctx) {
    const shape = ctx.intsInput(0, 'the shape') ?? [];
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) ctx.fail(`invalid shape ${formatShape(shape)}`);
    const count = elementCount(shape);
    if (count > FOLD_LIMIT) return undefined;
    const t = ctx.attrs.tensor('value');
    const value = t ? ctx.tensorAttribute(t, `ConstantOfShape "${ctx.name}" value`) : { dims: [1], dataType: DataType.FLOAT, data: Float32Array.of(0) };
    const fill = value.data[0] ?? 0;
    const data = value.data instanceof Float32Array ? new Float32Array(count).fill(fill) : new Float64Array(count).fill(fill);
    return [{ dims: shape, dataType: value.dataType, data }];
  },
};

export const range: OpHandler = {
  fold(ctx) {
    const [start, limit, delta] = [0, 1, 2].map((i) => ctx.requireConstant(i, ['start', 'limit', 'delta'][i]));
    const s = start.data[0];
    const d = delta.data[0];
    if (d === 0) ctx.fail('delta is 0');
    const n = Math.max(0, Math.ceil((limit.data[0] - s) / d));
    if (n > FOLD_LIMIT) return undefined;
    const values = Array.from({ length: n }, (_, i) => s + i * d);
    return [{ dims: [n], dataType: start.dataType, data: start.data instanceof Float32Array ? Float32Array.from(values) : Float64Array.from(values) }];
  },
};

/** Scale and zero point per entry of x (per-tensor, per-axis; blocked quantisation is refused). */
function quantParams(ctx: NodeContext, dims: number[]): { axis: number; scale: ConstTensor; zero: ConstTensor | undefined } {
  const scale = ctx.requireConstant(1, 'the scale');
  const zero = ctx.has(2) ? ctx.requireConstant(2, 'the zero point') : undefined;
  if (ctx.attrs.int('block_size', 0) !== 0) ctx.fail('blocked quantisation (block_size) is not supported');
  const n = scale.data.length;
  let axis = -1;
  if (n !== 1) {
    axis = normAxis(ctx, ctx.attrs.int('axis', 1), dims.length);
    if (scale.dims.length !== 1 || n !== dims[axis]) ctx.fail(`scale ${formatShape(scale.dims)} does not fit axis ${axis} of ${formatShape(dims)}`);
  }
  if (zero && zero.data.length !== n) ctx.fail(`zero point ${formatShape(zero.dims)} differs from scale ${formatShape(scale.dims)}`);
  return { axis, scale, zero };
}

function perEntry(dims: number[], axis: number): (j: number) => number {
  if (axis < 0) return () => 0;
  const inner = elementCount(dims.slice(axis + 1));
  const size = dims[axis];
  return (j) => Math.floor(j / inner) % size;
}

export const dequantizeLinear: OpHandler = {
  infer(ctx) {
    quantParams(ctx, ctx.dynamic(0));
    return dequantizeLinearOnData(ctx);
  },
  fold(ctx) {
    const x = ctx.constant(0);
    if (!x) return undefined;
    const { axis, scale, zero } = quantParams(ctx, x.dims);
    const channel = perEntry(x.dims, axis);
    const data = new Float32Array(x.data.length);
    for (let j = 0; j < data.length; j++) {
      const c = channel(j);
      data[j] = (x.data[j] - (zero ? zero.data[c] : 0)) * scale.data[c];
    }
    return [{ dims: x.dims, dataType: DataType.FLOAT, data }];
  },
};

const RANGES: Record<number, [number, number]> = {
  [DataType.UINT8]: [0, 255], [DataType.INT8]: [-128, 127], [DataType.UINT16]: [0, 65535], [DataType.INT16]: [-32768, 32767], [DataType.INT32]: [-(2 ** 31), 2 ** 31 - 1],
};

export const quantizeLinear: OpHandler = {
  infer(ctx) {
    quantParams(ctx, ctx.dynamic(0));
    return quantizeOnData.infer?.(ctx) as NodeResult;
  },
  fold(ctx) {
    // QDQ models keep float weights behind QuantizeLinear → DequantizeLinear.
    const x = ctx.constant(0);
    if (!x) return undefined;
    const { axis, scale, zero } = quantParams(ctx, x.dims);
    const outType = zero?.dataType ?? DataType.UINT8;
    const [lo, hi] = RANGES[outType] ?? ctx.fail(`QuantizeLinear to element type ${outType} is not supported`);
    const channel = perEntry(x.dims, axis);
    const data = new Float64Array(x.data.length);
    for (let j = 0; j < data.length; j++) {
      const c = channel(j);
      data[j] = Math.min(hi, Math.max(lo, roundHalfEven(x.data[j] / scale.data[c]) + (zero ? zero.data[c] : 0)));
    }
    return [{ dims: x.dims, dataType: outType, data }];
  },
};

export const constantOps: Record<string, OpHandler> = {
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  DequantizeLinear: dequantizeLinear,
  QuantizeLinear: quantizeLinear,
};
