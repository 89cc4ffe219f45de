// The certified upper bounds against the exact σ1 of explicitly built layer matrices (ONNX
// semantics, naive float64 loops in reference.ts, SVD by ml-matrix): never below, and close.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { initBackend } from '../../../../src/engine/backend';
import { upperBound } from '../../../../src/engine/bounds';
import { gramSpectralBound } from '../../../../src/engine/bounds/gram';
import {
  avgPoolMatrix,
  convMatrix,
  convTransposeMatrix,
  exactSigma,
  randomValues,
  type ConvCase,
  type ConvTransposeCase,
  convSpecOf,
} from './reference';

/** SVD's own error is ~1e-15 relative: a bound may not be below the exact value by more. */
const SVD_SLACK = 1e-12;

function assertUpper(bound: number, exact: number, label: string): void {
  assert.ok(bound >= exact * (1 - SVD_SLACK), `${label}: bound ${bound} below exact σ1 ${exact}`);
}

function conv2d(cIn: number, cOut: number, k: number, size: number, rest: Partial<ConvCase> = {}): ConvCase {
  return { cIn, cOut, kernel: [k, k], input: [size, size], strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1, ...rest };
}

before(async () => {
  await initBackend();
});

describe('dense bounds', () => {
  const shapes: [number, number][] = [[40, 25], [12, 50], [64, 64], [200, 3], [1, 17]];
  for (const [rows, cols] of shapes) {
    test(`Gram iteration on a ${rows}x${cols} weight is above and within 0.1 % of σ1`, () => {
      const data = randomValues(rows * cols, rows * 1000 + cols);
      const exact = exactSigma(new Matrix(Array.from({ length: rows }, (_, i) => Array.from(data.subarray(i * cols, (i + 1) * cols)))));
      const bound = upperBound({ type: 'dense', weight: { dims: [rows, cols], data } }, [1, rows]);
      assert.ok(bound);
      assertUpper(bound.value, exact, `${rows}x${cols}`);
      assert.ok(bound.value <= exact * 1.001, `${rows}x${cols}: ${bound.value / exact}`);
    });
  }

  test('a Cholesky certificate proves a target just above the caller\'s estimate; a wrong estimate only loosens it', () => {
    const rows = 150;
    const cols = 90;
    const data = randomValues(rows * cols, 6);
    const exact = exactSigma(new Matrix(Array.from({ length: rows }, (_, i) => Array.from(data.subarray(i * cols, (i + 1) * cols)))));
    const spec = { type: 'dense' as const, weight: { dims: [rows, cols], data } };
    for (const lower of [undefined, exact, exact * 0.9, exact * 1.3]) {
      const bound = upperBound(spec, [1, rows], lower === undefined ? {} : { lowerBound: lower });
      assert.ok(bound);
      assertUpper(bound.value, exact, `L = ${lower}`);
      if (lower === undefined || lower === exact) {
        assert.match(bound.method, /Cholesky certificate/);
        assert.ok(bound.value <= exact * 1.001, `L = ${lower}: ratio ${bound.value / exact}`);
      }
    }
  });

  test('the row-block bound for over-budget layers stays above σ1', () => {
    const rows = 300;
    const cols = 40;
    const data = randomValues(rows * cols, 5);
    // A rank-one-dominated weight, as trained layers often are: the block bound is then tight.
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] += 3 * Math.sin(i + 1) * Math.cos(j);
    const exact = exactSigma(new Matrix(Array.from({ length: rows }, (_, i) => Array.from(data.subarray(i * cols, (i + 1) * cols)))));
    const bound = upperBound({ type: 'dense', weight: { dims: [rows, cols], data } }, [1, rows], { budgetFlops: 2e5 });
    assert.ok(bound);
    assert.match(bound.method, /row-block/);
    assertUpper(bound.value, exact, 'row-block');
    assert.ok(bound.value <= exact * 1.5, `row-block ratio ${bound.value / exact}`);
  });

  // 150x150: the 3-product form; 90x90: the joint product; 300x90: three float32 chunks summed in float64.
  for (const [rows, n] of [[150, 150], [90, 90], [300, 90]]) {
    test(`the float32 (tfjs) Gram path certifies a complex ${rows}x${n} matrix through its real representation`, () => {
      const re = Float64Array.from(randomValues(rows * n, 11 + rows));
      const im = Float64Array.from(randomValues(rows * n, 12 + n));
      const real = Matrix.zeros(2 * rows, 2 * n);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < n; j++) {
          real.set(i, j, re[i * n + j]);
          real.set(i + rows, j + n, re[i * n + j]);
          real.set(i, j + n, -im[i * n + j]);
          real.set(i + rows, j, im[i * n + j]);
        }
      }
      const exact = exactSigma(real);
      const result = gramSpectralBound({ rows, cols: n, re, im }, { engine: 'tfjs' });
      assert.equal(result.engine, 'tfjs');
      assertUpper(result.bound, exact, 'complex tfjs');
      assert.ok(result.bound <= exact * 1.002, `complex tfjs ratio ${result.bound / exact}`);
    });
  }

  // Real input: the Hermitian (here symmetric) path forms P = A·A in one chunked product per step.
  for (const [rows, n] of [[160, 130], [70, 200]]) {
    test(`the float32 (tfjs) Gram path certifies a real ${rows}x${n} matrix`, () => {
      const data = Float64Array.from(randomValues(rows * n, 21 + rows));
      const exact = exactSigma(new Matrix(Array.from({ length: rows }, (_, i) => Array.from(data.subarray(i * n, (i + 1) * n)))));
      const result = gramSpectralBound({ rows, cols: n, re: data, im: null }, { engine: 'tfjs', relTol: 0 });
      assert.equal(result.engine, 'tfjs');
      assertUpper(result.bound, exact, 'real tfjs');
      assert.ok(result.bound <= exact * 1.002, `real tfjs ratio ${result.bound / exact}`);
    });
  }

  // A dominant singular value makes the later Gram steps nearly rank-one: every step's bound must hold.
  test('every step of the complex tfjs Gram path stays above σ1 (steps 1–8)', () => {
    const rows = 140;
    const n = 140;
    const re = Float64Array.from(randomValues(rows * n, 31));
    const im = Float64Array.from(randomValues(rows * n, 32));
    for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) re[i * n + j] += 0.2 * Math.cos(i) * Math.sin(j + 1);
    const real = Matrix.zeros(2 * rows, 2 * n);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) {
        real.set(i, j, re[i * n + j]);
        real.set(i + rows, j + n, re[i * n + j]);
        real.set(i, j + n, -im[i * n + j]);
        real.set(i + rows, j, im[i * n + j]);
      }
    }
    const exact = exactSigma(real);
    let last = Infinity;
    for (let steps = 1; steps <= 8; steps++) {
      const result = gramSpectralBound({ rows, cols: n, re, im }, { engine: 'tfjs', maxSteps: steps, relTol: 0 });
      assertUpper(result.bound, exact, `complex tfjs, ${steps} steps`);
      assert.ok(result.bound <= last, `steps ${steps}: not monotone`);
      last = result.bound;
    }
    assert.ok(last <= exact * 1.002, `complex tfjs ratio after 8 steps ${last / exact}`);
  });
});

