// The certified intervals of src/engine/large-input against the exact σ1 of explicitly built layer
// matrices (naive float64 loops and ml-matrix's SVD, test/unit/engine/bounds/reference.ts): the
// interval must contain the exact value and meet its width target. ml-matrix's SVD takes seconds
// from ~400 columns on, so the symbol tests on larger maps use the exact-dense interval (itself
// checked against the SVD on the small cases, and built from the explicit matrix, not the symbol)
// as their reference: the two certified intervals must overlap.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvTransposeSpec, LinearSpec } from '../../../../src/model/ir';
import { exactInterval } from '../../../../src/engine/large-input/exact-small';
import { symbolSupInterval } from '../../../../src/engine/large-input/index';
import { convSymbol } from '../../../../src/engine/large-input/conv-symbol';
import { certifiedSymbolSup } from '../../../../src/engine/large-input/symbol-sup';
import { windowWarmStart } from '../../../../src/engine/large-input/warm-start';
import { adjointConv } from '../../../../src/engine/large-input/conv-view';
import { planLayer, solveByInterval } from '../../../../src/engine/large-input/solve';
import { reduceLinearProblem } from '../../../../src/engine/operators';
import { certifiedEigenvalueBound, certifiedHermitianBound } from '../../../../src/engine/large-input/dense-symmetric';
import { convMatrix, convTransposeMatrix, exactSigma, randomValues, type ConvCase, type ConvTransposeCase, convSpecOf } from '../bounds/reference';
import { bruteForceSup } from './brute-force-sup';
import { Matrix } from 'ml-matrix';

/** SVD's own error is ~1e-15 relative. */
const SLACK = 1e-12;

function transposeSpec(c: ConvTransposeCase, weight: Float32Array): ConvTransposeSpec {
  return {
    type: 'convTranspose',
    channelsLast: false,
    weight: { dims: [c.cIn, c.cOut / c.group, ...c.kernel], data: weight },
    strides: c.strides,
    dilations: c.dilations,
    padsBegin: c.padsBegin,
    padsEnd: c.padsEnd,
    outputPadding: c.outputPadding,
    group: c.group,
  };
}

function assertContains(lower: number, upper: number, exact: number, label: string): void {
  assert.ok(lower <= exact * (1 + SLACK), `${label}: lower ${lower} above exact ${exact}`);
  assert.ok(upper >= exact * (1 - SLACK), `${label}: upper ${upper} below exact ${exact}`);
}

