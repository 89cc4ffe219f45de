// Smaller problems with exactly the same σ1, so the solver works on far fewer values.
//
// A convolution whose kernel is 1 in every spatial axis acts on each input position separately:
// output position o reads input position o·s − p_begin (or nothing, in the padding) through the
// same channel matrix W (block-diagonal over groups, cOut x cIn). As a matrix the layer is
// S ⊗ W, where S maps input positions to output positions; distinct outputs read distinct inputs,
// so the rows of S are orthonormal or zero. If at least one output position reads a real input,
// ||S|| = 1 and σ1(layer) = σ1(W) exactly, for any input size, stride, dilation and padding. That
// σ1(W) is the same layer applied to a single input position: the reduced problem below. (If every
// output position falls in the padding, the layer is zero and it is left as it is.)
// For ResNet-50 this turns 36 of its 54 linear layers from up to 800k-value problems into
// cOut x cIn matrices of at most 2048 x 512.

import type { ConvSpec, LinearSpec } from '../../model/ir';

export interface LinearProblem {
  spec: LinearSpec;
  inputShape: number[];
  /** Set when the problem was replaced by a smaller one with the same σ1. */
  reduction?: string;
}

export function reduceLinearProblem(spec: LinearSpec, inputShape: number[]): LinearProblem {
  if (spec.type !== 'conv') return { spec, inputShape };
  const undilated = reduceDilatedAxes(spec, inputShape);
  const base = undilated ? (undilated.spec as ConvSpec) : spec;
  const baseShape = undilated ? undilated.inputShape : inputShape;
  const further = reducePointwiseConv(base, baseShape) ?? reduceUnitKernelAxes(base, baseShape);
  if (!further) return undilated ?? { spec, inputShape };
  return undilated ? { ...further, reduction: `${undilated.reduction}; then ${further.reduction}` } : further;
}

/**
 * A stride-1 convolution with dilation d along an axis couples output o = ρ + d·j only to inputs
 * of one residue class, c = (ρ − p_begin) mod d: i = c + d·l with l = j + t − p_ρ, p_ρ = ⌈(p_begin − ρ)/d⌉.
 * Input and output entries split into d classes each, so (after permuting entries, an isometry)
 * the layer is the direct sum over ρ of UNDILATED convolutions with the same kernel on I_c inputs
 * and J_ρ outputs with begin padding p_ρ, and σ1 is the largest of theirs. A class (I, J, p)
 * contains another (I', J', p') when e = p − p' ≥ 0, I' + e ≤ I and J' ≤ J: the smaller one is
 * R·A·E, E placing its inputs at offset e (a zero extension: both are zero-padded) and R keeping
 * its first J' outputs, so its σ1 is no larger. When one class per axis contains all others (every
 * zero-padded 'same' or 'valid' layer: the class of ρ = 0), σ1 of the layer is exactly σ1 of that
 * class's conv: about (H/d)^D positions instead of H^D. Axes are independent (the classes of a
 * multi-axis conv are tuples, and containment holds axis by axis). docs/large-inputs.md §9.
 */
function reduceDilatedAxes(spec: ConvSpec, inputShape: number[]): LinearProblem | undefined {
  const kernel = spec.weight.dims.slice(2);
  const rank = kernel.length;
  if (rank < 1 || inputShape.length !== rank + 2) return undefined;
  const offset = spec.channelsLast ? 1 : 2;
  const shape = [...inputShape];
  const dilations = kernel.map((_, a) => spec.dilations[a] ?? 1);
  const padsBegin = kernel.map((_, a) => spec.padsBegin[a] ?? 0);
  const padsEnd = kernel.map((_, a) => spec.padsEnd[a] ?? 0);
  const reduced: string[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const d = dilations[axis];
    if (d <= 1 || kernel[axis] <= 1 || (spec.strides[axis] ?? 1) !== 1) continue;
    const largest = largestDilationClass(shape[offset + axis], kernel[axis], d, padsBegin[axis], padsEnd[axis]);
    if (!largest) continue;
    reduced.push(`axis ${axis}: ${shape[offset + axis]} → ${largest.inputs}`);
    shape[offset + axis] = largest.inputs;
    dilations[axis] = 1;
    padsBegin[axis] = largest.padBegin;
    padsEnd[axis] = largest.padEnd;
  }
  if (reduced.length === 0) return undefined;
  return {
    spec: { ...spec, dilations, padsBegin, padsEnd },
    inputShape: shape,
    reduction: `dilated conv as its largest undilated sub-lattice conv (${reduced.join(', ')}), exact`,
  };
}

/**
 * Along one axis (stride 1, dilation d > 1, kernel k, zero pads ≥ 0): the residue class whose
 * undilated conv contains every other class's (see reduceDilatedAxes), as that conv's input
 * length and pads; undefined when no class contains all others or the layer is empty.
 */
