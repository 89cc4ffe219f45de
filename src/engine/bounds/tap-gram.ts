// The Gram matrices of a convolution's DFT blocks, assembled from products of its kernel taps
// instead of formed block by block.
//
// Mathematics (one group; notation of conv.ts). The block at frequency ω is
// B(ω) = K̂'(ω) (rows × cin·phases), whose column block for input phase r is
// B_r(ω) = Σ_{t: phase r} W_t e^{−iω·m_t}, W_t the rows × cin matrix of kernel tap t. Hence
//   Q(ω) = B(ω)B(ω)ᴴ = Σ_r Σ_{t,u in phase r} W_t W_uᵀ e^{−iω·(m_t − m_u)} = Σ_δ D_δ e^{−iω·δ},
//   D_δ = Σ_{t,u same phase, m_t − m_u = δ} W_t W_uᵀ,   D_{−δ} = D_δᵀ,
// and over one representative δ of each pair ±δ (δ ≠ 0, first nonzero component positive)
//   Re Q(ω) = D_0 + Σ_δ cos(ω·δ) S_δ,   Im Q(ω) = Σ_δ sin(ω·δ) A_δ,
//   S_δ = D_δ + D_δᵀ,   A_δ = D_δᵀ − D_δ   (D e^{−iθ} + Dᵀ e^{iθ} = (D + Dᵀ) cos θ + i (Dᵀ − D) sin θ).
// λmax(Q(ω)) = σ1(B(ω))². The D_δ cost one rows × cin × rows product per same-phase tap pair, once
// per layer; forming each block's Gram costs a rows × (cin·phases) × rows product per frequency
// (ResNet-50's 3x3 layers have 41 to 1,684 frequencies against 45 tap pairs, 13 at stride 2).
// The input side works the same way: B(ω)ᴴB(ω) has the block (r, r') = Σ_{t in r, u in r'}
// W_tᵀW_u e^{iω·(m_t − m_u)}, i.e. D_δ there collects W_tᵀW_u over ALL tap pairs with
// m_t − m_u = δ, placed at block (phase of t, phase of u). The assembled Σ_δ D_δ e^{−iω·δ} is
// then B(−ω)ᴴB(−ω), and −ω runs over the same frequencies, so the max over them is unchanged. The
// smaller side is used (a strided conv with few input channels, such as a 3-channel stem, has a
// small input side: 12 × 12 blocks instead of 64 × 64).
//
// Rounding (every term bounded; Z = Σ_{t,u same phase} |W_t||W_u|ᵀ entrywise on the output side,
// Z = YᵀY with Y = [Y_0 | Y_1 | ...] on the input side, Y_r = Σ_{t in r} |W_t|; either way
// ||Z||_F ≤ Σ_r ||Y_r||_F²):
// - D_δ by chunked float32 products summed in float64 (ChunkAccumulator): |ΔD_δ| ≤ α Σ_pairs |W_t||W_u|ᵀ
//   (output side; |W_t|ᵀ|W_u| on the input side, whose tap products are all formed at once as
//   [W_0 ...]ᵀ[W_0 ...] and then summed into the D_δ in float64, which adds u64 relative), so the
//   D errors move each entry of Q by at most α Z_ij (complex modulus: Σ_δ |ΔD_δ| + |ΔD_δᵀ|);
// - S_δ, A_δ in float64 then rounded to float32 (u64 + u32), cos/sin accurate to 2^-46 then rounded
//   to float32 (u32), and the assembly as one float32 matMul of inner length K = 1 + 2H (γ_K):
//   each of Re and Im moves by at most (γ_{K+4} + 2^-45)(1 + α) Z_ij, the modulus by √2 that;
// - subnormals: at most 2^-150 per float32 operation.
// So ||Q̃(ω) − Q(ω)||_2 ≤ ||·||_F ≤ (α + √2 (γ_{K+4} + 2^-45)(1 + α)) Σ_r ||Y_r||_F² + (subnormals),
// the same for every ω. That is ~n/4 times the per-block bound of gram.ts (no cancellation between
// taps is assumed): about 0.4 % of σ1 on 512-channel layers, far inside the bound's 5 % target.

