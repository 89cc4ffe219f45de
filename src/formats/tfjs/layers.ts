// TF.js layers-model (Keras topology) → IR. Pure JSON reading of `modelTopology` (Sequential,
// functional, the older `model_config` wrapper and list forms, nested models inlined), weights
// from the manifest by name, shapes inferred layer by layer in the file's own layout.

import type { ConvSpec, IrModel, IrValueInfo, NodeExecution, OpSpec, WeightTensor } from '../../model/ir';
import type { OpenOptions } from '../../model/files';
import { ModelError } from '../../model/errors';
import { activationSpec, SELECTS, structural } from '../../analysis/constants';
import { TRANSFORMS, resizeNorm, type CoordinateTransform } from '../../analysis/resize';
import { gruGains, lstmGains, matrixNorm, nonnegativeNorm, rnnGains } from '../../analysis/recurrent';
import { formatEpsilon, layerNormBound } from '../../analysis/layer-norm';
import { product, resolvePads, slidingOutputSize } from '../../analysis/shapes';
import { describeDeclaration, parseCustomLayer, resolveNumber, type NumberSource } from '../../protocol/custom-layers';
import { kerasActivation, kerasActivationIdentifier } from './activations';
import {
  GraphBuilder,
  activationOrUnsupported,
  broadcastShapes,
  fmt,
  normalizeAxis,
  tfConvKernelToCanonical,
  tfDepthwiseKernelToCanonical,
  tfTransposeKernelToCanonical,
} from './common';
import type { WeightStore } from './weights';

type Json = Record<string, unknown>;

interface LayerEntry {
  className: string;
  name: string;
  config: Json;
  /** Calls of the layer: each a list of inbound tensor references. */
  calls: TensorRef[][];
  /** Index in the top-level layer listing. */
  sourceIndex: number;
}

interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** Layers that are the identity at inference. */
const INFERENCE_NO_OPS = new Set([
  'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout',
  'AlphaDropout', 'ActivityRegularization',
]);

export async function readLayersModel(json: Json, weights: WeightStore, options: OpenOptions, file: string): Promise<IrModel> {
  const topology = json.modelTopology as Json;
  const modelConfig = (isObject(topology.model_config) ? topology.model_config : topology) as Json;
  const className = str(modelConfig.class_name) ?? 'Sequential';
  if (!MODEL_CLASSES.has(className)) throw new ModelError(file, `modelTopology is a "${className}", not a Sequential or functional model`);
  const reader = new LayersReader(file, weights, options);
  const top = reader.readModel(className, modelConfig.config, '', undefined, undefined);
  const g = reader.graph;
  const outputShapes = top.outputs.map((name) => ({ name, shape: (g.shapes.has(name) ? [...g.shape(name)] : ['?']) as (number | string)[] }));
  return {
    format: 'tfjs-layers',
    path: file,
    inputs: reader.inputs,
    outputs: top.outputs,
    nodes: g.nodes,
    metadata: {
      producer: str(json.generatedBy) ?? (str(topology.keras_version) ? `Keras ${str(topology.keras_version)}` : undefined),
      producerVersion: str(json.convertedBy) ?? str(topology.keras_version),
      nodeCount: top.layerCount,
      parameterCount: weights.parameterCount,
      outputShapes,
    },
    warnings: [...weights.warnings, ...g.warnings],
  };
}

class LayersReader {
  readonly graph: GraphBuilder;
  readonly inputs: IrValueInfo[] = [];

  constructor(
    readonly file: string,
    readonly weights: WeightStore,
    readonly options: OpenOptions,
  ) {
    this.graph = new GraphBuilder(file);
  }

  fail(problem: string): never {
    throw new ModelError(this.file, problem);
  }

  /**
   * Reads a (possibly nested) model. `prefix` names its rows ("outer/"), `boundInputs` are the
   * values feeding a nested model, `outerIndex` is the top-level listing index of a nested model.
   */
  readModel(className: string, config: unknown, prefix: string, boundInputs: string[] | undefined, outerIndex: number | undefined): { outputs: string[]; layerCount: number } {
    const listing = Array.isArray(config) ? config : isObject(config) ? (config as Json).layers : undefined;
    if (!Array.isArray(listing)) this.fail(`the ${prefix ? `nested model "${prefix.slice(0, -1)}"` : 'model'} has no layer list`);
    const entries = listing.map((raw, index) => this.entry(raw, index, outerIndex));
    if (className === 'Sequential') return { outputs: this.readSequential(entries, prefix, boundInputs), layerCount: entries.length };
    return { outputs: this.readFunctional(entries, config as Json, prefix, boundInputs), layerCount: entries.length };
  }

  private entry(raw: unknown, index: number, outerIndex: number | undefined): LayerEntry {
    if (!isObject(raw)) this.fail(`layer ${index} is not an object`);
    const layer = raw as Json;
    const className = str(layer.class_name) ?? str(layer.className);
    if (!className) this.fail(`layer ${index} has no class_name`);
    const config = (isObject(layer.config) ? layer.config : {}) as Json;
    const name = str(config.name) ?? str(layer.name) ?? `${className.toLowerCase()}_${index}`;
    const calls = parseInboundNodes(layer.inbound_nodes ?? layer.inboundNodes, (problem) => this.fail(`layer "${name}": ${problem}`));
    return { className, name, config, calls, sourceIndex: outerIndex ?? index };
  }

  private readSequential(entries: LayerEntry[], prefix: string, boundInputs: string[] | undefined): string[] {
    let current: string;
    let start = 0;
    if (boundInputs) {
      current = boundInputs[0];
      if (entries[0]?.className === 'InputLayer') start = 1;
    } else {
      const first = entries[0];
      if (!first) this.fail('the Sequential model has no layers');
      current = this.graphInput(first, prefix);
      if (first.className === 'InputLayer') start = 1;
    }
    for (let i = start; i < entries.length; i++) {
      current = this.emit(entries[i], [current], prefix, 0)[0];
    }
    return [current];
  }

  private readFunctional(entries: LayerEntry[], config: Json, prefix: string, boundInputs: string[] | undefined): string[] {
    const values = new Map<string, string>();
    const key = (r: TensorRef) => `${r.layer}\u0000${r.node}\u0000${r.tensor}`;
    const inputRefs = parseRefList(config.input_layers ?? config.inputLayers);
    const outputRefs = parseRefList(config.output_layers ?? config.outputLayers);
    const byName = new Map(entries.map((e) => [e.name, e]));

    // Inputs: bound values for a nested model, else the InputLayers become graph inputs.
    const inputLayers = inputRefs.length > 0 ? inputRefs.map((r) => r.layer) : entries.filter((e) => e.className === 'InputLayer').map((e) => e.name);
    inputLayers.forEach((layerName, i) => {
      const entry = byName.get(layerName);
      if (!entry) this.fail(`input layer "${layerName}" is not among the layers`);
      let value: string;
      if (boundInputs) {
        value = boundInputs[i] ?? this.fail(`nested model "${prefix.slice(0, -1)}" gets ${boundInputs.length} inputs but declares ${inputLayers.length}`);
      } else {
        value = this.graphInput(entry, prefix);
      }
      values.set(key({ layer: layerName, node: 0, tensor: 0 }), value);
    });

    // tfjs does not renumber a nested model's calls: its own construction is node 0, its first call
    // in this model node 1. A reference that misses is tried there, or at a layer's only call.
    const resolve = (r: TensorRef): string | undefined => {
      const exact = values.get(key(r));
      if (exact !== undefined) return exact;
      const entry = byName.get(r.layer);
      if (entry && MODEL_CLASSES.has(entry.className) && r.node > 0) {
        const shifted = values.get(key({ ...r, node: r.node - 1 }));
        if (shifted !== undefined) return shifted;
      }
      if (entry && entry.calls.length === 1) return values.get(key({ ...r, node: 0 }));
      return undefined;
    };
    // Calls in dependency order (shared layers are called more than once).
    const pending: { entry: LayerEntry; call: number }[] = [];
    for (const entry of entries) {
      if (entry.className === 'InputLayer') continue;
      entry.calls.forEach((_, call) => pending.push({ entry, call }));
    }
    while (pending.length > 0) {
      const index = pending.findIndex(({ entry, call }) => entry.calls[call].every((r) => resolve(r) !== undefined));
      if (index < 0) {
        const { entry, call } = pending[0];
        const missing = entry.calls[call].find((r) => resolve(r) === undefined);
        this.fail(`layer "${entry.name}" takes "${missing?.layer}" (node ${missing?.node}, tensor ${missing?.tensor}), which no layer produces`);
      }
      const [{ entry, call }] = pending.splice(index, 1);
      const inputs = entry.calls[call].map((r) => resolve(r) as string);
      const outputs = this.emit(entry, inputs, prefix, call);
      outputs.forEach((value, tensor) => values.set(key({ layer: entry.name, node: call, tensor }), value));
    }

    const outs = outputRefs.length > 0 ? outputRefs : [];
    if (outs.length === 0) this.fail(`the ${prefix ? `nested model "${prefix.slice(0, -1)}"` : 'model'} declares no output layers`);
    return outs.map((r) => resolve(r) ?? this.fail(`output layer "${r.layer}" (node ${r.node}) is never computed`));
  }

