// Chains of the expansion (docs/bracket.md): maximal runs of single-input, single-output nodes
// whose intermediate values feed nothing else, split into linear groups L₁, …, L_K and the
// non-linear maps φ₁, …, φ_{K−1} between them, each written φ = c·x + ρ·r(x) with r 1-Lipschitz.

import type { IrModel, IrNode } from '../../model/ir';

/** c and ρ of φ = c·x + ρ·r(x), r 1-Lipschitz. */
export interface Slopes {
  c: number;
  rho: number;
  /** Why these values (shown in the detail). */
  source: string;
}

export interface Chain {
  /** Node indices in order. */
  nodes: number[];
  /** K linear groups (node indices; an empty group is the identity). */
  linear: number[][];
  /** K − 1 non-linear nodes between them, with their slopes. */
  nonlinear: { index: number; slopes: Slopes }[];
}

const LINEAR_SPECS = new Set(['conv', 'convTranspose', 'dense', 'avgPool', 'globalAvgPool', 'reduceMean', 'diagonal']);

/** 'linear' for a linear map (bias and shifts aside), 'nonlinear' for one with a fixed constant, null for what ends a chain. */
export function roleOf(node: IrNode): 'linear' | 'nonlinear' | null {
  const spec = node.spec;
  if (node.inputs.length !== 1 || node.outputs.length !== 1) return null;
  if (LINEAR_SPECS.has(spec.type)) return 'linear';
  if (spec.type === 'maxPool') return 'nonlinear';
  if (spec.type === 'fixed') {
    if (spec.kind === 'structural') return 'linear';
    return 'nonlinear';
  }
  return null;
}

/**
 * Slopes of a non-linear node. Monotone activations whose slope lies in [0, L] give c = ρ = L/2;
 * ReLU-like ones with a known negative slope α give [min(α, 1), max(α, 1)]; SiLU, GELU and hard-swish
 * their measured slope ranges; anything else with constant L (max pool, softmax, ...) c = 0, ρ = L,
 * valid for any L-Lipschitz map.
 */
export function slopesOf(node: IrNode, constant: number): Slopes {
  const execution = node.execution;
  const generic: Slopes = { c: 0, rho: constant, source: `L = ${constant}: c = 0, ρ = L` };
  if (execution?.kind !== 'activation') return generic;
  const range = (a: number, b: number, source: string): Slopes => (a <= b && b - a <= 2 * constant + 1e-12 ? { c: (a + b) / 2, rho: (b - a) / 2, source } : generic);
  switch (execution.name) {
    case 'relu':
    case 'relu6':
    case 'clip':
    case 'sigmoid':
    case 'tanh':
    case 'softsign':
    case 'softplus':
    case 'hardSigmoid':
    case 'maximum':
    case 'minimum':
      // Non-decreasing with slope at most the constant (hard-sigmoid with α ≥ 0 only).
      if (execution.name === 'hardSigmoid' && !((execution.alpha ?? 0.2) >= 0)) return generic;
      return range(0, constant, `slopes in [0, ${constant}]`);
    case 'elu':
      return (execution.alpha ?? 1) >= 0 ? range(0, constant, `slopes in [0, ${constant}]`) : generic;
    case 'selu':
      return (execution.alpha ?? 1) >= 0 && (execution.beta ?? 1) >= 0 ? range(0, constant, `slopes in [0, ${constant}]`) : generic;
    case 'leakyRelu': {
      const alpha = execution.alpha ?? 0.01;
      return range(Math.min(alpha, 1), Math.max(alpha, 1), `slopes in [${Math.min(alpha, 1)}, ${Math.max(alpha, 1)}]`);
    }
    case 'prelu': {
      // Slopes 1 and each channel's α: [min(1, min α), max(1, max α)].
      const slopes = execution.operand?.data;
      if (!slopes || slopes.length === 0) return generic;
      let low = 1;
      let high = 1;
      for (const a of slopes) {
        low = Math.min(low, a);
        high = Math.max(high, a);
      }
      return range(low, high, `slopes in [${low.toPrecision(3)}, ${high.toPrecision(3)}]`);
    }
    case 'silu':
      // σ(x)(1 + x(1 − σ(x))) runs over [1 − L, L] with L ≈ 1.0998 (its minimum is −0.0998).
      return range(1 - constant, constant, `slopes in [${(1 - constant).toFixed(4)}, ${constant.toFixed(4)}]`);
    case 'hardSwish':
      return range(-0.5, 1.5, 'slopes in [−0.5, 1.5]');
    case 'linear':
      return { c: 1, rho: 0, source: 'identity' };
    case 'neg':
      return { c: -1, rho: 0, source: '−x' };
    default:
      return generic;
  }
}

/** All chains with at least one linear node; every node of a chain but the last feeds only the next. */
export function findChains(model: IrModel, constants: readonly number[]): Chain[] {
  const consumers = new Map<string, number>();
  for (const node of model.nodes) for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  const producer = new Map<string, number>();
  model.nodes.forEach((node, index) => node.outputs.forEach((output) => producer.set(output, index)));
  const graphOutputs = new Set(model.outputs);
  const roles = model.nodes.map(roleOf);
  /** The chain continues from node a into node b. */
  const links = (a: number, b: number) => {
    const value = model.nodes[a].outputs[0];
    return roles[a] !== null && roles[b] !== null && model.nodes[b].inputs[0] === value && consumers.get(value) === 1 && !graphOutputs.has(value);
  };
  const next = new Map<number, number>();
  const hasPrevious = new Set<number>();
  model.nodes.forEach((node, b) => {
    if (roles[b] === null) return;
    const a = producer.get(node.inputs[0]);
    if (a !== undefined && links(a, b)) {
      next.set(a, b);
      hasPrevious.add(b);
    }
  });
  const chains: Chain[] = [];
  model.nodes.forEach((_, start) => {
    if (roles[start] === null || hasPrevious.has(start)) return;
    const nodes = [start];
    for (let at = next.get(start); at !== undefined; at = next.get(at)) nodes.push(at);
    const linear: number[][] = [[]];
    const nonlinear: Chain['nonlinear'] = [];
    for (const index of nodes) {
      if (roles[index] === 'linear') linear[linear.length - 1].push(index);
      else {
        nonlinear.push({ index, slopes: slopesOf(model.nodes[index], constants[index]) });
        linear.push([]);
      }
    }
    if (nodes.some((index) => roles[index] === 'linear')) chains.push({ nodes, linear, nonlinear });
  });
  return chains;
}
