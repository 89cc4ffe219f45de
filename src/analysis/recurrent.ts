// Certified Lipschitz bounds for recurrent cells run over a sequence with their initial states held
// fixed (docs/op-coverage.md, "Recurrent cells"). Per step, the size of a perturbation of the new
// state is at most a nonnegative combination of the sizes of the perturbations of the step's input
// and of the previous state (the product rule, with the gates' ranges: sigmoid in [0, 1], tanh in
// [−1, 1], the cell state within |c₀| + t). Unrolled over T steps, ‖Δh_t‖ ≤ Σ_τ G[t][τ]·‖Δx_τ‖ with
// G ≥ 0 lower triangular, so the map from the sequence to the outputs has L ≤ ‖G‖₂, bounded from
// above by Collatz–Wielandt on GᵀG (nonnegative).

import type { RecurrentDirection } from '../model/ir';

/** Spectral norms (certified upper bounds) of one direction's weight matrices, per gate. */
export interface LstmNorms {
  /** Input weights W and recurrent weights R of the gates i, o, f, c (ONNX's order). */
  w: { i: number; o: number; f: number; c: number };
  r: { i: number; o: number; f: number; c: number };
  /** Peephole weights: max |P| per gate (0 without). */
  p: { i: number; o: number; f: number };
  /** max |c₀| (0 when the initial cell state is absent). */
  c0: number;
}

export interface GruNorms {
  w: { z: number; r: number; h: number };
  r: { z: number; r: number; h: number };
  /** max |h₀|. */
  h0: number;
  /** linear_before_reset: r ⊙ (R_h h + b_Rh), else R_h (r ⊙ h); then sup |R_h h + b_Rh| is needed. */
  linearBeforeReset: boolean;
  /** Certified sup over |h| ≤ H of |R_h h + b_Rh| per entry, as a function of H (linear_before_reset only). */
  recurrentSup?: (h: number) => number;
}

export interface RnnNorms {
  w: number;
  r: number;
  /** The activation's constant (tanh, ReLU: 1). */
  activation: number;
}

/** ‖G‖₂ of a nonnegative lower-triangular T×T matrix given by rows, bounded from above. */
export function nonnegativeNorm(g: Float64Array[]): number {
  const n = g.length;
  if (n === 0) return 0;
  // Power iteration on GᵀG from the all-ones vector (positive): the Collatz–Wielandt ratio
  // max_i (GᵀG v)_i / v_i bounds λmax from above for any positive v; iterate to tighten it.
  let v = new Float64Array(n).fill(1);
  let best = Infinity;
  for (let iteration = 0; iteration < 500; iteration++) {
    const gv = new Float64Array(n);
    for (let t = 0; t < n; t++) for (let s = 0; s <= t; s++) gv[t] += g[t][s] * v[s];
    const w = new Float64Array(n);
    for (let t = 0; t < n; t++) for (let s = 0; s <= t; s++) w[s] += g[t][s] * gv[t];
    let ratio = 0;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      // A zero entry of v with a positive (GᵀG v)_i makes the ratio infinite: keep v positive.
      ratio = Math.max(ratio, v[i] > 0 ? w[i] / v[i] : w[i] > 0 ? Infinity : 0);
      norm = Math.max(norm, w[i]);
    }
    const previous = best;
    best = Math.min(best, ratio);
    if (norm === 0) return 0;
    v = Float64Array.from(w, (x) => Math.max(x / norm, 1e-300));
    if (previous - best <= 1e-12 * best && iteration > 5) break;
  }
  // Rounding margin for the sums above.
  return Math.sqrt(best) * (1 + 1e-12);
}

/**
 * LSTM over T steps: gains G_h (to every h_t) and G_c (to every c_t), as rows of ‖Δh_t‖ ≤ Σ G[t][τ] ‖Δx_τ‖.
 * Per step, with a = ‖W‖, r = ‖R‖, sigmoid slope 1/4, tanh slope 1:
 *   ‖Δi‖ ≤ ¼(a_i δx + r_i δh + p_i δc),  ‖Δf‖ ≤ ¼(a_f δx + r_f δh + p_f δc),  ‖Δc̃‖ ≤ a_c δx + r_c δh,
 *   δc_t ≤ ‖Δf‖·C_{t−1} + δc_{t−1} + ‖Δi‖ + ‖Δc̃‖            (|f|, |i| ≤ 1, |c̃| ≤ 1, |c_{t−1}| ≤ C_{t−1}),
 *   ‖Δo‖ ≤ ¼(a_o δx + r_o δh_{t−1} + p_o δc_t),  δh_t ≤ ‖Δo‖ + δc_t   (|tanh c| ≤ 1, tanh 1-Lipschitz),
 * where δx = ‖Δx_t‖, δh = δh_{t−1}, δc = δc_{t−1}, and C_t = C_{t−1} + 1, C₀ = max |c₀|.
 */
export function lstmGains(norms: LstmNorms, steps: number): { h: Float64Array[]; c: Float64Array[] } {
  const { w, r, p } = norms;
  const h: Float64Array[] = [];
  const c: Float64Array[] = [];
  let previousH = new Float64Array(steps);
  let previousC = new Float64Array(steps);
  let cellSup = norms.c0;
  for (let t = 0; t < steps; t++) {
    // Coefficients of δx_τ in δc_t and δh_t, τ ≤ t (linear in the previous rows: a nonnegative recursion).
    const ct = new Float64Array(steps);
    const ht = new Float64Array(steps);
    for (let tau = 0; tau <= t; tau++) {
      const dx = tau === t ? 1 : 0;
      const dh = previousH[tau];
      const dc = previousC[tau];
      const di = 0.25 * (w.i * dx + r.i * dh + p.i * dc);
      const df = 0.25 * (w.f * dx + r.f * dh + p.f * dc);
      const dCandidate = w.c * dx + r.c * dh;
      ct[tau] = df * cellSup + dc + di + dCandidate;
      const dOut = 0.25 * (w.o * dx + r.o * dh + p.o * ct[tau]);
      ht[tau] = dOut + ct[tau];
    }
    h.push(ht);
    c.push(ct);
    previousH = ht;
    previousC = ct;
    cellSup += 1;
  }
  return { h, c };
}

