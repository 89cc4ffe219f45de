// Einsum equations shared by the readers: the output shape of any plain equation, and the one
// linear form both read as a dense row (docs/op-coverage.md, "Also covered"): one data operand times
// a constant matrix contracting one of its axes, a map I ⊗ W up to a permutation, so σ = σ(W).

/** Labels of each operand and of the output; undefined for ellipses or malformed equations. */
export function parseEinsum(equation: string): { inputs: string[]; output: string } | undefined {
  const text = equation.replace(/\s/g, '');
  if (text.includes('.')) return undefined;
  const [left, output] = text.split('->');
  if (output === undefined || left === undefined) return undefined;
  return { inputs: left.split(','), output };
}

/** The output shape from the operands' shapes, or undefined when labels disagree or are missing. */
export function einsumShape(equation: string, shapes: readonly (readonly number[])[]): number[] | undefined {
  const parsed = parseEinsum(equation);
  if (!parsed || parsed.inputs.length !== shapes.length) return undefined;
  const sizes = new Map<string, number>();
  for (let i = 0; i < shapes.length; i++) {
    const labels = parsed.inputs[i];
    if (labels.length !== shapes[i].length) return undefined;
    for (let d = 0; d < labels.length; d++) {
      const known = sizes.get(labels[d]);
      const size = shapes[i][d];
      // A size-1 axis broadcasts against the label's other size.
      if (known === undefined || known === 1) sizes.set(labels[d], size);
      else if (size !== 1 && size !== known) return undefined;
    }
  }
  const out = [...parsed.output].map((l) => sizes.get(l));
  return out.every((d): d is number => d !== undefined) ? out : undefined;
}

/** How a data operand x times a constant matrix W reads as a dense row on one of x's axes. */
export interface EinsumModeProduct {
  /** The data axis contracted. */
  axis: number;
  /** W's first axis is the contracted one (W is [in, out]); else W is [out, in]. */
  inFirst: boolean;
  outputShape: number[];
  /**
   * When the equation's output axes are not in the data operand's order ("bij,jk->bki"): output
   * axis k is axis outputPerm[k] of the in-place product (the contracted axis replaced by the
   * matrix's out axis), as tf.transpose's perm. Absent when that is the identity.
   */
  outputPerm?: number[];
}

/**
 * The mode-product reading of a two-operand equation with the data operand at `dataIndex`
 * ("bij,jk->bik", "abgd,gf->abdf", "gb,cgef->bcef"), or the reason it is not one.
 */
export function einsumModeProduct(equation: string, dataIndex: number, xShape: readonly number[], wShape: readonly number[]): EinsumModeProduct | string {
  const parsed = parseEinsum(equation);
  if (!parsed) return 'uses an ellipsis or has no output';
  if (parsed.inputs.length !== 2) return 'is not one data operand with one constant matrix';
  const [xLabels, wLabels] = [parsed.inputs[dataIndex], parsed.inputs[1 - dataIndex]];
  const distinct = (s: string) => new Set(s).size === s.length;
  if (wLabels.length !== 2 || wShape.length !== 2 || !distinct(xLabels) || !distinct(wLabels) || !distinct(parsed.output) || xLabels.length !== xShape.length) {
    return 'repeats a label or has a constant operand that is not a matrix';
  }
  const contracted = [...wLabels].filter((l) => xLabels.includes(l) && !parsed.output.includes(l));
  const kept = [...wLabels].filter((l) => !xLabels.includes(l) && parsed.output.includes(l));
  const passing = [...xLabels].filter((l) => !wLabels.includes(l));
  if (contracted.length !== 1 || kept.length !== 1 || passing.some((l) => !parsed.output.includes(l)) || parsed.output.length !== passing.length + 1) {
    return 'is not a product of the data with a matrix along one axis';
  }
  const axis = xLabels.indexOf(contracted[0]);
  const inFirst = wLabels[0] === contracted[0];
  const [inFeatures, outFeatures] = inFirst ? wShape : [wShape[1], wShape[0]];
  if (xShape[axis] !== inFeatures) return `has data axis ${axis} of size ${xShape[axis]} against a matrix ${wShape.join('x')}`;
  const outputShape = [...parsed.output].map((l) => (l === kept[0] ? outFeatures : xShape[xLabels.indexOf(l)]));
  // The in-place product's labels: x's, with the contracted one replaced by the kept one.
  const inPlace = [...xLabels].map((l) => (l === contracted[0] ? kept[0] : l));
  const perm = [...parsed.output].map((l) => inPlace.indexOf(l));
  return { axis, inFirst, outputShape, ...(perm.every((p, k) => p === k) ? {} : { outputPerm: perm }) };
}

/** Why an Einsum of two data operands is not read. */
export const EINSUM_NOT_A_PRODUCT = 'of two data operands is not a batched matrix product (same batch labels, A·B or A·Bᵀ)';

/**
 * "batch+ik, batch+kj -> batch+ij" (or B written "batch+jk", a product by Bᵀ) with the same batch
 * labels in the same order on all three: a batched matrix product whose operator norms do not change
 * with the transposition (docs/op-coverage.md, "Products of two data matrices"). Its output shape
 * and whether B is transposed, or undefined.
 */
export function einsumBatchedMatmul(equation: string, aShape: readonly number[], bShape: readonly number[]): { shape: number[]; transposeB: boolean } | undefined {
  const parsed = parseEinsum(equation);
  if (!parsed || parsed.inputs.length !== 2) return undefined;
  const [a, b] = parsed.inputs;
  const out = parsed.output;
  const rank = a.length;
  if (rank < 2 || b.length !== rank || out.length !== rank || aShape.length !== rank || bShape.length !== rank || new Set(a + b).size !== rank + 1) return undefined;
  const batch = a.slice(0, -2);
  const [i, k] = [a[rank - 2], a[rank - 1]];
  if (b.slice(0, -2) !== batch || out.slice(0, -2) !== batch) return undefined;
  const tail = b.slice(-2);
  const j = tail[0] === k ? tail[1] : tail[1] === k ? tail[0] : undefined;
  if (!j || out.slice(-2) !== i + j || aShape.slice(0, -2).some((d, n) => d !== bShape[n])) return undefined;
  const transposeB = tail[1] === k;
  const kSize = aShape[rank - 1];
  const bK = transposeB ? bShape[rank - 1] : bShape[rank - 2];
  const jSize = transposeB ? bShape[rank - 2] : bShape[rank - 1];
  return kSize === bK ? { shape: [...aShape.slice(0, -2), aShape[rank - 2], jSize], transposeB } : undefined;
}
