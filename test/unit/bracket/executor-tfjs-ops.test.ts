// TF.js graph ops the executor runs, against the tfjs ops that loadGraphModel executes for them
// (tf.conv2dTranspose for Conv2DBackpropInput, tf.image.resizeBilinear / resizeNearestNeighbor), on
// random inputs to 1e-4 relative.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { openMemory, seeded } from '../formats/tfjs/helpers';
import { graphModel, list, placeholder, s } from '../formats/tfjs/graph-builder';

const b = (value: boolean) => ({ b: value });
import { executorOutputs, relativeError, uniformInput } from './reference-runtimes';

test('executor matches tfjs: Conv2DBackpropInput (SAME and VALID, strides 1–2)', async () => {
  await initBackend();
  for (const c of [
    { h: 3, w: 4, stride: 2, padding: 'SAME', out: [6, 8] },
    { h: 3, w: 2, stride: 2, padding: 'VALID', out: [7, 5] },
    { h: 4, w: 4, stride: 1, padding: 'SAME', out: [4, 4] },
  ] as const) {
    const [kh, kw, inC, outC] = [3, 3, 2, 3];
    const filter = Array.from(seeded(kh * kw * inC * outC, 7));
    const { json, shards } = graphModel(
      [placeholder('dy', [1, c.h, c.w, outC]), { name: 'deconv', op: 'Conv2DBackpropInput', input: ['sizes', 'filter', 'dy'], attr: { strides: list(1, c.stride, c.stride, 1), padding: s(c.padding), data_format: s('NHWC') } }],
      [{ name: 'sizes', shape: [4], values: [1, c.out[0], c.out[1], inC], dtype: 'int32' }, { name: 'filter', shape: [kh, kw, inC, outC], values: filter }],
    );
    const model = await openMemory(json, shards);
    const input = uniformInput([1, c.h, c.w, outC], 3, -1, 1);
    const expected = tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(input, [1, c.h, c.w, outC]), tf.tensor4d(filter, [kh, kw, inC, outC]), [1, c.out[0], c.out[1], inC], c.stride, c.padding === 'SAME' ? 'same' : 'valid').dataSync() as Float32Array);
    const error = relativeError(executorOutputs(model, input), [Float32Array.from(expected)]);
    assert.ok(error <= 1e-4, `${JSON.stringify(c)}: relative error ${error}`);
  }
});

test('executor matches tfjs: ResizeBilinear and ResizeNearestNeighbor (align_corners, half_pixel_centers)', async () => {
  await initBackend();
  for (const op of ['ResizeBilinear', 'ResizeNearestNeighbor'] as const) {
    for (const [alignCorners, halfPixel] of [[false, false], [true, false], [false, true]]) {
      const { json, shards } = graphModel(
        [placeholder('x', [1, 3, 5, 2]), { name: 'resize', op, input: ['x', 'size'], attr: { align_corners: b(alignCorners), half_pixel_centers: b(halfPixel) } }],
        [{ name: 'size', shape: [2], values: [7, 4], dtype: 'int32' }],
      );
      const model = await openMemory(json, shards);
      const input = uniformInput([1, 3, 5, 2], 5, -1, 1);
      const expected = tf.tidy(() => {
        const x = tf.tensor4d(input, [1, 3, 5, 2]);
        const y = op === 'ResizeBilinear' ? tf.image.resizeBilinear(x, [7, 4], alignCorners, halfPixel) : tf.image.resizeNearestNeighbor(x, [7, 4], alignCorners, halfPixel);
        return y.dataSync() as Float32Array;
      });
      const error = relativeError(executorOutputs(model, input), [Float32Array.from(expected)]);
      assert.ok(error <= 1e-4, `${op} align_corners=${alignCorners} half_pixel=${halfPixel}: relative error ${error}`);
    }
  }
});
