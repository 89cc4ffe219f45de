// TF.js graph-model (tfjs-converter output: a GraphDef as JSON) → IR. Const nodes take their values
// from the weights manifest (or an inline tensor); attributes are TF AttrValue JSON
// (`{"list": {"i": ["1","2","2","1"]}}`, `{"s": base64}`, `{"f": 0.2}`, `{"type": "DT_FLOAT"}`).

import type { ConvSpec, IrModel, IrValueInfo, OpSpec } from '../../model/ir';
import type { OpenOptions } from '../../model/files';
import { ModelError } from '../../model/errors';
import { activationSpec, SELECTS, shiftValues, structural } from '../../analysis/constants';
import { ROUNDING, TRANSFORMS, resizeNorm, type AxisResize, type CoordinateTransform } from '../../analysis/resize';
import { product, resolvePads, slidingOutputSize } from '../../analysis/shapes';
import { graphActivation } from './activations';
import { GraphBuilder, activationOrUnsupported, broadcastShapes, fmt, normalizeAxis, sameShape, tfConvKernelToCanonical, tfDepthwiseKernelToCanonical } from './common';
import type { WeightStore } from './weights';

type Json = Record<string, unknown>;

interface GraphNodeDef {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, Json>;
  index: number;
}

interface ConstValue {
  shape: number[];
  dtype: string;
  values: Float32Array | Int32Array | Uint8Array;
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
  if (functions > 0) reader.graph.warnings.push(`the graph has ${functions} library function(s) (control flow); ops that call them are unsupported`);
  const g = reader.graph;
  return {
    format: 'tfjs-graph',
    path: file,
    inputs: reader.inputs,
    outputs,
    nodes: g.nodes,
    metadata: {
      producer: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
      producerVersion: typeof json.convertedBy === 'string' ? json.convertedBy : undefined,
      nodeCount: rawNodes.length,
      parameterCount: weights.parameterCount,
      outputShapes: outputs.map((name) => ({ name, shape: [...g.shape(name)] })),
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
      const dynamic = this.dataInputs(def).filter((v) => !this.constantValues.has(v));
      if (dynamic.length === 0) {
        // A computation on constants only: it carries no signal.
        this.constantValues.add(def.name);
        continue;
      }
      try {
        this.node(def, dynamic);
      } catch (error) {
        if (!(error instanceof ModelError) || !this.graph.isUncertain(dynamic)) throw error;
        this.unsupported(def, dynamic, `input shape unknown: ${error.problem}`);
      }
    }
  }

  /** Graph outputs: the signature's, else the values no node consumes. */
  outputs(json: Json): string[] {
    const signature = (json.signature ?? (json.userDefinedMetadata as Json | undefined)?.signature) as Json | undefined;
    const declared = signature && typeof signature.outputs === 'object' && signature.outputs !== null ? Object.entries(signature.outputs as Record<string, Json>) : [];
    const names = declared
      .map(([key, v]) => valueName(typeof v.name === 'string' ? v.name : key))
      .filter((name) => this.graph.shapes.has(name));
    if (names.length > 0) return names;
    const consumed = new Set<string>();
    for (const def of this.defs) for (const i of def.input) consumed.add(valueName(i.replace(/^\^/, '')));
    for (const node of this.graph.nodes) for (const i of node.inputs) consumed.add(i);
    const outs: string[] = [];
    for (const node of this.graph.nodes) for (const v of node.outputs) if (!consumed.has(v) && !outs.includes(v)) outs.push(v);
    return outs;
  }

