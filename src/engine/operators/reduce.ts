// Smaller problems with exactly the same σ1, so the solver works on far fewer values.
//
// A convolution whose kernel is 1 in every spatial axis acts on each input position separately:
// output position o reads input position o·s − p_begin (or nothing, in the padding) through the
// same channel matrix W (block-diagonal over groups, cOut x cIn). As a matrix the layer is
// S ⊗ W, where S maps input positions to output positions; distinct outputs read distinct inputs,
// so the rows of S are orthonormal or zero. If at least one output position reads a real input,
// ||S|| = 1 and σ1(layer) = σ1(W) exactly, for any input size, stride, dilation and padding. That
// σ1(W) is the same layer applied to a single input position: the reduced problem below. (If every
// output position falls in the padding, the layer is zero and it is left as it is.)
// For ResNet-50 this turns 36 of its 54 linear layers from up to 800k-value problems into
// cOut x cIn matrices of at most 2048 x 512.

import type { ConvSpec, LinearSpec } from '../../model/ir';

export interface LinearProblem {
  spec: LinearSpec;
  inputShape: number[];
  /** Set when the problem was replaced by a smaller one with the same σ1. */
  reduction?: string;
}

export function reduceLinearProblem(spec: LinearSpec, inputShape: number[]): LinearProblem {
  if (spec.type === 'conv') return reducePointwiseConv(spec, inputShape) ?? { spec, inputShape };
  return { spec, inputShape };
}

function reducePointwiseConv(spec: ConvSpec, inputShape: number[]): LinearProblem | undefined {
  const kernel = spec.weight.dims.slice(2);
  const spatialRank = kernel.length;
  if (spatialRank === 0 || kernel.some((size) => size !== 1)) return undefined;
  if (inputShape.length !== spatialRank + 2) return undefined;
  const spatial = spec.channelsLast ? inputShape.slice(1, -1) : inputShape.slice(2);
  const channels = spec.channelsLast ? inputShape[inputShape.length - 1] : inputShape[1];
  if (spatial.every((size) => size === 1) && spec.padsBegin.every((p) => p === 0) && spec.padsEnd.every((p) => p === 0)) return undefined;
  for (let axis = 0; axis < spatialRank; axis++) {
    const size = spatial[axis];
    const stride = spec.strides[axis] ?? 1;
    const begin = spec.padsBegin[axis] ?? 0;
    const end = spec.padsEnd[axis] ?? 0;
    const outputs = Math.floor((size + begin + end - 1) / stride) + 1;
    if (!(size >= 1 && outputs >= 1 && stride >= 1)) return undefined;
    // The first output position that reads a real input: o·stride ≥ begin.
    const first = Math.ceil(begin / stride);
    if (first >= outputs || first * stride - begin >= size) return undefined;
  }
  const ones = new Array<number>(spatialRank).fill(1);
  const zeros = new Array<number>(spatialRank).fill(0);
  return {
    spec: { ...spec, strides: ones, dilations: ones, padsBegin: zeros, padsEnd: zeros },
    inputShape: spec.channelsLast ? [1, ...ones, channels] : [1, channels, ...ones],
    reduction: `1x1 convolution: σ of its ${spec.weight.dims[0]}x${channels} channel matrix, exact for any input size`,
  };
}