const base = { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
const convCases: [string, ConvCase][] = [
  ['3x3 stride 1', { ...base, cIn: 2, cOut: 3, kernel: [3, 3], input: [7, 9] }],
  ['3x3 stride 2', { ...base, cIn: 2, cOut: 5, kernel: [3, 3], input: [10, 8], strides: [2, 2] }],
  ['3x3 dilation 2', { ...base, cIn: 2, cOut: 3, kernel: [3, 3], input: [9, 8], dilations: [2, 2], padsBegin: [2, 2], padsEnd: [2, 2] }],
  ['depthwise 3x3', { ...base, cIn: 3, cOut: 3, kernel: [3, 3], input: [8, 7], group: 3 }],
  ['grouped 3x3', { ...base, cIn: 4, cOut: 6, kernel: [3, 3], input: [6, 6], group: 2 }],
  ['1x1', { ...base, cIn: 5, cOut: 3, kernel: [1, 1], input: [6, 7], padsBegin: [0, 0], padsEnd: [0, 0] }],
  ['5x5', { ...base, cIn: 2, cOut: 2, kernel: [5, 5], input: [10, 9], padsBegin: [2, 2], padsEnd: [2, 2] }],
  ['1x3 on a non-square map', { ...base, cIn: 2, cOut: 3, kernel: [1, 3], input: [13, 8], padsBegin: [0, 1], padsEnd: [0, 1] }],
  ['1-D k3 stride 2', { cIn: 3, cOut: 4, kernel: [3], input: [30], strides: [2], dilations: [1], padsBegin: [1], padsEnd: [0], group: 1 }],
];

describe('exact-dense: float64 Gram matrix with a Cholesky certificate', () => {
  for (const [label, c] of convCases) {
    test(label, () => {
      const weight = randomValues(c.cOut * (c.cIn / c.group) * c.kernel.reduce((a, b) => a * b, 1), 11 + label.length);
      const exact = exactSigma(convMatrix(c, weight));
      const interval = exactInterval(convSpecOf(c, weight), [1, c.cIn, ...c.input]);
      assert.ok(interval, label);
      assertContains(interval.lower, interval.upper, exact, label);
      // Width is rounding only.
      assert.ok(interval.upper - interval.lower <= 1e-9 * exact, `${label}: width ${interval.upper - interval.lower}`);
    });
  }

  test('ConvTranspose stride 2 with output padding', () => {
    const c: ConvTransposeCase = { cIn: 3, cOut: 2, kernel: [3, 3], input: [5, 6], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], outputPadding: [1, 0], group: 1 };
    const weight = randomValues(3 * 2 * 9, 5);
    const exact = exactSigma(convTransposeMatrix(c, weight));
    const interval = exactInterval(transposeSpec(c, weight), [1, 3, 5, 6]);
    assert.ok(interval);
    assertContains(interval.lower, interval.upper, exact, 'convTranspose');
    assert.ok(interval.upper - interval.lower <= 1e-9 * exact);
  });

  test('a 1x3 conv on a 76x32 map: upper bound equals σ up to rounding', () => {
    const c: ConvCase = { ...base, cIn: 1, cOut: 2, kernel: [1, 3], input: [76, 32], padsBegin: [0, 1], padsEnd: [0, 1] };
    const weight = randomValues(6, 3);
    // The kernel-1 axis reduces away (operators/reduce.ts): a 1-D problem on 32 positions.
    const problem = reduceLinearProblem(convSpecOf(c, weight), [1, 1, 76, 32]);
    assert.deepEqual(problem.inputShape, [1, 1, 1, 32]);
    assert.equal(planLayer(problem.spec, problem.inputShape, 1e-4).path, 'exact-dense');
    const solved = solveByInterval(problem.spec, problem.inputShape, 1e-4);
    assert.ok(solved);
    // The reduced problem's exact σ: the same layer on one row of the map.
    const exact = exactSigma(convMatrix({ ...c, input: [1, 32] }, weight));
    assertContains(solved.lower, solved.upper, exact, '1x3');
    assert.ok(solved.upper <= exact * (1 + 1e-9));
  });
});

