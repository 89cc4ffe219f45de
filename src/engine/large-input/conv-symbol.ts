// The symbol of a zero-padded convolution on the infinite grid: per group, the Hermitian matrix
// function P(ω) = Σ_δ G_δ e^{−iω·δ} whose largest eigenvalue is σ1(K̂'(ω))², K̂' the polyphase
// symbol (bounds/conv.ts, step 2). See docs/large-inputs.md for the derivation.
//
// With W_t the rows × cin matrix of kernel tap t, its input phase r_t and polyphase offsets m_t:
// - input side (n = cin·phases): P = K̂'ᴴK̂' = Σ_{t,u} W_tᵀW_u e^{−iω·(m_u − m_t)}, the product
//   placed at block (r_t, r_u);
// - output side (n = rows): P = K̂'K̂'ᴴ = Σ_{t,u same phase} W_tW_uᵀ e^{−iω·(m_t − m_u)}.
// The smaller side is used. G_δ is real, G_{−δ} = G_δᵀ, and P has degree d_a = M_a − 1 in ω_a.
//
// Rounding: G_δ is formed in float64 from float32 weights, each entry a sum of at most T²·inner
// products; P(ω) adds the G_δ times cos/sin (accurate to 2^-40 for |ω·δ| ≤ 2^10, V8's fdlibm plus
// the argument's rounding) in float64. Entrywise |ΔP| ≤ ε Σ_δ |G|_δ ≤ ε Z with Z = BᵀB (input side)
// or BBᵀ (output side), B = Σ_t |K'_t|, so ||ΔP||₂ ≤ ||ΔP||_F ≤ √2 ε ||B||_F² (√2: real and
// imaginary parts), ε = γ_{T²·inner + 2S + 4} + 2^-39, S the number of shifts. The window weights of
// the lower bound (|ρ| ≤ 1) leave this unchanged up to their own rounding, added by the caller.

import type { ConvSpec } from '../../model/ir';
import { convGeometry, tapLayout, type ConvGeometry, type TapLayout } from '../bounds/conv';
import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { nativeMatMul64, nativeRuntime } from '../native/onnxruntime';

export interface SymbolGroup {
  /**
   * The lower triangle of P's coefficients, entry-major: for entry (i, j), i ≥ j, at position
   * e = i(i+1)/2 + j, the 1 + 2H values [G_0, sym_0, anti_0, …, sym_{H−1}, anti_{H−1}] at
   * packed[e·(1 + 2H) …], where per half shift δ sym = G_δ + G_δᵀ and anti = G_δᵀ − G_δ, so
   * P = G_0 + Σ cos(ω·δ)·sym + i·sin(ω·δ)·anti. One pass over this array forms P(ω).
   */
  packed: Float64Array;
  /** ||G_0||_F + Σ_δ (||sym_δ||_F + ||anti_δ||_F) (for the window weights' rounding). */
  termsFrobenius: number;
  /** Certified bound on ||P̃(ω) − P(ω)||₂ for every ω (all rounding of this module). */
  error: number;
  /** ||B||_F², the scale of every rounding term (see the header). */
  absoluteScale: number;
}

export interface ConvSymbol {
  geometry: ConvGeometry;
  layout: TapLayout;
  side: 'input' | 'output';
  /** P is n × n complex; its real embedding 2n × 2n. */
  n: number;
  rows: number;
  cInPerGroup: number;
  /** One representative δ per pair ±δ, δ ≠ 0. */
  shifts: Int32Array[];
  /** Degree of P in each ω_a: M_a − 1. */
  degrees: number[];
  groups: SymbolGroup[];
  /** Float operations spent forming the G_δ (for the cost model). */
  setupFlops: number;
  /** Whether they were formed by ONNX Runtime's float64 GEMM (else the JS loops). */
  setupOnNative: boolean;
}

/** Float operations to form the symbol, without forming it (the cost model's input). */
export function symbolSetupFlops(spec: ConvSpec): number {
  const [cOut, cInPerGroup, ...kernel] = spec.weight.dims;
  const group = spec.group || 1;
  const rows = cOut / group;
  const taps = kernel.reduce((a, b) => a * b, 1);
  const phases = kernel.reduce((a, _, i) => a * (spec.strides[i] ?? 1), 1);
  const inputSide = cInPerGroup * phases <= rows;
  // Input side: every tap pair, cin² outputs of inner length rows; output side: same-phase pairs
  // only. G_{−δ} = G_δᵀ is not formed, so about half the pairs.
  const pairs = ((inputSide ? taps * taps : (taps * taps) / phases) + taps) / 2;
  return 2 * group * pairs * (inputSide ? cInPerGroup * cInPerGroup * rows : rows * rows * cInPerGroup);
}

