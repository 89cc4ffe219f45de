// Certified value ranges: where every entry of a value is known to lie in [lo, hi] whatever the
// network input (sigmoid, tanh and softmax outputs, clips, and what constant scaling, shifts,
// averages and moves make of them). The product rule for a·b needs sup|a| and sup|b|
// (docs/op-coverage.md, "Gated products").

import type { IrNode, ValueMap } from '../model/ir';

/** lo ≤ hi, both finite. */
export type Range = readonly [number, number];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The hull of the given points, or undefined when any is not finite. */
function hull(...points: number[]): Range | undefined {
  if (!points.every(Number.isFinite)) return undefined;
  return [Math.min(...points), Math.max(...points)];
}

/** {s·x + t : s ∈ scale, x ∈ r, t ∈ shift}: its extremes are at the corners. */
function affineRange(r: Range, scale: readonly [number, number], shift: readonly [number, number]): Range | undefined {
  const products = [scale[0] * r[0], scale[0] * r[1], scale[1] * r[0], scale[1] * r[1]];
  return hull(Math.min(...products) + shift[0], Math.max(...products) + shift[1]);
}

/** The range of a pointwise or selecting map's output, given its input's range (undefined: unbounded). */
export function mapRange(map: ValueMap, input: Range | undefined): Range | undefined {
  switch (map.kind) {
    case 'select':
      return input && (map.zero ? hull(input[0], input[1], 0) : input);
    case 'affine':
      return input && affineRange(input, map.scale, map.shift);
    case 'clip': {
      const lo = input ? Math.min(Math.max(input[0], map.min), map.max) : map.min;
      const hi = input ? Math.min(Math.max(input[1], map.min), map.max) : map.max;
      return hull(lo, hi);
    }
    case 'sigmoid':
      return input ? [sigmoid(input[0]), sigmoid(input[1])] : [0, 1];
    case 'tanh':
      return input ? [Math.tanh(input[0]), Math.tanh(input[1])] : [-1, 1];
    case 'hardSigmoid': {
      if (!input) return [0, 1];
      const clip = (v: number) => Math.min(Math.max(map.alpha * v + map.beta, 0), 1);
      return hull(clip(input[0]), clip(input[1]));
    }
    case 'bounded':
      return hull(map.min, map.max);
  }
}

/** sup |v| over a range. */
export function supAbs(r: Range): number {
  return Math.max(Math.abs(r[0]), Math.abs(r[1]));
}

/** {a·b : a ∈ x, b ∈ y}. */
export function productRange(x: Range, y: Range): Range | undefined {
  return hull(x[0] * y[0], x[0] * y[1], x[1] * y[0], x[1] * y[1]);
}

/** The range of a row's output from its inputs' ranges, where the row's spec says enough; else undefined. */
export function nodeRange(node: IrNode, inputs: (Range | undefined)[]): Range | undefined {
  const spec = node.spec;
  const first = inputs[0];
  switch (spec.type) {
    case 'fixed':
      return spec.values && inputs.length <= 1 ? mapRange(spec.values, first) : undefined;
    case 'diagonal': {
      if (!first || spec.scale.length === 0) return undefined;
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of spec.scale) {
        lo = Math.min(lo, s);
        hi = Math.max(hi, s);
      }
      return affineRange(first, [lo, hi], [0, 0]);
    }
    case 'maxPool':
    case 'globalAvgPool':
    case 'reduceMean':
      // A maximum or a mean of entries lies within their range (max pooling ignores its padding).
      return first;
    case 'avgPool':
      return first && (spec.countIncludePad ? hull(first[0], first[1], 0) : first);
    case 'concat': {
      if (inputs.length === 0 || inputs.some((r) => !r)) return undefined;
      const known = inputs as Range[];
      return hull(...known.flatMap((r) => [r[0], r[1]]));
    }
    case 'add': {
      if (spec.weights || inputs.length === 0 || inputs.some((r) => !r)) return undefined;
      let lo = 0;
      let hi = 0;
      (inputs as Range[]).forEach((r, i) => {
        const sign = spec.signs?.[i] ?? 1;
        lo += sign > 0 ? r[0] : -r[1];
        hi += sign > 0 ? r[1] : -r[0];
      });
      return hull(lo, hi);
    }
    default:
      return undefined;
  }
}