describe('symbol-sup: certified symbol sup and a windowed plane wave at the real size', () => {
  // Small maps keep the explicit SVD cheap; the tolerance is loose because σ(n) sits below the
  // symbol's sup by O(1/n²). The interval must still contain the exact σ.
  const cases: [string, ConvCase, number][] = [
    ['3x3 stride 1', { ...base, cIn: 2, cOut: 3, kernel: [3, 3], input: [16, 14] }, 0.15],
    ['3x3 stride 2', { ...base, cIn: 2, cOut: 3, kernel: [3, 3], input: [20, 18], strides: [2, 2] }, 0.25],
    ['3x3 dilation 2', { ...base, cIn: 2, cOut: 2, kernel: [3, 3], input: [18, 16], dilations: [2, 2], padsBegin: [2, 2], padsEnd: [2, 2] }, 0.3],
    ['depthwise 3x3', { ...base, cIn: 3, cOut: 3, kernel: [3, 3], input: [14, 14], group: 3 }, 0.15],
    ['1x1 (single frequency)', { ...base, cIn: 4, cOut: 3, kernel: [1, 1], input: [6, 5], padsBegin: [0, 0], padsEnd: [0, 0] }, 1e-9],
    ['5x5', { ...base, cIn: 1, cOut: 2, kernel: [5, 5], input: [18, 16], padsBegin: [2, 2], padsEnd: [2, 2] }, 0.3],
    ['1-D k3, long', { cIn: 2, cOut: 3, kernel: [3], input: [300], strides: [1], dilations: [1], padsBegin: [1], padsEnd: [1], group: 1 }, 1e-3],
  ];
  for (const [label, c, tol] of cases) {
    test(`${label}: contains the exact σ, width ≤ ${tol}·σ`, () => {
      const weight = randomValues(c.cOut * (c.cIn / c.group) * c.kernel.reduce((a, b) => a * b, 1), 17 + label.length);
      const reference = exactInterval(convSpecOf(c, weight), [1, c.cIn, ...c.input]);
      assert.ok(reference && reference.upper - reference.lower <= 1e-9 * reference.lower, `${label}: reference`);
      const interval = symbolSupInterval(convSpecOf(c, weight), c.input, tol);
      assert.ok(interval, `${label}: no interval`);
      assert.ok(interval.lower <= reference.upper, `${label}: lower ${interval.lower} above exact ${reference.upper}`);
      assert.ok(interval.upper >= reference.lower, `${label}: upper ${interval.upper} below exact ${reference.lower}`);
      assert.ok(interval.upper - interval.lower <= tol * interval.lower, `${label}: width`);
    });
  }

  test('ConvTranspose stride 2 through its adjoint conv', () => {
    const c: ConvTransposeCase = { cIn: 2, cOut: 2, kernel: [3, 3], input: [14, 13], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], outputPadding: [1, 1], group: 1 };
    const weight = randomValues(2 * 2 * 9, 23);
    const reference = exactInterval(transposeSpec(c, weight), [1, 2, 14, 13]);
    assert.ok(reference);
    const adjoint = adjointConv(transposeSpec(c, weight), [1, 2, 14, 13]);
    assert.ok(adjoint);
    const interval = symbolSupInterval(adjoint.spec, adjoint.spatial, 0.3);
    assert.ok(interval);
    assert.ok(interval.lower <= reference.upper && interval.upper >= reference.lower, 'convTranspose');
  });

  test('the upper bound holds at other sizes, and the SVD agrees on a small 1-D case', () => {
    const big: ConvCase = { ...base, cIn: 2, cOut: 2, kernel: [3, 3], input: [60, 60] };
    const weight = randomValues(2 * 2 * 9, 29);
    const interval = symbolSupInterval(convSpecOf(big, weight), big.input, 0.05);
    assert.ok(interval);
    const other = exactInterval(convSpecOf(big, weight), [1, 2, 16, 20]);
    assert.ok(other && interval.upper >= other.upper * (1 - 1e-9), 'sup below a real size');
    const line: ConvCase = { cIn: 2, cOut: 3, kernel: [3], input: [60], strides: [1], dilations: [1], padsBegin: [1], padsEnd: [1], group: 1 };
    const w1 = randomValues(18, 37);
    const exact = exactSigma(convMatrix(line, w1));
    const small = symbolSupInterval(convSpecOf(line, w1), line.input, 0.01);
    assert.ok(small);
    assertContains(small.lower, small.upper, exact, '1-D against the SVD');
  });

  test('declines (null) when the interval cannot close: a tiny map at a tight tolerance', () => {
    const c: ConvCase = { ...base, cIn: 2, cOut: 2, kernel: [3, 3], input: [8, 8] };
    assert.equal(symbolSupInterval(convSpecOf(c, randomValues(36, 31)), c.input, 1e-4), null);
  });
});

