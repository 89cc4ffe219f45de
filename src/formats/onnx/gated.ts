// x·sigmoid(x) and x·hardsigmoid(x) written as two nodes: PyTorch exports SiLU/swish as Sigmoid +
// Mul, and hard-swish below opset 14 as HardSigmoid + Mul. A Mul of x with a gate computed from
// the same x is a pointwise activation of x with a known Lipschitz constant, not the product of two
// independent data tensors that a Mul of two data inputs is in general (which is not Lipschitz).

import type { FixedSpec } from '../../model/ir';
import { SILU_CONSTANT } from '../../analysis/constants';
import type { NodeContext, NodeResult } from './context';

/** A value computed pointwise from the data value `of` by a sigmoid-like gate. */
export type Gate = { of: string; kind: 'sigmoid' } | { of: string; kind: 'hardSigmoid'; alpha: number; beta: number };

/** The gate this node computes from its data input (Sigmoid or HardSigmoid of a data value), if any. */
export function gateOf(ctx: NodeContext): Gate | undefined {
  if (ctx.domain !== '' && ctx.domain !== 'ai.onnx') return undefined;
  const of = ctx.node.input?.[0];
  if (!of || !ctx.isDynamic(0)) return undefined;
  if (ctx.op === 'Sigmoid') return { of, kind: 'sigmoid' };
  if (ctx.op === 'HardSigmoid') return { of, kind: 'hardSigmoid', alpha: ctx.attrs.float('alpha', 0.2), beta: ctx.attrs.float('beta', 0.5) };
  return undefined;
}

/**
 * A Mul of data value x with a gate of that same x (either order, same shape) as the activation it
 * is; undefined for any other Mul.
 * - x·sigmoid(x) is SiLU: slope σ(x)(1 + x(1 − σ(x))), at most ≈ 1.0998.
 * - x·clip(αx + β, 0, 1): the slope is 0 or 1 where the clip is flat and 2αx + β in between, which
 *   runs from −β to 2 − β there (for any α ≠ 0), so the constant is max(|β|, |2 − β|, 1); hard-swish
 *   (α = 1/6, β = 1/2) gives 1.5.
 */
export function gatedProduct(ctx: NodeContext, gates: ReadonlyMap<string, Gate>): NodeResult | undefined {
  if (ctx.op !== 'Mul' || (ctx.domain !== '' && ctx.domain !== 'ai.onnx')) return undefined;
  const names = ctx.node.input ?? [];
  if (names.length !== 2 || !ctx.isDynamic(0) || !ctx.isDynamic(1)) return undefined;
  const [a, b] = [ctx.shape(0), ctx.shape(1)];
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) return undefined;
  for (const x of [0, 1]) {
    const gate = gates.get(names[1 - x]);
    if (!gate || gate.of !== names[x]) continue;
    return { spec: gatedSpec(gate), outputShapes: [a], dataInputs: [x] };
  }
  return undefined;
}

function gatedSpec(gate: Gate): FixedSpec {
  if (gate.kind === 'sigmoid') return { type: 'fixed', kind: 'activation', constant: SILU_CONSTANT, detail: 'x·sigmoid(x) = SiLU/swish: max slope ≈ 1.0998' };
  const { alpha, beta } = gate;
  const constant = Math.max(Math.abs(beta), Math.abs(2 - beta), 1);
  return { type: 'fixed', kind: 'activation', constant, detail: `x·hardsigmoid(x) (α=${alpha}, β=${beta}; hard-swish when 1/6, 1/2): max slope max(|β|, |2 − β|, 1) = ${constant}` };
}
