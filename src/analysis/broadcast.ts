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