/** The JS loops' blocked dot products (measured 1.4–1.9 GFLOP/s). */
const JS_SETUP_FLOPS = 1.5e9;
/** ONNX Runtime's float64 GEMM with the copies around it (measured 10–12 GFLOP/s on 256–512 channels). */
const NATIVE_SETUP_FLOPS = 8e9;

/** Expected seconds to form the symbol on one quiet core, on whichever path convSymbol will take. */
export function symbolSetupSeconds(spec: ConvSpec): number {
  const flops = symbolSetupFlops(spec);
  return flops / (setupRunsNative(flops / (spec.group || 1)) ? NATIVE_SETUP_FLOPS : JS_SETUP_FLOPS);
}

/** @param spatial the real input's spatial sizes (ONNX Conv semantics, zero padding). */
export function convSymbol(spec: ConvSpec, spatial: number[]): ConvSymbol | null {
  const [cOut, cInPerGroup, ...kernel] = spec.weight.dims;
  const group = spec.group || 1;
  if (cOut % group !== 0 || kernel.length !== spatial.length) return null;
  const geometry = convGeometry(spatial, kernel, spec.strides, spec.dilations, spec.padsBegin, spec.padsEnd);
  if (!geometry) return null;
  const layout = tapLayout(geometry);
  const rank = kernel.length;
  const rows = cOut / group;
  const phases = layout.phases;
  const side = cInPerGroup * phases <= rows ? 'input' : 'output';
  const n = side === 'input' ? cInPerGroup * phases : rows;
  const taps = layout.taps;
  const shiftIndex = new Map<string, number>();
  const shifts: Int32Array[] = [];
  const pairShift: number[] = [];
  const pairT: number[] = [];
  const pairU: number[] = [];
  // Only the pairs whose δ is zero or lexicographically positive: G_{−δ} = G_δᵀ (swap t and u:
  // the same products, summed over the same index) is read off G_δ, at half the setup cost.
  for (let t = 0; t < taps; t++) {
    for (let u = 0; u < taps; u++) {
      if (side === 'output' && layout.phase[t] !== layout.phase[u]) continue;
      const delta = Int32Array.from({ length: rank }, (_, a) => (side === 'input' ? layout.offsets[a][u] - layout.offsets[a][t] : layout.offsets[a][t] - layout.offsets[a][u]));
      const first = delta.find((v) => v !== 0);
      if (first !== undefined && first < 0) continue;
      const key = delta.join();
      let index = shiftIndex.get(key);
      if (index === undefined) {
        index = shifts.length;
        shiftIndex.set(key, index);
        shifts.push(delta);
      }
      pairShift.push(index);
      pairT.push(t);
      pairU.push(u);
    }
  }
  const inner = side === 'input' ? rows : cInPerGroup;
  // One representative per pair ±δ: the lexicographically positive one (the others were skipped).
  const half = shifts.map((_, k) => k).filter((k) => shifts[k].some((v) => v !== 0));
  // The rounding count is that of the full sum over all tap pairs (an upper bound on each entry's terms).
  const epsilon = gamma(taps * taps * inner + 2 * shifts.length + 4, UNIT_ROUNDOFF_F64) + 2 ** -39;
  const groups: SymbolGroup[] = [];
  let setupOnNative = false;
  for (let gi = 0; gi < group; gi++) {
    // W_t as float64, taps-major: rows × cin (output side) or transposed, cin × rows (input side),
    // so that every entry of G is a dot product of two contiguous rows.
    const w = Array.from({ length: taps }, () => new Float64Array(rows * cInPerGroup));
    const base = gi * rows * cInPerGroup * taps;
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cInPerGroup; i++) {
        const at = side === 'input' ? i * rows + o : o * cInPerGroup + i;
        for (let t = 0; t < taps; t++) w[t][at] = spec.weight.data[base + (o * cInPerGroup + i) * taps + t];
      }
    }
    const terms = shifts.map(() => new Float64Array(n * n));
    // Input side: block (r_t, r_u) += W_tᵀ W_u, the index of (i, r) being i·phases + r; output side:
    // G += W_t W_uᵀ.
    const [m, stride] = side === 'input' ? [cInPerGroup, phases] : [rows, 1];
    const phaseOf = (t: number): number => (side === 'input' ? layout.phase[t] : 0);
    setupOnNative = addCrossProductsNative(terms, n, stride, phaseOf, w, pairT, pairU, pairShift, m, inner);
    if (!setupOnNative) {
      for (let p = 0; p < pairShift.length; p++) addCrossProducts(terms[pairShift[p]], n, stride, phaseOf(pairT[p]), phaseOf(pairU[p]), w[pairT[p]], w[pairU[p]], m, inner);
    }
    // B = Σ_t |K'_t| (rows × cin·phases): ||B||_F² bounds every rounding term.
    const b = new Float64Array(rows * cInPerGroup * phases);
    for (let t = 0; t < taps; t++) {
      for (let o = 0; o < rows; o++) {
        for (let i = 0; i < cInPerGroup; i++) b[o * cInPerGroup * phases + i * phases + layout.phase[t]] += Math.abs(w[t][side === 'input' ? i * rows + o : o * cInPerGroup + i]);
      }
    }
    let absoluteScale = 0;
    for (const v of b) absoluteScale += v * v;
    absoluteScale *= 1 + gamma(b.length + taps + 2, UNIT_ROUNDOFF_F64);
    const zeroIndex = shifts.findIndex((d) => d.every((v) => v === 0));
    const zero = terms[zeroIndex];
    // G_0 is symmetric in exact arithmetic; as formed, entry (i, j) and (j, i) are the same products
    // summed in the same order (o ascending) over pairs (t, u) and (u, t): the lower triangle is used.
    const width = 1 + 2 * half.length;
    const packed = new Float64Array(((n * (n + 1)) / 2) * width);
    let zeroSquares = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) zeroSquares += zero[i * n + j] ** 2;
    let termsFrobenius = Math.sqrt(zeroSquares);
    for (let i = 0, e = 0; i < n; i++) for (let j = 0; j <= i; j++, e++) packed[e * width] = zero[i * n + j];
    half.forEach((shift, h) => {
      const g = terms[shift];
      let plusSquares = 0;
      let minusSquares = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          // (G_δᵀ)_{ij} = G_δ[j, i]: sym = G_δ + G_δᵀ, anti = G_δᵀ − G_δ, each one rounding.
          const plus = g[i * n + j] + g[j * n + i];
          const minus = g[j * n + i] - g[i * n + j];
          plusSquares += plus * plus;
          minusSquares += minus * minus;
          if (j <= i) {
            const e = (i * (i + 1)) / 2 + j;
            packed[e * width + 1 + 2 * h] = plus;
            packed[e * width + 2 + 2 * h] = minus;
          }
        }
      }
      termsFrobenius += Math.sqrt(plusSquares) + Math.sqrt(minusSquares);
    });
    groups.push({ packed, termsFrobenius: termsFrobenius * (1 + 1e-12), error: Math.SQRT2 * epsilon * absoluteScale * 1.01 * SCALAR_SAFETY, absoluteScale });
  }
  return {
    geometry,
    layout,
    side,
    n,
    rows,
    cInPerGroup,
    shifts: half.map((k) => shifts[k]),
    degrees: geometry.phaseTaps.map((m) => m - 1),
    groups,
    setupFlops: symbolSetupFlops(spec),
    setupOnNative,
  };
}

