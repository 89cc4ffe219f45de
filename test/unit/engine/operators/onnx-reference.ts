// Naive float64 references of the ONNX semantics (Conv, ConvTranspose, AveragePool, dense), written
// as direct loops over output positions, kernel taps, groups, dilation and pads. Each builds the
// explicit matrix in the operators' internal order: row-major spatial position, then channel
// (1-D, 2-D and 3-D alike). They share no code with src/engine/operators.

import { Matrix } from 'ml-matrix';

export interface WindowParams {
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
}

const count = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

/** All multi-indices of `dims`, row-major (index i of the list has flat index i). */
function allIndices(dims: number[]): number[][] {
  let result: number[][] = [[]];
  for (const n of dims) {
    const next: number[][] = [];
    for (const prefix of result) for (let i = 0; i < n; i++) next.push([...prefix, i]);
    result = next;
  }
  return result;
}

function flat(index: number[], dims: number[]): number {
  return index.reduce((acc, v, axis) => acc * dims[axis] + v, 0);
}

export function convOutputSize(inSize: number[], taps: number[], p: WindowParams): number[] {
  return inSize.map((n, a) => Math.floor((n + p.padsBegin[a] + p.padsEnd[a] - ((taps[a] - 1) * p.dilations[a] + 1)) / p.strides[a]) + 1);
}

/** ONNX Conv: weight [cOut, cIn / group, ...taps] (row-major data). */
export function referenceConvMatrix(dims: number[], weight: Float32Array, group: number, inSize: number[], p: WindowParams): Matrix {
  const [cOut, cInPerGroup, ...taps] = dims;
  const cIn = cInPerGroup * group;
  const cOutPerGroup = cOut / group;
  const outSize = convOutputSize(inSize, taps, p);
  const m = new Matrix(count(outSize) * cOut, count(inSize) * cIn);
  const tapList = allIndices(taps);
  allIndices(outSize).forEach((o, oFlat) => {
    for (let g = 0; g < group; g++) {
      for (let col = 0; col < cOutPerGroup; col++) {
        const co = g * cOutPerGroup + col;
        for (let cil = 0; cil < cInPerGroup; cil++) {
          const ci = g * cInPerGroup + cil;
          tapList.forEach((k, kFlat) => {
            const pos = o.map((oa, a) => oa * p.strides[a] + k[a] * p.dilations[a] - p.padsBegin[a]);
            if (pos.some((v, a) => v < 0 || v >= inSize[a])) return;
            const w = weight[(co * cInPerGroup + cil) * tapList.length + kFlat];
            const row = oFlat * cOut + co;
            const column = flat(pos, inSize) * cIn + ci;
            m.set(row, column, m.get(row, column) + w);
          });
        }
      }
    }
  });
  return m;
}

/** ONNX ConvTranspose: weight [cIn, cOut / group, ...taps]; y[i·s + k·d − padBegin] += x[i]·w[k]. */
export function referenceConvTransposeMatrix(
  dims: number[],
  weight: Float32Array,
  group: number,
  inSize: number[],
  p: WindowParams,
  outputPadding: number[],
): Matrix {
  const [cIn, cOutPerGroup, ...taps] = dims;
  const cOut = cOutPerGroup * group;
  const cInPerGroup = cIn / group;
  const outSize = inSize.map(
    (n, a) => p.strides[a] * (n - 1) + outputPadding[a] + (taps[a] - 1) * p.dilations[a] + 1 - p.padsBegin[a] - p.padsEnd[a],
  );
  const m = new Matrix(count(outSize) * cOut, count(inSize) * cIn);
  const tapList = allIndices(taps);
  allIndices(inSize).forEach((i, iFlat) => {
    for (let ci = 0; ci < cIn; ci++) {
      const g = Math.floor(ci / cInPerGroup);
      for (let col = 0; col < cOutPerGroup; col++) {
        tapList.forEach((k, kFlat) => {
          const pos = i.map((ia, a) => ia * p.strides[a] + k[a] * p.dilations[a] - p.padsBegin[a]);
          if (pos.some((v, a) => v < 0 || v >= outSize[a])) return;
          const row = flat(pos, outSize) * cOut + g * cOutPerGroup + col;
          const column = iFlat * cIn + ci;
          m.set(row, column, m.get(row, column) + weight[(ci * cOutPerGroup + col) * tapList.length + kFlat]);
        });
      }
    }
  });
  return m;
}

/** ONNX AveragePool on one channel. */
export function referenceAvgPoolMatrix(kernel: number[], inSize: number[], p: Omit<WindowParams, 'dilations'>, countIncludePad: boolean): Matrix {
  const params = { ...p, dilations: kernel.map(() => 1) };
  const outSize = convOutputSize(inSize, kernel, params);
  const m = new Matrix(count(outSize), count(inSize));
  const tapList = allIndices(kernel);
  allIndices(outSize).forEach((o, oFlat) => {
    const inside = tapList
      .map((k) => o.map((oa, a) => oa * p.strides[a] + k[a] - p.padsBegin[a]))
      .filter((pos) => pos.every((v, a) => v >= 0 && v < inSize[a]));
    const divisor = countIncludePad ? tapList.length : inside.length;
    for (const pos of inside) m.set(oFlat, flat(pos, inSize), m.get(oFlat, flat(pos, inSize)) + 1 / divisor);
  });
  return m;
}

/** Dense y[o] = Σ_i x[i]·W[i, o]: the matrix Wᵀ. */
export function referenceDenseMatrix(inFeatures: number, outFeatures: number, weight: Float32Array): Matrix {
  const m = new Matrix(outFeatures, inFeatures);
  for (let i = 0; i < inFeatures; i++) for (let o = 0; o < outFeatures; o++) m.set(o, i, weight[i * outFeatures + o]);
  return m;
}