import * as tf from '@tensorflow/tfjs-core';
import { ChunkAccumulator, JS_ENGINE_MAX_WORK, TFJS_CHUNK_ROWS, type FirstGramProduct } from './gram';
import { SCALAR_SAFETY, UNDERFLOW_F32, UNIT_ROUNDOFF_F32, UNIT_ROUNDOFF_F64, gamma } from './rounding';

/** Per kernel tap: its input phase and its polyphase offsets m_t per axis (conv.ts, step 2). */
export interface TapPositions {
  taps: number;
  phase: Int32Array;
  offsets: Int32Array[];
}

export interface TapGramPlan {
  /** 'output': Q = BBᴴ (rows × rows); 'input': BᴴB ((cin·phases) × (cin·phases)). */
  side: 'output' | 'input';
  /** Q is n × n. */
  n: number;
  /** Index 0 is δ = 0; then one representative per pair ±δ. */
  shifts: Int32Array[];
  /** Ordered tap pairs (t, u) per shift, with m_t − m_u = shifts[k] (same phase on the output side). */
  pairs: [number, number][][];
  /** Float operations to form the D_δ (once per group) and to assemble one frequency's Q. */
  setupFlops: number;
  flopsPerFrequency: number;
}

/** The input side's tap products form one (taps·cin)² matrix: only while it stays this small. */
const INPUT_SIDE_MAX_STACK = 2048;

/** The smaller side (the output side on ties, or when the input side's tap stack is too large). */
export function planTapGram(rows: number, cInPerGroup: number, layout: TapPositions, phases: number): TapGramPlan {
  const stack = layout.taps * cInPerGroup;
  const side = cInPerGroup * phases < rows && stack <= INPUT_SIDE_MAX_STACK ? 'input' : 'output';
  const n = side === 'output' ? rows : cInPerGroup * phases;
  const rank = layout.offsets.length;
  const shifts: Int32Array[] = [new Int32Array(rank)];
  const pairs: [number, number][][] = [[]];
  const indexOf = new Map<string, number>([[shifts[0].join(','), 0]]);
  for (let t = 0; t < layout.taps; t++) {
    for (let u = 0; u < layout.taps; u++) {
      if (side === 'output' && layout.phase[t] !== layout.phase[u]) continue;
      const delta = Int32Array.from(layout.offsets, (axis) => axis[t] - axis[u]);
      const lead = delta.find((d) => d !== 0) ?? 0;
      // A negative δ is the transpose of the pair (u, t), already counted through S and A.
      if (lead < 0) continue;
      const key = delta.join(',');
      let index = indexOf.get(key);
      if (index === undefined) {
        index = shifts.length;
        indexOf.set(key, index);
        shifts.push(delta);
        pairs.push([]);
      }
      pairs[index].push([t, u]);
    }
  }
  const products = pairs.reduce((sum, list) => sum + list.length, 0);
  const stacked = 2 * shifts.length - 1;
  return {
    side,
    n,
    shifts,
    pairs,
    setupFlops: side === 'output' ? 2 * products * n * n * cInPerGroup : 2 * stack * stack * rows + 2 * products * cInPerGroup * cInPerGroup,
    // The assembly matMul, then reading, mirroring and scaling the two n × n parts in JS.
    flopsPerFrequency: 4 * stacked * n * n + 16 * n * n,
  };
}

/** Float32 values of the assembly output per call (2 rows per frequency). */
const BATCH_FLOATS = 2 ** 22;

