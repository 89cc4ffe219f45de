// CumSum along one axis: linear, σ in closed form (docs/op-coverage.md, "Also covered").

import { structural } from '../../../analysis/constants';
import { normAxis, type OpHandler } from '../context';

/**
 * σ1 of the m×m lower-triangular matrix of ones: its singular values are
 * 1 / (2·sin((2k − 1)π / (2(2m + 1)))), k = 1…m, so σ1 is the k = 1 one (0 for m = 0). The row's
 * constant is also its certified bound, so it is rounded up past the few ulps sin and the division
 * may lose.
 */
export function cumSumSigma(m: number): number {
  return m <= 0 ? 0 : (1 / (2 * Math.sin(Math.PI / (2 * (2 * m + 1))))) * (1 + 1e-15);
}

/**
 * On the signal, each line along the axis is multiplied by the lower-triangular ones matrix (its
 * flip with `reverse`, the same σ; with `exclusive`, the strictly lower one, whose nonzero block is
 * the (n − 1)×(n − 1) ones matrix). The lines are disjoint, so σ is that matrix's σ1.
 */
export const cumSum: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const axisValues = ctx.intsInput(1, 'the axis');
    if (!axisValues || axisValues.length !== 1) return { spec: { type: 'unsupported', detail: 'CumSum whose axis is not a constant scalar' }, outputShapes: [x] };
    const axis = normAxis(ctx, axisValues[0], x.length);
    const exclusive = ctx.attrs.int('exclusive', 0) !== 0;
    const n = x[axis];
    const m = exclusive ? n - 1 : n;
    return { spec: structural(`cumulative sum over ${n} entries${exclusive ? ' (exclusive)' : ''}: 1/(2·sin(π/(2(2·${m}+1))))`, cumSumSigma(m)), outputShapes: [x], dataInputs: [0] };
  },
  fold(ctx) {
    const x = ctx.constant(0);
    const axisValues = ctx.intsInput(1, 'the axis');
    if (!x || !axisValues || axisValues.length !== 1) return undefined;
    const axis = normAxis(ctx, axisValues[0], x.dims.length);
    const exclusive = ctx.attrs.int('exclusive', 0) !== 0;
    const reverse = ctx.attrs.int('reverse', 0) !== 0;
    const n = x.dims[axis];
    const inner = x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = x.data.length / (n * inner);
    const out = x.data instanceof Float32Array ? new Float32Array(x.data.length) : new Float64Array(x.data.length);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let acc = 0;
      for (let s = 0; s < n; s++) {
        const k = reverse ? n - 1 - s : s;
        const at = (o * n + k) * inner + i;
        if (exclusive) { out[at] = acc; acc += x.data[at]; } else { acc += x.data[at]; out[at] = acc; }
      }
    }
    return [{ dims: [...x.dims], dataType: x.dataType, data: out }];
  },
};
