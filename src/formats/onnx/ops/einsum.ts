// Einsum with one constant operand that is a matrix contracting one axis of the data operand (a mode
// product: "bij,jk->bik", "bchw,oc->bohw", "ij,kj->ik"): a dense map on that axis, up to a
// permutation of the output, so σ = σ(W). Two data operands in a batched matrix product
// ("bhik,bhjk->bhij", attention's QKᵀ): resolved like a data MatMul. Anything else is unsupported
// (reported, never guessed).

import type { OpSpec } from '../../../model/ir';
import { asFloat32, transpose2d } from '../tensor';
import { type NodeContext, type NodeResult, type OpHandler } from '../context';
import { einsumModeProduct, parseEinsum } from '../../einsum';

export const einsum: OpHandler = {
  infer(ctx: NodeContext): NodeResult {
    const equation = ctx.attrs.string('equation', '');
    const parsed = parseEinsum(equation);
    const dyn = ctx.dynamicIndices();
    const unsupported = (why: string): NodeResult => {
      if (!parsed) return ctx.fail(`equation "${equation}" ${why}`);
      const sizes = new Map<string, number>();
      parsed.inputs.forEach((labels, i) => [...labels].forEach((l, d) => sizes.set(l, ctx.shape(i)[d])));
      return { spec: { type: 'unsupported', detail: `Einsum "${equation}" ${why}` }, outputShapes: [[...parsed.output].map((l) => sizes.get(l) ?? 1)] };
    };
    if (!parsed) return ctx.fail(`equation "${equation}" uses an ellipsis or has no output (not supported)`);
    if (parsed.inputs.length === 2 && dyn.length === 2) {
      const shape = batchedMatmulShape(parsed.inputs[0], parsed.inputs[1], parsed.output, ctx.shape(0), ctx.shape(1));
      if (!shape) return unsupported('of two data operands is not a batched matrix product (same batch labels, A·B or A·Bᵀ)');
      // Resolved on the finished graph (src/analysis/products.ts) from the factors' ranges, as a MatMul.
      const [a, b] = parsed.inputs;
      // B written with the contracted label last ("…jk" against A's "…ik") is multiplied transposed.
      const transposeB = b[b.length - 1] === a[a.length - 1];
      return { spec: { type: 'unbounded', matmul: true, reason: `Einsum "${equation}" of two data-dependent tensors (x·y) is not globally Lipschitz` }, outputShapes: [shape], execution: { kind: 'matmul', transposeA: false, transposeB, scale: 1 } };
    }
    if (parsed.inputs.length !== 2 || dyn.length !== 1) return unsupported('is not one data operand with one constant matrix');
    const x = dyn[0];
    const w = ctx.requireConstant(1 - x, 'the constant operand');
    const plan = einsumModeProduct(equation, x, ctx.shape(x), w.dims);
    if (typeof plan === 'string') return unsupported(plan);
    const [rows, cols] = w.dims;
    // Weight canonical [in, out]: in is the contracted label.
    const data = plan.inFirst ? asFloat32(w) : transpose2d(w.data, rows, cols, 1);
    const dims = plan.inFirst ? [rows, cols] : [cols, rows];
    const last = plan.axis === ctx.shape(x).length - 1;
    const spec: OpSpec = { type: 'dense', weight: { dims, data }, ...(last ? {} : { axis: plan.axis }), ...(plan.outputPerm ? { outputPerm: plan.outputPerm } : {}) };
    // No bias: the executor runs the map in its own layout (docs/op-coverage.md, "Also covered").
    return { spec, outputShapes: [plan.outputShape], weightShape: [...w.dims], dataInputs: [x], execution: { kind: 'affine' } };
  },
};

/**
 * The output shape when "batch+ik, batch+kj -> batch+ij" (or B written "batch+jk", a product by Bᵀ)
 * with the same batch labels in the same order on all three: a batched matrix product whose operator
 * norms do not change with the transposition (docs/op-coverage.md, "Products of two data matrices").
 */
function batchedMatmulShape(a: string, b: string, out: string, aShape: number[], bShape: number[]): number[] | undefined {
  const rank = a.length;
  if (rank < 2 || b.length !== rank || out.length !== rank || aShape.length !== rank || bShape.length !== rank || new Set(a + b).size !== rank + 1) return undefined;
  const batch = a.slice(0, -2);
  const [i, k] = [a[rank - 2], a[rank - 1]];
  if (b.slice(0, -2) !== batch || out.slice(0, -2) !== batch) return undefined;
  const tail = b.slice(-2);
  const j = tail[0] === k ? tail[1] : tail[1] === k ? tail[0] : undefined;
  if (!j || out.slice(-2) !== i + j || aShape.slice(0, -2).some((d, n) => d !== bShape[n])) return undefined;
  const kSize = aShape[rank - 1];
  const bK = tail[0] === k ? bShape[rank - 2] : bShape[rank - 1];
  const jSize = tail[0] === k ? bShape[rank - 1] : bShape[rank - 2];
  return kSize === bK ? [...aShape.slice(0, -2), aShape[rank - 2], jSize] : undefined;
}
