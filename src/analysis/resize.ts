// Resizing (ONNX Resize / Upsample, TF ResizeBilinear / ResizeNearestNeighbor, Keras UpSampling) as
// the linear map it is (docs/op-coverage.md, "Resize"). Every mode interpolates each spatial axis on
// its own, so the map is a Kronecker product R₁ ⊗ R₂ ⊗ … of one small matrix per axis (identity on
// batch and channels), and ‖A ⊗ B‖₂ = ‖A‖₂·‖B‖₂: σ is the product of the axes' σ. Each axis's
// σ² = λmax(RᵀR) of a banded symmetric matrix is found by bisection on the inertia of RᵀR − tI
// (Sylvester: the negative pivots of its LDLᵀ count the eigenvalues below t), to 1e−12.

export type ResizeMode = 'nearest' | 'linear' | 'cubic';

/** Output index → source coordinate on the input axis (ONNX's coordinate_transformation_mode). */
export type CoordinateTransform = (outIndex: number, scale: number, inLength: number, outLength: number) => number;

export const TRANSFORMS: Record<string, CoordinateTransform | undefined> = {
  half_pixel: (x, s) => (x + 0.5) / s - 0.5,
  half_pixel_symmetric: (x, s, inLength, outLength) => {
    // ONNX opset 19: the output grid centred on the input's.
    const adjustment = outLength / (s * inLength);
    const center = inLength / 2;
    const offset = center * (1 - adjustment);
    return offset + (x + 0.5) / s - 0.5;
  },
  pytorch_half_pixel: (x, s, _in, out) => (out > 1 ? (x + 0.5) / s - 0.5 : 0),
  align_corners: (x, _s, inLength, out) => (out === 1 ? 0 : (x * (inLength - 1)) / (out - 1)),
  asymmetric: (x, s) => x / s,
  tf_half_pixel_for_nearest: (x, s) => (x + 0.5) / s,
};

export const ROUNDING: Record<string, ((v: number) => number) | undefined> = {
  round_prefer_floor: (v) => (v % 1 === 0.5 || v % 1 === -0.5 ? Math.floor(v) : Math.round(v)),
  round_prefer_ceil: (v) => (v % 1 === 0.5 || v % 1 === -0.5 ? Math.ceil(v) : Math.round(v)),
  floor: Math.floor,
  ceil: Math.ceil,
};

export interface AxisResize {
  inLength: number;
  outLength: number;
  /** Output length / input length as the op states it (it may differ from the ratio of the lengths). */
  scale: number;
  mode: ResizeMode;
  transform: CoordinateTransform;
  /** Nearest mode's rounding of the source coordinate. */
  round?: (v: number) => number;
  /** Cubic: the kernel's a (ONNX default −0.75, TF −0.5). */
  cubicCoeff?: number;
  /** Cubic: taps outside the input get weight 0 and the rest are renormalised (else the edge repeats). */
  excludeOutside?: boolean;
}

/** One output entry: Σ weight[k]·x[index[k]]. */
export interface InterpolationRow {
  index: number[];
  weight: number[];
}

function cubicWeights(r: number, a: number): number[] {
  const far = (d: number) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; // 1 ≤ |d| < 2
  const near = (d: number) => ((a + 2) * d - (a + 3)) * d * d + 1; // |d| < 1
  return [far(r + 1), near(r), near(1 - r), far(2 - r)];
}

/** The axis's interpolation matrix, row by row (ONNX's reference semantics; the edge repeats outside). */
export function interpolationRows(axis: AxisResize): InterpolationRow[] {
  const { inLength, outLength, scale, transform } = axis;
  const clampIndex = (i: number) => Math.min(Math.max(i, 0), inLength - 1);
  const rows: InterpolationRow[] = [];
  for (let j = 0; j < outLength; j++) {
    const x = transform(j, scale, inLength, outLength);
    if (axis.mode === 'nearest') {
      const round = axis.round ?? ROUNDING.round_prefer_floor as (v: number) => number;
      rows.push({ index: [clampIndex(round(x))], weight: [1] });
    } else if (axis.mode === 'linear') {
      // Clamping the coordinate to the input is what edge repetition gives for two taps.
      const c = Math.min(Math.max(x, 0), inLength - 1);
      const low = Math.floor(c);
      const r = c - low;
      rows.push(merge([low, clampIndex(low + 1)], [1 - r, r]));
    } else {
      const low = Math.floor(x);
      const weights = cubicWeights(x - low, axis.cubicCoeff ?? -0.75);
      const taps = [low - 1, low, low + 1, low + 2];
      if (axis.excludeOutside) {
        const inside = taps.map((t) => t >= 0 && t < inLength);
        const total = weights.reduce((sum, w, k) => sum + (inside[k] ? w : 0), 0);
        rows.push(merge(taps.filter((_, k) => inside[k]), weights.filter((_, k) => inside[k]).map((w) => w / total)));
      } else {
        rows.push(merge(taps.map(clampIndex), weights));
      }
    }
  }
  return rows;
}