  /** Declares a graph input from an InputLayer or a first layer's batch_input_shape. */
  private graphInput(entry: LayerEntry, prefix: string): string {
    const c = entry.config;
    let declared: (number | null)[] | undefined;
    for (const key of ['batch_input_shape', 'batchInputShape', 'batch_shape']) {
      if (Array.isArray(c[key])) declared = c[key] as (number | null)[];
    }
    if (!declared) {
      const inputShape = c.input_shape ?? c.inputShape;
      if (Array.isArray(inputShape)) declared = [null, ...(inputShape as (number | null)[])];
    }
    if (!declared) this.fail(`layer "${entry.name}" declares no input shape (batch_input_shape); the model's input size is unknown`);
    const name = entry.className === 'InputLayer' ? prefix + entry.name : `${prefix}${entry.name}_input`;
    const override = this.inputs.length === 0 ? this.options.inputShape : undefined;
    let shape: number[];
    if (override) {
      if (override.length !== declared.length) {
        this.fail(`the input shape ${fmt(override)} has ${override.length} dimensions but input "${name}" has ${declared.length}: ${fmt(declared)}`);
      }
      shape = [...override];
    } else {
      const unknown = declared.map((d, i) => (i > 0 && (d === null || d === undefined || d < 0) ? i : -1)).filter((i) => i >= 0);
      if (unknown.length > 0) {
        this.fail(`input "${name}" has unknown dimension${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${fmt(declared)}; give an input shape (batch included, e.g. ${fmt(declared.map((d, i) => (i === 0 ? 1 : d ?? 32)))})`);
      }
      shape = declared.map((d) => (d === null || d === undefined || d < 0 ? 1 : d));
    }
    if (shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) this.fail(`input "${name}" has an invalid shape ${fmt(shape)}`);
    this.inputs.push({ name, shape, declaredShape: declared.map((d) => (d === null || d === undefined || d < 0 ? '?' : d)) });
    this.graph.shapes.set(name, shape);
    return name;
  }

  /** Emits the rows of one layer call; returns its output values. */
  private emit(entry: LayerEntry, inputs: string[], prefix: string, call: number): string[] {
    const g = this.graph;
    if (MODEL_CLASSES.has(entry.className)) {
      const nested = this.readModel(entry.className, entry.config, `${prefix}${entry.name}/`, inputs, entry.sourceIndex);
      return nested.outputs;
    }
    if (entry.className === 'InputLayer') return inputs;
    const name = g.rowName(prefix + entry.name);
    const output = g.freshValue(call === 0 ? prefix + entry.name : `${prefix}${entry.name}:${call}`);
    const activation = entry.className === 'Activation' ? undefined : kerasActivationIdentifier(entry.config.activation);
    const act = activation === undefined ? null : kerasActivation(activation);
    const linearOut = act ? g.freshValue(`${output}/linear`) : output;
    const ctx: LayerCtx = { entry, name, inputs, output: linearOut, prefix };
    const unknown = g.unknownReason(inputs);
    if (unknown !== undefined) {
      // After a layer the reader cannot follow nothing is inferred: listed, never guessed.
      g.addUnknown({ name, op: entry.className, inputs, outputs: [output], sourceIndex: entry.sourceIndex }, unknown);
      return [output];
    }
    this.layer(ctx);
    if (act && activation !== undefined) {
      const unknownLinear = g.unknownReason([linearOut]);
      if (unknownLinear !== undefined) {
        g.addUnknown({ name: g.rowName(`${name}/${activation}`), op: activation, inputs: [linearOut], outputs: [output], sourceIndex: entry.sourceIndex }, unknownLinear);
        return [output];
      }
      const shape = g.shape(linearOut);
      const spec = activationOrUnsupported(act.name, { alpha: act.alpha, axisLength: shape[shape.length - 1] }, activation);
      const execution: NodeExecution = { kind: 'activation', name: act.name, ...(act.alpha !== undefined ? { alpha: act.alpha } : {}) };
      g.add({ name: g.rowName(`${name}/${activation}`), op: activation, inputs: [linearOut], outputs: [output], outputShapes: [shape], spec, weightShape: null, sourceIndex: entry.sourceIndex, execution });
    }
    return [output];
  }

