// Rounding-error constants for the certified bounds (Higham, "Accuracy and Stability of Numerical
// Algorithms", §3.1): a float dot product of length n, summed in ANY order with round-to-nearest,
// has |error| ≤ γ_n Σ|a_k b_k|, γ_n = n u / (1 − n u). WebAssembly mandates IEEE-754 binary32/64
// with gradual underflow (no flush-to-zero), so each operation adds at most half the subnormal
// spacing in absolute error on top of that.

/** Unit roundoff of float32. */
export const UNIT_ROUNDOFF_F32 = 2 ** -24;
/** Unit roundoff of float64. */
export const UNIT_ROUNDOFF_F64 = 2 ** -53;
/** Absolute error one float32 operation can add through gradual underflow (half of 2^-149). */
export const UNDERFLOW_F32 = 2 ** -150;
/** Absolute error one float64 operation can add through gradual underflow. */
export const UNDERFLOW_F64 = 2 ** -1075;

/** γ_n for unit roundoff u; Infinity when n u ≥ 1 (no useful bound). */
export function gamma(n: number, unitRoundoff: number): number {
  const nu = n * unitRoundoff;
  return nu >= 1 ? Infinity : nu / (1 - nu);
}

/**
 * Factor that covers the float64 rounding of a short chain of scalar float64 operations (sqrt,
 * products, sums of a few terms) in the final assembly of a bound: applied once, it over-covers
 * ~1000 such operations.
 */
export const SCALAR_SAFETY = 1 + 1e-13;

/** Upper bound on sqrt(Σ x²) of a Float32/64 array, computed in float64 (relative error ≤ γ_len). */
export function frobeniusUpper(...parts: ArrayLike<number>[]): number {
  let sum = 0;
  let length = 0;
  for (const part of parts) {
    length += part.length;
    for (let i = 0; i < part.length; i++) sum += part[i] * part[i];
  }
  // The absolute term covers squares of float64 inputs that underflow.
  return Math.sqrt(sum * (1 + gamma(length + 2, UNIT_ROUNDOFF_F64)) + length * 2 ** -1074) * SCALAR_SAFETY;
}
