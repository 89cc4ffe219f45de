import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import { buildOperator } from '../../../../src/engine/operators';
import { nativeLoadError, nativeRuntime, useNativeProducts } from '../../../../src/engine/native/onnxruntime';
import type { ConvSpec } from '../../../../src/model/ir';
import { largestSingularValue, seededNormals } from '../../../helpers/explicit-matrix';
import { checkAgainstReference } from './operator-checks';
import { referenceConvMatrix } from './onnx-reference';

interface ConvCase {
  name: string;
  /** [cOut, cIn / group, ...taps] */
  dims: number[];
  group: number;
  inSize: number[];
  strides?: number[];
  dilations?: number[];
  padsBegin?: number[];
  padsEnd?: number[];
  channelsLast?: boolean;
}

function makeSpec(c: ConvCase, seed: number): { spec: ConvSpec; inputShape: number[] } {
  const rank = c.dims.length - 2;
  const ones = new Array<number>(rank).fill(1);
  const zeros = new Array<number>(rank).fill(0);
  const spec: ConvSpec = {
    type: 'conv',
    channelsLast: c.channelsLast ?? false,
    weight: { dims: c.dims, data: seededNormals(c.dims.reduce((a, b) => a * b, 1), seed) },
    strides: c.strides ?? ones,
    dilations: c.dilations ?? ones,
    padsBegin: c.padsBegin ?? zeros,
    padsEnd: c.padsEnd ?? zeros,
    group: c.group,
  };
  const channels = c.dims[1] * c.group;
  // Batch 2 in the node's shape: the operator must reduce it to 1.
  const inputShape = spec.channelsLast ? [2, ...c.inSize, channels] : [2, channels, ...c.inSize];
  return { spec, inputShape };
}

function reference(spec: ConvSpec, inSize: number[]): Matrix {
  return referenceConvMatrix(spec.weight.dims, spec.weight.data, spec.group, inSize, spec);
}