/** The D_δ of one group, stacked for assembly, and the frequency-independent error bound. */
export class TapGram {
  readonly n: number;
  /** Frequencies per assembly call. */
  readonly batch: number;
  /** [D_0; S_1..S_H; A_1..A_H] as rows of n² float32 values. */
  private readonly stack: tf.Tensor2D;
  /** ||Q̃(ω) − Q(ω)||_2 ≤ this for every ω (before scaling). */
  private readonly error: number;

  constructor(
    weight: Float32Array,
    rows: number,
    cInPerGroup: number,
    layout: TapPositions,
    private readonly plan: TapGramPlan,
  ) {
    const { n, pairs } = plan;
    this.n = n;
    this.batch = Math.max(1, Math.min(256, Math.floor(BATCH_FLOATS / (2 * n * n))));
    const { taps } = layout;
    // Tap matrices W_t, rows × cin each.
    const tapMatrices = Array.from({ length: taps }, () => new Float32Array(rows * cInPerGroup));
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cInPerGroup; i++) {
        const base = (o * cInPerGroup + i) * taps;
        for (let t = 0; t < taps; t++) tapMatrices[t][o * cInPerGroup + i] = weight[base + t];
      }
    }
    const { products, alpha } =
      plan.side === 'output' ? outputSideProducts(tapMatrices, rows, cInPerGroup, pairs) : inputSideProducts(tapMatrices, rows, cInPerGroup, layout, pairs, n);
    const shiftsHalf = products.length - 1;
    const stacked = new Float32Array((1 + 2 * shiftsHalf) * n * n);
    stacked.set(products[0]);
    for (let k = 1; k <= shiftsHalf; k++) {
      const d = products[k];
      const symmetric = stacked.subarray(k * n * n, (k + 1) * n * n);
      const antisymmetric = stacked.subarray((shiftsHalf + k) * n * n, (shiftsHalf + k + 1) * n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          symmetric[i * n + j] = d[i * n + j] + d[j * n + i];
          antisymmetric[i * n + j] = d[j * n + i] - d[i * n + j];
        }
      }
    }
    this.stack = tf.tensor2d(stacked, [1 + 2 * shiftsHalf, n * n]);

    // Σ_r ||Y_r||_F², Y_r = Σ_{t in phase r} |W_t| (float64; the sums of ≤ taps terms and the
    // squares are covered by the γ factor).
    let zFrobenius = 0;
    const phases = Math.max(...layout.phase) + 1;
    const y = new Float64Array(rows * cInPerGroup);
    for (let r = 0; r < phases; r++) {
      y.fill(0);
      for (let t = 0; t < taps; t++) {
        if (layout.phase[t] !== r) continue;
        const wt = tapMatrices[t];
        for (let e = 0; e < y.length; e++) y[e] += Math.abs(wt[e]);
      }
      for (let e = 0; e < y.length; e++) zFrobenius += y[e] * y[e];
    }
    zFrobenius *= 1 + gamma(taps + y.length + 4, UNIT_ROUNDOFF_F64);
    const stackedInner = 1 + 2 * shiftsHalf;
    const assembly = 1.01 * gamma(stackedInner + 4, UNIT_ROUNDOFF_F32) + 2 ** -45;
    const factor = alpha + Math.SQRT2 * assembly * (1 + alpha);
    const tapProducts = pairs.reduce((sum, list) => sum + list.length, 0);
    // Subnormals: ≤ 2^-150 per float32 operation, ≤ 4 (products, chunk and group sums) per term of
    // each D entry, and 2 per term of the assembly; 2 entries (D and Dᵀ) per product.
    const perEntry = (8 * tapProducts * Math.max(rows, cInPerGroup) + 4 * stackedInner + 64) * UNDERFLOW_F32;
    this.error = (factor * zFrobenius + n * perEntry) * SCALAR_SAFETY;
  }

  /**
   * P₀ for the given frequencies (multi-indices on `grid`), null for a zero block. A self-conjugate
   * frequency has an exactly real Q (all its sines are exactly 0), returned with im = null.
   */
  firstProducts(frequencies: Int32Array[], selfConjugate: boolean[], grid: number[]): (FirstGramProduct | null)[] {
    const { n, plan } = this;
    const shiftsHalf = plan.shifts.length - 1;
    const width = 1 + 2 * shiftsHalf;
    const count = frequencies.length;
    const coefficients = new Float32Array(2 * count * width);
    frequencies.forEach((j, f) => {
      const reRow = 2 * f * width;
      const imRow = (2 * f + 1) * width;
      coefficients[reRow] = 1;
      for (let k = 1; k <= shiftsHalf; k++) {
        const shift = plan.shifts[k];
        const [cos, minusSin] = dftPhase(j, grid, (a) => shift[a]);
        coefficients[reRow + k] = cos;
        coefficients[imRow + shiftsHalf + k] = -minusSin;
      }
    });
    const assembled = tf.tidy(() => tf.matMul(tf.tensor2d(coefficients, [2 * count, width]), this.stack));
    const values = assembled.dataSync() as Float32Array;
    assembled.dispose();
    const size = n * n;
    return frequencies.map((_, f) => {
      const reValues = values.subarray(2 * f * size, (2 * f + 1) * size);
      const imValues = selfConjugate[f] ? null : values.subarray((2 * f + 1) * size, (2 * f + 2) * size);
      return this.firstProduct(reValues, imValues);
    });
  }

  private firstProduct(reValues: Float32Array, imValues: Float32Array | null): FirstGramProduct | null {
    const n = this.n;
    let trace = 0;
    for (let i = 0; i < n; i++) trace += reValues[i * n + i];
    // ||B||_F² = trace Q ≤ trace Q̃ + n·||ΔQ||_2.
    const frobenius = Math.sqrt(Math.max(0, trace * (1 + gamma(n + 2, UNIT_ROUNDOFF_F64)) + n * this.error)) * SCALAR_SAFETY;
    if (frobenius === 0) return null;
    const scaleExp = Math.round(Math.log2(frobenius));
    const scale = 2 ** (-2 * scaleExp);
    // Exactly Hermitian: the upper triangle mirrored (the entry bounds above are symmetric in i, j).
    const re = new Float64Array(n * n);
    const im = imValues ? new Float64Array(n * n) : null;
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const value = reValues[i * n + j] * scale;
        re[i * n + j] = value;
        re[j * n + i] = value;
        if (im && imValues && j > i) {
          const imaginary = imValues[i * n + j] * scale;
          im[i * n + j] = imaginary;
          im[j * n + i] = -imaginary;
        }
      }
    }
    return {
      n,
      re,
      im,
      scaleExp,
      // M₀ = B·2^-e₀ is never formed: nothing is rounded on the way in.
      inputRounding: 0,
      // Scaling by 2^-2e₀ is exact in float64 barring underflow (≤ 2^-1074 per entry).
      productError: this.error * scale * SCALAR_SAFETY + n * 2 ** -1070,
      frobenius,
      engine: n * n * n <= JS_ENGINE_MAX_WORK ? 'js' : 'tfjs',
    };
  }

  dispose(): void {
    this.stack.dispose();
  }
}

