// Reductions: ReduceMean is linear (1/√n), ReduceSum √n, ReduceMax/Min, ReduceL2 and ReduceLogSumExp
// are 1-Lipschitz, ReduceL1 √n.
// Axes are an attribute before opset 18 (ReduceSum: before 13) and an optional input after.

import type { OpSpec } from '../../../model/ir';
import { structural } from '../../../analysis/constants';
import { elementCount, type ConstTensor } from '../tensor';
import { normAxis, type NodeContext, type OpHandler } from '../context';

function reduction(ctx: NodeContext, shape: number[], inputSince: number): { axes: number[]; out: number[]; noop: boolean } {
  const fromInput = ctx.opset >= inputSince;
  const listed = fromInput ? ctx.intsInput(1, 'axes') : ctx.attrs.ints('axes');
  const keep = ctx.attrs.int('keepdims', 1) !== 0;
  const noopWhenEmpty = ctx.attrs.int('noop_with_empty_axes', 0) !== 0;
  if ((!listed || listed.length === 0) && noopWhenEmpty) return { axes: [], out: [...shape], noop: true };
  const axes = !listed || listed.length === 0 ? shape.map((_, i) => i) : [...new Set(listed.map((a) => normAxis(ctx, a, shape.length)))].sort((a, b) => a - b);
  const out = keep ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
  return { axes, out, noop: false };
}

function reduce(kind: 'mean' | 'sum' | 'max' | 'min' | 'l2' | 'l1' | 'logSumExp' | 'sumSquare' | 'prod', inputSince: number): OpHandler {
  return {
    infer(ctx) {
      const x = ctx.dynamic(0);
      const { axes, out, noop } = reduction(ctx, x, inputSince);
      const n = elementCount(axes.map((a) => x[a]));
      let spec: OpSpec;
      if (noop) spec = structural('reduction over no axes (identity): 1');
      else if (kind === 'mean') spec = { type: 'reduceMean', axes };
      else if (kind === 'sum') spec = structural(`sum over ${n} entries: √${n}`, Math.sqrt(n));
      else if (kind === 'l2') spec = structural('ℓ2 norm over the reduced axes: 1');
      // |‖a‖₁ − ‖b‖₁| ≤ ‖a − b‖₁ ≤ √n·‖a − b‖₂ per output entry, over disjoint groups; equal where no sign changes.
      else if (kind === 'l1') spec = structural(`ℓ1 norm over ${n} entries: √${n}`, Math.sqrt(n));
      // Its gradient is a softmax, of ℓ2 norm at most 1 (approached as one entry dominates).
      else if (kind === 'logSumExp') spec = structural('log-sum-exp over the reduced axes: 1');
      else if (kind === 'sumSquare') spec = { type: 'unbounded', reason: 'a sum of squares of the signal is not globally Lipschitz' };
      else if (kind === 'prod') spec = { type: 'unbounded', reason: 'a product of entries of the signal is not globally Lipschitz' };
      else spec = { type: 'fixed', kind: 'pool', constant: 1, detail: `${kind} over the reduced axes: 1` };
      const execution = noop ? { execution: { kind: 'reshape' as const } }
        : kind === 'mean' ? { execution: { kind: 'spec' as const } }
        : kind === 'sum' || kind === 'max' || kind === 'min' ? { execution: { kind: 'reduce' as const, op: kind, axes } }
        : {};
      return { spec, outputShapes: [out], dataInputs: [0], ...execution };
    },
    fold(ctx) {
      const x = ctx.constant(0);
      if (!x || kind === 'l2' || kind === 'l1' || kind === 'logSumExp' || kind === 'sumSquare') return undefined;
      const { axes, out, noop } = reduction(ctx, x.dims, inputSince);
      if (noop) return [x];
      return [foldReduce(x, axes, out, kind)];
    },
  };
}

function foldReduce(x: ConstTensor, axes: number[], out: number[], kind: 'mean' | 'sum' | 'max' | 'min' | 'prod'): ConstTensor {
  const keptShape = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const count = elementCount(keptShape);
  const acc = new Float64Array(count).fill(kind === 'max' ? -Infinity : kind === 'min' ? Infinity : kind === 'prod' ? 1 : 0);
  const rank = x.dims.length;
  const coords = new Array<number>(rank).fill(0);
  for (let j = 0; j < x.data.length; j++) {
    let target = 0;
    for (let d = 0; d < rank; d++) target = target * keptShape[d] + (axes.includes(d) ? 0 : coords[d]);
    const v = x.data[j];
    acc[target] = kind === 'max' ? Math.max(acc[target], v) : kind === 'min' ? Math.min(acc[target], v) : kind === 'prod' ? acc[target] * v : acc[target] + v;
    for (let d = rank - 1; d >= 0; d--) {
      if (++coords[d] < x.dims[d]) break;
      coords[d] = 0;
    }
  }
  const n = elementCount(axes.map((a) => x.dims[a]));
  if (kind === 'mean') for (let i = 0; i < count; i++) acc[i] /= n;
  return { dims: out, dataType: x.dataType, data: x.data instanceof Float32Array ? Float32Array.from(acc) : acc };
}

export const reduceOps: Record<string, OpHandler> = {
  ReduceMean: reduce('mean', 18),
  ReduceSum: reduce('sum', 13),
  ReduceMax: reduce('max', 18),
  ReduceMin: reduce('min', 18),
  ReduceL2: reduce('l2', 18),
  ReduceL1: reduce('l1', 18),
  ReduceLogSumExp: reduce('logSumExp', 18),
  ReduceSumSquare: reduce('sumSquare', 18),
  // Shape arithmetic (the number of features from a Shape): folded; on the signal, not Lipschitz.
  ReduceProd: reduce('prod', 18),
};
