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
//
// Then a Galerkin step (docs/large-inputs.md §12): X[a] = Σ_j φ_j(a)·v_j·e^{−iω·a} over the sine
// window φ_0 and, per active axis, φ_a = the window with that axis's sine replaced by a cosine (its
// derivative's shape). The same expansion gives ||A X||² = Σ_{j,k} v_jᴴ [Σ_δ C_jk(δ) G_δ e^{−iω·δ}] v_k
// with C_jk(δ) = Σ_a φ_j(a) φ_k(a + δ), and ||X||² = Σ_{j,k} C_jk(0) v_jᴴv_k (the profiles are
// orthogonal, so C(0) ≈ I after normalising). The top eigenvector of that (J·n)² Hermitian matrix
// lets the channel part vary across the window's spectrum, which the single v cannot: measured on a
// random 64→64 3x3 layer, the gap to the exact σ(n) falls from 1.7e-4 to 9e-6 at 128².

import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { hermitianProduct, topHermitianEigenpair } from './dense-symmetric';
import { symbolAt, type ConvSymbol } from './conv-symbol';

export interface WindowComponent {
  /** The axis whose profile is the cosine, or −1: the sine window on every axis. */
  cosineAxis: number;
  /** This profile's channel vector, for the profile normalised to unit norm. */
  re: Float64Array;
  im: Float64Array;
}

export interface WindowLower {
  /** Certified: σ(real-size layer) ≥ sigma. */
  sigma: number;
  omega: number[];
  /** Window box per axis (polyphase positions). */
  window: number[];
  /** The top eigenvector of P_ρ(ω) at omega: the single-profile test vector's channel part. */
  vector: { re: Float64Array; im: Float64Array };
  /** The test vector whose quotient is `sigma`: Σ_j profile_j(a)·component_j·e^{−iω·a}. */
  components: WindowComponent[];
  evaluations: number;
}

/** The Galerkin step's matrix side J·n is capped here (memory 16·(J·n)² bytes, a few Lanczos runs). */
const GALERKIN_MAX_SIDE = 2048;
/** Pattern-search evaluations of the Galerkin quotient around the single-profile optimum. */
const GALERKIN_EVALUATIONS = 5;

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
  return { weights: { zero: 1, shifts: weights }, error: weightsRounding(lengths) };
}

/**
 * Relative rounding of a window weight: per axis a correlation (sums of at most L positive-weighted
 * products, against the norms) and a division; then the product over axes.
 */
function weightsRounding(lengths: number[]): number {
  return 3 * lengths.length * gamma(Math.max(...lengths) + 4, UNIT_ROUNDOFF_F64) * 1.01;
}

export function windowLowerBound(
  symbol: ConvSymbol,
  groupIndex: number,
  omegaStart: number[],
  vectorStart: { re: Float64Array; im: Float64Array },
  maxEvaluations = 24,
  galerkin = true,
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
  const single: WindowLower = {
    sigma: Math.sqrt(Math.max(0, best)) / SCALAR_SAFETY,
    omega,
    window: lengths,
    vector: { re: bestVector.re, im: bestVector.im },
    components: [{ cosineAxis: -1, re: bestVector.re, im: bestVector.im }],
    evaluations,
  };
  return (galerkin && galerkinRefinement(symbol, groupIndex, single, lengths)) || single;
}

/** Per-axis profiles on L positions: 0 the sine window, 1 the cosine (both unnormalised). */
function axisProfiles(length: number): Float64Array[] {
  return [Math.sin, Math.cos].map((f) => Float64Array.from({ length }, (_, p) => f((Math.PI * (p + 1)) / (length + 1))));
}

/** The profiles scaled to unit norm, as the components' channel vectors expect them. */
export function normalisedProfiles(length: number): Float64Array[] {
  return axisProfiles(length).map((f) => {
    const norm = Math.sqrt(f.reduce((sum, v) => sum + v * v, 0));
    return f.map((v) => v / norm);
  });
}

/**
 * The window-and-derivatives Galerkin bound (see the header) around `single`'s ω, or null when it
 * does not apply (no active axis, too large) or does not improve on `single`.
 */
