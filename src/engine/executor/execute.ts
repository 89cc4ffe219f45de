// The graph executor: runs an IrModel forward in tfjs, node by node, in each node's own layout, with
// the biases and shifts the loaders record in `node.execution` (src/model/ir.ts). It exists for the
// measured lower bound (docs/bracket.md): f(x), and through tfjs autodiff J(x)ᵀu. Every op it runs is
// checked against onnxruntime / tfjs's own model runners (test/unit/bracket/executor-*.test.ts). A node
// without `execution`, or one whose parameters it does not handle, makes the model not executable,
// with the reason: it never guesses.
//
// Convolutions run as one dense (block-diagonal for groups) kernel, dilation written into the kernel
// (kernel.ts), because the wasm backend lacks the gradient kernels of depthwise and dilated convs.

import * as tf from '@tensorflow/tfjs-core';
import type { ConvSpec, ConvTransposeSpec, IrModel, IrNode, WeightTensor } from '../../model/ir';
import { PER_PHASE_MIN_CHANNELS } from '../operators/conv2d';
import { interleavePhases2d } from '../operators/geometry';
import { dilateKernel, flipAndSwapKernel, kernelFromCanonical, phaseKernels, phaseTaps, subPixelKernel, type Kernel } from '../operators/kernel';
import { matmul } from './matmul';
import { modulus, normalise } from './normalise';
import { depthToSpace, mirrorPad, reduce, select, spaceToBatch, split, takeAlong } from './selection';

export class NotExecutableError extends Error {
  constructor(readonly node: string, readonly reason: string) {
    super(`cannot execute ${node}: ${reason}`);
    this.name = 'NotExecutableError';
  }
}

/**
 * Thrown by a run's checkpoint when its wall-clock deadline has passed (docs/bracket.md, "Time
 * budgets"): one pass of a large model can take minutes, so the caller's budget is checked between
 * the ops of a pass, forward and backward, not only between passes.
 */
export class OutOfTimeError extends Error {
  constructor() {
    super('the time budget ran out during a pass of the network');
    this.name = 'OutOfTimeError';
  }
}

/** The nodes the outputs depend on, in model order; throws NotExecutableError for the first one the executor cannot run. */
export function executionPlan(model: IrModel): IrNode[] {
  if (model.inputs.length !== 1) throw new NotExecutableError('(model)', `${model.inputs.length} inputs: the executor runs single-input models`);
  const producer = new Map<string, IrNode>();
  for (const node of model.nodes) for (const output of node.outputs) producer.set(output, node);
  const needed = new Set<IrNode>();
  const stack = [...model.outputs];
  const inputNames = new Set(model.inputs.map((input) => input.name));
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (inputNames.has(name)) continue;
    const node = producer.get(name);
    if (!node) throw new NotExecutableError(name, 'a value no node produces and no input provides');
    if (needed.has(node)) continue;
    needed.add(node);
    stack.push(...operands(node));
  }
  const plan = model.nodes.filter((node) => needed.has(node));
  for (const node of plan) {
    const why = unsupportedReason(node);
    if (why) throw new NotExecutableError(node.name, why);
  }
  return plan;
}

function unsupportedReason(node: IrNode): string | undefined {
  const { spec, execution } = node;
  if (!execution) return `${node.op} (${spec.type}) carries no execution data`;
  if (spec.type === 'conv' || spec.type === 'convTranspose') {
    const rank = spec.weight.dims.length - 2;
    if (rank < 1 || rank > (spec.type === 'conv' ? 3 : 2)) return `${rank}-D ${spec.type}`;
  }
  if ((spec.type === 'avgPool' || spec.type === 'maxPool') && (spec.kernel.length < 1 || spec.kernel.length > 2)) return `${spec.kernel.length}-D pooling`;
  if (spec.type === 'maxPool' && spec.dilations.some((d) => d !== 1)) return 'dilated max pooling';
  if (execution.kind === 'activation' && !ACTIVATIONS.has(execution.name)) return `activation ${execution.name}`;
  if (execution.kind === 'matmul' && node.inputs.length !== 2) return 'a product with a factor held fixed (the executor runs single-input models)';
  return undefined;
}

/**
 * The graph outputs (model.outputs order) for one input tensor of the model's input shape. Runs
 * inside the caller's tidy (or returns tensors the caller disposes); `plan` from executionPlan.
 */
/**
 * `forwardOnly`: no gradient will be taken through this run, so depthwise convolutions may use tfjs's
 * own depthwise kernel (the dense block-diagonal form is c times the work; the wasm backend lacks only
 * the depthwise gradients).
 */
