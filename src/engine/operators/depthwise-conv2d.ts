// A depthwise 2-D convolution (group = cIn, channel multiplier m = cOut / cIn), on
// [1, H, W, C] → [1, Ho, Wo, C·m]; output channel c·m + j reads input channel c only (ONNX order).
// The wasm backend has no DepthwiseConv2dNativeBackpropInput, so the adjoint is itself a depthwise
// conv on the C·m channels of y with flipped taps (all stride phases at once when stride > 1),
// followed by a sum over each input channel's m outputs.

import * as tf from '@tensorflow/tfjs-core';
import type { WeightTensor } from '../../model/ir';
import type { LinearOperator } from '../operator';
import { countOf, effectiveTaps, flatIndex, forEachIndex, phaseTaps } from './kernel';
import { cropSpatial, explicitPadding2d, interleavePhases2d, splitPads, type WindowGeometry } from './geometry';

/** Per output channel k = c·m + j: its taps, zero-dilated when `dilations` is given. */
function channelTaps(weight: WeightTensor, taps: number[], dilations: number[]): { taps: number[]; data: Float32Array } {
  const outTaps = effectiveTaps(taps, dilations);
  const channels = weight.dims[0];
  const tapCount = countOf(taps);
  const outCount = countOf(outTaps);
  const data = new Float32Array(channels * outCount);
  for (let k = 0; k < channels; k++) {
    forEachIndex(taps, (index, flat) => {
      data[k * outCount + flatIndex(index.map((t, axis) => t * dilations[axis]), outTaps)] = weight.data[k * tapCount + flat];
    });
  }
  return { taps: outTaps, data };
}

const allOnes = (list: number[]): boolean => list.every((v) => v === 1);

