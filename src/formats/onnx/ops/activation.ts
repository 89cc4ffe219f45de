// Pointwise ops: activations with the shared constants of src/analysis/constants.ts, and unary math
// folded when its input is a constant.

import type { FixedSpec, NodeExecution, OpSpec, UnboundedSpec } from '../../../model/ir';
import { activationSpec, IDENTITY_VALUES, SELU_ALPHA, SELU_LAMBDA, structural, type ActivationParams } from '../../../analysis/constants';
import { DataType, isFloatType } from '../proto';
import { foldElementwise } from './elementwise';
import { broadcastShapes, normAxis, type NodeContext, type NodeResult, type OpHandler } from '../context';
import { elementCount } from '../tensor';

function shared(ctx: NodeContext, name: string, params: ActivationParams = {}): FixedSpec | UnboundedSpec {
  const spec = activationSpec(name, params);
  if (!spec) ctx.fail(`no shared constant for activation "${name}"`);
  return spec;
}

type SpecOf = (ctx: NodeContext, shape: number[]) => OpSpec;
/** The executor's description of the node (src/model/ir.ts NodeExecution); undefined: not executable. */
type ExecutionOf = (ctx: NodeContext, shape: number[]) => NodeExecution | undefined;

function pointwise(specOf: SpecOf, fold?: (x: number) => number, executionOf?: ExecutionOf): OpHandler {
  return {
    infer(ctx) {
      const x = ctx.dynamic(0);
      const execution = executionOf?.(ctx, x);
      return { spec: specOf(ctx, x), outputShapes: [x], dataInputs: [0], ...(execution ? { execution } : {}) };
    },
    fold: fold ? (ctx) => foldElementwise(ctx, fold) : undefined,
  };
}

const unbounded = (reason: string): SpecOf => () => ({ type: 'unbounded', reason });
const discontinuous = (op: string): SpecOf => () => ({ type: 'unbounded', reason: `${op} is discontinuous, hence not Lipschitz` });

function softmaxLike(ctx: NodeContext, x: number[], name: 'softmax' | 'logSoftmax'): OpSpec {
  // Opset < 13 coerces the input to 2-D at `axis` (default 1) and normalises over everything after it.
  const legacy = ctx.opset < 13;
  const axis = normAxis(ctx, ctx.attrs.int('axis', legacy ? 1 : -1), x.length);
  const axisLength = legacy ? elementCount(x.slice(axis)) : x[axis];
  return shared(ctx, name, { axisLength });
}

function selu(ctx: NodeContext): OpSpec {
  const alpha = ctx.attrs.float('alpha', SELU_ALPHA);
  const gamma = ctx.attrs.float('gamma', SELU_LAMBDA);
  // Exporters write the defaults as float32: the shared constant stands for them.
  if (Math.abs(alpha - SELU_ALPHA) < 1e-6 && Math.abs(gamma - SELU_LAMBDA) < 1e-6) return shared(ctx, 'selu');
  return { type: 'fixed', kind: 'activation', constant: Math.abs(gamma) * Math.max(1, Math.abs(alpha)), detail: `SELU(α=${alpha}, γ=${gamma}): |γ|·max(1, |α|)` };
}

function gelu(ctx: NodeContext): OpSpec {
  const approximate = ctx.attrs.string('approximate', 'none');
  if (approximate === 'none') return shared(ctx, 'gelu');
  if (approximate === 'tanh') return shared(ctx, 'geluTanh');
  ctx.fail(`unknown approximate="${approximate}"`);
}

export const prelu: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const out = broadcastShapes(ctx, [x, ctx.shape(1)]);
    const slope = ctx.constant(1);
    if (!slope) return { spec: { type: 'unbounded', reason: 'PReLU with a data-dependent slope is a product x·y' }, outputShapes: [out], dataInputs: [0, 1] };
    let largest = 0;
    for (const a of slope.data) largest = Math.max(largest, Math.abs(a));
    if (out.length !== x.length || out.some((d, i) => d !== x[i])) ctx.fail(`slope ${slope.dims.join('x')} enlarges the input`);
    const slopes = { dims: [...slope.dims], data: Float32Array.from(slope.data) };
    return { spec: shared(ctx, 'prelu', { alpha: largest }), outputShapes: [out], weightShape: [...slope.dims], dataInputs: [0], execution: { kind: 'activation', name: 'prelu', operand: slopes } };
  },
};

/** Cast between floating types is the identity on real values; to integers it rounds (discontinuous). */
export const cast: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const to = ctx.attrs.int('to', DataType.FLOAT);
    const spec: OpSpec = isFloatType(to) ? structural('cast between floating types: 1', 1, IDENTITY_VALUES) : { type: 'unbounded', reason: 'cast to an integer type is discontinuous' };
    return { spec, outputShapes: [x], dataInputs: [0], ...(isFloatType(to) ? { execution: { kind: 'reshape' as const } } : {}) };
  },
  fold(ctx) {
    const x = ctx.constant(0);
    if (!x) return undefined;
    const to = ctx.attrs.int('to', DataType.FLOAT);
    if (isFloatType(to)) return [{ dims: x.dims, dataType: to, data: Float32Array.from(x.data) }];
    const data = Float64Array.from(x.data, (v) => (to === DataType.BOOL ? +(v !== 0) : Math.trunc(v)));
    return [{ dims: x.dims, dataType: to, data }];
  },
};

