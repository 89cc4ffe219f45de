// What an op handler sees (its node, its inputs as dynamic shapes or folded constants) and what it
// returns (an IR spec with output shapes, or folded constants).

import type { NodeExecution, OpSpec } from '../../model/ir';
import { ModelError } from '../../model/errors';
import { broadcastShapes as sharedBroadcast } from '../../analysis/broadcast';
import { Attributes, type onnx } from './proto';
import type { ConstTensor } from './tensor';

/** A value in the graph: data-dependent with a concrete shape, a folded constant, or unknown. */
export type Value =
  | { kind: 'dynamic'; shape: number[] }
  | { kind: 'const'; tensor: ConstTensor }
  /** `data`: it may carry the signal (the output of a data op the reader cannot follow). */
  | { kind: 'unknown'; reason: string; data?: boolean };

export interface NodeResult {
  spec: OpSpec;
  /** One shape per output slot of the node (empty output names included, their entry is ignored). */
  outputShapes: number[][];
  /** The weight's shape as stored in the file. */
  weightShape?: number[] | null;
  /** Positions of the inputs that are data flow (default: every dynamic input). */
  dataInputs?: number[];
  /** Output slots that are constants although the node reads data (DynamicQuantizeLinear's scale and zero point, read on real values). */
  constOutputs?: (ConstTensor | undefined)[];
  /** Rows listed before the node's own, off the data path (a recurrent cell's weight matrices, one row each). */
  extraRows?: { name: string; spec: OpSpec; inputShape: number[]; outputShape: number[]; weightShape: number[] }[];
  /** How the graph executor runs the node (src/model/ir.ts); absent: not executable. */
  execution?: NodeExecution;
}

export class NodeContext {
  readonly attrs: Attributes;
  readonly name: string;
  readonly op: string;

  constructor(
    readonly node: onnx.INodeProto,
    readonly opset: number,
    readonly inputs: (Value | undefined)[],
    readonly file: string,
    private readonly warnings: string[],
    private readonly resolveTensor: (tensor: onnx.ITensorProto, describe: string) => ConstTensor,
  ) {
    this.attrs = new Attributes(node.attribute);
    this.op = node.opType ?? '';
    this.name = node.name || node.output?.[0] || this.op;
  }

  /** The same node seen with other inputs (quantised ops hand their real-valued equivalent to the float op's handler). */
  withInputs(inputs: (Value | undefined)[]): NodeContext {
    return new NodeContext(this.node, this.opset, inputs, this.file, this.warnings, this.resolveTensor);
  }

  get domain(): string {
    return this.node.domain ?? '';
  }

  get outputCount(): number {
    return this.node.output?.length ?? 0;
  }

  fail(problem: string): never {
    throw new ModelError(this.file, `${this.op} node "${this.name}": ${problem}`);
  }

  warn(message: string): void {
    this.warnings.push(`${this.op} node "${this.name}": ${message}`);
  }

  /** A tensor-valued attribute decoded (external data already read by the loader). */
  tensorAttribute(tensor: onnx.ITensorProto, describe: string): ConstTensor {
    return this.resolveTensor(tensor, describe);
  }

  has(index: number): boolean {
    return this.inputs[index] !== undefined;
  }

  isDynamic(index: number): boolean {
    return this.inputs[index]?.kind === 'dynamic';
  }

  dynamicIndices(): number[] {
    return this.inputs.flatMap((v, i) => (v?.kind === 'dynamic' ? [i] : []));
  }

  /** The shape of input `index`, dynamic or constant. */
  shape(index: number): number[] {
    const v = this.inputs[index];
    if (!v) this.fail(`input ${index + 1} is missing`);
    if (v.kind === 'dynamic') return v.shape;
    if (v.kind === 'const') return v.tensor.dims;
    this.fail(`input ${index + 1} has an unknown shape`);
  }

  /** The data input's shape; fails when it is not data-dependent. */
  dynamic(index: number): number[] {
    const v = this.inputs[index];
    if (v?.kind !== 'dynamic') this.fail(`input ${index + 1} was expected to depend on the network input`);
    return v.shape;
  }

  /** A constant input, or undefined when it is missing or data-dependent. */
  constant(index: number): ConstTensor | undefined {
    const v = this.inputs[index];
    return v?.kind === 'const' ? v.tensor : undefined;
  }

  /** A constant input that must be there (a weight, a target shape): fails otherwise. */
  requireConstant(index: number, what: string): ConstTensor {
    const v = this.inputs[index];
    if (!v) this.fail(`${what} (input ${index + 1}) is missing`);
    if (v.kind !== 'const') this.fail(`${what} (input ${index + 1}) depends on the data, so its value cannot be known before running the model`);
    return v.tensor;
  }

  /** Integer values of an optional constant input (shape vectors, axes, pads), or undefined when absent or empty-named. */
  intsInput(index: number, what: string): number[] | undefined {
    if (!this.has(index)) return undefined;
    return [...this.requireConstant(index, what).data];
  }
}

export interface OpHandler {
  /** Shape inference and spec for a node with at least one data-dependent input. */
  infer?(ctx: NodeContext): NodeResult | ConstTensor[];
  /** Constant folding for a node whose inputs are all constants; undefined when it cannot fold. */
  fold?(ctx: NodeContext): ConstTensor[] | undefined;
}

/** Normalises a possibly negative axis against `rank`; fails when out of range. */
export function normAxis(ctx: NodeContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** NumPy-style broadcast of shapes (analysis/broadcast.ts); fails when they do not broadcast. */
export function broadcastShapes(ctx: NodeContext, shapes: number[][]): number[] {
  return sharedBroadcast(...shapes) ?? ctx.fail(`shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} do not broadcast`);
}

export { broadcastIndex, stridesOf } from '../../analysis/broadcast';

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