  /** Adds the row(s) of one layer with its own output value ctx.output. */
  private layer(ctx: LayerCtx): void {
    const { entry } = ctx;
    const c = entry.config;
    const cls = entry.className;
    switch (cls) {
      case 'Conv1D':
      case 'Conv2D':
      case 'Conv3D':
        return this.conv(ctx, Number(cls[4]));
      case 'DepthwiseConv1D':
      case 'DepthwiseConv2D':
        return this.depthwise(ctx, cls === 'DepthwiseConv1D' ? 1 : 2);
      case 'SeparableConv1D':
      case 'SeparableConv2D':
        return this.separable(ctx, cls === 'SeparableConv1D' ? 1 : 2);
      case 'Conv1DTranspose':
      case 'Conv2DTranspose':
      case 'Conv3DTranspose':
        return this.convTranspose(ctx, Number(cls[4]));
      case 'Dense':
        return this.dense(ctx);
      case 'LSTM':
      case 'GRU':
      case 'SimpleRNN':
        return this.recurrent(ctx, cls);
      case 'BatchNormalization':
        return this.batchNorm(ctx);
      case 'MaxPooling1D':
      case 'MaxPooling2D':
      case 'MaxPooling3D':
      case 'AveragePooling1D':
      case 'AveragePooling2D':
      case 'AveragePooling3D':
        return this.pool(ctx, cls.startsWith('Max'), Number(cls[cls.length - 2]));
      case 'GlobalAveragePooling1D':
      case 'GlobalAveragePooling2D':
      case 'GlobalAveragePooling3D':
      case 'GlobalMaxPooling1D':
      case 'GlobalMaxPooling2D':
      case 'GlobalMaxPooling3D':
        return this.globalPool(ctx, cls.startsWith('GlobalMax'));
      case 'ZeroPadding1D':
      case 'ZeroPadding2D':
      case 'ZeroPadding3D':
      case 'Cropping1D':
      case 'Cropping2D':
      case 'Cropping3D':
        return this.padOrCrop(ctx, cls.startsWith('Zero'), Number(cls[cls.length - 2]));
      case 'UpSampling1D':
      case 'UpSampling2D':
      case 'UpSampling3D':
        return this.upSampling(ctx, Number(cls[cls.length - 2]));
      case 'Activation': {
        const id = kerasActivationIdentifier(c.activation) ?? 'linear';
        const ref = kerasActivation(id);
        const shape = this.in(ctx);
        const spec: OpSpec = ref ? activationOrUnsupported(ref.name, { alpha: ref.alpha, axisLength: shape[shape.length - 1] }, id) : (activationSpec('linear') as OpSpec);
        return this.runnable(ctx, spec, shape, { kind: 'activation', name: ref ? ref.name : 'linear', ...(ref?.alpha !== undefined ? { alpha: ref.alpha } : {}) });
      }
      case 'ReLU': {
        const slope = num(c.negative_slope) ?? num(c.negativeSlope) ?? 0;
        const threshold = num(c.threshold) ?? 0;
        const spec = slope === 0 && threshold !== 0 ? activationSpec('thresholdedRelu', { alpha: threshold }) : slope !== 0 ? activationSpec('leakyRelu', { alpha: slope }) : activationSpec('relu');
        const maxValue = num(c.max_value) ?? num(c.maxValue);
        const execution: NodeExecution | undefined = threshold !== 0 ? undefined
          : maxValue !== undefined && maxValue !== null ? (slope === 0 ? { kind: 'activation', name: 'clip', min: 0, max: maxValue } : undefined)
          : slope !== 0 ? { kind: 'activation', name: 'leakyRelu', alpha: slope } : { kind: 'activation', name: 'relu' };
        return this.runnable(ctx, spec as OpSpec, this.in(ctx), execution);
      }
      case 'LeakyReLU': {
        const alpha = num(c.alpha) ?? num(c.negative_slope) ?? 0.3;
        return this.runnable(ctx, activationSpec('leakyRelu', { alpha }) as OpSpec, this.in(ctx), { kind: 'activation', name: 'leakyRelu', alpha });
      }
      case 'ELU': {
        const alpha = num(c.alpha) ?? 1;
        return this.runnable(ctx, activationSpec('elu', { alpha }) as OpSpec, this.in(ctx), { kind: 'activation', name: 'elu', alpha });
      }
      case 'ThresholdedReLU':
        return this.row(ctx, activationSpec('thresholdedRelu', { alpha: num(c.theta) ?? 1 }) as OpSpec, this.in(ctx));
      case 'Softmax': {
        const shape = this.in(ctx);
        const axis = num(c.axis) ?? -1;
        return this.runnable(ctx, activationSpec('softmax') as OpSpec, shape, { kind: 'activation', name: 'softmax', axis });
      }
      case 'PReLU': {
        const alpha = this.weight(ctx, 'alpha');
        let largest = 0;
        for (const v of alpha.data) largest = Math.max(largest, Math.abs(v));
        // The slopes broadcast against the input without its batch axis (shared axes are 1).
        return this.runnable(ctx, activationSpec('prelu', { alpha: largest }) as OpSpec, this.in(ctx), { kind: 'activation', name: 'prelu', operand: { dims: [...alpha.shape], data: alpha.data } }, alpha.shape);
      }
      case 'Add':
      case 'Subtract': {
        const shape = this.mergeShape(ctx);
        const same = ctx.inputs.every((v) => this.graph.shape(v).every((d, i) => d === shape[i]) && this.graph.shape(v).length === shape.length);
        const execution: NodeExecution | undefined = same ? { kind: 'sum', signs: ctx.inputs.map((_, i) => (cls === 'Subtract' && i === 1 ? -1 : 1)) } : undefined;
        return this.runnable(ctx, { type: 'add' }, shape, execution, null, ctx.inputs);
      }
      case 'Average':
        return this.average(ctx);
      case 'Maximum':
      case 'Minimum':
        return this.merge(ctx, structural(`elementwise ${cls.toLowerCase()}: 1`));
      case 'Multiply':
        if (ctx.inputs.length === 1) return this.row(ctx, structural('product of one input: identity'), this.in(ctx));
        return this.merge(ctx, { type: 'unbounded', reason: 'a product of two signals (x·y) is not globally Lipschitz' });
      case 'Concatenate':
        return this.concat(ctx);
      case 'Dot':
        return this.row(ctx, { type: 'unbounded', reason: 'a dot product of two signals is not globally Lipschitz' }, this.dotShape(ctx), null, ctx.inputs);
      case 'Flatten': {
        const shape = this.in(ctx);
        return this.runnable(ctx, structural('flatten: 1'), [shape[0], product(shape.slice(1))], { kind: 'reshape' });
      }
      case 'Reshape':
        return this.runnable(ctx, structural('reshape: 1'), this.reshape(ctx), { kind: 'reshape' });
      case 'Permute': {
        const shape = this.in(ctx);
        const dims = intList(c.dims, 'dims', ctx, this);
        if (dims.length !== shape.length - 1 || [...dims].sort().some((d, i) => d !== i + 1)) this.fail(`layer "${entry.name}": Permute dims ${fmt(dims)} do not fit its input ${fmt(shape)}`);
        return this.runnable(ctx, structural('permute: 1'), [shape[0], ...dims.map((d) => shape[d])], { kind: 'transpose', perm: [0, ...dims] });
      }
      case 'RepeatVector': {
        const shape = this.in(ctx);
        const n = num(c.n) ?? this.fail(`layer "${entry.name}": RepeatVector has no n`);
        return this.row(ctx, structural(`repeat ${n} times: √${n}`, Math.sqrt(n)), [shape[0], n, ...shape.slice(1)]);
      }
      case 'LayerNormalization':
        return this.layerNorm(ctx);
      default:
        if (INFERENCE_NO_OPS.has(cls)) return this.runnable(ctx, structural(`${cls} at inference: identity, 1`), this.in(ctx), { kind: 'reshape' });
        return this.unknownClass(ctx);
    }
  }

  private in(ctx: LayerCtx): number[] {
    return [...this.graph.shape(ctx.inputs[0])];
  }

  private row(ctx: LayerCtx, spec: OpSpec, outputShape: number[], weightShape: number[] | null = null, inputs = ctx.inputs.slice(0, 1), execution?: NodeExecution): void {
    this.graph.add({ name: ctx.name, op: ctx.entry.className, inputs, outputs: [ctx.output], outputShapes: [outputShape], spec, weightShape, sourceIndex: ctx.entry.sourceIndex, ...(execution ? { execution } : {}) });
  }

  /**
   * A layer class the reader does not know (a custom layer): unsupported. Its output shape comes
   * from its config where the file states one (output_shape, target_shape with the batch), else
   * it is unknown and the layers after it are listed with "input shape unknown".
   */
  private unknownClass(ctx: LayerCtx): void {
    const declared = this.options.customLayers?.[ctx.entry.className];
    if (declared !== undefined) return this.declaredClass(ctx, declared);
    const c = ctx.entry.config;
    const stated = c.batch_output_shape ?? c.batchOutputShape ?? c.output_shape ?? c.outputShape;
    const batch = this.in(ctx)[0];
    let shape: number[] | undefined;
    if (Array.isArray(stated) && stated.every((d, i) => (i === 0 && d === null) || (typeof d === 'number' && d > 0))) {
      const dims = stated as (number | null)[];
      shape = dims.length > 0 && (c.batch_output_shape !== undefined || c.batchOutputShape !== undefined) ? dims.map((d) => d ?? batch) : [batch, ...(dims as number[])];
    }
    if (!shape) this.graph.warnings.push(`layer "${ctx.entry.name}" (${ctx.entry.className}) is not supported and its output shape is unknown: the layers after it cannot be analysed; if it is a custom class, say what it computes with --custom-layer ${ctx.entry.className}=… (setting lipschitzLens.customLayers)`);
    this.graph.add(
      { name: ctx.name, op: ctx.entry.className, inputs: ctx.inputs, outputs: [ctx.output], outputShapes: shape ? [shape] : [], spec: { type: 'unsupported', detail: `Keras layer class ${ctx.entry.className}` }, weightShape: null, sourceIndex: ctx.entry.sourceIndex },
      { unknownReason: `output of unsupported layer ${ctx.entry.className} "${ctx.entry.name}"` },
    );
  }

  /** Custom classes already named in a warning (one line per class, not per layer). */
  private readonly declaredClasses = new Set<string>();

