// GatherNd (TF) / GatherND (ONNX, batch_dims 0) with constant indices on the signal: each index tuple
// of length `depth` picks one slice params[i₀, …, i_{depth−1}, …], so the map is a 0/1 matrix with one
// 1 per output entry, and its σ is √ of the most times one input entry is picked, that is √ of the
// largest count of one tuple (1 with no repeats, 0 when nothing is gathered). Shared by both readers
// (docs/op-coverage.md, "Also covered").

export interface GatherNdPlan {
  outputShape: number[];
  /** The tuples' leading axes: the executor reshapes params to [product of these, rest]. */
  depth: number;
  /** Each tuple as a row of that reshape (row-major over the first `depth` axes). */
  rows: number[];
  /** The largest number of times one tuple occurs (0 when there are none). */
  copies: number;
}

/**
 * The plan for params of shape `params` gathered at constant `indices` (shape `indicesShape`, last
 * axis the tuple length), or why not. Negative indices count from the end when `negative` (ONNX);
 * TF rejects them, as any index out of range.
 */
export function gatherNdPlan(params: readonly number[], indicesShape: readonly number[], indices: ArrayLike<number>, negative: boolean): GatherNdPlan | string {
  if (indicesShape.length === 0) return 'has scalar indices';
  const depth = indicesShape[indicesShape.length - 1];
  if (depth > params.length) return `has index tuples of length ${depth} into a rank-${params.length} tensor`;
  const tuples = indicesShape.slice(0, -1).reduce((a, b) => a * b, 1);
  const rows: number[] = [];
  const counts = new Map<number, number>();
  for (let t = 0; t < tuples; t++) {
    let row = 0;
    for (let a = 0; a < depth; a++) {
      const raw = Number(indices[t * depth + a]);
      const i = negative && raw < 0 ? raw + params[a] : raw;
      if (!Number.isInteger(i) || i < 0 || i >= params[a]) return `has index ${raw} out of range for axis ${a} of size ${params[a]}`;
      row = row * params[a] + i;
    }
    rows.push(row);
    counts.set(row, (counts.get(row) ?? 0) + 1);
  }
  return { outputShape: [...indicesShape.slice(0, -1), ...params.slice(depth)], depth, rows, copies: Math.max(0, ...counts.values()) };
}

/** The structural row's detail and constant for a plan. */
export function gatherNdNorm(plan: GatherNdPlan): { detail: string; constant: number } {
  if (plan.copies === 0) return { detail: 'gather of no entries (an empty output): 0', constant: 0 };
  if (plan.copies === 1) return { detail: 'gather of distinct entries: 1', constant: 1 };
  return { detail: `gather copying an entry ${plan.copies} times: √${plan.copies}`, constant: Math.sqrt(plan.copies) };
}
