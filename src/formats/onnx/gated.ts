// x·sigmoid(x) and x·hardsigmoid(x) written as two nodes: PyTorch exports SiLU/swish as Sigmoid +
// Mul, and hard-swish below opset 14 as HardSigmoid + Mul. A Mul of x with a gate computed from
// the same x is a pointwise activation of x with a known Lipschitz constant, not the product of two
// independent data tensors that a Mul of two data inputs is in general (which is not Lipschitz).

import { gatedActivationSpec } from '../../analysis/constants';
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
 * is (constants in gatedActivationSpec); undefined for any other Mul.
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
    const execution = gate.kind === 'sigmoid' ? { kind: 'activation' as const, name: 'silu' } : { kind: 'activation' as const, name: 'gatedHardSigmoid', alpha: gate.alpha, beta: gate.beta };
    return { spec: gatedActivationSpec(gate), outputShapes: [a], dataInputs: [x], execution };
  }
  return undefined;
}
