// Reference operators for the bound tests: each layer built as an explicit float64 matrix with
// naive loops over ONNX semantics (independent of the bound code), σ1 by ml-matrix's SVD, and a
// float64 power iteration for layers too large for a dense SVD (a lower bound on σ1).

import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { ConvSpec } from '../../../../src/model/ir';

/** Deterministic uniform(−1, 1) values (mulberry32). */
export function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export interface ConvCase {
  cIn: number;
  cOut: number;
  kernel: number[];
  input: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  group: number;
}

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

function unflatten(flat: number, sizes: number[]): number[] {
  const out = new Array<number>(sizes.length);
  for (let a = sizes.length - 1; a >= 0; a--) {
    out[a] = flat % sizes[a];
    flat = Math.floor(flat / sizes[a]);
  }
  return out;
}

function flatten(index: number[], sizes: number[]): number {
  let flat = 0;
  for (let a = 0; a < sizes.length; a++) flat = flat * sizes[a] + index[a];
  return flat;
}

/** The IR's Conv row for a case (ONNX semantics, zero padding). */
export function convSpecOf(c: ConvCase, weight: Float32Array, channelsLast = false): ConvSpec {
  return {
    type: 'conv',
    channelsLast,
    weight: { dims: [c.cOut, c.cIn / c.group, ...c.kernel], data: weight },
    strides: c.strides,
    dilations: c.dilations,
    padsBegin: c.padsBegin,
    padsEnd: c.padsEnd,
    group: c.group,
  };
}

export function convOutputSize(c: ConvCase): number[] {
  return c.input.map((size, a) => Math.floor((size + c.padsBegin[a] + c.padsEnd[a] - (c.kernel[a] - 1) * c.dilations[a] - 1) / c.strides[a]) + 1);
}

/** ONNX Conv (NCHW..., weight [cOut, cIn/group, k...]) as a (cOut·outputs) × (cIn·inputs) matrix. */
export function convMatrix(c: ConvCase, weight: Float32Array): Matrix {
  const out = convOutputSize(c);
  const inputs = product(c.input);
  const outputs = product(out);
  const taps = product(c.kernel);
  const inPerGroup = c.cIn / c.group;
  const outPerGroup = c.cOut / c.group;
  const m = Matrix.zeros(c.cOut * outputs, c.cIn * inputs);
  for (let o = 0; o < c.cOut; o++) {
    const g = Math.floor(o / outPerGroup);
    for (let p = 0; p < outputs; p++) {
      const pIndex = unflatten(p, out);
      for (let i = 0; i < inPerGroup; i++) {
        for (let t = 0; t < taps; t++) {
          const tIndex = unflatten(t, c.kernel);
          const q = pIndex.map((pa, a) => pa * c.strides[a] + tIndex[a] * c.dilations[a] - c.padsBegin[a]);
          if (q.some((qa, a) => qa < 0 || qa >= c.input[a])) continue;
          const column = (g * inPerGroup + i) * inputs + flatten(q, c.input);
          const row = o * outputs + p;
          m.set(row, column, m.get(row, column) + weight[(o * inPerGroup + i) * taps + t]);
        }
      }
    }
  }
  return m;
}

export interface ConvTransposeCase extends ConvCase {
  outputPadding: number[];
}

/** ONNX ConvTranspose (weight [cIn, cOut/group, k...]) as an explicit matrix. */
export function convTransposeMatrix(c: ConvTransposeCase, weight: Float32Array): Matrix {
  const out = c.input.map((size, a) => c.strides[a] * (size - 1) + c.outputPadding[a] + (c.kernel[a] - 1) * c.dilations[a] + 1 - c.padsBegin[a] - c.padsEnd[a]);
  const inputs = product(c.input);
  const outputs = product(out);
  const taps = product(c.kernel);
  const inPerGroup = c.cIn / c.group;
  const outPerGroup = c.cOut / c.group;
  const m = Matrix.zeros(c.cOut * outputs, c.cIn * inputs);
  for (let ci = 0; ci < c.cIn; ci++) {
    const g = Math.floor(ci / inPerGroup);
    for (let q = 0; q < inputs; q++) {
      const qIndex = unflatten(q, c.input);
      for (let o = 0; o < outPerGroup; o++) {
        for (let t = 0; t < taps; t++) {
          const tIndex = unflatten(t, c.kernel);
          const v = qIndex.map((qa, a) => qa * c.strides[a] + tIndex[a] * c.dilations[a] - c.padsBegin[a]);
          if (v.some((va, a) => va < 0 || va >= out[a])) continue;
          const row = (g * outPerGroup + o) * outputs + flatten(v, out);
          const column = ci * inputs + q;
          m.set(row, column, m.get(row, column) + weight[(ci * outPerGroup + o) * taps + t]);
        }
      }
    }
  }
  return m;
}

/** ONNX AveragePool (floor output size) on one channel as an explicit matrix. */
export function avgPoolMatrix(input: number[], kernel: number[], strides: number[], padsBegin: number[], padsEnd: number[], countIncludePad: boolean): Matrix {
  const out = input.map((size, a) => Math.floor((size + padsBegin[a] + padsEnd[a] - kernel[a]) / strides[a]) + 1);
  const m = Matrix.zeros(product(out), product(input));
  for (let p = 0; p < product(out); p++) {
    const pIndex = unflatten(p, out);
    const cells: number[] = [];
    for (let t = 0; t < product(kernel); t++) {
      const tIndex = unflatten(t, kernel);
      const q = pIndex.map((pa, a) => pa * strides[a] + tIndex[a] - padsBegin[a]);
      if (q.every((qa, a) => qa >= 0 && qa < input[a])) cells.push(flatten(q, input));
    }
    const divisor = countIncludePad ? product(kernel) : cells.length;
    for (const cell of cells) m.set(p, cell, 1 / divisor);
  }
  return m;
}

export function exactSigma(m: Matrix): number {
  return new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true }).norm2;
}
