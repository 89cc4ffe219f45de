// Lipschitz constants (l2 → l2) of pointwise and structural maps; each is proven or checked in
// docs/math.md#constants.
// Loaders call these so ONNX and TF.js agree on every number.

import type { FixedSpec, UnboundedSpec, ValueMap } from '../model/ir';
import { geluTanhConstant } from './written-activations';

/** SELU's fixed parameters (Klambauer et al. 2017). */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_LAMBDA = 1.0507009873554805;

/** max over x of d/dx [x·sigmoid(x)] ≈ 1.0998 (solved numerically to double precision below). */
export const SILU_CONSTANT = maxDerivative((x) => {
  const s = 1 / (1 + Math.exp(-x));
  return s + x * s * (1 - s);
}, 0, 5);

/** max over x of d/dx [x·Φ(x)] = Φ(x) + x·φ(x) ≈ 1.1289. */
export const GELU_CONSTANT = maxDerivative((x) => normalCdf(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI), 0, 5);


/** Hard-swish x·relu6(x+3)/6: slope (2x+3)/6 is largest at x = 3, where it is 1.5. */
export const HARD_SWISH_CONSTANT = 1.5;

export type ActivationName =
  | 'relu' | 'relu6' | 'clip' | 'tanh' | 'softsign' | 'sigmoid' | 'hardSigmoid' | 'leakyRelu'
  | 'elu' | 'selu' | 'silu' | 'gelu' | 'hardSwish' | 'softmax' | 'logSoftmax' | 'softplus' | 'linear'
  | 'prelu' | 'thresholdedRelu' | 'mish' | 'celu' | 'exp' | 'abs' | 'neg' | 'erf' | 'geluTanh';

export interface ActivationParams {
  /** LeakyReLU / ELU / CELU α, hard-sigmoid slope α (ONNX's HardSigmoid alpha), PReLU slopes' max |α|. */
  alpha?: number;
  /** Length of the axis a softmax-like op normalises over. */
  axisLength?: number;
  /** Hard-sigmoid offset β (ONNX's HardSigmoid beta; Keras 0.5). */
  beta?: number;
  /** Clip limits (absent: unbounded on that side). */
  min?: number;
  max?: number;
}

/**
 * The fixed constant of a pointwise activation. Returns an UnboundedSpec for maps that are not
 * globally Lipschitz (exp) and undefined for names it does not know (the caller reports those
 * as unsupported: never guess).
 */
export function activationSpec(name: ActivationName | string, params: ActivationParams = {}): FixedSpec | UnboundedSpec | undefined {
  const fixed = (constant: number, detail: string, values?: ValueMap): FixedSpec => ({ type: 'fixed', kind: 'activation', constant, detail, ...(values ? { values } : {}) });
  const alpha = params.alpha;
  switch (name) {
    case 'relu': return fixed(1, 'ReLU: 1', { kind: 'clip', min: 0, max: Infinity });
    case 'relu6': return fixed(1, 'ReLU6: 1', { kind: 'clip', min: 0, max: 6 });
    case 'clip': {
      const min = params.min ?? -Infinity;
      const max = params.max ?? Infinity;
      // clip(x, lo, hi) with lo > hi is the constant hi (ONNX and NumPy): slope 0 there, still within 1.
      return fixed(1, 'clip: 1', { kind: 'clip', min: Math.min(min, max), max });
    }
    case 'tanh': return fixed(1, 'tanh: 1', { kind: 'tanh' });
    case 'softsign': return fixed(1, 'softsign: 1', { kind: 'bounded', min: -1, max: 1 });
    case 'linear': return fixed(1, 'identity: 1', { kind: 'affine', scale: [1, 1], shift: [0, 0] });
    case 'abs': return fixed(1, '|x|: 1');
    case 'neg': return fixed(1, '−x: 1', { kind: 'affine', scale: [-1, -1], shift: [0, 0] });
    case 'softplus': return fixed(1, 'softplus: 1');
    case 'softmax': return fixed(1, 'softmax: 1', { kind: 'bounded', min: 0, max: 1 });
    case 'sigmoid': return fixed(0.25, 'sigmoid: 1/4', { kind: 'sigmoid' });
    case 'hardSigmoid': {
      const slope = alpha ?? 0.2;
      return fixed(Math.abs(slope), `hard-sigmoid: its slope ${slope}`, { kind: 'hardSigmoid', alpha: slope, beta: params.beta ?? 0.5 });
    }
    case 'leakyRelu': {
      const a = alpha ?? 0.01;
      return fixed(Math.max(1, Math.abs(a)), `LeakyReLU(${a}): max(1, |α|)`);
    }
    case 'prelu': {
      const a = alpha ?? 0.25;
      return fixed(Math.max(1, Math.abs(a)), `PReLU (max |α| = ${a}): max(1, |α|)`);
    }
    case 'thresholdedRelu': {
      // x·[x > θ] jumps at θ > 0: not continuous, hence not Lipschitz.
      const theta = alpha ?? 1;
      return theta === 0 ? fixed(1, 'ThresholdedReLU(0): 1') : { type: 'unbounded', reason: `ThresholdedReLU(θ=${theta}) is discontinuous at θ` };
    }
    case 'elu': {
      const a = alpha ?? 1;
      return fixed(Math.max(1, a), `ELU(${a}): max(1, α)`);
    }
    case 'celu': {
      return fixed(1, 'CELU: 1');
    }
    case 'selu':
      return fixed(SELU_LAMBDA * Math.max(1, SELU_ALPHA), 'SELU: λ·max(1, α) ≈ 1.7581');
    case 'silu': return fixed(SILU_CONSTANT, 'SiLU/swish: max slope ≈ 1.0998');
    case 'gelu': return fixed(GELU_CONSTANT, 'GELU: max slope ≈ 1.1289');
    case 'geluTanh': return fixed(geluTanhConstant(), 'GELU (tanh approximation): max slope ≤ 1.12899, certified by interval arithmetic (docs/op-coverage.md, "Written-out activations")');
    case 'erf': return fixed(2 / Math.sqrt(Math.PI), 'erf: max slope 2/√π ≈ 1.1284', { kind: 'bounded', min: -1, max: 1 });
    case 'hardSwish': return fixed(HARD_SWISH_CONSTANT, 'hard-swish: 1.5');
    case 'mish': return fixed(maxDerivative((x) => mishSlope(x), -1, 5), 'Mish: max slope ≈ 1.089');
    case 'logSoftmax': {
      // Jacobian I − 1pᵀ; its norm tends to √n as p tends to a vertex of the simplex.
      const n = params.axisLength;
      return n === undefined ? undefined : fixed(Math.sqrt(n), `log-softmax over ${n} entries: √n`);
    }
    case 'exp': return { type: 'unbounded', reason: 'exp is not globally Lipschitz' };
    default: return undefined;
  }
}

