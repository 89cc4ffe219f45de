// Walks an ONNX graph in topological order, propagating concrete shapes and folding constants, and
// emits one IR node per op that touches data derived from the network input.

import type { IrNode, IrValueInfo, OpSpec } from '../../model/ir';
import type { FileAccess, OpenOptions } from '../../model/files';
import { ModelError } from '../../model/errors';
import { NodeContext, formatShape, type NodeResult, type Value } from './context';
import { CONTRIB_OPS, OPS, SHAPE_PRESERVING } from './ops';
import { DataType, isFloatType, onnx, toNumber } from './proto';
import { GraphOrderError, topologicalOrder as sharedOrder } from '../../analysis/topological';
import { IDENTITY_VALUES, structural } from '../../analysis/constants';
import { checkTensor, elementCount, readTensor, readTensorSync, type ConstTensor } from './tensor';

/** Values constant folding may build beyond four times the model's parameters. */
const FOLD_ALLOWANCE = 1 << 25;

export interface WalkResult {
  /** The signal input first. */
  inputs: IrValueInfo[];
  signal: string;
  nodes: IrNode[];
  parameterCount: number;
  warnings: string[];
}

/** Topological order of the nodes; a cycle or a dangling input is a ModelError. Values a node's subgraphs (If, Loop, Scan bodies) read from this graph count as its inputs. */
export function topologicalOrder(graph: onnx.IGraphProto, known: Set<string>, file: string): number[] {
  const nodes = graph.node ?? [];
  const produced = new Set(nodes.flatMap((n) => n.output ?? []));
  const describe = (i: number) => nodes[i].name || nodes[i].output?.[0] || nodes[i].opType;
  const orderNodes = nodes.map((node) => ({
    inputs: [...(node.input ?? []), ...outerReads(node).filter((name) => produced.has(name) || known.has(name))],
    outputs: node.output ?? [],
  }));
  try {
    return sharedOrder(orderNodes, (v) => known.has(v), {
      producedTwice: (value) => `value "${value}" is produced twice`,
      dangling: (i, value) => `node "${describe(i)}" reads "${value}", which is neither a graph input, an initializer nor produced by a node`,
      cycle: (i) => `the graph has a cycle through node "${describe(i)}"`,
    });
  } catch (error) {
    if (error instanceof GraphOrderError) throw new ModelError(file, error.message);
    throw error;
  }
}

/** The subgraphs a node holds (If branches, Loop and Scan bodies). */
function subgraphs(node: onnx.INodeProto): onnx.IGraphProto[] {
  return (node.attribute ?? []).flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]);
}

/** Names a node's subgraphs read from the enclosing scopes (not produced, initialised or declared inside them). */
export function outerReads(node: onnx.INodeProto): string[] {
  const reads = new Set<string>();
  for (const graph of subgraphs(node)) {
    const inside = new Set<string>([...(graph.input ?? []).map((i) => i.name ?? ''), ...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.node ?? []).flatMap((n) => n.output ?? [])]);
    for (const inner of graph.node ?? []) {
      for (const name of [...(inner.input ?? []), ...outerReads(inner)]) if (name && !inside.has(name)) reads.add(name);
    }
    for (const output of graph.output ?? []) if (output.name && !inside.has(output.name)) reads.add(output.name);
  }
  return [...reads];
}

function declaredShape(info: onnx.IValueInfoProto): (number | string)[] | undefined {
  const shape = info.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d) => {
    const v = toNumber(d.dimValue);
    if (v !== 0 || ((d as onnx.TensorShapeProto.Dimension).value === 'dimValue' && !d.dimParam)) return v;
    return d.dimParam || '?';
  });
}

function elementType(info: onnx.IValueInfoProto): number {
  return info.type?.tensorType?.elemType ?? DataType.UNDEFINED;
}