/**
 * `checkpoint` (optional) runs before every node, and, when a gradient is taken through the run, again
 * as the backward pass reaches each node's output; it stops the run by throwing (OutOfTimeError,
 * CancelledError). tfjs disposes the tidy scopes it unwinds.
 */
export function runGraph(model: IrModel, plan: IrNode[], input: tf.Tensor, forwardOnly = false, checkpoint?: () => void): tf.Tensor[] {
  const values = new Map<string, tf.Tensor>([[model.inputs[0].name, input]]);
  const guard = checkpoint && !forwardOnly ? backwardCheckpoint(checkpoint) : (t: tf.Tensor) => t;
  for (const node of plan) {
    checkpoint?.();
    const inputs = operands(node).map((name) => {
      const value = values.get(name);
      if (!value) throw new NotExecutableError(node.name, `input ${name} was not computed`);
      return value;
    });
    if (node.execution?.kind === 'split') {
      split(inputs[0], node.execution.axis, node.execution.sizes, node.outputShapes).forEach((part, k) => values.set(node.outputs[k], guard(part)));
      continue;
    }
    const output = runNode(node, inputs, forwardOnly);
    values.set(node.outputs[0], guard(output));
  }
  return model.outputs.map((name) => values.get(name) as tf.Tensor);
}

/**
 * The identity, whose gradient first calls `checkpoint`: the backward pass of a large model is as long
 * as its forward pass (longer on the dense conv path), and tfjs runs it with no hook of its own.
 */
function backwardCheckpoint(checkpoint: () => void): (t: tf.Tensor) => tf.Tensor {
  const identity = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      checkpoint();
      return dy;
    },
  }));
  return (t) => identity(t);
}

/**
 * After a gradient computation was stopped by a throw: tfjs keeps the tensors its kernels saved for
 * the backward pass on its tape until that pass finishes, and a throw skips the release; without
 * this each stopped gradient would leak a pass's worth of activations.
 */
export function releaseTape(): void {
  const state = (tf.engine() as unknown as { state: { activeTape: { saved?: tf.Tensor[] }[] | null; gradientDepth: number } }).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const tensor of node.saved ?? []) tensor.dispose();
  state.activeTape = null;
}

/** The values a node reads when it runs: a resolved product's two factors, else its inputs. */
export function operands(node: IrNode): string[] {
  return node.execution?.kind === 'product' ? [...node.execution.factors] : node.inputs;
}

