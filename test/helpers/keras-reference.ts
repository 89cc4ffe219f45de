// Float64 reference matrices of Keras / TF layers, built with naive loops straight from the
// definitions and independent of the engine: weights decoded from the shard bytes via the
// manifest (float32, int32, and the converter's uint8/uint16 affine and float16 quantisation),
// then the explicit matrix of each layer on its real input shape, and σ1 from a float64 SVD.
//
// Layout: channels-last, batch 1. Row/column order is row-major over (H, W, C). σ1 does not
// depend on that order (a permutation of rows or columns), so a channels-first layer has the
// same σ1 as its channels-last matrix with the same H, W, C.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

export interface RefTensor {
  shape: number[];
  values: Float64Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

/** IEEE 754 half → number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * Every weight of a model.json, decoded by hand: each group's shards are concatenated in order
 * and the entries are read back to back, as the manifest format defines.
 */
export function readManifestWeights(modelJsonPath: string): Map<string, RefTensor> {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as { weightsManifest: ManifestGroup[] };
  const dir = dirname(modelJsonPath);
  const out = new Map<string, RefTensor>();
  for (const group of json.weightsManifest) {
    const parts = group.paths.map((p) => readFileSync(join(dir, p)));
    const total = parts.reduce((a, p) => a + p.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    for (const entry of group.weights) {
      const size = entry.shape.reduce((a, b) => a * b, 1);
      const values = new Float64Array(size);
      const q = entry.quantization;
      if (q === undefined) {
        if (entry.dtype !== 'float32' && entry.dtype !== 'int32') throw new Error(`${entry.name}: dtype ${entry.dtype} not handled by the reference`);
        for (let i = 0; i < size; i++) {
          values[i] = entry.dtype === 'float32' ? view.getFloat32(offset + 4 * i, true) : view.getInt32(offset + 4 * i, true);
        }
        offset += 4 * size;
      } else if (q.dtype === 'float16') {
        for (let i = 0; i < size; i++) values[i] = halfToNumber(view.getUint16(offset + 2 * i, true));
        offset += 2 * size;
      } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
        const width = q.dtype === 'uint8' ? 1 : 2;
        if (q.min === undefined || q.scale === undefined) throw new Error(`${entry.name}: affine quantisation without min/scale`);
        for (let i = 0; i < size; i++) {
          const level = width === 1 ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true);
          // Dequantise in float64, then round to float32 like tfjs does when it builds the tensor.
          values[i] = Math.fround(level * q.scale + q.min);
        }
        offset += width * size;
      } else {
        throw new Error(`${entry.name}: quantisation ${q.dtype} not handled by the reference`);
      }
      out.set(entry.name, { shape: entry.shape, values });
    }
    if (offset !== total) throw new Error(`manifest group ${group.paths.join(',')}: read ${offset} of ${total} bytes`);
  }
  return out;
}

export type Padding = 'same' | 'valid' | 'causal';