describe('symbol sup for larger kernels (5x5, 7x7): certified, and within tol of the true sup', () => {
  for (const k of [5, 7]) {
    test(`${k}x${k}: the sup's certified bound is above the brute-force sup by at most the tolerance, and above the exact σ²`, () => {
      const c: ConvCase = { ...base, cIn: 2, cOut: 3, kernel: [k, k], input: [k + 9, k + 7], padsBegin: [(k - 1) / 2, (k - 1) / 2], padsEnd: [(k - 1) / 2, (k - 1) / 2] };
      const weight = randomValues(3 * 2 * k * k, 100 + k);
      const spec = convSpecOf(c, weight);
      const symbol = convSymbol(spec, c.input);
      assert.ok(symbol);
      assert.deepEqual(symbol.degrees, [k - 1, k - 1]);
      const relTol = 1e-4;
      const sup = certifiedSymbolSup(symbol, { relTol, maxCells: 20_000 });
      assert.ok(sup, 'no certificate');
      const truth = bruteForceSup(weight, 3, k, k);
      assert.ok(sup.lambdaUpper >= truth * (1 - 1e-12), `${k}x${k}: certified ${sup.lambdaUpper} below the sup ${truth}`);
      assert.ok(sup.lambdaUpper <= truth * (1 + relTol) * (1 + 1e-9), `${k}x${k}: certified ${sup.lambdaUpper} wider than tol above ${truth}`);
      // Every real size lies below the sup: the exact σ of the explicit matrix.
      const exact = exactSigma(convMatrix(c, weight));
      assert.ok(Math.sqrt(sup.lambdaUpper) >= exact * (1 - SLACK), `${k}x${k}: sup below the exact σ ${exact}`);
      // And the interval of the whole path contains it.
      const interval = symbolSupInterval(spec, c.input, 0.5);
      assert.ok(interval, 'no interval');
      assertContains(interval.lower, interval.upper, exact, `${k}x${k} interval`);
      assert.ok(interval.upper - interval.lower <= 0.5 * interval.lower);
    });
  }

  test('at 1e-4 a 64→64 3x3 layer takes the symbol path from 128², 5x5 from 192², 7x7 from 256² (their gap to the sup is wider)', () => {
    for (const [k, below, from] of [[3, 64, 128], [5, 128, 192], [7, 192, 256]]) {
      const spec: LinearSpec = { type: 'conv', channelsLast: false, weight: { dims: [64, 64, k, k], data: randomValues(64 * 64 * k * k, k) }, strides: [1, 1], dilations: [1, 1], padsBegin: [(k - 1) / 2, (k - 1) / 2], padsEnd: [(k - 1) / 2, (k - 1) / 2], group: 1 };
      assert.equal(planLayer(spec, [1, 64, below, below], 1e-4).path, 'iterative', `${k}x${k} at ${below}`);
      assert.equal(planLayer(spec, [1, 64, from, from], 1e-4).path, 'symbol-sup', `${k}x${k} at ${from}`);
    }
  });
});

