// The top eigenpair of a symmetric tridiagonal matrix T (diagonal `alpha`, off-diagonal `beta`),
// in float64, in O(k) per call: for the Lanczos matrix, whose size grows to a few hundred.
//
// The value comes from bisection on Sturm counts (the number of negative pivots of the LDLᵀ
// factorisation of T − xI is the number of eigenvalues below x), to a relative width of about
// 4 ulp. The vector comes from inverse iteration with the shift just above that value: (μI − T)
// is then positive definite, so its LDLᵀ factorisation needs no pivoting and is stable. When the
// top two eigenvalues are closer than the shift's offset (a cluster, or a Lanczos "ghost" copy of
// a converged value), the vector is a mix of their eigenvectors, which is what a residual estimate
// of that cluster should see.

export interface TridiagonalEigenpair {
  value: number;
  /** Unit eigenvector, one entry per row of T. */
  vector: Float64Array;
}

const BISECTION_STEPS = 200;
const INVERSE_ITERATIONS = 3;

/** Eigenvalues of T strictly below x (Sturm count; zero pivots nudged to a tiny negative). */
function countBelow(alpha: readonly number[], beta: readonly number[], x: number, tiny: number): number {
  let count = 0;
  let pivot = 1;
  for (let i = 0; i < alpha.length; i++) {
    const coupling = i === 0 ? 0 : (beta[i - 1] * beta[i - 1]) / pivot;
    pivot = alpha[i] - x - coupling;
    if (pivot === 0) pivot = -tiny;
    if (pivot < 0) count++;
  }
  return count;
}

export function topEigenpair(alpha: readonly number[], beta: readonly number[]): TridiagonalEigenpair {
  const size = alpha.length;
  if (size === 0) throw new RangeError('topEigenpair: empty matrix');
  if (beta.length < size - 1) throw new RangeError(`topEigenpair: ${size} diagonal entries need ${size - 1} off-diagonal ones, got ${beta.length}`);
  // Gershgorin interval.
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < size; i++) {
    const radius = (i > 0 ? Math.abs(beta[i - 1]) : 0) + (i < size - 1 ? Math.abs(beta[i]) : 0);
    low = Math.min(low, alpha[i] - radius);
    high = Math.max(high, alpha[i] + radius);
  }
  const scale = Math.max(Math.abs(low), Math.abs(high), Number.MIN_VALUE);
  const tiny = Number.EPSILON * Number.EPSILON * scale;
  for (let step = 0; step < BISECTION_STEPS && high - low > 4 * Number.EPSILON * scale; step++) {
    const middle = 0.5 * (low + high);
    if (middle <= low || middle >= high) break;
    // All eigenvalues below middle: the top one is below it.
    if (countBelow(alpha, beta, middle, tiny) === size) high = middle;
    else low = middle;
  }
  const value = high;
  // Inverse iteration on μI − T, μ slightly above the top eigenvalue: positive definite.
  const shift = value + 1e-10 * scale + tiny;
  const pivots = new Float64Array(size); // D of LDLᵀ
  const multipliers = new Float64Array(size); // L's subdiagonal
  pivots[0] = shift - alpha[0];
  for (let i = 1; i < size; i++) {
    multipliers[i] = -beta[i - 1] / pivots[i - 1];
    pivots[i] = Math.max(shift - alpha[i] - multipliers[i] * -beta[i - 1], tiny);
  }
  // A start with no structure (all ones can be orthogonal to the top eigenvector).
  let vector = Float64Array.from({ length: size }, (_, i) => 1 + ((i * 0.6180339887498949) % 1));
  for (let iteration = 0; iteration < INVERSE_ITERATIONS; iteration++) {
    const next = new Float64Array(size);
    // L y = x
    next[0] = vector[0];
    for (let i = 1; i < size; i++) next[i] = vector[i] - multipliers[i] * next[i - 1];
    // D z = y, then Lᵀ w = z
    for (let i = 0; i < size; i++) next[i] /= pivots[i];
    for (let i = size - 2; i >= 0; i--) next[i] -= multipliers[i + 1] * next[i + 1];
    let norm = 0;
    for (const entry of next) norm += entry * entry;
    norm = Math.sqrt(norm);
    for (let i = 0; i < size; i++) next[i] /= norm;
    vector = next;
  }
  return { value, vector };
}
