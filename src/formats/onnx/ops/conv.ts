// Conv and ConvTranspose: the weight must be a constant (an initializer, a Constant, or a folded
// DequantizeLinear); ONNX's weight layouts are already the IR's canonical ones.

import type { OpSpec } from '../../../model/ir';
import { resolvePads, slidingOutputSize, transposedOutputSize, type AutoPad } from '../../../analysis/shapes';
import { asFloat32 } from '../tensor';
import { formatShape, type NodeContext, type NodeResult, type OpHandler } from '../context';

const AUTO_PADS: readonly string[] = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'];

export function autoPad(ctx: NodeContext): AutoPad {
  const value = ctx.attrs.string('auto_pad', 'NOTSET') || 'NOTSET';
  if (!AUTO_PADS.includes(value)) ctx.fail(`unknown auto_pad "${value}"`);
  return value as AutoPad;
}

/** strides, dilations and explicit pads of a sliding-window op with `spatial` axes. */
export function windowAttributes(ctx: NodeContext, spatial: number): { strides: number[]; dilations: number[]; begin: number[]; end: number[] } {
  const strides = ctx.attrs.ints('strides') ?? new Array<number>(spatial).fill(1);
  const dilations = ctx.attrs.ints('dilations') ?? new Array<number>(spatial).fill(1);
  const pads = ctx.attrs.ints('pads') ?? new Array<number>(2 * spatial).fill(0);
  if (strides.length !== spatial || strides.some((s) => !(s >= 1))) ctx.fail(`strides ${formatShape(strides)} do not fit ${spatial} spatial axes`);
  if (dilations.length !== spatial || dilations.some((s) => !(s >= 1))) ctx.fail(`dilations ${formatShape(dilations)} do not fit ${spatial} spatial axes`);
  if (pads.length !== 2 * spatial || pads.some((p) => p < 0)) ctx.fail(`pads ${formatShape(pads)} do not fit ${spatial} spatial axes`);
  return { strides, dilations, begin: pads.slice(0, spatial), end: pads.slice(spatial) };
}

function dataDependentWeight(ctx: NodeContext, x: number[]): NodeResult {
  return {
    spec: { type: 'unbounded', reason: `${ctx.op} with a data-dependent weight is a product x·y: not globally Lipschitz` },
    outputShapes: [x],
    dataInputs: ctx.dynamicIndices(),
  };
}

/** Spatial axes of a convolution's input, after checking the input and weight ranks agree. */
function spatialAxes(ctx: NodeContext, x: number[], weightDims: number[]): number {
  if (x.length < 3) ctx.fail(`input ${formatShape(x)} needs a batch, a channel and at least one spatial axis`);
  if (weightDims.length !== x.length) ctx.fail(`weight ${formatShape(weightDims)} does not fit input ${formatShape(x)}`);
  return x.length - 2;
}

/** The weight's spatial dims, which a kernel_shape attribute, when present, must repeat. */
function kernelOf(ctx: NodeContext, weightDims: number[]): number[] {
  const kernel = weightDims.slice(2);
  const declared = ctx.attrs.ints('kernel_shape');
  if (declared && formatShape(declared) !== formatShape(kernel)) ctx.fail(`kernel_shape ${formatShape(declared)} differs from the weight's ${formatShape(kernel)}`);
  return kernel;
}

export const conv: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const w = ctx.constant(1);
    if (!w) return dataDependentWeight(ctx, x);
    const spatial = spatialAxes(ctx, x, w.dims);
    const group = ctx.attrs.int('group', 1);
    const [cOut, cInPerGroup] = w.dims;
    if (group < 1 || cOut % group !== 0 || cInPerGroup * group !== x[1]) {
      ctx.fail(`weight ${formatShape(w.dims)} with group ${group} does not fit ${x[1]} input channels`);
    }
    const kernel = kernelOf(ctx, w.dims);
    if (kernel.some((k) => k < 1)) ctx.fail(`weight ${formatShape(w.dims)} has an empty kernel`);
    const { strides, dilations, begin, end } = windowAttributes(ctx, spatial);
    const inSize = x.slice(2);
    const { padsBegin, padsEnd } = resolvePads(autoPad(ctx), inSize, kernel, strides, dilations, begin, end);
    const outSize = slidingOutputSize(inSize, kernel, strides, dilations, padsBegin, padsEnd);
    if (outSize.some((s) => s < 1)) ctx.fail(`input ${formatShape(x)} is too small for kernel ${formatShape(kernel)} (output ${formatShape(outSize)})`);
    const spec: OpSpec = { type: 'conv', channelsLast: false, weight: { dims: [...w.dims], data: asFloat32(w) }, strides, dilations, padsBegin, padsEnd, group };
    return { spec, outputShapes: [[x[0], cOut, ...outSize]], weightShape: [...w.dims], dataInputs: [0], ...biasExecution(ctx, cOut) };
  },
};

