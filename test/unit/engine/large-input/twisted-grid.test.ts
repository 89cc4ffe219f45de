// The twisted-torus bound (src/engine/large-input/twisted-grid.ts) against exact answers: the
// explicit layer matrix's σ1 (ml-matrix SVD, or the exact-dense interval on larger maps) must lie
// below the max of σ1(K̂(ω)) over EVERY admissible twisted grid (the validity of the torus rule), the
// certified grid max must cover the grid's brute-force max, and on a map of realistic proportions
// the bound must come out below the symbol's sup.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { convSymbol } from '../../../../src/engine/large-input/conv-symbol';
import { certifiedSymbolSup, locateSymbolPeak } from '../../../../src/engine/large-input/symbol-sup';
import { certifiedGridMax, chooseTwistedGrid, minimalTorus, certifiedConvUpper, type TwistedGrid } from '../../../../src/engine/large-input/twisted-grid';
import { exactInterval } from '../../../../src/engine/large-input/exact-small';
import { planLayer, solveByInterval } from '../../../../src/engine/large-input/solve';
import { convMatrix, exactSigma, randomValues, type ConvCase, convSpecOf } from '../bounds/reference';

/** σ1 of K̂_g(ω) = Σ_t W_t e^{−iω·(t·dil)} per group, from the weights (not conv-symbol), the max over groups. */
function symbolNorm(c: ConvCase, weight: Float32Array, omega: number[]): number {
  const rows = c.cOut / c.group;
  const cin = c.cIn / c.group;
  const taps = c.kernel.reduce((a, b) => a * b, 1);
  let best = 0;
  for (let g = 0; g < c.group; g++) {
    const re = Matrix.zeros(rows, cin);
    const im = Matrix.zeros(rows, cin);
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cin; i++) {
        for (let t = 0; t < taps; t++) {
          let rest = t;
          let phase = 0;
          for (let a = c.kernel.length - 1; a >= 0; a--) {
            phase += omega[a] * (rest % c.kernel[a]) * c.dilations[a];
            rest = Math.floor(rest / c.kernel[a]);
          }
          const w = weight[((g * rows + o) * cin + i) * taps + t];
          re.set(o, i, re.get(o, i) + w * Math.cos(phase));
          im.set(o, i, im.get(o, i) - w * Math.sin(phase));
        }
      }
    }
    // σ1 of X + iY is σ1 of the real embedding [[X, −Y], [Y, X]].
    const embedded = Matrix.zeros(2 * rows, 2 * cin);
    embedded.setSubMatrix(re, 0, 0);
    embedded.setSubMatrix(im.clone().mul(-1), 0, cin);
    embedded.setSubMatrix(im, rows, 0);
    embedded.setSubMatrix(re, rows, cin);
    best = Math.max(best, exactSigma(embedded));
  }
  return best;
}

/** The max of symbolNorm over every frequency of a twisted grid, by brute force. */
function bruteGridMax(c: ConvCase, weight: Float32Array, grid: TwistedGrid): number {
  const rank = grid.sizes.length;
  const total = grid.sizes.reduce((a, b) => a * b, 1);
  let best = 0;
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    const omega = new Array<number>(rank);
    for (let a = rank - 1; a >= 0; a--) {
      const j = rest % grid.sizes[a];
      rest = Math.floor(rest / grid.sizes[a]);
      omega[a] = (2 * Math.PI * j + grid.twists[a]) / grid.sizes[a];
    }
    best = Math.max(best, symbolNorm(c, weight, omega));
  }
  return best;
}

