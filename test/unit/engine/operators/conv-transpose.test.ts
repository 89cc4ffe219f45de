import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../../src/engine/backend';
import { buildOperator } from '../../../../src/engine/operators';
import type { ConvTransposeSpec } from '../../../../src/model/ir';
import { seededNormals } from '../../../helpers/explicit-matrix';
import { checkAgainstReference } from './operator-checks';
import { referenceConvTransposeMatrix } from './onnx-reference';

interface TransposeCase {
  name: string;
  /** [cIn, cOut / group, ...taps] */
  dims: number[];
  group: number;
  inSize: number[];
  strides?: number[];
  dilations?: number[];
  padsBegin?: number[];
  padsEnd?: number[];
  outputPadding?: number[];
  channelsLast?: boolean;
}

function makeSpec(c: TransposeCase, seed: number): { spec: ConvTransposeSpec; inputShape: number[] } {
  const rank = c.dims.length - 2;
  const ones = new Array<number>(rank).fill(1);
  const zeros = new Array<number>(rank).fill(0);
  const spec: ConvTransposeSpec = {
    type: 'convTranspose',
    channelsLast: c.channelsLast ?? false,
    weight: { dims: c.dims, data: seededNormals(c.dims.reduce((a, b) => a * b, 1), seed) },
    strides: c.strides ?? ones,
    dilations: c.dilations ?? ones,
    padsBegin: c.padsBegin ?? zeros,
    padsEnd: c.padsEnd ?? zeros,
    outputPadding: c.outputPadding ?? zeros,
    group: c.group,
  };
  const inputShape = spec.channelsLast ? [1, ...c.inSize, c.dims[0]] : [1, c.dims[0], ...c.inSize];
  return { spec, inputShape };
}

const cases: TransposeCase[] = [
  { name: '2-D 4→3 3x3 s2 p1 output_padding 1', dims: [4, 3, 3, 3], group: 1, inSize: [4, 4], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1], outputPadding: [1, 1] },
  { name: '2-D stride 1, asymmetric pads', dims: [2, 3, 3, 2], group: 1, inSize: [5, 5], padsBegin: [0, 1], padsEnd: [2, 0] },
  { name: '2-D stride 2 + dilation 2, asymmetric pads, output_padding (1,0)', dims: [2, 2, 3, 3], group: 1, inSize: [4, 5], strides: [2, 2], dilations: [2, 2], padsBegin: [1, 2], padsEnd: [2, 0], outputPadding: [1, 0] },
  { name: '2-D stride 3, output_padding 2, channelsLast', dims: [2, 2, 2, 2], group: 1, inSize: [3, 3], strides: [3, 3], outputPadding: [2, 1], channelsLast: true },
  { name: 'groups 2, stride 2, output_padding 1', dims: [4, 2, 3, 3], group: 2, inSize: [4, 4], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1], outputPadding: [1, 1] },
  { name: 'groups 3, stride 1', dims: [6, 1, 3, 3], group: 3, inSize: [4, 4], padsBegin: [1, 0], padsEnd: [0, 1] },
  { name: 'depthwise transposed (group = channels, multiplier 2), stride 2', dims: [3, 2, 3, 3], group: 3, inSize: [4, 4], strides: [2, 2], padsBegin: [1, 1], padsEnd: [0, 0], outputPadding: [1, 1] },
  { name: '1-D stride 2, dilation 2, output_padding 1', dims: [3, 2, 3], group: 1, inSize: [8], strides: [2], dilations: [2], padsBegin: [1], padsEnd: [2], outputPadding: [1] },
  { name: '3-D stride 2, output_padding 1', dims: [2, 2, 3, 3, 3], group: 1, inSize: [3, 3, 3], strides: [2, 2, 2], padsBegin: [1, 1, 1], padsEnd: [1, 0, 1], outputPadding: [1, 1, 0] },
];

describe('ConvTranspose operators match the ONNX reference (wasm)', () => {
  before(async () => {
    const info = await initBackend();
    assert.equal(info.name, 'wasm', info.note);
  });

  cases.forEach((c, i) => {
    test(c.name, () => {
      const { spec, inputShape } = makeSpec(c, 500 + i);
      const op = buildOperator(spec, inputShape);
      try {
        const reference = referenceConvTransposeMatrix(spec.weight.dims, spec.weight.data, spec.group, c.inSize, spec, spec.outputPadding);
        checkAgainstReference(op, reference);
      } finally {
        op.dispose();
      }
    });
  });

  test('output_padding ≥ stride is refused rather than mis-computed', () => {
    const { spec, inputShape } = makeSpec({ name: '', dims: [2, 2, 3, 3], group: 1, inSize: [3, 3], strides: [1, 1], dilations: [2, 2], outputPadding: [1, 1] }, 1);
    assert.throws(() => buildOperator(spec, inputShape), /output_padding/);
  });
});