  /** A custom class with the user's declaration of what it computes (src/protocol/custom-layers.ts). */
  private declaredClass(ctx: LayerCtx, text: string): void {
    const { entry } = ctx;
    const declaration = parseCustomLayer(text);
    if (typeof declaration === 'string') this.fail(`custom layer ${entry.className}: ${declaration}`);
    if (ctx.inputs.length !== 1) this.fail(`layer "${entry.name}" (${entry.className}) has ${ctx.inputs.length} inputs; a declared custom layer must have one`);
    const number = (source: NumberSource, what: string) => {
      const value = resolveNumber(source, entry.config);
      return typeof value === 'number' ? value : this.fail(`layer "${entry.name}" (${entry.className}) declared as ${text.trim()}: ${value} for its ${what}`);
    };
    const origin = describeDeclaration(entry.className, text);
    const shape = this.in(ctx);
    if (!this.declaredClasses.has(entry.className)) this.graph.warnings.push(`custom layer class ${entry.className}: ${origin}`);
    this.declaredClasses.add(entry.className);
    switch (declaration.kind) {
      case 'identity':
        return this.runnable(ctx, structural(`identity, ${origin}: 1`), shape, { kind: 'reshape' });
      case 'scale': {
        const factor = number(declaration.factor, 'factor');
        return this.runnable(ctx, { type: 'diagonal', scale: Float32Array.of(factor), axis: -1 }, shape, { kind: 'affine' });
      }
      case 'lipschitz': {
        const constant = number(declaration.constant, 'Lipschitz constant');
        if (!(constant >= 0)) this.fail(`layer "${entry.name}" (${entry.className}): a declared Lipschitz constant must be ≥ 0, gets ${constant}`);
        return this.row(ctx, structural(`${constant}, ${origin}`, constant), shape);
      }
      case 'depth-to-space': {
        const block = number(declaration.block, 'block size');
        const [n, h, w, c] = shape;
        const out = [n, h * block, w * block, c / (block * block)];
        if (shape.length !== 4 || !Number.isInteger(block) || block < 1 || !out.every(Number.isInteger)) {
          this.fail(`layer "${entry.name}" (${entry.className}) declared as depth-to-space with block ${block} does not fit its input ${fmt(shape)} (NHWC)`);
        }
        return this.row(ctx, structural(`depth-to-space, ${origin}: a permutation of the entries, 1`, 1, SELECTS), out);
      }
      case 'same-shape':
        this.graph.add({ name: ctx.name, op: entry.className, inputs: ctx.inputs, outputs: [ctx.output], outputShapes: [shape], spec: { type: 'unsupported', detail: `Keras layer class ${entry.className}, shape-preserving ${origin}` }, weightShape: null, sourceIndex: entry.sourceIndex });
        return;
    }
  }

  /** A row the graph executor can run (src/model/ir.ts NodeExecution). */
  private runnable(ctx: LayerCtx, spec: OpSpec, outputShape: number[], execution: NodeExecution | undefined, weightShape: number[] | null = null, inputs = ctx.inputs.slice(0, 1)): void {
    this.row(ctx, spec, outputShape, weightShape, inputs, execution);
  }

  /** The layer's bias as the executor's affine data: none when use_bias is false; not executable when it is missing. */
  private biasExecution(ctx: LayerCtx, count: number): NodeExecution | undefined {
    if (ctx.entry.config.use_bias === false || ctx.entry.config.useBias === false) return { kind: 'affine' };
    if (!this.hasWeight(ctx, 'bias')) return undefined;
    const bias = this.weight(ctx, 'bias');
    return bias.data.length === count ? { kind: 'affine', bias: bias.data } : undefined;
  }

  /** A layer's weight `<layer>/<param>`, found by exact name or a unique scoped match. */
  weight(ctx: LayerCtx, param: string): { shape: number[]; data: Float32Array } {
    const name = this.weightName(ctx, param);
    if (!name) this.fail(`layer "${ctx.entry.name}" (${ctx.entry.className}) has no weight "${param}" in the weights manifest (looked for "${ctx.entry.name}/${param}")`);
    const dtype = this.weights.spec(name)?.dtype;
    if (dtype !== 'float32') this.fail(`layer "${ctx.entry.name}": weight "${name}" has dtype ${dtype}, expected float32`);
    return this.weights.floats(name);
  }

  hasWeight(ctx: LayerCtx, param: string): boolean {
    return this.weightName(ctx, param) !== undefined;
  }

