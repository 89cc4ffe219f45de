// BatchNormalization at inference is diagonal: γ/√(var+ε) along the channel axis. Normalisations by a
// data-dependent spread with ε > 0 (layer, instance, group norm) are globally Lipschitz with constant
// max|γ|/√ε; without an ε (Lp, mean-variance normalisation) they are not.

import type { NodeExecution, OpSpec, WeightTensor } from '../../../model/ir';
import { formatEpsilon, layerNormBound } from '../../../analysis/layer-norm';
import { formatShape, normAxis, type NodeContext, type OpHandler } from '../context';

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
      return { spec: { type: 'unbounded', reason: `${what} divides by the input's own norm with no ε: its slope grows without bound near 0` }, outputShapes, dataInputs: [0] };
    },
  };
}

/**
 * Layer, instance and group norm: γ⊙(x − μ)/√(σ² + ε) + β over groups of n entries is globally
 * Lipschitz with constant ≤ max|γ|/√ε when ε > 0 (src/analysis/layer-norm.ts, docs/op-coverage.md
 * "Normalisation layers"); its output lies within β ± √(n − 1)·|γ|.
 */
function spreadNormalisation(what: string, groupOf: (ctx: NodeContext, x: number[]) => { n: number; stats: number[] }, executionOf: (ctx: NodeContext, x: number[], epsilon: number) => NodeExecution | undefined): OpHandler {
  return {
    infer(ctx) {
      const x = ctx.dynamic(0);
      const { n, stats } = groupOf(ctx, x);
      const outputShapes = [x, ...Array.from({ length: Math.max(0, ctx.outputCount - 1) }, () => stats)];
      const epsilon = ctx.attrs.float('epsilon', 1e-5);
      if ((ctx.node.output ?? []).slice(1).some((o) => o)) {
        return { spec: { type: 'unsupported', detail: `${what}'s statistics outputs (mean, inverse standard deviation) are not modelled` }, outputShapes, dataInputs: [0] };
      }
      if ([1, 2].some((i) => ctx.isDynamic(i))) return { spec: { type: 'unsupported', detail: `${what} with a data-dependent scale or bias` }, outputShapes, dataInputs: [0] };
      const gamma = ctx.constant(1);
      const beta = ctx.constant(2);
      if (!(epsilon > 0)) {
        return { spec: { type: 'unbounded', reason: `${what} with ε = 0 divides by the input's own spread: its slope grows without bound where the input has no spread` }, outputShapes, dataInputs: [0] };
      }
      const { constant, range } = layerNormBound(epsilon, n, gamma?.data, beta?.data);
      const spec: OpSpec = {
        type: 'fixed',
        kind: 'activation',
        constant,
        detail: `${what} over ${n} entries: ≤ max|γ|/√ε, ε = ${formatEpsilon(epsilon)} (reached where the input has no spread)`,
        ...(range ? { values: { kind: 'bounded' as const, min: range[0], max: range[1] } } : {}),
      };
      const execution = executionOf(ctx, x, epsilon);
      return { spec, outputShapes, weightShape: gamma ? [...gamma.dims] : null, dataInputs: [0], ...(execution ? { execution } : {}) };
    },
  };
}

