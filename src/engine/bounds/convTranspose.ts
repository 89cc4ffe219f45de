// A transposed convolution has the same norm as its adjoint, which is an ordinary zero-padded conv
// on the ConvTranspose's OUTPUT with the same weight array, strides, dilations and groups:
// in 1-D, ConvTranspose gives y[v] = Σ_{i,t: i·s + t·d = v + padBegin} W[c, o, t] x[c, i], so
//   (Aᵀy)[c, i] = Σ_{o,t} W[c, o, t] y[o, i·s + t·d − padBegin],
// a Conv with weight layout [cOut_conv = cIn, cIn_conv / group = cOut / group, k], padBegin the same
// and padEnd = padEnd − outputPadding (negative means trailing outputs the adjoint never reads).

import type { ConvTransposeSpec } from '../../model/ir';
import { transposedOutputSize } from '../../analysis/shapes';
import { convUpperBound } from './conv';
import type { BoundOptions, UpperBound } from './types';

export function convTransposeUpperBound(spec: ConvTransposeSpec, inputShape: number[], options: BoundOptions = {}): UpperBound | null {
  const dims = spec.weight.dims;
  const rank = dims.length - 2;
  if (rank < 1 || inputShape.length !== rank + 2) return null;
  const group = spec.group || 1;
  const spatial = spec.channelsLast ? inputShape.slice(1, 1 + rank) : inputShape.slice(2);
  const kernel = dims.slice(2);
  const strides = kernel.map((_, a) => spec.strides[a] ?? 1);
  const dilations = kernel.map((_, a) => spec.dilations[a] ?? 1);
  const padsBegin = kernel.map((_, a) => spec.padsBegin[a] ?? 0);
  const padsEnd = kernel.map((_, a) => spec.padsEnd[a] ?? 0);
  const outputPadding = kernel.map((_, a) => spec.outputPadding[a] ?? 0);
  const outputSize = transposedOutputSize(spatial, kernel, strides, dilations, padsBegin, padsEnd, outputPadding);
  if (outputSize.some((size) => size <= 0)) return { value: 0, method: 'empty output: the map is zero' };
  const adjoint = convUpperBound(
    {
      type: 'conv',
      channelsLast: false,
      weight: spec.weight,
      strides,
      dilations,
      padsBegin,
      padsEnd: padsEnd.map((pad, a) => pad - outputPadding[a]),
      group,
    },
    [1, dims[1] * group, ...outputSize],
    options,
  );
  return adjoint && { value: adjoint.value, method: `adjoint conv: ${adjoint.method}` };
}