export function largestDilationClass(size: number, k: number, d: number, begin: number, end: number): { inputs: number; padBegin: number; padEnd: number } | undefined {
  if (!(size >= 1 && begin >= 0 && end >= 0)) return undefined;
  const outputs = size + begin + end - d * (k - 1);
  if (outputs < 1) return undefined;
  const count = (length: number, residue: number) => (length > residue ? Math.ceil((length - residue) / d) : 0);
  // Output residue ρ reads input residue c = (ρ − begin) mod d. Only residues c < size read any
  // input, so the classes are enumerated by c: at most `size` of them, whatever d a file claims.
  const classes = Array.from({ length: Math.min(size, d) }, (_, c) => {
    const rho = (c + begin) % d;
    return { inputs: count(size, c), outputs: count(outputs, rho), pad: Math.ceil((begin - rho) / d) };
  }).filter((cls) => cls.inputs > 0 && cls.outputs > 0);
  for (const top of classes) {
    const containsAll = classes.every((other) => {
      const shift = top.pad - other.pad;
      return shift >= 0 && other.inputs + shift <= top.inputs && other.outputs <= top.outputs;
    });
    // Its conv as an ONNX Conv: outputs = inputs + padBegin + padEnd − (k − 1).
    const padEnd = top.outputs - top.inputs - top.pad + k - 1;
    if (containsAll && padEnd >= 0) return { inputs: top.inputs, padBegin: top.pad, padEnd };
  }
  return undefined;
}

/**
 * The same argument one axis at a time: along an axis where the kernel has size 1, output position
 * o reads input position o·s − p_begin only, so the layer is S_a ⊗ (the layer on one position of
 * that axis), with S_a's rows orthonormal or zero; if some output reads a real input, ||S_a|| = 1
 * and σ1 is that of the layer with the axis reduced to one position (stride 1, no padding).
 * A 1x3 conv on a 76x32 map becomes a 1-D conv on 32 positions.
 */
/**
 * Along an axis where the kernel has size 1: the geometry is sane and some output position reads a
 * real input (the first with o·stride ≥ begin lies inside it).
 */
function unitTapReadsInput(size: number, stride: number, begin: number, end: number): boolean {
  const outputs = Math.floor((size + begin + end - 1) / stride) + 1;
  if (!(size >= 1 && outputs >= 1 && stride >= 1)) return false;
  const first = Math.ceil(begin / stride);
  return first < outputs && first * stride - begin < size;
}

function reduceUnitKernelAxes(spec: ConvSpec, inputShape: number[]): LinearProblem | undefined {
  const kernel = spec.weight.dims.slice(2);
  const rank = kernel.length;
  if (rank < 2 || inputShape.length !== rank + 2) return undefined;
  const offset = spec.channelsLast ? 1 : 2;
  const reduced: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    if (kernel[axis] !== 1) continue;
    const size = inputShape[offset + axis];
    if (size === 1 && (spec.padsBegin[axis] ?? 0) === 0 && (spec.padsEnd[axis] ?? 0) === 0) continue;
    if (!unitTapReadsInput(size, spec.strides[axis] ?? 1, spec.padsBegin[axis] ?? 0, spec.padsEnd[axis] ?? 0)) return undefined;
    reduced.push(axis);
  }
  if (reduced.length === 0) return undefined;
  const shape = [...inputShape];
  const strides = kernel.map((_, a) => spec.strides[a] ?? 1);
  const dilations = kernel.map((_, a) => spec.dilations[a] ?? 1);
  const padsBegin = kernel.map((_, a) => spec.padsBegin[a] ?? 0);
  const padsEnd = kernel.map((_, a) => spec.padsEnd[a] ?? 0);
  for (const axis of reduced) {
    shape[offset + axis] = 1;
    strides[axis] = 1;
    dilations[axis] = 1;
    padsBegin[axis] = 0;
    padsEnd[axis] = 0;
  }
  return {
    spec: { ...spec, strides, dilations, padsBegin, padsEnd },
    inputShape: shape,
    reduction: `kernel size 1 along spatial ${reduced.length > 1 ? 'axes' : 'axis'} ${reduced.join(', ')}: σ of the layer on one position there, exact for any size`,
  };
}

function reducePointwiseConv(spec: ConvSpec, inputShape: number[]): LinearProblem | undefined {
  const kernel = spec.weight.dims.slice(2);
  const spatialRank = kernel.length;
  if (spatialRank === 0 || kernel.some((size) => size !== 1)) return undefined;
  if (inputShape.length !== spatialRank + 2) return undefined;
  const spatial = spec.channelsLast ? inputShape.slice(1, -1) : inputShape.slice(2);
  const channels = spec.channelsLast ? inputShape[inputShape.length - 1] : inputShape[1];
  if (spatial.every((size) => size === 1) && spec.padsBegin.every((p) => p === 0) && spec.padsEnd.every((p) => p === 0)) return undefined;
  for (let axis = 0; axis < spatialRank; axis++) {
    if (!unitTapReadsInput(spatial[axis], spec.strides[axis] ?? 1, spec.padsBegin[axis] ?? 0, spec.padsEnd[axis] ?? 0)) return undefined;
  }
  const ones = new Array<number>(spatialRank).fill(1);
  const zeros = new Array<number>(spatialRank).fill(0);
  return {
    spec: { ...spec, strides: ones, dilations: ones, padsBegin: zeros, padsEnd: zeros },
    inputShape: spec.channelsLast ? [1, ...ones, channels] : [1, channels, ...ones],
    reduction: `1x1 convolution: σ of its ${spec.weight.dims[0]}x${channels} channel matrix, exact for any input size`,
  };
}
