// Gemm and MatMul. A constant right operand makes a dense layer (weight canonical [in, out]); two
// data-dependent operands make a product x·y (attention), bounded by the shared pass where both
// factors have ranges (src/analysis/products.ts), else not globally Lipschitz.

import type { NodeExecution, OpSpec, WeightTensor } from '../../../model/ir';
import { asFloat32, transpose2d } from '../tensor';
import { broadcastShapes, formatShape, type NodeContext, type NodeResult, type OpHandler } from '../context';

const PRODUCT = 'x·y of two data-dependent tensors is not globally Lipschitz';

export const gemm: OpHandler = {
  infer(ctx) {
    const transA = ctx.attrs.int('transA', 0) !== 0;
    const transB = ctx.attrs.int('transB', 0) !== 0;
    const alpha = ctx.attrs.float('alpha', 1);
    const a = ctx.shape(0);
    const b = ctx.shape(1);
    if (a.length !== 2 || b.length !== 2) ctx.fail(`operands ${formatShape(a)} and ${formatShape(b)} must be matrices`);
    const [m, k] = transA ? [a[1], a[0]] : a;
    const [kb, n] = transB ? [b[1], b[0]] : b;
    if (k !== kb) ctx.fail(`operands ${formatShape(a)} and ${formatShape(b)} (transA=${+transA}, transB=${+transB}) do not multiply`);
    if (ctx.has(2)) broadcastShapes(ctx, [[m, n], ctx.shape(2)]);
    const outputShapes = [[m, n]];
    if (ctx.isDynamic(2)) return { spec: { type: 'unsupported', detail: 'Gemm with a data-dependent C operand' }, outputShapes };
    if (ctx.isDynamic(0) && ctx.isDynamic(1)) return dataGemm(ctx, transA, transB, alpha, outputShapes);
    if (!ctx.isDynamic(0)) return { spec: { type: 'unsupported', detail: 'Gemm with a constant A and a data-dependent B (left multiplication) is not modelled' }, outputShapes };
    if (transA) return { spec: { type: 'unsupported', detail: 'Gemm with transA=1 on the data input is not modelled' }, outputShapes };
    const w = ctx.requireConstant(1, 'the weight B');
    const data = transB ? transpose2d(w.data, n, k, alpha) : alpha === 1 ? asFloat32(w) : Float32Array.from(w.data, (v) => alpha * v);
    const spec: OpSpec = { type: 'dense', weight: { dims: [k, n], data } };
    return { spec, outputShapes, weightShape: [...w.dims], dataInputs: [0], ...gemmBias(ctx, n) };
  },
};

/**
 * alpha·op(A)·op(B) + β·C of two data matrices: resolved like a data MatMul by the shared pass
 * (src/analysis/products.ts), with the transposes, alpha, and β·C's smallest and largest entries
 * (a constant C only shifts the values).
 */
function dataGemm(ctx: NodeContext, transposeA: boolean, transposeB: boolean, alpha: number, outputShapes: number[][]): NodeResult {
  let shift: [number, number] = [0, 0];
  let shiftTensor: WeightTensor | undefined;
  if (ctx.has(2)) {
    const c = ctx.constant(2);
    if (!c) return { spec: { type: 'unsupported', detail: 'Gemm of two data matrices with a C operand that is not a constant' }, outputShapes };
    const beta = ctx.attrs.float('beta', 1);
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of c.data) [lo, hi] = [Math.min(lo, beta * v), Math.max(hi, beta * v)];
    if (Number.isFinite(lo) && Number.isFinite(hi)) shift = [lo, hi];
    shiftTensor = { dims: [...c.dims], data: Float32Array.from(c.data, (v) => beta * v) };
  }
  const matmulForm = { transposeA, transposeB, scale: alpha, shift };
  const execution: NodeExecution = { kind: 'matmul', transposeA, transposeB, scale: alpha, ...(shiftTensor ? { shift: shiftTensor } : {}) };
  return { spec: { type: 'unbounded', matmul: true, matmulForm, reason: PRODUCT }, outputShapes, execution };
}

