// The graph-aware network bound: every value gets the Lipschitz constant of the map from the
// network input to it. Along an edge constants multiply; at a sum they add (L(f+g) ≤ L(f)+L(g));
// at a concat they combine as √(ΣL²); a weighted sum (a broadcast difference, a product of bounded
// factors: docs/op-coverage.md) adds its inputs' bounds times their weights; a map of several inputs with constant c gets c·√(ΣL²).
// Unknown ops poison what flows through them (NaN: invalid); unbounded ops give +∞.
// The rules and why they hold: docs/math.md, "Composition".

import type { IrModel, IrNode } from '../model/ir';

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
    const out = nodeBound(node.spec, node.inputs.map((name) => (valueBound.has(name) ? valueBound.get(name) : 0)), constants[index]);
    running.push(out);
    for (const name of node.outputs) valueBound.set(name, out);
  });

  const network = networkBound(model.outputs.map((name) => valueBound.get(name) ?? (valueBound.has(name) ? undefined : 0)));
  return { running, network };
}

/** The bound at a node's outputs from the bounds at its inputs and its constant c (undefined: not known yet). */
function nodeBound(spec: IrNode['spec'], inputs: (number | undefined)[], c: number | undefined): number | undefined {
  let out: number | undefined;
  if (inputs.some((v) => v === undefined) || c === undefined) {
    out = inputs.some((v) => Number.isNaN(v)) || Number.isNaN(c) ? NaN : undefined;
  } else {
    const known = inputs as number[];
    switch (spec.type) {
      case 'add': {
        // c is 1 for a sum (a difference has the same rule); weighted for broadcasts and bounded products.
        const weights = spec.weights;
        out = c * known.reduce((sum, bound, i) => sum + weighted(bound, weights?.[i] ?? 1), 0);
        break;
      }
      default:
        // A constant-0 row (a multiply by 0) outputs a constant whatever its input, even an unbounded one.
        out = c === 0 && !known.some((v) => Number.isNaN(v)) ? 0 : c * combineJointly(known);
    }
  }
  if (Number.isNaN(c)) out = NaN;
  return out;
}

/** The bound for all outputs jointly, from each output's bound. */
function networkBound(outputs: (number | undefined)[]): number | undefined {
  return outputs.some((v) => v === undefined)
    ? outputs.some((v) => Number.isNaN(v)) ? NaN : undefined
    : combineJointly(outputs as number[]);
}

/** Where a node input's bound comes from: a node (its index), the network input, or a constant. */
const NETWORK_INPUT = -1;
const CONSTANT = -2;

/**
 * compose() kept up to date while constants arrive one at a time (layers finish in any order):
 * setting a constant re-evaluates only the nodes whose bound it newly determines, so a run costs
 * O(edges) in all instead of a whole-graph composition per finished layer. At every moment it
 * holds exactly what compose(model, constants so far) returns (same rules, same arithmetic).
 */
export class RunningComposition {
  private readonly specs: IrNode['spec'][];
  private readonly sources: number[][];
  private readonly consumers: number[][];
  private readonly outputSources: number[];
  private readonly constants: (number | undefined)[];
  private readonly values: (number | undefined)[];

  constructor(model: IrModel) {
    // The source of each name as compose() sees it: the last writer before the reading node.
    const writer = new Map<string, number>();
    for (const input of model.inputs) writer.set(input.name, NETWORK_INPUT);
    this.specs = model.nodes.map((node) => node.spec);
    this.consumers = model.nodes.map(() => []);
    this.sources = model.nodes.map((node, index) => {
      const sources = node.inputs.map((name) => writer.get(name) ?? CONSTANT);
      for (const source of new Set(sources)) if (source >= 0) this.consumers[source].push(index);
      for (const name of node.outputs) writer.set(name, index);
      return sources;
    });
    this.outputSources = model.outputs.map((name) => writer.get(name) ?? CONSTANT);
    this.constants = new Array(model.nodes.length).fill(undefined);
    this.values = new Array(model.nodes.length).fill(undefined);
  }

  /** Sets node `index`'s constant and updates every bound that depends on it. */
  set(index: number, constant: number): void {
    this.constants[index] = constant;
    const pending = [index];
    while (pending.length > 0) {
      const node = pending.pop() as number;
      const value = nodeBound(this.specs[node], this.sources[node].map((source) => this.sourceValue(source)), this.constants[node]);
      // A bound only ever goes from unknown to its final value, so each node changes at most once.
      if (Object.is(value, this.values[node])) continue;
      this.values[node] = value;
      pending.push(...this.consumers[node]);
    }
  }

  /** The bound from the network input to node `index`'s outputs (as compose().running[index]). */
  running(index: number): number | undefined {
    return this.values[index];
  }

  /** The bound for the whole network (as compose().network). */
  get network(): number | undefined {
    return networkBound(this.outputSources.map((source) => this.sourceValue(source)));
  }

  snapshot(): Composition {
    return { running: [...this.values], network: this.network };
  }

  private sourceValue(source: number): number | undefined {
    return source === NETWORK_INPUT ? 1 : source === CONSTANT ? 0 : this.values[source];
  }
}

/** w·L, where a zero weight silences even an unbounded input (0·∞ would be NaN). */
function weighted(bound: number, weight: number): number {
  return weight === 0 && !Number.isNaN(bound) ? 0 : weight * bound;
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
