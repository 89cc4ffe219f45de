// Constants that need no solver: fixed maps, diagonal maps, global pooling, means, max pooling,
// merges. Each is exact (so it is also its own certified upper bound).

import type { IrNode } from '../model/ir';
import { product } from './shapes';

export interface ClosedForm {
  /** The row's σ or fixed constant; null for rows without one (unbounded, unsupported). */
  sigma: number | null;
  /** The constant used by the composition: NaN = invalid/unknown, Infinity = unbounded. */
  compositionConstant: number;
  note?: string;
}

export function closedForm(node: IrNode): ClosedForm | undefined {
  const spec = node.spec;
  const input = node.inputShapes[0] ?? [];
  switch (spec.type) {
    case 'fixed':
      return { sigma: spec.constant, compositionConstant: spec.constant, note: spec.detail };
    case 'diagonal': {
      let largest = 0;
      let finite = true;
      for (const value of spec.scale) {
        if (!Number.isFinite(value)) finite = false;
        largest = Math.max(largest, Math.abs(value));
      }
      if (!finite) return invalid(`${node.name} has NaN or Inf scale values`);
      return { sigma: largest, compositionConstant: largest, note: 'diagonal: max |scale|' };
    }
    case 'globalAvgPool': {
      const spatial = spec.channelsLast ? input.slice(1, -1) : input.slice(2);
      const count = product(spatial);
      return { sigma: 1 / Math.sqrt(count), compositionConstant: 1 / Math.sqrt(count), note: `global average over ${count} positions: 1/√${count}` };
    }
    case 'reduceMean': {
      const rank = input.length;
      const count = product(spec.axes.map((axis) => input[(axis + rank) % rank]));
      return { sigma: 1 / Math.sqrt(count), compositionConstant: 1 / Math.sqrt(count), note: `mean over ${count} entries: 1/√${count}` };
    }
    case 'maxPool': {
      const spatial = spec.channelsLast ? input.slice(1, -1) : input.slice(2);
      const output = node.outputShapes[0] ?? [];
      const outSpatial = spec.channelsLast ? output.slice(1, -1) : output.slice(2);
      let shared = 1;
      for (let axis = 0; axis < spatial.length; axis++) {
        shared *= largestWindowOverlap(spatial[axis], outSpatial[axis], spec.kernel[axis], spec.strides[axis], spec.dilations[axis] ?? 1, spec.padsBegin[axis] ?? 0);
      }
      const constant = Math.sqrt(shared);
      return {
        sigma: constant,
        compositionConstant: constant,
        note: shared === 1 ? 'max pool, windows do not overlap: 1' : `max pool: √(${shared} windows share an input)`,
      };
    }
    case 'add': {
      const n = node.inputs.length;
      const weights = spec.weights;
      if (!weights) return { sigma: Math.sqrt(n), compositionConstant: 1, note: spec.detail ?? `sum of ${n} inputs: bounds add` };
      // The joint map's norm is at most √(Σ wᵢ²); the composition adds wᵢ·Lᵢ.
      const sigma = Math.sqrt(weights.reduce((sum, w) => sum + w * w, 0));
      return { sigma, compositionConstant: 1, note: spec.detail ?? `weighted sum of ${n} inputs (weights ${weights.map((w) => w.toPrecision(4)).join(', ')}): bounds add, weighted` };
    }
    case 'concat':
      return { sigma: 1, compositionConstant: 1, note: 'concat: √(Σ L²) over the inputs' };
    case 'unbounded':
      return { sigma: null, compositionConstant: Infinity, note: spec.reason };
    case 'unsupported':
      return { sigma: null, compositionConstant: NaN, note: `the engine does not understand ${node.op}${spec.detail ? ` (${spec.detail})` : ''}: the bound through it is invalid` };
    default:
      return undefined;
  }
}

function invalid(note: string): ClosedForm {
  return { sigma: null, compositionConstant: NaN, note };
}

/** Largest number of pooling windows (along one axis) that contain the same input position. */
export function largestWindowOverlap(inputSize: number, outputSize: number, kernel: number, stride: number, dilation: number, padBegin: number): number {
  const counts = new Map<number, number>();
  let best = 0;
  for (let o = 0; o < outputSize; o++) {
    for (let t = 0; t < kernel; t++) {
      const position = o * stride + t * dilation - padBegin;
      if (position < 0 || position >= inputSize) continue;
      const count = (counts.get(position) ?? 0) + 1;
      counts.set(position, count);
      best = Math.max(best, count);
    }
  }
  return Math.max(best, 1);
}
