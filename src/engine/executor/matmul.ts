// A product of two data matrices for the graph executor: scale·op(A)·op(B) + shift, batched with
// numpy's broadcasting of the leading axes and its promotion of vectors (ONNX MatMul, Gemm and
// batched Einsum of two data operands; TF.js MatMul / BatchMatMulV2 with transpose or adj flags).

import * as tf from '@tensorflow/tfjs-core';
import type { NodeExecution } from '../../model/ir';

type Matmul = Extract<NodeExecution, { kind: 'matmul' }>;

export function matmul(a: tf.Tensor, b: tf.Tensor, e: Matmul, outShape: number[]): tf.Tensor {
  // Vectors: A as one row, B as one column (the added axis is dropped by the final reshape).
  let left = a.rank === 1 ? tf.reshape(a, [1, a.shape[0]]) : a;
  let right = b.rank === 1 ? tf.reshape(b, [b.shape[0], 1]) : b;
  const rank = Math.max(left.rank, right.rank);
  const promote = (t: tf.Tensor) => (t.rank === rank ? t : tf.reshape(t, [...new Array<number>(rank - t.rank).fill(1), ...t.shape]));
  left = promote(left);
  right = promote(right);
  // tfjs broadcasts the batch axes of matMul itself only from rank 3 up; expand explicitly so every rank works.
  const batch = left.shape.slice(0, -2).map((d, i) => Math.max(d, right.shape[i]));
  const expand = (t: tf.Tensor) => (t.shape.slice(0, -2).every((d, i) => d === batch[i]) ? t : tf.broadcastTo(t, [...batch, ...t.shape.slice(-2)]));
  let y = tf.matMul(expand(left), expand(right), e.transposeA, e.transposeB);
  if (e.scale !== 1) y = tf.mul(y, e.scale);
  if (e.shift) y = tf.add(y, tf.tensor(e.shift.data, e.shift.dims.length ? e.shift.dims : []));
  return tf.reshape(y, outShape);
}
