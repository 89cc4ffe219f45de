// Quantised ops, read as the real-valued network they approximate (docs/op-coverage.md, "Quantised
// models"): a tensor stored as integers q stands for its real value (q − zero_point)·scale, so
// QuantizeLinear and DequantizeLinear on data, and DynamicQuantizeLinear, are the identity (their
// rounding is not Lipschitz-bounded, hence the note on the row and the model's warning), and a
// quantised layer's map is its float layer with dequantised weights (w − zero_point)·scale, per
// tensor or per output channel. DynamicQuantizeLinear's own scale and zero point then read as 1 and
// 0, so the integer convolution and the rescaling Mul after it (ONNX Runtime's dynamic quantisation:
// ConvInteger → Cast → Mul by x_scale·w_scale) compose to the float convolution with (w − zp)·w_scale.

import type { OpSpec } from '../../../model/ir';
import { activationSpec, IDENTITY_VALUES, structural } from '../../../analysis/constants';
import { DataType } from '../proto';
import { elementCount, type ConstTensor } from '../tensor';
import { formatShape, type NodeContext, type NodeResult, type OpHandler } from '../context';
import { conv } from './conv';
import { gemm, matmul } from './dense';
import { binaryOps } from './elementwise';
import { concat } from './shape';

export const QUANTISED_NOTE = 'rounding ignored: identity on real values (the bound is for the real-valued network)';

/** Rows that quantise or dequantise activations: a model with any gets QUANTISED_WARNING. */
export const QUANTISATION_STEPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);
export const QUANTISED_WARNING = 'quantised model: QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear steps on activations count as the identity and quantised layers use their dequantised weights (w − zero_point)·scale; rounding is not Lipschitz-bounded, so the bound is for the real-valued network the quantised one approximates';

const identityOnReals = (what: string): OpSpec => structural(`${what}, ${QUANTISED_NOTE}: 1`, 1, IDENTITY_VALUES);

/** (w − zero_point)·scale, with one scale / zero point per index of `axis` (or one for all). */
export function dequantize(ctx: NodeContext, w: ConstTensor, scale: ConstTensor | undefined, zero: ConstTensor | undefined, axis: number, what: string): ConstTensor {
  const n = Math.max(scale?.data.length ?? 1, zero?.data.length ?? 1);
  if (n > 1 && (w.dims[axis] !== n || (scale && scale.data.length !== 1 && scale.data.length !== n) || (zero && zero.data.length !== 1 && zero.data.length !== n))) {
    ctx.fail(`${what}: scale ${formatShape(scale?.dims ?? [])} and zero point ${formatShape(zero?.dims ?? [])} do not fit axis ${axis} of ${formatShape(w.dims)}`);
  }
  const inner = elementCount(w.dims.slice(axis + 1));
  const data = new Float32Array(w.data.length);
  for (let j = 0; j < data.length; j++) {
    const c = n > 1 ? Math.floor(j / inner) % n : 0;
    const s = scale ? scale.data[scale.data.length > 1 ? c : 0] : 1;
    const z = zero ? zero.data[zero.data.length > 1 ? c : 0] : 0;
    data[j] = (w.data[j] - z) * s;
  }
  return { dims: [...w.dims], dataType: DataType.FLOAT, data };
}

const FLOAT_ONE: ConstTensor = { dims: [], dataType: DataType.FLOAT, data: Float32Array.of(1) };
const UINT8_ZERO: ConstTensor = { dims: [], dataType: DataType.UINT8, data: Float64Array.of(0) };

/** The real-valued layer's result, shown under the quantised op's name with the weight as stored. */
function asReal(result: NodeResult | ConstTensor[], stored: number[] | undefined, dataInputs: number[]): NodeResult {
  if (Array.isArray(result)) throw new Error('a quantised layer folded to constants');
  return { ...result, weightShape: stored ?? result.weightShape, dataInputs };
}

export const dynamicQuantizeLinear: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    // Output 0 stands for x itself; its scale and zero point are then 1 and 0 (see the header).
    return { spec: identityOnReals('dynamic quantisation'), outputShapes: [x, [], []], dataInputs: [0], constOutputs: [undefined, FLOAT_ONE, UINT8_ZERO] };
  },
};

export const quantizeLinear: OpHandler = {
  infer: (ctx) => ({ spec: identityOnReals('quantisation'), outputShapes: [ctx.dynamic(0)], dataInputs: [0] }),
};

export const dequantizeLinearOnData = (ctx: NodeContext): NodeResult => ({ spec: identityOnReals('dequantisation'), outputShapes: [ctx.dynamic(0)], dataInputs: [0] });

/** ConvInteger(x, w, x_zp, w_zp): the convolution with w − w_zp (per output channel); x_zp only shifts. */
export const convInteger: OpHandler = {
  infer(ctx) {
    const w = ctx.constant(1);
    if (!w) return { spec: { type: 'unbounded', reason: 'ConvInteger with a data-dependent weight is a product x·y' }, outputShapes: [ctx.dynamic(0)], dataInputs: ctx.dynamicIndices() };
    const weight = dequantize(ctx, w, undefined, ctx.constant(3), 0, 'the weight');
    return asReal(conv.infer?.(ctx.withInputs([ctx.inputs[0], { kind: 'const', tensor: weight }])) ?? [], w.dims, [0]);
  },
};

