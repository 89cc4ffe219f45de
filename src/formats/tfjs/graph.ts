// TF.js graph-model (tfjs-converter output: a GraphDef as JSON) → IR. Const nodes take their values
// from the weights manifest (or an inline tensor); attributes are TF AttrValue JSON
// (`{"list": {"i": ["1","2","2","1"]}}`, `{"s": base64}`, `{"f": 0.2}`, `{"type": "DT_FLOAT"}`).

import type { ConvSpec, IrModel, IrValueInfo, NodeExecution, OpSpec } from '../../model/ir';
import type { OpenOptions } from '../../model/files';
import { BrokenFileError, ModelError } from '../../model/errors';
import { activationSpec, powerSpec, SELECTS, shiftValues, structural } from '../../analysis/constants';
import { ROUNDING, TRANSFORMS, interpolationRows, resizeNorm, type AxisResize, type CoordinateTransform } from '../../analysis/resize';
import { product, resolvePads, slidingOutputSize } from '../../analysis/shapes';
import { largestCopies } from '../../analysis/padding';
import { gatherNdNorm, gatherNdPlan } from '../../analysis/gather-nd';
import { broadcastCopies, broadcastScaleNorm } from '../../analysis/broadcast';
import { EINSUM_NOT_A_PRODUCT, einsumBatchedMatmul, einsumModeProduct, einsumShape } from '../einsum';
import { graphActivation } from './activations';
import { GraphBuilder, activationOrUnsupported, broadcastShapes, fmt, normalizeAxis, sameShape, tfConvKernelToCanonical, tfDepthwiseKernelToCanonical } from './common';
import type { WeightStore } from './weights';
import { SHAPE_OPS, foldTfNode, foldTfOutputs, stridedSliceGeometry, type ConstValue, type FoldNode } from './fold';
import { GraphOrderError, topologicalOrder } from '../../analysis/topological';

type Json = Record<string, unknown>;

/** TF control flow: functional loops and branches (bodies in the library) and the parts of TF1 while loops and conds. */
/** Pointwise ops that are not globally Lipschitz (their rows are unbounded, with the reason). */
const NOT_LIPSCHITZ: Record<string, string> = {
  Square: 'x^2 is not globally Lipschitz',
  Sqrt: '√x is not Lipschitz at 0',
  Rsqrt: '1/√x is not Lipschitz at 0',
  Reciprocal: '1/x is not globally Lipschitz',
  Inv: '1/x is not globally Lipschitz',
  Log: 'log is not globally Lipschitz',
  Log1p: 'log is not globally Lipschitz',
  Floor: 'rounding is a step function: not Lipschitz',
  Ceil: 'rounding is a step function: not Lipschitz',
  Round: 'rounding is a step function: not Lipschitz',
  Sign: 'sign is a step function: not Lipschitz',
};

const LOOP_PARTS = new Set(['Enter', 'Exit', 'Merge', 'Switch', 'NextIteration', 'LoopCond', 'RefEnter', 'RefExit', 'RefMerge', 'RefSwitch', 'RefNextIteration']);
const CONTROL_FLOW = new Set([...LOOP_PARTS, 'While', 'StatelessWhile', 'If', 'StatelessIf', 'Case', 'StatelessCase', 'PartitionedCall', 'StatefulPartitionedCall']);

