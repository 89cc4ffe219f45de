// The report: what the CLI prints with --json and everything the UI shows.
// Every field is documented in docs/report.md; fields keep their names and meanings, and may be added.

export type ModelFormat = 'onnx' | 'tfjs-layers' | 'tfjs-graph';

/**
 * What a row is:
 * - `linear`: a weighted linear layer (conv, dense, conv-transpose) whose σ the engine computed.
 * - `pool`: average / global average pooling (linear, computed or closed form), max pooling (fixed).
 * - `normalization`: batch norm at inference (a diagonal map).
 * - `activation`: a pointwise non-linearity with a fixed constant.
 * - `structural`: reshape, flatten, transpose, pad, dropout, ... (constant 1 or a closed form).
 * - `merge`: add, concat, ... (composed by the graph rule, not multiplied).
 * - `unbounded`: an op that is not globally Lipschitz (attention, layer norm, x*y).
 * - `unsupported`: an op the engine does not understand; the bound through it is invalid.
 */
export type LayerKind =
  | 'linear'
  | 'pool'
  | 'normalization'
  | 'activation'
  | 'structural'
  | 'merge'
  | 'unbounded'
  | 'unsupported';

export interface LayerResult {
  /** ONNX node name (or its first output's name when unnamed); TF.js layer or node name. */
  name: string;
  /** The op type as the file spells it: Conv, Gemm, MatMul, Conv2D, _FusedConv2D, Dense, ... */
  op: string;
  kind: LayerKind;
  /** Shape of the layer's weight as stored in the file, or null for unweighted rows. */
  weightShape: number[] | null;
  /** Real input shape the layer sees (the file's own layout). */
  inputShape: number[];
  outputShape: number[];
  /** Operator 2-norm of the layer's own map on its input shape (a fixed constant for non-linear rows). Null when invalid. */
  sigma: number | null;
  /** A certified upper bound on sigma, or null when none is available. */
  upperBound: number | null;
  /** A certified lower bound on sigma, when the method proves one ('exact-dense', 'symbol-sup'). */
  lowerBound?: number | null;
  /** Solver iterations (matrix-vector product pairs); 0 for closed forms. */
  iterations: number;
  converged: boolean;
  seconds: number;
  /** ||AᵀA v - σ² v|| / σ² at the returned vector: small means the estimate sits on a singular pair. */
  residual?: number | null;
  /** Solver that produced sigma: 'lanczos', 'power', 'closed-form', 'exact-dense', 'symbol-sup' (docs/report.md). */
  method?: string;
  /** Graph-aware bound from the network input to this layer's output, when known. */
  runningBound?: number | null;
  /** Why a row is unbounded, unsupported or invalid, or other caveats. */
  note?: string;
  /**
   * On a convolution followed by a batch norm: σ (and certified bound) of the convolution with the
   * batch norm folded in. The network bound uses it, and counts the batch norm as 1.
   */
  foldedSigma?: number | null;
  foldedUpperBound?: number | null;
  /** Index of the layer in the model's own listing (model.json layer or ONNX node), for reveal-in-editor. */
  sourceIndex?: number;
}

export interface UnsupportedOp {
  name: string;
  op: string;
}

export interface NetworkBounds {
  /** Graph-aware composition of all per-layer constants (a product along a chain). Null when unbounded or invalid. */
  product: number | null;
  /** The same composition from certified upper bounds; null when any layer lacks one. */
  certified: number | null;
  unsupported: UnsupportedOp[];
  /** Ops that make the network not globally Lipschitz, with the reason. */
  unbounded?: { name: string; op: string; reason: string }[];
  /** Layers whose weights hold NaN or Inf: the bound through them is invalid. */
  invalid?: { name: string; op: string; reason: string }[];
  /**
   * MEASURED lower bound on the network's Lipschitz constant (docs/bracket.md): the best difference
   * quotient ||f(a) − f(b)|| / ||a − b|| the search found, ≤ L up to float32 rounding. Not certified.
   * Present only when the bracket ran; null when the graph executor cannot run the model.
   */
  lower?: number | null;
  /**
   * CERTIFIED upper bound, the tighter of `certified` (the per-layer composition, unchanged) and
   * the activation-midpoint expansion of docs/bracket.md. Present only when the bracket ran.
   */
  certifiedTight?: number | null;
  /** How both sides of the bracket were found, and its width. */
  bracket?: BracketDetail;
  /** Present when the bounds hold only for inputs in this box (--input-range), not for all inputs. */
  domain?: { inputRange: [number, number] };
  /** Present when the bounds used the ranges given for inputs held fixed: they hold for fixed values in these boxes. */
  fixedInputRanges?: Record<string, [number, number]>;
}