/** Gemm's β·C as the executor's bias when C is a constant of n entries (or a scalar); else not executable. */
function gemmBias(ctx: NodeContext, n: number): Pick<NodeResult, 'execution'> {
  if (!ctx.has(2)) return { execution: { kind: 'affine' } };
  const c = ctx.constant(2);
  const beta = ctx.attrs.float('beta', 1);
  if (!c || !(c.data.length === n || c.data.length === 1) || c.dims.length > 2 || (c.dims.length === 2 && c.dims[0] !== 1)) return {};
  return { execution: { kind: 'affine', bias: Float32Array.from({ length: n }, (_, j) => beta * c.data[c.data.length === 1 ? 0 : j]) } };
}

/** numpy.matmul's output shape. */
export function matmulShape(ctx: NodeContext, a: number[], b: number[]): number[] {
  if (a.length === 0 || b.length === 0) ctx.fail('MatMul operands must have rank ≥ 1');
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  if (a2[a2.length - 1] !== b2[b2.length - 2]) ctx.fail(`operands ${formatShape(a)} and ${formatShape(b)} do not multiply`);
  const batch = broadcastShapes(ctx, [a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]);
  if (b.length > 1) out.push(b2[b2.length - 1]);
  return out;
}

/** A·X with A a constant matrix: X ↦ A·X contracts X's second-to-last axis with Aᵀ (σ = σ(A)). */
function leftMultiplication(ctx: NodeContext, a: number[], b: number[], outputShapes: number[][]): NodeResult {
  const w = ctx.requireConstant(0, 'the left operand');
  if (a.length !== 2) return { spec: { type: 'unsupported', detail: `MatMul by a batched constant left operand ${formatShape(a)} is not modelled` }, outputShapes, weightShape: [...a] };
  const [m, k] = a;
  const data = transpose2d(w.data, m, k, 1);
  const spec: OpSpec = b.length === 1
    ? { type: 'dense', weight: { dims: [k, m], data } }
    : { type: 'dense', weight: { dims: [k, m], data }, axis: b.length - 2 };
  return { spec, outputShapes, weightShape: [...a], dataInputs: [1] };
}

export const matmul: OpHandler = {
  infer(ctx): NodeResult {
    const a = ctx.shape(0);
    const b = ctx.shape(1);
    const out = matmulShape(ctx, a, b);
    const outputShapes = [out];
    // Resolved on the finished graph (src/analysis/products.ts) from the factors' ranges.
    if (ctx.isDynamic(0) && ctx.isDynamic(1)) return { spec: { type: 'unbounded', matmul: true, reason: PRODUCT }, outputShapes, execution: { kind: 'matmul', transposeA: false, transposeB: false, scale: 1 } };
    if (!ctx.isDynamic(0)) return leftMultiplication(ctx, a, b, outputShapes);
    const w = ctx.requireConstant(1, 'the weight');
    if (w.dims.length > 2) {
      return { spec: { type: 'unsupported', detail: `MatMul by a batched constant ${formatShape(w.dims)} is not modelled` }, outputShapes, weightShape: [...w.dims] };
    }
    if (a.length === 1 && w.dims.length === 2) {
      // A vector input: dense on its only axis, treated as one row.
      return { spec: { type: 'dense', weight: { dims: [...w.dims], data: asFloat32(w) } }, outputShapes, weightShape: [...w.dims], dataInputs: [0], execution: { kind: 'affine' } };
    }
    const dims = w.dims.length === 1 ? [w.dims[0], 1] : [...w.dims];
    // A 1-D weight drops the last axis (numpy.matmul): the executor reshapes to outputShapes.
    return { spec: { type: 'dense', weight: { dims, data: asFloat32(w) } }, outputShapes, weightShape: [...w.dims], dataInputs: [0], execution: { kind: 'affine' } };
  },
};