/** Below this many float operations per group the JS loops are as quick as a native call. */
const NATIVE_SETUP_MIN_FLOPS = 2e7;

/** Whether a group's tap products of this many flops go to ONNX Runtime (the runtime loaded, the work large). */
function setupRunsNative(flopsPerGroup: number): boolean {
  return flopsPerGroup >= NATIVE_SETUP_MIN_FLOPS && nativeRuntime() !== null;
}

/**
 * addCrossProducts for every pair, on ONNX Runtime's float64 GEMM: per first tap t, one product
 * W_t · [W_u1ᵀ … W_ukᵀ] (m × inner times inner × k·m) for all its pairs, each m × m block then added
 * into its term. Each entry is still one float64 dot product over `inner` (in MLAS's order, with FMA),
 * added to the term: the header's rounding count covers any order. False (nothing written) when the
 * runtime is off or the work is small.
 */
function addCrossProductsNative(terms: Float64Array[], n: number, stride: number, phaseOf: (t: number) => number, w: Float64Array[], pairT: number[], pairU: number[], pairShift: number[], m: number, inner: number): boolean {
  if (!setupRunsNative(2 * pairT.length * m * m * inner)) return false;
  const firsts = [...new Set(pairT)];
  for (const t of firsts) {
    const pairs = pairT.flatMap((first, p) => (first === t ? [p] : []));
    const width = pairs.length * m;
    // right[k, c·m + j] = W_{u_c}[j, k].
    const right = new Float64Array(inner * width);
    pairs.forEach((p, c) => {
      const y = w[pairU[p]];
      for (let j = 0; j < m; j++) for (let k = 0; k < inner; k++) right[k * width + c * m + j] = y[j * inner + k];
    });
    const product = nativeMatMul64(w[t], right, m, inner, width);
    if (!product) throw new Error('the float64 product failed after the runtime loaded');
    pairs.forEach((p, c) => {
      const g = terms[pairShift[p]];
      const rowPhase = phaseOf(t);
      const colPhase = phaseOf(pairU[p]);
      for (let i = 0; i < m; i++) {
        const row = (i * stride + rowPhase) * n + colPhase;
        for (let j = 0; j < m; j++) g[row + j * stride] += product[i * width + c * m + j];
      }
    });
  }
  return true;
}