/** Adds up the weights of repeated indices and drops zero weights. */
function merge(index: number[], weight: number[]): InterpolationRow {
  const sums = new Map<number, number>();
  index.forEach((i, k) => sums.set(i, (sums.get(i) ?? 0) + weight[k]));
  const kept = [...sums].filter(([, w]) => w !== 0);
  return { index: kept.map(([i]) => i), weight: kept.map(([, w]) => w) };
}

/** y = R x along one axis (for tests and for the adjoint check). */
export function applyRows(rows: InterpolationRow[], x: ArrayLike<number>): Float64Array {
  return Float64Array.from(rows, (row) => row.index.reduce((sum, i, k) => sum + row.weight[k] * x[i], 0));
}

/** x = Rᵀ y along one axis. */
export function applyRowsTransposed(rows: InterpolationRow[], y: ArrayLike<number>, inLength: number): Float64Array {
  const x = new Float64Array(inLength);
  rows.forEach((row, j) => row.index.forEach((i, k) => (x[i] += row.weight[k] * y[j])));
  return x;
}

/** Number of eigenvalues of the banded symmetric M below t (band[i][d] = M[i][i + d]), from the LDLᵀ of M − tI. */
function countBelow(band: Float64Array[], bandwidth: number, t: number): number {
  const n = band.length;
  const w = bandwidth;
  // L stored by row: lower[i][w − (i − j)] = L[i][j] for i − w ≤ j < i.
  const lower = band.map(() => new Float64Array(w));
  const pivots = new Float64Array(n);
  let negative = 0;
  for (let i = 0; i < n; i++) {
    const first = Math.max(0, i - w);
    for (let j = first; j < i; j++) {
      let value = band[j][i - j];
      for (let k = Math.max(first, j - w); k < j; k++) value -= lower[i][w - (i - k)] * lower[j][w - (j - k)] * pivots[k];
      lower[i][w - (i - j)] = value / pivots[j];
    }
    let d = band[i][0] - t;
    for (let k = first; k < i; k++) d -= lower[i][w - (i - k)] ** 2 * pivots[k];
    // A zero pivot: t is (numerically) an eigenvalue; nudging it below keeps the count consistent.
    if (d === 0) d = -Number.MIN_VALUE * 1e10;
    pivots[i] = d;
    if (d < 0) negative++;
  }
  return negative;
}

/** ‖R‖₂ of one axis's interpolation matrix: exact to a relative 1e−12, rounded up. */
export function axisNorm(rows: InterpolationRow[], inLength: number): number {
  // M = RᵀR is banded: an output's taps are a few adjacent inputs.
  let bandwidth = 0;
  for (const row of rows) bandwidth = Math.max(bandwidth, Math.max(...row.index) - Math.min(...row.index));
  const band = Array.from({ length: inLength }, () => new Float64Array(bandwidth + 1));
  for (const row of rows) {
    row.index.forEach((i, a) => row.index.forEach((j, b) => {
      if (j >= i) band[i][j - i] += row.weight[a] * row.weight[b];
    }));
  }
  // Gershgorin: λmax ≤ the largest absolute row sum.
  let hi = 0;
  for (let i = 0; i < inLength; i++) {
    let sum = 0;
    for (let d = 0; d <= bandwidth; d++) {
      sum += Math.abs(band[i][d]);
      if (d > 0 && i - d >= 0) sum += Math.abs(band[i - d][d]);
    }
    hi = Math.max(hi, sum);
  }
  if (hi === 0) return 0;
  hi *= 1 + 1e-12;
  let lo = 0;
  for (let step = 0; step < 200 && hi - lo > 1e-13 * hi; step++) {
    const mid = (lo + hi) / 2;
    if (countBelow(band, bandwidth, mid) === inLength) hi = mid;
    else lo = mid;
  }
  // Margin for the rounding of the factorisation (its pivots are sums of a few products).
  return Math.sqrt(hi * (1 + 1e-12));
}

/** σ of the whole resize: the product over axes (Kronecker), with a note. */
export function resizeNorm(axes: AxisResize[]): { sigma: number; detail: string } {
  let sigma = 1;
  const parts: string[] = [];
  for (const axis of axes) {
    if (axis.inLength === axis.outLength && axis.scale === 1) continue;
    const norm = axisNorm(interpolationRows(axis), axis.inLength);
    sigma *= norm;
    parts.push(`${axis.inLength}→${axis.outLength}: ${norm.toPrecision(6)}`);
  }
  const mode = axes.find((a) => a.inLength !== a.outLength || a.scale !== 1)?.mode ?? 'nearest';
  const detail = parts.length === 0
    ? `${mode} resize to the same size: 1`
    : `${mode} resize, the product of each axis's interpolation norm (${parts.join('; ')}): ${sigma.toPrecision(6)}`;
  return { sigma: parts.length === 0 ? 1 : sigma, detail };
}