/** A constant operand as a float32 tensor of the given dims (broadcast against the input). */
function asTensor(data: ArrayLike<number>, dims: number[]): WeightTensor {
  return { dims, data: Float32Array.from(data) };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** LayerNormalization: over the axes from `axis` on; scale and bias broadcast against the input (numpy rules). */
const layerExecution = (ctx: NodeContext, x: number[], epsilon: number): NodeExecution => {
  const axis = normAxis(ctx, ctx.attrs.int('axis', -1), x.length);
  const gamma = ctx.constant(1);
  const beta = ctx.constant(2);
  return {
    kind: 'normalise', axes: range(axis, x.length), centred: true, c: 1 / x.slice(axis).reduce((a, b) => a * b, 1), inner: { kind: 'add', epsilon }, scale: 1,
    ...(gamma ? { gamma: asTensor(gamma.data, [...gamma.dims]) } : {}),
    ...(beta ? { beta: asTensor(beta.data, [...beta.dims]) } : {}),
  };
};

/** Per-channel scale and bias [C] as [C, 1, …] against N, C, spatial…; undefined when not C long. */
function perChannel(data: ArrayLike<number> | undefined, channels: number, rank: number): WeightTensor | undefined {
  if (!data || data.length !== channels) return undefined;
  return asTensor(data, [channels, ...new Array<number>(rank - 2).fill(1)]);
}

const instanceExecution = (ctx: NodeContext, x: number[], epsilon: number): NodeExecution | undefined => {
  const gamma = perChannel(ctx.constant(1)?.data, x[1], x.length);
  const beta = perChannel(ctx.constant(2)?.data, x[1], x.length);
  if (!gamma || !beta) return undefined;
  return { kind: 'normalise', axes: range(2, x.length), centred: true, c: 1 / x.slice(2).reduce((a, b) => a * b, 1), inner: { kind: 'add', epsilon }, scale: 1, gamma, beta };
};

/** GroupNormalization: channels split into groups; scale and bias per channel (opset 21) or per group (opset 18, repeated over its channels). */
const groupExecution = (ctx: NodeContext, x: number[], epsilon: number): NodeExecution | undefined => {
  const groups = ctx.attrs.int('num_groups', 0);
  const channels = x[1];
  const expand = (data: ArrayLike<number> | undefined) => {
    if (data?.length === groups && groups !== channels) return perChannel(Array.from({ length: channels }, (_, c) => data[Math.floor(c / (channels / groups))]), channels, x.length);
    return perChannel(data, channels, x.length);
  };
  const gamma = expand(ctx.constant(1)?.data);
  const beta = expand(ctx.constant(2)?.data);
  if (!gamma || !beta) return undefined;
  return { kind: 'normalise', groups, axes: [2], centred: true, c: groups / x.slice(1).reduce((a, b) => a * b, 1), inner: { kind: 'add', epsilon }, scale: 1, gamma, beta };
};

const layerGroup = (ctx: NodeContext, x: number[]) => {
  const axis = normAxis(ctx, ctx.attrs.int('axis', -1), x.length);
  return { n: x.slice(axis).reduce((a, b) => a * b, 1), stats: x.map((d, i) => (i < axis ? d : 1)) };
};
const instanceGroup = (ctx: NodeContext, x: number[]) => {
  if (x.length < 3) ctx.fail(`input ${formatShape(x)} has no spatial axes`);
  return { n: x.slice(2).reduce((a, b) => a * b, 1), stats: x };
};
const groupGroup = (ctx: NodeContext, x: number[]) => {
  const groups = ctx.attrs.int('num_groups', 0);
  if (x.length < 2 || !(groups > 0) || x[1] % groups !== 0) ctx.fail(`num_groups ${groups} does not divide the ${x[1]} channels of ${formatShape(x)}`);
  return { n: (x[1] / groups) * x.slice(2).reduce((a, b) => a * b, 1), stats: x };
};

export const normalizationOps: Record<string, OpHandler> = {
  BatchNormalization: batchNormalization,
  LayerNormalization: spreadNormalisation('layer norm', layerGroup, layerExecution),
  InstanceNormalization: spreadNormalisation('instance norm', instanceGroup, instanceExecution),
  GroupNormalization: spreadNormalisation('group norm', groupGroup, groupExecution),
  MeanVarianceNormalization: { infer: (ctx) => ({ spec: { type: 'unbounded', reason: 'mean-variance normalisation divides by the standard deviation (its ε, if any, is not an attribute): not modelled, reported unbounded' }, outputShapes: [ctx.dynamic(0)], dataInputs: [0] }) },
  LpNormalization: dataNormalisation('Lp normalisation'),
};