export const convTranspose: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const w = ctx.constant(1);
    if (!w) return dataDependentWeight(ctx, x);
    const spatial = spatialAxes(ctx, x, w.dims);
    const group = ctx.attrs.int('group', 1);
    if (group < 1 || w.dims[0] !== x[1] || x[1] % group !== 0) ctx.fail(`weight ${formatShape(w.dims)} with group ${group} does not fit ${x[1]} input channels`);
    const cOut = w.dims[1] * group;
    const kernel = kernelOf(ctx, w.dims);
    const { strides, dilations, begin, end } = windowAttributes(ctx, spatial);
    const outputPadding = ctx.attrs.ints('output_padding') ?? new Array<number>(spatial).fill(0);
    if (outputPadding.length !== spatial) ctx.fail(`output_padding ${formatShape(outputPadding)} does not fit ${spatial} spatial axes`);
    const inSize = x.slice(2);
    let padsBegin = begin;
    let padsEnd = end;
    let wanted = ctx.attrs.ints('output_shape');
    if (wanted && wanted.length === x.length) wanted = wanted.slice(2);
    const pad = autoPad(ctx);
    if (!wanted && (pad === 'SAME_UPPER' || pad === 'SAME_LOWER')) wanted = inSize.map((s, i) => s * strides[i]);
    if (pad === 'VALID' && !wanted) {
      padsBegin = new Array<number>(spatial).fill(0);
      padsEnd = new Array<number>(spatial).fill(0);
    }
    if (wanted) {
      // ONNX: total_padding = stride·(in−1) + output_padding + ((k−1)·d + 1) − output_shape, split by auto_pad.
      if (wanted.length !== spatial) ctx.fail(`output_shape ${formatShape(wanted)} does not fit ${spatial} spatial axes`);
      padsBegin = [];
      padsEnd = [];
      for (let i = 0; i < spatial; i++) {
        const total = strides[i] * (inSize[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - wanted[i];
        if (total < 0) ctx.fail(`output_shape ${formatShape(wanted)} is larger than the transposed convolution can produce`);
        const half = Math.floor(total / 2);
        if (pad === 'SAME_UPPER') {
          padsBegin.push(half);
          padsEnd.push(total - half);
        } else {
          padsBegin.push(total - half);
          padsEnd.push(half);
        }
      }
    }
    const outSize = transposedOutputSize(inSize, kernel, strides, dilations, padsBegin, padsEnd, outputPadding);
    if (outSize.some((s) => s < 1)) ctx.fail(`output ${formatShape(outSize)} is empty`);
    const spec: OpSpec = {
      type: 'convTranspose', channelsLast: false, weight: { dims: [...w.dims], data: asFloat32(w) },
      strides, dilations, padsBegin, padsEnd, outputPadding, group,
    };
    return { spec, outputShapes: [[x[0], cOut, ...outSize]], weightShape: [...w.dims], dataInputs: [0], ...biasExecution(ctx, cOut) };
  },
};

/** The executor's view of input 3 (B): a constant bias of cOut entries, or none; a data-dependent one is not executable. */
function biasExecution(ctx: NodeContext, cOut: number): Pick<NodeResult, 'execution'> {
  if (!ctx.has(2)) return { execution: { kind: 'affine' } };
  const b = ctx.constant(2);
  if (!b || b.data.length !== cOut) return {};
  return { execution: { kind: 'affine', bias: asFloat32(b) } };
}
