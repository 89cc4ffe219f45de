// Average pooling as a LinearOperator. It acts on every channel alike, so the operator is one
// channel, [1, ...spatial, 1]: a convolution with a kernel of ones, scaled by 1 / (kernel size)
// with count_include_pad, else by 1 / (taps inside the input) per output position (a diagonal
// after the conv, so the adjoint applies it first).

import * as tf from '@tensorflow/tfjs-core';
import type { AvgPoolSpec } from '../../model/ir';
import type { LinearOperator } from '../operator';
import { convOperatorFromParts, splitInputShape } from './conv';
import { countOf, forEachIndex } from './kernel';

/** 1 / (number of window taps inside the unpadded input), per output position, row-major. */
function reciprocalCounts(spec: AvgPoolSpec, inSize: number[], outSize: number[]): Float32Array {
  // The count factorises over axes: taps inside along each axis, multiplied.
  const perAxis = inSize.map((size, axis) =>
    Array.from({ length: outSize[axis] }, (_, o) => {
      const start = o * spec.strides[axis] - spec.padsBegin[axis];
      return Math.min(size, start + spec.kernel[axis]) - Math.max(0, start);
    }),
  );
  const result = new Float32Array(countOf(outSize));
  forEachIndex(outSize, (index, flat) => {
    const count = index.reduce((acc, o, axis) => acc * perAxis[axis][o], 1);
    // A window entirely in the padding averages nothing; ONNX leaves it 0 (PyTorch refuses it).
    result[flat] = count > 0 ? 1 / count : 0;
  });
  return result;
}

export function avgPoolOperator(spec: AvgPoolSpec, inputShape: number[]): LinearOperator {
  const { spatial } = splitInputShape(inputShape, spec.channelsLast);
  if (spec.kernel.length !== spatial.length) throw new Error(`a ${spec.kernel.length}-D pool on a ${spatial.length}-D input`);
  const windowSize = countOf(spec.kernel);
  const conv = convOperatorFromParts({
    weight: {
      dims: [1, 1, ...spec.kernel],
      data: new Float32Array(windowSize).fill(spec.countIncludePad ? 1 / windowSize : 1),
    },
    group: 1,
    inSize: spatial,
    strides: spec.strides,
    dilations: spatial.map(() => 1),
    padsBegin: spec.padsBegin,
    padsEnd: spec.padsEnd,
  });
  if (spec.countIncludePad) return conv;

  const outSize = conv.outputShape.slice(1, -1).slice(-spatial.length);
  const scale = tf.tensor(reciprocalCounts(spec, spatial, outSize), conv.outputShape);
  return {
    inputShape: conv.inputShape,
    outputShape: conv.outputShape,
    forward: (x) =>
      tf.tidy(() => {
        const summed = conv.forward(x);
        return tf.mul(summed, scale);
      }),
    adjoint: (y) => tf.tidy(() => conv.adjoint(tf.mul(y, scale))),
    dispose: () => {
      scale.dispose();
      conv.dispose();
    },
  };
}
