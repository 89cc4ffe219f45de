// Resize (opset 10+) and Upsample (opset 7–9). Nearest-neighbour resizing only selects and copies
// entries: its constant is √ of the largest number of outputs that read one input, found by running
// ONNX's own coordinate mapping per axis. Linear and cubic resizing are linear maps whose exact norm
// is the product of each axis's interpolation norm (src/analysis/resize.ts, docs/op-coverage.md).

import type { OpSpec } from '../../../model/ir';
import { SELECTS, structural } from '../../../analysis/constants';
import { interpolationRows, resizeNorm, ROUNDING, TRANSFORMS, type AxisResize, type CoordinateTransform, type ResizeMode } from '../../../analysis/resize';
import type { NodeExecution } from '../../../model/ir';
import { formatShape, type NodeContext, type NodeResult, type OpHandler } from '../context';

type Transform = CoordinateTransform;

/** Largest number of outputs that read one input index along an axis, under nearest resizing. */
export function nearestCopies(inLength: number, outLength: number, scale: number, transform: Transform, round: (v: number) => number): number {
  const counts = new Array<number>(inLength).fill(0);
  for (let j = 0; j < outLength; j++) {
    const source = Math.min(Math.max(round(transform(j, scale, inLength, outLength)), 0), inLength - 1);
    counts[source]++;
  }
  return Math.max(0, ...counts);
}

function outputSize(ctx: NodeContext, x: number[]): { out: number[]; scales: number[]; mode: string; transform: string; nearestMode: string } {
  const legacy = ctx.op === 'Upsample' || ctx.opset < 11;
  const mode = ctx.attrs.string('mode', 'nearest');
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (ctx.op === 'Upsample' && ctx.opset < 9) scales = ctx.attrs.floats('scales');
  else if (legacy) scales = ctx.intsInput(1, 'scales');
  else {
    scales = ctx.intsInput(2, 'scales');
    sizes = ctx.intsInput(3, 'sizes');
    if (ctx.attrs.has('axes')) ctx.fail('the axes attribute is not supported');
  }
  if (sizes && sizes.length > 0) {
    if (sizes.length !== x.length) ctx.fail(`sizes ${formatShape(sizes)} do not fit input ${formatShape(x)}`);
    return { out: sizes, scales: sizes.map((s, i) => s / x[i]), mode, transform: legacy ? 'asymmetric' : ctx.attrs.string('coordinate_transformation_mode', 'half_pixel'), nearestMode: legacy ? 'floor' : ctx.attrs.string('nearest_mode', 'round_prefer_floor') };
  }
  if (!scales || scales.length !== x.length || scales.some((s) => !(s > 0))) ctx.fail(`scales ${scales ? formatShape(scales) : '(missing)'} do not fit input ${formatShape(x)}`);
  return {
    out: x.map((d, i) => Math.floor(d * scales[i])),
    scales,
    mode,
    transform: legacy ? 'asymmetric' : ctx.attrs.string('coordinate_transformation_mode', 'half_pixel'),
    nearestMode: legacy ? 'floor' : ctx.attrs.string('nearest_mode', 'round_prefer_floor'),
  };
}

export const resize: OpHandler = {
  infer(ctx): NodeResult {
    const x = ctx.dynamic(0);
    const { out, scales, mode, transform, nearestMode } = outputSize(ctx, x);
    if (out.some((d) => d < 1)) ctx.fail(`output ${formatShape(out)} is empty`);
    let spec: OpSpec;
    let execution: NodeExecution | undefined;
    const t = TRANSFORMS[transform];
    const round = ROUNDING[nearestMode];
    const interpolation: ResizeMode | undefined = mode === 'nearest' ? 'nearest' : mode === 'linear' || mode === 'bilinear' || mode === 'trilinear' ? 'linear' : mode === 'cubic' || mode === 'bicubic' ? 'cubic' : undefined;
    const antialias = ctx.attrs.int('antialias', 0) !== 0 && scales.some((s) => s < 1);
    const policy = ctx.attrs.string('keep_aspect_ratio_policy', 'stretch');
    if (!interpolation) spec = { type: 'unsupported', detail: `resize mode "${mode}"` };
    else if (!t) spec = { type: 'unsupported', detail: `${mode} resizing with coordinate_transformation_mode=${transform} (tf_crop_and_resize reads a region of interest)` };
    else if (antialias || policy !== 'stretch') spec = { type: 'unsupported', detail: antialias ? 'antialiased downsampling' : `keep_aspect_ratio_policy=${policy}` };
    else if (interpolation !== 'nearest') {
      const axes: AxisResize[] = x.map((inLength, i) => ({
        inLength, outLength: out[i], scale: scales[i], mode: interpolation, transform: t,
        cubicCoeff: ctx.attrs.float('cubic_coeff_a', -0.75), excludeOutside: ctx.attrs.int('exclude_outside', 0) !== 0,
      }));
      const { sigma, detail } = resizeNorm(axes);
      execution = axisMatrices(axes);
      // Linear interpolation averages (a convex combination): value ranges pass; cubic overshoots.
      spec = structural(detail, sigma, interpolation === 'linear' ? SELECTS : undefined);
    } else if (!round) spec = { type: 'unsupported', detail: `nearest resizing with nearest_mode=${nearestMode}` };
    else {
      let copies = 1;
      for (let i = 0; i < x.length; i++) copies *= nearestCopies(x[i], out[i], scales[i], t, round);
      execution = axisMatrices(x.map((inLength, i) => ({ inLength, outLength: out[i], scale: scales[i], mode: 'nearest', transform: t, round })));
      const integral = scales.every((s) => Number.isInteger(s));
      spec = structural(
        integral ? `nearest upsampling by ${scales.join('×')}: √${copies}` : `nearest resizing, one entry copied at most ${copies} times: √${copies}`,
        Math.sqrt(copies),
        SELECTS,
      );
    }
    return { spec, outputShapes: [out], dataInputs: [0], ...(execution ? { execution } : {}) };
  },
};

/** For the graph executor: each axis's interpolation matrix (null where the axis keeps its length and every row reads its own index). */
function axisMatrices(axes: AxisResize[]): NodeExecution {
  return {
    kind: 'axisMatrices',
    matrices: axes.map((axis) => {
      const rows = interpolationRows(axis);
      const identity = axis.outLength === axis.inLength && rows.every((row, j) => row.index.length === 1 && row.index[0] === j && row.weight[0] === 1);
      if (identity) return null;
      const matrix = new Float32Array(axis.outLength * axis.inLength);
      rows.forEach((row, j) => row.index.forEach((i, k) => (matrix[j * axis.inLength + i] += row.weight[k])));
      return matrix;
    }),
  };
}
