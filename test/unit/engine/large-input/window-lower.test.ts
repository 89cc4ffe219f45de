// The certified lower bound of window-lower.ts against the explicitly built layer: the certified
// value must be exactly the quotient of the test vector it describes (built in space by
// warm-start.ts's windowWave and multiplied by the explicit matrix, naive float64 loops), must lie
// below the exact σ (ml-matrix's SVD), and the Galerkin step (sine window plus its derivative
// profiles) must beat the single sine window.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { convSymbol } from '../../../../src/engine/large-input/conv-symbol';
import { locateSymbolPeak } from '../../../../src/engine/large-input/symbol-sup';
import { windowLowerBound } from '../../../../src/engine/large-input/window-lower';
import { windowWave } from '../../../../src/engine/large-input/warm-start';
import { convMatrix, convSpecOf, exactSigma, randomValues, type ConvCase } from '../bounds/reference';

const base = { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };

const cases: [string, ConvCase][] = [
  ['3x3 stride 1, input side', { ...base, cIn: 2, cOut: 3, kernel: [3, 3], input: [16, 14] }],
  ['3x3 stride 1, output side (3 → 2 channels)', { ...base, cIn: 3, cOut: 2, kernel: [3, 3], input: [15, 16] }],
  ['3x3 stride 2 (polyphase grid)', { ...base, cIn: 2, cOut: 6, kernel: [3, 3], input: [20, 18], strides: [2, 2] }],
  ['stride 2 on one axis, pads 1/0', { ...base, cIn: 1, cOut: 4, kernel: [3, 3], strides: [2, 1], padsBegin: [1, 1], padsEnd: [0, 1], input: [20, 12] }],
  ['3x3 dilation 2', { ...base, cIn: 2, cOut: 2, kernel: [3, 3], input: [18, 16], dilations: [2, 2], padsBegin: [2, 2], padsEnd: [2, 2] }],
  ['5x5', { ...base, cIn: 1, cOut: 2, kernel: [5, 5], input: [18, 16], padsBegin: [2, 2], padsEnd: [2, 2] }],
  ['1x3 (one active axis)', { ...base, cIn: 2, cOut: 3, kernel: [1, 3], input: [9, 16], padsBegin: [0, 1], padsEnd: [0, 1] }],
  ['two groups', { ...base, cIn: 4, cOut: 6, kernel: [3, 3], group: 2, input: [12, 12] }],
  ['1-D k5', { cIn: 2, cOut: 3, kernel: [5], input: [40], strides: [1], dilations: [1], padsBegin: [2], padsEnd: [2], group: 1 }],
];

/** The single sine window and the Galerkin refinement at the symbol's located peak. */
function bothWindows(c: ConvCase, weight: Float32Array) {
  const symbol = convSymbol(convSpecOf(c, weight), c.input);
  assert.ok(symbol);
  const peak = locateSymbolPeak(symbol);
  assert.ok(peak);
  const single = windowLowerBound(symbol, peak.group, peak.omega, peak.vector, 24, false);
  const galerkin = windowLowerBound(symbol, peak.group, peak.omega, peak.vector);
  assert.ok(single && galerkin);
  return { symbol, peak, single, galerkin };
}

describe('window lower bound: the certified value is the quotient of a real test vector', () => {
  for (const [label, c] of cases) {
    test(`${label}: single window ≤ Galerkin = the wave's quotient ≤ exact σ`, () => {
      const weight = randomValues(c.cOut * (c.cIn / c.group) * c.kernel.reduce((a, b) => a * b, 1), 53 + label.length);
      const { symbol, peak, single, galerkin } = bothWindows(c, weight);
      const matrix = convMatrix(c, weight);
      const exact = exactSigma(matrix);
      assert.equal(single.components.length, 1);
      const activeAxes = symbol.degrees.filter((d) => d > 0).length;
      assert.equal(galerkin.components.length, 1 + activeAxes, 'one derivative profile per active axis');
      assert.ok(galerkin.sigma > single.sigma, `Galerkin ${galerkin.sigma} not above the single window ${single.sigma}`);
      assert.ok(galerkin.sigma <= exact * (1 + 1e-12), `lower ${galerkin.sigma} above the exact σ ${exact}`);
      // The quotient of the described vector, on the explicit matrix (Aᵀ for an output-side symbol).
      for (const lower of [single, galerkin]) {
        const wave = windowWave(symbol, lower, peak.group);
        const operator: Matrix = symbol.side === 'input' ? matrix : matrix.transpose();
        assert.equal(wave.re.length, operator.columns);
        const images = [wave.re, wave.im].map((part) => operator.mmul(Matrix.columnVector(Array.from(part))).norm() ** 2);
        const norm = [wave.re, wave.im].reduce((sum, part) => sum + part.reduce((s, v) => s + v * v, 0), 0);
        const quotient = Math.sqrt((images[0] + images[1]) / norm);
        assert.ok(lower.sigma <= quotient * (1 + 1e-12), `${lower.components.length} profiles: certified ${lower.sigma} above the vector's quotient ${quotient}`);
        assert.ok(lower.sigma >= quotient * (1 - 1e-9), `${lower.components.length} profiles: certified ${lower.sigma} is not the vector's quotient ${quotient}`);
      }
    });
  }

  // On small 2-D maps the box's edges dominate (measured: 2–3× at 16²–22²); on a long 1-D map, as on
  // large 2-D ones, the channel part's variation does (measured 30–100× on 4→4 k3 at 300).
  test('on a long 1-D layer the Galerkin step closes most of the single window\'s gap to σ', () => {
    const c: ConvCase = { cIn: 4, cOut: 4, kernel: [3], input: [200], strides: [1], dilations: [1], padsBegin: [1], padsEnd: [1], group: 1 };
    const weight = randomValues(4 * 4 * 3, 7);
    const { single, galerkin } = bothWindows(c, weight);
    const sigma = exactSigma(convMatrix(c, weight));
    const singleGap = (sigma - single.sigma) / sigma;
    const galerkinGap = (sigma - galerkin.sigma) / sigma;
    assert.ok(galerkinGap >= 0 && galerkinGap < singleGap / 10, `gap ${galerkinGap} against the single window's ${singleGap}`);
  });
});