/** One node on its inputs (batch as the tensors have it; outputShapes[0] gives the rest of the output shape). */
export function runNode(node: IrNode, inputs: tf.Tensor[], forwardOnly = false): tf.Tensor {
  const { spec } = node;
  const execution = node.execution;
  const x = inputs[0];
  const outShape = node.outputShapes[0];
  switch (execution?.kind) {
    case 'product': {
      const product = tf.mul(inputs[0], inputs[1]);
      return tf.reshape(execution.scale === 1 ? product : tf.mul(product, execution.scale), outShape);
    }
    case 'matmul':
      return matmul(inputs[0], inputs[1], execution, outShape);
    case 'normalise':
      return tf.reshape(normalise(x, execution), outShape);
    case 'modulus':
      return tf.reshape(modulus(inputs, execution.epsilon), outShape);
    case 'power': {
      // x^0 is 1 with slope 0, but tfjs's Pow gradient is 0·x^(−1), NaN at x = 0 (after a ReLU): ones of x's shape have gradient 0.
      const base = execution.exponent.data.every((e) => e === 0) ? tf.onesLike(x) : x;
      return tf.reshape(tf.pow(base, constantTensor(execution.exponent)), outShape);
    }
    case 'select':
      return select(x, execution, outShape);
    case 'gatherNd': {
      const lead = x.shape.slice(0, execution.depth).reduce((a, b) => a * b, 1);
      const rest = x.shape.slice(execution.depth).reduce((a, b) => a * b, 1);
      return tf.reshape(takeAlong(tf.reshape(x, [lead, rest]), 0, execution.rows), outShape);
    }
    case 'split':
      return split(x, execution.axis, execution.sizes, node.outputShapes)[0];
    case 'stack':
      return tf.reshape(tf.stack(inputs, execution.axis), outShape);
    case 'reduce':
      return reduce(x, execution.op, execution.axes, outShape);
    case 'mirrorPad':
      return tf.reshape(mirrorPad(x, execution.begin, execution.end, execution.mode), outShape);
    case 'depthToSpace':
      return depthToSpace(x, execution.block, execution.inverse, outShape);
    case 'spaceToBatch':
      return spaceToBatch(x, execution.block, execution.pads, execution.inverse, outShape);
    default:
      break;
  }
  switch (spec.type) {
    case 'conv':
      return forwardOnly && isDepthwise(spec) && x.shape.length === 4 ? depthwise(spec, x, bias(execution)) : conv(spec, x, bias(execution));
    case 'convTranspose':
      return convTranspose(spec, x, outShape, bias(execution));
    case 'dense': {
      const [inFeatures, outFeatures] = spec.weight.dims;
      // The contracted axis moved last, multiplied, moved back in place; then the output's own order.
      const rank = x.shape.length;
      const axis = spec.axis ?? rank - 1;
      const toLast = range(0, rank).filter((a) => a !== axis).concat([axis]);
      const moved = axis === rank - 1 ? x : tf.transpose(x, toLast);
      let y = tf.matMul(tf.reshape(moved, [-1, inFeatures]), tf.tensor2d(spec.weight.data, [inFeatures, outFeatures]));
      const b = bias(execution);
      if (b) y = tf.add(y, tf.tensor1d(b));
      if (axis === rank - 1 && !spec.outputPerm) return tf.reshape(y, outShape);
      y = tf.reshape(y, [...moved.shape.slice(0, -1), outFeatures]);
      const back = new Array<number>(rank);
      toLast.forEach((p, i) => (back[p] = i));
      if (axis !== rank - 1) y = tf.transpose(y, back);
      return tf.reshape(spec.outputPerm ? tf.transpose(y, spec.outputPerm) : y, outShape);
    }
    case 'diagonal': {
      const shape = x.shape.map((d, i) => (i === spec.axis ? d : 1));
      const scale = spec.axis < 0 ? tf.scalar(spec.scale[0]) : tf.reshape(tf.tensor1d(spec.scale), shape);
      let y = tf.mul(x, scale);
      const b = bias(execution);
      if (b) y = tf.add(y, spec.axis < 0 ? tf.scalar(b[0]) : tf.reshape(tf.tensor1d(b), shape));
      return y;
    }
    case 'avgPool':
      return pool('avg', spec.channelsLast, x, spec.kernel, spec.strides, spec.padsBegin, spec.padsEnd, outShape, spec.countIncludePad);
    case 'maxPool':
      return pool('max', spec.channelsLast, x, spec.kernel, spec.strides, spec.padsBegin, spec.padsEnd, outShape, false);
    case 'globalAvgPool': {
      const rank = x.shape.length;
      const axes = spec.channelsLast ? range(1, rank - 1) : range(2, rank);
      return tf.reshape(tf.mean(x, axes, true), outShape);
    }
    case 'reduceMean':
      return tf.reshape(tf.mean(x, spec.axes, true), outShape);
    case 'add': {
      const signs = execution?.kind === 'sum' ? execution.signs : inputs.map(() => 1);
      return inputs.map((t, i) => (signs[i] < 0 ? tf.neg(t) : t)).reduce((a, b) => tf.add(a, b));
    }
    case 'concat':
      return tf.concat(inputs, spec.axis);
    case 'fixed':
      return fixed(node, x, outShape);
    default:
      throw new NotExecutableError(node.name, `${spec.type} cannot run`);
  }
}

function fixed(node: IrNode, x: tf.Tensor, outShape: number[]): tf.Tensor {
  const execution = node.execution;
  switch (execution?.kind) {
    case 'reshape':
      return tf.reshape(x, outShape);
    case 'transpose':
      return tf.transpose(x, execution.perm);
    case 'pad':
      return tf.pad(x, execution.begin.map((b, i) => [b, execution.end[i]] as [number, number]), execution.value);
    case 'shift': {
      const c = constantTensor(execution.constant);
      return tf.add(execution.sign < 0 ? tf.neg(x) : x, execution.constantSign < 0 ? tf.neg(c) : c);
    }
    case 'upsample': {
      // Nearest neighbour by integer factors: output (i, j) reads input (⌊i/f⌋, ⌊j/g⌋).
      const t = toNhwc(x, execution.channelsLast);
      const [, h, w] = t.shape;
      const y = tf.image.resizeNearestNeighbor(t, [h * execution.factors[0], w * execution.factors[1]]);
      return tf.reshape(fromNhwc(y, x.shape.length, execution.channelsLast), outShape);
    }
    case 'axisMatrices': {
      // Along each axis with a matrix M (out × in): move the axis last, multiply by Mᵀ, move it back.
      let y = x;
      execution.matrices.forEach((matrix, axis) => {
        if (!matrix) return;
        const inLength = y.shape[axis];
        const outLength = matrix.length / inLength;
        const rank = y.shape.length;
        const perm = range(0, rank).filter((a) => a !== axis).concat([axis]);
        const moved = tf.transpose(y, perm);
        const rows = tf.matMul(tf.reshape(moved, [-1, inLength]), tf.tensor2d(matrix, [outLength, inLength]), false, true);
        const back = tf.reshape(rows, [...moved.shape.slice(0, -1), outLength]);
        const inverse = new Array<number>(rank);
        perm.forEach((p, i) => (inverse[p] = i));
        y = tf.transpose(back, inverse);
      });
      return tf.reshape(y, outShape);
    }
    case 'activation': {
      const run = ACTIVATIONS.get(execution.name);
      if (!run) throw new NotExecutableError(node.name, `activation ${execution.name}`);
      return tf.reshape(run(x, execution), outShape);
    }
    default:
      throw new NotExecutableError(node.name, `${node.op} has no runnable description`);
  }
}