const identityFold: OpHandler['fold'] = (ctx) => {
  const x = ctx.constant(0);
  return x ? [x] : undefined;
};

export const dropout: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const training = ctx.constant(2);
    if (ctx.isDynamic(2) || (training && training.data[0])) return { spec: { type: 'unsupported', detail: 'Dropout in training mode is random' }, outputShapes: [x, x], dataInputs: [0] };
    return { spec: structural('dropout at inference: 1', 1, IDENTITY_VALUES), outputShapes: [x, x], dataInputs: [0], execution: { kind: 'reshape' } };
  },
  fold: identityFold,
};

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Clip with its limits (attributes before opset 11, optional constant inputs after; absent: no limit). */
function clip(ctx: NodeContext): OpSpec {
  if (ctx.opset < 11) return shared(ctx, 'clip', { min: ctx.attrs.float('min', -Infinity), max: ctx.attrs.float('max', Infinity) });
  // Limits computed from the data are clipOfDataLimits's.
  return shared(ctx, 'clip', { min: ctx.constant(1)?.data[0], max: ctx.constant(2)?.data[0] });
}

const run = (name: string, params: (ctx: NodeContext, shape: number[]) => Omit<Extract<NodeExecution, { kind: 'activation' }>, 'kind' | 'name'> = () => ({})): ExecutionOf =>
  (ctx, shape) => ({ kind: 'activation', name, ...params(ctx, shape) });
const reshapeRun: ExecutionOf = () => ({ kind: 'reshape' });

/** Clip's bounds: attributes before opset 11, optional constant inputs after; a data-dependent bound is not executable. */
const clipRun: ExecutionOf = (ctx) => {
  if (ctx.opset < 11) return { kind: 'activation', name: 'clip', min: ctx.attrs.float('min', -Infinity), max: ctx.attrs.float('max', Infinity) };
  const bound = (i: number, fallback: number) => (ctx.has(i) ? ctx.constant(i)?.data[0] : fallback);
  const min = bound(1, -Infinity);
  const max = bound(2, Infinity);
  return min === undefined || max === undefined ? undefined : { kind: 'activation', name: 'clip', min, max };
};

function clipPointwise(ctx: NodeContext): NodeResult {
  const x = ctx.dynamic(0);
  const execution = clipRun(ctx, x);
  return { spec: clip(ctx), outputShapes: [x], dataInputs: [0], ...(execution ? { execution } : {}) };
}

/**
 * Clip whose min or max is computed from the data (a log-mel spectrogram's floor at max − 80 dB):
 * the limit moves every entry it clips. min(max(x, lo), hi) moves each entry by at most the largest
 * move of x_i, lo and hi, so ‖Δy‖² ≤ ‖Δx‖² + c_lo·‖Δlo‖² + c_hi·‖Δhi‖², c the entries each limit
 * entry is copied to (a scalar limit: all of them), and the row reads x and the data limits jointly
 * with constant √max(1, c) (docs/op-coverage.md, "Also covered"). Not 1: one move of a scalar floor
 * moves all the entries it clips.
 */
function clipOfDataLimits(ctx: NodeContext): NodeResult | undefined {
  if (ctx.opset < 11) return undefined;
  const limits = [1, 2].filter((i) => ctx.isDynamic(i));
  if (limits.length === 0) return undefined;
  const x = ctx.shape(0);
  const n = elementCount(x);
  const copies = Math.max(1, ...limits.map((i) => n / Math.max(1, elementCount(ctx.shape(i)))));
  const names = limits.map((i) => (i === 1 ? 'min' : 'max')).join(' and ');
  const spec: FixedSpec = {
    type: 'fixed',
    kind: 'activation',
    constant: Math.sqrt(copies),
    detail: `clip with its ${names} computed from the data: each entry moves at most as far as x or the limit, and the limit reaches ${copies} entr${copies === 1 ? 'y' : 'ies'}: √${copies} jointly`,
  };
  return { spec, outputShapes: [x], dataInputs: ctx.dynamicIndices() };
}

const softmaxRun = (name: string): ExecutionOf => (ctx, x) => {
  // Opset < 13 normalises over the flattened trailing axes: executable only when that is the last axis.
  const axis = normAxis(ctx, ctx.attrs.int('axis', ctx.opset < 13 ? 1 : -1), x.length);
  if (ctx.opset < 13 && axis !== x.length - 1) return undefined;
  return { kind: 'activation', name, axis };
};

/** A pointwise map whose derivative is at most 1 in size everywhere (sin, cos, atan, asinh): constant 1. */
const slopeAtMostOne = (what: string): SpecOf => () => ({ type: 'fixed', kind: 'activation', constant: 1, detail: `${what}: |derivative| ≤ 1` });

