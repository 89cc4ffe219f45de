// The part of the graph the bound is about (docs/graphs.md): the nodes that depend on the signal
// input (the other inputs are held fixed, so what depends on them alone is a constant), and, when
// outputs are chosen, only the nodes that lead to those outputs.

import type { IrModel, IrNode } from '../model/ir';
import { ModelError } from '../model/errors';

/**
 * Cuts `model` to the sub-network from its signal input (model.inputs[0]) to `outputs` (default:
 * the graph's outputs). Inputs of a row that do not depend on the signal are dropped from its
 * inputs (they are fixed); rows with no signal-dependent input are dropped.
 */
export function selectSubgraph(model: IrModel, outputs?: readonly string[]): IrModel {
  const signal = model.signalInput ?? model.inputs[0]?.name;
  if (outputs && outputs.length > 0) checkOutputs(model, outputs);
  const chosen = outputs && outputs.length > 0 ? [...new Set(outputs)] : model.outputs;
  if (model.inputs.length <= 1 && chosen === model.outputs) return { ...model, ...(signal !== undefined ? { signalInput: signal } : {}) };

  // Forward: values that depend on the signal. A row with no recorded inputs (its inputs unknown) is kept as is.
  const carries = new Set<string>(signal !== undefined ? [signal] : []);
  const forward = model.nodes.map((node) => {
    const live = node.inputs.length === 0 || node.inputs.some((v) => carries.has(v));
    if (live) for (const v of node.outputs) carries.add(v);
    return live;
  });
  // Backward: rows whose outputs lead to a chosen output.
  const needed = new Set(chosen);
  const backward = new Array<boolean>(model.nodes.length).fill(false);
  for (let i = model.nodes.length - 1; i >= 0; i--) {
    const node = model.nodes[i];
    if (!node.outputs.some((v) => needed.has(v))) continue;
    backward[i] = true;
    for (const v of node.inputs) needed.add(v);
  }
  const nodes = model.nodes.flatMap((node, i) => {
    if (!forward[i] || !backward[i]) return [];
    const keep = node.inputs.map((v, k) => ({ v, k })).filter(({ v }) => carries.has(v));
    if (keep.length === node.inputs.length) return [node];
    return [{ ...node, inputs: keep.map(({ v }) => v), inputShapes: keep.map(({ k }) => node.inputShapes[k]).filter((s) => s !== undefined) }];
  });
  const outputShapes = new Map((model.metadata.outputShapes ?? []).map((o) => [o.name, o.shape]));
  const shapeOf = (name: string) => outputShapes.get(name) ?? model.nodes.flatMap((n) => n.outputs.flatMap((v, k) => (v === name ? [n.outputShapes[k] ?? []] : [])))[0] ?? model.inputs.find((i) => i.name === name)?.shape ?? [];
  const dropped = chosen === model.outputs ? 0 : model.nodes.length - nodes.length;
  const warnings = chosen === model.outputs ? model.warnings : [...model.warnings, `bounding the sub-network from "${signal}" to ${chosen.map((o) => `"${o}"`).join(', ')}; ${dropped} row(s) outside it are left out`];
  return {
    ...model,
    ...(signal !== undefined ? { signalInput: signal } : {}),
    outputs: chosen,
    ...(chosen !== model.outputs ? { outputsChosen: true } : {}),
    nodes,
    metadata: { ...model.metadata, outputShapes: chosen.map((name) => ({ name, shape: shapeOf(name) })) },
    warnings,
  };
}

function checkOutputs(model: IrModel, outputs: readonly string[]): void {
  const known = new Set<string>([...model.inputs.map((i) => i.name), ...model.nodes.flatMap((n) => n.outputs), ...model.outputs]);
  for (const name of outputs) {
    if (known.has(name)) continue;
    const near = [...known].filter((k) => k.toLowerCase().includes(name.toLowerCase())).slice(0, 5);
    const hint = near.length > 0 ? `; values with a similar name: ${near.map((n) => `"${n}"`).join(', ')}` : `; the graph's outputs are ${model.outputs.map((n) => `"${n}"`).join(', ')}`;
    throw new ModelError(model.path, `has no value "${name}" that depends on the input${hint}`);
  }
}

/** Which row produces each value and which rows read it (pattern matchers walk both ways). */
export function graphIndex(model: IrModel): { producers: Map<string, IrNode>; consumers: Map<string, IrNode[]> } {
  const producers = new Map<string, IrNode>();
  const consumers = new Map<string, IrNode[]>();
  for (const node of model.nodes) {
    for (const output of node.outputs) producers.set(output, node);
    for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  return { producers, consumers };
}