interface TapProducts {
  /** D_δ per shift (float64, n × n row-major). */
  products: Float64Array[];
  /** Relative error factor of every entry against Σ |tap products| (see Rounding above). */
  alpha: number;
}

/** D_δ = Σ_pairs W_t W_uᵀ (rows × rows), one chunked product per shift over its pairs. */
function outputSideProducts(tapMatrices: Float32Array[], rows: number, cin: number, pairs: [number, number][][]): TapProducts {
  const n = rows;
  let alpha = 0;
  const products = pairs.map((list) => {
    const into = new Float64Array(n * n);
    const total = list.length * cin;
    const chunk = Math.min(TFJS_CHUNK_ROWS, total);
    alpha = Math.max(alpha, ChunkAccumulator.errorFactor(chunk, Math.ceil(total / chunk)));
    const accumulator = new ChunkAccumulator(into);
    for (let k0 = 0; k0 < total; k0 += chunk) {
      const c = Math.min(chunk, total - k0);
      const left = new Float32Array(n * c);
      const right = new Float32Array(c * n);
      for (let k = 0; k < c; k++) {
        const flat = k0 + k;
        const [t, u] = list[Math.floor(flat / cin)];
        const column = flat % cin;
        const wt = tapMatrices[t];
        const wu = tapMatrices[u];
        for (let a = 0; a < n; a++) {
          left[a * c + k] = wt[a * cin + column];
          right[k * n + a] = wu[a * cin + column];
        }
      }
      accumulator.add(left, right, n, c, n);
    }
    accumulator.flush();
    return into;
  });
  return { products, alpha };
}

