// Helpers shared by the TF.js layers-model and graph-model readers: kernel layouts (TF's
// [...kernel, in, out] to the IR's canonical [out, in, ...kernel]), broadcasting, and the graph
// being built with its value shapes.

import type { IrNode, OpSpec, WeightTensor } from '../../model/ir';
import { ModelError } from '../../model/errors';
import { activationSpec, type ActivationName } from '../../analysis/constants';

export { broadcastShapes } from '../../analysis/broadcast';

/** Permutes a row-major tensor: result axis i is source axis perm[i]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): WeightTensor {
  const rank = shape.length;
  const dims = perm.map((p) => shape[p]);
  const srcStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) srcStrides[i] = srcStrides[i + 1] * shape[i + 1];
  const stepOut = perm.map((p) => srcStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      src += stepOut[axis];
      if (index[axis] < dims[axis]) break;
      src -= stepOut[axis] * dims[axis];
      index[axis] = 0;
    }
  }
  return { dims, data: out };
}

/** TF conv kernel [...k, cIn/group, cOut] → canonical [cOut, cIn/group, ...k]. */
export function tfConvKernelToCanonical(data: Float32Array, shape: readonly number[]): WeightTensor {
  const rank = shape.length;
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i);
  return permute(data, shape, [rank - 1, rank - 2, ...spatial]);
}

/**
 * TF depthwise kernel [...k, cIn, multiplier] → canonical grouped conv [cIn·multiplier, 1, ...k]
 * (group = cIn); output channel c·multiplier + m, as TF orders them.
 */
export function tfDepthwiseKernelToCanonical(data: Float32Array, shape: readonly number[]): WeightTensor {
  const rank = shape.length;
  const kernel = shape.slice(0, rank - 2);
  const channels = shape[rank - 2] * shape[rank - 1];
  const flat = permute(data, [...kernel, channels], [kernel.length, ...kernel.map((_, i) => i)]);
  return { dims: [channels, 1, ...kernel], data: flat.data };
}

/** Keras Conv2DTranspose kernel [...k, cOut, cIn] → canonical (ONNX ConvTranspose) [cIn, cOut, ...k]. */
export function tfTransposeKernelToCanonical(data: Float32Array, shape: readonly number[]): WeightTensor {
  const rank = shape.length;
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i);
  return permute(data, shape, [rank - 1, rank - 2, ...spatial]);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export const fmt = (shape: readonly (number | string | null)[]): string => `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;

/** A pointwise activation row's spec, or an UnsupportedSpec naming it. */
export function activationOrUnsupported(name: ActivationName | string, params: { alpha?: number; axisLength?: number }, spelled: string): OpSpec {
  return activationSpec(name, params) ?? { type: 'unsupported', detail: `activation ${spelled}` };
}

/** The graph under construction: nodes in order, the shape of every value, and warnings. */
export class GraphBuilder {
  readonly nodes: IrNode[] = [];
  readonly shapes = new Map<string, number[]>();
  /** Values whose shape is unknown (after an op the reader cannot follow), with the reason. */
  readonly unknown = new Map<string, string>();
  readonly warnings: string[] = [];
  private readonly usedNames = new Set<string>();

  constructor(readonly file: string) {}

  fail(problem: string): never {
    throw new ModelError(this.file, problem);
  }

  shape(value: string): number[] {
    const shape = this.shapes.get(value);
    if (!shape) this.fail(this.unknown.has(value) ? `value "${value}" has an unknown shape (${this.unknown.get(value)})` : `value "${value}" is used before it is produced`);
    return shape;
  }

  /** Why one of `values` has an unknown shape, or undefined when all are known. */
  unknownReason(values: readonly string[]): string | undefined {
    for (const v of values) if (this.unknown.has(v)) return this.unknown.get(v);
    return undefined;
  }

  /** A value name not used yet, derived from `base`. */
  freshValue(base: string): string {
    let name = base;
    for (let k = 1; this.shapes.has(name) || this.unknown.has(name); k++) name = `${base}_${k}`;
    return name;
  }

  /** A row name not used yet (shared layers called twice get "name#2"). */
  rowName(base: string): string {
    let name = base;
    for (let k = 2; this.usedNames.has(name); k++) name = `${base}#${k}`;
    this.usedNames.add(name);
    return name;
  }

  /** Adds a row; outputs without an output shape get an unknown shape (`unknownReason` says why). */
  add(node: Omit<IrNode, 'inputShapes'> & { inputShapes?: number[][] }, options: { unknownReason?: string } = {}): IrNode {
    const full: IrNode = { ...node, inputShapes: node.inputShapes ?? node.inputs.map((v) => [...this.shape(v)]) };
    this.nodes.push(full);
    node.outputs.forEach((value, i) => {
      const shape = full.outputShapes[i];
      if (shape) this.shapes.set(value, [...shape]);
      else this.unknown.set(value, options.unknownReason ?? `output of ${node.op} "${node.name}"`);
    });
    return full;
  }

  /** A row for an op whose input shape is unknown: listed as unsupported, its outputs unknown too. */
  addUnknown(node: Pick<IrNode, 'name' | 'op' | 'inputs' | 'outputs' | 'sourceIndex'>, reason: string): IrNode {
    return this.add({ ...node, inputShapes: [], outputShapes: [], spec: { type: 'unsupported', detail: `input shape unknown (${reason})` }, weightShape: null }, { unknownReason: reason });
  }
}