/**
 * g[(i·stride + rowPhase)·n + j·stride + colPhase] += Σ_k x[i·inner + k]·y[j·inner + k] for i, j < m:
 * each entry one dot product (k ascending) added to g, in 2 × 2 blocks that share their loads.
 */
function addCrossProducts(g: Float64Array, n: number, stride: number, rowPhase: number, colPhase: number, x: Float64Array, y: Float64Array, m: number, inner: number): void {
  const at = (i: number, j: number): number => (i * stride + rowPhase) * n + j * stride + colPhase;
  const even = m - (m % 2);
  for (let i = 0; i < even; i += 2) {
    const x0 = i * inner;
    const x1 = x0 + inner;
    for (let j = 0; j < even; j += 2) {
      const y0 = j * inner;
      const y1 = y0 + inner;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let k = 0; k < inner; k++) {
        const a0 = x[x0 + k];
        const a1 = x[x1 + k];
        const b0 = y[y0 + k];
        const b1 = y[y1 + k];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s10 += a1 * b0;
        s11 += a1 * b1;
      }
      g[at(i, j)] += s00;
      g[at(i, j + 1)] += s01;
      g[at(i + 1, j)] += s10;
      g[at(i + 1, j + 1)] += s11;
    }
  }
  // The odd row and column, if any.
  for (let i = 0; i < m; i++) {
    for (let j = i < even ? even : 0; j < m; j++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += x[i * inner + k] * y[j * inner + k];
      g[at(i, j)] += sum;
    }
  }
}

/** From this block size one symbol evaluation is quicker on ONNX Runtime (a pass over ~n²/2·(2S + 1) values). */
export const NATIVE_EVALUATION_MIN_N = 128;

/**
 * The lower triangle of P_ρ(ω) = ρ(0)G_0 + Σ_δ ρ(δ)(cos(ω·δ) sym_δ + i sin(ω·δ) anti_δ) for one
 * group (ρ ≡ 1 without weights), packed by rows (entry (i, j), i ≥ j, at i(i+1)/2 + j) into re, im.
 * Every entry is the same float64 sum of the same products as in the header's rounding bound (only
 * the order of the terms differs, which that bound does not depend on), on ONNX Runtime from n = 128
 * with zero products added (exact) and perhaps FMA (within the same bound).
 */
