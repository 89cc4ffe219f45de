// Convolution kernels in tfjs's layout [...taps, cIn, cOut] (row-major), built on the CPU once per
// operator: from the IR's canonical [cOut, cIn / group, ...taps], zero-dilated, flipped for the
// adjoint, or split into stride phases for the sub-pixel adjoint.

import type { WeightTensor } from '../../model/ir';

export interface Kernel {
  /** Spatial tap counts, one per spatial axis. */
  taps: number[];
  cIn: number;
  cOut: number;
  /** Layout [...taps, cIn, cOut], row-major. */
  data: Float32Array;
}

export function countOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Calls `visit(index, flat)` for every multi-index of `dims` in row-major order. */
export function forEachIndex(dims: readonly number[], visit: (index: number[], flat: number) => void): void {
  const total = countOf(dims);
  const index = new Array<number>(dims.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    visit(index, flat);
    for (let axis = dims.length - 1; axis >= 0; axis--) {
      if (++index[axis] < dims[axis]) break;
      index[axis] = 0;
    }
  }
}

export function flatIndex(index: readonly number[], dims: readonly number[]): number {
  let flat = 0;
  for (let axis = 0; axis < dims.length; axis++) flat = flat * dims[axis] + index[axis];
  return flat;
}

/**
 * The canonical weight [cOut, cIn / group, ...taps] as one dense kernel over all channels: a
 * grouped weight becomes block-diagonal in (cIn, cOut), exact but `group` times the work.
 */
export function kernelFromCanonical(weight: WeightTensor, group: number): Kernel {
  const [cOut, cInPerGroup, ...taps] = weight.dims;
  const cOutPerGroup = cOut / group;
  const cIn = cInPerGroup * group;
  const tapCount = countOf(taps);
  const data = new Float32Array(tapCount * cIn * cOut);
  for (let co = 0; co < cOut; co++) {
    const firstIn = Math.floor(co / cOutPerGroup) * cInPerGroup;
    for (let local = 0; local < cInPerGroup; local++) {
      const source = (co * cInPerGroup + local) * tapCount;
      for (let tap = 0; tap < tapCount; tap++) {
        data[(tap * cIn + firstIn + local) * cOut + co] = weight.data[source + tap];
      }
    }
  }
  return { taps, cIn, cOut, data };
}

/** The canonical weight of group `g` alone: [cOut / group, cIn / group, ...taps]. */
export function groupSlice(weight: WeightTensor, group: number, g: number): WeightTensor {
  const [cOut, ...rest] = weight.dims;
  const perGroup = weight.data.length / group;
  return { dims: [cOut / group, ...rest], data: weight.data.slice(g * perGroup, (g + 1) * perGroup) };
}

/** Effective tap count of a dilated kernel: (k − 1)·d + 1. */
export function effectiveTaps(taps: readonly number[], dilations: readonly number[]): number[] {
  return taps.map((k, axis) => (k - 1) * dilations[axis] + 1);
}

/** The kernel with d − 1 zeros between taps, so that it needs no dilation (tfjs refuses stride and dilation together). */
export function dilateKernel(kernel: Kernel, dilations: readonly number[]): Kernel {
  if (dilations.every((d) => d === 1)) return kernel;
  const taps = effectiveTaps(kernel.taps, dilations);
  const channels = kernel.cIn * kernel.cOut;
  const data = new Float32Array(countOf(taps) * channels);
  forEachIndex(kernel.taps, (index, flat) => {
    const target = flatIndex(index.map((t, axis) => t * dilations[axis]), taps);
    data.set(kernel.data.subarray(flat * channels, (flat + 1) * channels), target * channels);
  });
  return { taps, cIn: kernel.cIn, cOut: kernel.cOut, data };
}

