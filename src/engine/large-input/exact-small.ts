// Exact small layers ('exact-dense'): when the layer's explicit matrix A is small, σ comes from its
// Gram matrix in float64, with a certified interval whose width is rounding only
// (docs/large-inputs.md, "Exact small layers").
//
// - A is built entry by entry (ONNX semantics; the layout permutes rows and columns, which leaves σ
//   unchanged). Its entries are the float32 weights, exactly.
// - G = AᵀA (or AAᵀ, the smaller side) in float64: products of two float32 values are exact in
//   float64, each entry is a sum of at most m terms, so ||G̃ − G||₂ ≤ ||ΔG||_F ≤ γ_m ||A||_F².
// - θ = top Ritz value of G̃ (Lanczos, float64, full reorthogonalisation).
// - upper: a Cholesky certificate λmax(G̃) ≤ t for t just above θ (dense-symmetric.ts), plus ||ΔG||.
// - lower: the Rayleigh quotient of G at the Ritz vector, less its rounding and ||ΔG||.
// Valid for any padding the IR carries (zero), stride, dilation, groups, and for dense layers.

import type { ConvSpec, LinearSpec } from '../../model/ir';
import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from '../bounds/rounding';
import { convGeometry } from '../bounds/conv';
import { certifiedEigenvalueBound, symmetricProduct, topSymmetricEigenpair } from './dense-symmetric';
import { asConvView } from './conv-view';

export interface ExactInterval {
  lower: number;
  upper: number;
  sigma: number;
  /** Lanczos steps on the Gram matrix. */
  steps: number;
  detail: string;
}

/** The smaller side of the Gram matrix may be at most this (a Cholesky of n³/3 flops). */
export const EXACT_MAX_SIDE = 1024;
/** Entries of the explicit matrix A at most (float64: 64 MB). */
const EXACT_MAX_ENTRIES = 2 ** 23;

interface Explicit {
  rows: number;
  cols: number;
  /** Dense row-major float64. */
  data: Float64Array;
}

/** Rows × columns of the explicit matrix, or null for specs this path does not build. */
export function explicitSize(spec: LinearSpec, inputShape: number[]): { rows: number; cols: number } | null {
  if (spec.type === 'dense') return { rows: spec.weight.dims[1], cols: spec.weight.dims[0] };
  const conv = asConvView(spec, inputShape);
  if (!conv) return null;
  const [cOut, cInPerGroup, ...kernel] = conv.spec.weight.dims;
  const g = convGeometry(conv.spatial, kernel, conv.spec.strides, conv.spec.dilations, conv.spec.padsBegin, conv.spec.padsEnd);
  if (!g || g.outputSize.some((s) => s <= 0)) return null;
  const group = conv.spec.group || 1;
  return { rows: cOut * g.outputSize.reduce((a, b) => a * b, 1), cols: cInPerGroup * group * conv.spatial.reduce((a, b) => a * b, 1) };
}

/** Expected float operations of the exact path (Gram, Lanczos, Cholesky). */
export function exactFlops(rows: number, cols: number, nonzerosPerRow: number): number {
  const n = Math.min(rows, cols);
  const m = Math.max(rows, cols);
  const gram = 2 * Math.max(rows * nonzerosPerRow * nonzerosPerRow, m * n);
  return gram + n ** 3 / 3 + 80 * 2 * n * n;
}

export function exactInterval(spec: LinearSpec, inputShape: number[]): ExactInterval | null {
  const size = explicitSize(spec, inputShape);
  if (!size || Math.min(size.rows, size.cols) > EXACT_MAX_SIDE || size.rows * size.cols > EXACT_MAX_ENTRIES) return null;
  const explicit = spec.type === 'dense' ? denseExplicit(spec.weight.data, spec.weight.dims[0], spec.weight.dims[1]) : convExplicit(asConvView(spec, inputShape) as { spec: ConvSpec; spatial: number[] });
  if (!explicit) return null;
  const { gram, n, error } = gramOf(explicit);
  if (n === 0) return { lower: 0, upper: 0, sigma: 0, steps: 0, detail: 'empty matrix' };
  const pair = topSymmetricEigenpair(gram, n, 1e-13);
  const theta = Math.max(pair.value, 0);
  let upperLambda: number | null = null;
  for (const margin of [1e-12, 1e-9, 1e-6, 1e-3]) {
    const t = theta * (1 + margin) + error + Number.MIN_VALUE;
    const bound = certifiedEigenvalueBound(gram, n, t);
    if (bound !== null) {
      upperLambda = bound + error;
      break;
    }
  }
  if (upperLambda === null) return null;
  const lowerLambda = rayleighLower(gram, n, pair.vector, error);
  const upper = Math.sqrt(upperLambda) * SCALAR_SAFETY;
  const lower = Math.sqrt(Math.max(0, lowerLambda)) / SCALAR_SAFETY;
  return {
    lower,
    upper,
    sigma: Math.min(upper, Math.max(lower, Math.sqrt(theta))),
    steps: pair.steps,
    detail: `exact: float64 Gram matrix of the ${explicit.rows}x${explicit.cols} explicit matrix, Lanczos (${pair.steps} steps) and a Cholesky certificate`,
  };
}

