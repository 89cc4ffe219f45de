// Every conv-like layer as an ONNX Conv on given spatial sizes: a ConvTranspose has the norm of its
// adjoint, an ordinary Conv on its output with the same weight array (bounds/convTranspose.ts).

import type { ConvSpec, ConvTransposeSpec, LinearSpec } from '../../model/ir';
import { transposedOutputSize } from '../../analysis/shapes';

/**
 * A ConvTranspose has the norm of its adjoint, an ordinary Conv on its output (bounds/convTranspose.ts):
 * that Conv and the output's spatial sizes, 'empty' when the output has no entries, null when the
 * input shape does not fit the weight.
 */
export function adjointConvOrEmpty(spec: ConvTransposeSpec, inputShape: number[]): { spec: ConvSpec; spatial: number[] } | 'empty' | null {
  const dims = spec.weight.dims;
  const rank = dims.length - 2;
  if (rank < 1 || inputShape.length !== rank + 2) return null;
  const spatial = spec.channelsLast ? inputShape.slice(1, 1 + rank) : inputShape.slice(2);
  const kernel = dims.slice(2);
  const strides = kernel.map((_, a) => spec.strides[a] ?? 1);
  const dilations = kernel.map((_, a) => spec.dilations[a] ?? 1);
  const padsBegin = kernel.map((_, a) => spec.padsBegin[a] ?? 0);
  const padsEnd = kernel.map((_, a) => spec.padsEnd[a] ?? 0);
  const outputPadding = kernel.map((_, a) => spec.outputPadding[a] ?? 0);
  const outputSize = transposedOutputSize(spatial, kernel, strides, dilations, padsBegin, padsEnd, outputPadding);
  if (outputSize.some((size) => size <= 0)) return 'empty';
  return {
    spec: { type: 'conv', channelsLast: false, weight: spec.weight, strides, dilations, padsBegin, padsEnd: padsEnd.map((pad, a) => pad - outputPadding[a]), group: spec.group || 1 },
    spatial: outputSize,
  };
}

/** The adjoint Conv of a ConvTranspose with a non-empty output, else null. */
export function adjointConv(spec: ConvTransposeSpec, inputShape: number[]): { spec: ConvSpec; spatial: number[] } | null {
  const adjoint = adjointConvOrEmpty(spec, inputShape);
  return adjoint === 'empty' ? null : adjoint;
}

export function convSpatial(spec: ConvSpec, inputShape: number[]): number[] | null {
  const rank = spec.weight.dims.length - 2;
  if (rank < 1 || inputShape.length !== rank + 2) return null;
  return spec.channelsLast ? inputShape.slice(1, 1 + rank) : inputShape.slice(2);
}

/** A Conv or ConvTranspose as an ONNX Conv on spatial sizes with the same σ; null for other specs. */
export function asConvView(spec: LinearSpec, inputShape: number[]): { spec: ConvSpec; spatial: number[] } | null {
  if (spec.type === 'conv') {
    const spatial = convSpatial(spec, inputShape);
    return spatial && { spec, spatial };
  }
  if (spec.type === 'convTranspose') return adjointConv(spec, inputShape);
  return null;
}
