// A 2-D convolution with one dense kernel (grouped weights already made block-diagonal), on
// [1, H, W, cIn] → [1, Ho, Wo, cOut]. Forward: tf.conv2d with explicit pads. Adjoint, without
// conv2dTranspose (a plain loop on wasm, ~10× slower than a forward conv):
//  - stride 1: a conv with the flipped, in/out-swapped kernel, same dilation, pads k_eff − 1 − p
//    (begin and end swap roles);
//  - stride > 1: sub-pixel: stride-1 convs producing every stride phase (one conv for all phases,
//    or one per phase), then interleave.

import * as tf from '@tensorflow/tfjs-core';
import type { LinearOperator } from '../operator';
import { dilateKernel, effectiveTaps, flipAndSwapKernel, phaseKernels, phaseTaps, subPixelKernel, type Kernel } from './kernel';
import { cropSpatial, explicitPadding2d, flippedKernelAdjoint2d, interleavePhases2d, splitPads, type WindowGeometry } from './geometry';

function kernelTensor(kernel: Kernel): tf.Tensor4D {
  return tf.tensor4d(kernel.data, [kernel.taps[0], kernel.taps[1], kernel.cIn, kernel.cOut]);
}

const allOnes = (list: number[]): boolean => list.every((v) => v === 1);

/**
 * Strided adjoint: from this many input channels, one conv per phase (each with only its own taps,
 * so the same work as the forward) beats one conv producing all phases (whose zero taps cost up to
 * ~2x, e.g. 4 phases x 2x2 taps for a 3x3 kernel). Below it, the single conv wins: per-phase convs
 * with few output channels run poorly in XNNPACK. Measured on wasm: 128→128 3x3 s2 @56 7.0 vs
 * 11.4 ms, 3→64 7x7 s2 @224 24.9 vs 14.7 ms, even at 16-32 channels.
 */
export const PER_PHASE_MIN_CHANNELS = 32;

export function conv2dOperator(kernel: Kernel, geometry: WindowGeometry): LinearOperator {
  const { inSize, strides, dilations, padsBegin, padsEnd, outSize } = geometry;
  if (kernel.taps.length !== 2 || inSize.length !== 2) throw new Error('conv2dOperator needs a 2-D geometry');
  const inputShape = [1, inSize[0], inSize[1], kernel.cIn];
  const outputShape = [1, outSize[0], outSize[1], kernel.cOut];
  const stride1 = allOnes(strides);

  // tfjs refuses stride > 1 together with dilation > 1: then dilate the kernel with zeros.
  const nativeDilation = stride1 || allOnes(dilations);
  const forwardKernel = nativeDilation ? kernel : dilateKernel(kernel, dilations);
  const forwardWeights = kernelTensor(forwardKernel);
  const forwardDilations: [number, number] = nativeDilation ? [dilations[0], dilations[1]] : [1, 1];
  const forwardPadding = explicitPadding2d(padsBegin, padsEnd);

  let adjointWeights: tf.Tensor4D[];
  let adjoint: (y: tf.Tensor) => tf.Tensor;
  const effective = effectiveTaps(kernel.taps, dilations);
  if (stride1) {
    adjointWeights = [kernelTensor(flipAndSwapKernel(kernel))];
    const { padding, ...pads } = flippedKernelAdjoint2d(effective, padsBegin, padsEnd);
    const weights = adjointWeights[0];
    adjoint = (y) =>
      tf.tidy(() => {
        const cropped = cropSpatial(y, pads.cropBegin, pads.cropEnd) as tf.Tensor4D;
        return tf.conv2d(cropped, weights, 1, padding, 'NHWC', [dilations[0], dilations[1]]);
      });
  } else if (kernel.cIn < PER_PHASE_MIN_CHANNELS) {
    const phases = subPixelKernel(dilateKernel(kernel, dilations), strides);
    adjointWeights = [kernelTensor(phases)];
    const taps = phaseTaps(effective, strides);
    // Phase outputs cover the padded input positions s·q + r for q < Q, Q·s ≥ padBegin + size.
    const phaseLength = inSize.map((size, axis) => Math.ceil((padsBegin[axis] + size) / strides[axis]));
    const pads = splitPads(
      taps.map((u) => u - 1),
      phaseLength.map((q, axis) => q - outSize[axis]),
    );
    const padding = explicitPadding2d(pads.padsBegin, pads.padsEnd);
    const weights = adjointWeights[0];
    adjoint = (y) =>
      tf.tidy(() => {
        const cropped = cropSpatial(y, pads.cropBegin, pads.cropEnd) as tf.Tensor4D;
        const allPhases = tf.conv2d(cropped, weights, 1, padding, 'NHWC');
        const padded = interleavePhases2d(allPhases, strides);
        return tf.slice(padded, [0, padsBegin[0], padsBegin[1], 0], inputShape);
      });
  } else {
    // One stride-1 conv per phase, each with only its own taps, concatenated phase-major.
    const phaseLength = inSize.map((size, axis) => Math.ceil((padsBegin[axis] + size) / strides[axis]));
    const phases = phaseKernels(dilateKernel(kernel, dilations), strides).map(({ kernel: phaseKernel }) => {
      if (!phaseKernel) return null;
      const pads = splitPads(
        phaseKernel.taps.map((u) => u - 1),
        phaseLength.map((q, axis) => q - outSize[axis]),
      );
      return { weights: kernelTensor(phaseKernel), pads, padding: explicitPadding2d(pads.padsBegin, pads.padsEnd) };
    });
    adjointWeights = phases.flatMap((phase) => (phase ? [phase.weights] : []));
    adjoint = (y) =>
      tf.tidy(() => {
        const outputs = phases.map((phase) =>
          phase
            ? tf.conv2d(cropSpatial(y, phase.pads.cropBegin, phase.pads.cropEnd) as tf.Tensor4D, phase.weights, 1, phase.padding, 'NHWC')
            : tf.zeros([1, phaseLength[0], phaseLength[1], kernel.cIn]),
        );
        const padded = interleavePhases2d(tf.concat(outputs, 3), strides);
        return tf.slice(padded, [0, padsBegin[0], padsBegin[1], 0], inputShape);
      });
  }

  return {
    inputShape,
    outputShape,
    forward: (x) =>
      tf.tidy(() => tf.conv2d(x as tf.Tensor4D, forwardWeights, [strides[0], strides[1]], forwardPadding, 'NHWC', forwardDilations)),
    adjoint,
    dispose: () => tf.dispose([forwardWeights, ...adjointWeights]),
  };
}