export function depthwiseConv2dOperator(weight: WeightTensor, channels: number, geometry: WindowGeometry): LinearOperator {
  const { inSize, strides, dilations, padsBegin, padsEnd, outSize } = geometry;
  const taps = weight.dims.slice(2);
  if (taps.length !== 2 || weight.dims[1] !== 1) throw new Error('depthwiseConv2dOperator needs a [C·m, 1, kh, kw] weight');
  const outChannels = weight.dims[0];
  const multiplier = outChannels / channels;
  const inputShape = [1, inSize[0], inSize[1], channels];
  const outputShape = [1, outSize[0], outSize[1], outChannels];
  const stride1 = allOnes(strides);
  const nativeDilation = stride1 || allOnes(dilations);

  // Forward kernel [kh, kw, C, m]: the canonical [C·m, 1, kh, kw] with channels moved last.
  const forwardTaps = channelTaps(weight, taps, nativeDilation ? [1, 1] : dilations);
  const forwardCount = countOf(forwardTaps.taps);
  const forwardData = new Float32Array(forwardCount * outChannels);
  for (let k = 0; k < outChannels; k++) {
    for (let t = 0; t < forwardCount; t++) forwardData[t * outChannels + k] = forwardTaps.data[k * forwardCount + t];
  }
  const forwardWeights = tf.tensor4d(forwardData, [forwardTaps.taps[0], forwardTaps.taps[1], channels, multiplier]);
  const forwardDilations: [number, number] = nativeDilation ? [dilations[0], dilations[1]] : [1, 1];
  const forwardPadding = explicitPadding2d(padsBegin, padsEnd);

  // Sums each input channel's m adjoint contributions: [..., C·m] → [..., C].
  const sumMultiplier = (t: tf.Tensor): tf.Tensor => {
    if (multiplier === 1) return t;
    const shape = t.shape.slice(0, -1);
    return tf.sum(tf.reshape(t, [...shape, channels, multiplier]), -1);
  };

  const effective = effectiveTaps(taps, dilations);
  let adjointWeights: tf.Tensor4D;
  let adjoint: (y: tf.Tensor) => tf.Tensor;
  if (stride1) {
    // [kh, kw, C·m, 1]: flipped taps, native dilation, pads k_eff − 1 − p.
    const tapCount = countOf(taps);
    const data = new Float32Array(tapCount * outChannels);
    for (let k = 0; k < outChannels; k++) {
      forEachIndex(taps, (index, flat) => {
        const flipped = flatIndex(index.map((t, axis) => taps[axis] - 1 - t), taps);
        data[flipped * outChannels + k] = weight.data[k * tapCount + flat];
      });
    }
    adjointWeights = tf.tensor4d(data, [taps[0], taps[1], outChannels, 1]);
    const pads = splitPads(
      effective.map((k, axis) => k - 1 - padsBegin[axis]),
      effective.map((k, axis) => k - 1 - padsEnd[axis]),
    );
    const padding = explicitPadding2d(pads.padsBegin, pads.padsEnd);
    const weights = adjointWeights;
    adjoint = (y) =>
      tf.tidy(() => {
        const cropped = cropSpatial(y, pads.cropBegin, pads.cropEnd) as tf.Tensor4D;
        return sumMultiplier(tf.depthwiseConv2d(cropped, weights, 1, padding, 'NHWC', [dilations[0], dilations[1]]));
      });
  } else {
    // Sub-pixel: multiplier P = number of phases, channel k·P + phase, taps w[s·(U − 1 − u) + r].
    const dilated = channelTaps(weight, taps, dilations);
    const dilatedCount = countOf(dilated.taps);
    const uTaps = phaseTaps(effective, strides);
    const phaseCount = countOf(strides);
    const data = new Float32Array(countOf(uTaps) * outChannels * phaseCount);
    forEachIndex(uTaps, (u, uFlat) => {
      forEachIndex(strides, (r, phase) => {
        const source = u.map((ui, axis) => strides[axis] * (uTaps[axis] - 1 - ui) + r[axis]);
        if (source.some((t, axis) => t >= dilated.taps[axis])) return;
        const sourceFlat = flatIndex(source, dilated.taps);
        for (let k = 0; k < outChannels; k++) {
          data[(uFlat * outChannels + k) * phaseCount + phase] = dilated.data[k * dilatedCount + sourceFlat];
        }
      });
    });
    adjointWeights = tf.tensor4d(data, [uTaps[0], uTaps[1], outChannels, phaseCount]);
    const phaseLength = inSize.map((size, axis) => Math.ceil((padsBegin[axis] + size) / strides[axis]));
    const pads = splitPads(
      uTaps.map((u) => u - 1),
      phaseLength.map((q, axis) => q - outSize[axis]),
    );
    const padding = explicitPadding2d(pads.padsBegin, pads.padsEnd);
    const weights = adjointWeights;
    adjoint = (y) =>
      tf.tidy(() => {
        const cropped = cropSpatial(y, pads.cropBegin, pads.cropEnd) as tf.Tensor4D;
        const byChannel = tf.depthwiseConv2d(cropped, weights, 1, padding, 'NHWC'); // [1, Qh, Qw, C·m·P]
        const [, qh, qw] = byChannel.shape;
        // [1, Qh, Qw, C, m, P] → sum over m → phases before channels, as interleavePhases2d wants.
        const summed = tf.sum(tf.reshape(byChannel, [1, qh, qw, channels, multiplier, phaseCount]), 4);
        const phaseMajor = tf.reshape(tf.transpose(summed, [0, 1, 2, 4, 3]), [1, qh, qw, phaseCount * channels]);
        const padded = interleavePhases2d(phaseMajor, strides);
        return tf.slice(padded, [0, padsBegin[0], padsBegin[1], 0], inputShape);
      });
  }

  return {
    inputShape,
    outputShape,
    forward: (x) =>
      tf.tidy(() =>
        tf.depthwiseConv2d(x as tf.Tensor4D, forwardWeights, [strides[0], strides[1]], forwardPadding, 'NHWC', forwardDilations),
      ),
    adjoint,
    dispose: () => tf.dispose([forwardWeights, adjointWeights]),
  };
}