type ActivationExecution = Extract<NonNullable<IrNode['execution']>, { kind: 'activation' }>;

const ACTIVATIONS = new Map<string, (x: tf.Tensor, e: ActivationExecution) => tf.Tensor>([
  ['relu', (x) => tf.relu(x)],
  ['relu6', (x) => tf.clipByValue(x, 0, 6)],
  ['linear', (x) => x],
  // Written with differentiable ops only (tfjs has no gradient for comparisons on the path from x).
  ['leakyRelu', (x, e) => tf.sub(tf.relu(x), tf.mul(tf.relu(tf.neg(x)), e.alpha ?? 0.01))],
  ['elu', (x, e) => elu(x, e.alpha ?? 1)],
  ['selu', (x, e) => tf.mul(elu(x, e.alpha ?? 1.6732632423543772), e.beta ?? 1.0507009873554805)],
  ['sigmoid', (x) => tf.sigmoid(x)],
  ['hardSigmoid', (x, e) => tf.clipByValue(tf.add(tf.mul(x, e.alpha ?? 0.2), e.beta ?? 0.5), 0, 1)],
  ['hardSwish', (x) => tf.mul(x, tf.clipByValue(tf.add(tf.div(x, 6), 0.5), 0, 1))],
  ['gatedHardSigmoid', (x, e) => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, e.alpha ?? 0.2), e.beta ?? 0.5), 0, 1))],
  ['silu', (x) => tf.mul(x, tf.sigmoid(x))],
  ['tanh', (x) => tf.tanh(x)],
  ['softsign', (x) => tf.div(x, tf.add(tf.abs(x), 1))],
  ['sin', (x) => tf.sin(x)],
  ['cos', (x) => tf.cos(x)],
  ['atan', (x) => tf.atan(x)],
  ['asinh', (x) => tf.asinh(x)],
  // atan2(x, c) and atan2(c, x) with a constant c (TF Atan2 with one constant operand).
  ['atan2', (x, e) => tf.atan2(x, operand(e))],
  ['atan2Of', (x, e) => tf.atan2(operand(e), x)],
  ['softplus', (x) => tf.softplus(x)],
  ['abs', (x) => tf.abs(x)],
  ['neg', (x) => tf.neg(x)],
  ['clip', (x, e) => tf.minimum(tf.maximum(x, e.min ?? -Infinity), e.max ?? Infinity)],
  ['softmax', (x, e) => softmaxAlong(x, e.axis ?? -1, false)],
  ['logSoftmax', (x, e) => softmaxAlong(x, e.axis ?? -1, true)],
  ['prelu', (x, e) => tf.sub(tf.relu(x), tf.mul(tf.relu(tf.neg(x)), operand(e)))],
  ['scale', (x, e) => tf.mul(x, operand(e))],
  ['maximum', (x, e) => tf.maximum(x, operand(e))],
  ['minimum', (x, e) => tf.minimum(x, operand(e))],
]);

/** x for x > 0, α(eˣ − 1) otherwise. */
function elu(x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), alpha));
}

function operand(e: ActivationExecution): tf.Tensor {
  if (!e.operand) throw new Error(`activation ${e.name} needs its constant operand`);
  return constantTensor(e.operand);
}

function constantTensor(t: WeightTensor): tf.Tensor {
  return tf.tensor(t.data, t.dims.length ? t.dims : []);
}