/** The bracket L ∈ [lower, certifiedTight] (docs/bracket.md). */
export interface BracketDetail {
  /** certifiedTight / lower: how far apart the two sides are (null when either is missing). */
  width: number | null;
  lower: {
    /** Why there is no lower bound, when there is none: an op the executor cannot run, or the time budget ending before the first pair. */
    unavailable?: string;
    /** Which search stage found the best pair: 'sample', 'singular-direction' or 'ascent'. */
    foundBy?: string;
    /** Largest local Jacobian norm ||J(x)v||/||v|| the power iteration saw (an estimate). */
    jacobianNorm?: number;
    /** Distance between the two inputs of the best pair. */
    distance?: number;
    inputRange: [number, number];
    /** Random samples plus given ones (--samples) tried. */
    samples: number;
    evaluations?: number;
    /** The search stopped on its time budget (the numbers then depend on the machine's speed). */
    timedOut?: boolean;
    /**
     * With timedOut: how the budget ended the search (a step whose estimated cost did not fit what was
     * left, or a pass stopped part-way) and the steps not run (docs/bracket.md#time-budgets).
     */
    timedOutReason?: string;
  };
  upper: {
    /** The expansion's own certified bound (null: unbounded or invalid). */
    expansion: number | null;
    /** Chains expanded, largest gain (product / bound) first: where the product was loosest. */
    chains: { from: string; to: string; groups: number; product: number; bound: number; directProducts: number; circularProducts?: number }[];
    /** The expansion stopped on its time budget: the remaining partial products used splits. */
    timedOut?: boolean;
  };
}

export interface ModelInfo {
  path: string;
  format: ModelFormat;
  inputShape: number[];
  producer?: string;
  producerVersion?: string;
  opset?: number;
  inputs?: { name: string; shape: (number | string)[] }[];
  outputs?: { name: string; shape: (number | string)[] }[];
  nodeCount?: number;
  parameterCount?: number;
  /** The input the bound is taken with respect to; the others are held fixed. */
  signalInput?: string;
  /** The values the network bound is taken to (the graph's outputs, or those chosen with --output). */
  outputsUsed?: string[];
}

export interface Report {
  model: ModelInfo;
  layers: LayerResult[];
  bounds: NetworkBounds;
  seconds: number;
  /** Engine settings used, for reproducibility. */
  settings?: EstimateSettings;
  backend?: string;
  warnings?: string[];
  /** True on a run stopped before every layer was done: `layers` holds the finished ones, the bounds are null. */
  cancelled?: boolean;
  /** Seconds each side of the bracket took (kept out of `bounds`, which is reproducible). */
  bracketSeconds?: { lower: number; upper: number };
}

export type SolverMethod = 'lanczos' | 'power';

export interface EstimateSettings {
  /** Target relative accuracy on sigma. */
  tol: number;
  maxIter: number;
  seed: number;
  method: SolverMethod;
  /** Override of the signal input's shape (the file's own layout), or undefined. */
  inputShape?: number[];
  /** The input the bound is taken with respect to (default: the first floating-point input). */
  input?: string;
  /** Shapes of other named inputs (held fixed), by name. */
  inputShapes?: Record<string, number[]>;
  /** Fixed values of scalar control inputs, by name (so that control flow on them folds). */
  inputValues?: Record<string, number>;
  /** Bound the sub-network from the signal input to these values only (default: every graph output). */
  outputs?: string[];
  /**
   * Layers solved at once, each on its own worker thread; 0 or absent: one per core (at most 3),
   * when the model is large enough to repay starting them; 1: all in the session's thread. The
   * numbers do not depend on it.
   */
  threads?: number;
  /**
   * The bracket (docs/bracket.md): 'on' runs it, 'auto' runs it when the model is small enough for
   * it to cost little, 'off' or absent never.
   */
  bracket?: 'on' | 'auto' | 'off';
  /**
   * The signal input lies in [lo, hi] entrywise (--input-range). Given: products of factors bounded
   * on that box get a bound valid there (bounds.domain says so), and the bracket's lower-bound search
   * draws its inputs from it. Absent: bounds hold for all inputs, and the search uses [0, 1].
   */
  inputRange?: [number, number];
  /**
   * Ranges of named inputs (--input-range NAME=LO,HI). An input held fixed is then any value in its
   * box (what depends on it, a recurrent cell's initial state, is bounded for all such values,
   * bounds.fixedInputRanges says so); the signal input's named range is its box, as inputRange.
   */
  inputRanges?: Record<string, [number, number]>;
  /**
   * Custom Keras layer classes declared by the user (--custom-layer CLASS=DECLARATION, setting
   * lipschitzLens.customLayers): what the class computes, which the file does not say.
   */
  customLayers?: Record<string, string>;
}

export const DEFAULT_SETTINGS: EstimateSettings = {
  tol: 1e-4,
  maxIter: 300,
  seed: 0,
  method: 'lanczos',
};