export interface ResolvedInputs {
  /** The signal input first, then the others in the file's order. */
  infos: IrValueInfo[];
  signal: string;
  /** Inputs fixed by --input-value, as constants. */
  fixed: Map<string, ConstTensor>;
  /** Inputs held fixed whose shape the file does not declare. */
  shapeless: Set<string>;
}

/**
 * Concrete shapes of the graph inputs (docs/graphs.md). The signal input (named, else the first
 * floating-point one) takes --input-shape, else its declared dims with a dynamic batch as 1. The
 * others are held fixed: their dims come from a named --input-shape, else from a dim name they
 * share with the signal input, else 1 with a warning.
 */
export function resolveInputs(graph: onnx.IGraphProto, initializers: Set<string>, options: OpenOptions, file: string, warnings: string[]): ResolvedInputs {
  const inputs = (graph.input ?? []).filter((i) => i.name && !initializers.has(i.name));
  if (inputs.length === 0) throw new ModelError(file, 'the graph has no inputs besides its initializers');
  const names = inputs.map((i) => i.name as string);
  const list = names.map((n) => `"${n}"`).join(', ');
  for (const name of [...Object.keys(options.inputShapes ?? {}), ...Object.keys(options.inputValues ?? {}), ...(options.signalInput ? [options.signalInput] : [])]) {
    if (!names.includes(name)) throw new ModelError(file, `has no input "${name}"; its inputs are ${list}`);
  }
  const signalInfo = options.signalInput ? inputs[names.indexOf(options.signalInput)] : inputs.find((i) => isFloatType(elementType(i))) ?? inputs[0];
  const signal = signalInfo.name as string;
  if (options.inputValues?.[signal] !== undefined) throw new ModelError(file, `input "${signal}" is the signal input: it cannot also be given a fixed value`);

  const signalDeclared = declaredShape(signalInfo);
  // Dim names whose size another input's given shape fixes (e.g. batch) hold for the signal input too.
  const namedDims = new Map<string, number>();
  for (const info of inputs) {
    const given = options.inputShapes?.[info.name as string];
    if (!given || info.name === signal) continue;
    (declaredShape(info) ?? []).forEach((d, i) => typeof d === 'string' && d !== '?' && given[i] !== undefined && namedDims.set(d, given[i]));
  }
  const signalShape = resolveSignal(signalInfo, options.inputShape ?? options.inputShapes?.[signal], file, warnings, namedDims);
  const infos: IrValueInfo[] = [{ name: signal, shape: signalShape, declaredShape: signalDeclared ?? signalShape }];
  const fixed = new Map<string, ConstTensor>();
  const shapeless = new Set<string>();
  for (const info of inputs) {
    const name = info.name as string;
    if (name === signal) continue;
    const declared = declaredShape(info);
    const given = options.inputShapes?.[name];
    let shape: number[];
    if (given) {
      checkGiven(name, given, declared, file, warnings);
      shape = [...given];
    } else if (!declared) {
      if (options.inputValues?.[name] !== undefined) shape = [];
      else {
        warnings.push(`input "${name}" declares no shape; give one with --input-shape ${name}=...: what it feeds is unknown`);
        shapeless.add(name);
        shape = [];
      }
    } else {
      shape = declared.map((d, i) => {
        if (typeof d === 'number' && d > 0) return d;
        const shared = typeof d === 'string' && d !== '?' ? (signalDeclared ?? []).indexOf(d) : -1;
        if (shared >= 0) return signalShape[shared];
        warnings.push(`input "${name}" dimension ${i} (${d}) is not given and shares no name with the signal input "${signal}": using 1 (set it with --input-shape ${name}=...)`);
        return 1;
      });
    }
    infos.push({ name, shape, declaredShape: declared ?? shape });
    const value = options.inputValues?.[name];
    if (value !== undefined) {
      const dataType = elementType(info) || DataType.FLOAT;
      const count = elementCount(shape);
      fixed.set(name, { dims: shape, dataType, data: isFloatType(dataType) ? new Float32Array(count).fill(value) : new Float64Array(count).fill(dataType === DataType.BOOL ? Number(value !== 0) : Math.trunc(value)) });
    }
  }
  return { infos, signal, fixed, shapeless };
}

