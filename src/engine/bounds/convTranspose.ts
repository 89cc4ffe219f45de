// A transposed convolution has the same norm as its adjoint, which is an ordinary zero-padded conv
// on the ConvTranspose's OUTPUT with the same weight array, strides, dilations and groups:
// in 1-D, ConvTranspose gives y[v] = Σ_{i,t: i·s + t·d = v + padBegin} W[c, o, t] x[c, i], so
//   (Aᵀy)[c, i] = Σ_{o,t} W[c, o, t] y[o, i·s + t·d − padBegin],
// a Conv with weight layout [cOut_conv = cIn, cIn_conv / group = cOut / group, k], padBegin the same
// and padEnd = padEnd − outputPadding (negative means trailing outputs the adjoint never reads).

import type { ConvTransposeSpec } from '../../model/ir';
import { adjointConvOrEmpty } from '../large-input/conv-view';
import { convUpperBound } from './conv';
import type { BoundOptions, UpperBound } from './types';

export function convTransposeUpperBound(spec: ConvTransposeSpec, inputShape: number[], options: BoundOptions = {}): UpperBound | null {
  const view = adjointConvOrEmpty(spec, inputShape);
  if (view === null) return null;
  if (view === 'empty') return { value: 0, method: 'empty output: the map is zero' };
  const adjoint = convUpperBound(view.spec, [1, spec.weight.dims[1] * view.spec.group, ...view.spatial], options);
  return adjoint && { value: adjoint.value, method: `adjoint conv: ${adjoint.method}` };
}
