// Format-neutral model IR. Loaders (src/formats) produce it with concrete shapes already inferred;
// the analysis and the engine consume it. Canonical tensors are float32 and channels-first.

import type { LayerKind, ModelFormat } from '../protocol/report';

/** A weight decoded to float32. `dims` are the canonical dims stated per spec below. */
export interface WeightTensor {
  dims: number[];
  data: Float32Array;
}

/** Convolution (1-D, 2-D or 3-D). Weight canonical layout: [cOut, cIn / group, ...kernel]. */
export interface ConvSpec {
  type: 'conv';
  /** True when the node's tensors are N, spatial..., C (TF.js NHWC); false for N, C, spatial... */
  channelsLast: boolean;
  weight: WeightTensor;
  strides: number[];
  dilations: number[];
  /** Explicit zero padding per spatial axis (SAME_* already resolved by the loader for the real input). */
  padsBegin: number[];
  padsEnd: number[];
  group: number;
}

/** Transposed convolution. Weight canonical layout (ONNX's): [cIn, cOut / group, ...kernel]. */
export interface ConvTransposeSpec {
  type: 'convTranspose';
  channelsLast: boolean;
  weight: WeightTensor;
  strides: number[];
  dilations: number[];
  /** Pads as ONNX defines them for ConvTranspose (cropped from the full output). */
  padsBegin: number[];
  padsEnd: number[];
  outputPadding: number[];
  group: number;
}

/** Dense map on the last axis: y[..., o] = Σ_i x[..., i] W[i, o]. Weight canonical layout: [in, out]. */
export interface DenseSpec {
  type: 'dense';
  weight: WeightTensor;
  /**
   * The input axis the map contracts, when not the last (a constant left operand A·X contracts the
   * second-to-last; an Einsum any one axis). The map is still I ⊗ W up to a permutation: same σ.
   * The output has the out features in place of that axis, unless `outputPerm` reorders it.
   */
  axis?: number;
  /**
   * The output's axes when the map's output is then permuted (an Einsum "bij,jk->bki"): output axis
   * k is axis outputPerm[k] of the in-place product, as tf.transpose's perm. σ is unchanged.
   */
  outputPerm?: number[];
}

/** Elementwise multiplication by constants broadcast along one axis (batch norm at inference, Mul by a constant). */
export interface DiagonalSpec {
  type: 'diagonal';
  /** One multiplier per index of `axis` (length 1 for a scalar). */
  scale: Float32Array;
  /** The axis of the node's input the multipliers run along (in the node's own layout), or -1 for a scalar. */
  axis: number;
}

export interface AvgPoolSpec {
  type: 'avgPool';
  channelsLast: boolean;
  kernel: number[];
  strides: number[];
  padsBegin: number[];
  padsEnd: number[];
  /** ONNX count_include_pad; TF.js and Keras pools never count the padding. */
  countIncludePad: boolean;
}

export interface GlobalAvgPoolSpec {
  type: 'globalAvgPool';
  channelsLast: boolean;
}

export interface MaxPoolSpec {
  type: 'maxPool';
  channelsLast: boolean;
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
}

/** Mean over some axes (linear): constant 1 / sqrt(number of averaged elements). */
export interface ReduceMeanSpec {
  type: 'reduceMean';
  axes: number[];
}

/**
 * What a row does to the values of its input, entry by entry, where the value-range and gated-product
 * analyses need it (docs/op-coverage.md). Absent: nothing is known (the output range is unbounded).
 * - select: every output entry is an input entry (reshape, transpose, slice, nearest resize), or 0 with `zero` (zero padding);
 * - affine: y = s·x + t entrywise with s in `scale` and t in `shift` ([a, a] when uniform: then exactly pointwise);
 * - clip: y = min(max(x, min), max) (ReLU is clip(0, ∞), ReLU6 clip(0, 6));
 * - sigmoid, tanh, hardSigmoid (clip(αx + β, 0, 1)): exactly these pointwise maps;
 * - bounded: only that every output lies in [min, max] (softmax, softsign, erf);
 * - geluTanh: scale·G(k·x) + shift with G GELU's tanh approximation (written out, as in MAXIM).
 */