export function symbolLowerAt(symbol: ConvSymbol, groupIndex: number, omega: number[], re: Float64Array, im: Float64Array, weights?: { zero: number; shifts: Float64Array }): void {
  const { n, shifts } = symbol;
  const shiftCount = shifts.length;
  const packed = symbol.groups[groupIndex].packed;
  const cosines = new Float64Array(shiftCount);
  const sines = new Float64Array(shiftCount);
  for (let s = 0; s < shiftCount; s++) {
    const rho = weights ? weights.shifts[s] : 1;
    let angle = 0;
    for (let a = 0; a < omega.length; a++) angle += omega[a] * shifts[s][a];
    cosines[s] = rho * Math.cos(angle);
    sines[s] = rho * Math.sin(angle);
  }
  const rho0 = weights ? weights.zero : 1;
  const entries = (n * (n + 1)) / 2;
  if (n >= NATIVE_EVALUATION_MIN_N && nativeRuntime()) {
    // The same sums as a product packed (entries × width) · C (width × 2): column 0 takes ρ(0) and the
    // cosines on the sym terms, column 1 the sines on the anti terms; the zeros add nothing.
    const width = 1 + 2 * shiftCount;
    const coefficients = new Float64Array(2 * width);
    coefficients[0] = rho0;
    for (let s = 0; s < shiftCount; s++) {
      coefficients[2 * (1 + 2 * s)] = cosines[s];
      coefficients[2 * (2 + 2 * s) + 1] = sines[s];
    }
    const product = nativeMatMul64(packed, coefficients, entries, width, 2);
    if (!product) throw new Error('the float64 product failed after the runtime loaded');
    for (let e = 0; e < entries; e++) {
      re[e] = product[2 * e];
      im[e] = product[2 * e + 1];
    }
    return;
  }
  for (let e = 0, p = 0; e < entries; e++) {
    let sumRe = rho0 === 1 ? packed[p++] : rho0 * packed[p++];
    let sumIm = 0;
    for (let s = 0; s < shiftCount; s++) {
      sumRe += cosines[s] * packed[p++];
      sumIm += sines[s] * packed[p++];
    }
    re[e] = sumRe;
    im[e] = sumIm;
  }
}

/**
 * P_ρ(ω) as full n × n row-major re, im (symbolLowerAt, mirrored: exactly Hermitian as stored), into
 * `out` when given (the peak search and the window reuse one pair of buffers per call).
 */
export function symbolAt(symbol: ConvSymbol, groupIndex: number, omega: number[], weights?: { zero: number; shifts: Float64Array }, out?: { re: Float64Array; im: Float64Array }): { re: Float64Array; im: Float64Array } {
  const n = symbol.n;
  const entries = (n * (n + 1)) / 2;
  const lowerRe = new Float64Array(entries);
  const lowerIm = new Float64Array(entries);
  symbolLowerAt(symbol, groupIndex, omega, lowerRe, lowerIm, weights);
  return unpackHermitian(lowerRe, lowerIm, n, out);
}

/** Full row-major Hermitian re, im from a packed lower triangle (the upper one conjugated). */
export function unpackHermitian(lowerRe: Float64Array, lowerIm: Float64Array, n: number, out?: { re: Float64Array; im: Float64Array }): { re: Float64Array; im: Float64Array } {
  const re = out?.re ?? new Float64Array(n * n);
  const im = out?.im ?? new Float64Array(n * n);
  for (let i = 0, e = 0; i < n; i++) {
    for (let j = 0; j <= i; j++, e++) {
      re[i * n + j] = lowerRe[e];
      im[i * n + j] = lowerIm[e];
      re[j * n + i] = lowerRe[e];
      im[j * n + i] = -lowerIm[e];
    }
  }
  return { re, im };
}

/**
 * trace P(ω) = tr G_0 + Σ_δ tr(sym_δ) cos(ω·δ) (the anti parts have zero trace): each trace a sum of
 * n diagonal entries, then S + 1 terms (the caller's rounding bound counts n + S + 4 operations).
 */
export function symbolTraceAt(symbol: ConvSymbol, groupIndex: number, omega: number[]): number {
  const { n, shifts } = symbol;
  const packed = symbol.groups[groupIndex].packed;
  const width = 1 + 2 * shifts.length;
  const diagonal = (offset: number): number => {
    let trace = 0;
    for (let i = 0; i < n; i++) trace += packed[((i * (i + 1)) / 2 + i) * width + offset];
    return trace;
  };
  let total = diagonal(0);
  for (let s = 0; s < shifts.length; s++) {
    let angle = 0;
    for (let a = 0; a < omega.length; a++) angle += omega[a] * shifts[s][a];
    total += diagonal(1 + 2 * s) * Math.cos(angle);
  }
  return total;
}