  private weightName(ctx: LayerCtx, param: string): string | undefined {
    const layer = ctx.entry.name;
    const candidates = [`${ctx.prefix}${layer}/${param}`, `${layer}/${param}`];
    for (const candidate of candidates) if (this.weights.has(candidate)) return candidate;
    // Scoped names (nested models, tfjs name scopes) and tfjs's uniquified suffixes ("kernel_1").
    const pattern = new RegExp(`(^|/)${escapeRegExp(layer)}/${escapeRegExp(param)}(_\\d+)?$`);
    const found = this.weights.names.filter((n) => pattern.test(n));
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      const scoped = found.filter((n) => n.startsWith(ctx.prefix));
      if (scoped.length === 1) return scoped[0];
      this.fail(`layer "${layer}": weight "${param}" is ambiguous in the manifest (${found.slice(0, 3).join(', ')})`);
    }
    return undefined;
  }

  private channelsLast(ctx: LayerCtx): boolean {
    const format = str(ctx.entry.config.data_format) ?? str(ctx.entry.config.dataFormat) ?? 'channels_last';
    if (format !== 'channels_last' && format !== 'channels_first' && format !== 'channelsLast' && format !== 'channelsFirst') {
      this.fail(`layer "${ctx.entry.name}": unknown data_format "${format}"`);
    }
    return format === 'channels_last' || format === 'channelsLast';
  }

  /** Splits an input shape into batch, channels and spatial dims for an n-D spatial layer. */
  private layout(ctx: LayerCtx, rank: number): { shape: number[]; channels: number; spatial: number[]; channelsLast: boolean; assemble: (channels: number, spatial: number[]) => number[] } {
    const shape = this.in(ctx);
    if (shape.length !== rank + 2) this.fail(`layer "${ctx.entry.name}" (${ctx.entry.className}) expects a rank-${rank + 2} input, gets ${fmt(shape)}`);
    const channelsLast = this.channelsLast(ctx);
    const channels = channelsLast ? shape[rank + 1] : shape[1];
    const spatial = channelsLast ? shape.slice(1, rank + 1) : shape.slice(2);
    const assemble = (ch: number, sp: number[]) => (channelsLast ? [shape[0], ...sp, ch] : [shape[0], ch, ...sp]);
    return { shape, channels, spatial, channelsLast, assemble };
  }

  private windowPads(ctx: LayerCtx, padding: string, spatial: number[], kernel: number[], strides: number[], dilations: number[]): { padsBegin: number[]; padsEnd: number[] } {
    switch (padding) {
      case 'valid':
        return resolvePads('VALID', spatial, kernel, strides, dilations, [], []);
      case 'same':
        return resolvePads('SAME_UPPER', spatial, kernel, strides, dilations, [], []);
      case 'causal':
        return { padsBegin: kernel.map((k, i) => (k - 1) * dilations[i]), padsEnd: kernel.map(() => 0) };
      default:
        return this.fail(`layer "${ctx.entry.name}": unknown padding "${padding}"`);
    }
  }

  private convGeometry(ctx: LayerCtx, rank: number, kernel: number[]) {
    const c = ctx.entry.config;
    const strides = tuple(c.strides, rank, 1, 'strides', ctx, this);
    const dilations = tuple(c.dilation_rate ?? c.dilationRate, rank, 1, 'dilation_rate', ctx, this);
    const padding = (str(c.padding) ?? 'valid').toLowerCase();
    return { strides, dilations, padding, kernel };
  }

  private conv(ctx: LayerCtx, rank: number): void {
    const { channels, spatial, channelsLast, assemble } = this.layout(ctx, rank);
    const w = this.weight(ctx, 'kernel');
    if (w.shape.length !== rank + 2) this.fail(`layer "${ctx.entry.name}": kernel shape ${fmt(w.shape)} is not rank ${rank + 2}`);
    const kernel = w.shape.slice(0, rank);
    const kernelIn = w.shape[rank];
    const out = w.shape[rank + 1];
    const declared = ctx.entry.config.kernel_size ?? ctx.entry.config.kernelSize;
    if (declared !== undefined && tuple(declared, rank, 1, 'kernel_size', ctx, this).some((k, i) => k !== kernel[i])) {
      this.fail(`layer "${ctx.entry.name}": kernel_size ${JSON.stringify(declared)} disagrees with the kernel weight's shape ${fmt(w.shape)}`);
    }
    const filters = num(ctx.entry.config.filters);
    if (filters !== undefined && filters !== out) this.fail(`layer "${ctx.entry.name}": ${filters} filters but the kernel weight has shape ${fmt(w.shape)}`);
    if (kernelIn <= 0 || channels % kernelIn !== 0) this.fail(`layer "${ctx.entry.name}": input has ${channels} channels but the kernel ${fmt(w.shape)} expects ${kernelIn}${channels > kernelIn ? ' per group' : ''}`);
    const group = channels / kernelIn;
    const { strides, dilations, padding } = this.convGeometry(ctx, rank, kernel);
    const { padsBegin, padsEnd } = this.windowPads(ctx, padding, spatial, kernel, strides, dilations);
    const outSpatial = slidingOutputSize(spatial, kernel, strides, dilations, padsBegin, padsEnd);
    this.checkSpatial(ctx, outSpatial);
    const spec: ConvSpec = { type: 'conv', channelsLast, weight: tfConvKernelToCanonical(w.data, w.shape), strides, dilations, padsBegin, padsEnd, group };
    this.runnable(ctx, spec, assemble(out, outSpatial), this.biasExecution(ctx, out), w.shape);
  }

  private depthwiseSpec(ctx: LayerCtx, rank: number, param: string): { spec: ConvSpec; out: number[]; weightShape: number[] } {
    const { channels, spatial, channelsLast, assemble } = this.layout(ctx, rank);
    const w = this.weight(ctx, param);
    if (w.shape.length !== rank + 2) this.fail(`layer "${ctx.entry.name}": ${param} shape ${fmt(w.shape)} is not rank ${rank + 2}`);
    const kernel = w.shape.slice(0, rank);
    if (w.shape[rank] !== channels) this.fail(`layer "${ctx.entry.name}": input has ${channels} channels but the ${param} ${fmt(w.shape)} expects ${w.shape[rank]}`);
    const multiplier = w.shape[rank + 1];
    const { strides, dilations, padding } = this.convGeometry(ctx, rank, kernel);
    const { padsBegin, padsEnd } = this.windowPads(ctx, padding, spatial, kernel, strides, dilations);
    const outSpatial = slidingOutputSize(spatial, kernel, strides, dilations, padsBegin, padsEnd);
    this.checkSpatial(ctx, outSpatial);
    const spec: ConvSpec = { type: 'conv', channelsLast, weight: tfDepthwiseKernelToCanonical(w.data, w.shape), strides, dilations, padsBegin, padsEnd, group: channels };
    return { spec, out: assemble(channels * multiplier, outSpatial), weightShape: w.shape };
  }

  private depthwise(ctx: LayerCtx, rank: number): void {
    const { spec, out, weightShape } = this.depthwiseSpec(ctx, rank, 'depthwise_kernel');
    this.runnable(ctx, spec, out, this.biasExecution(ctx, spec.weight.dims[0]), weightShape);
  }

  private separable(ctx: LayerCtx, rank: number): void {
    const g = this.graph;
    const { spec, out, weightShape } = this.depthwiseSpec(ctx, rank, 'depthwise_kernel');
    const mid = g.freshValue(`${ctx.output}/depthwise`);
    const base = ctx.name;
    g.add({ name: g.rowName(`${base}/depthwise`), op: ctx.entry.className, inputs: ctx.inputs.slice(0, 1), outputs: [mid], outputShapes: [out], spec, weightShape, sourceIndex: ctx.entry.sourceIndex, execution: { kind: 'affine' } });
    const p = this.weight(ctx, 'pointwise_kernel');
    const channelsLast = spec.channelsLast;
    const channels = channelsLast ? out[out.length - 1] : out[1];
    if (p.shape.length !== rank + 2 || p.shape.slice(0, rank).some((k) => k !== 1) || p.shape[rank] !== channels) {
      this.fail(`layer "${ctx.entry.name}": pointwise_kernel ${fmt(p.shape)} does not fit ${channels} depthwise output channels`);
    }
    const filters = p.shape[rank + 1];
    const ones = new Array<number>(rank).fill(1);
    const zeros = new Array<number>(rank).fill(0);
    const pointwise: ConvSpec = { type: 'conv', channelsLast, weight: tfConvKernelToCanonical(p.data, p.shape), strides: ones, dilations: [...ones], padsBegin: zeros, padsEnd: [...zeros], group: 1 };
    const outShape = channelsLast ? [...out.slice(0, -1), filters] : [out[0], filters, ...out.slice(2)];
    const pointwiseExecution = this.biasExecution(ctx, filters);
    g.add({ name: g.rowName(`${base}/pointwise`), op: ctx.entry.className, inputs: [mid], outputs: [ctx.output], outputShapes: [outShape], spec: pointwise, weightShape: p.shape, sourceIndex: ctx.entry.sourceIndex, ...(pointwiseExecution ? { execution: pointwiseExecution } : {}) });
  }

  private convTranspose(ctx: LayerCtx, rank: number): void {
    const { channels, spatial, channelsLast, assemble } = this.layout(ctx, rank);
    const w = this.weight(ctx, 'kernel');
    if (w.shape.length !== rank + 2) this.fail(`layer "${ctx.entry.name}": kernel shape ${fmt(w.shape)} is not rank ${rank + 2}`);
    const kernel = w.shape.slice(0, rank);
    const out = w.shape[rank];
    if (w.shape[rank + 1] !== channels) this.fail(`layer "${ctx.entry.name}": input has ${channels} channels but the kernel ${fmt(w.shape)} expects ${w.shape[rank + 1]}`);
    const c = ctx.entry.config;
    const { strides, dilations, padding } = this.convGeometry(ctx, rank, kernel);
    const outputPaddingConfig = c.output_padding ?? c.outputPadding;
    const outputPaddingGiven = outputPaddingConfig === null || outputPaddingConfig === undefined ? undefined : tuple(outputPaddingConfig, rank, 0, 'output_padding', ctx, this);
    const padsBegin: number[] = [];
    const padsEnd: number[] = [];
    const outputPadding: number[] = [];
    const outSpatial = spatial.map((size, i) => {
      const k = (kernel[i] - 1) * dilations[i] + 1;
      const s = strides[i];
      // Keras deconv_output_length.
      let length: number;
      if (outputPaddingGiven === undefined) {
        length = padding === 'same' ? size * s : padding === 'valid' ? size * s + Math.max(k - s, 0) : this.fail(`layer "${ctx.entry.name}": unknown padding "${padding}"`);
      } else {
        const pad = padding === 'same' ? Math.floor(k / 2) : 0;
        length = (size - 1) * s + k - 2 * pad + outputPaddingGiven[i];
      }
      // The adjoint of the forward convolution from `length` to `size` with the same padding rule.
      const total = Math.max(0, (size - 1) * s + k - length);
      const begin = padding === 'same' ? Math.floor(total / 2) : 0;
      padsBegin.push(begin);
      padsEnd.push(total - begin);
      outputPadding.push(length - ((size - 1) * s + k - total));
      return length;
    });
    this.checkSpatial(ctx, outSpatial);
    const weight: WeightTensor = tfTransposeKernelToCanonical(w.data, w.shape);
    this.runnable(ctx, { type: 'convTranspose', channelsLast, weight, strides, dilations, padsBegin, padsEnd, outputPadding, group: 1 }, assemble(out, outSpatial), this.biasExecution(ctx, out), w.shape);
  }

  private dense(ctx: LayerCtx): void {
    const shape = this.in(ctx);
    const w = this.weight(ctx, 'kernel');
    if (w.shape.length !== 2) this.fail(`layer "${ctx.entry.name}": Dense kernel shape ${fmt(w.shape)} is not 2-D`);
    if (shape[shape.length - 1] !== w.shape[0]) this.fail(`layer "${ctx.entry.name}": input ${fmt(shape)} has ${shape[shape.length - 1]} features but the kernel ${fmt(w.shape)} expects ${w.shape[0]}`);
    const units = num(ctx.entry.config.units);
    if (units !== undefined && units !== w.shape[1]) this.fail(`layer "${ctx.entry.name}": ${units} units but the kernel weight has shape ${fmt(w.shape)}`);
    this.runnable(ctx, { type: 'dense', weight: { dims: [...w.shape], data: w.data } }, [...shape.slice(0, -1), w.shape[1]], this.biasExecution(ctx, w.shape[1]), w.shape);
  }

  /**
   * LSTM / GRU / SimpleRNN on [N, T, F]: a dense row per gate matrix (kernel and recurrent kernel,
   * Keras gate order), then the layer's row with the certified bound over T steps from zero
   * initial states (src/analysis/recurrent.ts, docs/op-coverage.md). Hard-sigmoid gates (tfjs's
   * default) have slope 0.2, within the ¼ the bound uses.
   */
  private recurrent(ctx: LayerCtx, cls: 'LSTM' | 'GRU' | 'SimpleRNN'): void {
    const shape = this.in(ctx);
    const c = ctx.entry.config;
    const kernel = this.weight(ctx, 'kernel');
    const recurrentKernel = this.weight(ctx, 'recurrent_kernel');
    const gates = cls === 'LSTM' ? ['i', 'f', 'c', 'o'] : cls === 'GRU' ? ['z', 'r', 'h'] : ['h'];
    const units = kernel.shape[1] / gates.length;
    if (shape.length !== 3 || kernel.shape[0] !== shape[2] || recurrentKernel.shape[0] !== units || recurrentKernel.shape[1] !== kernel.shape[1]) {
      this.fail(`layer "${ctx.entry.name}" (${cls}): kernel ${fmt(kernel.shape)} and recurrent kernel ${fmt(recurrentKernel.shape)} do not fit input ${fmt(shape)}`);
    }
    const [batch, steps, features] = shape;
    const norms: Record<string, { w: number; r: number }> = {};
    gates.forEach((gate, g) => {
      for (const [which, w, rows] of [['kernel', kernel, features], ['recurrent_kernel', recurrentKernel, units]] as const) {
        // Columns [g·U, (g + 1)·U) of a [rows, 4U] kernel: canonical [in, out] already.
        const data = new Float32Array(rows * units);
        for (let i = 0; i < rows; i++) for (let j = 0; j < units; j++) data[i * units + j] = w.data[i * w.shape[1] + g * units + j];
        const name = `${ctx.name}/${which}_${gate}`;
        this.graph.add({ name, op: cls, inputs: [`${name}:input`], outputs: [`${name}:output`], inputShapes: [[batch, rows]], outputShapes: [[batch, units]], spec: { type: 'dense', weight: { dims: [rows, units], data } }, weightShape: [rows, units], sourceIndex: ctx.entry.sourceIndex });
        const transposed = new Float32Array(rows * units);
        for (let i = 0; i < rows; i++) for (let j = 0; j < units; j++) transposed[j * rows + i] = data[i * units + j];
        (norms[gate] ??= { w: 0, r: 0 })[which === 'kernel' ? 'w' : 'r'] = matrixNorm(transposed, units, rows);
      }
    });
    const activation = str(c.activation) ?? 'tanh';
    const recurrentActivation = str(c.recurrent_activation) ?? 'hard_sigmoid';
    const outShape = c.return_sequences ? [batch, steps, units] : [batch, units];
    let spec: OpSpec;
    if (c.return_state || c.stateful) spec = { type: 'unsupported', detail: `${cls} with return_state or stateful` };
    else if (cls === 'SimpleRNN' ? !['tanh', 'relu', 'linear'].includes(activation) : activation !== 'tanh' || !['sigmoid', 'hard_sigmoid', 'hardSigmoid'].includes(recurrentActivation)) {
      spec = { type: 'unsupported', detail: `${cls} with activation ${activation} / recurrent activation ${recurrentActivation}` };
    } else {
      let gains;
      if (cls === 'LSTM') {
        const { i, f, c: candidate, o } = norms;
        gains = lstmGains({ w: { i: i.w, o: o.w, f: f.w, c: candidate.w }, r: { i: i.r, o: o.r, f: f.r, c: candidate.r }, p: { i: 0, o: 0, f: 0 }, c0: 0 }, steps);
      }
      let constant: number;
      if (gains) constant = Math.max(nonnegativeNorm(gains.h), nonnegativeNorm(gains.c));
      else if (cls === 'GRU') {
        const resetAfter = c.reset_after === true;
        let recurrentSup: ((h: number) => number) | undefined;
        if (resetAfter) {
          // sup |R_h h + b_h| for |h| ≤ H: H·max row ℓ1 norm of R_hᵀ's rows, plus the largest recurrent bias.
          let rowSum = 0;
          for (let j = 0; j < units; j++) {
            let sum = 0;
            for (let i = 0; i < units; i++) sum += Math.abs(recurrentKernel.data[i * recurrentKernel.shape[1] + 2 * units + j]);
            rowSum = Math.max(rowSum, sum);
          }
          const bias = c.use_bias === false ? undefined : this.weight(ctx, 'bias');
          let largest = 0;
          if (bias && bias.data.length === 6 * units) for (let j = 5 * units; j < 6 * units; j++) largest = Math.max(largest, Math.abs(bias.data[j]));
          else if (bias) for (const v of bias.data) largest = Math.max(largest, Math.abs(v));
          recurrentSup = (big) => rowSum * big + largest;
        }
        const { z, r, h } = norms;
        constant = nonnegativeNorm(gruGains({ w: { z: z.w, r: r.w, h: h.w }, r: { z: z.r, r: r.r, h: h.r }, h0: 0, linearBeforeReset: resetAfter, recurrentSup }, steps));
      } else constant = nonnegativeNorm(rnnGains({ w: norms.h.w, r: norms.h.r, activation: 1 }, steps));
      spec = { type: 'fixed', kind: 'activation', constant, detail: `${cls} over ${steps} steps from zero initial states: certified bound from the per-gate weight norms (rows above) and the gates' ranges (docs/op-coverage.md)` };
    }
    this.row(ctx, spec, outShape, kernel.shape);
  }

  private batchNorm(ctx: LayerCtx): void {
    const shape = this.in(ctx);
    const c = ctx.entry.config;
    const rawAxis = Array.isArray(c.axis) ? (c.axis as unknown[]) : [c.axis ?? -1];
    if (rawAxis.length !== 1 || typeof rawAxis[0] !== 'number') this.fail(`layer "${ctx.entry.name}": BatchNormalization over axes ${JSON.stringify(c.axis)} is not supported`);
    const axis = normalizeAxis(rawAxis[0], shape.length);
    const channels = shape[axis];
    const variance = this.weight(ctx, 'moving_variance');
    const useScale = c.scale !== false;
    const gamma = useScale ? this.weight(ctx, 'gamma') : undefined;
    const epsilon = num(c.epsilon) ?? 1e-3;
    for (const [label, w] of [['moving_variance', variance], ['gamma', gamma]] as const) {
      if (w && (w.data.length !== channels)) this.fail(`layer "${ctx.entry.name}": ${label} has ${w.data.length} values for ${channels} channels on axis ${axis} of ${fmt(shape)}`);
    }
    const scale = new Float32Array(channels);
    for (let i = 0; i < channels; i++) scale[i] = (gamma ? gamma.data[i] : 1) / Math.sqrt(variance.data[i] + epsilon);
    // The shift β − mean·scale, for the graph executor (β absent when center is false).
    const useCenter = c.center !== false;
    const beta = useCenter && this.hasWeight(ctx, 'beta') ? this.weight(ctx, 'beta') : undefined;
    const mean = this.hasWeight(ctx, 'moving_mean') ? this.weight(ctx, 'moving_mean') : undefined;
    const execution: NodeExecution | undefined = mean && mean.data.length === channels && (!useCenter || beta?.data.length === channels)
      ? { kind: 'affine', bias: Float32Array.from(scale, (s2, i) => (beta ? beta.data[i] : 0) - mean.data[i] * s2) }
      : undefined;
    this.runnable(ctx, { type: 'diagonal', scale, axis }, shape, execution, gamma?.shape ?? variance.shape);
  }

  /**
   * γ⊙(x − μ)/√(σ² + ε) + β over the given axes: ≤ max|γ|/√ε when ε > 0 (src/analysis/layer-norm.ts,
   * docs/op-coverage.md "Normalisation layers"), with γ and β along the last axis when present.
   */
  private layerNorm(ctx: LayerCtx): void {
    const shape = this.in(ctx);
    const c = ctx.entry.config;
    const axes = (Array.isArray(c.axis) ? c.axis : [c.axis ?? -1]).map((a) => (typeof a === 'number' ? normalizeAxis(a, shape.length) : NaN));
    const epsilon = num(c.epsilon) ?? 1e-3;
    if (axes.some((a) => !Number.isInteger(a) || a < 1)) this.fail(`layer "${ctx.entry.name}": LayerNormalization over axes ${JSON.stringify(c.axis)} is not supported`);
    const n = [...new Set(axes)].reduce((s, a) => s * shape[a], 1);
    const gamma = c.scale !== false && this.hasWeight(ctx, 'gamma') ? this.weight(ctx, 'gamma') : undefined;
    const beta = c.center !== false && this.hasWeight(ctx, 'beta') ? this.weight(ctx, 'beta') : undefined;
    if (!(epsilon > 0)) {
      return this.row(ctx, { type: 'unbounded', reason: 'layer normalisation with ε = 0 divides by the input\'s own spread: its slope grows without bound where the input has no spread' }, shape);
    }
    const { constant, range } = layerNormBound(epsilon, n, gamma?.data, beta?.data);
    const spec: OpSpec = {
      type: 'fixed',
      kind: 'activation',
      constant,
      detail: `layer norm over ${n} entries: ≤ max|γ|/√ε, ε = ${formatEpsilon(epsilon)} (reached where the input has no spread)`,
      ...(range ? { values: { kind: 'bounded' as const, min: range[0], max: range[1] } } : {}),
    };
    // Executed as tfjs-layers computes it: (x − mean)/√(var + ε)·γ + β over `axes` (γ, β hold those axes, in order).
    const broadcast = (t: { data: Float32Array } | undefined) => (t ? { dims: shape.map((d, a) => (axes.includes(a) ? d : 1)), data: t.data } : undefined);
    const [g, b] = [broadcast(gamma), broadcast(beta)];
    const execution: NodeExecution = { kind: 'normalise', axes: [...new Set(axes)], centred: true, c: 1 / n, inner: { kind: 'add', epsilon }, scale: 1, ...(g ? { gamma: g } : {}), ...(b ? { beta: b } : {}) };
    this.row(ctx, spec, shape, gamma?.shape ?? null, ctx.inputs.slice(0, 1), execution);
  }

  private pool(ctx: LayerCtx, max: boolean, rank: number): void {
    const { spatial, channelsLast, shape } = this.layout(ctx, rank);
    const c = ctx.entry.config;
    const kernel = tuple(c.pool_size ?? c.poolSize, rank, 2, 'pool_size', ctx, this);
    const stridesRaw = c.strides ?? null;
    const strides = stridesRaw === null ? [...kernel] : tuple(stridesRaw, rank, 1, 'strides', ctx, this);
    const ones = new Array<number>(rank).fill(1);
    const padding = (str(c.padding) ?? 'valid').toLowerCase();
    const { padsBegin, padsEnd } = this.windowPads(ctx, padding, spatial, kernel, strides, ones);
    const outSpatial = slidingOutputSize(spatial, kernel, strides, ones, padsBegin, padsEnd);
    this.checkSpatial(ctx, outSpatial);
    const out = channelsLast ? [shape[0], ...outSpatial, shape[shape.length - 1]] : [shape[0], shape[1], ...outSpatial];
    const spec: OpSpec = max
      ? { type: 'maxPool', channelsLast, kernel, strides, dilations: ones, padsBegin, padsEnd }
      : { type: 'avgPool', channelsLast, kernel, strides, padsBegin, padsEnd, countIncludePad: false };
    this.runnable(ctx, spec, out, { kind: 'spec' });
  }

  private globalPool(ctx: LayerCtx, max: boolean): void {
    const shape = this.in(ctx);
    const channelsLast = this.channelsLast(ctx);
    const keep = ctx.entry.config.keepdims === true;
    const channels = channelsLast ? shape[shape.length - 1] : shape[1];
    const out = keep ? shape.map((d, i) => (i === 0 ? d : (channelsLast ? i === shape.length - 1 : i === 1) ? d : 1)) : [shape[0], channels];
    const spec: OpSpec = max ? { type: 'fixed', kind: 'pool', constant: 1, detail: 'global max pool: 1' } : { type: 'globalAvgPool', channelsLast };
    this.runnable(ctx, spec, out, max ? undefined : { kind: 'spec' });
  }

  private padOrCrop(ctx: LayerCtx, pad: boolean, rank: number): void {
    const { spatial, channels, assemble } = this.layout(ctx, rank);
    const c = ctx.entry.config;
    const raw = pad ? c.padding : c.cropping;
    const pairs = padPairs(raw, rank, ctx, this);
    const outSpatial = spatial.map((size, i) => (pad ? size + pairs[i][0] + pairs[i][1] : size - pairs[i][0] - pairs[i][1]));
    this.checkSpatial(ctx, outSpatial);
    const { channelsLast } = this.layout(ctx, rank);
    const full = (ends: number[]) => (channelsLast ? [0, ...ends, 0] : [0, 0, ...ends]);
    const execution: NodeExecution | undefined = pad ? { kind: 'pad', begin: full(pairs.map((p) => p[0])), end: full(pairs.map((p) => p[1])), value: 0 } : undefined;
    this.runnable(ctx, structural(pad ? 'zero padding: 1' : 'cropping: 1'), assemble(channels, outSpatial), execution);
  }

  private upSampling(ctx: LayerCtx, rank: number): void {
    const c = ctx.entry.config;
    const size = tuple(c.size ?? (rank === 1 ? c.length : undefined), rank, 2, 'size', ctx, this);
    let layout;
    if (rank === 1) {
      // UpSampling1D repeats along axis 1 of [N, steps, features].
      const shape = this.in(ctx);
      layout = { spatial: [shape[1]], channels: shape[2], assemble: (ch: number, sp: number[]) => [shape[0], sp[0], ch] };
    } else {
      layout = this.layout(ctx, rank);
    }
    const interpolation = str(c.interpolation) ?? 'nearest';
    const outSpatial = layout.spatial.map((s, i) => s * size[i]);
    const copies = product(size);
    let spec: OpSpec;
    if (interpolation === 'nearest') spec = structural(`nearest upsampling ×${size.join('×')}: √${copies}`, Math.sqrt(copies), SELECTS);
    else if (interpolation === 'bilinear') {
      // tfjs-layers calls tf.image.resizeBilinear without align_corners or half-pixel centres: src = dst·in/out.
      const axes = layout.spatial.map((inLength, i) => ({ inLength, outLength: outSpatial[i], scale: size[i], mode: 'linear' as const, transform: TRANSFORMS.asymmetric as CoordinateTransform }));
      const { sigma, detail } = resizeNorm(axes);
      spec = structural(detail, sigma, SELECTS);
    } else spec = { type: 'unsupported', detail: `UpSampling with ${interpolation} interpolation` };
    const execution: NodeExecution | undefined = interpolation === 'nearest' && rank === 2 ? { kind: 'upsample', factors: size, channelsLast: this.channelsLast(ctx) } : undefined;
    this.runnable(ctx, spec, layout.assemble(layout.channels, outSpatial), execution);
  }

  private mergeShape(ctx: LayerCtx): number[] {
    let shape: number[] | undefined = this.in(ctx);
    for (const value of ctx.inputs.slice(1)) {
      const next = this.graph.shape(value);
      const joined: number[] | undefined = broadcastShapes(shape, next);
      if (!joined) this.fail(`layer "${ctx.entry.name}" (${ctx.entry.className}): input shapes ${fmt(shape)} and ${fmt(next)} do not match`);
      shape = joined;
    }
    return shape;
  }

  private merge(ctx: LayerCtx, spec: OpSpec): void {
    this.row(ctx, spec, this.mergeShape(ctx), null, ctx.inputs);
  }

  private average(ctx: LayerCtx): void {
    const g = this.graph;
    const shape = this.mergeShape(ctx);
    const n = ctx.inputs.length;
    if (n === 1) return this.row(ctx, structural('average of one input: identity'), shape);
    const sum = g.freshValue(`${ctx.output}/sum`);
    g.add({ name: ctx.name, op: ctx.entry.className, inputs: ctx.inputs, outputs: [sum], outputShapes: [shape], spec: { type: 'add' }, weightShape: null, sourceIndex: ctx.entry.sourceIndex, execution: { kind: 'sum', signs: ctx.inputs.map(() => 1) } });
    g.add({ name: g.rowName(`${ctx.name}/scale`), op: ctx.entry.className, inputs: [sum], outputs: [ctx.output], outputShapes: [shape], spec: { type: 'diagonal', scale: Float32Array.of(1 / n), axis: -1 }, weightShape: null, sourceIndex: ctx.entry.sourceIndex, execution: { kind: 'affine' } });
  }

  private concat(ctx: LayerCtx): void {
    const shapes = ctx.inputs.map((v) => this.graph.shape(v));
    const rank = shapes[0].length;
    const axis = normalizeAxis(num(ctx.entry.config.axis) ?? -1, rank);
    if (axis < 0 || axis >= rank) this.fail(`layer "${ctx.entry.name}": concat axis ${ctx.entry.config.axis} is outside rank ${rank}`);
    const out = [...shapes[0]];
    for (const s of shapes.slice(1)) {
      if (s.length !== rank || s.some((d, i) => i !== axis && d !== out[i])) this.fail(`layer "${ctx.entry.name}": cannot concatenate ${shapes.map((x) => fmt(x)).join(' and ')} on axis ${axis}`);
      out[axis] += s[axis];
    }
    this.runnable(ctx, { type: 'concat', axis }, out, { kind: 'spec' }, null, ctx.inputs);
  }

  private dotShape(ctx: LayerCtx): number[] {
    const a = this.in(ctx);
    return [a[0], 1];
  }

  private reshape(ctx: LayerCtx): number[] {
    const shape = this.in(ctx);
    const target = intList(ctx.entry.config.target_shape ?? ctx.entry.config.targetShape, 'target_shape', ctx, this);
    const total = product(shape.slice(1));
    const known = product(target.filter((d) => d !== -1));
    const unknown = target.filter((d) => d === -1).length;
    const resolved = target.map((d) => (d === -1 ? total / known : d));
    if (unknown > 1 || product(resolved) !== total || resolved.some((d) => !Number.isInteger(d))) {
      this.fail(`layer "${ctx.entry.name}": cannot reshape ${fmt(shape)} to ${fmt([null, ...target])}`);
    }
    return [shape[0], ...resolved];
  }

  private checkSpatial(ctx: LayerCtx, out: number[]): void {
    if (out.some((d) => !(d > 0))) this.fail(`layer "${ctx.entry.name}" (${ctx.entry.className}): its input ${fmt(this.in(ctx))} is too small (output ${fmt(out)})`);
  }
}