export type ValueMap =
  | { kind: 'select'; zero?: boolean }
  | { kind: 'affine'; scale: [number, number]; shift: [number, number] }
  | { kind: 'clip'; min: number; max: number }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'hardSigmoid'; alpha: number; beta: number }
  | { kind: 'bounded'; min: number; max: number }
  /** scale·G(k·x) + shift, G GELU's tanh approximation (src/analysis/written-activations.ts). */
  | { kind: 'geluTanh'; scale: number; k: number; shift: number };

/** A map with a known, fixed Lipschitz constant (activations, reshape, pad, dropout, ...). */
export interface FixedSpec {
  type: 'fixed';
  kind: Extract<LayerKind, 'activation' | 'structural' | 'pool'>;
  constant: number;
  /** Human-readable origin of the constant, e.g. "LeakyReLU(0.2): max(1, |α|)". */
  detail?: string;
  /** What the map does to values, where known (ranges and gated products, docs/op-coverage.md). */
  values?: ValueMap;
}

/**
 * Elementwise sum or difference of its dynamic inputs (constant operands are shifts and are dropped).
 * With `weights`, input i's bound counts `weights[i]` times (a broadcast input copied c times counts √c;
 * a product of two bounded factors a·b counts sup|b|·√copies for a and sup|a|·√copies for b).
 */
export interface AddSpec {
  type: 'add';
  /** −1 for a subtracted input (only value ranges care); default all +1. */
  signs?: number[];
  weights?: number[];
  /** Why the weights are what they are (the row's note). */
  detail?: string;
  /** Set on a product whose factor ranges hold only for inputs in the model's domain (IrModel.domain). */
  domain?: true;
}

/** Concatenation of its dynamic inputs along `axis`. */
export interface ConcatSpec {
  type: 'concat';
  axis: number;
}

/** Not globally Lipschitz: attention (x·y), layer norm, division by an activation, ... */
export interface UnboundedSpec {
  type: 'unbounded';
  reason: string;
  /**
   * An elementwise product of its two data inputs (broadcasting allowed). The shared pass in
   * src/analysis/products.ts turns it into an activation (x·gate(x)) or a weighted sum (both factors
   * bounded) where it can, and otherwise leaves it unbounded with a reason naming the unbounded factor.
   */
  product?: true;
  /**
   * A MatMul of two data tensors (batched, numpy broadcasting): the same pass bounds it from the
   * factors' ranges, L(AB) ≤ sup‖B‖·L_A + sup‖A‖·L_B (docs/op-coverage.md, "Products of two data
   * matrices"), or leaves it unbounded naming the factor without a range.
   */
  matmul?: true;
  /**
   * How a `matmul` row multiplies, where not plainly A·B: operands transposed first (TF.js adj_x /
   * adj_y, transpose_a / transpose_b; ONNX Gemm transA / transB), a scalar factor (Gemm's alpha) and
   * the smallest and largest entries of a constant added after (Gemm's β·C).
   */
  matmulForm?: { transposeA?: boolean; transposeB?: boolean; scale?: number; shift?: [number, number] };
  /** x^power for a constant exponent (the written-out normalisations square their input). */
  power?: number;
  /** c / x for a uniform constant c (rsqrt written as 1 / √·). */
  numerator?: number;
  /**
   * A recurrent cell whose initial state is a data value: its bound needs that state's range, which
   * the shared pass finds (an input held fixed with --input-range NAME=LO,HI) or names as missing.
   */
  recurrent?: RecurrentCell;
}

/** What the shared pass needs to bound a recurrent cell once its initial state's range is known (src/analysis/recurrent.ts). */
export interface RecurrentCell {
  kind: 'LSTM' | 'GRU' | 'RNN';
  steps: number;
  /** Per direction, the gate norms (src/analysis/recurrent.ts LstmNorms / GruNorms without the state's size). */
  directions: RecurrentDirection[];
  /** The data value the bound grows with (an LSTM's c₀, a GRU's h₀); absent when the constant does not depend on one. */
  state?: string;
  /** The constant when it does not depend on a data state (RNN, or constant states). */
  constant?: number;
  /** Data initial states, which must not depend on the signal for the bound to hold. */
  fixedStates: string[];
  /** The row's note once bounded. */
  detail: string;
}

