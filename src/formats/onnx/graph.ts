// Walks an ONNX graph in topological order, propagating concrete shapes and folding constants, and
// emits one IR node per op that touches data derived from the network input.

import type { IrNode, IrValueInfo } from '../../model/ir';
import type { FileAccess, OpenOptions } from '../../model/files';
import { ModelError } from '../../model/errors';
import { NodeContext, formatShape, type NodeResult, type Value } from './context';
import { CONTRIB_OPS, OPS, SHAPE_PRESERVING } from './ops';
import { DataType, onnx, toNumber } from './proto';
import { checkTensor, elementCount, readTensor, readTensorSync, type ConstTensor } from './tensor';

/** Values constant folding may build beyond four times the model's parameters. */
const FOLD_ALLOWANCE = 1 << 25;

export interface WalkResult {
  inputs: IrValueInfo[];
  nodes: IrNode[];
  parameterCount: number;
  warnings: string[];
}

/** Topological order of the nodes; a cycle or a dangling input is a ModelError. */
export function topologicalOrder(graph: onnx.IGraphProto, known: Set<string>, file: string): number[] {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => {
    for (const output of node.output ?? []) {
      if (!output) continue;
      if (producer.has(output) || known.has(output)) throw new ModelError(file, `value "${output}" is produced twice`);
      producer.set(output, i);
    }
  });
  const pending = new Array<number>(nodes.length).fill(0);
  const consumers: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    for (const input of new Set(node.input ?? [])) {
      if (!input) continue;
      const p = producer.get(input);
      if (p === undefined) {
        if (!known.has(input)) throw new ModelError(file, `node "${node.name || node.output?.[0] || node.opType}" reads "${input}", which is neither a graph input, an initializer nor produced by a node`);
        continue;
      }
      pending[i]++;
      consumers[p].push(i);
    }
  });
  // Kahn's algorithm, keeping the file's order among ready nodes.
  const order: number[] = [];
  const ready = nodes.map((_, i) => i).filter((i) => pending[i] === 0);
  const queue = [...ready].reverse();
  while (queue.length > 0) {
    const i = queue.pop() as number;
    order.push(i);
    const released: number[] = [];
    for (const c of consumers[i]) if (--pending[c] === 0) released.push(c);
    queue.push(...released.sort((a, b) => b - a));
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.findIndex((_, i) => pending[i] > 0);
    const node = nodes[stuck];
    throw new ModelError(file, `the graph has a cycle through node "${node.name || node.output?.[0] || node.opType}"`);
  }
  return order;
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