describe('warm start for the iterative solver (a windowed plane wave)', () => {
  test('its Rayleigh quotient on the explicit matrix lies between its certified lower bound and the exact σ², in both layouts', () => {
    const c: ConvCase = { ...base, cIn: 2, cOut: 3, kernel: [3, 3], input: [16, 14] };
    const weight = randomValues(3 * 2 * 9, 41);
    const spec = convSpecOf(c, weight);
    const matrix = convMatrix(c, weight);
    const exact = exactSigma(matrix);
    const first = windowWarmStart(spec, [1, 2, 16, 14], { input: [1, 2, 16, 14], output: [1, 3, 16, 14] });
    const last = windowWarmStart(spec, [1, 2, 16, 14], { input: [1, 16, 14, 2], output: [1, 16, 14, 3] });
    assert.ok(first && last);
    // The channels-last vector is the same vector, transposed.
    for (let ch = 0; ch < 2; ch++) for (let p = 0; p < 16 * 14; p++) assert.equal(last.start[p * 2 + ch], first.start[ch * 16 * 14 + p]);
    const x = Array.from(first.start, Number);
    const image = matrix.mmul(Matrix.columnVector(x));
    const quotient = image.norm() ** 2 / x.reduce((sum, v) => sum + v * v, 0);
    assert.ok(first.lower <= exact * (1 + SLACK), `lower ${first.lower} above exact ${exact}`);
    assert.ok(first.upper !== null && first.upper >= exact * (1 - SLACK), `upper ${first.upper} below exact ${exact}`);
    // The bound is the complex plane wave's quotient; the start is its real part, whose quotient
    // differs by the window's spectrum at 2ω, O(1/L) (3 % on this 16x14 map; a start in the wrong
    // layout or at the wrong frequency sits far lower, ~20 % of it).
    assert.ok(quotient >= first.lower ** 2 * 0.95, `quotient ${quotient} far below the bound ${first.lower ** 2}`);
    assert.ok(quotient <= exact ** 2 * (1 + 1e-9), `quotient ${quotient} above σ² ${exact ** 2}`);
    // A layout that reads neither way gets no start.
    assert.equal(windowWarmStart(spec, [1, 2, 16, 14], { input: [1, 16, 2, 14], output: [1, 3, 16, 14] }), null);
  });

  // Strides put the wave on the polyphase grid (one value per phase of each box position), groups
  // on the peak group's channels. A wave written to the wrong phase or group sits far below the bound.
  const strided: [string, ConvCase, 'input' | 'output'][] = [
    ['stride 2, input side (a ResNet-like stem: 2 → 12 channels)', { ...base, cIn: 2, cOut: 12, kernel: [5, 5], strides: [2, 2], padsBegin: [2, 2], padsEnd: [2, 2], input: [18, 16] }, 'input'],
    ['stride 2 on one axis, 3x3, pads 1/0', { ...base, cIn: 1, cOut: 4, kernel: [3, 3], strides: [2, 1], padsBegin: [1, 1], padsEnd: [0, 1], input: [20, 12] }, 'input'],
    ['stride 2, output side (4 → 3 channels)', { ...base, cIn: 4, cOut: 3, kernel: [3, 3], strides: [2, 2], input: [22, 20] }, 'output'],
    ['two groups, stride 1', { ...base, cIn: 4, cOut: 6, kernel: [3, 3], group: 2, input: [12, 12] }, 'input'],
    ['depthwise (3 groups of one channel), stride 2', { ...base, cIn: 3, cOut: 3, kernel: [3, 3], group: 3, strides: [2, 2], input: [20, 18] }, 'output'],
  ];
  for (const [label, c, side] of strided) {
    test(`${label}: the start's quotient lies between its certified lower bound² and σ², in both layouts`, () => {
      const weight = randomValues(c.cOut * (c.cIn / c.group) * c.kernel[0] * c.kernel[1], 47);
      const spec = convSpecOf(c, weight);
      const matrix = convMatrix(c, weight);
      const exact = exactSigma(matrix);
      const out = c.input.map((n, a) => Math.floor((n + c.padsBegin[a] + c.padsEnd[a] - c.kernel[a]) / c.strides[a]) + 1);
      const positions = c.input[0] * c.input[1];
      const outPositions = out[0] * out[1];
      const first = windowWarmStart(spec, [1, c.cIn, ...c.input], { input: [1, c.cIn, ...c.input], output: [1, c.cOut, ...out] });
      const last = windowWarmStart(spec, [1, c.cIn, ...c.input], { input: [1, ...c.input, c.cIn], output: [1, ...out, c.cOut] });
      assert.ok(first && last, 'no start');
      const [channels, count] = side === 'input' ? [c.cIn, positions] : [c.cOut, outPositions];
      assert.equal(first.start.length, channels * count);
      for (let ch = 0; ch < channels; ch++) for (let p = 0; p < count; p++) assert.equal(last.start[p * channels + ch], first.start[ch * count + p]);
      const v = Matrix.columnVector(Array.from(first.start, Number));
      const image = side === 'input' ? matrix.mmul(v) : matrix.transpose().mmul(v);
      const quotient = image.norm() ** 2 / v.norm() ** 2;
      assert.ok(first.lower <= exact * (1 + SLACK), `lower ${first.lower} above exact ${exact}`);
      assert.ok(quotient <= exact ** 2 * (1 + 1e-9), `quotient ${quotient} above σ² ${exact ** 2}`);
      // The real part's quotient is within O(1/L) of the complex wave's (the bound): on these small
      // maps within 15 %; a misplaced phase or group drops it to a fraction.
      assert.ok(quotient >= first.lower ** 2 * 0.85, `quotient ${quotient} far below the bound ${first.lower ** 2} (σ² ${exact ** 2})`);
    });
  }
});

