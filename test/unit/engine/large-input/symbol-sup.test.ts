// The pieces of the certified symbol sup (docs/large-inputs.md §1–3) against direct computations:
// the packed symbol against K̂'ᴴK̂' (or K̂'K̂'ᴴ) formed from the taps, the packed Cholesky certificate
// against the exact top eigenvalue, and the cell search (diamond cells with two active axes, boxes
// otherwise) against a brute-force grid of the symbol, started from a peak estimate that is too low.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvSpec } from '../../../../src/model/ir';
import { convSymbol, symbolAt } from '../../../../src/engine/large-input/conv-symbol';
import { certifiedSymbolSup, locateSymbolPeak } from '../../../../src/engine/large-input/symbol-sup';
import { certifiedHermitianBound, certifiedPackedHermitianBound, topHermitianEigenpair } from '../../../../src/engine/large-input/dense-symmetric';
import { randomValues } from '../bounds/reference';
import { nativeLoadError, nativeRuntime, useNativeProducts } from '../../../../src/engine/native/onnxruntime';

function conv(cIn: number, cOut: number, kernel: number[], strides: number[], seed: number): ConvSpec {
  const taps = kernel.reduce((a, b) => a * b, 1);
  return {
    type: 'conv',
    channelsLast: false,
    weight: { dims: [cOut, cIn, ...kernel], data: randomValues(cOut * cIn * taps, seed) },
    strides,
    dilations: kernel.map(() => 1),
    padsBegin: kernel.map((k) => (k - 1) >> 1),
    padsEnd: kernel.map((k) => (k - 1) >> 1),
    group: 1,
  };
}

/** P(ω) from K̂'(ω) = Σ_t W_t e^{−iω·m_t} placed at input phase r_t, formed directly. */
function directSymbol(spec: ConvSpec, spatial: number[], omega: number[]): { re: Float64Array; im: Float64Array; n: number } {
  const symbol = convSymbol(spec, spatial);
  assert.ok(symbol);
  const { layout } = symbol;
  const [rows, cIn] = spec.weight.dims;
  const cols = cIn * layout.phases;
  const kRe = new Float64Array(rows * cols);
  const kIm = new Float64Array(rows * cols);
  for (let t = 0; t < layout.taps; t++) {
    let angle = 0;
    for (let a = 0; a < omega.length; a++) angle += omega[a] * layout.offsets[a][t];
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cIn; i++) {
        const w = spec.weight.data[(o * cIn + i) * layout.taps + t];
        kRe[o * cols + i * layout.phases + layout.phase[t]] += w * Math.cos(angle);
        kIm[o * cols + i * layout.phases + layout.phase[t]] -= w * Math.sin(angle);
      }
    }
  }
  const input = symbol.side === 'input';
  const n = input ? cols : rows;
  const inner = input ? rows : cols;
  // Input side P[a, b] = Σ_o conj(K[o, a])·K[o, b]; output side P[o, q] = Σ_a K[o, a]·conj(K[q, a]).
  const at = (outer: number, k: number) => (input ? k * cols + outer : outer * cols + k);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let sr = 0;
      let si = 0;
      for (let k = 0; k < inner; k++) {
        const [xr, xi] = input ? [kRe[at(a, k)], -kIm[at(a, k)]] : [kRe[at(a, k)], kIm[at(a, k)]];
        const [yr, yi] = input ? [kRe[at(b, k)], kIm[at(b, k)]] : [kRe[at(b, k)], -kIm[at(b, k)]];
        sr += xr * yr - xi * yi;
        si += xr * yi + xi * yr;
      }
      re[a * n + b] = sr;
      im[a * n + b] = si;
    }
  }
  return { re, im, n };
}