function checkGiven(name: string, shape: number[], declared: (number | string)[] | undefined, file: string, warnings: string[]): void {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new ModelError(file, `input shape ${formatShape(shape)} must hold positive integers`);
  if (declared && declared.length !== shape.length) {
    throw new ModelError(file, `input "${name}" has rank ${declared.length} ([${declared.join(', ')}]) but the input shape given is ${formatShape(shape)}`);
  }
  const conflicts = (declared ?? []).some((d, i) => typeof d === 'number' && d > 0 && d !== shape[i]);
  if (conflicts) warnings.push(`input "${name}" is declared [${(declared ?? []).join(', ')}]; using the given shape ${formatShape(shape)}`);
}

/** The signal input's shape: the one given, else its declared dims (a dynamic batch as 1); other dynamic dims must be given. */
function resolveSignal(info: onnx.IValueInfoProto, given: number[] | undefined, file: string, warnings: string[], namedDims: ReadonlyMap<string, number>): number[] {
  const name = info.name as string;
  const stated = declaredShape(info);
  const declared = stated?.map((d) => (typeof d === 'string' && namedDims.has(d) ? (namedDims.get(d) as number) : d));
  if (given) {
    checkGiven(name, given, declared, file, warnings);
    return [...given];
  }
  if (!declared) {
    throw new ModelError(file, `input "${name}" declares no shape; pass one with --input-shape (e.g. --input-shape 1,3,224,224)`);
  }
  const invalid = declared.findIndex((d) => typeof d === 'number' && d <= 0);
  if (invalid >= 0) throw new ModelError(file, `input "${name}" declares dimension ${invalid} as ${declared[invalid]} in [${declared.join(', ')}]; pass a shape with --input-shape`);
  const dynamic = declared.flatMap((d, i) => (typeof d === 'number' ? [] : [i]));
  const shape = declared.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const others = dynamic.filter((i) => i !== 0);
  if (others.length > 0) {
    const example = declared.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : `<${d}>`)).join(',');
    const which = others.map((i) => `${i} (${declared[i]})`).join(', ');
    throw new ModelError(file, `input "${name}" has dynamic dims [${declared.join(', ')}]: dimension ${which} cannot be guessed; pass a shape with --input-shape ${example}`);
  }
  if (dynamic.includes(0)) warnings.push(`input "${name}" has a dynamic batch dimension (${declared[0]}); using 1`);
  return shape;
}

/** Parameters are the numeric constants that are not shape vectors or masks (int64 and bool in ONNX). */
function isParameter(dataType: number | null | undefined): boolean {
  return dataType !== DataType.INT64 && dataType !== DataType.BOOL && dataType !== DataType.STRING;
}

/** Every node of a graph and of the subgraphs inside it. */
function allNodes(graph: onnx.IGraphProto): onnx.INodeProto[] {
  return (graph.node ?? []).flatMap((node) => [node, ...subgraphs(node).flatMap(allNodes)]);
}

/** Ops holding subgraphs that run a variable number of times, or a branch chosen at run time. */
const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);