/**
 * x^e entrywise for one constant exponent e (ONNX and TF.js Pow): x^1 is the identity, or a copy
 * with norm `broadcastNorm` (√copies) when the exponent broadcasts x to a larger shape; x^0 is the
 * constant 1 (0^0 = 1 in ONNX and tfjs), so its constant is 0 and its values are {1}; any other
 * exponent is unbounded, carrying `power` for the square, layer-norm and GELU passes.
 */
export function powerSpec(exponent: number, broadcastNorm = 1): FixedSpec | UnboundedSpec {
  if (exponent === 1) return broadcastNorm === 1 ? structural('x^1: 1') : structural(`x^1 broadcast by its exponent, entries copied: ${broadcastNorm.toPrecision(4)}`, broadcastNorm);
  if (exponent === 0) return { type: 'fixed', kind: 'activation', constant: 0, detail: 'x^0 = 1 (a constant, 0^0 = 1 included): 0', values: { kind: 'affine', scale: [0, 0], shift: [1, 1] } };
  return { type: 'unbounded', reason: `x^${exponent} is not globally Lipschitz`, power: exponent };
}

/** Ops with a constant of 1 because they only move, copy once or drop entries. */
export function structural(detail: string, constant = 1, values?: ValueMap): FixedSpec {
  return { type: 'fixed', kind: 'structural', constant, detail, ...(values ? { values } : {}) };
}

/** Ops whose every output entry is one of the input's (or a 0 with `zero`): value ranges pass through. */
export const SELECTS: ValueMap = { kind: 'select' };
export const IDENTITY_VALUES: ValueMap = { kind: 'affine', scale: [1, 1], shift: [0, 0] };
export const SELECTS_OR_ZERO: ValueMap = { kind: 'select', zero: true };

/** y = x + t with t ranging over the constant's values (a shift); `negate` for c − x. */
export function shiftValues(constant: ArrayLike<number>, negateConstant: boolean, negateInput: boolean): ValueMap {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < constant.length; i++) {
    const v = Number(constant[i]) * (negateConstant ? -1 : 1);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(lo <= hi)) lo = hi = 0;
  const s = negateInput ? -1 : 1;
  return { kind: 'affine', scale: [s, s], shift: [lo, hi] };
}

function normalCdf(x: number): number {
  // Φ via erf (Abramowitz–Stegun 7.1.26 is too coarse for a pinned constant: use a series/continued fraction).
  return 0.5 * (1 + erf(x / Math.SQRT2));
}

function erf(x: number): number {
  // Taylor series converges fast for |x| < 3; beyond, erf is 1 to double precision for our use (x ≤ 5 → 1 − 1.5e-12).
  const sign = x < 0 ? -1 : 1;
  const z = Math.abs(x);
  if (z > 3.5) {
    // Continued fraction for erfc.
    let f = 0;
    for (let k = 60; k >= 1; k--) f = (k / 2) / (z + f);
    return sign * (1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f));
  }
  let term = z;
  let sum = z;
  for (let n = 1; n < 200; n++) {
    term *= (-z * z) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (sign * 2 * sum) / Math.sqrt(Math.PI);
}

function mishSlope(x: number): number {
  const sp = Math.log1p(Math.exp(x));
  const t = Math.tanh(sp);
  const s = 1 / (1 + Math.exp(-x));
  return t + x * (1 - t * t) * s;
}

/** Maximum of a smooth, unimodal-near-its-peak function on [lo, hi] by a fine scan then golden-section refinement. */
function maxDerivative(f: (x: number) => number, lo: number, hi: number): number {
  let best = lo;
  const steps = 2000;
  for (let i = 0; i <= steps; i++) {
    const x = lo + ((hi - lo) * i) / steps;
    if (f(x) > f(best)) best = x;
  }
  let a = best - (hi - lo) / steps;
  let b = best + (hi - lo) / steps;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 100; i++) {
    const c = b - g * (b - a);
    const d = a + g * (b - a);
    if (f(c) > f(d)) b = d;
    else a = c;
  }
  return f((a + b) / 2);
}
