// Shape arithmetic shared by the loaders: output sizes of convolutions and pools, and SAME padding
// resolved for the real input size.

export type AutoPad = 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER';

/** Pads [begin, end] per spatial axis for ONNX auto_pad / TF padding on a real input size. */
export function resolvePads(
  autoPad: AutoPad,
  inputSize: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  explicitBegin: number[],
  explicitEnd: number[],
): { padsBegin: number[]; padsEnd: number[] } {
  if (autoPad === 'NOTSET') return { padsBegin: [...explicitBegin], padsEnd: [...explicitEnd] };
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  for (let i = 0; i < inputSize.length; i++) {
    if (autoPad === 'VALID') {
      padsBegin.push(0);
      padsEnd.push(0);
      continue;
    }
    const effectiveKernel = (kernel[i] - 1) * dilations[i] + 1;
    const outSize = Math.ceil(inputSize[i] / strides[i]);
    const total = Math.max(0, (outSize - 1) * strides[i] + effectiveKernel - inputSize[i]);
    const small = Math.floor(total / 2);
    // SAME_UPPER (TF's SAME) puts the extra pixel at the end, SAME_LOWER at the beginning.
    if (autoPad === 'SAME_UPPER') {
      padsBegin.push(small);
      padsEnd.push(total - small);
    } else {
      padsBegin.push(total - small);
      padsEnd.push(small);
    }
  }
  return { padsBegin, padsEnd };
}

/** Output size of a convolution or pool along each spatial axis. */
export function slidingOutputSize(
  inputSize: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  padsBegin: number[],
  padsEnd: number[],
  ceilMode = false,
): number[] {
  return inputSize.map((size, i) => {
    const effectiveKernel = (kernel[i] - 1) * dilations[i] + 1;
    const span = size + padsBegin[i] + padsEnd[i] - effectiveKernel;
    let out = (ceilMode ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // With ceil mode the last window must start inside the input or the begin padding (ONNX, PyTorch).
    if (ceilMode && (out - 1) * strides[i] >= size + padsBegin[i]) out -= 1;
    return out;
  });
}

/** Output size of a transposed convolution (ONNX semantics). */
export function transposedOutputSize(
  inputSize: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  padsBegin: number[],
  padsEnd: number[],
  outputPadding: number[],
): number[] {
  return inputSize.map(
    (size, i) => strides[i] * (size - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - padsBegin[i] - padsEnd[i],
  );
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
