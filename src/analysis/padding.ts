// Padding that copies entries (reflect, symmetric, edge, wrap) is a linear map whose matrix has
// one 1 per output position: its norm is √ of the largest number of output positions reading
// one input position. Per axis the counts multiply. Shared by the ONNX Pad and TF MirrorPad readers.

/** How a padded axis reads its input: ONNX reflect = TF REFLECT, TF SYMMETRIC repeats the edge. */
export type CopyingPadMode = 'reflect' | 'symmetric' | 'edge' | 'wrap';

/** Source index of output position p (−before ≤ p < n + after) of an axis of length n. */
export function padSourceIndex(mode: CopyingPadMode, p: number, n: number): number {
  if (p >= 0 && p < n) return p;
  if (mode === 'edge') return p < 0 ? 0 : n - 1;
  if (mode === 'wrap') return ((p % n) + n) % n;
  if (mode === 'symmetric') {
    const period = 2 * n;
    const q = ((p % period) + period) % period;
    return q < n ? q : period - 1 - q;
  }
  // reflect (without repeating the edge): period 2(n−1).
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const q = ((p % period) + period) % period;
  return q < n ? q : period - q;
}

/** Largest number of output positions that read one input index along an axis (negative pads crop). */
export function largestCopies(mode: CopyingPadMode, n: number, before: number, after: number): number {
  const counts = new Array<number>(n).fill(0);
  for (let p = -before; p < n + after; p++) counts[padSourceIndex(mode, p, n)]++;
  return Math.max(0, ...counts);
}