interface LayerCtx {
  entry: LayerEntry;
  /** Row name (prefixed for nested models). */
  name: string;
  inputs: string[];
  /** Value the layer's own rows end in (before a separate activation row). */
  output: string;
  prefix: string;
}

/** Keras 2 `[[["name", node, tensor, {}], ...], ...]` or Keras 3 `[{"args": [...], "kwargs": {}}]`. */
function parseInboundNodes(raw: unknown, fail: (problem: string) => never): TensorRef[][] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fail('inbound_nodes is not a list');
  return raw.map((node: unknown) => {
    if (Array.isArray(node)) {
      return node.map((ref: unknown) => {
        if (!Array.isArray(ref) || typeof ref[0] !== 'string') fail(`bad inbound tensor reference ${JSON.stringify(ref)}`);
        return { layer: ref[0], node: Number(ref[1] ?? 0), tensor: Number(ref[2] ?? 0) };
      });
    }
    if (isObject(node)) {
      const refs: TensorRef[] = [];
      collectKerasHistory((node as Json).args, refs);
      return refs;
    }
    return fail(`bad inbound node ${JSON.stringify(node)}`);
  });
}

function collectKerasHistory(value: unknown, out: TensorRef[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectKerasHistory(v, out);
    return;
  }
  if (!isObject(value)) return;
  const v = value as Json;
  const history = isObject(v.config) ? (v.config as Json).keras_history : undefined;
  if (Array.isArray(history) && typeof history[0] === 'string') {
    out.push({ layer: history[0], node: Number(history[1] ?? 0), tensor: Number(history[2] ?? 0) });
  }
}