const cases: ConvCase[] = [
  { name: '2-D 3→4 3x3 s1 p1 @6x6', dims: [4, 3, 3, 3], group: 1, inSize: [6, 6], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: '2-D asymmetric pads (0,1)/(2,0), 3x2 kernel', dims: [3, 2, 3, 2], group: 1, inSize: [5, 7], padsBegin: [0, 1], padsEnd: [2, 0] },
  { name: '2-D channelsLast input, stride 2, pad 1', dims: [3, 2, 3, 3], group: 1, inSize: [7, 6], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1], channelsLast: true },
  { name: '2-D 4→5 3x3 s2 p1 @9x9', dims: [5, 4, 3, 3], group: 1, inSize: [9, 9], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: '2-D stride 2 + dilation 2, asymmetric pads', dims: [3, 2, 3, 3], group: 1, inSize: [9, 8], strides: [2, 2], dilations: [2, 2], padsBegin: [1, 2], padsEnd: [2, 1] },
  { name: '2-D stride 1, dilation (2,3)', dims: [2, 2, 3, 2], group: 1, inSize: [8, 8], dilations: [2, 3], padsBegin: [2, 0], padsEnd: [1, 3] },
  { name: '2-D unequal strides (2,3)', dims: [2, 2, 3, 3], group: 1, inSize: [8, 9], strides: [2, 3], padsBegin: [1, 0], padsEnd: [0, 1] },
  { name: '2-D strides (1,2) with dilation 2', dims: [2, 3, 2, 3], group: 1, inSize: [6, 9], strides: [1, 2], dilations: [2, 2], padsBegin: [1, 1], padsEnd: [0, 2] },
  { name: '2-D strides (3,1): inputs the windows skip', dims: [2, 2, 2, 2], group: 1, inSize: [8, 7], strides: [3, 1] },
  { name: '2-D stride 3 > kernel 2', dims: [2, 2, 2, 2], group: 1, inSize: [8, 8], strides: [3, 3], padsBegin: [0, 1], padsEnd: [1, 0] },
  { name: '2-D pads larger than the kernel (1x1, pad 2)', dims: [3, 2, 1, 1], group: 1, inSize: [4, 4], padsBegin: [2, 2], padsEnd: [2, 1] },
  { name: '2-D stride 2 with pads larger than the kernel', dims: [2, 2, 2, 2], group: 1, inSize: [5, 5], strides: [2, 2], padsBegin: [3, 0], padsEnd: [0, 3] },
  { name: 'per-phase strided adjoint (32 channels): 32→2 3x3 s2 p1 @3x4', dims: [2, 32, 3, 3], group: 1, inSize: [3, 4], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: 'per-phase: 32→3 k(2,3) s(2,3) d(1,2), asymmetric pads @2x5', dims: [3, 32, 2, 3], group: 1, inSize: [2, 5], strides: [2, 3], dilations: [1, 2], padsBegin: [0, 2], padsEnd: [1, 1] },
  { name: 'per-phase: 1x1 s2 (phases without taps), 32→4 @3x3', dims: [4, 32, 1, 1], group: 1, inSize: [3, 3], strides: [2, 2] },
  { name: 'per-phase: groups 2 (32 channels in all), s2 d2', dims: [4, 16, 3, 3], group: 2, inSize: [3, 3], strides: [2, 2], dilations: [2, 2], padsBegin: [2, 1], padsEnd: [1, 2] },
  { name: 'per-phase: dilation 2 = stride 2 (phases of zero taps), 32→2 @4x3', dims: [2, 32, 2, 2], group: 1, inSize: [4, 3], strides: [2, 2], dilations: [2, 2], padsBegin: [1, 0], padsEnd: [0, 1] },
  { name: 'groups 2: 4→6 3x3 p1', dims: [6, 2, 3, 3], group: 2, inSize: [6, 6], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: 'groups 3: 6→3 3x3 s2 p(0,1)/(1,0)', dims: [3, 2, 3, 3], group: 3, inSize: [7, 7], strides: [2, 2], padsBegin: [0, 1], padsEnd: [1, 0] },
  { name: 'groups 6 (run group by group): 12→12 3x3 p1', dims: [12, 2, 3, 3], group: 6, inSize: [5, 5], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: 'groups 6 s2 d2 (group by group)', dims: [6, 2, 2, 2], group: 6, inSize: [5, 5], strides: [2, 2], dilations: [2, 2], padsBegin: [1, 0], padsEnd: [0, 1] },
  { name: 'depthwise 3 channels 3x3 s1 p1', dims: [3, 1, 3, 3], group: 3, inSize: [8, 8], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: 'depthwise multiplier 2, s2 p1', dims: [6, 1, 3, 3], group: 3, inSize: [8, 8], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1] },
  { name: 'depthwise multiplier 2, s2 d2, asymmetric pads', dims: [4, 1, 3, 3], group: 2, inSize: [9, 9], strides: [2, 2], dilations: [2, 2], padsBegin: [2, 1], padsEnd: [1, 2] },
  { name: 'depthwise multiplier 2, s1 d2', dims: [4, 1, 3, 3], group: 2, inSize: [7, 7], dilations: [2, 2], padsBegin: [2, 1], padsEnd: [1, 2] },
  { name: 'depthwise unequal strides (1,2)', dims: [3, 1, 3, 3], group: 3, inSize: [6, 8], strides: [1, 2], padsBegin: [1, 1], padsEnd: [1, 0] },
  { name: 'depthwise pads larger than the kernel, stride 2', dims: [2, 1, 2, 2], group: 2, inSize: [5, 5], strides: [2, 2], padsBegin: [3, 0], padsEnd: [0, 3] },
  { name: '1-D 3→4 k3 s2 d2 pads (1,2)', dims: [4, 3, 3], group: 1, inSize: [20], strides: [2], dilations: [2], padsBegin: [1], padsEnd: [2] },
  { name: '1-D groups 2, channelsLast', dims: [4, 2, 3], group: 2, inSize: [12], padsBegin: [2], padsEnd: [0], channelsLast: true },
  { name: '1-D depthwise multiplier 2, s1 p1', dims: [4, 1, 3], group: 2, inSize: [10], padsBegin: [1], padsEnd: [1] },
  { name: '3-D 2→3 3x3x3 s1 p1', dims: [3, 2, 3, 3, 3], group: 1, inSize: [4, 4, 4], padsBegin: [1, 1, 1], padsEnd: [1, 1, 1] },
  { name: '3-D s1 dilation 2, asymmetric pads', dims: [2, 2, 2, 2, 2], group: 1, inSize: [5, 4, 5], dilations: [2, 1, 2], padsBegin: [0, 1, 2], padsEnd: [1, 0, 0] },
  { name: '3-D stride 2 + dilation (1,2,1), asymmetric pads', dims: [2, 2, 3, 2, 3], group: 1, inSize: [5, 5, 5], strides: [2, 2, 2], dilations: [1, 2, 1], padsBegin: [1, 0, 1], padsEnd: [0, 2, 1] },
  { name: '3-D groups 2, stride (1,2,2)', dims: [4, 1, 2, 3, 3], group: 2, inSize: [3, 5, 5], strides: [1, 2, 2], padsBegin: [0, 1, 1], padsEnd: [1, 1, 0] },
  { name: '3-D depthwise, 6 channels (group by group)', dims: [6, 1, 2, 2, 2], group: 6, inSize: [3, 3, 3], padsBegin: [1, 0, 1], padsEnd: [0, 1, 1] },
];

