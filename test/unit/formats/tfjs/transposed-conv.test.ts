// TF's Conv2DBackpropInput (what tfjs-converter writes for a transposed convolution): the loaded
// ConvTransposeSpec's explicit matrix equals tfjs's own conv2dTranspose applied to every basis
// vector, for SAME and VALID padding, several strides and output sizes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix } from 'ml-matrix';
import { openMemory, row, seeded } from './helpers';
import { graphModel, list, placeholder, s } from './graph-builder';
import { referenceConvTransposeMatrix } from '../../engine/operators/onnx-reference';
import { relativeMaxDifference } from '../../../helpers/explicit-matrix';

test('Conv2DBackpropInput: the transposed convolution tfjs computes, entry for entry', async () => {
  await tf.setBackend('cpu');
  const cases: { h: number; w: number; stride: number; padding: 'SAME' | 'VALID'; out: [number, number] }[] = [
    { h: 3, w: 4, stride: 2, padding: 'SAME', out: [6, 8] },
    { h: 3, w: 3, stride: 2, padding: 'SAME', out: [5, 5] },
    { h: 3, w: 2, stride: 2, padding: 'VALID', out: [7, 5] },
    { h: 4, w: 4, stride: 1, padding: 'SAME', out: [4, 4] },
  ];
  for (const c of cases) {
    const [kh, kw, inC, outC] = [3, 3, 2, 3];
    const filter = Array.from(seeded(kh * kw * inC * outC, 3));
    const { json, shards } = graphModel(
      [placeholder('dy', [1, c.h, c.w, outC]), { name: 'deconv', op: 'Conv2DBackpropInput', input: ['sizes', 'filter', 'dy'], attr: { strides: list(1, c.stride, c.stride, 1), padding: s(c.padding), data_format: s('NHWC') } }],
      [{ name: 'sizes', shape: [4], values: [1, c.out[0], c.out[1], inC], dtype: 'int32' }, { name: 'filter', shape: [kh, kw, inC, outC], values: filter }],
    );
    const node = row(await openMemory(json, shards), 'deconv');
    assert.deepEqual(node.outputShapes[0], [1, c.out[0], c.out[1], inC]);
    assert.ok(node.spec.type === 'convTranspose');
    const spec = node.spec;
    const ours = referenceConvTransposeMatrix(spec.weight.dims, spec.weight.data, 1, [c.h, c.w], spec, spec.outputPadding);
    const columns: number[][] = [];
    for (let k = 0; k < c.h * c.w * outC; k++) {
      const basis = new Float32Array(c.h * c.w * outC);
      basis[k] = 1;
      const y = tf.conv2dTranspose(tf.tensor4d(basis, [1, c.h, c.w, outC]), tf.tensor4d(filter, [kh, kw, inC, outC]), [1, c.out[0], c.out[1], inC], c.stride, c.padding === 'SAME' ? 'same' : 'valid');
      columns.push(Array.from(y.dataSync()));
    }
    const theirs = new Matrix(columns).transpose();
    assert.ok(relativeMaxDifference(ours, theirs) < 1e-6, `${JSON.stringify(c)}: differs by ${relativeMaxDifference(ours, theirs)}`);
  }
});
