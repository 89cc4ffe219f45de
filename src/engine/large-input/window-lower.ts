// A rigorous lower bound on σ of the zero-padded conv at its REAL size, from a windowed plane wave,
// computed without touching the full-size layer (docs/large-inputs.md, "The lower bound").
//
// Test vector, on the polyphase grid (bounds/conv.ts, step 2): X[a] = w(a)·v·e^{−iω·a}, w a
// separable sine window on a box of L_a positions per axis, placed where every phase of every
// position is a real input and every output it reaches is a kept output:
//   a_a ∈ [max(M_a − 1, ⌈pad_a / s_a⌉), min(Hout_a − 1, ⌊(H_a − s_a + pad_a) / s_a⌋)].
// There the layer acts as the infinite convolution, so (Parseval-free, by expanding the sums)
//   ||A X||² = Σ_δ R_w(δ) · vᴴ G_δ v e^{−iω·δ},   ||X||² = R_w(0) ||v||²,
// with R_w(δ) = Σ_a w(a) w(a + δ) the window's autocorrelation. On the output side of the symbol
// the same holds for Aᵀ (same norm) and Y[p] = w(p)·u·e^{+iω·p} on the outputs (see the doc). Hence
//   σ² ≥ vᴴ P_ρ(ω) v / ||v||²,   P_ρ(ω) = Σ_δ ρ(δ) G_δ e^{−iω·δ},  ρ = R_w / R_w(0).
// A is real, so the complex quotient bounds σ² too (the real or the imaginary part of X does at
// least as well). The best v for a given ω is the top eigenvector of P_ρ(ω); ω is tuned near the
// symbol's maximiser by a short pattern search.

import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { hermitianProduct, topHermitianEigenpair } from './dense-symmetric';
import { symbolAt, type ConvSymbol } from './conv-symbol';

export interface WindowLower {
  /** Certified: σ(real-size layer) ≥ sigma. */
  sigma: number;
  omega: number[];
  /** Window box per axis (polyphase positions). */
  window: number[];
  /** The top eigenvector of P_ρ(ω) at omega: the test vector's channel part. */
  vector: { re: Float64Array; im: Float64Array };
  evaluations: number;
}

/** Window lengths per axis on the polyphase grid, or null when no position qualifies. */
export function windowLengths(symbol: ConvSymbol): number[] | null {
  const g = symbol.geometry;
  const lengths: number[] = [];
  for (let a = 0; a < g.kernel.length; a++) {
    const s = g.strides[a];
    const reach = g.phaseTaps[a] - 1;
    const firstReal = Math.ceil(g.padsBegin[a] / s);
    const lastReal = Math.floor((g.inputSize[a] - s + g.padsBegin[a]) / s);
    // Input side: positions a whose outputs a − m_t are kept; output side: outputs p whose inputs
    // p + m_t are real (the adjoint's test vector).
    const low = symbol.side === 'input' ? Math.max(reach, firstReal) : Math.max(0, firstReal);
    const high = symbol.side === 'input' ? Math.min(g.outputSize[a] - 1, lastReal) : Math.min(g.outputSize[a] - 1, lastReal - reach);
    if (high < low) return null;
    lengths.push(high - low + 1);
  }
  return lengths;
}

/** ρ(δ) per shift of the symbol, and a bound on its rounding (absolute, every shift). */
function windowWeights(symbol: ConvSymbol, lengths: number[]): { weights: { zero: number; shifts: Float64Array }; error: number } {
  const autocorrelation = lengths.map((length) => {
    const w = Array.from({ length }, (_, p) => Math.sin((Math.PI * (p + 1)) / (length + 1)));
    return (shift: number): number => {
      const k = Math.abs(shift);
      let sum = 0;
      for (let p = 0; p + k < length; p++) sum += w[p] * w[p + k];
      return sum;
    };
  });
  const zero = autocorrelation.map((r) => r(0));
  const weights = new Float64Array(symbol.shifts.length);
  symbol.shifts.forEach((delta, s) => {
    let rho = 1;
    for (let a = 0; a < delta.length; a++) if (delta[a] !== 0) rho *= autocorrelation[a](delta[a]) / zero[a];
    weights[s] = rho;
  });
  // Each factor: two positive sums (γ_L relative each) and a division; the product over axes.
  const longest = Math.max(...lengths);
  const error = 3 * lengths.length * gamma(longest + 4, UNIT_ROUNDOFF_F64) * 1.01;
  return { weights: { zero: 1, shifts: weights }, error };
}