describe('convolution bounds (zero padding, any stride, dilation, groups)', () => {
  const cases: [string, ConvCase][] = [
    ['3x3 pad 1 on 5x5', conv2d(3, 4, 3, 5)],
    ['3x3 no padding on 7x7', conv2d(4, 3, 3, 7, { padsBegin: [0, 0], padsEnd: [0, 0] })],
    ['asymmetric pads (0,2)/(2,1) on 6x5', { ...conv2d(3, 3, 3, 6), input: [6, 5], padsBegin: [0, 2], padsEnd: [2, 1] }],
    ['stride 2 pad 1 on 9x9', conv2d(4, 5, 3, 9, { strides: [2, 2] })],
    ['stride 2 on an even 8x8 with SAME_UPPER pads (0,1)', conv2d(3, 4, 3, 8, { strides: [2, 2], padsBegin: [0, 0], padsEnd: [1, 1] })],
    ['7x7 stride 2 pad 3 on 12x12', conv2d(2, 4, 7, 12, { strides: [2, 2], padsBegin: [3, 3], padsEnd: [3, 3] })],
    ['stem-like 7x7 stride 2, 2 → 12 channels (input-side tap Gram)', conv2d(2, 12, 7, 12, { strides: [2, 2], padsBegin: [3, 3], padsEnd: [3, 3] })],
    ['stride 3 kernel 2 (strided patchify)', conv2d(3, 5, 2, 9, { strides: [3, 3], padsBegin: [0, 0], padsEnd: [0, 0] })],
    ['dilation 2 pad 2 on 7x7', conv2d(3, 3, 3, 7, { dilations: [2, 2], padsBegin: [2, 2], padsEnd: [2, 2] })],
    ['dilation 2 and stride 2 on 9x9', conv2d(2, 3, 3, 9, { dilations: [2, 2], strides: [2, 2], padsBegin: [1, 1], padsEnd: [2, 2] })],
    ['groups 2', conv2d(4, 6, 3, 6, { group: 2 })],
    ['depthwise, multiplier 2', conv2d(3, 6, 3, 6, { group: 3 })],
    ['depthwise stride 2', conv2d(4, 4, 3, 7, { group: 4, strides: [2, 2] })],
    ['1x1 conv', conv2d(6, 4, 1, 5, { padsBegin: [0, 0], padsEnd: [0, 0] })],
    ['1x1 stride 2', conv2d(5, 7, 1, 6, { strides: [2, 2], padsBegin: [0, 0], padsEnd: [0, 0] })],
    ['negative pad (crop)', conv2d(2, 3, 3, 7, { padsBegin: [-1, 1], padsEnd: [1, -2] })],
    ['rectangular 1x3 kernel', { ...conv2d(3, 3, 3, 6), kernel: [1, 3], padsBegin: [0, 1], padsEnd: [0, 1] }],
    ['1-D, stride 2, pad (2,1)', { cIn: 3, cOut: 4, kernel: [4], input: [15], strides: [2], dilations: [1], padsBegin: [2], padsEnd: [1], group: 1 }],
    ['1-D dilation 3', { cIn: 4, cOut: 2, kernel: [3], input: [11], strides: [1], dilations: [3], padsBegin: [3], padsEnd: [3], group: 1 }],
    ['3-D 2x2x2 stride 1', { cIn: 2, cOut: 2, kernel: [2, 2, 2], input: [4, 4, 3], strides: [1, 1, 1], dilations: [1, 1, 1], padsBegin: [1, 0, 1], padsEnd: [0, 1, 0], group: 1 }],
    ['3x3 pad 1 on 3x3 (more padding than input)', conv2d(3, 3, 3, 3)],
  ];
  for (const [index, [label, c]] of cases.entries()) {
    test(`${label}: bound ≥ exact σ1, Gram matrices per block and from tap products`, () => {
      const weight = randomValues(c.cOut * (c.cIn / c.group) * c.kernel.reduce((a, b) => a * b, 1), 300 + index);
      const exact = exactSigma(convMatrix(c, weight));
      for (const convGram of ['direct', 'taps'] as const) {
        const bound = upperBound(convSpecOf(c, weight), [1, c.cIn, ...c.input], { convGram });
        assert.ok(bound, label);
        assertUpper(bound.value, exact, `${label} (${convGram})`);
        // A sanity ceiling: the circular bound of these small layers is within a few tens of percent.
        assert.ok(bound.value <= exact * 1.4, `${label} (${convGram}): ratio ${bound.value / exact} (${bound.method})`);
        if (convGram === 'taps' && !/single-tap|empty/.test(bound.method)) assert.match(bound.method, /kernel-tap products/);
      }
    });
  }

  test('tap-product Gram matrices: same bound as per-block ones up to their rounding margin, on both sides', () => {
    // The smaller side: cIn·phases against cOut.
    // A stem-like strided conv with few input channels: input side, across phases (2·4 < 9).
    for (const [cIn, cOut, stride, side] of [[3, 5, 1, 'input'], [5, 3, 1, 'output'], [3, 5, 2, 'output'], [2, 9, 2, 'input']] as const) {
      const c = conv2d(cIn, cOut, 3, 8, { strides: [stride, stride] });
      const weight = randomValues(cOut * cIn * 9, 400 + cIn * 10 + stride);
      const exact = exactSigma(convMatrix(c, weight));
      const direct = upperBound(convSpecOf(c, weight), [1, cIn, 8, 8], { convGram: 'direct' });
      const taps = upperBound(convSpecOf(c, weight), [1, cIn, 8, 8], { convGram: 'taps' });
      assert.ok(direct && taps);
      assert.match(taps.method, new RegExp(`\\(${side} side\\)`));
      assertUpper(taps.value, exact, `${cIn}→${cOut} stride ${stride}`);
      // Both bound the same circular norm; they differ only by their certified rounding terms.
      assert.ok(Math.abs(taps.value / direct.value - 1) < 1e-3, `${cIn}→${cOut} s${stride}: ${taps.value} vs ${direct.value}`);
    }
  });

  test('channels-last input shapes give the same bound', () => {
    const c = conv2d(3, 4, 3, 6, { strides: [2, 2] });
    const weight = randomValues(4 * 3 * 9, 77);
    const first = upperBound(convSpecOf(c, weight), [1, 3, 6, 6]);
    const last = upperBound(convSpecOf(c, weight, true), [1, 6, 6, 3]);
    assert.ok(first && last);
    assert.equal(last.value, first.value);
  });

  test('the per-tap fallback (over budget) is still above σ1', () => {
    const c = conv2d(5, 6, 3, 6);
    const weight = randomValues(6 * 5 * 9, 78);
    const exact = exactSigma(convMatrix(c, weight));
    const bound = upperBound(convSpecOf(c, weight), [1, 5, 6, 6], { budgetFlops: 1000 });
    assert.ok(bound);
    assert.match(bound.method, /sum over kernel taps/);
    assertUpper(bound.value, exact, 'tap sum');
  });

  test('a caller lower value L only prunes: the bound stays ≥ exact σ1 and is max(L, the blocks)', () => {
    const c = conv2d(6, 6, 3, 7);
    const weight = randomValues(6 * 6 * 9, 81);
    const exact = exactSigma(convMatrix(c, weight));
    const plain = upperBound(convSpecOf(c, weight), [1, 6, 7, 7]);
    assert.ok(plain);
    for (const lower of [0, exact * 0.5, exact * (1 - 1e-6), exact, plain.value * 0.999, plain.value, NaN]) {
      const seeded = upperBound(convSpecOf(c, weight), [1, 6, 7, 7], { lowerBound: lower });
      assert.ok(seeded);
      assertUpper(seeded.value, exact, `L = ${lower}`);
      assert.ok(seeded.value <= Math.max(plain.value, Number.isFinite(lower) ? lower : 0) * (1 + 1e-9), `L = ${lower}: ${seeded.value} vs ${plain.value}`);
    }
    // A too-high L (a bad estimate) makes the result looser, never invalid.
    const high = upperBound(convSpecOf(c, weight), [1, 6, 7, 7], { lowerBound: exact * 2 });
    assert.ok(high);
    assert.equal(high.value, exact * 2);
    assert.match(high.method, /every block proven/);
  });

  test('64 channels (Cholesky certificates for the blocks below the max): ≥ exact σ1, stride 1 and 2, both Gram sources', () => {
    for (const [stride, size] of [[1, 4], [2, 6]] as const) {
      const c = { ...conv2d(64, 64, 3, size), strides: [stride, stride] };
      const weight = randomValues(64 * 64 * 9, 90 + stride);
      const exact = exactSigma(convMatrix(c, weight));
      for (const lower of [undefined, exact * 0.9]) {
        const [direct, taps] = (['direct', 'taps'] as const).map((convGram) => {
          const bound = upperBound(convSpecOf(c, weight), [1, 64, size, size], { convGram, ...(lower === undefined ? {} : { lowerBound: lower }) });
          assert.ok(bound);
          assert.match(bound.method, /proven ≤ the max by a Cholesky factorisation/);
          assertUpper(bound.value, exact, `stride ${stride}, ${convGram}, L = ${lower}`);
          return bound.value;
        });
        // The tap path's rounding term is larger but small: about 0.05 % of σ1 at 64 channels.
        assert.ok(taps <= direct * 1.003, `stride ${stride}: taps ${taps} vs direct ${direct}`);
      }
    }
  });

  test('a cancelled bound is still a valid bound', () => {
    const c = conv2d(4, 4, 3, 6);
    const weight = randomValues(4 * 4 * 9, 79);
    const exact = exactSigma(convMatrix(c, weight));
    const bound = upperBound(convSpecOf(c, weight), [1, 4, 6, 6], { shouldStop: () => true });
    assert.ok(bound);
    assertUpper(bound.value, exact, 'stopped');
  });
});