export type RecurrentDirection =
  | { kind: 'LSTM'; w: { i: number; o: number; f: number; c: number }; r: { i: number; o: number; f: number; c: number }; p: { i: number; o: number; f: number } }
  | { kind: 'GRU'; w: { z: number; r: number; h: number }; r: { z: number; r: number; h: number }; linearBeforeReset: boolean; rowSum: number; recurrentBias: number };

/** An op the engine does not understand: the bound through it is invalid. */
export interface UnsupportedSpec {
  type: 'unsupported';
  detail?: string;
}

export type OpSpec =
  | ConvSpec
  | ConvTransposeSpec
  | DenseSpec
  | DiagonalSpec
  | AvgPoolSpec
  | GlobalAvgPoolSpec
  | MaxPoolSpec
  | ReduceMeanSpec
  | FixedSpec
  | AddSpec
  | ConcatSpec
  | UnboundedSpec
  | UnsupportedSpec;

/**
 * What the graph executor (src/engine/executor, docs/bracket.md) needs beyond `spec` to run a node
 * forward: the constants the analysis drops (biases, shifts) and which map a fixed constant stands
 * for. Loaders set it only where they know the node's exact semantics; a node without it is one the
 * executor refuses to run (it never guesses).
 * - `affine`: conv, conv-transpose, dense: `bias` per output channel (or feature); diagonal: `bias`
 *   is the shift added along the spec's axis (batch norm's β − mean·scale). Absent bias: none.
 * - `activation`: the pointwise map `name` (ActivationName of analysis/constants.ts), with its
 *   parameters; `operand`: a broadcast constant (PReLU slopes, a scale, a clamp bound).
 * - `reshape`: the output is the input reshaped to outputShapes[0] (flatten, squeeze, identity, ...).
 * - `transpose`, `pad` (constant value), `shift` (x + c, x − c or c − x for a broadcast constant c),
 * - `sum`: the data inputs added with these signs (Add, Sub).
 * - `upsample`: nearest-neighbour upsampling of the two spatial axes by integer factors.
 * - `axisMatrices`: a separable linear map (ONNX Resize): per input axis, the outLength × inLength
 *   row-major matrix applied along it, or null where the axis is unchanged.
 * - `spec`: the spec alone says everything (pools, reduce mean, concat).
 * - `product`: an elementwise product of two data values, see below.
 */
export type NodeExecution =
  | { kind: 'affine'; bias?: Float32Array }
  | { kind: 'activation'; name: string; alpha?: number; beta?: number; min?: number; max?: number; axis?: number; operand?: WeightTensor }
  | { kind: 'reshape' }
  | { kind: 'transpose'; perm: number[] }
  | { kind: 'pad'; begin: number[]; end: number[]; value: number }
  | { kind: 'shift'; constant: WeightTensor; sign: 1 | -1; constantSign: 1 | -1 }
  | { kind: 'sum'; signs: number[] }
  | { kind: 'upsample'; factors: number[]; channelsLast: boolean }
  | { kind: 'axisMatrices'; matrices: (Float32Array | null)[] }
  | { kind: 'spec' }
  /**
   * `product`: scale·a·b of two data values, elementwise (a Mul the product pass resolved). The
   * node's `inputs` may then name only the factors' common origin (for the bound); `factors` are
   * what the executor multiplies, and `scale` is a following scalar multiply counted in this row.
   */
  | { kind: 'product'; factors: [string, string]; scale: number }
  /** scale·op(A)·op(B) (+ shift, broadcast) of the node's two data inputs, batched (numpy matmul); op transposes the last two axes. */
  | { kind: 'matmul'; transposeA: boolean; transposeB: boolean; scale: number; shift?: WeightTensor }
  /**
   * A normalisation (docs/bracket.md, "Executed normalisations"): y = x, or x − mean(x) with
   * `centred`, over `axes` (after splitting axis 1 into `groups` when given); h = outer(√(inner(c·Σy²)))
   * with each ε step adding or clamping from below; out = scale·y/h, then ·gamma + beta (broadcast).
   */
  | { kind: 'normalise'; axes: number[]; centred: boolean; c: number; inner?: EpsilonStep; outer?: EpsilonStep; scale: number; groups?: number; gamma?: WeightTensor; beta?: WeightTensor }
  /** √(a² + b² + … + epsilon) entrywise of the node's inputs. */
  | { kind: 'modulus'; epsilon: number }
  /** x^exponent entrywise for a constant exponent, broadcast (ONNX Pow), then reshaped to outputShapes[0]. */
  | { kind: 'power'; exponent: WeightTensor }
  /** Along each input axis, the listed indices (null: all), a cartesian selection; then reshaped to outputShapes[0]. `rank` promotes the input first (leading 1s). */
  | { kind: 'select'; perAxis: (number[] | null)[]; rank?: number }
  /** GatherNd: the input reshaped to [product of its first `depth` axes, rest], these rows taken, reshaped to outputShapes[0]. */
  | { kind: 'gatherNd'; depth: number; rows: number[] }
  /** Consecutive parts of `sizes` along `axis`, one per output, each reshaped to its output shape. */
  | { kind: 'split'; axis: number; sizes: number[] }
  /** The inputs stacked along a new `axis` (TF Pack). */
  | { kind: 'stack'; axis: number }
  /** A max, min or sum over `axes`, reshaped to outputShapes[0]. */
  | { kind: 'reduce'; op: 'max' | 'min' | 'sum'; axes: number[] }
  /** Reflect (no edge repeat) or symmetric (edge repeated) padding. */
  | { kind: 'mirrorPad'; begin: number[]; end: number[]; mode: 'reflect' | 'symmetric' }
  /** TF DepthToSpace (or SpaceToDepth with `inverse`) on NHWC, DCR order: blocks of block×block channels to space. */
  | { kind: 'depthToSpace'; block: number; inverse: boolean }
  /** TF SpaceToBatchND (pads, then blocks to the batch) or BatchToSpaceND (`inverse`: back, then crops), on N, spatial…, C. */
  | { kind: 'spaceToBatch'; block: number[]; pads: [number, number][]; inverse: boolean };