describe('warm start on the output side (a conv that narrows the channels)', () => {
  test('the start lies on the outputs; its quotient for A Aᵀ lies between the certified lower bound² and σ², in both layouts', () => {
    const c: ConvCase = { ...base, cIn: 3, cOut: 2, kernel: [3, 3], input: [16, 14] };
    const weight = randomValues(2 * 3 * 9, 43);
    const spec = convSpecOf(c, weight);
    const matrix = convMatrix(c, weight);
    const exact = exactSigma(matrix);
    const first = windowWarmStart(spec, [1, 3, 16, 14], { input: [1, 3, 16, 14], output: [1, 2, 16, 14] });
    const last = windowWarmStart(spec, [1, 3, 16, 14], { input: [1, 16, 14, 3], output: [1, 16, 14, 2] });
    assert.ok(first && last);
    assert.equal(first.start.length, 2 * 16 * 14, 'a vector on the outputs');
    for (let ch = 0; ch < 2; ch++) for (let p = 0; p < 16 * 14; p++) assert.equal(last.start[p * 2 + ch], first.start[ch * 16 * 14 + p]);
    const y = Array.from(first.start, Number);
    const image = matrix.transpose().mmul(Matrix.columnVector(y));
    const quotient = image.norm() ** 2 / y.reduce((sum, v) => sum + v * v, 0);
    assert.ok(first.lower <= exact * (1 + SLACK), `lower ${first.lower} above exact ${exact}`);
    assert.ok(first.upper !== null && first.upper >= exact * (1 - SLACK), `upper ${first.upper} below exact ${exact}`);
    assert.ok(quotient >= first.lower ** 2 * 0.95, `quotient ${quotient} far below the bound ${first.lower ** 2}`);
    assert.ok(quotient <= exact ** 2 * (1 + 1e-9), `quotient ${quotient} above σ² ${exact ** 2}`);
    // The solver's Gram side must be the symbol's: an input-side solver vector gets no start.
    assert.equal(windowWarmStart(spec, [1, 3, 16, 14], { input: [1, 3, 16, 14], output: [1, 2, 30, 30] }), null);
  });
});

describe('certificates', () => {
  test('the Cholesky certificate proves t above λmax and refuses t below it', () => {
    // diag(3, 1) rotated: λmax = 3.
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const m = Float64Array.from([3 * c * c + s * s, 2 * c * s, 2 * c * s, 3 * s * s + c * c]);
    const bound = certifiedEigenvalueBound(m, 2, 3 + 1e-9);
    assert.ok(bound !== null && bound >= 3 && bound < 3 + 1e-8);
    assert.equal(certifiedEigenvalueBound(m, 2, 3 - 1e-6), null);
    // Hermitian [[2, i], [−i, 2]]: eigenvalues 1 and 3.
    const re = Float64Array.from([2, 0, 0, 2]);
    const im = Float64Array.from([0, 1, -1, 0]);
    assert.ok((certifiedHermitianBound(re, im, 2, 3 + 1e-9) ?? 0) >= 3);
    assert.equal(certifiedHermitianBound(re, im, 2, 2.999), null);
  });
});

describe('path choice', () => {
  test('a 64→64 3x3 layer at 512² takes the symbol path; at 224² ResNet-like sizes the iterative solver', () => {
    const weight = randomValues(64 * 64 * 9, 1);
    const spec: LinearSpec = { type: 'conv', channelsLast: false, weight: { dims: [64, 64, 3, 3], data: weight }, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
    assert.equal(planLayer(spec, [1, 64, 512, 512], 1e-4).path, 'symbol-sup');
    assert.equal(planLayer(spec, [1, 64, 56, 56], 1e-4).path, 'iterative');
  });
});
