// Models for the upper side's time budget tests (budgets.test.ts).

import type { IrModel, IrNode } from '../../../src/model/ir';
import { seededNormals } from '../../helpers/explicit-matrix';

interface ConvStage {
  cIn: number;
  cOut: number;
  size: number;
  stride: number;
}

/**
 * 3x3 convolutions (pads 1, He-scaled seeded weights from `seed`), each followed by a ReLU, NCHW,
 * with the executor's data: a model both sides of the bracket run.
 */
export function convReluChain(stages: ConvStage[], path: string, seed: number): IrModel {
  const nodes: IrNode[] = [];
  let input = 'x';
  stages.forEach(({ cIn, cOut, size, stride }, i) => {
    const data = seededNormals(cOut * cIn * 9, seed + i).map((v) => v / Math.sqrt(cIn * 9));
    const inShape = [1, cIn, size, size];
    const outShape = [1, cOut, size / stride, size / stride];
    nodes.push({
      name: `conv${i}`,
      op: 'Conv',
      inputs: [input],
      outputs: [`conv${i}`],
      inputShapes: [inShape],
      outputShapes: [outShape],
      spec: { type: 'conv', channelsLast: false, weight: { dims: [cOut, cIn, 3, 3], data }, strides: [stride, stride], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 },
      weightShape: [cOut, cIn, 3, 3],
      execution: { kind: 'affine', bias: new Float32Array(cOut) },
    });
    nodes.push({
      name: `relu${i}`,
      op: 'Relu',
      inputs: [`conv${i}`],
      outputs: [`relu${i}`],
      inputShapes: [outShape],
      outputShapes: [outShape],
      spec: { type: 'fixed', kind: 'activation', constant: 1 },
      weightShape: null,
      execution: { kind: 'activation', name: 'relu' },
    });
    input = `relu${i}`;
  });
  const first = stages[0];
  const shape = [1, first.cIn, first.size, first.size];
  return {
    format: 'onnx',
    path,
    inputs: [{ name: 'x', shape, declaredShape: shape }],
    outputs: [input],
    nodes,
    metadata: { nodeCount: nodes.length, parameterCount: stages.reduce((sum, st) => sum + st.cIn * st.cOut * 9, 0) },
    warnings: [],
  };
}

/**
 * A chain of two circular segments, the costly one first: `wide` 3x3 convolutions of `channels`
 * channels at size², a stride-2 conv to 4 channels at (size/2)² (which ends the segment), then
 * `narrow` of 4 channels.
 */
export function twoSegmentNet(wide: number, narrow: number, channels = 32, size = 32): IrModel {
  const stages = [
    ...Array.from({ length: wide }, () => ({ cIn: channels, cOut: channels, size, stride: 1 })),
    { cIn: channels, cOut: 4, size, stride: 2 },
    ...Array.from({ length: narrow }, () => ({ cIn: 4, cOut: 4, size: size / 2, stride: 1 })),
  ];
  return convReluChain(stages, 'two-segments.onnx', 200);
}

/** `layers` 3x3 same convolutions of `channels` channels at size², each followed by a ReLU. */
export function wideConvNet(layers: number, channels: number, size: number): IrModel {
  return convReluChain(Array.from({ length: layers }, () => ({ cIn: channels, cOut: channels, size, stride: 1 })), 'wide.onnx', 100);
}

/** A valid constant per node: a conv's norm ≤ Σ_taps ||W_t||₂ ≤ √taps·||W||_F; a ReLU 1. */
export function crudeConstants(model: IrModel): number[] {
  return model.nodes.map((node) => {
    if (node.spec.type !== 'conv') return 1;
    const data = node.spec.weight.data;
    let sum = 0;
    for (const v of data) sum += v * v;
    return Math.sqrt(9 * sum);
  });
}