for (const products of ['tfjs', 'onnxruntime'] as const) {
  describe(`convolution operators match the ONNX reference (products on ${products})`, () => {
    let previous = true;
    before(async () => {
      const info = await initBackend();
      assert.equal(info.name, 'wasm', info.note);
      previous = useNativeProducts(products === 'onnxruntime');
      // onnxruntime-node is installed with the project's dependencies: failing to load it here is a defect.
      if (products === 'onnxruntime') assert.ok(nativeRuntime(), `onnxruntime-node did not load: ${nativeLoadError()}`);
    });
    after(() => {
      useNativeProducts(previous);
    });

    cases.forEach((c, i) => {
      test(c.name, () => {
        const { spec, inputShape } = makeSpec(c, 100 + i);
        const op = buildOperator(spec, inputShape);
        try {
          // Depthwise convs keep tfjs's own kernel; everything else runs where asked.
          const depthwise = c.dims[1] === 1 && c.group > 1 && c.inSize.length <= 2;
          assert.equal(op.native === true, products === 'onnxruntime' && !depthwise, 'products ran on the wrong library');
          checkAgainstReference(op, reference(spec, c.inSize));
        } finally {
          op.dispose();
        }
      });
    });

    test('the operator frees its tensors on dispose', () => {
      const before = tf.memory().numTensors;
      const { spec, inputShape } = makeSpec(cases[3], 1);
      buildOperator(spec, inputShape).dispose();
      const perPhase = makeSpec(cases.find((c) => c.name.startsWith('per-phase: 1x1')) ?? cases[0], 3);
      buildOperator(perPhase.spec, perPhase.inputShape).dispose();
      const grouped = makeSpec(cases.find((c) => c.group === 6) ?? cases[0], 2);
      buildOperator(grouped.spec, grouped.inputShape).dispose();
      assert.equal(tf.memory().numTensors, before);
    });

    test('a channel count that does not match the weight is refused', () => {
      const { spec } = makeSpec(cases[0], 1);
      assert.throws(() => buildOperator(spec, [1, 5, 6, 6]), /channels/);
    });
  });
}

/** σ1 of the kernel reshaped to cOut x (cIn/group·k·k): a different quantity, never the layer's norm. */
function reshapedKernelNorm(spec: ConvSpec): number {
  const [cOut] = spec.weight.dims;
  const columns = spec.weight.data.length / cOut;
  return largestSingularValue(Matrix.from1DArray(cOut, columns, Array.from(spec.weight.data)));
}

describe('σ1 of the convolution is not the reshaped-kernel norm', () => {
  before(async () => {
    await initBackend();
  });

  const sigmaCases: ConvCase[] = [
    { name: '4→5 3x3 s2 p1 @9x9', dims: [5, 4, 3, 3], group: 1, inSize: [9, 9], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1] },
    { name: '3→4 3x3 s1 p1 @6x6', dims: [4, 3, 3, 3], group: 1, inSize: [6, 6], padsBegin: [1, 1], padsEnd: [1, 1] },
    { name: 'depthwise 3 channels 3x3 s1 p1 @8x8', dims: [3, 1, 3, 3], group: 3, inSize: [8, 8], padsBegin: [1, 1], padsEnd: [1, 1] },
    { name: '1-D 3→4 k5 s1 p2 @16', dims: [4, 3, 5], group: 1, inSize: [16], padsBegin: [2], padsEnd: [2] },
  ];
  sigmaCases.forEach((c, i) => {
    test(c.name, () => {
      const { spec, inputShape } = makeSpec(c, 300 + i);
      const op = buildOperator(spec, inputShape);
      try {
        const truth = largestSingularValue(reference(spec, c.inSize));
        const fromOperator = largestSingularValue(checkAgainstReference(op, reference(spec, c.inSize)));
        assert.ok(Math.abs(fromOperator - truth) / truth < 1e-5, `operator σ1 ${fromOperator} vs reference ${truth}`);
        const reshaped = reshapedKernelNorm(spec);
        const gap = Math.abs(reshaped - truth) / truth;
        assert.ok(gap > 0.01, `reshaped-kernel norm ${reshaped} within 1% of σ1 ${truth}`);
      } finally {
        op.dispose();
      }
    });
  });
});