/** Output length and leading pad of one spatial axis, as TF computes them. */
export function axisGeometry(size: number, kernel: number, stride: number, dilation: number, padding: Padding): { out: number; before: number } {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.ceil((size - effective + 1) / stride), before: 0 };
  if (padding === 'causal') return { out: Math.ceil(size / stride), before: effective - 1 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export interface ConvSpec {
  /** Input H, W, C (channels-last, batch 1). */
  input: [number, number, number];
  kernelSize: [number, number];
  outChannels: number;
  strides: [number, number];
  dilation: [number, number];
  padding: Padding;
  /** Weight from input channel ci to output channel co at tap (a, b); 0 if not connected. */
  weight: (a: number, b: number, ci: number, co: number) => number;
}

export interface ConvMatrix {
  matrix: Matrix;
  outShape: [number, number, number];
}

/** Explicit (H_out·W_out·C_out) x (H·W·C) matrix of a 2-D cross-correlation (TF's conv). */
export function convMatrix(spec: ConvSpec): ConvMatrix {
  const [H, W, C] = spec.input;
  const [kh, kw] = spec.kernelSize;
  const rows = axisGeometry(H, kh, spec.strides[0], spec.dilation[0], spec.padding);
  const cols = axisGeometry(W, kw, spec.strides[1], spec.dilation[1], spec.padding);
  const K = spec.outChannels;
  const matrix = new Matrix(rows.out * cols.out * K, H * W * C);
  for (let i = 0; i < rows.out; i++) {
    for (let j = 0; j < cols.out; j++) {
      for (let co = 0; co < K; co++) {
        const r = (i * cols.out + j) * K + co;
        for (let a = 0; a < kh; a++) {
          const y = i * spec.strides[0] + a * spec.dilation[0] - rows.before;
          if (y < 0 || y >= H) continue;
          for (let b = 0; b < kw; b++) {
            const x = j * spec.strides[1] + b * spec.dilation[1] - cols.before;
            if (x < 0 || x >= W) continue;
            for (let ci = 0; ci < C; ci++) {
              const w = spec.weight(a, b, ci, co);
              if (w !== 0) matrix.set(r, (y * W + x) * C + ci, matrix.get(r, (y * W + x) * C + ci) + w);
            }
          }
        }
      }
    }
  }
  return { matrix, outShape: [rows.out, cols.out, K] };
}

export interface LayerGeometry {
  input: [number, number, number];
  strides: [number, number];
  dilation: [number, number];
  padding: Padding;
}

/** Keras Conv2D: kernel [kh, kw, c_in, c_out] (also TF's HWIO Conv2D weights). */
export function conv2dMatrix(kernel: RefTensor, g: LayerGeometry): ConvMatrix {
  const [kh, kw, cin, cout] = kernel.shape;
  if (cin !== g.input[2]) throw new Error(`kernel expects ${cin} input channels, input has ${g.input[2]}`);
  const k = kernel.values;
  return convMatrix({ ...g, kernelSize: [kh, kw], outChannels: cout, weight: (a, b, ci, co) => k[((a * kw + b) * cin + ci) * cout + co] });
}

/** Keras Conv1D: kernel [k, c_in, c_out] on input [L, C]: a 1 x L image. */
export function conv1dMatrix(kernel: RefTensor, length: number, stride: number, dilation: number, padding: Padding): ConvMatrix {
  const [k, cin, cout] = kernel.shape;
  return conv2dMatrix({ shape: [1, k, cin, cout], values: kernel.values }, { input: [1, length, cin], strides: [1, stride], dilation: [1, dilation], padding });
}

/** Keras DepthwiseConv2D: kernel [kh, kw, c_in, multiplier]; output channel ci·multiplier + m reads input channel ci only. */
export function depthwiseMatrix(kernel: RefTensor, g: LayerGeometry): ConvMatrix {
  const [kh, kw, cin, mult] = kernel.shape;
  if (cin !== g.input[2]) throw new Error(`kernel expects ${cin} input channels, input has ${g.input[2]}`);
  const k = kernel.values;
  return convMatrix({
    ...g,
    kernelSize: [kh, kw],
    outChannels: cin * mult,
    weight: (a, b, ci, co) => (Math.floor(co / mult) === ci ? k[((a * kw + b) * cin + ci) * mult + (co % mult)] : 0),
  });
}

/**
 * Keras Conv2DTranspose: kernel [kh, kw, filters, c_in]; output size in·s ('same') or
 * in·s + max(k − s, 0) ('valid'). It is conv2d_backprop_input: the transpose of the forward conv
 * that maps the output shape (with that kernel read as [kh, kw, filters → c_in]) back to the input.
 */
export function conv2dTransposeMatrix(kernel: RefTensor, g: LayerGeometry): ConvMatrix {
  const [kh, kw, filters, cin] = kernel.shape;
  if (cin !== g.input[2]) throw new Error(`kernel expects ${cin} input channels, input has ${g.input[2]}`);
  if (g.dilation[0] !== 1 || g.dilation[1] !== 1) throw new Error('dilated Conv2DTranspose not handled by the reference');
  const size = (n: number, k: number, s: number) => (g.padding === 'same' ? n * s : n * s + Math.max(k - s, 0));
  const outH = size(g.input[0], kh, g.strides[0]);
  const outW = size(g.input[1], kw, g.strides[1]);
  const k = kernel.values;
  const forward = convMatrix({
    input: [outH, outW, filters],
    kernelSize: [kh, kw],
    outChannels: cin,
    strides: g.strides,
    dilation: [1, 1],
    padding: g.padding,
    weight: (a, b, f, c) => k[((a * kw + b) * filters + f) * cin + c],
  });
  const [fh, fw, fc] = forward.outShape;
  if (fh !== g.input[0] || fw !== g.input[1] || fc !== cin) throw new Error(`forward conv of the transpose maps to ${forward.outShape}, not the input ${g.input}`);
  return { matrix: forward.matrix.transpose(), outShape: [outH, outW, filters] };
}

/** Keras Dense: kernel [in, out]; y = x·K, so the matrix is Kᵀ (out x in). */
export function denseMatrix(kernel: RefTensor): Matrix {
  const [n, m] = kernel.shape;
  const matrix = new Matrix(m, n);
  for (let i = 0; i < n; i++) for (let o = 0; o < m; o++) matrix.set(o, i, kernel.values[i * m + o]);
  return matrix;
}

/** Batch norm at inference: the diagonal map x ↦ γ/√(var+ε)·x (+ shift); its norm is the largest |scale|. */
export function batchNormConstant(gamma: RefTensor | undefined, variance: RefTensor, epsilon: number): number {
  let best = 0;
  for (let i = 0; i < variance.values.length; i++) {
    const g = gamma ? gamma.values[i] : 1;
    best = Math.max(best, Math.abs(g / Math.sqrt(variance.values[i] + epsilon)));
  }
  return best;
}

/** σ1 of a float64 matrix (ml-matrix SVD, singular values only). */
export function sigma1(matrix: Matrix): number {
  const svd = new SingularValueDecomposition(matrix, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
  return Math.max(...svd.diagonal);
}