function galerkinRefinement(symbol: ConvSymbol, groupIndex: number, single: WindowLower, lengths: number[]): WindowLower | null {
  const rank = lengths.length;
  const n = symbol.n;
  // A cosine profile on an axis the symbol does not vary along (degree 0) adds nothing.
  const active = symbol.degrees.map((d, a) => (d > 0 && lengths[a] >= 2 ? a : -1)).filter((a) => a >= 0);
  const modes = [-1, ...active];
  const J = modes.length;
  const size = J * n;
  if (J === 1 || size > GALERKIN_MAX_SIDE) return null;
  // Correlations per axis: corr[a][f][g](δ) = Σ_p f(p) g(p + δ) / (||f|| ||g||), δ ∈ [−D_a, D_a].
  const reach = lengths.map((_, a) => Math.max(0, ...symbol.shifts.map((d) => Math.abs(d[a]))));
  const correlation = lengths.map((length, a) => {
    const profiles = axisProfiles(length);
    const norms = profiles.map((f) => Math.sqrt(f.reduce((sum, v) => sum + v * v, 0)));
    const d = reach[a];
    return profiles.map((f, fi) =>
      profiles.map((g, gi) =>
        Float64Array.from({ length: 2 * d + 1 }, (_, k) => {
          const delta = k - d;
          let sum = 0;
          for (let p = Math.max(0, -delta); p < Math.min(length, length - delta); p++) sum += f[p] * g[p + delta];
          return sum / (norms[fi] * norms[gi]);
        }),
      ),
    );
  });
  const profileOf = (mode: number, a: number): number => (mode === a ? 1 : 0);
  const weight = (j: number, k: number, delta: ArrayLike<number>): number => {
    let w = 1;
    for (let a = 0; a < rank; a++) w *= correlation[a][profileOf(modes[j], a)][profileOf(modes[k], a)][delta[a] + reach[a]];
    return w;
  };
  // Rounding of the weights: per axis a sum of L products against the product of the norms
  // (Cauchy–Schwarz), two square roots and a division; then the product over axes.
  const weightError = weightsRounding(lengths);
  // The Gram matrix C(0) ⊗ I: its distance from I, as computed plus the weights' rounding.
  let gramExcess = 0;
  for (let j = 0; j < J; j++) for (let k = 0; k < J; k++) gramExcess = Math.max(gramExcess, Math.abs(weight(j, k, new Int32Array(rank)) - (j === k ? 1 : 0)) + weightError);
  gramExcess *= J;
  const group = symbol.groups[groupIndex];
  // Each block sums the same coefficients as P(ω) with weights |ρs| + |ρa| ≤ 1 (and two more
  // roundings): twice the symbol's own bound covers it; the J × J blocks' norms add up to J× theirs.
  const matrixError = J * (2 * group.error + 2 * weightError * group.termsFrobenius);
  const matrix = { re: new Float64Array(size * size), im: new Float64Array(size * size) };
  let evaluations = 0;
  let start: { re: Float64Array; im: Float64Array } = { re: new Float64Array(size), im: new Float64Array(size) };
  start.re.set(single.vector.re);
  start.im.set(single.vector.im);
  const evaluate = (omega: number[]): { value: number; vector: { re: Float64Array; im: Float64Array } } => {
    evaluations++;
    galerkinMatrix(symbol, groupIndex, omega, modes, weight, matrix);
    const pair = topHermitianEigenpair(matrix.re, matrix.im, size, 1e-6, start);
    start = pair;
    const value = certifiedQuotient(matrix, size, pair, matrixError, 0) / (1 + gramExcess);
    return { value, vector: pair };
  };
  let omega = [...single.omega];
  let best = evaluate(omega);
  let step = Math.PI / (8 * (Math.max(...lengths) + 1));
  while (evaluations < GALERKIN_EVALUATIONS) {
    let improved = false;
    for (const a of active) {
      for (const sign of [1, -1]) {
        if (improved || evaluations >= GALERKIN_EVALUATIONS) continue;
        const trial = [...omega];
        trial[a] += sign * step;
        const result = evaluate(trial);
        if (result.value > best.value) {
          best = result;
          omega = trial;
          improved = true;
        }
      }
    }
    if (!improved) step /= 2;
  }
  const sigma = Math.sqrt(Math.max(0, best.value)) / SCALAR_SAFETY;
  if (!(sigma > single.sigma)) return null;
  const components = modes.map((mode, j) => ({ cosineAxis: mode, re: best.vector.re.slice(j * n, (j + 1) * n), im: best.vector.im.slice(j * n, (j + 1) * n) }));
  return { ...single, sigma, omega, components, evaluations: single.evaluations + evaluations };
}

