// Resize (opset 10+) and Upsample (opset 7–9). Nearest-neighbour resizing only selects and copies
// entries: its constant is √ of the largest number of outputs that read one input, found by running
// ONNX's own coordinate mapping per axis. Linear and cubic modes are linear maps this loader does not
// derive a constant for: they are reported unsupported.

import type { OpSpec } from '../../../model/ir';
import { structural } from '../../../analysis/constants';
import { formatShape, type NodeContext, type NodeResult, type OpHandler } from '../context';

type Transform = (outIndex: number, scale: number, inLength: number, outLength: number) => number;

const TRANSFORMS: Record<string, Transform | undefined> = {
  half_pixel: (x, s) => (x + 0.5) / s - 0.5,
  pytorch_half_pixel: (x, s, _in, out) => (out > 1 ? (x + 0.5) / s - 0.5 : 0),
  align_corners: (x, _s, inLength, out) => (out === 1 ? 0 : (x * (inLength - 1)) / (out - 1)),
  asymmetric: (x, s) => x / s,
  tf_half_pixel_for_nearest: (x, s) => (x + 0.5) / s,
};

const ROUNDING: Record<string, ((v: number) => number) | undefined> = {
  round_prefer_floor: (v) => (v % 1 === 0.5 || v % 1 === -0.5 ? Math.floor(v) : Math.round(v)),
  round_prefer_ceil: (v) => (v % 1 === 0.5 || v % 1 === -0.5 ? Math.ceil(v) : Math.round(v)),
  floor: Math.floor,
  ceil: Math.ceil,
};

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
    const t = TRANSFORMS[transform];
    const round = ROUNDING[nearestMode];
    if (mode !== 'nearest') spec = { type: 'unsupported', detail: `${mode} resizing (a linear map without a derived constant here)` };
    else if (!t || !round) spec = { type: 'unsupported', detail: `nearest resizing with coordinate_transformation_mode=${transform}, nearest_mode=${nearestMode}` };
    else {
      let copies = 1;
      for (let i = 0; i < x.length; i++) copies *= nearestCopies(x[i], out[i], scales[i], t, round);
      const integral = scales.every((s) => Number.isInteger(s));
      spec = structural(
        integral ? `nearest upsampling by ${scales.join('×')}: √${copies}` : `nearest resizing, one entry copied at most ${copies} times: √${copies}`,
        Math.sqrt(copies),
      );
    }
    return { spec, outputShapes: [out], dataInputs: [0] };
  },
};
