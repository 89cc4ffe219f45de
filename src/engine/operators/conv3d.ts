// A 3-D convolution with one dense kernel, on [1, D, H, W, cIn] → [1, Do, Ho, Wo, cOut]. tf.conv3d
// takes no explicit pads, so the input is zero-padded first. Adjoint: stride 1 is a conv3d with the
// flipped, swapped kernel; strided layers use the sub-pixel form (see conv2d.ts).

import * as tf from '@tensorflow/tfjs-core';
import type { LinearOperator } from '../operator';
import { dilateKernel, effectiveTaps, flipAndSwapKernel, phaseTaps, subPixelKernel, type Kernel } from './kernel';
import { interleavePhases3d, padOrCropSpatial, type WindowGeometry } from './geometry';

function kernelTensor(kernel: Kernel): tf.Tensor5D {
  return tf.tensor5d(kernel.data, [kernel.taps[0], kernel.taps[1], kernel.taps[2], kernel.cIn, kernel.cOut]);
}

type Triple = [number, number, number];
const triple = (list: number[]): Triple => [list[0], list[1], list[2]];
const allOnes = (list: number[]): boolean => list.every((v) => v === 1);

export function conv3dOperator(kernel: Kernel, geometry: WindowGeometry): LinearOperator {
  const { inSize, strides, dilations, padsBegin, padsEnd, outSize } = geometry;
  if (kernel.taps.length !== 3 || inSize.length !== 3) throw new Error('conv3dOperator needs a 3-D geometry');
  const inputShape = [1, ...inSize, kernel.cIn];
  const outputShape = [1, ...outSize, kernel.cOut];
  const stride1 = allOnes(strides);
  const nativeDilation = stride1 || allOnes(dilations);
  const forwardWeights = kernelTensor(nativeDilation ? kernel : dilateKernel(kernel, dilations));
  const forwardDilations = nativeDilation ? triple(dilations) : ([1, 1, 1] as Triple);
  const effective = effectiveTaps(kernel.taps, dilations);

  let adjointWeights: tf.Tensor5D;
  let adjoint: (y: tf.Tensor) => tf.Tensor;
  if (stride1) {
    adjointWeights = kernelTensor(flipAndSwapKernel(kernel));
    const weights = adjointWeights;
    adjoint = (y) =>
      tf.tidy(() => {
        const padded = padOrCropSpatial(
          y,
          effective.map((k, axis) => k - 1 - padsBegin[axis]),
          effective.map((k, axis) => k - 1 - padsEnd[axis]),
        ) as tf.Tensor5D;
        return tf.conv3d(padded, weights, 1, 'valid', 'NDHWC', triple(dilations));
      });
  } else {
    // Sub-pixel, as in 2-D: one stride-1 conv3d yields every phase (wasm's conv3dTranspose
    // disagrees with the cpu backend for stride 2, so it is not used).
    adjointWeights = kernelTensor(subPixelKernel(dilateKernel(kernel, dilations), strides));
    const weights = adjointWeights;
    const taps = phaseTaps(effective, strides);
    const phaseLength = inSize.map((size, axis) => Math.ceil((padsBegin[axis] + size) / strides[axis]));
    adjoint = (y) =>
      tf.tidy(() => {
        const padded = padOrCropSpatial(
          y,
          taps.map((u) => u - 1),
          phaseLength.map((q, axis) => q - outSize[axis]),
        ) as tf.Tensor5D;
        const allPhases = tf.conv3d(padded, weights, 1, 'valid', 'NDHWC');
        return tf.slice(interleavePhases3d(allPhases, strides), [0, ...padsBegin, 0], inputShape);
      });
  }

  return {
    inputShape,
    outputShape,
    forward: (x) =>
      tf.tidy(() => {
        const padded = padOrCropSpatial(x, padsBegin, padsEnd) as tf.Tensor5D;
        return tf.conv3d(padded, forwardWeights, triple(strides), 'valid', 'NDHWC', forwardDilations);
      }),
    adjoint,
    dispose: () => tf.dispose([forwardWeights, adjointWeights]),
  };
}