describe('the packed symbol', () => {
  const cases: [string, ConvSpec, number[]][] = [
    ['3x3 stride 1, input side', conv(2, 5, [3, 3], [1, 1], 11), [12, 12]],
    ['3x3 stride 2, output side', conv(3, 4, [3, 3], [2, 2], 12), [12, 10]],
    ['3x3 stride 2, input side', conv(1, 6, [3, 3], [2, 2], 13), [12, 12]],
    ['5x5 stride 1, output side', conv(4, 3, [5, 5], [1, 1], 14), [16, 16]],
    ['1-D k4 stride 2', conv(2, 7, [4], [2], 15), [20]],
    // Past NATIVE_SETUP_MIN_FLOPS: the tap products go to ONNX Runtime's float64 GEMM when it loads.
    ['3x3 stride 1, output side, 96→64 (native products)', conv(96, 64, [3, 3], [1, 1], 16), [9, 8]],
    ['3x3 stride 2, input side, 40→200 (native products)', conv(40, 200, [3, 3], [2, 2], 17), [10, 12]],
  ];
  for (const [label, spec, spatial] of cases) {
    test(`${label}: P(ω) equals the product formed from the taps`, () => {
      const symbol = convSymbol(spec, spatial);
      assert.ok(symbol);
      for (const omega of [spatial.map(() => 0.3), spatial.map((_, a) => 2.1 - a), spatial.map((_, a) => -4.4 + 3 * a)]) {
        const packed = symbolAt(symbol, 0, omega);
        const direct = directSymbol(spec, spatial, omega);
        assert.equal(symbol.n, direct.n);
        let scale = 0;
        for (let i = 0; i < direct.n; i++) scale = Math.max(scale, direct.re[i * direct.n + i]);
        for (let e = 0; e < direct.n * direct.n; e++) {
          assert.ok(Math.abs(packed.re[e] - direct.re[e]) <= 1e-12 * scale, `${label} re[${e}] at ${omega}: ${packed.re[e]} vs ${direct.re[e]}`);
          assert.ok(Math.abs(packed.im[e] - direct.im[e]) <= 1e-12 * scale, `${label} im[${e}] at ${omega}: ${packed.im[e]} vs ${direct.im[e]}`);
        }
      }
    });
  }
});

test('the native float64 tap products give the packed symbol of the JS loops, to rounding', () => {
  assert.ok(nativeRuntime(), `onnxruntime-node did not load: ${nativeLoadError()}`);
  for (const [spec, spatial] of [
    [conv(96, 64, [3, 3], [1, 1], 16), [9, 8]],
    [conv(40, 200, [3, 3], [2, 2], 17), [10, 12]],
  ] as [ConvSpec, number[]][]) {
    const native = convSymbol(spec, spatial);
    const previous = useNativeProducts(false);
    const js = convSymbol(spec, spatial);
    useNativeProducts(previous);
    assert.ok(native && js);
    assert.ok(native.setupOnNative && !js.setupOnNative);
    const [a, b] = [native.groups[0], js.groups[0]];
    assert.equal(a.packed.length, b.packed.length);
    // Both are within `error` of the exact coefficients' symbol; entrywise they agree far closer (often
    // exactly: float32 weights have exact float64 products, and sums of a few hundred rarely round).
    let worst = 0;
    for (let e = 0; e < a.packed.length; e++) worst = Math.max(worst, Math.abs(a.packed[e] - b.packed[e]));
    assert.ok(worst <= 1e-13 * a.absoluteScale, `entries differ by ${worst} (scale ${a.absoluteScale})`);
  }
});

test('the Lanczos estimate of λmax on a 160 × 160 block: the same on ONNX Runtime as in the JS loops', () => {
  const spec = conv(40, 200, [3, 3], [2, 2], 17);
  const symbol = convSymbol(spec, [10, 12]);
  assert.ok(symbol && symbol.n === 160);
  const omega = [0.7, -1.9];
  const native = symbolAt(symbol, 0, omega);
  const fromNative = topHermitianEigenpair(native.re, native.im, symbol.n, 1e-12);
  const previous = useNativeProducts(false);
  const js = symbolAt(symbol, 0, omega);
  const fromJs = topHermitianEigenpair(js.re, js.im, symbol.n, 1e-12);
  // Exact: the largest eigenvalue of the directly formed block (n steps, full reorthogonalisation, JS).
  const direct = directSymbol(spec, [10, 12], omega);
  const exact = topHermitianEigenpair(direct.re, direct.im, direct.n, 0, undefined, direct.n).value;
  useNativeProducts(previous);
  for (const [label, value] of [['native', fromNative.value], ['JS', fromJs.value]] as const) {
    assert.ok(Math.abs(value - exact) <= 1e-10 * exact, `${label}: ${value} against ${exact}`);
  }
});

