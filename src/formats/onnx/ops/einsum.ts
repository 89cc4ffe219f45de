// Einsum with one constant operand that is a matrix contracting one axis of the data operand (a mode
// product: "bij,jk->bik", "bchw,oc->bohw", "ij,kj->ik"): a dense map on that axis, up to a
// permutation of the output, so σ = σ(W). Two data operands in a batched matrix product
// ("bhik,bhjk->bhij", attention's QKᵀ): resolved like a data MatMul. Anything else is unsupported
// (reported, never guessed).

import type { OpSpec } from '../../../model/ir';
import { asFloat32, transpose2d } from '../tensor';
import { type NodeContext, type NodeResult, type OpHandler } from '../context';
import { EINSUM_NOT_A_PRODUCT, einsumBatchedMatmul, einsumModeProduct, parseEinsum } from '../../einsum';

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
      const product = einsumBatchedMatmul(equation, ctx.shape(0), ctx.shape(1));
      if (!product) return unsupported(EINSUM_NOT_A_PRODUCT);
      // Resolved on the finished graph (src/analysis/products.ts) from the factors' ranges, as a MatMul.
      const { shape, transposeB } = product;
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
