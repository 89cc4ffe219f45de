// TF.js resizing and pixel shuffles: the σ of ResizeBilinear / ResizeNearestNeighbor rows (every
// align_corners / half_pixel_centers pair) against the SVD of tfjs's own kernel applied to every basis
// vector, UpSampling2D bilinear the same way, DepthToSpace a permutation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix } from 'ml-matrix';
import { closedForm } from '../../../../src/analysis/closed-form';
import { largestSingularValue } from '../../../helpers/explicit-matrix';
import { openMemory, row } from './helpers';
import { graphModel, placeholder } from './graph-builder';

/** The explicit matrix of x ↦ resize(x) on [1, h, w, 1] images, one basis vector per column. */
function tfjsMatrix(h: number, w: number, size: [number, number], op: 'bilinear' | 'nearest', alignCorners: boolean, halfPixel: boolean): Matrix {
  const columns: number[][] = [];
  for (let k = 0; k < h * w; k++) {
    const basis = new Float32Array(h * w);
    basis[k] = 1;
    const x = tf.tensor4d(basis, [1, h, w, 1]);
    const y = op === 'bilinear' ? tf.image.resizeBilinear(x, size, alignCorners, halfPixel) : tf.image.resizeNearestNeighbor(x, size, alignCorners, halfPixel);
    columns.push(Array.from(y.dataSync()));
  }
  return new Matrix(columns).transpose();
}

test('ResizeBilinear and ResizeNearestNeighbor: σ equals the SVD of tfjs\'s own kernel as a matrix, every corner/centre setting', async () => {
  await tf.setBackend('cpu');
  for (const op of ['ResizeBilinear', 'ResizeNearestNeighbor'] as const) {
    for (const [alignCorners, halfPixel] of [[false, false], [true, false], [false, true]]) {
      for (const [h, w, size] of [[3, 4, [7, 9]], [5, 6, [3, 4]], [4, 4, [8, 8]]] as [number, number, [number, number]][]) {
        const { json, shards } = graphModel(
          [placeholder('x', [1, h, w, 1]), { name: 'resize', op, input: ['x', 'size'], attr: { align_corners: { b: alignCorners }, half_pixel_centers: { b: halfPixel } } }],
          [{ name: 'size', shape: [2], values: size, dtype: 'int32' }],
        );
        const model = await openMemory(json, shards);
        const node = row(model, 'resize');
        assert.deepEqual(node.outputShapes[0], [1, size[0], size[1], 1]);
        const expected = largestSingularValue(tfjsMatrix(h, w, size, op === 'ResizeBilinear' ? 'bilinear' : 'nearest', alignCorners, halfPixel));
        const sigma = closedForm(node)?.sigma ?? NaN;
        assert.ok(Math.abs(sigma - expected) <= 1e-6 * expected, `${op} align=${alignCorners} half=${halfPixel} ${h}x${w}→${size}: ${sigma} vs ${expected}`);
      }
    }
  }
});

test('DepthToSpace is a permutation: constant 1, NHWC shapes', async () => {
  const { json, shards } = graphModel([placeholder('x', [1, 3, 5, 8]), { name: 'd2s', op: 'DepthToSpace', input: ['x'], attr: { block_size: { i: '2' } } }], []);
  const node = row(await openMemory(json, shards), 'd2s');
  assert.deepEqual(node.outputShapes[0], [1, 6, 10, 2]);
  assert.equal(closedForm(node)?.sigma, 1);
});
