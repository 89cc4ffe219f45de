// Average pooling is linear and, per channel, a Kronecker product of 1-D pooling matrices: a window
// is a box, its count of valid inputs is the product of the per-axis counts, and with
// count_include_pad the divisor is the product of the per-axis window lengths. Channels are
// independent identical blocks. So ||A|| = Π_axes ||A_axis||, and each 1-D factor (nonnegative)
// is bounded by the smaller of
//   - the Schur test ||A||² ≤ ||A||_1 ||A||_∞ (max column sum × max row sum), and
//   - Collatz–Wielandt: for B = AᵀA ≥ 0 and any q > 0, λ_max(B) = ρ(B) ≤ max_i (Bq)_i / q_i,
//     with q from a few power steps (exact for the Perron vector).

import type { AvgPoolSpec } from '../../model/ir';
import { SCALAR_SAFETY, UNIT_ROUNDOFF_F64, gamma } from './rounding';
import type { UpperBound } from './types';

const POWER_STEPS = 60;

export function avgPoolUpperBound(spec: AvgPoolSpec, inputShape: number[]): UpperBound | null {
  const rank = spec.kernel.length;
  if (rank < 1 || inputShape.length !== rank + 2) return null;
  const spatial = spec.channelsLast ? inputShape.slice(1, 1 + rank) : inputShape.slice(2);
  let value = 1;
  for (let a = 0; a < rank; a++) {
    const factor = poolAxisMatrix(spatial[a], spec.kernel[a], spec.strides[a] ?? 1, spec.padsBegin[a] ?? 0, spec.padsEnd[a] ?? 0, spec.countIncludePad);
    if (!factor) return null;
    value *= axisNormBound(factor);
  }
  return { value: value * SCALAR_SAFETY, method: 'average pool: product over axes of min(Schur test, Collatz–Wielandt) on the 1-D pooling matrices' };
}

interface SparseRows {
  inputs: number;
  /** Per output row: [first input, count, weight of each entry]. */
  rows: { start: number; count: number; weight: number }[];
}

/** ONNX AveragePool on one axis (floor output size): output p averages inputs [p·s − pb, p·s − pb + k). */
function poolAxisMatrix(size: number, kernel: number, stride: number, padBegin: number, padEnd: number, countIncludePad: boolean): SparseRows | null {
  if (size < 1 || kernel < 1 || stride < 1) return null;
  const outputs = Math.floor((size + padBegin + padEnd - kernel) / stride) + 1;
  const rows: SparseRows['rows'] = [];
  for (let p = 0; p < outputs; p++) {
    const begin = p * stride - padBegin;
    const start = Math.max(begin, 0);
    const stop = Math.min(begin + kernel, size);
    const count = stop - start;
    if (count <= 0) continue; // a window entirely in the padding outputs a constant: zero row.
    // With count_include_pad the divisor counts the window's positions inside the padded extent.
    const divisor = countIncludePad ? Math.min(begin + kernel, size + padEnd) - Math.max(begin, -padBegin) : count;
    rows.push({ start, count, weight: 1 / divisor });
  }
  return { inputs: size, rows };
}

function axisNormBound(a: SparseRows): number {
  if (a.rows.length === 0) return 0;
  // Schur test.
  const columnSums = new Float64Array(a.inputs);
  let maxRowSum = 0;
  for (const row of a.rows) {
    maxRowSum = Math.max(maxRowSum, row.count * row.weight);
    for (let i = row.start; i < row.start + row.count; i++) columnSums[i] += row.weight;
  }
  let maxColumnSum = 0;
  for (const s of columnSums) maxColumnSum = Math.max(maxColumnSum, s);
  // Every sum has ≤ k + outputs terms; γ covers their rounding and that of 1/divisor.
  const slack = 1 + gamma(2 * (a.rows.length + a.inputs) + 8, UNIT_ROUNDOFF_F64);
  const schur = Math.sqrt(maxRowSum * maxColumnSum * slack * slack);
  // Collatz–Wielandt on B = AᵀA with a power-iterated positive q.
  let q = new Float64Array(a.inputs).fill(1);
  let ratio = Infinity;
  for (let step = 0; step < POWER_STEPS; step++) {
    const bq = applyGram(a, q);
    let max = 0;
    let top = 0;
    for (let i = 0; i < q.length; i++) {
      max = Math.max(max, bq[i] / q[i]);
      top = Math.max(top, bq[i]);
    }
    ratio = Math.min(ratio, max);
    if (top === 0) return 0;
    // Keep q strictly positive (inputs no window reads have (Bq)_i = 0).
    q = bq.map((v) => v / top + 1e-12);
  }
  const collatz = Math.sqrt(ratio * slack * slack);
  return Math.min(schur, collatz) * SCALAR_SAFETY;
}

function applyGram(a: SparseRows, q: Float64Array): Float64Array {
  const out = new Float64Array(a.inputs);
  for (const row of a.rows) {
    let sum = 0;
    for (let i = row.start; i < row.start + row.count; i++) sum += q[i];
    const v = sum * row.weight * row.weight;
    for (let i = row.start; i < row.start + row.count; i++) out[i] += v;
  }
  return out;
}
