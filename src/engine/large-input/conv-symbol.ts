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

export interface SymbolGroup {
  /** G_0 (n × n row-major, real symmetric). */
  zero: Float64Array;
  /** Per half shift δ: G_δ + G_δᵀ and G_δᵀ − G_δ (P = G_0 + Σ cos(ω·δ)·sym + i·sin(ω·δ)·anti). */
  sym: Float64Array[];
  anti: Float64Array[];
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
}

/** Float operations to form the symbol, without forming it (the cost model's input). */
export function symbolSetupFlops(spec: ConvSpec): number {
  const [cOut, cInPerGroup, ...kernel] = spec.weight.dims;
  const group = spec.group || 1;
  const rows = cOut / group;
  const taps = kernel.reduce((a, b) => a * b, 1);
  const phases = kernel.reduce((a, _, i) => a * (spec.strides[i] ?? 1), 1);
  const inputSide = cInPerGroup * phases <= rows;
  // Input side: every tap pair, cin² outputs of inner length rows; output side: same-phase pairs only.
  const pairs = inputSide ? taps * taps : (taps * taps) / phases;
  return 2 * group * pairs * (inputSide ? cInPerGroup * cInPerGroup * rows : rows * rows * cInPerGroup);
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
  for (let t = 0; t < taps; t++) {
    for (let u = 0; u < taps; u++) {
      if (side === 'output' && layout.phase[t] !== layout.phase[u]) continue;
      const delta = Int32Array.from({ length: rank }, (_, a) => (side === 'input' ? layout.offsets[a][u] - layout.offsets[a][t] : layout.offsets[a][t] - layout.offsets[a][u]));
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
  // One representative per pair ±δ: the lexicographically positive one.
  const half = shifts.map((_, k) => k).filter((k) => {
    const first = shifts[k].find((v) => v !== 0);
    return first !== undefined && first > 0;
  });
  const epsilon = gamma(taps * taps * inner + 2 * shifts.length + 4, UNIT_ROUNDOFF_F64) + 2 ** -39;
  const groups: SymbolGroup[] = [];
  for (let gi = 0; gi < group; gi++) {
    // W_t as float64 (rows × cin), taps-major.
    const w = Array.from({ length: taps }, () => new Float64Array(rows * cInPerGroup));
    const base = gi * rows * cInPerGroup * taps;
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cInPerGroup; i++) {
        for (let t = 0; t < taps; t++) w[t][o * cInPerGroup + i] = spec.weight.data[base + (o * cInPerGroup + i) * taps + t];
      }
    }
    const terms = shifts.map(() => new Float64Array(n * n));
    for (let p = 0; p < pairShift.length; p++) {
      const g = terms[pairShift[p]];
      const wt = w[pairT[p]];
      const wu = w[pairU[p]];
      if (side === 'input') {
        // Block (r_t, r_u) += W_tᵀ W_u; column index of (i, r) is i·phases + r.
        const rt = layout.phase[pairT[p]];
        const ru = layout.phase[pairU[p]];
        for (let o = 0; o < rows; o++) {
          const ro = o * cInPerGroup;
          for (let i = 0; i < cInPerGroup; i++) {
            const a = wt[ro + i];
            if (a === 0) continue;
            const row = (i * phases + rt) * n + ru;
            for (let j = 0; j < cInPerGroup; j++) g[row + j * phases] += a * wu[ro + j];
          }
        }
      } else {
        for (let o = 0; o < rows; o++) {
          for (let q = 0; q < rows; q++) {
            let sum = 0;
            const ro = o * cInPerGroup;
            const rq = q * cInPerGroup;
            for (let i = 0; i < cInPerGroup; i++) sum += wt[ro + i] * wu[rq + i];
            g[o * n + q] += sum;
          }
        }
      }
    }
    // B = Σ_t |K'_t| (rows × cin·phases): ||B||_F² bounds every rounding term.
    const b = new Float64Array(rows * cInPerGroup * phases);
    for (let t = 0; t < taps; t++) {
      for (let o = 0; o < rows; o++) {
        for (let i = 0; i < cInPerGroup; i++) b[o * cInPerGroup * phases + i * phases + layout.phase[t]] += Math.abs(w[t][o * cInPerGroup + i]);
      }
    }
    let absoluteScale = 0;
    for (const v of b) absoluteScale += v * v;
    absoluteScale *= 1 + gamma(b.length + taps + 2, UNIT_ROUNDOFF_F64);
    const zeroIndex = shifts.findIndex((d) => d.every((v) => v === 0));
    const sym: Float64Array[] = [];
    const anti: Float64Array[] = [];
    let termsFrobenius = frobenius(terms[zeroIndex]);
    for (const s of half) {
      const g = terms[s];
      const gt = terms[shiftIndex.get(Array.from(shifts[s], (v) => -v).join()) as number];
      const plus = new Float64Array(n * n);
      const minus = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) {
        plus[i] = g[i] + gt[i];
        minus[i] = gt[i] - g[i];
      }
      // gt is G_{−δ} = G_δᵀ: the sums pair entry (i, j) of G_δ with entry (i, j) of G_δᵀ.
      sym.push(plus);
      anti.push(minus);
      termsFrobenius += frobenius(plus) + frobenius(minus);
    }
    groups.push({ zero: terms[zeroIndex], sym, anti, termsFrobenius: termsFrobenius * (1 + 1e-12), error: Math.SQRT2 * epsilon * absoluteScale * 1.01 * SCALAR_SAFETY, absoluteScale });
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
  };
}

/** P_ρ(ω) = ρ(0)G_0 + Σ_δ ρ(δ)(cos(ω·δ) sym_δ + i sin(ω·δ) anti_δ) for one group; ρ ≡ 1 without weights. */
export function symbolAt(symbol: ConvSymbol, groupIndex: number, omega: number[], weights?: { zero: number; shifts: Float64Array }): { re: Float64Array; im: Float64Array } {
  const { n, shifts } = symbol;
  const group = symbol.groups[groupIndex];
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  const rho0 = weights ? weights.zero : 1;
  // The lower triangle (diagonal included) is summed, then mirrored, at half the cost. The exact P
  // is Hermitian and the rounding bound |ΔP| ≤ εZ is symmetric (Z = BᵀB or BBᵀ), so the mirrored
  // entries keep the bound of the header; the stored matrix is exactly Hermitian.
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j <= i; j++) re[row + j] = rho0 * group.zero[row + j];
  }
  for (let s = 0; s < shifts.length; s++) {
    const rho = weights ? weights.shifts[s] : 1;
    if (rho === 0) continue;
    let angle = 0;
    for (let a = 0; a < omega.length; a++) angle += omega[a] * shifts[s][a];
    const c = rho * Math.cos(angle);
    const sn = rho * Math.sin(angle);
    const plus = group.sym[s];
    const minus = group.anti[s];
    for (let i = 0; i < n; i++) {
      const row = i * n;
      for (let j = 0; j <= i; j++) {
        re[row + j] += c * plus[row + j];
        im[row + j] += sn * minus[row + j];
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      re[j * n + i] = re[i * n + j];
      im[j * n + i] = -im[i * n + j];
    }
  }
  return { re, im };
}

function frobenius(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}