describe('tightness on 3x3 stride-1 layers (maps 7x7 and larger)', () => {
  const cases: [number, number][] = [[16, 7], [8, 7], [6, 8], [4, 10], [3, 14]];
  for (const [channels, size] of cases) {
    test(`${channels}→${channels} 3x3 pad 1 at ${size}x${size}: within 5 % of σ1`, (t) => {
      const c = conv2d(channels, channels, 3, size);
      const weight = randomValues(channels * channels * 9, 500 + size);
      const exact = exactSigma(convMatrix(c, weight));
      const bound = upperBound(convSpecOf(c, weight), [1, channels, size, size]);
      assert.ok(bound);
      assertUpper(bound.value, exact, 'tight');
      assert.ok(bound.value <= exact * 1.05, `ratio ${bound.value / exact} (${bound.method})`);
      t.diagnostic(`ratio ${(bound.value / exact).toFixed(4)}`);
    });
  }
});

describe('conv-transpose and average-pool bounds', () => {
  const transposeCases: [string, ConvTransposeCase][] = [
    ['stride 2, pad 1, output padding 1', { ...conv2d(4, 3, 3, 5, { strides: [2, 2] }), outputPadding: [1, 1] }],
    ['stride 2 kernel 4 pad 1 (DCGAN)', { ...conv2d(3, 2, 4, 4, { strides: [2, 2] }), outputPadding: [0, 0] }],
    ['groups 2, stride 1, no pads', { ...conv2d(4, 6, 3, 4, { group: 2, padsBegin: [0, 0], padsEnd: [0, 0] }), outputPadding: [0, 0] }],
    ['dilation 2, asymmetric pads', { ...conv2d(2, 3, 3, 5, { dilations: [2, 2], padsBegin: [0, 2], padsEnd: [1, 0] }), outputPadding: [0, 0] }],
  ];
  for (const [index, [label, c]] of transposeCases.entries()) {
    test(`ConvTranspose ${label}: bound ≥ exact σ1`, () => {
      const weight = randomValues(c.cIn * (c.cOut / c.group) * c.kernel[0] * c.kernel[1], 900 + index);
      const exact = exactSigma(convTransposeMatrix(c, weight));
      const bound = upperBound(
        {
          type: 'convTranspose',
          channelsLast: false,
          weight: { dims: [c.cIn, c.cOut / c.group, ...c.kernel], data: weight },
          strides: c.strides,
          dilations: c.dilations,
          padsBegin: c.padsBegin,
          padsEnd: c.padsEnd,
          outputPadding: c.outputPadding,
          group: c.group,
        },
        [1, c.cIn, ...c.input],
      );
      assert.ok(bound, label);
      assertUpper(bound.value, exact, label);
      assert.ok(bound.value <= exact * 1.4, `${label}: ratio ${bound.value / exact}`);
    });
  }

  const poolCases: [string, number[], number[], number[], number[], number[], boolean][] = [
    ['2x2 stride 2', [6, 6], [2, 2], [2, 2], [0, 0], [0, 0], false],
    ['3x3 stride 1 pad 1, count_include_pad', [6, 5], [3, 3], [1, 1], [1, 1], [1, 1], true],
    ['3x3 stride 1 pad 1, pads excluded', [6, 5], [3, 3], [1, 1], [1, 1], [1, 1], false],
    ['3x3 stride 2 pad 1', [7, 7], [3, 3], [2, 2], [1, 1], [1, 1], false],
    ['1-D 4 stride 3', [13], [4], [3], [0], [2], true],
  ];
  for (const [label, input, kernel, strides, padsBegin, padsEnd, countIncludePad] of poolCases) {
    test(`AveragePool ${label}: bound ≥ exact σ1 and within 0.1 %`, () => {
      const exact = exactSigma(avgPoolMatrix(input, kernel, strides, padsBegin, padsEnd, countIncludePad));
      const bound = upperBound({ type: 'avgPool', channelsLast: false, kernel, strides, padsBegin, padsEnd, countIncludePad }, [1, 2, ...input]);
      assert.ok(bound);
      assertUpper(bound.value, exact, label);
      assert.ok(bound.value <= exact * 1.001, `${label}: ratio ${bound.value / exact}`);
    });
  }
});