/** Unknown ops whose output has their first input's shape. */
const POINTWISE = new Set(['Abs', 'Neg', 'Square', 'Sqrt', 'Rsqrt', 'Exp', 'Log', 'Log1p', 'Expm1', 'Floor', 'Ceil', 'Round', 'Sign', 'Reciprocal', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Erf', 'ZerosLike', 'OnesLike', 'Cast', 'LogicalNot', 'IsNan', 'IsInf', 'IsFinite', 'ClipByValue', 'Softplus', 'Softsign', 'Inv']);
/** Unknown ops whose output is the broadcast of their inputs' shapes. */
const ELEMENTWISE = new Set(['Maximum', 'Minimum', 'SquaredDifference', 'Pow', 'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'FloorDiv', 'FloorMod', 'Mod', 'Atan2', 'SelectV2', 'DivNoNan', 'TruncateDiv']);

interface GraphNodeDef {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, Json>;
  index: number;
}


const TF_DTYPES: Record<string, string> = {
  DT_FLOAT: 'float32', DT_HALF: 'float32', DT_BFLOAT16: 'float32', DT_DOUBLE: 'float32', DT_INT32: 'int32', DT_INT64: 'int32',
  DT_INT16: 'int32', DT_INT8: 'int32', DT_UINT8: 'int32', DT_UINT16: 'int32', DT_BOOL: 'bool', DT_STRING: 'string', DT_COMPLEX64: 'complex64',
};

export async function readGraphModel(json: Json, weights: WeightStore, options: OpenOptions, file: string): Promise<IrModel> {
  const topology = json.modelTopology as Json;
  const rawNodes = topology.node;
  if (!Array.isArray(rawNodes)) throw new ModelError(file, 'modelTopology.node is not a list');
  const reader = new GraphReader(file, weights, options, rawNodes);
  reader.read();
  const outputs = reader.outputs(json);
  const library = topology.library as Json | undefined;
  const functions = Array.isArray(library?.function) ? (library.function as unknown[]).length : 0;
  if (functions > 0) reader.graph.warnings.push(`the graph has ${functions} library function(s) (control flow bodies); ops that call them are unsupported`);
  const g = reader.graph;
  return {
    format: 'tfjs-graph',
    path: file,
    inputs: reader.orderedInputs(),
    signalInput: reader.signal(),
    outputs,
    nodes: g.nodes,
    metadata: {
      producer: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
      producerVersion: typeof json.convertedBy === 'string' ? json.convertedBy : undefined,
      nodeCount: rawNodes.length,
      parameterCount: weights.parameterCount,
      outputShapes: outputs.map((name) => ({ name, shape: g.shapes.has(name) ? [...g.shape(name)] : ['?'] })),
    },
    warnings: [...weights.warnings, ...g.warnings],
  };
}

class GraphReader {
  readonly graph: GraphBuilder;
  readonly inputs: IrValueInfo[] = [];
  private readonly defs: GraphNodeDef[];
  private readonly byName = new Map<string, GraphNodeDef>();
  private readonly constCache = new Map<string, ConstValue | null>();
  /** Values computed from constants only (no signal); their numbers are known when in constCache. */
  private readonly constantValues = new Set<string>();
  /** Nodes whose outputs (every ":k") have an unknown shape, with the reason. */
  private readonly unknownNodes = new Map<string, string>();
  /** Values on a branch not taken (after a Switch on a known predicate), and the nodes that read them. */
  private readonly deadValues = new Set<string>();
  private readonly deadNodes = new Set<string>();
  /** Selects that are leaky ReLUs written out, and the comparisons only they read (leakyWheres). */
  private leaky?: { selects: Map<string, { x: string; alpha: number }>; conditions: Set<string> };
  private readonly reportedPredicates = new Set<string>();
  private signalName: string | undefined;

  constructor(
    readonly file: string,
    readonly weights: WeightStore,
    readonly options: OpenOptions,
    rawNodes: unknown[],
  ) {
    this.graph = new GraphBuilder(file);
    this.defs = rawNodes.map((raw, index) => {
      if (typeof raw !== 'object' || raw === null) throw new ModelError(file, `node ${index} is not an object`);
      const n = raw as Json;
      if (typeof n.name !== 'string' || typeof n.op !== 'string') throw new ModelError(file, `node ${index} has no name or op`);
      const input = Array.isArray(n.input) ? n.input.filter((i): i is string => typeof i === 'string') : [];
      const attr = (typeof n.attr === 'object' && n.attr !== null ? n.attr : {}) as Record<string, Json>;
      return { name: n.name, op: n.op, input, attr, index };
    });
    for (const def of this.defs) {
      if (this.byName.has(def.name)) throw new ModelError(file, `two nodes are named "${def.name}"`);
      this.byName.set(def.name, def);
    }
  }

  fail(problem: string): never {
    throw new ModelError(this.file, problem);
  }

  read(): void {
    this.checkInputNames();
    for (const def of this.order()) {
      if (def.op === 'Const') {
        this.constantValues.add(def.name);
        continue;
      }
      if (def.op === 'Placeholder' || def.op === 'PlaceholderWithDefault') {
        this.placeholder(def);
        continue;
      }
      if (def.op === 'NoOp') continue;
      const inputs = this.dataInputs(def);
      // A branch not taken (a Switch on a known predicate) never runs: what reads it is dead too.
      if (def.op === 'Merge') {
        if (this.merge(def, inputs)) continue;
      } else if (inputs.some((v) => this.isDead(v))) {
        this.deadNodes.add(def.name);
        continue;
      }
      if (def.op === 'Switch' && this.switch(def, inputs)) continue;
      // Shape / Size / Rank of a value whose shape is known are constants (fold.ts).
      if (SHAPE_OPS.has(def.op) && inputs[0] !== undefined && (this.isConstantValue(inputs[0]) || this.graph.shapes.has(inputs[0]))) {
        this.constantValues.add(def.name);
        continue;
      }
      const dynamic = inputs.filter((v) => !this.isConstantValue(v));
      if (dynamic.length === 0) {
        // A computation on constants only: it carries no signal (its value is folded when needed).
        this.constantValues.add(def.name);
        continue;
      }
      if (CONTROL_FLOW.has(def.op)) {
        // Loop parts read values of later iterations (NextIteration): listed, their outputs unknown unless declared.
        this.unsupported(def, dynamic, `control flow ${def.op}: ${LOOP_PARTS.has(def.op) ? 'part of a while loop or of a tf.cond on a value not known before running' : 'a loop or a branch chosen at run time'}, not followed`);
        continue;
      }
      // A list a while loop wrote, stacked after it: its shape is the list's (num_elements, element_shape), whatever the loop did.
      if (def.op === 'TensorListStack' && this.shapeRule(def)) {
        this.unsupported(def, dynamic, 'TensorListStack of a list written in a while loop (the loop is not followed); its shape is the list\'s declared number of elements and element shape');
        continue;
      }
      const leaky = this.leakyWheres();
      if (leaky.conditions.has(def.name)) continue;
      const where = leaky.selects.get(def.name);
      if (where && this.graph.shapes.has(where.x) && sameShape(this.shapeOf(where.x), this.broadcastAll(def, inputs.slice(1)))) {
        const shape = this.shapeOf(where.x);
        this.runnable(def, [where.x], activationOrUnsupported('leakyRelu', { alpha: where.alpha }, def.op), shape, { kind: 'activation', name: 'leakyRelu', alpha: where.alpha });
        continue;
      }
      const unknown = dynamic.map((v) => this.unknownOf(v)).find((r) => r !== undefined);
      if (unknown !== undefined) {
        this.graph.addUnknown({ name: this.graph.rowName(def.name), op: def.op, inputs: dynamic.map((v) => this.rowInput(v)), outputs: [def.name], sourceIndex: def.index }, unknown);
        this.unknownNodes.set(def.name, unknown);
        continue;
      }
      try {
        this.node(def, dynamic);
      } catch (error) {
        // An op the reader knows but cannot follow here is reported on its row, never an abort.
        if (!(error instanceof ModelError) || error instanceof BrokenFileError) throw error;
        this.unsupported(def, dynamic, error.problem);
      }
    }
  }

  /**
   * The value a row reads for `v`: `v` itself when a row produced it, else the output its producer
   * was listed with (an op followed no further lists one output for all its ":k"), so the bound
   * never loses the edge.
   */
  private rowInput(v: string): string {
    if (this.graph.shapes.has(v) || this.graph.unknown.has(v)) return v;
    const p = producer(v);
    return this.graph.shapes.has(p) || this.graph.unknown.has(p) ? p : v;
  }

  private isDead(v: string): boolean {
    return this.deadValues.has(v) || this.deadNodes.has(producer(v));
  }

  /**
   * A Switch on a predicate known before running (constants, an input fixed with --input-value):
   * output 1 carries the data when true, output 0 when false; the other is dead. False when the
   * predicate is not known (then it is control flow that cannot be folded).
   */
  private switch(def: GraphNodeDef, inputs: string[]): boolean {
    const [data, pred] = inputs;
    if (pred === undefined || !this.isConstantValue(pred)) return false;
    const value = this.constant(pred);
    if (!value || value.values.length !== 1) return false;
    const taken = value.values[0] ? 1 : 0;
    const live = taken === 0 ? def.name : `${def.name}:1`;
    this.deadValues.add(taken === 0 ? `${def.name}:1` : def.name);
    if (!this.reportedPredicates.has(pred)) this.graph.warnings.push(`the predicate "${pred}" is fixed (${taken ? 'true' : 'false'}): only the branch it takes is analysed`);
    this.reportedPredicates.add(pred);
    if (this.isConstantValue(data)) {
      this.constantValues.add(live);
      this.constCache.set(live, this.constant(data) ?? null);
      return true;
    }
    const unknown = this.unknownOf(data);
    if (unknown !== undefined) {
      this.graph.addUnknown({ name: this.graph.rowName(def.name), op: def.op, inputs: [this.rowInput(data)], outputs: [live], sourceIndex: def.index }, unknown);
      return true;
    }
    this.row(def, [data], structural(`Switch on a fixed predicate: the ${taken ? 'true' : 'false'} branch, 1`), this.shapeOf(data), null, live);
    return true;
  }

  /** A Merge with exactly one input alive (the others on branches not taken) is that input; false otherwise. */
  private merge(def: GraphNodeDef, inputs: string[]): boolean {
    const live = inputs.filter((v) => !this.isDead(v));
    if (live.length === 0) {
      this.deadNodes.add(def.name);
      return true;
    }
    if (live.length !== 1 || live.length === inputs.length) return false;
    const [value] = live;
    if (this.isConstantValue(value)) {
      this.constantValues.add(def.name);
      this.constCache.set(def.name, this.constant(value) ?? null);
      return true;
    }
    const unknown = this.unknownOf(value);
    if (unknown !== undefined) {
      this.graph.addUnknown({ name: this.graph.rowName(def.name), op: def.op, inputs: [this.rowInput(value)], outputs: [def.name], sourceIndex: def.index }, unknown);
      this.unknownNodes.set(def.name, unknown);
      return true;
    }
    this.row(def, [value], structural('Merge of the one branch taken: 1'), this.shapeOf(value));
    return true;
  }

  /** Why value `v` has an unknown shape (its producer could not be followed), or undefined. */
  private unknownOf(v: string): string | undefined {
    const reason = this.graph.unknown.get(v) ?? this.unknownNodes.get(producer(v));
    if (reason !== undefined) return reason;
    if (!this.graph.shapes.has(v) && !this.isConstantValue(v)) return `output "${v}" of ${this.byName.get(producer(v))?.op ?? 'an op'} "${producer(v)}" is not followed`;
    return undefined;
  }

  /** Graph outputs: the signature's, else the values no node consumes. */
  outputs(json: Json): string[] {
    const signature = (json.signature ?? (json.userDefinedMetadata as Json | undefined)?.signature) as Json | undefined;
    const declared = signature && typeof signature.outputs === 'object' && signature.outputs !== null ? Object.entries(signature.outputs as Record<string, Json>) : [];
    const names = declared
      .map(([key, v]) => valueName(typeof v.name === 'string' ? v.name : key))
      .filter((name) => this.graph.shapes.has(name) || this.graph.unknown.has(name));
    if (names.length > 0) return names;
    const consumed = new Set<string>();
    for (const def of this.defs) for (const i of def.input) consumed.add(valueName(i.replace(/^\^/, '')));
    for (const node of this.graph.nodes) for (const i of node.inputs) consumed.add(i);
    const outs: string[] = [];
    for (const node of this.graph.nodes) for (const v of node.outputs) if (!consumed.has(v) && !outs.includes(v)) outs.push(v);
    return outs;
  }

  /**
   * Nodes in dependency order (analysis/topological.ts). A TF1 while loop feeds NextIteration back
   * into Merge: that edge is left out, so the loop's nodes order like any others.
   */
  private order(): GraphNodeDef[] {
    const nodes = this.defs.map((def) => ({
      inputs: def.input.map((i) => producer(i)).filter((p) => !(def.op === 'Merge' && this.byName.get(p)?.op === 'NextIteration')),
      outputs: [def.name],
    }));
    try {
      return topologicalOrder(nodes, () => false, {
        producedTwice: (value) => `two nodes are named "${value}"`,
        dangling: (i, value) => `node "${this.defs[i].name}" takes "${value}", which no node produces`,
        cycle: (i) => `the graph has a cycle through node "${this.defs[i].name}"`,
      }).map((i) => this.defs[i]);
    } catch (error) {
      if (error instanceof GraphOrderError) this.fail(error.message);
      throw error;
    }
  }

  private dataInputs(def: GraphNodeDef): string[] {
    return def.input.filter((i) => !i.startsWith('^')).map(valueName);
  }

  /** The input the bound is taken with respect to: the one named, else the first floating-point placeholder. */
  signal(): string | undefined {
    if (this.signalName === undefined) {
      const placeholders = this.defs.filter((d) => d.op === 'Placeholder' || d.op === 'PlaceholderWithDefault');
      const isFloat = (d: GraphNodeDef) => ['DT_FLOAT', 'DT_HALF', 'DT_DOUBLE', 'DT_BFLOAT16', undefined].includes(d.attr.dtype?.type as string | undefined);
      // A placeholder of unknown rank or a scalar is a control value (a ratio, a flag), not the signal.
      const ranked = (d: GraphNodeDef) => Array.isArray((d.attr.shape?.shape as Json | undefined)?.dim) && ((d.attr.shape?.shape as Json).dim as unknown[]).length > 0;
      this.signalName = this.options.signalInput ?? (placeholders.find((d) => isFloat(d) && ranked(d)) ?? placeholders.find(isFloat) ?? placeholders[0])?.name;
    }
    return this.signalName;
  }

  /** The inputs, the signal input first. */
  orderedInputs(): IrValueInfo[] {
    const signal = this.signal();
    return [...this.inputs.filter((i) => i.name === signal), ...this.inputs.filter((i) => i.name !== signal)];
  }

  private checkInputNames(): void {
    const names = this.defs.filter((d) => d.op === 'Placeholder' || d.op === 'PlaceholderWithDefault').map((d) => d.name);
    for (const name of [...Object.keys(this.options.inputShapes ?? {}), ...Object.keys(this.options.inputValues ?? {}), ...(this.options.signalInput ? [this.options.signalInput] : [])]) {
      if (!names.includes(name)) this.fail(`has no input "${name}"; its inputs are ${names.map((n) => `"${n}"`).join(', ')}`);
    }
    if (this.options.signalInput && this.options.inputValues?.[this.options.signalInput] !== undefined) this.fail(`input "${this.options.signalInput}" is the signal input: it cannot also be given a fixed value`);
  }

  private placeholder(def: GraphNodeDef): void {
    const shapeAttr = def.attr.shape?.shape as Json | undefined;
    const dims = Array.isArray(shapeAttr?.dim) ? (shapeAttr.dim as Json[]).map((d) => Number(d.size ?? -1)) : shapeAttr && shapeAttr.unknownRank !== true ? [] : undefined;
    const isSignal = def.name === this.signal();
    const override = (isSignal ? this.options.inputShape : undefined) ?? this.options.inputShapes?.[def.name];
    const value = this.options.inputValues?.[def.name];
    let shape: number[];
    if (override) {
      if (dims && dims.length !== override.length) this.fail(`the input shape ${fmt(override)} has ${override.length} dimensions but input "${def.name}" has ${dims.length}: ${fmt(dims.map((d) => (d < 0 ? null : d)))}`);
      shape = [...override];
      // Allowed (a graph may not need its declared size), but a layout mix-up (NHWC given to an
      // NCHW input) otherwise shows only as unsupported layers far down the graph.
      const differ = (dims ?? []).map((d, i) => (d > 0 && d !== override[i] ? i : -1)).filter((i) => i >= 0);
      if (dims && differ.length > 0) this.graph.warnings.push(`the input shape ${fmt(override)} differs from input "${def.name}"'s fixed ${fmt(dims.map((d) => (d < 0 ? null : d)))} at dimension${differ.length > 1 ? 's' : ''} ${differ.join(', ')}: layers whose sizes are fixed in the file may not fit`);
    } else if (isSignal) {
      if (!dims) this.fail(`input "${def.name}" has an unknown rank; give an input shape`);
      const unknown = dims.map((d, i) => (i > 0 && d < 0 ? i : -1)).filter((i) => i >= 0);
      if (unknown.length > 0) {
        this.fail(`input "${def.name}" has unknown dimension${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${fmt(dims.map((d) => (d < 0 ? null : d)))}; give an input shape (batch included)`);
      }
      shape = dims.map((d) => (d < 0 ? 1 : d));
    } else if (!dims) {
      if (value === undefined) this.graph.warnings.push(`input "${def.name}" has an unknown rank; taken as a scalar (give its shape with --input-shape ${def.name}=...)`);
      shape = [];
    } else {
      // Inputs held fixed: a dynamic batch follows the signal's, any other unknown dim is 1.
      const signalShape = this.signalShape();
      shape = dims.map((d, i) => {
        if (d >= 0) return d;
        if (i === 0 && signalShape) return signalShape[0];
        this.graph.warnings.push(`input "${def.name}" dimension ${i} is not given: using 1 (set it with --input-shape ${def.name}=...)`);
        return 1;
      });
    }
    if (shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) this.fail(`input "${def.name}" has an invalid shape ${fmt(shape)}`);
    this.inputs.push({ name: def.name, shape, declaredShape: dims ? dims.map((d) => (d < 0 ? '?' : d)) : shape });
    if (value !== undefined) {
      const dtype = TF_DTYPES[String(def.attr.dtype?.type)] ?? 'float32';
      const count = product(shape);
      this.constCache.set(def.name, { shape, dtype, values: dtype === 'int32' ? new Int32Array(count).fill(Math.trunc(value)) : dtype === 'bool' ? new Uint8Array(count).fill(value ? 1 : 0) : new Float32Array(count).fill(value) });
      this.constantValues.add(def.name);
      return;
    }
    this.graph.shapes.set(def.name, shape);
  }

  private signalShape(): number[] | undefined {
    const signal = this.signal();
    return this.inputs.find((i) => i.name === signal)?.shape;
  }

  /** The value of a constant input, or undefined when it is computed (not a Const node). */
  private constant(value: string): ConstValue | undefined {
    if (this.constCache.has(value)) return this.constCache.get(value) ?? undefined;
    const def = this.byName.get(producer(value));
    let result: ConstValue | undefined;
    if (def?.op === 'Const') {
      try {
        result = this.readConst(def);
      } catch (error) {
        if (error instanceof ModelError && !(error instanceof BrokenFileError)) throw new BrokenFileError(error.file, error.problem);
        throw error;
      }
    }
    else if (def && this.constantValues.has(def.name)) result = value === def.name ? this.fold(def) : this.foldOutput(def, value);
    this.constCache.set(value, result ?? null);
    return result;
  }

  /** Whether value `v` is computed from constants only (any output of a constant node). */
  private isConstantValue(v: string): boolean {
    return this.constantValues.has(v) || this.constantValues.has(producer(v));
  }

  /** Output k ≥ 1 ("name:k") of a constant multi-output node (Unpack, Split, SplitV), or undefined. */
  private foldOutput(def: GraphNodeDef, value: string): ConstValue | undefined {
    const k = Number(/:(\d+)$/.exec(value)?.[1] ?? 0);
    return foldTfOutputs(this.foldNode(def))?.[k];
  }

  /** A computed constant (shape arithmetic, fold.ts), or undefined when it cannot be folded. */
  private fold(def: GraphNodeDef): ConstValue | undefined {
    return foldTfNode(this.foldNode(def)) ?? foldTfOutputs(this.foldNode(def))?.[0];
  }

  private foldNode(def: GraphNodeDef): FoldNode {
    const inputs = this.dataInputs(def);
    return {
      op: def.op,
      int: (name) => (def.attr[name]?.i !== undefined ? Number(def.attr[name].i) : undefined),
      ints: (name) => attrListI(def, name),
      type: (name) => (typeof def.attr[name]?.type === 'string' ? (def.attr[name].type as string) : undefined),
      bool: (name) => attrB(def, name),
      input: (k) => (inputs[k] === undefined ? undefined : this.constant(inputs[k])),
      shapeOf: (k) => {
        const v = inputs[k];
        if (v === undefined) return undefined;
        return this.graph.shapes.get(v) ?? this.constant(v)?.shape;
      },
      inputCount: inputs.length,
    };
  }

  private readConst(def: GraphNodeDef): ConstValue {
    const declaredType = typeof def.attr.dtype?.type === 'string' ? (def.attr.dtype.type as string) : undefined;
    const tensor = def.attr.value?.tensor as Json | undefined;
    const declaredShape = tensorShape(tensor?.tensorShape as Json | undefined);
    const expected = declaredType ? TF_DTYPES[declaredType] : undefined;
    if (this.weights.has(def.name)) {
      const spec = this.weights.spec(def.name);
      if (spec && expected && expected !== spec.dtype && !(expected === 'int32' && spec.dtype === 'float32' && spec.quantization)) {
        this.fail(`Const node "${def.name}" is ${declaredType} but its weight in the manifest is ${spec.dtype}`);
      }
      if (spec && declaredShape && !sameShape(declaredShape, spec.shape)) {
        this.fail(`Const node "${def.name}" has shape ${fmt(declaredShape)} but its weight in the manifest has ${fmt(spec.shape)}`);
      }
      const w = this.weights.get(def.name);
      return { shape: w.shape, dtype: w.dtype, values: w.values };
    }
    const inline = tensor ? inlineTensor(tensor, (problem) => this.fail(`Const node "${def.name}": ${problem}`)) : undefined;
    if (inline) return inline;
    return this.fail(`Const node "${def.name}" has no value: it is neither in the weights manifest nor inline`);
  }

  private constOrFail(def: GraphNodeDef, value: string, what: string): ConstValue {
    return this.constant(value) ?? this.fail(`node "${def.name}" (${def.op}): its ${what} "${value}" is not a constant`);
  }

  private shapeOf(value: string): number[] {
    return [...this.graph.shape(value)];
  }

  private row(def: GraphNodeDef, inputs: string[], spec: OpSpec, outputShape: number[], weightShape: number[] | null = null, output = def.name, name = def.name, op = def.op, execution?: NodeExecution): void {
    this.graph.add({ name: this.graph.rowName(name), op, inputs, outputs: [output], outputShapes: [outputShape], spec, weightShape, sourceIndex: def.index, ...(execution ? { execution } : {}) });
  }

  /** A row the graph executor can run (src/model/ir.ts NodeExecution). */
  private runnable(def: GraphNodeDef, inputs: string[], spec: OpSpec, outputShape: number[], execution: NodeExecution | undefined, weightShape: number[] | null = null): void {
    this.row(def, inputs, spec, outputShape, weightShape, def.name, def.name, def.op, execution);
  }

  /** A constant as float32 values, or undefined when it is computed. */
  private floats(value: string | undefined): Float32Array | undefined {
    const c = value === undefined ? undefined : this.constant(value);
    return c ? Float32Array.from(c.values, Number) : undefined;
  }

  /**
   * A row for an op the reader cannot follow. Its output shapes come from the file's
   * `_output_shapes`, else from its input for pointwise ops, else the broadcast of its inputs for
   * elementwise ones; without any, what follows has an unknown shape.
   */
  private unsupported(def: GraphNodeDef, dynamic: string[], detail?: string): void {
    const declared = outputShapesAttr(def);
    const known = declared && declared.length > 0 && declared.every((s) => s.every((d) => d >= 0)) ? declared : undefined;
    let shapes: number[][] | undefined = known;
    if (!shapes) shapes = this.shapeRule(def);
    if (!shapes && POINTWISE.has(def.op) && this.graph.shapes.has(dynamic[0])) shapes = [this.shapeOf(dynamic[0])];
    if (!shapes && ELEMENTWISE.has(def.op)) {
      try {
        shapes = [this.broadcastAll(def, this.dataInputs(def))];
      } catch {
        shapes = undefined;
      }
    }
    const outputs = (shapes ?? [[]]).map((_, k) => (k === 0 ? def.name : `${def.name}:${k}`));
    if (shapes) this.graph.warnings.push(`node "${def.name}" (${def.op}) is not supported; its output shape is ${known ? "the file's _output_shapes" : POINTWISE.has(def.op) ? "its input's (a pointwise op)" : ELEMENTWISE.has(def.op) ? "its inputs' broadcast (an elementwise op)" : 'given by its arguments'}`);
    else {
      this.graph.warnings.push(`node "${def.name}" (${def.op}) is not supported and its output shape is unknown: the layers after it cannot be analysed`);
      this.unknownNodes.set(def.name, `output of unsupported ${def.op} "${def.name}"`);
    }
    const inputShapes = dynamic.map((v) => this.graph.shapes.get(v) ?? []);
    this.graph.add({ name: this.graph.rowName(def.name), op: def.op, inputs: dynamic.map((v) => this.rowInput(v)), outputs, inputShapes, outputShapes: shapes ?? [], spec: { type: 'unsupported', ...(detail ? { detail } : {}) }, weightShape: null, sourceIndex: def.index }, { unknownReason: `output of unsupported ${def.op} "${def.name}"` });
  }

  /** Output shapes of ops the engine cannot bound but whose output shape is plain (resizes, depth/space moves, transposed convs). */
  private shapeRule(def: GraphNodeDef): number[][] | undefined {
    const inputs = this.dataInputs(def);
    const x = inputs[0] !== undefined ? this.graph.shapes.get(inputs[0]) : undefined;
    try {
      switch (def.op) {
        case 'ResizeBilinear':
        case 'ResizeNearestNeighbor':
        case 'ResizeBicubic': {
          const size = this.constant(inputs[1]);
          if (!x || x.length !== 4 || !size || size.values.length !== 2) return undefined;
          return [[x[0], Number(size.values[0]), Number(size.values[1]), x[3]]];
        }
        case 'Einsum': {
          const shapes = inputs.map((v) => this.graph.shapes.get(v) ?? this.constant(v)?.shape);
          const out = shapes.every((sh) => sh !== undefined) ? einsumShape(attrS(def, 'equation') ?? '', shapes as number[][]) : undefined;
          return out ? [out] : undefined;
        }
        case 'BroadcastTo': {
          const target = this.constant(inputs[1]);
          const out = x && target ? broadcastShapes(x, Array.from(target.values, Number)) : undefined;
          return out ? [out] : undefined;
        }
        case 'TensorListStack': {
          // [num_elements, ...element_shape], both stated in the file (docs/graphs.md, "Control flow").
          const count = def.attr.num_elements?.i !== undefined ? Number(def.attr.num_elements.i) : -1;
          const element = this.constant(inputs[1]);
          const dims = element ? Array.from(element.values, Number) : [];
          return count > 0 && element && dims.length === element.values.length && dims.every((d) => Number.isInteger(d) && d > 0) && element.shape.length === 1 ? [[count, ...dims]] : undefined;
        }
        case 'DepthToSpace':
        case 'SpaceToDepth': {
          const block = def.attr.block_size?.i !== undefined ? Number(def.attr.block_size.i) : undefined;
          if (!x || x.length !== 4 || !block || (attrS(def, 'data_format') ?? 'NHWC') !== 'NHWC') return undefined;
          return def.op === 'DepthToSpace' ? [[x[0], x[1] * block, x[2] * block, x[3] / (block * block)]] : [[x[0], x[1] / block, x[2] / block, x[3] * block * block]];
        }
        case 'SpaceToBatchND':
        case 'BatchToSpaceND': {
          const block = this.constant(inputs[1]);
          const pads = this.constant(inputs[2]);
          if (!x || !block || !pads || pads.values.length !== 2 * block.values.length) return undefined;
          const b = Array.from(block.values, Number);
          const p = Array.from(pads.values, Number);
          const n = b.reduce((a, c) => a * c, 1);
          const spatial = b.map((k, i) => (def.op === 'SpaceToBatchND' ? (x[1 + i] + p[2 * i] + p[2 * i + 1]) / k : x[1 + i] * k - p[2 * i] - p[2 * i + 1]));
          const batch = def.op === 'SpaceToBatchND' ? x[0] * n : x[0] / n;
          const out = [batch, ...spatial, ...x.slice(1 + b.length)];
          return out.every((d) => Number.isInteger(d) && d > 0) ? [out] : undefined;
        }
        case 'StridedSlice': {
          const geometry = x ? stridedSliceGeometry(this.foldNode(def), x) : undefined;
          return geometry ? [geometry.outShape] : undefined;
        }
        case 'Slice': {
          const begin = this.constant(inputs[1]);
          const size = this.constant(inputs[2]);
          if (!x || !begin || !size || size.values.length !== x.length) return undefined;
          return [Array.from(size.values, (d, i) => (Number(d) === -1 ? x[i] - Number(begin.values[i]) : Number(d)))];
        }
        case 'MatMul':
        case '_FusedMatMul':
        case 'BatchMatMul':
        case 'BatchMatMulV2': {
          const [sa, sb] = inputs.slice(0, 2).map((v) => this.graph.shapes.get(v) ?? this.constant(v)?.shape);
          if (!sa || !sb || sa.length < 2 || sb.length < 2) return undefined;
          const batch = def.op.startsWith('BatchMatMul');
          const ta = batch ? attrB(def, 'adj_x') : attrB(def, 'transpose_a');
          const tb = batch ? attrB(def, 'adj_y') : attrB(def, 'transpose_b');
          const lead = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
          return lead ? [[...lead, ta ? sa[sa.length - 1] : sa[sa.length - 2], tb ? sb[sb.length - 2] : sb[sb.length - 1]]] : undefined;
        }
        case 'Pack': {
          const shapes = inputs.map((v) => this.graph.shapes.get(v) ?? this.constant(v)?.shape);
          const first = shapes[0];
          if (!first || shapes.some((sh) => !sh || sh.length !== first.length || sh.some((d, i) => d !== first[i]))) return undefined;
          const axis = normalizeAxis(def.attr.axis?.i !== undefined ? Number(def.attr.axis.i) : 0, first.length + 1);
          return [[...first.slice(0, axis), shapes.length, ...first.slice(axis)]];
        }
        case 'GatherV2': {
          // Indices computed from the data (a spatial transformer's sampling) still have a known shape.
          const params = x ?? this.constant(inputs[0])?.shape;
          const indices = this.graph.shapes.get(inputs[1]) ?? this.constant(inputs[1])?.shape;
          const axisValue = this.constant(inputs[2]);
          if (!params || !indices || !axisValue || Number(def.attr.batch_dims?.i ?? 0) !== 0) return undefined;
          const axis = normalizeAxis(Number(axisValue.values[0]), params.length);
          return [[...params.slice(0, axis), ...indices, ...params.slice(axis + 1)]];
        }
        case 'GatherNd': {
          // Indices computed from the data (a spatial transformer's sampling) still have a known shape.
          const params = x ?? this.constant(inputs[0])?.shape;
          const indices = this.graph.shapes.get(inputs[1]) ?? this.constant(inputs[1])?.shape;
          if (!params || !indices || indices.length === 0 || Number(def.attr.batch_dims?.i ?? 0) !== 0) return undefined;
          const depth = indices[indices.length - 1];
          return depth <= params.length ? [[...indices.slice(0, -1), ...params.slice(depth)]] : undefined;
        }
        case 'Unpack': {
          if (!x) return undefined;
          const axis = normalizeAxis(def.attr.axis?.i !== undefined ? Number(def.attr.axis.i) : 0, x.length);
          return Array.from({ length: x[axis] }, () => x.filter((_, i) => i !== axis));
        }
        case 'Split':
        case 'SplitV': {
          const data = def.op === 'Split' ? (inputs[1] !== undefined ? this.graph.shapes.get(inputs[1]) : undefined) : x;
          const axisValue = this.constant(def.op === 'Split' ? inputs[0] : inputs[2]);
          if (!data || !axisValue) return undefined;
          const axis = normalizeAxis(Number(axisValue.values[0]), data.length);
          let sizes: number[];
          if (def.op === 'Split') {
            const n = def.attr.num_split?.i !== undefined ? Number(def.attr.num_split.i) : 1;
            sizes = new Array<number>(n).fill(data[axis] / n);
          } else {
            const given = this.constant(inputs[1]);
            if (!given) return undefined;
            sizes = Array.from(given.values, Number);
            const rest = data[axis] - sizes.filter((d) => d >= 0).reduce((a, b) => a + b, 0);
            sizes = sizes.map((d) => (d < 0 ? rest : d));
          }
          if (sizes.some((d) => !Number.isInteger(d) || d < 0)) return undefined;
          return sizes.map((d) => data.map((v, i) => (i === axis ? d : v)));
        }
        case 'Conv2DBackpropInput': {
          const sizes = this.constant(inputs[0]);
          return sizes ? [Array.from(sizes.values, Number)] : undefined;
        }
        default:
          return undefined;
      }
    } catch (error) {
      if (error instanceof ModelError && !(error instanceof BrokenFileError)) return undefined;
      throw error;
    }
  }

  private node(def: GraphNodeDef, dynamic: string[]): void {
    const op = def.op;
    const x = dynamic[0];
    switch (op) {
      case 'Conv2D':
      case '_FusedConv2D':
        return this.conv(def, false);
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return this.conv(def, true);
      case 'Conv2DBackpropInput':
        return this.transposedConv(def);
      case 'MatMul':
      case '_FusedMatMul':
      case 'BatchMatMul':
      case 'BatchMatMulV2':
        return this.matMul(def, dynamic);
      case 'Einsum':
        return this.einsum(def, dynamic);
      case 'BiasAdd': {
        const bias = this.floats(this.dataInputs(def)[1]);
        const channelsLast = this.dataFormat(def);
        const rank = this.shapeOf(x).length;
        const execution: NodeExecution | undefined = bias ? { kind: 'shift', constant: { dims: channelsLast ? [bias.length] : [bias.length, ...new Array<number>(Math.max(0, rank - 2)).fill(1)], data: bias }, sign: 1, constantSign: 1 } : undefined;
        return this.runnable(def, [x], structural('bias add: a shift, 1'), this.shapeOf(x), execution);
      }
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'AddN':
        return this.addLike(def, dynamic);
      case 'Mul':
      case 'RealDiv':
      case 'Div':
      case 'DivNoNan':
        return this.mulLike(def, dynamic);
      case 'ConcatV2':
      case 'Concat':
        return this.concat(def, dynamic);
      case 'Pad':
      case 'PadV2':
      case 'MirrorPad':
        return this.pad(def);
      case 'MaxPool':
      case 'AvgPool':
        return this.pool(def);
      case 'Mean':
      case 'Sum':
      case 'Max':
      case 'Min':
      case 'Prod':
        return this.reduce(def);
      case 'Reshape':
        return this.reshape(def);
      case 'Squeeze':
        return this.squeeze(def);
      case 'ExpandDims': {
        const shape = this.shapeOf(x);
        const axisConst = this.constOrFail(def, this.dataInputs(def)[1], 'axis');
        const axis = normalizeAxis(Number(axisConst.values[0]), shape.length + 1);
        shape.splice(axis, 0, 1);
        return this.runnable(def, [x], structural('expand dims: 1'), shape, { kind: 'reshape' });
      }
      case 'Transpose': {
        const shape = this.shapeOf(x);
        const perm = Array.from(this.constOrFail(def, this.dataInputs(def)[1], 'permutation').values);
        return this.runnable(def, [x], structural('transpose: 1'), perm.map((p) => shape[p]), { kind: 'transpose', perm: perm.map(Number) });
      }
      case 'Cast': {
        const to = typeof def.attr.DstT?.type === 'string' ? (def.attr.DstT.type as string) : 'DT_FLOAT';
        // To float32 or float64 the values pass unchanged (an integer input, or a float32 value), so it runs as the identity; half precision rounds.
        if (['DT_FLOAT', 'DT_HALF', 'DT_DOUBLE', 'DT_BFLOAT16'].includes(to)) return this.runnable(def, [x], structural('cast to a floating-point type: 1'), this.shapeOf(x), to === 'DT_FLOAT' || to === 'DT_DOUBLE' ? { kind: 'reshape' } : undefined);
        return this.row(def, [x], { type: 'unbounded', reason: `a cast to ${to} rounds: a step function is not Lipschitz` }, this.shapeOf(x));
      }
      case 'ResizeBilinear':
      case 'ResizeNearestNeighbor':
        return this.resize(def);
      case 'Maximum':
      case 'Minimum':
      case 'ClipByValue':
        return this.clamp(def, dynamic);
      case 'DepthToSpace':
      case 'SpaceToDepth':
        return this.depthToSpace(def);
      case 'Identity':
      case 'StopGradient':
      case 'Snapshot':
        return this.runnable(def, [x], structural('identity: 1'), this.shapeOf(x), { kind: 'reshape' });
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3':
        return this.batchNorm(def);
      case 'Prelu': {
        const alpha = this.constOrFail(def, this.dataInputs(def)[1], 'alpha');
        let largest = 0;
        for (const v of alpha.values) largest = Math.max(largest, Math.abs(v));
        const operand = { dims: [...alpha.shape], data: Float32Array.from(alpha.values, Number) };
        return this.runnable(def, [x], activationSpec('prelu', { alpha: largest }) as OpSpec, this.shapeOf(x), { kind: 'activation', name: 'prelu', operand }, alpha.shape);
      }
      case 'StridedSlice':
      case 'Slice':
      case 'GatherV2':
      case 'GatherNd':
      case 'Split':
      case 'SplitV':
      case 'Unpack':
      case 'Pack':
      case 'SpaceToBatchND':
      case 'BatchToSpaceND':
      case 'BroadcastTo':
        return this.selection(def, dynamic);
      case 'SquaredDifference':
        // (a − b)²: a written-out layer norm's variance reads it (src/analysis/layer-norm.ts); alone, unbounded.
        return this.row(def, dynamic, { type: 'unbounded', reason: '(a − b)² is not globally Lipschitz' }, this.broadcastAll(def, this.dataInputs(def)));
      case 'Sin':
      case 'Cos':
      case 'Atan':
      case 'Asinh': {
        // |derivative| ≤ 1 everywhere, as ONNX's (src/formats/onnx/ops/activation.ts).
        const name = op.toLowerCase();
        return this.runnable(def, [x], { type: 'fixed', kind: 'activation', constant: 1, detail: `${name}: |derivative| ≤ 1` }, this.shapeOf(x), { kind: 'activation', name });
      }
      case 'Atan2':
        return this.atan2(def, dynamic);
      case 'Pow':
        return this.power(def, dynamic);
      case 'Square':
      case 'Sqrt':
      case 'Rsqrt':
      case 'Reciprocal':
      case 'Inv':
      case 'Log':
      case 'Log1p':
      case 'Floor':
      case 'Ceil':
      case 'Round':
      case 'Sign':
        return this.row(def, [x], { type: 'unbounded', reason: NOT_LIPSCHITZ[op] }, this.shapeOf(x));
      default: {
        const act = graphActivation(op, attrF(def, 'alpha'));
        if (act) {
          const shape = this.shapeOf(x);
          // TF's Softmax and LogSoftmax run along the last axis.
          const axis = /softmax/i.test(act.name) ? { axis: shape.length - 1 } : {};
          return this.runnable(def, [x], activationOrUnsupported(act.name, { alpha: act.alpha, axisLength: shape[shape.length - 1] }, op), shape, { kind: 'activation', name: act.name, ...(act.alpha !== undefined ? { alpha: act.alpha } : {}), ...axis });
        }
        return this.unsupported(def, dynamic, `TF op ${op}`);
      }
    }
  }

  /**
   * Ops that pick entries of their data input (docs/graphs.md): a strided slice or slice takes
   * distinct entries (1); a gather with constant indices copies entry i as often as i is listed
   * (√ of the largest count), a GatherNd likewise by index tuple (src/analysis/gather-nd.ts);
   * Split / SplitV / Unpack cut the input into outputs that jointly hold
   * each entry once (1); Pack stacks its inputs (1, combined as √ΣL² over them); SpaceToBatchND pads
   * with zeros and permutes, BatchToSpaceND permutes and crops (1).
   */
  private selection(def: GraphNodeDef, dynamic: string[]): void {
    const shapes = this.shapeRule(def);
    const x = dynamic[0];
    if (!shapes) return this.unsupported(def, dynamic, `${def.op} with arguments that are not constants`);
    const all = (n: number) => Array.from({ length: n }, (_, i) => i);
    /** The executor's cartesian selection on x (null where an axis is taken whole). */
    const selecting = (perAxis: number[][], shape: number[], rank?: number): NodeExecution => ({
      kind: 'select',
      perAxis: perAxis.map((list, axis) => (list.length === shape[axis] && list.every((v, k) => v === k) ? null : list)),
      ...(rank !== undefined ? { rank } : {}),
    });
    if (def.op === 'Pack') {
      const inputs = this.dataInputs(def);
      const axis = normalizeAxis(def.attr.axis?.i !== undefined ? Number(def.attr.axis.i) : 0, shapes[0].length);
      const execution: NodeExecution | undefined = inputs.every((v) => dynamic.includes(v)) && inputs.length === dynamic.length ? { kind: 'stack', axis } : undefined;
      return this.row(def, dynamic, structural(`pack of ${dynamic.length} values: a permutation of their entries, 1`), shapes[0], null, def.name, def.name, def.op, execution);
    }
    if (def.op === 'GatherV2') {
      const inputs = this.dataInputs(def);
      const indices = this.constant(inputs[1]);
      if (inputs[0] !== x || !indices) return this.unsupported(def, dynamic, 'GatherV2 with indices computed from the data');
      const counts = new Map<number, number>();
      for (const i of indices.values) counts.set(Number(i), (counts.get(Number(i)) ?? 0) + 1);
      const copies = Math.max(1, ...counts.values());
      const axisValue = this.constant(inputs[2]);
      const shape = this.shapeOf(x);
      const axis = axisValue ? normalizeAxis(Number(axisValue.values[0]), shape.length) : -1;
      const picked = Array.from(indices.values, Number);
      const execution = axis >= 0 && picked.every((i) => Number.isInteger(i) && i >= 0 && i < shape[axis]) ? selecting(shape.map((d, a) => (a === axis ? picked : all(d))), shape) : undefined;
      return this.row(def, [x], structural(copies === 1 ? 'gather of distinct entries: 1' : `gather copying an entry ${copies} times: √${copies}`, Math.sqrt(copies), { kind: 'select' }), shapes[0], null, def.name, def.name, def.op, execution);
    }
    if (def.op === 'GatherNd') {
      const inputs = this.dataInputs(def);
      const indices = this.constant(inputs[1]);
      if (inputs[0] !== x || !indices) return this.unsupported(def, dynamic, 'GatherNd with indices computed from the data (a lookup) is not a continuous map of its input');
      const plan = gatherNdPlan(this.shapeOf(x), indices.shape, Array.from(indices.values, Number), false);
      if (typeof plan === 'string') return this.unsupported(def, dynamic, `GatherNd ${plan}`);
      const { detail, constant } = gatherNdNorm(plan);
      // A hostile file's index bomb records no rows (not executable).
      const execution: NodeExecution | undefined = plan.rows.length <= 1 << 22 ? { kind: 'gatherNd', depth: plan.depth, rows: plan.rows } : undefined;
      return this.row(def, [x], structural(detail, constant, { kind: 'select' }), plan.outputShape, null, def.name, def.name, def.op, execution);
    }
    // TF's lowering of a dilated conv: zero padding moved into the batch, and back with crops; each entry kept at most once.
    if (def.op === 'BroadcastTo') {
      const out = shapes[0];
      if (product(out) === 0 || product(this.shapeOf(x)) === 0) {
        // An empty tensor (an input too small for the model's down-sampling): the map is 0, not 0/0 copies.
        this.graph.warnings.push(`node "${def.name}" (${def.op}) maps ${fmt(this.shapeOf(x))} to ${fmt(out)}, an empty tensor: the input may be too small for this model`);
        return this.row(def, [x], structural('broadcast of or to an empty tensor: 0', 0, { kind: 'select' }), out);
      }
      const copies = product(out) / product(this.shapeOf(x));
      const promoted = [...new Array<number>(out.length - this.shapeOf(x).length).fill(1), ...this.shapeOf(x)];
      // A hostile shape bomb records no index lists (not executable).
      const execution = out.some((d) => d > 1 << 22) ? undefined : selecting(promoted.map((d, i) => (d === out[i] ? all(d) : new Array<number>(out[i]).fill(0))), promoted, out.length);
      return this.row(def, [x], structural(copies === 1 ? 'broadcast to the same shape: 1' : `broadcast copying each entry ${copies} times: √${copies}`, Math.sqrt(copies), { kind: 'select' }), shapes[0], null, def.name, def.name, def.op, execution);
    }
    if (def.op === 'SpaceToBatchND' || def.op === 'BatchToSpaceND') {
      const inputs = this.dataInputs(def);
      const block = Array.from(this.constant(inputs[1])?.values ?? [], Number);
      const flat = Array.from(this.constant(inputs[2])?.values ?? [], Number);
      const pads = block.map((_, i) => [flat[2 * i], flat[2 * i + 1]] as [number, number]);
      const execution: NodeExecution = { kind: 'spaceToBatch', block, pads, inverse: def.op === 'BatchToSpaceND' };
      return def.op === 'SpaceToBatchND'
        ? this.row(def, [x], structural('space to batch: zero padding and a permutation, 1', 1, { kind: 'select', zero: true }), shapes[0], null, def.name, def.name, def.op, execution)
        : this.row(def, [x], structural('batch to space: a permutation and crops, 1', 1, { kind: 'select' }), shapes[0], null, def.name, def.name, def.op, execution);
    }
    if (def.op === 'StridedSlice' || def.op === 'Slice') {
      const shape = this.shapeOf(x);
      let execution: NodeExecution | undefined;
      if (def.op === 'StridedSlice') {
        const geometry = stridedSliceGeometry(this.foldNode(def), shape);
        if (geometry) execution = selecting(geometry.counts.map((count, a) => all(count).map((k) => geometry.begin[a] + k * geometry.strides[a])), shape);
      } else if (def.op === 'Slice') {
        const begin = Array.from(this.constant(this.dataInputs(def)[1])?.values ?? [], Number);
        if (begin.length === shape.length) execution = selecting(shapes[0].map((count, a) => all(count).map((k) => begin[a] + k)), shape);
      }
      return this.row(def, [x], structural(`${def.op === 'Slice' ? 'slice' : 'strided slice'}: a selection of entries, 1`, 1, { kind: 'select' }), shapes[0], null, def.name, def.name, def.op, execution);
    }
    const outputs = shapes.map((_, k) => (k === 0 ? def.name : `${def.name}:${k}`));
    // Split / SplitV / Unpack: consecutive parts along one axis (Unpack's of size 1, the axis dropped by the reshape).
    const inShape = this.shapeOf(x);
    const splitInputs = this.dataInputs(def);
    const rawAxis = def.op === 'Unpack' ? Number(def.attr.axis?.i ?? 0) : Number(this.constant(def.op === 'Split' ? splitInputs[0] : splitInputs[2])?.values[0]);
    const splitAxis = Number.isInteger(rawAxis) ? normalizeAxis(rawAxis, inShape.length) : -1;
    const sizes = shapes.map((part) => (def.op === 'Unpack' ? 1 : part[splitAxis]));
    const execution: NodeExecution | undefined = splitAxis >= 0 && sizes.reduce((a, b) => a + b, 0) === inShape[splitAxis] ? { kind: 'split', axis: splitAxis, sizes } : undefined;
    this.graph.add({ name: this.graph.rowName(def.name), op: def.op, inputs: [x], outputs, inputShapes: [inShape], outputShapes: shapes, spec: structural(`${def.op}: ${shapes.length} parts that hold each entry once, 1`, 1, { kind: 'select' }), weightShape: null, sourceIndex: def.index, ...(execution ? { execution } : {}) });
  }

  private dataFormat(def: GraphNodeDef): boolean {
    const format = attrS(def, 'data_format') ?? 'NHWC';
    if (format === 'NHWC' || format === 'NDHWC' || format === 'NWC') return true;
    if (format === 'NCHW' || format === 'NCDHW' || format === 'NCW') return false;
    return this.fail(`node "${def.name}" (${def.op}): unknown data_format "${format}"`);
  }

  /** Spatial entries of a 4-entry attribute list in the node's data format. */
  private spatialAttr(def: GraphNodeDef, name: string, channelsLast: boolean, fallback: number): number[] {
    const list = attrListI(def, name);
    if (!list || list.length === 0) return [fallback, fallback];
    if (list.length !== 4) this.fail(`node "${def.name}" (${def.op}): ${name} ${fmt(list)} is not 4 values`);
    return channelsLast ? list.slice(1, 3) : list.slice(2, 4);
  }

  private windowPads(def: GraphNodeDef, spatial: number[], kernel: number[], strides: number[], dilations: number[], channelsLast: boolean): { padsBegin: number[]; padsEnd: number[] } {
    const padding = attrS(def, 'padding') ?? 'VALID';
    if (padding === 'SAME') return resolvePads('SAME_UPPER', spatial, kernel, strides, dilations, [], []);
    if (padding === 'VALID') return resolvePads('VALID', spatial, kernel, strides, dilations, [], []);
    if (padding === 'EXPLICIT') {
      const explicit = attrListI(def, 'explicit_paddings') ?? [];
      if (explicit.length !== 8) this.fail(`node "${def.name}" (${def.op}): explicit_paddings ${fmt(explicit)} is not 8 values`);
      const axes = channelsLast ? [1, 2] : [2, 3];
      return { padsBegin: axes.map((a) => explicit[2 * a]), padsEnd: axes.map((a) => explicit[2 * a + 1]) };
    }
    return this.fail(`node "${def.name}" (${def.op}): unknown padding "${padding}"`);
  }

  private conv(def: GraphNodeDef, depthwise: boolean): void {
    const inputs = this.dataInputs(def);
    const x = inputs[0];
    const shape = this.shapeOf(x);
    if (this.isConstantValue(x) || shape.length !== 4) this.fail(`node "${def.name}" (${def.op}) expects a rank-4 signal input, gets ${fmt(shape)}`);
    const filter = this.constant(inputs[1]);
    if (!filter) return this.unsupported(def, [x], 'a filter computed at run time');
    if (filter.shape.length !== 4) this.fail(`node "${def.name}" (${def.op}): filter shape ${fmt(filter.shape)} is not 4-D`);
    const channelsLast = this.dataFormat(def);
    const channels = channelsLast ? shape[3] : shape[1];
    const spatial = channelsLast ? shape.slice(1, 3) : shape.slice(2, 4);
    const kernel = filter.shape.slice(0, 2);
    const strides = this.spatialAttr(def, 'strides', channelsLast, 1);
    const dilations = this.spatialAttr(def, 'dilations', channelsLast, 1);
    const data = filter.values instanceof Float32Array ? filter.values : Float32Array.from(filter.values);
    let weight;
    let group;
    let outChannels;
    if (depthwise) {
      if (filter.shape[2] !== channels) this.fail(`node "${def.name}" (${def.op}): input ${fmt(shape)} has ${channels} channels but the filter ${fmt(filter.shape)} expects ${filter.shape[2]}`);
      weight = tfDepthwiseKernelToCanonical(data, filter.shape);
      group = channels;
      outChannels = channels * filter.shape[3];
    } else {
      if (filter.shape[2] <= 0 || channels % filter.shape[2] !== 0) this.fail(`node "${def.name}" (${def.op}): input ${fmt(shape)} has ${channels} channels but the filter ${fmt(filter.shape)} expects ${filter.shape[2]}`);
      weight = tfConvKernelToCanonical(data, filter.shape);
      group = channels / filter.shape[2];
      outChannels = filter.shape[3];
    }
    const { padsBegin, padsEnd } = this.windowPads(def, spatial, kernel, strides, dilations, channelsLast);
    const outSpatial = slidingOutputSize(spatial, kernel, strides, dilations, padsBegin, padsEnd);
    if (outSpatial.some((d) => d <= 0)) this.fail(`node "${def.name}" (${def.op}): input ${fmt(shape)} is too small for the filter ${fmt(filter.shape)}`);
    const outShape = channelsLast ? [shape[0], ...outSpatial, outChannels] : [shape[0], outChannels, ...outSpatial];

    const fusedOps = attrListS(def, 'fused_ops') ?? [];
    let activations = fusedOps;
    let bias: Float32Array | undefined;
    let executable = true;
    if (fusedOps[0] === 'FusedBatchNorm') {
      // Fold the batch norm into the convolution: each output channel scales by γ/√(var+ε).
      const [scaleV, , , varianceV] = inputs.slice(2, 6).map((v) => this.constOrFail(def, v, 'batch-norm argument'));
      const epsilon = attrF(def, 'epsilon') ?? 1e-3;
      if (!scaleV || !varianceV || scaleV.values.length !== outChannels || varianceV.values.length !== outChannels) {
        this.fail(`node "${def.name}" (${def.op}): FusedBatchNorm arguments do not have ${outChannels} channels`);
      }
      const per = weight.data.length / outChannels;
      for (let o = 0; o < outChannels; o++) {
        const s = Number(scaleV.values[o]) / Math.sqrt(Number(varianceV.values[o]) + epsilon);
        for (let k = 0; k < per; k++) weight.data[o * per + k] *= s;
      }
      // The batch norm's shift β − mean·γ/√(var+ε), for the graph executor.
      const offset = this.floats(inputs[3]);
      const mean = this.floats(inputs[4]);
      if (offset && mean && offset.length === outChannels && mean.length === outChannels) {
        bias = Float32Array.from(offset, (b, o) => b - mean[o] * (Number(scaleV.values[o]) / Math.sqrt(Number(varianceV.values[o]) + epsilon)));
      } else executable = false;
      activations = fusedOps.slice(1);
    } else if (fusedOps[0] === 'BiasAdd') {
      bias = this.floats(inputs[2]);
      executable = bias?.length === outChannels;
      activations = fusedOps.slice(1);
    }
    const spec: ConvSpec = { type: 'conv', channelsLast, weight, strides, dilations, padsBegin, padsEnd, group };
    this.linearWithActivations(def, [x], spec, outShape, filter.shape, activations, inputs, executable ? { kind: 'affine', ...(bias ? { bias } : {}) } : undefined);
  }

  /** The linear row, then one row per fused activation (`<node>/<Activation>`). */
  private linearWithActivations(def: GraphNodeDef, inputs: string[], spec: OpSpec, outShape: number[], weightShape: number[], activations: string[], allInputs: string[], execution?: NodeExecution): void {
    if (activations.length === 0) return this.row(def, inputs, spec, outShape, weightShape, def.name, def.name, def.op, execution);
    let value = this.graph.freshValue(`${def.name}/linear`);
    this.row(def, inputs, spec, outShape, weightShape, value, def.name, def.op, execution);
    activations.forEach((act, i) => {
      const out = i === activations.length - 1 ? def.name : this.graph.freshValue(`${def.name}/${act}`);
      let actSpec: OpSpec;
      let actExecution: NodeExecution | undefined;
      if (act === 'Prelu') {
        // _Fused ops with Prelu take [bias, alpha] as their arguments.
        const alpha = this.constant(allInputs[allInputs.length - 1]);
        let largest = 0;
        for (const v of alpha?.values ?? []) largest = Math.max(largest, Math.abs(v));
        actSpec = alpha ? (activationSpec('prelu', { alpha: largest }) as OpSpec) : { type: 'unsupported', detail: 'Prelu without constant slopes' };
        if (alpha) actExecution = { kind: 'activation', name: 'prelu', operand: { dims: [...alpha.shape], data: Float32Array.from(alpha.values, Number) } };
      } else {
        const ref = graphActivation(act, attrF(def, 'leakyrelu_alpha'));
        actSpec = ref ? activationOrUnsupported(ref.name, { alpha: ref.alpha, axisLength: outShape[outShape.length - 1] }, act) : { type: 'unsupported', detail: `fused op ${act}` };
        if (ref) actExecution = { kind: 'activation', name: ref.name, ...(ref.alpha !== undefined ? { alpha: ref.alpha } : {}) };
      }
      this.row(def, [value], actSpec, outShape, null, out, `${def.name}/${act}`, act, actExecution);
      value = out;
    });
  }

  private matMul(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const [a, b] = inputs;
    const batch = def.op.startsWith('BatchMatMul');
    const transposeA = batch ? attrB(def, 'adj_x') : attrB(def, 'transpose_a');
    const transposeB = batch ? attrB(def, 'adj_y') : attrB(def, 'transpose_b');
    const fusedOps = attrListS(def, 'fused_ops') ?? [];
    if (dynamic.includes(a) && dynamic.includes(b)) {
      const out = this.shapeRule(def)?.[0];
      const [sa, sb] = [this.shapeOf(a), this.shapeOf(b)];
      const inner = [transposeA ? sa[sa.length - 2] : sa[sa.length - 1], transposeB ? sb[sb.length - 1] : sb[sb.length - 2]];
      if (!out || sa.length < 2 || sb.length < 2 || inner[0] !== inner[1]) this.fail(`node "${def.name}" (${def.op}): operands ${fmt(sa)} and ${fmt(sb)} do not multiply`);
      if (fusedOps.length > 0) return this.unsupported(def, dynamic, `${def.op} of two data tensors with fused ${fusedOps.join(', ')}`);
      // Resolved on the finished graph (src/analysis/products.ts) from the factors' ranges, as an ONNX MatMul.
      const matmulForm = { transposeA, transposeB };
      return this.row(def, dynamic, { type: 'unbounded', matmul: true, matmulForm, reason: 'a product of two signals (x·y) is not globally Lipschitz' }, out, null, def.name, def.name, def.op, { kind: 'matmul', transposeA, transposeB, scale: 1 });
    }
    if (!dynamic.includes(a) && fusedOps.length === 0) return this.constantLeftMatMul(def, a, b, transposeA, transposeB);
    const weightConst = this.constant(b);
    if (!dynamic.includes(a) || transposeA || !weightConst || weightConst.shape.length !== 2) {
      return this.unsupported(def, dynamic, 'MatMul other than signal × constant matrix');
    }
    const shape = this.shapeOf(a);
    const data = weightConst.values instanceof Float32Array ? weightConst.values : Float32Array.from(weightConst.values);
    const [rows, cols] = weightConst.shape;
    let weight = { dims: [rows, cols], data };
    if (transposeB) {
      const t = new Float32Array(data.length);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
      weight = { dims: [cols, rows], data: t };
    }
    const [inDim, outDim] = weight.dims;
    if (shape[shape.length - 1] !== inDim) this.fail(`node "${def.name}" (${def.op}): input ${fmt(shape)} has ${shape[shape.length - 1]} features but the weight ${fmt(weightConst.shape)}${transposeB ? ' (transposed)' : ''} expects ${inDim}`);
    const activations = fusedOps[0] === 'BiasAdd' ? fusedOps.slice(1) : fusedOps;
    const bias = fusedOps[0] === 'BiasAdd' ? this.floats(inputs[2]) : undefined;
    const execution: NodeExecution | undefined = fusedOps[0] !== 'BiasAdd' ? { kind: 'affine' } : bias?.length === outDim ? { kind: 'affine', bias } : undefined;
    this.linearWithActivations(def, [a], { type: 'dense', weight }, [...shape.slice(0, -1), outDim], weightConst.shape, activations, inputs, execution);
  }

  /**
   * `where(x >= 0, x, α·x)` (jax2tf's leaky_relu; also `x > 0`, or `x < 0` / `x <= 0` with the
   * branches swapped) is a leaky ReLU, constant max(1, |α|) (docs/op-coverage.md, "Also covered").
   * Found before reading, so that a comparison read only by such selects gets no row: its step is
   * part of the activation, not a layer of its own.
   */
  private leakyWheres(): { selects: Map<string, { x: string; alpha: number }>; conditions: Set<string> } {
    if (this.leaky) return this.leaky;
    const selects = new Map<string, { x: string; alpha: number }>();
    const readers = new Map<string, string[]>();
    for (const def of this.defs) for (const v of this.dataInputs(def)) readers.set(producer(v), [...(readers.get(producer(v)) ?? []), def.name]);
    const scalarConst = (v: string): number | undefined => {
      if (this.byName.get(producer(v))?.op !== 'Const') return undefined;
      const c = this.constant(v);
      return c && c.values.length === 1 ? Number(c.values[0]) : undefined;
    };
    for (const def of this.defs) {
      if (def.op !== 'SelectV2' && def.op !== 'Select') continue;
      const [condition, whenTrue, whenFalse] = this.dataInputs(def);
      const compare = condition === undefined ? undefined : this.byName.get(producer(condition));
      if (!compare || !['Greater', 'GreaterEqual', 'Less', 'LessEqual'].includes(compare.op)) continue;
      const [left, right] = this.dataInputs(compare);
      if (left === undefined || right === undefined || scalarConst(right) !== 0) continue;
      const positive = compare.op.startsWith('Greater') ? whenTrue : whenFalse;
      const negative = compare.op.startsWith('Greater') ? whenFalse : whenTrue;
      const scaled = this.byName.get(producer(negative));
      if (positive !== left || !scaled || scaled.op !== 'Mul') continue;
      const factors = this.dataInputs(scaled);
      const k = factors.indexOf(left);
      const alpha = factors.length === 2 && k >= 0 ? scalarConst(factors[1 - k]) : undefined;
      if (alpha !== undefined && Number.isFinite(alpha)) selects.set(def.name, { x: left, alpha });
    }
    const conditions = new Set<string>();
    for (const name of selects.keys()) {
      const condition = producer(this.dataInputs(this.byName.get(name) as GraphNodeDef)[0]);
      if ((readers.get(condition) ?? []).every((r) => selects.has(r))) conditions.add(condition);
    }
    this.leaky = { selects, conditions };
    return this.leaky;
  }

  /**
   * Einsum of the signal and a constant matrix contracting one of its axes (jax2tf writes dense
   * layers this way, "abcg,gf->abcf"): a dense row on that axis, σ = σ(W), as the ONNX reader's
   * (docs/op-coverage.md, "Also covered"). Two signals in a batched matrix product ("bhik,bhjk->bhij",
   * attention's QKᵀ): a data MatMul (docs/op-coverage.md, "Products of two data matrices"). Other
   * equations are unsupported, with their output shape kept so the layers after them are still read.
   */
  private einsum(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const equation = attrS(def, 'equation') ?? '';
    if (inputs.length === 2 && inputs.every((v) => dynamic.includes(v))) {
      const product = einsumBatchedMatmul(equation, this.shapeOf(inputs[0]), this.shapeOf(inputs[1]));
      if (!product) return this.unsupported(def, dynamic, `Einsum "${equation}" ${EINSUM_NOT_A_PRODUCT}`);
      // Resolved on the finished graph (src/analysis/products.ts) from the factors' ranges, as a data MatMul.
      const matmulForm = { transposeA: false, transposeB: product.transposeB };
      const spec: OpSpec = { type: 'unbounded', matmul: true, matmulForm, reason: `Einsum "${equation}" of two data-dependent tensors (x·y) is not globally Lipschitz` };
      return this.runnable(def, inputs, spec, product.shape, { kind: 'matmul', ...matmulForm, scale: 1 });
    }
    if (inputs.length !== 2 || dynamic.length !== 1) return this.unsupported(def, dynamic, `Einsum "${equation}" is not one data operand with one constant matrix`);
    const dataIndex = inputs.indexOf(dynamic[0]);
    const w = this.constant(inputs[1 - dataIndex]);
    if (!w) return this.unsupported(def, dynamic, `Einsum "${equation}": its other operand is not a constant`);
    const plan = einsumModeProduct(equation, dataIndex, this.shapeOf(dynamic[0]), w.shape);
    if (typeof plan === 'string') return this.unsupported(def, dynamic, `Einsum "${equation}" ${plan}`);
    const [rows, cols] = w.shape;
    const values = Float32Array.from(w.values, Number);
    // The dense weight is [in, out]: the contracted label first.
    const data = plan.inFirst ? values : new Float32Array(rows * cols);
    if (!plan.inFirst) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[j * rows + i] = values[i * cols + j];
    const dims = plan.inFirst ? [rows, cols] : [cols, rows];
    const last = plan.axis === this.shapeOf(dynamic[0]).length - 1;
    const spec: OpSpec = { type: 'dense', weight: { dims, data }, ...(last ? {} : { axis: plan.axis }), ...(plan.outputPerm ? { outputPerm: plan.outputPerm } : {}) };
    this.runnable(def, dynamic, spec, plan.outputShape, { kind: 'affine' }, [...w.shape]);
  }

  /**
   * A·B with A constant and B the signal (a spatial transformer's fixed grid times its predicted
   * transform): linear in B. Each batch of B is multiplied by the batches of A that read it, stacked;
   * when A is one matrix, or B one batch, every batch of B meets the same stack S, and the map is
   * I ⊗ S up to a permutation: a dense row on B's contracted axis with weight Sᵀ, σ = σ(S)
   * (docs/op-coverage.md, "Also covered"). No execution is recorded (the output's layout differs
   * from a dense row's), so no value range passes through it.
   */
  private constantLeftMatMul(def: GraphNodeDef, a: string, b: string, transposeA: boolean, transposeB: boolean): void {
    const left = this.constant(a);
    const sb = this.shapeOf(b);
    const out = this.shapeRule(def)?.[0];
    if (!left || !out || left.shape.length < 2 || sb.length < 2) return this.unsupported(def, [b], `${def.op} of a constant and the signal with shapes that are not matrices`);
    const sa = left.shape;
    const [rows, inner] = transposeA ? [sa[sa.length - 1], sa[sa.length - 2]] : [sa[sa.length - 2], sa[sa.length - 1]];
    const axis = transposeB ? sb.length - 1 : sb.length - 2;
    if (sb[axis] !== inner) this.fail(`node "${def.name}" (${def.op}): operands ${fmt(sa)} and ${fmt(sb)} do not multiply`);
    const batchesA = product(sa.slice(0, -2));
    const batchesB = product(sb.slice(0, -2));
    if (batchesA > 1 && batchesB > 1) return this.unsupported(def, [b], `${def.op} of a batched constant and a batched signal: each batch of the signal meets its own matrices`);
    // Sᵀ as the dense weight [inner, batchesA·rows]: S's row (batch t, row i) is A_t's row i.
    const outFeatures = batchesA * rows;
    const data = new Float32Array(inner * outFeatures);
    const [r, c] = sa.slice(-2);
    for (let t = 0; t < batchesA; t++) for (let i = 0; i < rows; i++) for (let k = 0; k < inner; k++) {
      const stored = transposeA ? k * c + i : i * c + k;
      data[k * outFeatures + t * rows + i] = Number(left.values[t * r * c + stored]);
    }
    this.row(def, [b], { type: 'dense', weight: { dims: [inner, outFeatures], data }, axis }, out, [...sa]);
  }

  private broadcastAll(def: GraphNodeDef, values: string[]): number[] {
    let shape: number[] | undefined;
    for (const v of values) {
      const s = this.isConstantValue(v) ? this.constant(v)?.shape : this.shapeOf(v);
      if (!s) continue;
      const joined: number[] | undefined = shape ? broadcastShapes(shape, s) : [...s];
      if (!joined) this.fail(`node "${def.name}" (${def.op}): shapes ${fmt(shape ?? [])} and ${fmt(s)} do not broadcast`);
      shape = joined;
    }
    return shape ?? [];
  }

  private addLike(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const out = this.broadcastAll(def, inputs);
    const subtract = def.op === 'Sub';
    const signs = subtract ? dynamic.map((v) => (v === inputs[0] ? 1 : -1)) : undefined;
    if (dynamic.length >= 2) {
      const copies = dynamic.map((v) => product(out) / product(this.shapeOf(v)));
      const execution: NodeExecution | undefined = dynamic.length === inputs.length ? { kind: 'sum', signs: inputs.map((_, i) => (subtract && i === 1 ? -1 : 1)) } : undefined;
      if (copies.every((c) => c === 1)) return this.runnable(def, dynamic, { type: 'add', ...(signs ? { signs } : {}) }, out, execution);
      // A signal broadcast to the output copies each entry c times: its bound counts √c times.
      const weights = copies.map(Math.sqrt);
      return this.runnable(def, dynamic, { type: 'add', weights, detail: `${def.op} of signals that broadcast: each bound times √(copies) = ${weights.map((w) => w.toPrecision(4)).join(', ')}`, ...(signs ? { signs } : {}) }, out, execution);
    }
    const inSize = product(this.shapeOf(dynamic[0]));
    const copies = product(out) / inSize;
    const shift = inputs.length === 2 ? this.constant(inputs.find((v) => v !== dynamic[0]) ?? '') : undefined;
    const values = shift ? shiftValues(shift.values, subtract && inputs[0] === dynamic[0], subtract && inputs[1] === dynamic[0]) : undefined;
    const spec = copies === 1 ? structural(`${def.op} of a constant: a shift, 1`, 1, values) : structural(`${def.op} broadcasting the signal ${copies} times: √${copies}`, Math.sqrt(copies), values);
    const execution: NodeExecution | undefined = shift
      ? { kind: 'shift', constant: { dims: [...shift.shape], data: Float32Array.from(shift.values, Number) }, sign: subtract && inputs[1] === dynamic[0] ? -1 : 1, constantSign: subtract && inputs[0] === dynamic[0] ? -1 : 1 }
      : undefined;
    this.runnable(def, dynamic, spec, out, execution);
  }

  /**
   * Atan2(y, x) (docs/op-coverage.md, "Also covered"). With a constant operand c the map is smooth
   * where it is continuous, |∂/∂y atan2(y, c)| = |∂/∂x atan2(c, x)| = |c|/(t² + c²) ≤ 1/|c| (the
   * largest at t = 0), so per entry 1/|c|, combined over broadcast copies as a scaling by 1/|c|
   * (broadcastScaleNorm). But atan2(y, c) with c < 0 jumps by 2π as y crosses 0 (the branch cut on
   * the negative x axis) and with c = 0 by π, as atan2(0, x) does as x crosses 0: unbounded. Of two
   * signals: unbounded (slope 1/‖(x, y)‖ near 0, and the cut).
   */
  private atan2(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const out = this.broadcastAll(def, inputs);
    if (dynamic.length >= 2 || inputs.length !== 2) {
      return this.row(def, dynamic, { type: 'unbounded', reason: 'atan2(y, x) of two signals is not Lipschitz: its slope 1/‖(x, y)‖ grows without bound near 0, and it jumps by 2π across the negative x axis' }, out);
    }
    const signalFirst = inputs[0] === dynamic[0];
    const c = this.constant(inputs[signalFirst ? 1 : 0]);
    if (!c) return this.unsupported(def, dynamic, 'Atan2 with a computed operand');
    const values = Array.from(c.values, Number);
    if (signalFirst && values.some((v) => !(v > 0))) {
      return this.row(def, dynamic, { type: 'unbounded', reason: 'atan2(y, c) with a constant c ≤ 0 somewhere jumps as y crosses 0 (by 2π for c < 0, π for c = 0): not continuous' }, out);
    }
    if (!signalFirst && values.some((v) => !(Math.abs(v) > 0))) {
      return this.row(def, dynamic, { type: 'unbounded', reason: 'atan2(c, x) with a constant c = 0 somewhere jumps by π as x crosses 0: not continuous' }, out);
    }
    const slopes = values.map((v) => 1 / Math.abs(v));
    const constant = broadcastScaleNorm(this.shapeOf(dynamic[0]), c.shape, slopes, out);
    const smallest = Math.min(...values.map(Math.abs));
    const spec: OpSpec = { type: 'fixed', kind: 'activation', constant, detail: `${signalFirst ? 'atan2(y, c)' : 'atan2(c, x)'}: |slope| ≤ 1/|c| ≤ 1/${smallest.toPrecision(4)}${sameShape(out, this.shapeOf(dynamic[0])) ? '' : ', broadcast copies counted'}` };
    const operand = { dims: [...c.shape], data: Float32Array.from(values) };
    this.runnable(def, dynamic, spec, out, { kind: 'activation', name: signalFirst ? 'atan2' : 'atan2Of', operand }, [...c.shape]);
  }

  /** Pow of the signal by a constant exponent: ONNX Pow's row (powerSpec), run as tf.pow with that exponent. */
  private power(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const out = this.broadcastAll(def, inputs);
    const exponent = inputs.length === 2 && dynamic.length === 1 && inputs[0] === dynamic[0] ? this.constant(inputs[1]) : undefined;
    if (!exponent || exponent.values.length === 0) return this.unsupported(def, dynamic, 'Pow with an exponent computed from the data (only a constant exponent is read)');
    const data = Float32Array.from(exponent.values, Number);
    const execution: NodeExecution = { kind: 'power', exponent: { dims: [...exponent.shape], data } };
    const e = data[0];
    // The executor runs any constant exponent as the file does (broadcast); the bound needs one exponent for every entry.
    // An exponent that broadcasts x up copies its entries: x^1 is then a copy, not the identity.
    const copies = Math.sqrt(broadcastCopies(this.shapeOf(dynamic[0]), out));
    const spec: OpSpec = data.every((v) => v === e) ? powerSpec(e, copies) : { type: 'unsupported', detail: 'Pow with a constant exponent that differs between entries' };
    this.runnable(def, dynamic, spec, out, execution);
  }

  private mulLike(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const out = this.broadcastAll(def, inputs);
    const divide = def.op !== 'Mul';
    if (!divide && dynamic.length === 2) {
      // Resolved on the finished graph (src/analysis/products.ts): a gated activation, a product of bounded factors, or unbounded.
      return this.row(def, dynamic, { type: 'unbounded', product: true, reason: 'a product of two signals (x·y) is not globally Lipschitz' }, out);
    }
    if (dynamic.length >= 2 || (divide && dynamic[0] !== inputs[0])) {
      return this.row(def, dynamic, { type: 'unbounded', reason: divide ? 'division by a signal is not globally Lipschitz' : 'a product of two signals (x·y) is not globally Lipschitz' }, out);
    }
    const x = dynamic[0];
    const inShape = this.shapeOf(x);
    const constInput = inputs.find((v) => v !== x);
    const c = constInput === undefined ? undefined : this.constant(constInput);
    if (!c) return this.unsupported(def, dynamic, `${def.op} by a computed value`);
    // DivNoNan gives 0 where the divisor is 0 (tf.divNoNan): a zero multiplier, still linear.
    const noNan = def.op === 'DivNoNan';
    if (divide && !noNan && Array.prototype.some.call(c.values, (v: number | bigint) => Number(v) === 0)) {
      return this.row(def, dynamic, { type: 'unbounded', reason: 'division by a constant that holds 0' }, out);
    }
    const values = Float32Array.from(c.values, (v) => (!divide ? Number(v) : Number(v) === 0 ? 0 : 1 / Number(v)));
    // Which axes of the input the constant varies along (aligned from the right).
    const offset = inShape.length - c.shape.length;
    const varying = c.shape.map((d, i) => (d !== 1 ? i + offset : -1)).filter((a) => a >= 0);
    if (sameShape(out, inShape) && (values.length === 1 || varying.length === 0)) {
      return this.runnable(def, [x], { type: 'diagonal', scale: Float32Array.of(values[0]), axis: -1 }, out, { kind: 'affine' }, c.shape);
    }
    if (sameShape(out, inShape) && varying.length === 1) {
      return this.runnable(def, [x], { type: 'diagonal', scale: values, axis: varying[0] }, out, { kind: 'affine' }, c.shape);
    }
    // Multipliers along several axes, or a constant that broadcasts the signal (e.g. [H, W, 1] times [C]):
    // the exact norm in closed form; the row runs as a multiplication by the constant.
    const norm = broadcastScaleNorm(inShape, c.shape, values, out);
    const spec = structural(`${def.op} by a constant ${fmt(c.shape)} broadcast to ${fmt(out)}: max √(Σ c²) over copies`, norm);
    this.runnable(def, [x], spec, out, { kind: 'activation', name: 'scale', operand: { dims: [...c.shape], data: values } }, c.shape);
  }

  /**
   * Conv2DBackpropInput(input_sizes, filter [kh, kw, in, out], dy): the transposed convolution
   * (tf.conv2dTranspose), dy [N, H', W', out] → [N, H, W, in]. The forward convolution's pads for
   * the output size give the transposed one's; output_padding makes up the rest of input_sizes.
   */
  private transposedConv(def: GraphNodeDef): void {
    const [sizesValue, filterValue, dy] = this.dataInputs(def);
    const shape = this.shapeOf(dy);
    const filter = this.constant(filterValue);
    const sizes = this.constant(sizesValue);
    if (!filter || !sizes) return this.unsupported(def, [dy], 'a filter or output size computed at run time');
    const channelsLast = this.dataFormat(def);
    if (shape.length !== 4 || filter.shape.length !== 4 || sizes.values.length !== 4) this.fail(`node "${def.name}" (${def.op}): expects 4-D input, filter and input_sizes, gets ${fmt(shape)}, ${fmt(filter.shape)}`);
    const [kh, kw, inChannels, outChannels] = filter.shape;
    const out = Array.from(sizes.values, Number);
    const outSpatial = channelsLast ? out.slice(1, 3) : out.slice(2, 4);
    const inSpatial = channelsLast ? shape.slice(1, 3) : shape.slice(2, 4);
    if ((channelsLast ? shape[3] : shape[1]) !== outChannels) this.fail(`node "${def.name}" (${def.op}): input ${fmt(shape)} does not have the filter's ${outChannels} channels`);
    const strides = this.spatialAttr(def, 'strides', channelsLast, 1);
    const dilations = this.spatialAttr(def, 'dilations', channelsLast, 1);
    const kernel = [kh, kw];
    const { padsBegin, padsEnd } = this.windowPads(def, outSpatial, kernel, strides, dilations, channelsLast);
    const outputPadding = outSpatial.map((size, i) => size - (strides[i] * (inSpatial[i] - 1) + (kernel[i] - 1) * dilations[i] + 1 - padsBegin[i] - padsEnd[i]));
    if (outputPadding.some((p, i) => p < 0 || p >= Math.max(strides[i], dilations[i]))) this.fail(`node "${def.name}" (${def.op}): input_sizes ${fmt(out)} do not fit input ${fmt(shape)} and filter ${fmt(filter.shape)}`);
    // Canonical (ONNX) layout [cIn of the transposed map = out, cOut = in, kh, kw].
    const data = new Float32Array(filter.values.length);
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < inChannels; i++) for (let o = 0; o < outChannels; o++) {
      data[((o * inChannels + i) * kh + y) * kw + x] = Number(filter.values[((y * kw + x) * inChannels + i) * outChannels + o]);
    }
    const spec: OpSpec = { type: 'convTranspose', channelsLast, weight: { dims: [outChannels, inChannels, kh, kw], data }, strides, dilations, padsBegin, padsEnd, outputPadding, group: 1 };
    // No bias: the executor runs the spec as it is.
    this.runnable(def, [dy], spec, out, { kind: 'affine' }, filter.shape);
  }

  /** ResizeBilinear / ResizeNearestNeighbor on NHWC images, as tfjs computes them (docs/op-coverage.md, "Resize"). */
  private resize(def: GraphNodeDef): void {
    const [x, sizeValue] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const size = this.constOrFail(def, sizeValue, 'size');
    if (shape.length !== 4 || size.values.length !== 2) this.fail(`node "${def.name}" (${def.op}): expects NHWC images and a size of 2, gets ${fmt(shape)} and ${fmt(size.shape)}`);
    const out = [shape[0], Number(size.values[0]), Number(size.values[1]), shape[3]];
    const alignCorners = attrB(def, 'align_corners');
    const halfPixel = attrB(def, 'half_pixel_centers');
    const nearest = def.op === 'ResizeNearestNeighbor';
    const transform = TRANSFORMS[alignCorners ? 'align_corners' : halfPixel ? (nearest ? 'tf_half_pixel_for_nearest' : 'half_pixel') : 'asymmetric'] as CoordinateTransform;
    // TF rounds half away from zero under align_corners (coordinates are ≥ 0 there), else floors.
    const round = alignCorners ? ROUNDING.round_prefer_ceil : ROUNDING.floor;
    const axes: AxisResize[] = shape.map((inLength, i) => ({ inLength, outLength: out[i], scale: out[i] / inLength, mode: nearest ? 'nearest' : 'linear', transform, round }));
    const { sigma, detail } = resizeNorm(axes);
    // For the graph executor: each axis's interpolation matrix (null where it keeps its length and reads its own index).
    const matrices = axes.map((axis) => {
      const rows = interpolationRows(axis);
      if (axis.outLength === axis.inLength && rows.every((r, j) => r.index.length === 1 && r.index[0] === j && r.weight[0] === 1)) return null;
      const matrix = new Float32Array(axis.outLength * axis.inLength);
      rows.forEach((r, j) => r.index.forEach((i, k) => (matrix[j * axis.inLength + i] += r.weight[k])));
      return matrix;
    });
    this.runnable(def, [x], structural(detail, sigma, SELECTS), out, { kind: 'axisMatrices', matrices });
  }

  /** Maximum / Minimum of a signal with a constant, ClipByValue with constant limits: a clamp, 1. */
  private clamp(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const x = dynamic[0];
    const shape = this.shapeOf(x);
    const limits = inputs.filter((v) => v !== x).map((v) => this.constant(v));
    const out = this.broadcastAll(def, inputs);
    if (dynamic.length !== 1 || limits.some((c) => !c) || !sameShape(out, shape)) return this.unsupported(def, dynamic, `${def.op} of several signals or by a computed value`);
    const scalar = (i: number) => (limits[i]?.values.length === 1 ? Number(limits[i]?.values[0]) : undefined);
    const min = def.op === 'Maximum' ? scalar(0) : def.op === 'ClipByValue' ? scalar(0) : undefined;
    const max = def.op === 'Minimum' ? scalar(0) : def.op === 'ClipByValue' ? scalar(1) : undefined;
    const known = (def.op === 'Maximum' && min !== undefined) || (def.op === 'Minimum' && max !== undefined) || (def.op === 'ClipByValue' && min !== undefined && max !== undefined);
    const spec = known ? (activationSpec('clip', { min, max }) as OpSpec) : ({ type: 'fixed', kind: 'activation', constant: 1, detail: `${def.op} with a constant (a clamp): 1` } as OpSpec);
    // Executed as written: ClipByValue as a clip, Maximum / Minimum with their (broadcast) constant.
    const limit = limits[0];
    const execution: NodeExecution | undefined = def.op === 'ClipByValue'
      ? (known ? { kind: 'activation', name: 'clip', min, max } : undefined)
      : limit && limits.length === 1 ? { kind: 'activation', name: def.op === 'Maximum' ? 'maximum' : 'minimum', operand: { dims: [...limit.shape], data: Float32Array.from(limit.values, Number) } } : undefined;
    this.row(def, [x], spec, shape, null, def.name, def.name, def.op, execution);
  }

  /** DepthToSpace / SpaceToDepth (NHWC): a permutation of the entries. */
  private depthToSpace(def: GraphNodeDef): void {
    const [x] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const block = Number(def.attr.block_size?.i ?? 0);
    if (shape.length !== 4 || !(block >= 1) || attrS(def, 'data_format') === 'NCHW') this.fail(`node "${def.name}" (${def.op}): expects NHWC input and a block size, gets ${fmt(shape)} and ${block}`);
    const [n, h, w, c] = shape;
    const out = def.op === 'DepthToSpace' ? [n, h * block, w * block, c / (block * block)] : [n, h / block, w / block, c * block * block];
    if (!out.every(Number.isInteger)) this.fail(`node "${def.name}" (${def.op}): block ${block} does not fit ${fmt(shape)}`);
    this.row(def, [x], structural(`${def.op}: a permutation of the entries, 1`, 1, SELECTS), out, null, def.name, def.name, def.op, { kind: 'depthToSpace', block, inverse: def.op === 'SpaceToDepth' });
  }

  private concat(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const axisValue = def.op === 'ConcatV2' ? inputs[inputs.length - 1] : inputs[0];
    const values = def.op === 'ConcatV2' ? inputs.slice(0, -1) : inputs.slice(1);
    const axisConst = this.constOrFail(def, axisValue, 'axis');
    const shapes = values.map((v) => (this.isConstantValue(v) ? this.constant(v)?.shape : this.shapeOf(v)) ?? this.fail(`node "${def.name}": input "${v}" has an unknown shape`));
    const rank = shapes[0].length;
    const axis = normalizeAxis(Number(axisConst.values[0]), rank);
    const out = [...shapes[0]];
    for (const s of shapes.slice(1)) {
      if (s.length !== rank || s.some((d, i) => i !== axis && d !== out[i])) this.fail(`node "${def.name}" (${def.op}): cannot concatenate ${shapes.map((x) => fmt(x)).join(' and ')} on axis ${axis}`);
      out[axis] += s[axis];
    }
    this.runnable(def, dynamic, { type: 'concat', axis }, out, values.every((v) => dynamic.includes(v)) ? { kind: 'spec' } : undefined);
  }

  private pad(def: GraphNodeDef): void {
    const [x, paddingsValue] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const paddings = this.constOrFail(def, paddingsValue, 'paddings');
    if (paddings.values.length !== 2 * shape.length) this.fail(`node "${def.name}" (${def.op}): paddings ${fmt(paddings.shape)} do not fit input ${fmt(shape)}`);
    const pairs = shape.map((_, i) => [Number(paddings.values[2 * i]), Number(paddings.values[2 * i + 1])]);
    const out = shape.map((d, i) => d + pairs[i][0] + pairs[i][1]);
    if (def.op !== 'MirrorPad') {
      const constantValue = def.op === 'PadV2' ? this.floats(this.dataInputs(def)[2])?.[0] : 0;
      const execution: NodeExecution | undefined = constantValue === undefined ? undefined : { kind: 'pad', begin: pairs.map((p) => p[0]), end: pairs.map((p) => p[1]), value: constantValue };
      return this.runnable(def, [x], structural('zero/constant padding: 1'), out, execution);
    }
    const mode = attrS(def, 'mode') ?? 'REFLECT';
    let copies = 1;
    shape.forEach((size, i) => {
      copies *= largestCopies(mode === 'SYMMETRIC' ? 'symmetric' : 'reflect', size, pairs[i][0], pairs[i][1]);
    });
    const execution: NodeExecution | undefined = mode === 'REFLECT' || mode === 'SYMMETRIC' ? { kind: 'mirrorPad', begin: pairs.map((p) => p[0]), end: pairs.map((p) => p[1]), mode: mode === 'SYMMETRIC' ? 'symmetric' : 'reflect' } : undefined;
    this.row(def, [x], structural(`mirror padding (${mode}): √(${copies} copies of one input)`, Math.sqrt(copies)), out, null, def.name, def.name, def.op, execution);
  }

  private pool(def: GraphNodeDef): void {
    const [x] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    if (shape.length !== 4) this.fail(`node "${def.name}" (${def.op}) expects a rank-4 input, gets ${fmt(shape)}`);
    const channelsLast = this.dataFormat(def);
    const spatial = channelsLast ? shape.slice(1, 3) : shape.slice(2, 4);
    const kernel = this.spatialAttr(def, 'ksize', channelsLast, 1);
    const strides = this.spatialAttr(def, 'strides', channelsLast, 1);
    const ones = [1, 1];
    const { padsBegin, padsEnd } = this.windowPads(def, spatial, kernel, strides, ones, channelsLast);
    const outSpatial = slidingOutputSize(spatial, kernel, strides, ones, padsBegin, padsEnd);
    if (outSpatial.some((d) => d <= 0)) this.fail(`node "${def.name}" (${def.op}): input ${fmt(shape)} is too small for the window ${fmt(kernel)}`);
    const out = channelsLast ? [shape[0], ...outSpatial, shape[3]] : [shape[0], shape[1], ...outSpatial];
    const spec: OpSpec = def.op === 'MaxPool'
      ? { type: 'maxPool', channelsLast, kernel, strides, dilations: ones, padsBegin, padsEnd }
      : { type: 'avgPool', channelsLast, kernel, strides, padsBegin, padsEnd, countIncludePad: false };
    this.runnable(def, [x], spec, out, { kind: 'spec' });
  }

  private reduce(def: GraphNodeDef): void {
    const [x, axesValue] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const axesConst = this.constOrFail(def, axesValue, 'axes');
    const axes = [...new Set(Array.from(axesConst.values, (a) => normalizeAxis(Number(a), shape.length)))].sort((p, q) => p - q);
    if (axes.some((a) => a < 0 || a >= shape.length)) this.fail(`node "${def.name}" (${def.op}): axes ${fmt(Array.from(axesConst.values))} outside rank ${shape.length}`);
    const keep = attrB(def, 'keep_dims') || attrB(def, 'keepdims');
    const out = keep ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
    const count = product(axes.map((a) => shape[a]));
    let spec: OpSpec;
    if (def.op === 'Mean') spec = { type: 'reduceMean', axes };
    else if (def.op === 'Sum') spec = structural(`sum over ${count} entries: √${count}`, Math.sqrt(count));
    else if (def.op === 'Prod') spec = count === 1 ? structural('product over one entry: 1') : { type: 'unbounded', reason: 'a product of entries of the signal is not globally Lipschitz' };
    else spec = structural(`${def.op.toLowerCase()} over entries: 1`);
    const execution: NodeExecution | undefined = def.op === 'Mean' ? { kind: 'spec' } : def.op === 'Max' || def.op === 'Min' || def.op === 'Sum' ? { kind: 'reduce', op: def.op === 'Max' ? 'max' : def.op === 'Min' ? 'min' : 'sum', axes } : undefined;
    this.runnable(def, [x], spec, out, execution);
  }

  private reshape(def: GraphNodeDef): void {
    const [x, shapeValue] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const target = this.constant(shapeValue);
    if (!target) return this.unsupported(def, [x], 'Reshape to a shape computed at run time');
    const dims = Array.from(target.values, Number);
    const total = product(shape);
    const known = product(dims.filter((d) => d !== -1));
    const resolved = dims.map((d) => (d === -1 ? total / known : d));
    if (dims.filter((d) => d === -1).length > 1 || product(resolved) !== total || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
      this.fail(`node "${def.name}" (Reshape): cannot reshape ${fmt(shape)} to ${fmt(dims)}`);
    }
    this.runnable(def, [x], structural('reshape: 1'), resolved, { kind: 'reshape' });
  }

  private squeeze(def: GraphNodeDef): void {
    const [x] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const listed = (attrListI(def, 'squeeze_dims') ?? attrListI(def, 'axis') ?? []).map((a) => normalizeAxis(a, shape.length));
    const drop = listed.length > 0 ? listed : shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    if (drop.some((a) => shape[a] !== 1)) this.fail(`node "${def.name}" (Squeeze): cannot squeeze axes ${fmt(drop)} of ${fmt(shape)}`);
    this.runnable(def, [x], structural('squeeze: 1'), shape.filter((_, i) => !drop.includes(i)), { kind: 'reshape' });
  }

  private batchNorm(def: GraphNodeDef): void {
    const inputs = this.dataInputs(def);
    const x = inputs[0];
    const shape = this.shapeOf(x);
    const channelsLast = this.dataFormat(def);
    const axis = channelsLast ? shape.length - 1 : 1;
    const scaleV = this.constOrFail(def, inputs[1], 'scale');
    const varianceV = this.constOrFail(def, inputs[4], 'variance');
    const epsilon = attrF(def, 'epsilon') ?? 1e-3;
    const channels = shape[axis];
    if (scaleV.values.length !== channels || varianceV.values.length !== channels) this.fail(`node "${def.name}" (${def.op}): arguments do not have ${channels} channels`);
    const scale = new Float32Array(channels);
    for (let i = 0; i < channels; i++) scale[i] = Number(scaleV.values[i]) / Math.sqrt(Number(varianceV.values[i]) + epsilon);
    const offset = this.floats(inputs[2]);
    const mean = this.floats(inputs[3]);
    const execution: NodeExecution | undefined = offset && mean && offset.length === channels && mean.length === channels ? { kind: 'affine', bias: Float32Array.from(offset, (b, i) => b - mean[i] * scale[i]) } : undefined;
    this.runnable(def, [x], { type: 'diagonal', scale, axis }, shape, execution, scaleV.shape);
  }
}

/** "name:0" / "name" → "name"; "name:k" → "name:k". */
function valueName(ref: string): string {
  const m = /^(.*):(\d+)$/.exec(ref);
  if (!m) return ref;
  return m[2] === '0' ? m[1] : ref;
}

function producer(ref: string): string {
  const plain = ref.replace(/^\^/, '');
  const m = /^(.*):(\d+)$/.exec(plain);
  return m ? m[1] : plain;
}

function attrS(def: GraphNodeDef, name: string): string | undefined {
  const s = def.attr[name]?.s;
  return typeof s === 'string' ? decodeBase64(s) : undefined;
}

function attrF(def: GraphNodeDef, name: string): number | undefined {
  const f = def.attr[name]?.f;
  return f === undefined ? undefined : Number(f);
}

function attrB(def: GraphNodeDef, name: string): boolean {
  return def.attr[name]?.b === true;
}

function attrListI(def: GraphNodeDef, name: string): number[] | undefined {
  const list = def.attr[name]?.list as Json | undefined;
  if (!list) return undefined;
  return Array.isArray(list.i) ? list.i.map((v) => Number(v)) : [];
}

function attrListS(def: GraphNodeDef, name: string): string[] | undefined {
  const list = def.attr[name]?.list as Json | undefined;
  if (!list) return undefined;
  return Array.isArray(list.s) ? list.s.map((v) => decodeBase64(String(v))) : [];
}

function tensorShape(shape: Json | undefined): number[] | undefined {
  if (!shape) return undefined;
  if (!Array.isArray(shape.dim)) return [];
  return (shape.dim as Json[]).map((d) => Number(d.size ?? 0));
}

function outputShapesAttr(def: GraphNodeDef): number[][] | undefined {
  const list = def.attr._output_shapes?.list as Json | undefined;
  if (!list || !Array.isArray(list.shape)) return undefined;
  return (list.shape as Json[]).map((s) => tensorShape(s) ?? []).map((s) => s.map((d, i) => (i === 0 && d < 0 ? 1 : d)));
}

/** Most values an inline constant may expand to from a shorter value list (TensorProto's fill rule). */
const INLINE_FILL_LIMIT = 1 << 24;

/** A small tensor inline in the graph (`tensorContent` base64 or typed value lists). */
function inlineTensor(tensor: Json, fail: (problem: string) => never): ConstValue | undefined {
  const shape = tensorShape(tensor.tensorShape as Json | undefined) ?? [];
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`its inline value has an invalid shape ${fmt(shape)}`);
  const dtype = TF_DTYPES[String(tensor.dtype)] ?? 'float32';
  const count = product(shape);
  const fromList = (list: unknown): number[] | undefined => (Array.isArray(list) && list.length > 0 ? list.map(Number) : undefined);
  let values = fromList(tensor.floatVal) ?? fromList(tensor.intVal) ?? fromList(tensor.int64Val) ?? fromList(tensor.doubleVal);
  if (!values && typeof tensor.tensorContent === 'string') {
    const text = strictBase64(tensor.tensorContent) ?? fail('its inline tensorContent is not base64');
    const bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    const step = dtype === 'float32' || dtype === 'int32' ? 4 : 1;
    if (bytes.length !== count * step) fail(`its inline value declares ${fmt(shape)} (${count * step} bytes) but tensorContent holds ${bytes.length} bytes`);
    values = Array.from({ length: Math.floor(bytes.length / step) }, (_, i) => (step === 1 ? bytes[i] : dtype === 'float32' ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true)));
  }
  if (!values) return undefined;
  if (values.length !== count && count > INLINE_FILL_LIMIT) fail(`its inline value declares ${fmt(shape)} (${count.toExponential(2)} values) from ${values.length}; more than an inline constant may expand to`);
  // A single listed value fills the whole tensor (TensorProto semantics).
  const full = values.length === count || count === 0 ? values : Array.from({ length: count }, (_, i) => values[Math.min(i, values.length - 1)]);
  return { shape, dtype, values: dtype === 'int32' ? Int32Array.from(full) : Float32Array.from(full) };
}

function decodeBase64(text: string): string {
  return strictBase64(text) ?? text;
}

function strictBase64(text: string): string | undefined {
  try {
    return atob(text);
  } catch {
    return undefined;
  }
}