/**
 * GRU over T steps. |h_t| ≤ H = max(1, max |h₀|) (a convex combination of values of size ≤ 1 and h_{t−1}).
 *   ‖Δz‖ ≤ ¼(a_z δx + r_z δh), ‖Δr‖ ≤ ¼(a_r δx + r_r δh),
 *   ‖Δĥ‖ ≤ a_h δx + r_h (‖Δr‖·H + δh)                  (R_h (r ⊙ h)),
 *        or a_h δx + ‖Δr‖·S + r_h δh, S = sup |R_h h + b| (linear_before_reset),
 *   δh_t ≤ ‖Δz‖·(1 + H) + ‖Δĥ‖ + δh_{t−1}               (h_t = (1 − z) ⊙ ĥ + z ⊙ h_{t−1}).
 */
export function gruGains(norms: GruNorms, steps: number): Float64Array[] {
  const { w, r } = norms;
  const big = Math.max(1, norms.h0);
  const sup = norms.linearBeforeReset ? (norms.recurrentSup?.(big) ?? Infinity) : 0;
  const rows: Float64Array[] = [];
  let previous = new Float64Array(steps);
  for (let t = 0; t < steps; t++) {
    const row = new Float64Array(steps);
    for (let tau = 0; tau <= t; tau++) {
      const dx = tau === t ? 1 : 0;
      const dh = previous[tau];
      const dz = 0.25 * (w.z * dx + r.z * dh);
      const dr = 0.25 * (w.r * dx + r.r * dh);
      const dCandidate = norms.linearBeforeReset ? w.h * dx + dr * sup + r.h * dh : w.h * dx + r.h * (dr * big + dh);
      row[tau] = dz * (1 + big) + dCandidate + dh;
    }
    rows.push(row);
    previous = row;
  }
  return rows;
}

/** Simple RNN h_t = act(W x_t + R h_{t−1} + b): δh_t ≤ k(a δx + r δh_{t−1}). */
export function rnnGains(norms: RnnNorms, steps: number): Float64Array[] {
  const rows: Float64Array[] = [];
  let previous = new Float64Array(steps);
  for (let t = 0; t < steps; t++) {
    const row = new Float64Array(steps);
    for (let tau = 0; tau <= t; tau++) row[tau] = norms.activation * ((tau === t ? norms.w : 0) + norms.r * previous[tau]);
    rows.push(row);
    previous = row;
  }
  return rows;
}

/** ‖M‖₂ of a small dense row-major matrix (rows × cols), certified from above (Cholesky of t·I − MᵀM). */
export function matrixNorm(data: ArrayLike<number>, rows: number, cols: number): number {
  // Gram matrix on the smaller side.
  const n = Math.min(rows, cols);
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      if (cols <= rows) for (let k = 0; k < rows; k++) sum += data[k * cols + i] * data[k * cols + j];
      else for (let k = 0; k < cols; k++) sum += data[i * cols + k] * data[j * cols + k];
      gram[i * n + j] = sum;
      gram[j * n + i] = sum;
    }
  }
  // Power iteration for an estimate, then a Cholesky factorisation of t·I − gram as the certificate.
  let v = new Float64Array(n).fill(1 / Math.sqrt(n));
  let estimate = 0;
  for (let iteration = 0; iteration < 300; iteration++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) next[i] += gram[i * n + j] * v[j];
    const norm = Math.hypot(...next);
    if (norm === 0) return 0;
    estimate = norm;
    v = next.map((x) => x / norm);
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += gram[i * n + i];
  for (let margin = 1e-9; margin < 1; margin *= 4) {
    const t = estimate * (1 + margin) + 1e-300;
    if (t >= trace) return Math.sqrt(trace);
    if (positiveDefinite(gram, n, t)) return Math.sqrt(t);
  }
  return Math.sqrt(trace);
}

function positiveDefinite(gram: Float64Array, n: number, t: number): boolean {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (i === j ? t : 0) - gram[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) return false;
        l[i * n + i] = Math.sqrt(sum);
      } else l[i * n + j] = sum / l[j * n + j];
    }
  }
  return true;
}

/**
 * The cell's constant over `steps` steps, both directions combined (√(L_f² + L_b²)), given the size
 * of its initial state: max |c₀| for an LSTM, max |h₀| for a GRU (docs/op-coverage.md, "Recurrent cells").
 */
export function recurrentConstant(directions: readonly RecurrentDirection[], steps: number, stateSup: number): number {
  const perDirection = directions.map((d) => {
    if (d.kind === 'LSTM') {
      const gains = lstmGains({ w: d.w, r: d.r, p: d.p, c0: stateSup }, steps);
      return Math.max(nonnegativeNorm(gains.h), nonnegativeNorm(gains.c));
    }
    return nonnegativeNorm(gruGains({ w: d.w, r: d.r, h0: stateSup, linearBeforeReset: d.linearBeforeReset, recurrentSup: (big) => d.rowSum * big + d.recurrentBias }, steps));
  });
  return Math.sqrt(perDirection.reduce((s, v) => s + v * v, 0));
}
