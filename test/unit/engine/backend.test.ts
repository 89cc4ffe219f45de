import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';

test('the wasm backend starts in Node and computes a conv', async () => {
  const info = await initBackend();
  assert.equal(info.name, 'wasm', info.note);
  const x = tf.ones([1, 3, 3, 1]);
  const w = tf.ones([2, 2, 1, 1]);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid');
  assert.deepEqual(Array.from(y.dataSync()), [4, 4, 4, 4]);
  tf.dispose([x, w, y]);
});