export async function walkGraph(model: onnx.IModelProto, files: FileAccess, options: OpenOptions, opset: number): Promise<WalkResult> {
  const file = files.mainPath;
  const graph = model.graph as onnx.IGraphProto;
  const warnings: string[] = [];
  const source = { file, files };
  const values = new Map<string, Value>();
  let parameterCount = 0;
  const used = new Set(allNodes(graph).flatMap((n) => [...(n.input ?? []), ...outerReads(n)]));

  // Initializers: every declared size checked against the bytes present before anything is read.
  const readInitializers = async (tensors: onnx.ITensorProto[], countParameters: boolean): Promise<Set<string>> => {
    const names = new Set<string>();
    for (const t of tensors) {
      if (!t.name) throw new ModelError(file, 'an initializer has no name');
      names.add(t.name);
      if (t.dataType === DataType.STRING || t.dataType === DataType.UNDEFINED) {
        values.set(t.name, { kind: 'unknown', reason: `initializer "${t.name}" is not numeric` });
        continue;
      }
      const describe = `initializer "${t.name}"`;
      const { dims } = await checkTensor(t, describe, source);
      if (countParameters && isParameter(t.dataType)) parameterCount += elementCount(dims);
      // Only initializers a node reads are decoded (external data is read lazily, on demand).
      if (used.has(t.name)) values.set(t.name, { kind: 'const', tensor: await readTensor(t, describe, source) });
    }
    return names;
  };
  const initializerNames = await readInitializers(graph.initializer ?? [], true);
  // Branch initializers count as parameters too (a folded If keeps one branch's).
  const nestedInitializers = new Map<onnx.IGraphProto, onnx.ITensorProto[]>();
  for (const node of allNodes(graph)) for (const g of subgraphs(node)) nestedInitializers.set(g, g.initializer ?? []);
  for (const tensors of nestedInitializers.values()) for (const t of tensors) if (isParameter(t.dataType) && t.dims) parameterCount += elementCount((await checkTensor(t, `initializer "${t.name}"`, source)).dims);

  const resolved = resolveInputs(graph, initializerNames, options, file, warnings);
  for (const input of resolved.infos) {
    const fixed = resolved.fixed.get(input.name);
    if (fixed) values.set(input.name, { kind: 'const', tensor: fixed });
    else if (resolved.shapeless.has(input.name)) values.set(input.name, { kind: 'unknown', reason: `input "${input.name}" declares no shape`, data: input.name === resolved.signal });
    else values.set(input.name, { kind: 'dynamic', shape: input.shape });
  }

  // Tensor attributes (Constant values) may keep their bytes externally: read them now.
  const attributeTensors = new Map<onnx.ITensorProto, ConstTensor>();
  for (const node of allNodes(graph)) {
    for (const a of node.attribute ?? []) {
      if (a.t && a.t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
        attributeTensors.set(a.t, await readTensor(a.t, `${node.opType} "${node.name || node.output?.[0]}" attribute ${a.name}`, source));
      }
    }
  }
  for (const node of graph.node ?? []) {
    if (node.opType === 'Constant') {
      for (const a of node.attribute ?? []) {
        if (a.name === 'value' && a.t) {
          const { dims } = await checkTensor(a.t, `Constant "${node.name || node.output?.[0]}"`, source);
          if (isParameter(a.t.dataType)) parameterCount += elementCount(dims);
        } else if (a.name === 'value_float') parameterCount += 1;
        else if (a.name === 'value_floats') parameterCount += a.floats?.length ?? 0;
      }
    }
  }
  // An input run at another size than the fixed one it declares: exporters bake sizes for the
  // declared one (a Resize to constant sizes), so a shape error after it says so.
  const resized = resolved.infos.find((i) => i.declaredShape.some((d, k) => typeof d === 'number' && d > 0 && d !== i.shape[k]));
  const shapeHint = resized ? ` (input "${resized.name}" is declared [${resized.declaredShape.join(', ')}] and read as ${formatShape(resized.shape)}: sizes the exporter fixed for the declared shape, such as a Resize to constant sizes, may not fit another)` : '';
  const resolveTensor = (t: onnx.ITensorProto, describe: string) => attributeTensors.get(t) ?? readTensorSync(t, describe, file);
  // Folding builds constants from a few bytes (ConstantOfShape, Tile, Expand): in all it may make a
  // fixed allowance plus a few times the model's own parameters, no more.
  let foldBudget = FOLD_ALLOWANCE + 4 * parameterCount;

  const valueInfo = new Map<string, (number | string)[]>();
  const collectValueInfo = (g: onnx.IGraphProto) => {
    for (const info of [...(g.valueInfo ?? []), ...(g.output ?? [])]) {
      const d = info.name ? declaredShape(info) : undefined;
      if (d && info.name) valueInfo.set(info.name, d);
    }
  };
  collectValueInfo(graph);

  const irNodes: IrNode[] = [];
  const walkNode = async (node: onnx.INodeProto, index: number): Promise<void> => {
    const inputValues = (node.input ?? []).map((name) => (name ? values.get(name) : undefined));
    const ctx = new NodeContext(node, opset, inputValues, file, warnings, resolveTensor);
    const outputs = node.output ?? [];
    const setOutputs = (make: (slot: number) => Value) => outputs.forEach((name, slot) => name && values.set(name, make(slot)));
    const domain = node.domain ?? '';
    const handler = domain === '' || domain === 'ai.onnx' ? OPS[ctx.op] : CONTRIB_OPS[`${domain}:${ctx.op}`];
    // Values the node's subgraphs read from outside them are inputs too (If, Loop, Scan bodies).
    const implicit = outerReads(node).filter((name) => values.has(name));
    const implicitValues = implicit.map((name) => values.get(name));
    const unknowns = [...inputValues, ...implicitValues].filter((v): v is Extract<Value, { kind: 'unknown' }> => v?.kind === 'unknown');
    const unknownInput = unknowns.find((v) => v.data) ?? unknowns[0];
    const dataDependent = [...inputValues, ...implicitValues].some((v) => v?.kind === 'dynamic');
    const dynamicNames = () => [...ctx.dynamicIndices().map((i) => (node.input ?? [])[i]), ...implicit.filter((name) => values.get(name)?.kind === 'dynamic')];
    const opName = domain && domain !== 'ai.onnx' ? `${domain}:${ctx.op}` : ctx.op;

    const emit = (result: NodeResult) => {
      const dataInputs = result.dataInputs ?? ctx.dynamicIndices();
      const constant = (slot: number) => result.constOutputs?.[slot];
      // Their inputs are values nothing produces, so they never enter the network bound.
      for (const extra of result.extraRows ?? []) {
        irNodes.push({ name: extra.name, op: ctx.op, inputs: [`${extra.name}:input`], outputs: [`${extra.name}:output`], inputShapes: [extra.inputShape], outputShapes: [extra.outputShape], spec: extra.spec, weightShape: extra.weightShape, sourceIndex: index });
      }
      const outputShapes = outputs.flatMap((name, slot) => (name && !constant(slot) ? [result.outputShapes[slot] ?? result.outputShapes[0]] : []));
      irNodes.push({
        name: ctx.name,
        op: ctx.op,
        inputs: dataInputs.map((i) => (node.input ?? [])[i]),
        outputs: outputs.filter((o, slot) => o && !constant(slot)),
        inputShapes: dataInputs.map((i) => ctx.shape(i)),
        outputShapes,
        spec: result.spec,
        weightShape: result.weightShape ?? null,
        sourceIndex: index,
        ...(result.execution ? { execution: result.execution } : {}),
      });
      setOutputs((slot) => {
        const tensor = constant(slot);
        return tensor ? { kind: 'const', tensor } : { kind: 'dynamic', shape: result.outputShapes[slot] ?? result.outputShapes[0] };
      });
    };

    // An op the loader cannot follow: unsupported (never treated as 1). Its output shapes come from
    // the file's value_info, or from its input for known pointwise ops; else what follows is unknown.
    const unsupported = (detail: string) => {
      const declared = outputs.filter((o) => o).map((name) => valueInfo.get(name));
      const firstDynamic = ctx.dynamicIndices()[0];
      let outputShapes: number[][] | undefined;
      if (declared.length > 0 && declared.every((d) => d && d.every((x) => typeof x === 'number' && x > 0))) outputShapes = declared as number[][];
      else if (SHAPE_PRESERVING.has(ctx.op) && outputs.length === 1 && firstDynamic !== undefined) outputShapes = [ctx.shape(firstDynamic)];
      const inputs = dynamicNames();
      const inputShapes = inputs.map((name) => (values.get(name) as { shape: number[] }).shape);
      irNodes.push({ name: ctx.name, op: ctx.op, inputs, outputs: outputs.filter((o) => o), inputShapes, outputShapes: outputShapes ?? [], spec: { type: 'unsupported', detail }, weightShape: null, sourceIndex: index });
      if (outputShapes) {
        const shapes = outputShapes;
        let k = 0;
        setOutputs(() => ({ kind: 'dynamic', shape: shapes[k++] }));
      } else {
        warnings.push(`${opName} node "${ctx.name}" is not supported and its output shape is unknown: the layers after it cannot be analysed`);
        setOutputs(() => ({ kind: 'unknown', reason: `output of unsupported ${opName} "${ctx.name}"`, data: true }));
      }
    };

    if (unknownInput?.kind === 'unknown') {
      // Past an op whose output shape is unknown nothing can be inferred: report, never guess.
      const data = dataDependent || unknownInput.data === true;
      if (data) {
        irNodes.push({ name: ctx.name, op: ctx.op, inputs: [...(node.input ?? []).filter((n) => n && values.get(n)?.kind !== 'const'), ...implicit.filter((n) => values.get(n)?.kind !== 'const')], outputs: outputs.filter((o) => o), inputShapes: [], outputShapes: [], spec: { type: 'unsupported', detail: `input shape unknown (${unknownInput.reason})` }, weightShape: null, sourceIndex: index });
      }
      setOutputs(() => ({ kind: 'unknown', reason: unknownInput.reason, data }));
      return;
    }

    // If on a condition known before running (constants, or an input fixed with --input-value): the taken branch.
    if (ctx.op === 'If' && (domain === '' || domain === 'ai.onnx') && ctx.constant(0)) {
      await inlineBranch(node, ctx, ctx.constant(0) as ConstTensor, index);
      return;
    }

    if (!dataDependent) {
      let folded: ConstTensor[] | undefined;
      let failure = '';
      try {
        folded = foldBudget > 0 ? handler?.fold?.(ctx) : undefined;
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        failure = `: ${error.problem}`;
      }
      for (const t of folded ?? []) foldBudget -= t?.data.length ?? 0;
      if (folded) setOutputs((slot) => (folded[slot] ? { kind: 'const', tensor: folded[slot] } : { kind: 'unknown', reason: `${opName} "${ctx.name}" gave no output ${slot}` }));
      else {
        const why = failure || (foldBudget > 0 ? '' : ` (folding already built ${FOLD_ALLOWANCE + 4 * parameterCount - foldBudget} values, more than the model's size justifies)`);
        warnings.push(`${opName} node "${ctx.name}" computes a constant that was not folded${why}; what depends on it is unknown`);
        setOutputs(() => ({ kind: 'unknown', reason: `constant ${opName} "${ctx.name}" was not folded` }));
      }
      return;
    }

    if (ctx.op === 'If' && (domain === '' || domain === 'ai.onnx')) {
      await bothBranches(node, ctx, index);
      return;
    }
    if (CONTROL_FLOW.has(ctx.op) && (domain === '' || domain === 'ai.onnx')) {
      unsupported(`control flow ${ctx.op} that cannot be folded: a loop over a subgraph`);
      return;
    }

    try {
      if (handler?.infer) {
        const result = handler.infer(ctx);
        if (Array.isArray(result)) setOutputs((slot) => (result[slot] ? { kind: 'const', tensor: result[slot] } : { kind: 'unknown', reason: `${opName} "${ctx.name}" gave no output ${slot}` }));
        else emit(result);
        return;
      }
    } catch (error) {
      // An op the reader knows but cannot follow here (a shape it does not handle): reported on its row, never an abort.
      if (!(error instanceof ModelError)) throw error;
      unsupported(`${error.problem}${shapeHint}`);
      return;
    }
    unsupported(domain && domain !== 'ai.onnx' ? `op ${ctx.op} of domain ${domain} is not supported` : `op ${ctx.op} is not supported`);
  };

  const walkGraphNodes = async (g: onnx.IGraphProto): Promise<void> => {
    const nodes = g.node ?? [];
    const order = topologicalOrder(g, new Set(values.keys()), file);
    for (const index of order) await walkNode(nodes[index], g === graph ? index : -1);
  };

  /** Walks the branch an If with a constant condition takes; its outputs become the If's (a structural row where they carry the signal). */
  const inlineBranch = async (node: onnx.INodeProto, ctx: NodeContext, condition: ConstTensor, index: number): Promise<void> => {
    const taken = condition.data[0] ? 'then_branch' : 'else_branch';
    const branch = (node.attribute ?? []).find((a) => a.name === taken)?.g;
    if (!branch) ctx.fail(`has no ${taken}`);
    await readInitializers(branch.initializer ?? [], false);
    collectValueInfo(branch);
    const firstRow = irNodes.length;
    await walkGraphNodes(branch);
    // Rows of the branch point at the If in the file's listing.
    for (const row of irNodes.slice(firstRow)) row.sourceIndex = index >= 0 ? index : row.sourceIndex;
    const outputs = node.output ?? [];
    const branchOutputs = (branch.output ?? []).map((o) => o.name ?? '');
    if (branchOutputs.length < outputs.filter((o) => o).length) ctx.fail(`its ${taken} has ${branchOutputs.length} outputs for ${outputs.length}`);
    outputs.forEach((name, slot) => {
      if (!name) return;
      const value = values.get(branchOutputs[slot]) ?? { kind: 'unknown', reason: `${taken} of If "${ctx.name}" does not compute "${branchOutputs[slot]}"` };
      values.set(name, value);
      const row = { name: `${ctx.name}:${slot}`, op: 'If', inputs: [branchOutputs[slot]], outputs: [name], weightShape: null, ...(index >= 0 ? { sourceIndex: index } : {}) };
      if (value.kind === 'dynamic') irNodes.push({ ...row, inputShapes: [value.shape], outputShapes: [value.shape], spec: structural(`If with a constant condition: output ${slot} of the ${taken}, 1`, 1, IDENTITY_VALUES) });
      else if (value.kind === 'unknown') irNodes.push({ ...row, inputShapes: [], outputShapes: [], spec: { type: 'unsupported', detail: `input shape unknown (${value.reason})` } });
    });
    warnings.push(`If "${ctx.name}": the condition is fixed (${condition.data[0] ? 'true' : 'false'}), so only its ${taken} is analysed`);
  };

  /**
   * An If whose condition is not known: both branches are walked (their layers get rows and σ),
   * and the If is an unsupported row reading both branches' outputs. Where both branches give an
   * output the same shape (or the file declares it), what follows is analysed with that shape.
   */
  // What each value is computed from, for asking whether a value depends on the signal input.
  const producers = new Map<string, onnx.INodeProto>();
  for (const n of allNodes(graph)) for (const o of n.output ?? []) if (o) producers.set(o, n);
  const dependsOnSignal = (name: string | undefined): boolean => {
    const seen = new Set<string>();
    const stack = name ? [name] : [];
    while (stack.length > 0) {
      const v = stack.pop() as string;
      if (v === resolved.signal) return true;
      if (seen.has(v)) continue;
      seen.add(v);
      const p = producers.get(v);
      if (p) stack.push(...(p.input ?? []).filter((i) => i), ...outerReads(p));
    }
    return false;
  };

  const bothBranches = async (node: onnx.INodeProto, ctx: NodeContext, index: number): Promise<void> => {
    const branchOutputs: string[][] = [];
    for (const which of ['then_branch', 'else_branch']) {
      const branch = (node.attribute ?? []).find((a) => a.name === which)?.g;
      if (!branch) ctx.fail(`has no ${which}`);
      await readInitializers(branch.initializer ?? [], false);
      collectValueInfo(branch);
      const firstRow = irNodes.length;
      await walkGraphNodes(branch);
      for (const row of irNodes.slice(firstRow)) row.sourceIndex = index >= 0 ? index : row.sourceIndex;
      branchOutputs.push((branch.output ?? []).map((o) => o.name ?? ''));
    }
    const outputs = node.output ?? [];
    const shapeOf = (name: string | undefined) => {
      const v = name ? values.get(name) : undefined;
      return v?.kind === 'dynamic' ? v.shape : v?.kind === 'const' ? v.tensor.dims : undefined;
    };
    const outputShapes = outputs.map((name, slot) => {
      const [a, b] = branchOutputs.map((names) => shapeOf(names[slot]));
      if (a && b && a.length === b.length && a.every((d, i) => d === b[i])) return a;
      const declared = valueInfo.get(name);
      return declared?.every((d) => typeof d === 'number' && d > 0) ? (declared as number[]) : undefined;
    });
    const inputs = [...new Set([...(ctx.isDynamic(0) ? [(node.input ?? [])[0]] : []), ...branchOutputs.flat().filter((n) => values.get(n)?.kind === 'dynamic' || (values.get(n)?.kind === 'unknown' && (values.get(n) as { data?: boolean }).data))])];
    const known = outputs.filter((o) => o).every((_, slot) => outputShapes[slot]);
    // A condition that does not depend on the signal picks one branch for every signal: the If's
    // constant is at most the larger branch's, and the composition over both inputs, √(L₁² + L₂²),
    // is above that. A condition computed from the signal switches between branches: not bounded here.
    const condition = (node.input ?? [])[0];
    const fromSignal = dependsOnSignal(condition);
    const held = known && !fromSignal;
    // A condition computed from the signal (a detector running its second stage when its score passes
    // a threshold) switches maps where the signal crosses the threshold: no flag fixes it, --output can
    // bound the part before it.
    const spec: OpSpec = held
      ? structural('If on a condition that does not depend on the signal: one of its two branches (both listed before it), 1')
      : fromSignal
        ? { type: 'unsupported', detail: `control flow If whose condition "${condition}" is computed from the signal: its output jumps between the two branches (both listed before it) where the signal crosses the condition, so no bound goes through it (bound a value before it with --output NAME)` }
        : { type: 'unsupported', detail: 'control flow If that cannot be folded: its condition depends on an input not fixed (fix a control input with --input-value NAME=VALUE); both branches are listed before it' };
    const rowInputs = held ? inputs.filter((n) => n !== (node.input ?? [])[0]) : inputs;
    irNodes.push({ name: ctx.name, op: ctx.op, inputs: rowInputs, outputs: outputs.filter((o) => o), inputShapes: rowInputs.map((n) => shapeOf(n) ?? []), outputShapes: known ? (outputShapes.filter((_, slot) => outputs[slot]) as number[][]) : [], spec, weightShape: null, ...(index >= 0 ? { sourceIndex: index } : {}) });
    if (held) warnings.push(`If "${ctx.name}": the condition is not known but does not depend on the signal input; both branches are analysed and the bound covers either (fix it with --input-value to analyse one)`);
    outputs.forEach((name, slot) => {
      if (!name) return;
      const shape = outputShapes[slot];
      values.set(name, known && shape ? { kind: 'dynamic', shape } : { kind: 'unknown', reason: `output of If "${ctx.name}", whose condition is not known`, data: true });
    });
    if (!known) warnings.push(`If node "${ctx.name}": the condition is not known and its branches' outputs differ in shape: the layers after it cannot be analysed`);
  };

  await walkGraphNodes(graph);
  for (const row of irNodes) if (row.sourceIndex === -1) delete row.sourceIndex;

  return { inputs: resolved.infos, signal: resolved.signal, nodes: irNodes, parameterCount, warnings };
}
