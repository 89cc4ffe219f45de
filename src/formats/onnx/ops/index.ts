// Every op the ONNX loader understands, by op type (default domain).

import type { OpHandler } from '../context';
import { activationOps } from './activation';
import { constantOps } from './constant';
import { depthToSpaceOps } from './depth-to-space';
import { conv, convTranspose } from './conv';
import { cumSum } from './cumsum';
import { gemm, matmul } from './dense';
import { binaryOps } from './elementwise';
import { einsum } from './einsum';
import { normalizationOps } from './normalization';
import { pad } from './pad';
import { poolOps } from './pool';
import { reduceOps } from './reduce';
import { quantizedContribOps, quantizedOps } from './quantized';
import { recurrentOps } from './recurrent';
import { resize } from './resize';
import { shapeOps } from './shape';

export const OPS: Record<string, OpHandler> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matmul,
  Einsum: einsum,
  CumSum: cumSum,
  Pad: pad,
  Resize: resize,
  Upsample: resize,
  ...activationOps,
  ...binaryOps,
  ...constantOps,
  ...depthToSpaceOps,
  ...normalizationOps,
  ...poolOps,
  ...reduceOps,
  ...shapeOps,
  ...quantizedOps,
  ...recurrentOps,
};

/** Ops of other domains whose maths is an ONNX op's (ONNX Runtime's contrib ops). */
export const CONTRIB_OPS: Record<string, OpHandler> = {
  'com.microsoft:Gelu': activationOps.Gelu,
  ...quantizedContribOps,
};

/** Unknown pointwise ops whose output has their first input's shape, so inference can go on past them. */
export const SHAPE_PRESERVING = new Set([
  'Tan', 'Asin', 'Acos', 'Sinh', 'Cosh', 'Acosh', 'Atanh', 'IsNaN', 'IsInf',
  'LRN', 'Hardmax', 'BitShift', 'Trilu', 'QLinearLeakyRelu',
]);
