// Pad: constant mode only adds constants (1); reflect, edge and wrap copy entries: √ of the largest
// number of copies of one entry (analysis/padding.ts).

import type { NodeExecution } from '../../../model/ir';
import { SELECTS, SELECTS_OR_ZERO, structural } from '../../../analysis/constants';
import { largestCopies, type CopyingPadMode } from '../../../analysis/padding';
import { formatShape, normAxis, type NodeContext, type OpHandler } from '../context';
import { INDEX_LIMIT } from './shape';

function padAmounts(ctx: NodeContext, x: number[]): { begin: number[]; end: number[]; mode: string } {
  const mode = ctx.attrs.string('mode', 'constant');
  let pads: number[] | undefined;
  let axes: number[] | undefined;
  if (ctx.opset >= 11) {
    pads = ctx.intsInput(1, 'pads');
    axes = ctx.intsInput(3, 'axes');
  } else {
    pads = ctx.attrs.ints('pads') ?? ctx.attrs.ints('paddings');
  }
  if (!pads) ctx.fail('pads are missing');
  const listed = axes ? axes.map((a) => normAxis(ctx, a, x.length)) : x.map((_, i) => i);
  if (pads.length !== 2 * listed.length) ctx.fail(`pads ${formatShape(pads)} do not fit ${listed.length} axes`);
  const begin = x.map(() => 0);
  const end = x.map(() => 0);
  listed.forEach((axis, k) => {
    begin[axis] = pads[k];
    end[axis] = pads[k + listed.length];
  });
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) ctx.fail(`unknown mode "${mode}"`);
  return { begin, end, mode };
}

export const pad: OpHandler = {
  infer(ctx) {
    const x = ctx.dynamic(0);
    const { begin, end, mode } = padAmounts(ctx, x);
    const out = x.map((d, i) => d + begin[i] + end[i]);
    if (out.some((d) => d < 0)) ctx.fail(`pads crop ${formatShape(x)} below zero`);
    if (mode === 'constant' || out.some((d) => d === 0)) {
      const fill = mode === 'constant' ? ctx.constant(2)?.data[0] ?? 0 : 0;
      const value = ctx.opset >= 11 ? ctx.constant(2)?.data[0] ?? (ctx.has(2) ? undefined : 0) : ctx.attrs.float('value', 0);
      const execution = mode === 'constant' && value !== undefined ? { execution: { kind: 'pad' as const, begin, end, value } } : {};
      return { spec: structural(`${mode} padding: 1`, 1, fill === 0 ? SELECTS_OR_ZERO : undefined), outputShapes: [out], dataInputs: [0], ...execution };
    }
    if (mode === 'reflect' && x.some((d, i) => d < 2 && (begin[i] > 0 || end[i] > 0))) ctx.fail(`reflect padding of an axis of length 1 in ${formatShape(x)}`);
    let copies = 1;
    for (let i = 0; i < x.length; i++) copies *= largestCopies(mode as CopyingPadMode, x[i], begin[i], end[i]);
    const spec = copies === 1 ? structural(`${mode} padding without copies: 1`, 1, SELECTS) : structural(`${mode} padding copies one entry ${copies} times: √${copies}`, Math.sqrt(copies), SELECTS);
    return { spec, outputShapes: [out], dataInputs: [0], ...(out.some((d) => d > INDEX_LIMIT) ? {} : { execution: copyingSelection(mode, x, begin, out) }) };
  },
};

/** The executor's selection for reflect, edge and wrap padding: output j of an axis reads position j − begin, folded back into the axis. */
function copyingSelection(mode: string, x: number[], begin: number[], out: number[]): NodeExecution {
  const fold = (p: number, n: number): number => {
    if (mode === 'edge') return Math.min(Math.max(p, 0), n - 1);
    if (mode === 'wrap') return ((p % n) + n) % n;
    // reflect (the edge not repeated); pads are at most n − 1 on each side.
    return p < 0 ? -p : p >= n ? 2 * (n - 1) - p : p;
  };
  const perAxis = x.map((n, axis) => (begin[axis] === 0 && out[axis] === n ? null : Array.from({ length: out[axis] }, (_, j) => fold(j - begin[axis], n))));
  return { kind: 'select', perAxis };
}