  /** Nodes in dependency order (Kahn's algorithm; the file's order breaks ties). */
  private order(): GraphNodeDef[] {
    const indegree = new Map<string, number>();
    const users = new Map<string, GraphNodeDef[]>();
    for (const def of this.defs) {
      const deps = new Set(def.input.map((i) => producer(i)).filter((p) => this.byName.has(p)));
      indegree.set(def.name, deps.size);
      for (const d of deps) users.set(d, [...(users.get(d) ?? []), def]);
      for (const i of def.input) {
        if (!this.byName.has(producer(i))) this.fail(`node "${def.name}" takes "${i}", which no node produces`);
      }
    }
    const ready = this.defs.filter((d) => indegree.get(d.name) === 0);
    const out: GraphNodeDef[] = [];
    while (ready.length > 0) {
      const def = ready.shift() as GraphNodeDef;
      out.push(def);
      for (const user of users.get(def.name) ?? []) {
        const left = (indegree.get(user.name) ?? 0) - 1;
        indegree.set(user.name, left);
        if (left === 0) ready.push(user);
      }
    }
    if (out.length !== this.defs.length) this.fail('the graph has a cycle (control flow loops are not supported)');
    return out;
  }

  private dataInputs(def: GraphNodeDef): string[] {
    return def.input.filter((i) => !i.startsWith('^')).map(valueName);
  }

  private placeholder(def: GraphNodeDef): void {
    const shapeAttr = def.attr.shape?.shape as Json | undefined;
    const dims = Array.isArray(shapeAttr?.dim) ? (shapeAttr.dim as Json[]).map((d) => Number(d.size ?? -1)) : undefined;
    const override = this.inputs.length === 0 ? this.options.inputShape : undefined;
    let shape: number[];
    if (override) {
      if (dims && dims.length !== override.length) this.fail(`the input shape ${fmt(override)} has ${override.length} dimensions but input "${def.name}" has ${dims.length}: ${fmt(dims.map((d) => (d < 0 ? null : d)))}`);
      shape = [...override];
    } else {
      if (!dims || shapeAttr?.unknownRank === true) this.fail(`input "${def.name}" has an unknown rank; give an input shape`);
      const unknown = dims.map((d, i) => (i > 0 && d < 0 ? i : -1)).filter((i) => i >= 0);
      if (unknown.length > 0) {
        this.fail(`input "${def.name}" has unknown dimension${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${fmt(dims.map((d) => (d < 0 ? null : d)))}; give an input shape (batch included)`);
      }
      shape = dims.map((d) => (d < 0 ? 1 : d));
    }
    if (shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) this.fail(`input "${def.name}" has an invalid shape ${fmt(shape)}`);
    this.inputs.push({ name: def.name, shape, declaredShape: dims ? dims.map((d) => (d < 0 ? '?' : d)) : shape });
    this.graph.shapes.set(def.name, shape);
  }