/**
 * D_δ with W_tᵀW_u (cin × cin) at block (phase of t, phase of u), n = cin·phases: every tap
 * product at once as G = [W_0 ...]ᵀ[W_0 ...] (chunked over the rows), then summed in float64.
 */
function inputSideProducts(tapMatrices: Float32Array[], rows: number, cin: number, layout: TapPositions, pairs: [number, number][][], n: number): TapProducts {
  const taps = tapMatrices.length;
  const width = taps * cin;
  const gram = new Float64Array(width * width);
  const chunk = Math.min(TFJS_CHUNK_ROWS, rows);
  const accumulator = new ChunkAccumulator(gram);
  for (let o0 = 0; o0 < rows; o0 += chunk) {
    const c = Math.min(chunk, rows - o0);
    const left = new Float32Array(width * c);
    const right = new Float32Array(c * width);
    for (let k = 0; k < c; k++) {
      const o = o0 + k;
      for (let t = 0; t < taps; t++) {
        const wt = tapMatrices[t];
        for (let i = 0; i < cin; i++) {
          const value = wt[o * cin + i];
          left[(t * cin + i) * c + k] = value;
          right[k * width + t * cin + i] = value;
        }
      }
    }
    accumulator.add(left, right, width, c, width);
  }
  accumulator.flush();
  const products = pairs.map((list) => {
    const into = new Float64Array(n * n);
    for (const [t, u] of list) {
      const rowBase = layout.phase[t] * cin;
      const columnBase = layout.phase[u] * cin;
      for (let i = 0; i < cin; i++) {
        for (let j = 0; j < cin; j++) into[(rowBase + i) * n + columnBase + j] += gram[(t * cin + i) * width + u * cin + j];
      }
    }
    return into;
  });
  // The float64 sums of up to taps² products of G add γ^(64)_{taps²} relative.
  const alpha = ChunkAccumulator.errorFactor(chunk, Math.ceil(rows / chunk)) * (1 + 1e-10) + gamma(taps * taps + 2, UNIT_ROUNDOFF_F64);
  return { products, alpha };
}

/**
 * e^{−iω·δ} for the frequency multi-index j on `grid` (ω_a = 2π j_a / N_a) and the shift δ_a =
 * shift(a): Σ_a j_a δ_a / N_a is summed as one fraction over Π N_a, so quarter turns come out exact
 * (real frequencies give exactly real blocks).
 */
export function dftPhase(j: Int32Array, grid: number[], shift: (axis: number) => number): [number, number] {
  const total = grid.reduce((a, b) => a * b, 1);
  let numerator = 0;
  for (let a = 0; a < grid.length; a++) numerator += ((j[a] * shift(a)) % grid[a]) * (total / grid[a]);
  const n = ((numerator % total) + total) % total;
  if ((4 * n) % total === 0) {
    const quarter = (4 * n) / total;
    return ([[1, 0], [0, -1], [-1, 0], [0, 1]] as [number, number][])[quarter];
  }
  const angle = (2 * Math.PI * n) / total;
  return [Math.cos(angle), -Math.sin(angle)];
}