/** Concrete shapes of the graph inputs: the override, fixed dims, a dynamic batch as 1; anything else is an error. */
function resolveInputs(graph: onnx.IGraphProto, initializers: Set<string>, options: OpenOptions, file: string, warnings: string[]): IrValueInfo[] {
  const inputs = (graph.input ?? []).filter((i) => i.name && !initializers.has(i.name));
  if (inputs.length === 0) throw new ModelError(file, 'the graph has no inputs besides its initializers');
  return inputs.map((info, index) => {
    const name = info.name as string;
    const declared = declaredShape(info);
    if (index === 0 && options.inputShape) {
      const shape = options.inputShape;
      if (shape.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new ModelError(file, `input shape ${formatShape(shape)} must hold positive integers`);
      if (declared && declared.length !== shape.length) {
        throw new ModelError(file, `input "${name}" has rank ${declared.length} ([${declared.join(', ')}]) but the input shape given is ${formatShape(shape)}`);
      }
      const conflicts = (declared ?? []).some((d, i) => typeof d === 'number' && d > 0 && d !== shape[i]);
      if (conflicts) warnings.push(`input "${name}" is declared [${(declared ?? []).join(', ')}]; using the given shape ${formatShape(shape)}`);
      return { name, shape: [...shape], declaredShape: declared ?? shape };
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
      const how = index === 0 ? `pass a shape with --input-shape ${example}` : 'only the first input takes an --input-shape; export the model with fixed sizes for the others';
      throw new ModelError(file, `input "${name}" has dynamic dims [${declared.join(', ')}]: dimension ${which} cannot be guessed; ${how}`);
    }
    if (dynamic.includes(0)) warnings.push(`input "${name}" has a dynamic batch dimension (${declared[0]}); using 1`);
    return { name, shape, declaredShape: declared };
  });
}

/** Parameters are the numeric constants that are not shape vectors or masks (int64 and bool in ONNX). */
function isParameter(dataType: number | null | undefined): boolean {
  return dataType !== DataType.INT64 && dataType !== DataType.BOOL && dataType !== DataType.STRING;
}

export async function walkGraph(model: onnx.IModelProto, files: FileAccess, options: OpenOptions, opset: number): Promise<WalkResult> {
  const file = files.mainPath;
  const graph = model.graph as onnx.IGraphProto;
  const warnings: string[] = [];
  const source = { file, files };

  // Initializers: every declared size checked against the bytes present before anything is read.
  const initializerProtos = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) {
    if (!t.name) throw new ModelError(file, 'an initializer has no name');
    initializerProtos.set(t.name, t);
  }
  const values = new Map<string, Value>();
  let parameterCount = 0;
  const nodes = graph.node ?? [];
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  for (const [name, t] of initializerProtos) {
    if (t.dataType === DataType.STRING || t.dataType === DataType.UNDEFINED) {
      values.set(name, { kind: 'unknown', reason: `initializer "${name}" is not numeric` });
      continue;
    }
    const describe = `initializer "${name}"`;
    const { dims } = await checkTensor(t, describe, source);
    if (isParameter(t.dataType)) parameterCount += elementCount(dims);
    // Only initializers a node reads are decoded (external data is read lazily, on demand).
    if (used.has(name)) values.set(name, { kind: 'const', tensor: await readTensor(t, describe, source) });
  }

  const inputs = resolveInputs(graph, new Set(initializerProtos.keys()), options, file, warnings);
  for (const input of inputs) values.set(input.name, { kind: 'dynamic', shape: input.shape });

  const order = topologicalOrder(graph, new Set(values.keys()), file);

  // Tensor attributes (Constant values) may keep their bytes externally: read them now.
  const attributeTensors = new Map<onnx.ITensorProto, ConstTensor>();
  for (const node of nodes) {
    for (const a of node.attribute ?? []) {
      if (a.t && a.t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
        attributeTensors.set(a.t, await readTensor(a.t, `${node.opType} "${node.name || node.output?.[0]}" attribute ${a.name}`, source));
      }
    }
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
  const resolveTensor = (t: onnx.ITensorProto, describe: string) => attributeTensors.get(t) ?? readTensorSync(t, describe, file);
  // Folding builds constants from a few bytes (ConstantOfShape, Tile, Expand): in all it may make a
  // fixed allowance plus a few times the model's own parameters, no more.
  let foldBudget = FOLD_ALLOWANCE + 4 * parameterCount;

  const valueInfo = new Map<string, (number | string)[]>();
  for (const info of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const d = info.name ? declaredShape(info) : undefined;
    if (d && info.name) valueInfo.set(info.name, d);
  }

  const irNodes: IrNode[] = [];
  for (const index of order) {
    const node = nodes[index];
    const inputValues = (node.input ?? []).map((name) => (name ? values.get(name) : undefined));
    const ctx = new NodeContext(node, opset, inputValues, file, warnings, resolveTensor);
    const outputs = node.output ?? [];
    const setOutputs = (make: (slot: number) => Value) => outputs.forEach((name, slot) => name && values.set(name, make(slot)));
    const domain = node.domain ?? '';
    const handler = domain === '' || domain === 'ai.onnx' ? OPS[ctx.op] : CONTRIB_OPS[`${domain}:${ctx.op}`];
    const unknownInput = inputValues.find((v) => v?.kind === 'unknown');
    const dataDependent = inputValues.some((v) => v?.kind === 'dynamic');

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
      });
      setOutputs((slot) => {
        const tensor = constant(slot);
        return tensor ? { kind: 'const', tensor } : { kind: 'dynamic', shape: result.outputShapes[slot] ?? result.outputShapes[0] };
      });
    };
    const opName = domain && domain !== 'ai.onnx' ? `${domain}:${ctx.op}` : ctx.op;

    if (unknownInput?.kind === 'unknown') {
      // Past an op whose output shape is unknown nothing can be inferred: report, never guess.
      if (dataDependent || inputValues.every((v) => v?.kind !== 'const')) {
        irNodes.push({ name: ctx.name, op: ctx.op, inputs: (node.input ?? []).filter((n) => n), outputs: outputs.filter((o) => o), inputShapes: [], outputShapes: [], spec: { type: 'unsupported', detail: `input shape unknown (${unknownInput.reason})` }, weightShape: null, sourceIndex: index });
      }
      setOutputs(() => ({ kind: 'unknown', reason: unknownInput.reason }));
      continue;
    }

    if (!dataDependent) {
      const folded = foldBudget > 0 ? handler?.fold?.(ctx) : undefined;
      for (const t of folded ?? []) foldBudget -= t?.data.length ?? 0;
      if (folded) setOutputs((slot) => (folded[slot] ? { kind: 'const', tensor: folded[slot] } : { kind: 'unknown', reason: `${opName} "${ctx.name}" gave no output ${slot}` }));
      else {
        const why = foldBudget > 0 ? '' : ` (folding already built ${FOLD_ALLOWANCE + 4 * parameterCount - foldBudget} values, more than the model's size justifies)`;
        warnings.push(`${opName} node "${ctx.name}" computes a constant that was not folded${why}; what depends on it is unknown`);
        setOutputs(() => ({ kind: 'unknown', reason: `constant ${opName} "${ctx.name}" was not folded` }));
      }
      continue;
    }

    if (handler?.infer) {
      const result = handler.infer(ctx);
      if (Array.isArray(result)) setOutputs((slot) => (result[slot] ? { kind: 'const', tensor: result[slot] } : { kind: 'unknown', reason: `${opName} "${ctx.name}" gave no output ${slot}` }));
      else emit(result);
      continue;
    }

    // An op this loader does not know: unsupported (never treated as 1). Its output shape comes from
    // the file's value_info, or from its input for known pointwise ops; else what follows is unknown.
    const detail = domain && domain !== 'ai.onnx' ? `op ${ctx.op} of domain ${domain} is not supported` : `op ${ctx.op} is not supported`;
    const declared = outputs.map((name) => valueInfo.get(name));
    const firstDynamic = ctx.dynamicIndices()[0];
    let outputShapes: number[][] | undefined;
    if (declared.every((d) => d && d.every((x) => typeof x === 'number' && x > 0))) outputShapes = declared as number[][];
    else if (SHAPE_PRESERVING.has(ctx.op) && outputs.length === 1) outputShapes = [ctx.shape(firstDynamic)];
    if (outputShapes) emit({ spec: { type: 'unsupported', detail }, outputShapes });
    else {
      warnings.push(`${opName} node "${ctx.name}" is not supported and its output shape is unknown: the layers after it cannot be analysed`);
      irNodes.push({ name: ctx.name, op: ctx.op, inputs: ctx.dynamicIndices().map((i) => (node.input ?? [])[i]), outputs: outputs.filter((o) => o), inputShapes: ctx.dynamicIndices().map((i) => ctx.shape(i)), outputShapes: [], spec: { type: 'unsupported', detail }, weightShape: null, sourceIndex: index });
      setOutputs(() => ({ kind: 'unknown', reason: `output of unsupported ${opName} "${ctx.name}"` }));
    }
  }

  return { inputs, nodes: irNodes, parameterCount, warnings };
}
