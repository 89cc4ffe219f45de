// NumPy broadcasting of shapes, shared by the ONNX and TF.js readers.

/** The broadcast of two or more shapes (aligned from the right), or undefined when they do not broadcast. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      if (s[i] === 1) continue;
      if (out[o] === 1) out[o] = s[i];
      else if (out[o] !== s[i]) return undefined;
    }
  }
  return out;
}

/** How many output entries one input entry of `shape` is copied to when broadcast to `outShape`. */
export function broadcastCopies(shape: readonly number[], outShape: readonly number[]): number {
  let inCount = 1;
  let outCount = 1;
  for (const d of shape) inCount *= d;
  for (const d of outShape) outCount *= d;
  return inCount === 0 ? 0 : outCount / inCount;
}

/** Row-major strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** For each flat index of `outShape`, the flat index into a tensor of `shape` broadcast to it. */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): (flat: number) => number {
  const rank = outShape.length;
  const outStrides = stridesOf(outShape);
  const inStrides = stridesOf(shape);
  const offset = rank - shape.length;
  return (flat: number) => {
    let index = 0;
    let rest = flat;
    for (let d = 0; d < rank; d++) {
      const coordinate = Math.floor(rest / outStrides[d]);
      rest -= coordinate * outStrides[d];
      const k = d - offset;
      if (k >= 0 && shape[k] !== 1) index += coordinate * inStrides[k];
    }
    return index;
  };
}

/**
 * The exact norm of x ↦ x·c when x (shape xShape) and the constant c (shape cShape) broadcast to
 * outShape: y_j = c_j·x_p(j), so AᵀA is diagonal with entry Σ c_j² over the copies j of x_p, and
 * the norm is the largest square root of those sums (docs/op-coverage.md, "Broadcast scaling").
 */
export function broadcastScaleNorm(xShape: readonly number[], cShape: readonly number[], c: ArrayLike<number>, outShape: readonly number[]): number {
  let count = 1;
  for (const d of outShape) count *= d;
  let xCount = 1;
  for (const d of xShape) xCount *= d;
  const toX = broadcastIndex(xShape, outShape);
  const toC = broadcastIndex(cShape, outShape);
  const sums = new Float64Array(xCount);
  for (let j = 0; j < count; j++) {
    const v = c[toC(j)];
    sums[toX(j)] += v * v;
  }
  let largest = 0;
  for (const s of sums) largest = Math.max(largest, s);
  return Math.sqrt(largest);
}