  /** The value of a constant input, or undefined when it is computed (not a Const node). */
  private constant(value: string): ConstValue | undefined {
    if (this.constCache.has(value)) return this.constCache.get(value) ?? undefined;
    const def = this.byName.get(producer(value));
    let result: ConstValue | undefined;
    if (def?.op === 'Const') result = this.readConst(def);
    else if (def && (def.op === 'Identity' || def.op === 'StopGradient') && def.input[0]) result = this.constant(valueName(def.input[0]));
    this.constCache.set(value, result ?? null);
    return result;
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

  private row(def: GraphNodeDef, inputs: string[], spec: OpSpec, outputShape: number[], weightShape: number[] | null = null, output = def.name, name = def.name, op = def.op, uncertain = false): void {
    this.graph.add({ name: this.graph.rowName(name), op, inputs, outputs: [output], outputShapes: [outputShape], spec, weightShape, sourceIndex: def.index }, { uncertainOutput: uncertain });
  }

  private unsupported(def: GraphNodeDef, dynamic: string[], detail?: string): void {
    const declared = outputShapesAttr(def);
    const shape = declared?.[0]?.every((d) => d >= 0) ? declared[0] : this.shapeOf(dynamic[0]);
    if (!declared) this.graph.warnings.push(`node "${def.name}" (${def.op}) is not supported; its output shape is assumed equal to its input's`);
    this.row(def, dynamic, { type: 'unsupported', detail }, shape, null, def.name, def.name, def.op, !declared);
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
      case 'BiasAdd':
        return this.row(def, [x], structural('bias add: a shift, 1'), this.shapeOf(x));
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'AddN':
        return this.addLike(def, dynamic);
      case 'Mul':
      case 'RealDiv':
      case 'Div':
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
        return this.row(def, [x], structural('expand dims: 1'), shape);
      }
      case 'Transpose': {
        const shape = this.shapeOf(x);
        const perm = Array.from(this.constOrFail(def, this.dataInputs(def)[1], 'permutation').values);
        return this.row(def, [x], structural('transpose: 1'), perm.map((p) => shape[p]));
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
        return this.row(def, [x], structural('identity: 1'), this.shapeOf(x));
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3':
        return this.batchNorm(def);
      case 'Prelu': {
        const alpha = this.constOrFail(def, this.dataInputs(def)[1], 'alpha');
        let largest = 0;
        for (const v of alpha.values) largest = Math.max(largest, Math.abs(v));
        return this.row(def, [x], activationSpec('prelu', { alpha: largest }) as OpSpec, this.shapeOf(x), alpha.shape);
      }
      default: {
        const act = graphActivation(op, attrF(def, 'alpha'));
        if (act) {
          const shape = this.shapeOf(x);
          return this.row(def, [x], activationOrUnsupported(act.name, { alpha: act.alpha, axisLength: shape[shape.length - 1] }, op), shape);
        }
        return this.unsupported(def, dynamic, `TF op ${op}`);
      }
    }
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
    if (this.constantValues.has(x) || shape.length !== 4) this.fail(`node "${def.name}" (${def.op}) expects a rank-4 signal input, gets ${fmt(shape)}`);
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
      activations = fusedOps.slice(1);
    } else if (fusedOps[0] === 'BiasAdd') {
      activations = fusedOps.slice(1);
    }
    const spec: ConvSpec = { type: 'conv', channelsLast, weight, strides, dilations, padsBegin, padsEnd, group };
    this.linearWithActivations(def, [x], spec, outShape, filter.shape, activations, inputs);
  }

  /** The linear row, then one row per fused activation (`<node>/<Activation>`). */
  private linearWithActivations(def: GraphNodeDef, inputs: string[], spec: OpSpec, outShape: number[], weightShape: number[], activations: string[], allInputs: string[]): void {
    if (activations.length === 0) return this.row(def, inputs, spec, outShape, weightShape);
    let value = this.graph.freshValue(`${def.name}/linear`);
    this.row(def, inputs, spec, outShape, weightShape, value);
    activations.forEach((act, i) => {
      const out = i === activations.length - 1 ? def.name : this.graph.freshValue(`${def.name}/${act}`);
      let actSpec: OpSpec;
      if (act === 'Prelu') {
        // _Fused ops with Prelu take [bias, alpha] as their arguments.
        const alpha = this.constant(allInputs[allInputs.length - 1]);
        let largest = 0;
        for (const v of alpha?.values ?? []) largest = Math.max(largest, Math.abs(v));
        actSpec = alpha ? (activationSpec('prelu', { alpha: largest }) as OpSpec) : { type: 'unsupported', detail: 'Prelu without constant slopes' };
      } else {
        const ref = graphActivation(act, attrF(def, 'leakyrelu_alpha'));
        actSpec = ref ? activationOrUnsupported(ref.name, { alpha: ref.alpha, axisLength: outShape[outShape.length - 1] }, act) : { type: 'unsupported', detail: `fused op ${act}` };
      }
      this.row(def, [value], actSpec, outShape, null, out, `${def.name}/${act}`, act);
      value = out;
    });
  }

  private matMul(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const [a, b] = inputs;
    const batch = def.op.startsWith('BatchMatMul');
    const transposeA = batch ? attrB(def, 'adj_x') : attrB(def, 'transpose_a');
    const transposeB = batch ? attrB(def, 'adj_y') : attrB(def, 'transpose_b');
    if (dynamic.includes(a) && dynamic.includes(b)) {
      const sa = this.shapeOf(a);
      const sb = this.shapeOf(b);
      const out = [...sa.slice(0, -2), transposeA ? sa[sa.length - 1] : sa[sa.length - 2], transposeB ? sb[sb.length - 2] : sb[sb.length - 1]];
      return this.row(def, dynamic, { type: 'unbounded', reason: 'a product of two signals (x·y) is not globally Lipschitz' }, out);
    }
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
    const fusedOps = attrListS(def, 'fused_ops') ?? [];
    const activations = fusedOps[0] === 'BiasAdd' ? fusedOps.slice(1) : fusedOps;
    this.linearWithActivations(def, [a], { type: 'dense', weight }, [...shape.slice(0, -1), outDim], weightConst.shape, activations, inputs);
  }

  private broadcastAll(def: GraphNodeDef, values: string[]): number[] {
    let shape: number[] | undefined;
    for (const v of values) {
      const s = this.constantValues.has(v) ? this.constant(v)?.shape : this.shapeOf(v);
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
      if (copies.every((c) => c === 1)) return this.row(def, dynamic, { type: 'add', ...(signs ? { signs } : {}) }, out);
      // A signal broadcast to the output copies each entry c times: its bound counts √c times.
      const weights = copies.map(Math.sqrt);
      return this.row(def, dynamic, { type: 'add', weights, detail: `${def.op} of signals that broadcast: each bound times √(copies) = ${weights.map((w) => w.toPrecision(4)).join(', ')}`, ...(signs ? { signs } : {}) }, out);
    }
    const inSize = product(this.shapeOf(dynamic[0]));
    const copies = product(out) / inSize;
    const shift = inputs.length === 2 ? this.constant(inputs.find((v) => v !== dynamic[0]) ?? '') : undefined;
    const values = shift ? shiftValues(shift.values, subtract && inputs[0] === dynamic[0], subtract && inputs[1] === dynamic[0]) : undefined;
    const spec = copies === 1 ? structural(`${def.op} of a constant: a shift, 1`, 1, values) : structural(`${def.op} broadcasting the signal ${copies} times: √${copies}`, Math.sqrt(copies), values);
    this.row(def, dynamic, spec, out);
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
    if (!sameShape(out, inShape)) return this.unsupported(def, dynamic, `${def.op} by a constant that broadcasts the signal`);
    const values = Float32Array.from(c.values, (v) => (divide ? 1 / Number(v) : Number(v)));
    // Which axes of the input the constant varies along (aligned from the right).
    const offset = inShape.length - c.shape.length;
    const varying = c.shape.map((d, i) => (d !== 1 ? i + offset : -1)).filter((a) => a >= 0);
    let spec: OpSpec;
    if (values.length === 1 || varying.length === 0) {
      spec = { type: 'diagonal', scale: Float32Array.of(values[0]), axis: -1 };
    } else if (varying.length === 1) {
      spec = { type: 'diagonal', scale: values, axis: varying[0] };
    } else {
      // Multipliers varying along several axes: the map is still diagonal, its norm max |c|.
      let largest = 0;
      for (const v of values) largest = Math.max(largest, Math.abs(v));
      spec = { type: 'diagonal', scale: Float32Array.of(largest), axis: -1 };
    }
    this.row(def, [x], spec, out, c.shape);
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
    this.row(def, [dy], spec, out, filter.shape);
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
    this.row(def, [x], structural(detail, sigma, SELECTS), out);
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
    this.row(def, [x], spec, shape);
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
    this.row(def, [x], structural(`${def.op}: a permutation of the entries, 1`, 1, SELECTS), out);
  }

  private concat(def: GraphNodeDef, dynamic: string[]): void {
    const inputs = this.dataInputs(def);
    const axisValue = def.op === 'ConcatV2' ? inputs[inputs.length - 1] : inputs[0];
    const values = def.op === 'ConcatV2' ? inputs.slice(0, -1) : inputs.slice(1);
    const axisConst = this.constOrFail(def, axisValue, 'axis');
    const shapes = values.map((v) => (this.constantValues.has(v) ? this.constant(v)?.shape : this.shapeOf(v)) ?? this.fail(`node "${def.name}": input "${v}" has an unknown shape`));
    const rank = shapes[0].length;
    const axis = normalizeAxis(Number(axisConst.values[0]), rank);
    const out = [...shapes[0]];
    for (const s of shapes.slice(1)) {
      if (s.length !== rank || s.some((d, i) => i !== axis && d !== out[i])) this.fail(`node "${def.name}" (${def.op}): cannot concatenate ${shapes.map((x) => fmt(x)).join(' and ')} on axis ${axis}`);
      out[axis] += s[axis];
    }
    this.row(def, dynamic, { type: 'concat', axis }, out);
  }

  private pad(def: GraphNodeDef): void {
    const [x, paddingsValue] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const paddings = this.constOrFail(def, paddingsValue, 'paddings');
    if (paddings.values.length !== 2 * shape.length) this.fail(`node "${def.name}" (${def.op}): paddings ${fmt(paddings.shape)} do not fit input ${fmt(shape)}`);
    const pairs = shape.map((_, i) => [Number(paddings.values[2 * i]), Number(paddings.values[2 * i + 1])]);
    const out = shape.map((d, i) => d + pairs[i][0] + pairs[i][1]);
    if (def.op !== 'MirrorPad') return this.row(def, [x], structural('zero/constant padding: 1'), out);
    const mode = attrS(def, 'mode') ?? 'REFLECT';
    let copies = 1;
    shape.forEach((size, i) => {
      copies *= mirrorMultiplicity(size, pairs[i][0], pairs[i][1], mode === 'SYMMETRIC');
    });
    this.row(def, [x], structural(`mirror padding (${mode}): √(${copies} copies of one input)`, Math.sqrt(copies)), out);
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
    this.row(def, [x], spec, out);
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
    else spec = structural(`${def.op.toLowerCase()} over entries: 1`);
    this.row(def, [x], spec, out);
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
    this.row(def, [x], structural('reshape: 1'), resolved);
  }

  private squeeze(def: GraphNodeDef): void {
    const [x] = this.dataInputs(def);
    const shape = this.shapeOf(x);
    const listed = (attrListI(def, 'squeeze_dims') ?? attrListI(def, 'axis') ?? []).map((a) => normalizeAxis(a, shape.length));
    const drop = listed.length > 0 ? listed : shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    if (drop.some((a) => shape[a] !== 1)) this.fail(`node "${def.name}" (Squeeze): cannot squeeze axes ${fmt(drop)} of ${fmt(shape)}`);
    this.row(def, [x], structural('squeeze: 1'), shape.filter((_, i) => !drop.includes(i)));
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
    this.row(def, [x], { type: 'diagonal', scale, axis }, shape, scaleV.shape);
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

/** Largest number of output positions a mirror pad copies one input position to, along one axis. */
function mirrorMultiplicity(size: number, before: number, after: number, symmetric: boolean): number {
  const counts = new Array<number>(size).fill(1);
  const source = (p: number): number => {
    // Position p in [-before, size + after) of the padded axis → input index.
    if (p < 0) return symmetric ? -p - 1 : -p;
    if (p >= size) return symmetric ? 2 * size - p - 1 : 2 * size - p - 2;
    return p;
  };
  const bump = (p: number): void => {
    const i = source(p);
    if (i >= 0 && i < size) counts[i]++;
  };
  for (let p = -before; p < 0; p++) bump(p);
  for (let p = size; p < size + after; p++) bump(p);
  return Math.max(...counts);
}
