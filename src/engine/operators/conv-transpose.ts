// ONNX ConvTranspose as a LinearOperator. y[i·s + k·d − padBegin] += x[i]·w[k] is exactly the
// adjoint of the Conv with the same weight read as [cOut, cIn / group, ...taps] (ConvTranspose's
// [cIn, cOut / group, ...] has that shape), strides, dilations, pads and groups, whose input is the
// ConvTranspose's output. So forward and adjoint are that Conv's adjoint and forward, swapped.

import type { ConvTransposeSpec } from '../../model/ir';
import type { LinearOperator } from '../operator';
import { convOperatorFromParts, splitInputShape } from './conv';
import { effectiveTaps } from './kernel';

export function convTransposeOperator(spec: ConvTransposeSpec, inputShape: number[]): LinearOperator {
  const { channels, spatial } = splitInputShape(inputShape, spec.channelsLast);
  const [cIn, , ...taps] = spec.weight.dims;
  if (channels !== cIn) throw new Error(`input has ${channels} channels; the ConvTranspose weight expects ${cIn}`);
  const effective = effectiveTaps(taps, spec.dilations);
  const outputPadding = spec.outputPadding.length ? spec.outputPadding : spatial.map(() => 0);
  const outSize = spatial.map(
    (size, axis) =>
      spec.strides[axis] * (size - 1) + outputPadding[axis] + effective[axis] - spec.padsBegin[axis] - spec.padsEnd[axis],
  );
  const conv = convOperatorFromParts({
    weight: spec.weight,
    group: spec.group,
    inSize: outSize,
    strides: spec.strides,
    dilations: spec.dilations,
    padsBegin: spec.padsBegin,
    padsEnd: spec.padsEnd,
  });
  // The Conv's output size is the ConvTranspose's input size whenever output_padding < stride.
  const convOut = conv.outputShape.slice(1, -1);
  const expected = spatial.length === 1 ? [1, ...spatial] : spatial;
  if (convOut.join() !== expected.join()) {
    conv.dispose();
    throw new Error(`ConvTranspose with output_padding [${outputPadding.join(', ')}] ≥ stride is not supported`);
  }
  return {
    inputShape: conv.outputShape,
    outputShape: conv.inputShape,
    forward: (x) => conv.adjoint(x),
    adjoint: (y) => conv.forward(y),
    dispose: () => conv.dispose(),
  };
}
