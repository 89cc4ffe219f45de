// A depthwise 2-D convolution (group = cIn, channel multiplier m = cOut / cIn), on
// [1, H, W, C] → [1, Ho, Wo, C·m]; output channel c·m + j reads input channel c only (ONNX order).
// The wasm backend has no DepthwiseConv2dNativeBackpropInput, so the adjoint is itself a depthwise
// conv on the C·m channels of y with flipped taps (one per stride phase when stride > 1),
// followed by a sum over each input channel's m outputs.

import * as tf from '@tensorflow/tfjs-core';
import type { WeightTensor } from '../../model/ir';
import type { LinearOperator } from '../operator';
import { countOf, effectiveTaps, flatIndex, forEachIndex } from './kernel';
import { cropSpatial, explicitPadding2d, flippedKernelAdjoint2d, interleavePhases2d, padOrCropSpatial, type WindowGeometry } from './geometry';

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
  let adjointWeights: tf.Tensor4D[];
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
    adjointWeights = [tf.tensor4d(data, [taps[0], taps[1], outChannels, 1])];
    const { padding, ...pads } = flippedKernelAdjoint2d(effective, padsBegin, padsEnd);
    const weights = adjointWeights[0];
    adjoint = (y) =>
      tf.tidy(() => {
        const cropped = cropSpatial(y, pads.cropBegin, pads.cropEnd) as tf.Tensor4D;
        return sumMultiplier(tf.depthwiseConv2d(cropped, weights, 1, padding, 'NHWC', [dilations[0], dilations[1]]));
      });
  } else {
    // Sub-pixel, one depthwise conv (multiplier 1) per stride phase on y padded once: phase r is
    // Σ_u w[s·u + r]·y[q − u], i.e. the flipped taps v_r[u'] = w[s·(U − 1 − u') + r] (zero past
    // the kernel). Every phase gets the same square U x U taps and 'valid' padding because wasm's
    // depthwise conv is fast only for square kernels, multiplier 1 and (for 1x1) no padding:
    // measured 0.2 ms for 2x2 against 3 ms for 2x1 and 3.5 ms for multiplier 4 ([1, 56, 56, 96]).
    const dilated = channelTaps(weight, taps, dilations);
    const dilatedCount = countOf(dilated.taps);
    const side = Math.max(...effective.map((k, axis) => Math.ceil(k / strides[axis])));
    const square = [side, side];
    const phaseLength = inSize.map((size, axis) => Math.ceil((padsBegin[axis] + size) / strides[axis]));
    adjointWeights = [];
    forEachIndex(strides, (r) => {
      const data = new Float32Array(side * side * outChannels);
      forEachIndex(square, (u, uFlat) => {
        const source = u.map((ui, axis) => strides[axis] * (side - 1 - ui) + r[axis]);
        if (source.some((t, axis) => t >= dilated.taps[axis])) return;
        const sourceFlat = flatIndex(source, dilated.taps);
        for (let k = 0; k < outChannels; k++) data[uFlat * outChannels + k] = dilated.data[k * dilatedCount + sourceFlat];
      });
      adjointWeights.push(tf.tensor4d(data, [side, side, outChannels, 1]));
    });
    const phaseWeights = adjointWeights;
    adjoint = (y) =>
      tf.tidy(() => {
        const padded = padOrCropSpatial(
          y,
          square.map((u) => u - 1),
          phaseLength.map((q, axis) => q - outSize[axis]),
        ) as tf.Tensor4D;
        const outputs = phaseWeights.map((weights) => sumMultiplier(tf.depthwiseConv2d(padded, weights, 1, 'valid', 'NHWC')));
        const interleaved = interleavePhases2d(tf.concat(outputs, 3), strides);
        return tf.slice(interleaved, [0, padsBegin[0], padsBegin[1], 0], inputShape);
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
    dispose: () => tf.dispose([forwardWeights, ...adjointWeights]),
  };
}
