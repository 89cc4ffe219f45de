// The graph-aware network bound: every value gets the Lipschitz constant of the map from the
// network input to it. Along an edge constants multiply; at a sum they add (L(f+g) ≤ L(f)+L(g));
// at a concat they combine as √(ΣL²); a map of several inputs with constant c gets c·√(ΣL²).
// Unknown ops poison what flows through them (NaN: invalid); unbounded ops give +∞.

import type { IrModel } from '../model/ir';

export interface NodeConstants {
  /** Per node: the constant used for composition (σ, a fixed constant, ...); NaN = invalid/unknown, Infinity = unbounded. */
  constants: number[];
}

export interface Composition {
  /** Per node: the bound from the network input to the node's outputs (NaN invalid, ∞ unbounded, undefined if unknown yet). */
  running: (number | undefined)[];
  /** Bound for the whole network (all outputs jointly); NaN invalid, ∞ unbounded, undefined unknown. */
  network: number | undefined;
}

/**
 * @param constants per node, in model.nodes order: a number, or undefined when not computed yet
 * (its downstream then stays undefined too, so partial results can stream).
 */
export function compose(model: IrModel, constants: (number | undefined)[]): Composition {
  const valueBound = new Map<string, number | undefined>();
  for (const input of model.inputs) valueBound.set(input.name, 1);
  const running: (number | undefined)[] = [];

  model.nodes.forEach((node, index) => {
    // Inputs not produced inside the graph and not graph inputs are constants: they carry no signal.
    const inputs = node.inputs.map((name) => (valueBound.has(name) ? valueBound.get(name) : 0));
    const c = constants[index];
    let out: number | undefined;
    if (inputs.some((v) => v === undefined) || c === undefined) {
      out = inputs.some((v) => Number.isNaN(v)) || Number.isNaN(c) ? NaN : undefined;
    } else {
      const known = inputs as number[];
      switch (node.spec.type) {
        case 'add':
          // c is 1 for a sum (a difference has the same rule).
          out = c * known.reduce((a, b) => a + b, 0);
          break;
        default:
          out = c * combineJointly(known);
      }
    }
    if (Number.isNaN(c)) out = NaN;
    running.push(out);
    for (const name of node.outputs) valueBound.set(name, out);
  });

  const outputs = model.outputs.map((name) => valueBound.get(name) ?? (valueBound.has(name) ? undefined : 0));
  const network = outputs.some((v) => v === undefined)
    ? outputs.some((v) => Number.isNaN(v)) ? NaN : undefined
    : combineJointly(outputs as number[]);
  return { running, network };
}

/** √(Σ Lᵢ²): the constant of x ↦ (f₁(x), ..., fₙ(x)); exact for one input. Handles ∞ and NaN. */
function combineJointly(values: number[]): number {
  if (values.length === 1) return values[0];
  if (values.some((v) => Number.isNaN(v))) return NaN;
  if (values.some((v) => v === Infinity)) return Infinity;
  const largest = Math.max(0, ...values);
  if (largest === 0) return 0;
  return largest * Math.sqrt(values.reduce((sum, v) => sum + (v / largest) ** 2, 0));
}