function softmaxAlong(x: tf.Tensor, axis: number, log: boolean): tf.Tensor {
  const last = x.shape.length - 1;
  const a = axis < 0 ? axis + x.shape.length : axis;
  const perm = range(0, x.shape.length);
  perm[a] = last;
  perm[last] = a;
  const moved = a === last ? x : tf.transpose(x, perm);
  const y = log ? tf.logSoftmax(moved) : tf.softmax(moved);
  return a === last ? y : tf.transpose(y, perm);
}

function bias(execution: IrNode['execution']): Float32Array | undefined {
  return execution?.kind === 'affine' ? execution.bias : undefined;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** x in the node's layout → [N, H, W, C] (1-D as H = 1), and back. */
function toNhwc(x: tf.Tensor, channelsLast: boolean): tf.Tensor4D {
  if (x.shape.length === 3) {
    const nlc = channelsLast ? x : tf.transpose(x, [0, 2, 1]);
    return tf.expandDims(nlc, 1) as tf.Tensor4D;
  }
  return (channelsLast ? x : tf.transpose(x, [0, 2, 3, 1])) as tf.Tensor4D;
}

function fromNhwc(y: tf.Tensor4D, rank: number, channelsLast: boolean): tf.Tensor {
  if (rank === 3) {
    const nlc = tf.squeeze(y, [1]);
    return channelsLast ? nlc : tf.transpose(nlc, [0, 2, 1]);
  }
  return channelsLast ? y : tf.transpose(y, [0, 3, 1, 2]);
}

function promote<T>(values: T[], fill: T): T[] {
  return values.length === 1 ? [fill, ...values] : values;
}

function kernelTensor(kernel: Kernel): tf.Tensor4D {
  return tf.tensor4d(kernel.data, [kernel.taps[0], kernel.taps[1], kernel.cIn, kernel.cOut]);
}

/**
 * Kernels rearranged in JS, kept for the length of a withKernelCache run (a lower-bound search runs
 * the same convolutions hundreds of times; on ResNet-18 rebuilding them took ~130 ms of a ~370 ms
 * forward pass and ~120 ms of a backward one). Keyed by the spec, or by the forward kernel for its
 * adjoint kernels; capped in entries, past which kernels are built per pass as without the cache.
 */
let kernelCache: { kernels: WeakMap<object, unknown>; stored: WeakSet<object>; entries: number } | undefined;
const KERNEL_CACHE_ENTRIES = 2 ** 26;

/** Runs `run` with the convolutions' kernels built once instead of per pass (released at its end). */
export function withKernelCache<T>(run: () => T): T {
  if (kernelCache) return run();
  kernelCache = { kernels: new WeakMap(), stored: new WeakSet(), entries: 0 };
  try {
    return run();
  } finally {
    kernelCache = undefined;
  }
}

/** `key`: a spec, or a cached kernel (a kernel built per pass would be a key never seen again). */
function cachedKernel<K extends Kernel | { kernel: Kernel | null }[]>(key: object, build: () => K): K {
  const hit = kernelCache?.kernels.get(key);
  if (hit) return hit as K;
  const built = build();
  if (kernelCache && ('type' in key || kernelCache.stored.has(key))) {
    const list: (Kernel | null)[] = Array.isArray(built) ? built.map((phase) => phase.kernel) : [built as Kernel];
    const entries = list.reduce((sum, k) => sum + (k?.data.length ?? 0), 0);
    if (kernelCache.entries + entries <= KERNEL_CACHE_ENTRIES) {
      kernelCache.kernels.set(key, built);
      if (!Array.isArray(built)) kernelCache.stored.add(built);
      kernelCache.entries += entries;
    }
  }
  return built;
}

function conv(spec: ConvSpec, x: tf.Tensor, b: Float32Array | undefined): tf.Tensor {
  const rank = x.shape.length;
  if (rank === 5) return conv3d(spec, x, b);
  const dims = spec.weight.dims;
  const weight = dims.length === 3 ? { dims: [dims[0], dims[1], 1, dims[2]], data: spec.weight.data } : spec.weight;
  const kernel = cachedKernel(spec, () => dilateKernel(kernelFromCanonical(weight, spec.group), promote(spec.dilations, 1)));
  const begin = promote(spec.padsBegin, 0);
  const end = promote(spec.padsEnd, 0);
  const padded = tf.pad(toNhwc(x, spec.channelsLast), [[0, 0], [begin[0], end[0]], [begin[1], end[1]], [0, 0]]);
  const strides = promote(spec.strides, 1) as [number, number];
  let y = convWithForwardGradient(padded, kernel, strides);
  if (b) y = tf.add(y, tf.tensor1d(b));
  return fromNhwc(y, rank, spec.channelsLast);
}

/**
 * A valid convolution (any strides) whose input gradient is made of forward convolutions, because the
 * wasm backend's Conv2DBackpropInput is 3-7× slower than they are, strided or not (docs/bracket.md#the-graph-executor),
 * and J(x)ᵀu is most of a lower-bound step. Stride 1: the full correlation of dy with the kernel
 * flipped in space and its channels swapped. Stride s: the input gradient's s² stride phases, each
 * the full correlation of dy with its own taps of the flipped kernel (kernel.ts phaseKernels; one conv
 * producing all phases, subPixelKernel, for few input channels), interleaved; rows and columns no
 * output reads stay zero. The kernels are built in JS when the backward pass reaches the node (on
 * wasm, tf.reverse alone takes ~100 ms on a 3×3×512×512 kernel).
 */
function convWithForwardGradient(x: tf.Tensor4D, kernel: Kernel, strides: [number, number]): tf.Tensor4D {
  const inShape = x.shape;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.conv2d(args[0] as tf.Tensor4D, kernelTensor(kernel), strides, 'valid'),
    gradFunc: (dy: tf.Tensor) => inputGradient(dy as tf.Tensor4D, kernel, strides, inShape),
  }));
  return run(x) as tf.Tensor4D;
}

