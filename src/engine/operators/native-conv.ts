// An ONNX Conv (2-D or 3-D, any strides, dilations, pads and groups; 1-D arrives promoted to 2-D) as
// a LinearOperator whose products run on ONNX Runtime (../native/onnxruntime.ts), on the same
// [1, ...spatial, cIn] layout as the tfjs operators: the solvers, warm starts and tests see no
// difference but speed.
//
// Forward: Transpose to channels-first, Conv with the layer's own attributes, Transpose back.
// Adjoint, the exact transpose of that map:
//  - stride 1: a Conv with the spatially flipped, in/out-swapped kernel and pads k_eff − 1 − p (begin
//    and end swap roles), when both are ≥ 0: as fast as the forward;
//  - otherwise ConvTranspose with the same weight, strides, dilations, pads and groups, and
//    output_padding = the input positions past the last window (fewer than the stride), which
//    receive nothing: ConvTranspose is by definition the adjoint of Conv. It runs 1.2–1.6× the
//    forward's time.

import * as tf from '@tensorflow/tfjs-core';
import type { WeightTensor } from '../../model/ir';
import type { LinearOperator } from '../operator';
import { compileGraph, type GraphNode, type NativeGraph, nativeRuntime } from '../native/onnxruntime';
import { countOf, effectiveTaps, forEachIndex, flatIndex } from './kernel';
import type { WindowGeometry } from './geometry';

/** Channels-last ↔ channels-first permutations for `rank` spatial axes. */
function permutations(rank: number): { toFirst: number[]; toLast: number[] } {
  const spatial = Array.from({ length: rank }, (_, i) => i + 1);
  return { toFirst: [0, rank + 1, ...spatial], toLast: [0, ...spatial.map((a) => a + 1), 1] };
}

/**
 * The adjoint Conv's weight, group-aware: W'[g·cInG + i, o, k'] = W[g·cOutG + o, i, K − 1 − k'],
 * dims [cIn, cOut / group, ...taps].
 */
export function flippedSwappedWeight(weight: WeightTensor, group: number): WeightTensor {
  const [cOut, cInPerGroup, ...taps] = weight.dims;
  const cOutPerGroup = cOut / group;
  const cIn = cInPerGroup * group;
  const tapCount = countOf(taps);
  const data = new Float32Array(weight.data.length);
  const flipped = new Array<number>(taps.length);
  forEachIndex(taps, (tap, tapFlat) => {
    for (let axis = 0; axis < taps.length; axis++) flipped[axis] = taps[axis] - 1 - tap[axis];
    const target = flatIndex(flipped, taps);
    for (let g = 0; g < group; g++) {
      for (let o = 0; o < cOutPerGroup; o++) {
        for (let i = 0; i < cInPerGroup; i++) {
          data[((g * cInPerGroup + i) * cOutPerGroup + o) * tapCount + target] = weight.data[((g * cOutPerGroup + o) * cInPerGroup + i) * tapCount + tapFlat];
        }
      }
    }
  });
  return { dims: [cIn, cOutPerGroup, ...taps], data };
}

/** The native operator, or null when the runtime is not available. `weight` is [cOut, cIn/group, ...taps] with taps of the geometry's rank. */
export function nativeConvOperator(weight: WeightTensor, group: number, geometry: WindowGeometry): LinearOperator | null {
  const runtime = nativeRuntime();
  if (!runtime) return null;
  const rank = geometry.inSize.length;
  if (rank < 2 || rank > 3 || weight.dims.length !== rank + 2) return null;
  const [cOut, cInPerGroup] = weight.dims;
  const cIn = cInPerGroup * group;
  const { toFirst, toLast } = permutations(rank);
  const inputShape = [1, ...geometry.inSize, cIn];
  const outputShape = [1, ...geometry.outSize, cOut];
  const effective = effectiveTaps(geometry.taps, geometry.dilations);
  const common = { strides: geometry.strides, dilations: geometry.dilations };
  const wrap = (core: GraphNode, inDims: number[], outDims: number[]) => ({
    nodes: [
      { opType: 'Transpose', inputs: ['x'], output: 'xFirst', ints: { perm: toFirst } },
      core,
      { opType: 'Transpose', inputs: ['yFirst'], output: 'y', ints: { perm: toLast } },
    ],
    inputs: [{ name: 'x', dims: inDims }],
    output: { name: 'y', dims: outDims },
  });

  const graphs: NativeGraph[] = [];
  try {
    const forward = compileGraph(runtime, {
      ...wrap({ opType: 'Conv', inputs: ['xFirst', 'w'], output: 'yFirst', int: { group }, ints: { ...common, pads: [...geometry.padsBegin, ...geometry.padsEnd] } }, inputShape, outputShape),
      initializers: [{ name: 'w', ...weight }],
    });
    graphs.push(forward);
    const flipBegin = effective.map((k, a) => k - 1 - geometry.padsBegin[a]);
    const flipEnd = effective.map((k, a) => k - 1 - geometry.padsEnd[a]);
    const flippedConv = geometry.strides.every((s) => s === 1) && [...flipBegin, ...flipEnd].every((p) => p >= 0);
    const adjoint = flippedConv
      ? compileGraph(runtime, {
          ...wrap({ opType: 'Conv', inputs: ['xFirst', 'w'], output: 'yFirst', int: { group }, ints: { ...common, pads: [...flipBegin, ...flipEnd] } }, outputShape, inputShape),
          initializers: [{ name: 'w', ...flippedSwappedWeight(weight, group) }],
        })
      : compileGraph(runtime, {
          ...wrap(
            {
              opType: 'ConvTranspose',
              inputs: ['xFirst', 'w'],
              output: 'yFirst',
              int: { group },
              ints: {
                ...common,
                pads: [...geometry.padsBegin, ...geometry.padsEnd],
                output_padding: geometry.inSize.map(
                  (size, a) => size - (geometry.strides[a] * (geometry.outSize[a] - 1) + effective[a] - geometry.padsBegin[a] - geometry.padsEnd[a]),
                ),
              },
            },
            outputShape,
            inputShape,
          ),
          initializers: [{ name: 'w', ...weight }],
        });
    graphs.push(adjoint);
    const apply = (graph: NativeGraph, x: tf.Tensor, shape: number[]): tf.Tensor => tf.tensor(graph.run({ data: x.dataSync() as Float32Array, dims: x.shape }), shape, 'float32');
    return {
      inputShape,
      outputShape,
      native: true,
      forward: (x) => apply(forward, x, outputShape),
      adjoint: (y) => apply(adjoint, y, inputShape),
      dispose: () => graphs.forEach((graph) => graph.dispose()),
    };
  } catch (error) {
    graphs.forEach((graph) => graph.dispose());
    // A geometry the runtime refuses (an attribute combination its kernels do not take) stays on tfjs.
    if (error instanceof RangeError) throw error;
    return null;
  }
}
