// ONNX-semantics convolution (1-D, 2-D, 3-D; strides, asymmetric pads, dilations, groups) as a
// LinearOperator on [1, ...spatial, cIn] (1-D runs as 2-D with height 1), whatever the node's layout:
// σ does not depend on the order of the coordinates.
// Groups: group 1 and depthwise (cIn/group = 1) have their own kernels; up to MAX_EXPANDED_GROUPS
// groups run as one block-diagonal dense kernel; more run group by group.

import type { ConvSpec, WeightTensor } from '../../model/ir';
import type { LinearOperator } from '../operator';
import { conv2dOperator } from './conv2d';
import { conv3dOperator } from './conv3d';
import { depthwiseConv2dOperator } from './depthwise-conv2d';
import { channelGroupsOperator } from './channel-groups';
import { groupSlice, kernelFromCanonical } from './kernel';
import { promoteTo2d, windowGeometry, type WindowGeometry } from './geometry';
import { nativeConvOperator } from './native-conv';

/** Above this many groups the block-diagonal kernel wastes too much work; split instead. */
const MAX_EXPANDED_GROUPS = 4;

export interface ConvParts {
  weight: WeightTensor;
  group: number;
  /** Spatial input size. */
  inSize: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
}

/** Channel count and spatial size of an input shape [N, C, ...spatial] or [N, ...spatial, C]. */
export function splitInputShape(inputShape: number[], channelsLast: boolean): { channels: number; spatial: number[] } {
  if (inputShape.length < 3) throw new Error(`input shape [${inputShape.join(', ')}] has no spatial axis`);
  return channelsLast
    ? { channels: inputShape[inputShape.length - 1], spatial: inputShape.slice(1, -1) }
    : { channels: inputShape[1], spatial: inputShape.slice(2) };
}

function denseKernelOperator(weight: WeightTensor, group: number, geometry: WindowGeometry): LinearOperator {
  const kernel = kernelFromCanonical(weight, group);
  if (geometry.inSize.length === 3) return conv3dOperator(kernel, geometry);
  return conv2dOperator(kernel, promoteTo2d(geometry));
}


export function convOperatorFromParts(parts: ConvParts): LinearOperator {
  const { weight, group, inSize } = parts;
  const [cOut, cInPerGroup, ...taps] = weight.dims;
  if (taps.length !== inSize.length) throw new Error(`a ${taps.length}-D kernel on a ${inSize.length}-D input`);
  if (taps.length < 1 || taps.length > 3) throw new Error(`${taps.length}-D convolutions are not supported`);
  if (!Number.isInteger(group) || group < 1 || cOut % group !== 0) throw new Error(`group ${group} does not divide ${cOut} output channels`);
  if (weight.data.length !== cOut * cInPerGroup * taps.reduce((a, b) => a * b, 1)) throw new Error('weight data does not match its dims');
  const geometry = windowGeometry(inSize, taps, parts.strides, parts.dilations, parts.padsBegin, parts.padsEnd);

  const planar = promoteWeightIfNeeded(weight, taps.length);
  const depthwise = cInPerGroup === 1 && group > 1 && taps.length <= 2;
  // Products on ONNX Runtime when it loads (native-conv.ts); depthwise stays on tfjs's own kernel.
  const native = depthwise ? null : nativeConvOperator(planar, group, taps.length === 3 ? geometry : promoteTo2d(geometry));
  if (native) return native;
  if (group === 1) return denseKernelOperator(planar, 1, geometry);
  if (depthwise) return depthwiseConv2dOperator(planar, group, promoteTo2d(geometry));
  if (group <= MAX_EXPANDED_GROUPS) return denseKernelOperator(planar, group, geometry);
  const pieces: LinearOperator[] = [];
  try {
    for (let g = 0; g < group; g++) pieces.push(denseKernelOperator(promoteWeightIfNeeded(groupSlice(weight, group, g), taps.length), 1, geometry));
  } catch (error) {
    pieces.forEach((piece) => piece.dispose());
    throw error;
  }
  return channelGroupsOperator(pieces);
}

/** A 1-D weight [cOut, cIn/g, k] as the 2-D [cOut, cIn/g, 1, k] (1-D runs as 2-D with height 1). */
function promoteWeightIfNeeded(weight: WeightTensor, spatialRank: number): WeightTensor {
  return spatialRank === 1 ? { dims: [weight.dims[0], weight.dims[1], 1, weight.dims[2]], data: weight.data } : weight;
}

export function convOperator(spec: ConvSpec, inputShape: number[]): LinearOperator {
  const { channels, spatial } = splitInputShape(inputShape, spec.channelsLast);
  const cInPerGroup = spec.weight.dims[1];
  if (channels !== cInPerGroup * spec.group) {
    throw new Error(`input has ${channels} channels; the weight expects ${cInPerGroup} × group ${spec.group}`);
  }
  return convOperatorFromParts({
    weight: spec.weight,
    group: spec.group,
    inSize: spatial,
    strides: spec.strides,
    dilations: spec.dilations,
    padsBegin: spec.padsBegin,
    padsEnd: spec.padsEnd,
  });
}