function inputGradient(dy: tf.Tensor4D, kernel: Kernel, strides: [number, number], inShape: number[]): tf.Tensor4D {
  const [n, ho, wo] = dy.shape;
  const [, h, w, cIn] = inShape;
  // Phase rows: s·q + r covers the input's h rows for q < ⌈h / s⌉ (≥ ho).
  const q = [Math.ceil(h / strides[0]), Math.ceil(w / strides[1])];
  const correlate = (phaseKernel: Kernel, taps: number[]) =>
    tf.conv2d(dy, kernelTensor(phaseKernel), 1, [[0, 0], [taps[0] - 1, q[0] - ho], [taps[1] - 1, q[1] - wo], [0, 0]]);
  if (strides[0] === 1 && strides[1] === 1) return correlate(cachedKernel(kernel, () => flipAndSwapKernel(kernel)), kernel.taps);
  const phases =
    cIn < PER_PHASE_MIN_CHANNELS
      ? correlate(cachedKernel(kernel, () => subPixelKernel(kernel, strides)), phaseTaps(kernel.taps, strides))
      : tf.concat(cachedKernel(kernel, () => phaseKernels(kernel, strides)).map(({ kernel: k }) => (k ? correlate(k, k.taps) : tf.zeros([n, q[0], q[1], cIn]))), 3);
  return tf.slice(interleavePhases2d(phases, strides), [0, 0, 0, 0], [n, h, w, cIn]) as tf.Tensor4D;
}

function isDepthwise(spec: ConvSpec): boolean {
  const cIn = spec.weight.dims[1] * spec.group;
  return spec.group > 1 && spec.group === cIn && spec.weight.dims[1] === 1 && spec.weight.dims.length === 4;
}

/** A depthwise 2-D convolution by tf.depthwiseConv2d (filter [kh, kw, c, multiplier], dilation written into it). Forward only. */
function depthwise(spec: ConvSpec, x: tf.Tensor, b: Float32Array | undefined): tf.Tensor {
  const [cOut, , kh, kw] = spec.weight.dims;
  const channels = spec.group;
  const multiplier = cOut / channels;
  const [dh, dw] = [spec.dilations[0] ?? 1, spec.dilations[1] ?? 1];
  const taps = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const data = new Float32Array(taps[0] * taps[1] * cOut);
  for (let o = 0; o < cOut; o++) {
    const c = Math.floor(o / multiplier);
    const j = o % multiplier;
    for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) data[((y * dh * taps[1] + z * dw) * channels + c) * multiplier + j] = spec.weight.data[(o * kh + y) * kw + z];
  }
  const padded = tf.pad(toNhwc(x, spec.channelsLast), [[0, 0], [spec.padsBegin[0], spec.padsEnd[0]], [spec.padsBegin[1], spec.padsEnd[1]], [0, 0]]);
  let y: tf.Tensor4D = tf.depthwiseConv2d(padded, tf.tensor4d(data, [taps[0], taps[1], channels, multiplier]), spec.strides as [number, number], 'valid');
  if (b) y = tf.add(y, tf.tensor1d(b));
  return fromNhwc(y, 4, spec.channelsLast);
}

/**
 * A 3-D convolution as one dense kernel [kd, kh, kw, cIn, cOut]: dilation written into it as zero
 * taps and groups as zero blocks (the same reason as for 2-D: only plain forward kernels and their
 * gradients are needed), run by tf.conv3d on the explicitly padded NDHWC input.
 */