/** Spatially flipped, cIn/cOut swapped: the kernel of the stride-1 adjoint convolution. */
export function flipAndSwapKernel(kernel: Kernel): Kernel {
  const { taps, cIn, cOut } = kernel;
  const data = new Float32Array(kernel.data.length);
  forEachIndex(taps, (index, flat) => {
    const flipped = flatIndex(index.map((t, axis) => taps[axis] - 1 - t), taps);
    for (let ci = 0; ci < cIn; ci++) {
      for (let co = 0; co < cOut; co++) {
        data[(flipped * cOut + co) * cIn + ci] = kernel.data[(flat * cIn + ci) * cOut + co];
      }
    }
  });
  return { taps, cIn: cOut, cOut: cIn, data };
}

/** Taps per phase of the sub-pixel adjoint: ceil(effective taps / stride). */
export function phaseTaps(effective: readonly number[], strides: readonly number[]): number[] {
  return effective.map((k, axis) => Math.ceil(k / strides[axis]));
}

/**
 * Sub-pixel adjoint kernel of a strided convolution whose kernel is already dilated. Phase r of the
 * (padded) adjoint output, position s·q + r, is Σ_u w[s·u + r]·y[q − u]: a stride-1 correlation of y
 * with the flipped phase taps v_r[u'] = w[s·(U − 1 − u') + r]. All phases come out of one conv with
 * cIn' = cOut and cOut' = (number of phases)·cIn, channel = phase·cIn + ci, phases row-major over axes.
 */
export function subPixelKernel(dilated: Kernel, strides: readonly number[]): Kernel {
  const { cIn, cOut } = dilated;
  const taps = phaseTaps(dilated.taps, strides);
  const phaseCount = countOf(strides);
  const outChannels = phaseCount * cIn;
  const data = new Float32Array(countOf(taps) * cOut * outChannels);
  forEachIndex(taps, (u, uFlat) => {
    forEachIndex(strides, (r, phase) => {
      const source = u.map((ui, axis) => strides[axis] * (taps[axis] - 1 - ui) + r[axis]);
      if (source.some((t, axis) => t >= dilated.taps[axis])) return;
      const sourceFlat = flatIndex(source, dilated.taps);
      for (let ci = 0; ci < cIn; ci++) {
        for (let co = 0; co < cOut; co++) {
          data[(uFlat * cOut + co) * outChannels + phase * cIn + ci] = dilated.data[(sourceFlat * cIn + ci) * cOut + co];
        }
      }
    });
  });
  return { taps, cIn: cOut, cOut: outChannels, data };
}

/**
 * The same phases as separate kernels, each with only its own taps: phase r along an axis has
 * U_r = ceil((k_eff − r) / s) taps, v_r[u'] = w[s·(U_r − 1 − u') + r], so the phases together do
 * exactly the forward's work. cIn' = cOut, cOut' = cIn; null for a phase with no (or only zero) taps.
 * Returned in phase order (row-major over the axes), with the tap counts for the phase's padding.
 */
export function phaseKernels(dilated: Kernel, strides: readonly number[]): { phase: number[]; kernel: Kernel | null }[] {
  const { cIn, cOut } = dilated;
  const result: { phase: number[]; kernel: Kernel | null }[] = [];
  forEachIndex(strides, (r) => {
    const phase = [...r];
    const taps = dilated.taps.map((k, axis) => Math.max(0, Math.ceil((k - phase[axis]) / strides[axis])));
    if (taps.some((u) => u === 0)) {
      result.push({ phase, kernel: null });
      return;
    }
    const data = new Float32Array(countOf(taps) * cIn * cOut);
    forEachIndex(taps, (u, uFlat) => {
      const sourceFlat = flatIndex(u.map((ui, axis) => strides[axis] * (taps[axis] - 1 - ui) + phase[axis]), dilated.taps);
      for (let ci = 0; ci < cIn; ci++) {
        for (let co = 0; co < cOut; co++) {
          data[(uFlat * cOut + co) * cIn + ci] = dilated.data[(sourceFlat * cIn + ci) * cOut + co];
        }
      }
    });
    // With a dilation that is a multiple of the stride, whole phases only meet zero taps.
    result.push({ phase, kernel: data.some((v) => v !== 0) ? { taps, cIn: cOut, cOut: cIn, data } : null });
  });
  return result;
}