/**
 * The Galerkin matrix at ω into `out` (row-major, size J·n): block (j, k) is
 * Σ_δ C_jk(δ) G_δ e^{−iω·δ}. Per stored half shift δ (sym = G_δ + G_δᵀ, anti = G_δᵀ − G_δ) the pair
 * ±δ gives ρs·(cos·sym + i sin·anti) + ρa·(cos·anti + i sin·sym) with ρs = (C(δ) + C(−δ))/2 and
 * ρa = (C(−δ) − C(δ))/2; entry (q, r) of the block, q < r, uses symᵀ = sym and antiᵀ = −anti.
 */
function galerkinMatrix(
  symbol: ConvSymbol,
  groupIndex: number,
  omega: number[],
  modes: number[],
  weight: (j: number, k: number, delta: ArrayLike<number>) => number,
  out: { re: Float64Array; im: Float64Array },
): void {
  const { n, shifts } = symbol;
  const J = modes.length;
  const size = J * n;
  const packed = symbol.groups[groupIndex].packed;
  const shiftCount = shifts.length;
  const width = 1 + 2 * shiftCount;
  const cosines = new Float64Array(shiftCount);
  const sines = new Float64Array(shiftCount);
  for (let s = 0; s < shiftCount; s++) {
    let angle = 0;
    for (let a = 0; a < omega.length; a++) angle += omega[a] * shifts[s][a];
    cosines[s] = Math.cos(angle);
    sines[s] = Math.sin(angle);
  }
  const zero = new Int32Array(omega.length);
  const symCos = new Float64Array(shiftCount);
  const antiSin = new Float64Array(shiftCount);
  const antiCos = new Float64Array(shiftCount);
  const symSin = new Float64Array(shiftCount);
  for (let j = 0; j < J; j++) {
    for (let k = j; k < J; k++) {
      const rho0 = weight(j, k, zero);
      for (let s = 0; s < shiftCount; s++) {
        const plus = weight(j, k, shifts[s]);
        const minus = weight(j, k, shifts[s].map((v) => -v));
        const rhoS = (plus + minus) / 2;
        const rhoA = (minus - plus) / 2;
        symCos[s] = rhoS * cosines[s];
        antiSin[s] = rhoS * sines[s];
        antiCos[s] = rhoA * cosines[s];
        symSin[s] = rhoA * sines[s];
      }
      for (let r = 0, e = 0; r < n; r++) {
        for (let q = 0; q <= r; q++, e++) {
          let p = e * width;
          const g0 = rho0 * packed[p++];
          let u1 = 0;
          let u2 = 0;
          let u3 = 0;
          let u4 = 0;
          for (let s = 0; s < shiftCount; s++) {
            const sym = packed[p++];
            const anti = packed[p++];
            u1 += symCos[s] * sym;
            u2 += antiSin[s] * anti;
            u3 += antiCos[s] * anti;
            u4 += symSin[s] * sym;
          }
          // Block (j, k): entry (r, q) and (q, r); the mirrored block (k, j) is its conjugate transpose.
          const rowR = (j * n + r) * size + k * n;
          const rowQ = (j * n + q) * size + k * n;
          out.re[rowR + q] = g0 + u1 + u3;
          out.im[rowR + q] = u2 + u4;
          out.re[rowQ + r] = g0 + u1 - u3;
          out.im[rowQ + r] = u4 - u2;
          const mirrorQ = (k * n + q) * size + j * n;
          const mirrorR = (k * n + r) * size + j * n;
          out.re[mirrorQ + r] = g0 + u1 + u3;
          out.im[mirrorQ + r] = -(u2 + u4);
          out.re[mirrorR + q] = g0 + u1 - u3;
          out.im[mirrorR + q] = u2 - u4;
        }
      }
    }
  }
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

/** The test vector, for a row's note. */
export function describeWindow(lower: WindowLower): string {
  const shape = lower.window.join('x');
  return lower.components.length > 1 ? `a ${shape} sine-windowed plane wave with ${lower.components.length - 1} derivative profile${lower.components.length > 2 ? 's' : ''} (Galerkin)` : `a ${shape} sine-windowed plane wave`;
}