function conv3d(spec: ConvSpec, x: tf.Tensor, b: Float32Array | undefined): tf.Tensor {
  const [cOut, cpg, ...kernel] = spec.weight.dims;
  const group = spec.group || 1;
  const cIn = cpg * group;
  const outPerGroup = cOut / group;
  const taps = kernel.map((k, a) => (k - 1) * (spec.dilations[a] ?? 1) + 1);
  const data = new Float32Array(taps[0] * taps[1] * taps[2] * cIn * cOut);
  for (let o = 0; o < cOut; o++) {
    const g = Math.floor(o / outPerGroup);
    for (let i = 0; i < cpg; i++) {
      for (let d = 0; d < kernel[0]; d++) {
        for (let h = 0; h < kernel[1]; h++) {
          for (let w = 0; w < kernel[2]; w++) {
            const at = [d * spec.dilations[0], h * spec.dilations[1], w * spec.dilations[2]];
            const index = (((at[0] * taps[1] + at[1]) * taps[2] + at[2]) * cIn + g * cpg + i) * cOut + o;
            data[index] = spec.weight.data[(((o * cpg + i) * kernel[0] + d) * kernel[1] + h) * kernel[2] + w];
          }
        }
      }
    }
  }
  const ndhwc = (spec.channelsLast ? x : tf.transpose(x, [0, 2, 3, 4, 1])) as tf.Tensor5D;
  const pads: [number, number][] = [[0, 0], ...spec.padsBegin.map((p, a) => [p, spec.padsEnd[a]] as [number, number]), [0, 0]];
  let y: tf.Tensor5D = tf.conv3d(tf.pad(ndhwc, pads), tf.tensor5d(data, [taps[0], taps[1], taps[2], cIn, cOut]), spec.strides as [number, number, number], 'valid');
  if (b) y = tf.add(y, tf.tensor1d(b));
  return spec.channelsLast ? y : tf.transpose(y, [0, 4, 1, 2, 3]);
}

/** The same ConvTranspose with its dilation written into the kernel as zero taps. */
function undilated(spec: ConvTransposeSpec): ConvTransposeSpec {
  if (spec.dilations.every((d) => d === 1)) return spec;
  const [cIn, cOutPerGroup, ...kernel] = spec.weight.dims;
  const taps = kernel.map((k, a) => (k - 1) * (spec.dilations[a] ?? 1) + 1);
  const tapCount = taps.reduce((p, v) => p * v, 1);
  const kernelCount = kernel.reduce((p, v) => p * v, 1);
  const data = new Float32Array(cIn * cOutPerGroup * tapCount);
  for (let pair = 0; pair < cIn * cOutPerGroup; pair++) {
    for (let t = 0; t < kernelCount; t++) {
      let rest = t;
      let target = 0;
      let stride = 1;
      for (let a = kernel.length - 1; a >= 0; a--) {
        target += (rest % kernel[a]) * (spec.dilations[a] ?? 1) * stride;
        rest = Math.floor(rest / kernel[a]);
        stride *= taps[a];
      }
      data[pair * tapCount + target] = spec.weight.data[pair * kernelCount + t];
    }
  }
  return { ...spec, weight: { dims: [cIn, cOutPerGroup, ...taps], data }, dilations: spec.dilations.map(() => 1) };
}

/**
 * ONNX ConvTranspose: the input with s − 1 zeros between entries, padded by k − 1 − padBegin and
 * k − 1 − padEnd + outputPadding (negative: cropped), correlated with the spatially flipped kernel
 * whose in/out channels are swapped (per group).
 */
