// Ops that pick, cut, stack or reduce entries, for the graph executor: Slice / StridedSlice / Gather
// with constant indices / Expand / Tile (one index list per axis), Split / SplitV / Unpack, Pack,
// Max / Min / Sum reductions, mirror padding, depth/space and space/batch moves. Written with ops whose gradients the wasm backend runs:
// tfjs's gather gradient needs UnsortedSegmentSum, which it lacks, so a list of indices is applied as
// a few slices (reversed where they descend) when it has few runs, else as a 0/1 selection matrix
// along its axis (exact: one 1 per row).

import * as tf from '@tensorflow/tfjs-core';
import type { NodeExecution } from '../../model/ir';

type Select = Extract<NodeExecution, { kind: 'select' }>;

/** x with `axis` restricted to `indices` (in that order, repeats allowed). */
export function takeAlong(x: tf.Tensor, axis: number, indices: readonly number[]): tf.Tensor {
  const length = x.shape[axis];
  const start = indices[0] ?? 0;
  const contiguous = indices.every((i, k) => i === start + k);
  if (contiguous) {
    if (indices.length === length) return x;
    const begin = x.shape.map((_, a) => (a === axis ? start : 0));
    const size = x.shape.map((d, a) => (a === axis ? indices.length : d));
    return tf.slice(x, begin, size);
  }
  // Few runs of consecutive indices (mirror pads, crops around a reversed range): slices, reversed where descending.
  const runs = indexRuns(indices);
  if (runs.length <= 8) {
    const parts = runs.map(({ from, count, step }) => {
      const begin = x.shape.map((_, a) => (a === axis ? Math.min(from, from + step * (count - 1)) : 0));
      const size = x.shape.map((d, a) => (a === axis ? count : d));
      const part = tf.slice(x, begin, size);
      return step < 0 && count > 1 ? tf.reverse(part, axis) : part;
    });
    return parts.length === 1 ? parts[0] : tf.concat(parts, axis);
  }
  const matrix = new Float32Array(indices.length * length);
  indices.forEach((i, row) => (matrix[row * length + i] = 1));
  const rank = x.rank;
  const perm = Array.from({ length: rank }, (_, a) => a).filter((a) => a !== axis).concat([axis]);
  const moved = tf.transpose(x, perm);
  const rows = tf.matMul(tf.reshape(moved, [-1, length]), tf.tensor2d(matrix, [indices.length, length]), false, true);
  const back = tf.reshape(rows, [...moved.shape.slice(0, -1), indices.length]);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return tf.transpose(back, inverse);
}

/** Maximal runs of indices that step by +1 or −1 (a lone index is a run of one). */
function indexRuns(indices: readonly number[]): { from: number; count: number; step: 1 | -1 }[] {
  const runs: { from: number; count: number; step: 1 | -1 }[] = [];
  for (const i of indices) {
    const last = runs[runs.length - 1];
    if (last && last.count === 1 && Math.abs(i - last.from) === 1) {
      last.step = i > last.from ? 1 : -1;
      last.count = 2;
    } else if (last && last.count > 1 && i === last.from + last.step * last.count) last.count++;
    else runs.push({ from: i, count: 1, step: 1 });
  }
  return runs;
}

export function select(x: tf.Tensor, e: Select, outShape: number[]): tf.Tensor {
  let y = e.rank !== undefined && e.rank > x.rank ? tf.reshape(x, [...new Array<number>(e.rank - x.rank).fill(1), ...x.shape]) : x;
  e.perAxis.forEach((indices, axis) => {
    if (indices) y = takeAlong(y, axis, indices);
  });
  return tf.reshape(y, outShape);
}

/** Consecutive parts along `axis`, each reshaped to its output shape. */
export function split(x: tf.Tensor, axis: number, sizes: readonly number[], outShapes: readonly number[][]): tf.Tensor[] {
  return tf.split(x, [...sizes], axis).map((part, k) => tf.reshape(part, outShapes[k]));
}

export function reduce(x: tf.Tensor, op: 'max' | 'min' | 'sum', axes: number[], outShape: number[]): tf.Tensor {
  const y = op === 'max' ? tf.max(x, axes, true) : op === 'min' ? tf.min(x, axes, true) : tf.sum(x, axes, true);
  return tf.reshape(y, outShape);
}

/**
 * Mirror padding as one index list per axis (reflect: …, 2, 1 | 0, …, n − 1 | n − 2, …; symmetric
 * repeats the edge). tf.mirrorPad's gradient keeps only the centre (it drops the reflected copies'
 * contributions), so it would give a wrong J(x)ᵀu.
 */
export function mirrorPad(x: tf.Tensor, begin: readonly number[], end: readonly number[], mode: 'reflect' | 'symmetric'): tf.Tensor {
  const shift = mode === 'reflect' ? 1 : 0;
  let y = x;
  x.shape.forEach((n, axis) => {
    if (begin[axis] === 0 && end[axis] === 0) return;
    const before = Array.from({ length: begin[axis] }, (_, k) => begin[axis] - k - 1 + shift);
    const after = Array.from({ length: end[axis] }, (_, k) => n - 1 - shift - k);
    y = takeAlong(y, axis, [...before, ...Array.from({ length: n }, (_, k) => k), ...after]);
  });
  return y;
}

/** NHWC DepthToSpace in DCR order (TF's): channel (i·b + j)·c' + k goes to (h·b + i, w·b + j, k); SpaceToDepth is its inverse. */
export function depthToSpace(x: tf.Tensor, block: number, inverse: boolean, outShape: number[]): tf.Tensor {
  const [n, h, w, c] = x.shape;
  if (!inverse) {
    const split = tf.reshape(x, [n, h, w, block, block, c / (block * block)]);
    return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4, 5]), outShape);
  }
  const split = tf.reshape(x, [n, h / block, block, w / block, block, c]);
  return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4, 5]), outShape);
}

export function spaceToBatch(x: tf.Tensor, block: number[], pads: [number, number][], inverse: boolean, outShape: number[]): tf.Tensor {
  const y = inverse ? tf.batchToSpaceND(x, block, pads) : tf.spaceToBatchND(x, block, pads);
  return tf.reshape(y, outShape);
}
