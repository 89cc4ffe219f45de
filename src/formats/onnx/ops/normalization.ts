// BatchNormalization at inference is diagonal: γ/√(var+ε) along the channel axis. Normalisations by a
// data-dependent statistic (layer, instance, group norm) are not globally Lipschitz.

import type { OpHandler } from '../context';
import { formatShape } from '../context';

export const batchNormalization: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    if (x.length < 2) ctx.fail(`input ${formatShape(x)} has no channel axis`);
    const channels = x[1];
    const extra = Array.from({ length: Math.max(0, ctx.outputCount - 1) }, () => [channels]);
    const outputShapes = [x, ...extra];
    if (ctx.attrs.int('training_mode', 0) !== 0) {
      return { spec: { type: 'unbounded', reason: 'batch norm in training mode normalises by batch statistics: not globally Lipschitz' }, outputShapes, dataInputs: [0] };
    }
    if ([1, 2, 3, 4].some((i) => ctx.isDynamic(i))) {
      return { spec: { type: 'unsupported', detail: 'BatchNormalization with data-dependent parameters' }, outputShapes, dataInputs: ctx.dynamicIndices() };
    }
    const gamma = ctx.requireConstant(1, 'scale');
    const variance = ctx.requireConstant(4, 'var');
    const epsilon = ctx.attrs.float('epsilon', 1e-5);
    if (gamma.data.length !== variance.data.length) ctx.fail(`scale ${formatShape(gamma.dims)} and var ${formatShape(variance.dims)} differ`);
    if (gamma.data.length !== channels) {
      // Opset < 9 with spatial=0 normalises per activation, not per channel.
      return { spec: { type: 'unsupported', detail: `per-activation batch norm (scale ${formatShape(gamma.dims)} on input ${formatShape(x)})` }, outputShapes, weightShape: [...gamma.dims], dataInputs: [0] };
    }
    const scale = new Float32Array(channels);
    for (let c = 0; c < channels; c++) scale[c] = gamma.data[c] / Math.sqrt(variance.data[c] + epsilon);
    // The shift β − mean·scale, for the graph executor.
    const beta = ctx.constant(2);
    const mean = ctx.constant(3);
    const execution = beta && mean && beta.data.length === channels && mean.data.length === channels
      ? { execution: { kind: 'affine' as const, bias: Float32Array.from(scale, (s, c) => beta.data[c] - mean.data[c] * s) } }
      : {};
    return { spec: { type: 'diagonal', scale, axis: 1 }, outputShapes, weightShape: [...gamma.dims], dataInputs: [0], ...execution };
  },
};

function dataNormalisation(what: string, statsShape?: (x: number[], axis: number) => number[]): OpHandler {
  return {
    infer(ctx) {
      const x = ctx.dynamic(0);
      const rawAxis = ctx.attrs.int('axis', -1);
      const axis = rawAxis < 0 ? rawAxis + x.length : rawAxis;
      const stats = statsShape ? statsShape(x, axis) : x;
      const outputShapes = [x, ...Array.from({ length: Math.max(0, ctx.outputCount - 1) }, () => stats)];
      return { spec: { type: 'unbounded', reason: `${what} divides by a data-dependent standard deviation: not globally Lipschitz` }, outputShapes, dataInputs: [0] };
    },
  };
}

export const normalizationOps: Record<string, OpHandler> = {
  BatchNormalization: batchNormalization,
  LayerNormalization: dataNormalisation('layer norm', (x, axis) => x.map((d, i) => (i < axis ? d : 1))),
  InstanceNormalization: dataNormalisation('instance norm'),
  GroupNormalization: dataNormalisation('group norm'),
  MeanVarianceNormalization: dataNormalisation('mean-variance normalisation'),
  LpNormalization: dataNormalisation('Lp normalisation'),
};