describe('the packed Cholesky certificate', () => {
  test('proves λmax ≤ t just above the exact top eigenvalue and refuses t just below it (odd and even n)', () => {
    for (const n of [37, 64]) {
      const a = randomValues(2 * n * n, n);
      const re = new Float64Array(n * n);
      const im = new Float64Array(n * n);
      // P = AᴴA, A = X + iY.
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let sr = 0;
          let si = 0;
          for (let k = 0; k < n; k++) {
            const [xr, xi] = [a[2 * (k * n + i)], -a[2 * (k * n + i) + 1]];
            const [yr, yi] = [a[2 * (k * n + j)], a[2 * (k * n + j) + 1]];
            sr += xr * yr - xi * yi;
            si += xr * yi + xi * yr;
          }
          re[i * n + j] = sr;
          im[i * n + j] = si;
        }
      }
      // Mirror so that the stored matrix is exactly Hermitian.
      for (let i = 0; i < n; i++) {
        im[i * n + i] = 0;
        for (let j = 0; j < i; j++) {
          re[j * n + i] = re[i * n + j];
          im[j * n + i] = -im[i * n + j];
        }
      }
      // n Lanczos steps with full reorthogonalisation: λmax to rounding.
      const lambda = topHermitianEigenpair(re, im, n, 0).value;
      const lowerRe = new Float64Array((n * (n + 1)) / 2);
      const lowerIm = new Float64Array((n * (n + 1)) / 2);
      for (let i = 0, e = 0; i < n; i++) for (let j = 0; j <= i; j++, e++) [lowerRe[e], lowerIm[e]] = [re[i * n + j], im[i * n + j]];
      const above = certifiedPackedHermitianBound(lowerRe, lowerIm, n, lambda * (1 + 1e-9));
      assert.ok(above !== null && above >= lambda && above <= lambda * (1 + 1e-8), `n = ${n}: ${above} for λmax ${lambda}`);
      assert.equal(certifiedHermitianBound(re, im, n, lambda * (1 + 1e-9)), above);
      assert.equal(certifiedPackedHermitianBound(lowerRe, lowerIm, n, lambda * (1 - 1e-7)), null);
    }
  });
});

describe('the cell search', () => {
  const cases: [string, ConvSpec, number[], number][] = [
    ['3x3 (two active axes: diamond cells)', conv(3, 5, [3, 3], [1, 1], 21), [32, 32], 120],
    ['5x3 (two active axes, unequal degrees)', conv(2, 4, [5, 3], [1, 1], 22), [32, 32], 120],
    ['1x3 (one active axis)', conv(3, 2, [1, 3], [1, 1], 23), [32, 32], 400],
    ['3x3x3 (three active axes: boxes)', conv(2, 3, [3, 3, 3], [1, 1, 1], 24), [12, 12, 12], 28],
  ];
  for (const [label, spec, spatial, samples] of cases) {
    test(`${label}: the certified sup is above a brute-force grid of λmax, even from a peak estimate 3% low`, () => {
      const symbol = convSymbol(spec, spatial);
      assert.ok(symbol);
      const rank = spatial.length;
      let gridMax = 0;
      const omega = new Array<number>(rank).fill(0);
      const total = samples ** rank;
      for (let flat = 0; flat < total; flat++) {
        let rest = flat;
        for (let a = 0; a < rank; a++) {
          omega[a] = symbol.degrees[a] > 0 ? ((rest % samples) * 2 * Math.PI) / samples : 0;
          rest = Math.floor(rest / samples);
        }
        if (omega.some((w, a) => symbol.degrees[a] === 0 && w !== 0)) continue;
        const p = symbolAt(symbol, 0, omega);
        gridMax = Math.max(gridMax, topHermitianEigenpair(p.re, p.im, symbol.n, 0).value);
      }
      const peak = locateSymbolPeak(symbol);
      assert.ok(peak);
      // Too low: only cells near the true peak can raise U, so they must exist.
      const low = { ...peak, lambda: 0.97 * peak.lambda };
      const sup = certifiedSymbolSup(symbol, { relTol: 1e-4, maxCells: 200_000 }, low);
      assert.ok(sup, `${label}: no certificate`);
      assert.ok(sup.lambdaUpper >= gridMax, `${label}: certified ${sup.lambdaUpper} below the grid's ${gridMax}`);
      assert.ok(sup.lambdaUpper <= gridMax * 1.01, `${label}: certified ${sup.lambdaUpper} far above the grid's ${gridMax}`);
      assert.ok(sup.lambdaBest > low.lambda, `${label}: U never rose from the low start`);
    });
  }
});