/** Shrink: slope 0 inside [−λ, λ], 1 outside; continuous only when bias = λ (softshrink), else it jumps at ±λ. */
function shrink(ctx: NodeContext): OpSpec {
  const lambd = ctx.attrs.float('lambd', 0.5);
  const bias = ctx.attrs.float('bias', 0);
  if (bias === lambd) return { type: 'fixed', kind: 'activation', constant: 1, detail: `Shrink(λ=${lambd}, bias=λ) (softshrink): 1` };
  return { type: 'unbounded', reason: `Shrink with bias ${bias} ≠ λ ${lambd} jumps at ±λ (hardshrink), hence not Lipschitz` };
}

export const activationOps: Record<string, OpHandler> = {
  Relu: pointwise((ctx) => shared(ctx, 'relu'), (x) => Math.max(0, x), run('relu')),
  LeakyRelu: pointwise((ctx) => shared(ctx, 'leakyRelu', { alpha: ctx.attrs.float('alpha', 0.01) }), undefined, run('leakyRelu', (ctx) => ({ alpha: ctx.attrs.float('alpha', 0.01) }))),
  PRelu: prelu,
  Elu: pointwise((ctx) => shared(ctx, 'elu', { alpha: ctx.attrs.float('alpha', 1) }), undefined, run('elu', (ctx) => ({ alpha: ctx.attrs.float('alpha', 1) }))),
  Celu: pointwise((ctx) => shared(ctx, 'celu', { alpha: ctx.attrs.float('alpha', 1) })),
  Selu: pointwise(selu, undefined, run('selu', (ctx) => ({ alpha: ctx.attrs.float('alpha', SELU_ALPHA), beta: ctx.attrs.float('gamma', SELU_LAMBDA) }))),
  ThresholdedRelu: pointwise((ctx) => shared(ctx, 'thresholdedRelu', { alpha: ctx.attrs.float('alpha', 1) })),
  Sigmoid: pointwise((ctx) => shared(ctx, 'sigmoid'), sigmoid, run('sigmoid')),
  HardSigmoid: pointwise((ctx) => shared(ctx, 'hardSigmoid', { alpha: ctx.attrs.float('alpha', 0.2), beta: ctx.attrs.float('beta', 0.5) }), undefined, run('hardSigmoid', (ctx) => ({ alpha: ctx.attrs.float('alpha', 0.2), beta: ctx.attrs.float('beta', 0.5) }))),
  HardSwish: pointwise((ctx) => shared(ctx, 'hardSwish'), undefined, run('hardSwish')),
  Tanh: pointwise((ctx) => shared(ctx, 'tanh'), Math.tanh, run('tanh')),
  Softsign: pointwise((ctx) => shared(ctx, 'softsign'), undefined, run('softsign')),
  Softplus: pointwise((ctx) => shared(ctx, 'softplus'), undefined, run('softplus')),
  Mish: pointwise((ctx) => shared(ctx, 'mish')),
  Gelu: pointwise(gelu),
  Erf: pointwise((ctx) => shared(ctx, 'erf')),
  Softmax: pointwise((ctx, x) => softmaxLike(ctx, x, 'softmax'), undefined, softmaxRun('softmax')),
  LogSoftmax: pointwise((ctx, x) => softmaxLike(ctx, x, 'logSoftmax'), undefined, softmaxRun('logSoftmax')),
  Clip: { infer: (ctx) => clipOfDataLimits(ctx) ?? clipPointwise(ctx) },
  Abs: pointwise((ctx) => shared(ctx, 'abs'), Math.abs, run('abs')),
  Neg: pointwise((ctx) => shared(ctx, 'neg'), (x) => -x, run('neg')),
  Exp: pointwise((ctx) => shared(ctx, 'exp'), Math.exp),
  Sin: pointwise(slopeAtMostOne('sin'), Math.sin, run('sin')),
  Cos: pointwise(slopeAtMostOne('cos'), Math.cos, run('cos')),
  Atan: pointwise(slopeAtMostOne('atan'), Math.atan, run('atan')),
  Asinh: pointwise(slopeAtMostOne('asinh'), Math.asinh, run('asinh')),
  Shrink: pointwise(shrink),
  Log: pointwise(unbounded('log is not globally Lipschitz'), Math.log),
  Sqrt: pointwise(unbounded('√x is not Lipschitz at 0'), Math.sqrt),
  Reciprocal: pointwise(unbounded('1/x is not globally Lipschitz'), (x) => 1 / x),
  Floor: pointwise(discontinuous('Floor'), Math.floor),
  Ceil: pointwise(discontinuous('Ceil'), Math.ceil),
  Round: pointwise(discontinuous('Round'), roundHalfEven),
  Sign: pointwise(discontinuous('Sign'), Math.sign),
  Not: pointwise(discontinuous('Not'), (x) => +!x),
  Identity: pointwise(() => structural('identity: 1', 1, IDENTITY_VALUES), (x) => x, reshapeRun),
  Dropout: dropout,
  Cast: cast,
};
activationOps.Identity.fold = identityFold;

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
