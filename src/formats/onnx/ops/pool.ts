// Pooling: max pool (closed form from the window overlap), average pool (linear), global pools.

import type { OpSpec } from '../../../model/ir';
import { resolvePads, slidingOutputSize } from '../../../analysis/shapes';
import { formatShape, type NodeContext, type NodeResult, type OpHandler } from '../context';
import { autoPad, windowAttributes } from './conv';

function window(ctx: NodeContext, x: number[]) {
  if (x.length < 3) ctx.fail(`input ${formatShape(x)} needs a batch, a channel and at least one spatial axis`);
  const spatial = x.length - 2;
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel || kernel.length !== spatial || kernel.some((k) => k < 1)) ctx.fail(`kernel_shape ${kernel ? formatShape(kernel) : 'is missing or'} does not fit ${spatial} spatial axes`);
  const { strides, dilations, begin, end } = windowAttributes(ctx, spatial);
  const inSize = x.slice(2);
  const { padsBegin, padsEnd } = resolvePads(autoPad(ctx), inSize, kernel, strides, dilations, begin, end);
  const ceil = ctx.attrs.int('ceil_mode', 0) !== 0;
  const outSize = slidingOutputSize(inSize, kernel, strides, dilations, padsBegin, padsEnd, ceil);
  if (outSize.some((s) => s < 1)) ctx.fail(`input ${formatShape(x)} is too small for kernel ${formatShape(kernel)}`);
  const floorSize = slidingOutputSize(inSize, kernel, strides, dilations, padsBegin, padsEnd, false);
  return { kernel, strides, dilations, padsBegin, padsEnd, outSize, floorSize, out: [x[0], x[1], ...outSize] };
}

export const maxPool: OpHandler = {
  infer(ctx): NodeResult {
    const x = ctx.dynamic(0);
    const w = window(ctx, x);
    const spec: OpSpec = { type: 'maxPool', channelsLast: false, kernel: w.kernel, strides: w.strides, dilations: w.dilations, padsBegin: w.padsBegin, padsEnd: w.padsEnd };
    return { spec, outputShapes: [w.out, w.out], dataInputs: [0], ...(w.dilations.every((d) => d === 1) ? { execution: { kind: 'spec' as const } } : {}) };
  },
};

export const averagePool: OpHandler = {
  infer(ctx): NodeResult {
    const x = ctx.dynamic(0);
    const w = window(ctx, x);
    const countIncludePad = ctx.attrs.int('count_include_pad', 0) !== 0;
    if (w.dilations.some((d) => d !== 1)) return { spec: { type: 'unsupported', detail: 'dilated average pooling' }, outputShapes: [w.out], dataInputs: [0] };
    const padsEnd = [...w.padsEnd];
    for (let i = 0; i < w.outSize.length; i++) {
      const extra = w.outSize[i] - w.floorSize[i];
      if (extra === 0) continue;
      // ceil_mode adds a last window hanging over the end: as padding that is never counted it is exact;
      // with count_include_pad the runtimes count the explicit padding but not the overhang.
      if (countIncludePad) return { spec: { type: 'unsupported', detail: 'average pooling with ceil_mode and count_include_pad' }, outputShapes: [w.out], dataInputs: [0] };
      padsEnd[i] += Math.max(0, (w.outSize[i] - 1) * w.strides[i] + w.kernel[i] - (x[i + 2] + w.padsBegin[i] + w.padsEnd[i]));
    }
    const spec: OpSpec = { type: 'avgPool', channelsLast: false, kernel: w.kernel, strides: w.strides, padsBegin: w.padsBegin, padsEnd, countIncludePad };
    return { spec, outputShapes: [w.out], dataInputs: [0], execution: { kind: 'spec' } };
  },
};

function globalShape(ctx: NodeContext, x: number[]): number[] {
  if (x.length < 3) ctx.fail(`input ${formatShape(x)} needs a batch, a channel and at least one spatial axis`);
  return [x[0], x[1], ...x.slice(2).map(() => 1)];
}

export const poolOps: Record<string, OpHandler> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: {
    infer(ctx) {
      const x = ctx.dynamic(0);
      return { spec: { type: 'globalAvgPool', channelsLast: false }, outputShapes: [globalShape(ctx, x)], dataInputs: [0], execution: { kind: 'spec' } };
    },
  },
  GlobalMaxPool: {
    infer(ctx) {
      const x = ctx.dynamic(0);
      return { spec: { type: 'fixed', kind: 'pool', constant: 1, detail: 'global max pool: 1' }, outputShapes: [globalShape(ctx, x)], dataInputs: [0] };
    },
  },
};