const cases: [string, ConvCase][] = [
  ['3x3 pad 1', { cIn: 2, cOut: 3, kernel: [3, 3], input: [5, 6], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 }],
  ['3x3 valid (no pad)', { cIn: 3, cOut: 2, kernel: [3, 3], input: [6, 5], strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 1 }],
  ['3x3 uneven pads 0/2 and 2/0', { cIn: 2, cOut: 2, kernel: [3, 3], input: [5, 5], strides: [1, 1], dilations: [1, 1], padsBegin: [0, 2], padsEnd: [2, 0], group: 1 }],
  ['3x3 pads 3 (beyond the kernel)', { cIn: 2, cOut: 2, kernel: [3, 3], input: [4, 4], strides: [1, 1], dilations: [1, 1], padsBegin: [3, 3], padsEnd: [3, 3], group: 1 }],
  ['3x3 dilation 2', { cIn: 2, cOut: 2, kernel: [3, 3], input: [6, 6], strides: [1, 1], dilations: [2, 2], padsBegin: [2, 2], padsEnd: [2, 2], group: 1 }],
  ['5x5 pad 2', { cIn: 2, cOut: 2, kernel: [5, 5], input: [6, 5], strides: [1, 1], dilations: [1, 1], padsBegin: [2, 2], padsEnd: [2, 2], group: 1 }],
  ['1x3 on 4x7', { cIn: 2, cOut: 3, kernel: [1, 3], input: [4, 7], strides: [1, 1], dilations: [1, 1], padsBegin: [0, 1], padsEnd: [0, 1], group: 1 }],
  ['two groups', { cIn: 4, cOut: 4, kernel: [3, 3], input: [5, 5], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 2 }],
  ['depthwise', { cIn: 3, cOut: 3, kernel: [3, 3], input: [6, 6], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 3 }],
  ['1-D k5', { cIn: 2, cOut: 3, kernel: [5], input: [12], strides: [1], dilations: [1], padsBegin: [2], padsEnd: [2], group: 1 }],
];

describe('the twisted torus holds the layer', () => {
  for (const [label, c] of cases) {
    test(`${label}: σ ≤ the max over every admissible twisted grid; the certified max covers the grid`, () => {
      const weight = randomValues(c.cOut * (c.cIn / c.group) * c.kernel.reduce((a, b) => a * b, 1), label.length * 7 + 3);
      const exact = exactSigma(convMatrix(c, weight));
      const spec = convSpecOf(c, weight);
      const symbol = convSymbol(spec, c.input);
      assert.ok(symbol);
      const minimum = minimalTorus(symbol);
      assert.ok(minimum);
      const rank = c.kernel.length;
      // Every size from the minimum to two above it, every twist in {0, π}, per axis.
      const choices = 3 * 2;
      for (let code = 0; code < choices ** rank; code++) {
        let rest = code;
        const sizes: number[] = [];
        const twists: number[] = [];
        for (let a = 0; a < rank; a++) {
          const k = rest % choices;
          rest = Math.floor(rest / choices);
          sizes.push(minimum[a] + Math.floor(k / 2));
          twists.push(k % 2 ? Math.PI : 0);
        }
        const grid = { sizes, twists };
        const brute = bruteGridMax(c, weight, grid);
        assert.ok(exact <= brute * (1 + 1e-12), `${label} grid ${sizes}/${twists}: exact ${exact} above the grid max ${brute}`);
        if (code % 5 === 0) {
          const certified = certifiedGridMax(symbol, grid, { relTol: 1e-6, maxCells: 20_000 }, locateSymbolPeak(symbol));
          assert.ok(certified, `${label}: certification gave up`);
          const sigma = Math.sqrt(certified.lambdaUpper);
          assert.ok(sigma >= brute * (1 - 1e-12), `${label} grid ${sizes}/${twists}: certified ${sigma} below the grid max ${brute}`);
          assert.ok(sigma <= brute * (1 + 1e-6), `${label} grid ${sizes}/${twists}: certified ${sigma} far above the grid max ${brute}`);
        }
      }
    });
  }
  test('the minimal torus: input plus the larger pad, at least the output', () => {
    const at = (c: ConvCase): number[] | null => {
      const symbol = convSymbol(convSpecOf(c, randomValues(c.cOut * c.cIn * c.kernel.reduce((a, b) => a * b, 1), 1)), c.input);
      return symbol && minimalTorus(symbol);
    };
    assert.deepEqual(at(cases[0][1]), [6, 7]);
    assert.deepEqual(at(cases[1][1]), [6, 5]);
    assert.deepEqual(at(cases[2][1]), [7, 7]);
    // Pads of 3 on a 3x3 kernel: 8 outputs from 4 inputs, so the outputs set the size (4 + 3 < 8).
    assert.deepEqual(at(cases[3][1]), [8, 8]);
    const strided = { ...cases[0][1], strides: [2, 2] };
    assert.equal(at(strided), null);
  });
});