function denseExplicit(weight: Float32Array, inputs: number, outputs: number): Explicit {
  // y = xW: the map's matrix is Wᵀ; σ(W) = σ(Wᵀ), so W itself (inputs × outputs) serves.
  return { rows: inputs, cols: outputs, data: Float64Array.from(weight) };
}

/** ONNX Conv as a (cOut·outputs) × (cIn·inputs) matrix (canonical channel-first order). */
function convExplicit(conv: { spec: ConvSpec; spatial: number[] }): Explicit | null {
  const { spec, spatial } = conv;
  const [cOut, cInPerGroup, ...kernel] = spec.weight.dims;
  const group = spec.group || 1;
  const rank = kernel.length;
  const strides = kernel.map((_, a) => spec.strides[a] ?? 1);
  const dilations = kernel.map((_, a) => spec.dilations[a] ?? 1);
  const padsBegin = kernel.map((_, a) => spec.padsBegin[a] ?? 0);
  const padsEnd = kernel.map((_, a) => spec.padsEnd[a] ?? 0);
  const out = spatial.map((size, a) => Math.floor((size + padsBegin[a] + padsEnd[a] - (kernel[a] - 1) * dilations[a] - 1) / strides[a]) + 1);
  if (out.some((s) => s <= 0)) return null;
  const outputs = out.reduce((a, b) => a * b, 1);
  const inputs = spatial.reduce((a, b) => a * b, 1);
  const taps = kernel.reduce((a, b) => a * b, 1);
  const rows = cOut * outputs;
  const cols = cInPerGroup * group * inputs;
  const data = new Float64Array(rows * cols);
  const outPerGroup = cOut / group;
  const p = new Array<number>(rank);
  const t = new Array<number>(rank);
  for (let position = 0; position < outputs; position++) {
    let rest = position;
    for (let a = rank - 1; a >= 0; a--) {
      p[a] = rest % out[a];
      rest = Math.floor(rest / out[a]);
    }
    for (let tap = 0; tap < taps; tap++) {
      let tr = tap;
      for (let a = rank - 1; a >= 0; a--) {
        t[a] = tr % kernel[a];
        tr = Math.floor(tr / kernel[a]);
      }
      let q = 0;
      let inside = true;
      for (let a = 0; a < rank; a++) {
        const qa = p[a] * strides[a] + t[a] * dilations[a] - padsBegin[a];
        if (qa < 0 || qa >= spatial[a]) inside = false;
        q = q * spatial[a] + qa;
      }
      if (!inside) continue;
      for (let o = 0; o < cOut; o++) {
        const g = Math.floor(o / outPerGroup);
        const row = (o * outputs + position) * cols;
        for (let i = 0; i < cInPerGroup; i++) {
          // Each (output, input) pair is reached by at most one tap: plain assignment.
          data[row + (g * cInPerGroup + i) * inputs + q] = spec.weight.data[(o * cInPerGroup + i) * taps + tap];
        }
      }
    }
  }
  return { rows, cols, data };
}

/** Gram matrix on the smaller side, with ||G̃ − G||₂ ≤ error. Sparse rows make it cheap. */
function gramOf(a: Explicit): { gram: Float64Array; n: number; error: number } {
  const columnsSide = a.cols <= a.rows;
  const n = columnsSide ? a.cols : a.rows;
  const m = columnsSide ? a.rows : a.cols;
  const gram = new Float64Array(n * n);
  const at = columnsSide ? (r: number, c: number) => a.data[r * a.cols + c] : (r: number, c: number) => a.data[c * a.cols + r];
  const index = new Int32Array(n);
  const value = new Float64Array(n);
  let frobenius = 0;
  for (let r = 0; r < m; r++) {
    let count = 0;
    for (let c = 0; c < n; c++) {
      const v = at(r, c);
      if (v !== 0) {
        index[count] = c;
        value[count++] = v;
        frobenius += v * v;
      }
    }
    for (let x = 0; x < count; x++) {
      const row = index[x] * n;
      const vx = value[x];
      for (let y = 0; y < count; y++) gram[row + index[y]] += vx * value[y];
    }
  }
  const error = gamma(m + 1, UNIT_ROUNDOFF_F64) * frobenius * (1 + gamma(m * n + 1, UNIT_ROUNDOFF_F64)) * 1.01;
  return { gram, n, error };
}

/** λmax(G) ≥ yᵀGy/yᵀy for the exact G: the computed quotient less its rounding and ||ΔG||. */
function rayleighLower(gram: Float64Array, n: number, y: Float64Array, error: number): number {
  const gy = new Float64Array(n);
  symmetricProduct(gram, n, y, gy);
  let numerator = 0;
  let norm = 0;
  let frobenius = 0;
  for (let i = 0; i < n; i++) {
    numerator += y[i] * gy[i];
    norm += y[i] * y[i];
  }
  for (const v of gram) frobenius += v * v;
  frobenius = Math.sqrt(frobenius * (1 + gamma(n * n + 1, UNIT_ROUNDOFF_F64)));
  const rounding = gamma(2 * n + 4, UNIT_ROUNDOFF_F64) * frobenius * norm * 1.01;
  return (numerator - rounding - error * norm) / (norm * (1 + gamma(n + 2, UNIT_ROUNDOFF_F64)));
}