export function windowLowerBound(
  symbol: ConvSymbol,
  groupIndex: number,
  omegaStart: number[],
  vectorStart: { re: Float64Array; im: Float64Array },
  maxEvaluations = 24,
): WindowLower | null {
  const lengths = windowLengths(symbol);
  if (!lengths) return null;
  const { weights, error: weightError } = windowWeights(symbol, lengths);
  const n = symbol.n;
  const group = symbol.groups[groupIndex];
  let evaluations = 0;
  let vector: { re: Float64Array; im: Float64Array } = vectorStart;
  const buffer = { re: new Float64Array(n * n), im: new Float64Array(n * n) };
  const evaluate = (omega: number[]): number => {
    evaluations++;
    const matrix = symbolAt(symbol, groupIndex, omega, weights, buffer);
    // The quotient at the Ritz vector is what is certified; its shortfall from λmax is about
    // residual²/gap, ~1e-12 relative at a residual of 1e-6.
    const pair = topHermitianEigenpair(matrix.re, matrix.im, n, 1e-6, vector);
    vector = pair;
    return certifiedQuotient(matrix, n, pair, group.error, weightError * group.termsFrobenius);
  };
  let omega = [...omegaStart];
  let best = evaluate(omega);
  let bestVector = vector;
  // Pattern search: the window's smoothing moves the maximiser by about π/L.
  const active = symbol.degrees.map((d, a) => (d > 0 ? a : -1)).filter((a) => a >= 0);
  let steps = lengths.map((length) => Math.PI / (2 * (length + 1)));
  while (evaluations < maxEvaluations && active.length > 0) {
    let improved = false;
    for (const a of active) {
      for (const sign of [1, -1]) {
        if (evaluations >= maxEvaluations) break;
        const trial = [...omega];
        trial[a] += sign * steps[a];
        const value = evaluate(trial);
        if (value > best) {
          best = value;
          bestVector = vector;
          omega = trial;
          improved = true;
          break;
        }
      }
    }
    if (!improved) steps = steps.map((s) => s / 2);
    if (steps.every((s) => s < 1e-7)) break;
  }
  return { sigma: Math.sqrt(Math.max(0, best)) / SCALAR_SAFETY, omega, window: lengths, vector: { re: bestVector.re, im: bestVector.im }, evaluations };
}

/**
 * Certified lower bound on zᴴ P z / zᴴz for the exact P the float64 `matrix` approximates, with
 * ||matrix − P||₂ ≤ symbolError + weightError: the quadratic form's own rounding (complex products
 * √2·γ_2, sums of 2n terms) is at most √2·γ_{4n+8} |z|ᵀ|M||z| ≤ √2·γ_{4n+8} ||M||_F ||z||².
 */
function certifiedQuotient(matrix: { re: Float64Array; im: Float64Array }, n: number, z: { re: Float64Array; im: Float64Array }, symbolError: number, weightError: number): number {
  const yr = new Float64Array(n);
  const yi = new Float64Array(n);
  hermitianProduct(matrix.re, matrix.im, n, z.re, z.im, yr, yi);
  let numerator = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    numerator += z.re[i] * yr[i] + z.im[i] * yi[i];
    norm += z.re[i] * z.re[i] + z.im[i] * z.im[i];
  }
  let frobenius = 0;
  for (let i = 0; i < n * n; i++) frobenius += matrix.re[i] ** 2 + matrix.im[i] ** 2;
  frobenius = Math.sqrt(frobenius * (1 + gamma(2 * n * n + 1, UNIT_ROUNDOFF_F64)));
  const rounding = Math.SQRT2 * gamma(4 * n + 8, UNIT_ROUNDOFF_F64) * frobenius * norm * 1.01;
  const lower = (numerator - rounding - (symbolError + weightError) * norm * (1 + 1e-12)) / (norm * (1 + gamma(2 * n + 2, UNIT_ROUNDOFF_F64)));
  return lower / SCALAR_SAFETY;
}