describe('the twisted bound is tighter than the sup', () => {
  test('a 3→3 3x3 layer on 18x18: exact ≤ twisted bound < sup', () => {
    const c: ConvCase = { cIn: 3, cOut: 3, kernel: [3, 3], input: [18, 18], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
    const weight = randomValues(3 * 3 * 9, 91);
    const spec = convSpecOf(c, weight);
    const exact = exactInterval(spec, [1, 3, 18, 18]);
    assert.ok(exact);
    const symbol = convSymbol(spec, c.input);
    assert.ok(symbol);
    const peak = locateSymbolPeak(symbol);
    assert.ok(peak);
    const twisted = certifiedConvUpper(symbol, c.input, peak, 1e-6);
    assert.ok(twisted);
    const sup = certifiedSymbolSup(symbol, { relTol: 1e-6, maxCells: 20_000 }, peak);
    assert.ok(sup);
    const supSigma = Math.sqrt(sup.lambdaUpper);
    assert.ok(twisted.sigma >= exact.upper * (1 - 1e-12), `twisted ${twisted.sigma} below exact ${exact.upper}`);
    // The sup sits about c·2(π/18)² ≈ 1.5 % above σ here; the twisted grid removes most of that.
    const supGap = supSigma / exact.upper - 1;
    const twistedGap = twisted.sigma / exact.upper - 1;
    assert.ok(twistedGap < 0.6 * supGap, `twisted gap ${twistedGap} not well below the sup's ${supGap}`);
  });
  test('the grid is placed with the peak between frequencies', () => {
    const c: ConvCase = { cIn: 2, cOut: 2, kernel: [3, 3], input: [30, 30], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
    const symbol = convSymbol(convSpecOf(c, randomValues(36, 5)), c.input);
    assert.ok(symbol);
    const grid = chooseTwistedGrid(symbol, [31, 31], [0, 1.234]);
    // ω = 0 on the first axis: N = 31 with θ = π puts ±π/31 around it, the widest spacing.
    assert.deepEqual([grid.sizes[0], grid.twists[0]], [31, Math.PI]);
    const n = grid.sizes[1];
    const u = (1.234 * n - grid.twists[1]) / (2 * Math.PI);
    assert.ok(Math.abs(Math.abs(u - Math.round(u)) - 0.5) < 0.1, `peak at ${u} in grid units`);
  });
});

describe('the plan uses it', () => {
  test('a 64→64 3x3 layer at 128² takes the symbol path and closes to 1e-4 with the twisted torus (the sup alone does not)', () => {
    const c: ConvCase = { cIn: 64, cOut: 64, kernel: [3, 3], input: [128, 128], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
    const spec = convSpecOf(c, randomValues(64 * 64 * 9, 199));
    assert.equal(planLayer(spec, [1, 64, 128, 128], 1e-4).path, 'symbol-sup');
    const solved = solveByInterval(spec, [1, 64, 128, 128], 1e-4);
    assert.ok(solved, 'the interval did not close');
    assert.equal(solved.method, 'symbol-sup');
    assert.match(solved.detail, /twisted torus/);
    assert.ok(solved.upper - solved.lower <= 1e-4 * solved.lower, `width ${(solved.upper - solved.lower) / solved.lower}`);
    // The sup's own interval at this size is wider than tol: the twisted torus is what closes it.
    const symbol = convSymbol(spec, c.input);
    assert.ok(symbol);
    const sup = certifiedSymbolSup(symbol, { relTol: 1e-6, maxCells: 20_000 }, locateSymbolPeak(symbol));
    assert.ok(sup);
    assert.ok(Math.sqrt(sup.lambdaUpper) - solved.lower > 1e-4 * solved.lower, 'the sup alone would have closed');
    assert.ok(solved.upper < Math.sqrt(sup.lambdaUpper));
  });
});