/** One ε step of a normalisation's denominator: add ε, or clamp from below at ε. */
export interface EpsilonStep {
  kind: 'add' | 'max';
  epsilon: number;
}

/** Specs whose σ the engine computes with a matrix-free solver. */
export type LinearSpec = ConvSpec | ConvTransposeSpec | DenseSpec | AvgPoolSpec;

export interface IrNode {
  /** Report name: ONNX node name (or its first output's name), TF.js layer or node name. */
  name: string;
  /** Op type as the file spells it. */
  op: string;
  /** Dynamic (data-flow) input value names; weights and constant operands live in `spec`. */
  inputs: string[];
  outputs: string[];
  /** Concrete shapes of `inputs` / `outputs`, in the node's own layout, batch included. */
  inputShapes: number[][];
  outputShapes: number[][];
  spec: OpSpec;
  /** The weight's shape as stored in the file, or null. */
  weightShape: number[] | null;
  /** Index in the file's own listing (model.json layer / node order, ONNX node order). */
  sourceIndex?: number;
  /** How to run the node forward (the graph executor); absent: not executable. */
  execution?: NodeExecution;
}

export interface IrValueInfo {
  name: string;
  /** Concrete shape used for the analysis. */
  shape: number[];
  /** Shape as declared in the file (symbolic dims as strings, unknown as '?'). */
  declaredShape: (number | string)[];
}

export interface IrModel {
  format: ModelFormat;
  path: string;
  inputs: IrValueInfo[];
  /** Graph output value names (after `--output`, the chosen ones: the bound is taken to these). */
  outputs: string[];
  /** The input the bound is taken with respect to (inputs[0] after selection); the others are held fixed. */
  signalInput?: string;
  /** Set when outputs were chosen: the values the sub-network was cut to. */
  outputsChosen?: boolean;
  /** Nodes in topological order. */
  nodes: IrNode[];
  /** Set when the bound is taken on a box of inputs (--input-range), not on all of ℝⁿ (docs/op-coverage.md). */
  domain?: { inputRange: [number, number] };
  /** Ranges given for inputs held fixed (--input-range NAME=LO,HI): bounds that used them hold for such values. */
  fixedInputRanges?: Record<string, [number, number]>;
  metadata: {
    producer?: string;
    producerVersion?: string;
    opset?: number;
    nodeCount: number;
    parameterCount: number;
    outputShapes?: { name: string; shape: (number | string)[] }[];
  };
  warnings: string[];
}