/** MatMulInteger(a, b, a_zp, b_zp): the dense map with b − b_zp (per column). */
export const matMulInteger: OpHandler = {
  infer(ctx) {
    const b = ctx.constant(1);
    if (!b || !ctx.isDynamic(0)) return matmul.infer?.(ctx) as NodeResult;
    const weight = dequantize(ctx, b, undefined, ctx.constant(3), b.dims.length - 1, 'the weight');
    return asReal(matmul.infer?.(ctx.withInputs([ctx.inputs[0], { kind: 'const', tensor: weight }])) ?? [], b.dims, [0]);
  },
};

/** QLinearConv(x, x_s, x_zp, w, w_s, w_zp, y_s, y_zp, B): the convolution with (w − w_zp)·w_s. */
export const qlinearConv: OpHandler = {
  infer(ctx) {
    const w = ctx.requireConstant(3, 'the weight');
    const weight = dequantize(ctx, w, ctx.requireConstant(4, 'the weight scale'), ctx.constant(5), 0, 'the weight');
    return asReal(conv.infer?.(ctx.withInputs([ctx.inputs[0], { kind: 'const', tensor: weight }])) ?? [], w.dims, [0]);
  },
};

/** QLinearMatMul(a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp): the dense map with (b − b_zp)·b_s. */
export const qlinearMatMul: OpHandler = {
  infer(ctx) {
    const b = ctx.constant(3);
    const inputs = [ctx.inputs[0], ctx.inputs[3]];
    if (!b) return matmul.infer?.(ctx.withInputs(inputs)) as NodeResult;
    const weight = dequantize(ctx, b, ctx.requireConstant(4, 'the weight scale'), ctx.constant(5), b.dims.length - 1, 'the weight');
    const real = matmul.infer?.(ctx.withInputs([inputs[0], { kind: 'const', tensor: weight }])) as NodeResult;
    return { ...real, weightShape: [...b.dims], dataInputs: [0] };
  },
};

/** The float op of a quantised elementwise op, fed its real operands (every third input from `first`). */
function onOperands(handler: OpHandler, operands: number[]): OpHandler {
  return {
    infer(ctx: NodeContext): NodeResult {
      const inputs = operands.map((i) => ctx.inputs[i]);
      const result = handler.infer?.(ctx.withInputs(inputs));
      if (!result || Array.isArray(result)) return ctx.fail('has no data operand');
      const dataInputs = (result.dataInputs ?? inputs.flatMap((v, i) => (v?.kind === 'dynamic' ? [i] : []))).map((i) => operands[i]);
      return { ...result, dataInputs };
    },
  };
}

function qlinearActivation(make: (ctx: NodeContext) => OpSpec): OpHandler {
  return { infer: (ctx) => ({ spec: make(ctx), outputShapes: [ctx.dynamic(0)], dataInputs: [0] }) };
}

/** QLinearConcat(y_s, y_zp, then (x, x_s, x_zp) per input). */
const qlinearConcat: OpHandler = {
  infer(ctx) {
    const operands = ctx.inputs.map((_, i) => i).filter((i) => i >= 2 && (i - 2) % 3 === 0);
    return onOperands(concat, operands).infer?.(ctx) as NodeResult;
  },
};

const qlinearGlobalAveragePool: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const channelsLast = ctx.attrs.int('channels_last', 0) !== 0;
    const out = channelsLast ? [x[0], ...x.slice(1, -1).map(() => 1), x[x.length - 1]] : [x[0], x[1], ...x.slice(2).map(() => 1)];
    return { spec: { type: 'globalAvgPool', channelsLast }, outputShapes: [out], dataInputs: [0] };
  },
};

export const quantizedOps: Record<string, OpHandler> = {
  DynamicQuantizeLinear: dynamicQuantizeLinear,
  ConvInteger: convInteger,
  MatMulInteger: matMulInteger,
  QLinearConv: qlinearConv,
  QLinearMatMul: qlinearMatMul,
};

/** ONNX Runtime's quantised contrib ops (domain com.microsoft). */
export const quantizedContribOps: Record<string, OpHandler> = {
  'com.microsoft:QLinearAdd': onOperands(binaryOps.Add, [0, 3]),
  'com.microsoft:QLinearMul': onOperands(binaryOps.Mul, [0, 3]),
  'com.microsoft:QLinearSigmoid': qlinearActivation(() => activationSpec('sigmoid') as OpSpec),
  'com.microsoft:QLinearLeakyRelu': qlinearActivation((ctx) => activationSpec('leakyRelu', { alpha: ctx.attrs.float('alpha', 0.01) }) as OpSpec),
  'com.microsoft:QLinearConcat': qlinearConcat,
  'com.microsoft:QLinearGlobalAveragePool': qlinearGlobalAveragePool,
  'com.microsoft:QGemm': onOperands(gemm, [0, 3]),
};