function convTranspose(dilatedSpec: ConvTransposeSpec, x: tf.Tensor, outShape: number[], b: Float32Array | undefined): tf.Tensor {
  const spec = undilated(dilatedSpec);
  const rank = x.shape.length;
  const dims = spec.weight.dims;
  const [cIn, cOutPerGroup] = dims;
  const taps = promote(dims.slice(2), 1);
  const group = spec.group;
  const cInPerGroup = cIn / group;
  const cOut = cOutPerGroup * group;
  const tapCount = taps[0] * taps[1];
  const data = new Float32Array(tapCount * cIn * cOut);
  for (let ci = 0; ci < cIn; ci++) {
    const g = Math.floor(ci / cInPerGroup);
    for (let local = 0; local < cOutPerGroup; local++) {
      const co = g * cOutPerGroup + local;
      for (let tap = 0; tap < tapCount; tap++) {
        data[((tapCount - 1 - tap) * cIn + ci) * cOut + co] = spec.weight.data[(ci * cOutPerGroup + local) * tapCount + tap];
      }
    }
  }
  const strides = promote(spec.strides, 1);
  const begin = promote(spec.padsBegin, 0);
  const end = promote(spec.padsEnd, 0);
  const extra = promote(spec.outputPadding, 0);
  let t = toNhwc(x, spec.channelsLast);
  const [n, h, w, c] = t.shape;
  if (strides[0] > 1 || strides[1] > 1) {
    const spread = tf.pad(tf.reshape(t, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, strides[0] - 1], [0, 0], [0, strides[1] - 1], [0, 0]]);
    t = tf.slice(tf.reshape(spread, [n, h * strides[0], w * strides[1], c]), [0, 0, 0, 0], [n, (h - 1) * strides[0] + 1, (w - 1) * strides[1] + 1, c]) as tf.Tensor4D;
  }
  for (let axis = 0; axis < 2; axis++) {
    const before = taps[axis] - 1 - begin[axis];
    const after = taps[axis] - 1 - end[axis] + extra[axis];
    t = padOrCrop(t, axis + 1, before, after);
  }
  let y = convWithForwardGradient(t, { taps, cIn, cOut, data }, [1, 1]);
  if (b) y = tf.add(y, tf.tensor1d(b));
  return tf.reshape(fromNhwc(y, rank, spec.channelsLast), outShape);
}

function padOrCrop(t: tf.Tensor4D, axis: number, before: number, after: number): tf.Tensor4D {
  const pads: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
  pads[axis] = [Math.max(0, before), Math.max(0, after)];
  let y = tf.pad(t, pads);
  if (before < 0 || after < 0) {
    const begin = [0, 0, 0, 0];
    const size = [...y.shape];
    begin[axis] = Math.max(0, -before);
    size[axis] -= Math.max(0, -before) + Math.max(0, -after);
    y = tf.slice(y, begin, size);
  }
  return y;
}

/** Average (padding not counted unless countIncludePad) or max pooling with explicit pads; the end pad grows to give outShape (ceil mode). */
function pool(kind: 'avg' | 'max', channelsLast: boolean, x: tf.Tensor, kernelIn: number[], stridesIn: number[], beginIn: number[], endIn: number[], outShape: number[], countIncludePad: boolean): tf.Tensor {
  const rank = x.shape.length;
  const kernel = promote(kernelIn, 1) as [number, number];
  const strides = promote(stridesIn, 1) as [number, number];
  const begin = promote(beginIn, 0);
  const end = [...promote(endIn, 0)];
  const t = toNhwc(x, channelsLast);
  const outSpatial = promote(channelsLast ? outShape.slice(1, -1) : outShape.slice(2), 1);
  for (let axis = 0; axis < 2; axis++) {
    const needed = (outSpatial[axis] - 1) * strides[axis] + kernel[axis] - (t.shape[axis + 1] + begin[axis]);
    end[axis] = Math.max(end[axis], needed);
  }
  const pads: [number, number][] = [[0, 0], [begin[0], end[0]], [begin[1], end[1]], [0, 0]];
  let y: tf.Tensor4D;
  if (kind === 'max') {
    y = tf.maxPool(tf.pad(t, pads, -3.4e38), kernel, strides, 'valid');
  } else {
    const sums = tf.mul(tf.avgPool(tf.pad(t, pads), kernel, strides, 'valid'), kernel[0] * kernel[1]);
    if (countIncludePad) {
      // Counted padding is the explicit pads only (endIn), not the ceil-mode overhang.
      const explicitEnd = promote(endIn, 0);
      const counted = tf.ones([1, t.shape[1] + begin[0] + explicitEnd[0], t.shape[2] + begin[1] + explicitEnd[1], 1]);
      const overhang: [number, number][] = [[0, 0], [0, end[0] - explicitEnd[0]], [0, end[1] - explicitEnd[1]], [0, 0]];
      const counts = tf.mul(tf.avgPool(tf.pad(counted, overhang) as tf.Tensor4D, kernel, strides, 'valid'), kernel[0] * kernel[1]);
      y = tf.div(sums, counts) as tf.Tensor4D;
    } else {
      const counts = tf.mul(tf.avgPool(tf.pad(tf.ones([1, t.shape[1], t.shape[2], 1]), pads) as tf.Tensor4D, kernel, strides, 'valid'), kernel[0] * kernel[1]);
      y = tf.div(sums, counts) as tf.Tensor4D;
    }
  }
  return tf.reshape(fromNhwc(y, rank, channelsLast), outShape);
}