/** `[["name", node, tensor], ...]` or a single `["name", node, tensor]`. */
function parseRefList(raw: unknown): TensorRef[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const list = typeof raw[0] === 'string' ? [raw] : raw;
  return list.filter((r): r is unknown[] => Array.isArray(r) && typeof r[0] === 'string').map((r) => ({ layer: r[0] as string, node: Number(r[1] ?? 0), tensor: Number(r[2] ?? 0) }));
}

function tuple(raw: unknown, rank: number, fallback: number, label: string, ctx: LayerCtx, reader: LayersReader): number[] {
  if (raw === undefined || raw === null) return new Array<number>(rank).fill(fallback);
  if (typeof raw === 'number') return new Array<number>(rank).fill(raw);
  if (Array.isArray(raw) && raw.every((v) => typeof v === 'number')) {
    if (raw.length === rank) return raw as number[];
    if (raw.length === 1) return new Array<number>(rank).fill(raw[0] as number);
  }
  return reader.fail(`layer "${ctx.entry.name}": ${label} ${JSON.stringify(raw)} is not ${rank} integer(s)`);
}

function intList(raw: unknown, label: string, ctx: LayerCtx, reader: LayersReader): number[] {
  if (Array.isArray(raw) && raw.every((v) => typeof v === 'number' && Number.isInteger(v))) return raw as number[];
  return reader.fail(`layer "${ctx.entry.name}": ${label} ${JSON.stringify(raw)} is not a list of integers`);
}

/** Padding / cropping config: n, [a, b] (symmetric per axis, or begin/end for 1-D), or [[b, e], ...]. */
function padPairs(raw: unknown, rank: number, ctx: LayerCtx, reader: LayersReader): [number, number][] {
  if (typeof raw === 'number') return Array.from({ length: rank }, () => [raw, raw]);
  if (Array.isArray(raw)) {
    if (rank === 1 && raw.length === 2 && raw.every((v) => typeof v === 'number')) return [[raw[0] as number, raw[1] as number]];
    if (raw.length === rank && raw.every((v) => typeof v === 'number')) return (raw as number[]).map((v) => [v, v]);
    if (raw.length === rank && raw.every((v) => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))) return raw as [number, number][];
  }
  if (raw === undefined) return Array.from({ length: rank }, () => [1, 1]);
  return reader.fail(`layer "${ctx.entry.name}": padding ${JSON.stringify(raw)} is not understood`);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
