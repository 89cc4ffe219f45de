// Planning an estimate: what each node's row is, which rows have a closed form, which linear layers
// need a solver and on what (reduced) problem, in which order, what each costs, and which layers
// are refused before any solving. Everything here is decided from the model alone, before any
// product is taken, so an estimate of the run's time or a different refusal rule plugs in here.

import type { ConvSpec, IrModel, IrNode, LinearSpec, OpSpec } from '../model/ir';
import type { LayerKind } from '../protocol/report';
import type { PlannedLayer } from '../protocol/messages';
import { findBatchNormFolds, type BatchNormFold } from '../analysis/fold';
import { reduceLinearProblem, type LinearProblem } from './operators';

const LINEAR_TYPES = new Set<OpSpec['type']>(['conv', 'convTranspose', 'dense', 'avgPool']);

export function isLinearSpec(spec: OpSpec): spec is LinearSpec {
  return LINEAR_TYPES.has(spec.type);
}

export function kindOf(node: IrNode): LayerKind {
  const spec = node.spec;
  switch (spec.type) {
    case 'conv':
    case 'convTranspose':
    case 'dense':
      return 'linear';
    case 'avgPool':
    case 'globalAvgPool':
    case 'maxPool':
    case 'reduceMean':
      return 'pool';
    case 'diagonal':
      return /norm/i.test(node.op) ? 'normalization' : 'structural';
    case 'fixed':
      return spec.kind;
    case 'add':
    case 'concat':
      return 'merge';
    case 'unbounded':
      return 'unbounded';
    case 'unsupported':
      return 'unsupported';
  }
}

export function planLayers(model: IrModel): PlannedLayer[] {
  return model.nodes.map((node, index) => ({
    index,
    name: node.name,
    op: node.op,
    kind: kindOf(node),
    weightShape: node.weightShape,
    inputShape: node.inputShapes[0] ?? [],
    outputShape: node.outputShapes[0] ?? [],
    ...(node.sourceIndex !== undefined ? { sourceIndex: node.sourceIndex } : {}),
    ...(node.outputs.length > 0 ? { outputs: [...node.outputs] } : {}),
  }));
}

/** One linear layer for the solver. */
export interface LinearTask {
  index: number;
  node: IrNode;
  spec: LinearSpec;
  /**
   * The smallest problem with the same σ1 (1x1 convolutions: the channel matrix), on which the
   * solver and the bound work; it also lets identical maps at different input sizes share a solve.
   */
  problem: LinearProblem;
  /** Relative cost of solving it (the scheduling order): the reduced problem's size. */
  cost: number;
  /** Why the layer is not solved at all (its row and the bound through it are invalid), if so. */
  refusal?: string;
  /** The batch norm folded into this convolution for the bound, if any. */
  fold?: BatchNormFold;
}

export interface EstimatePlan {
  model: IrModel;
  /** One row per node, in model order: the row's fixed fields. */
  rows: PlannedLayer[];
  /** Nodes with a closed form (every non-linear node), in model order. */
  closedForms: number[];
  /** Linear layers, cheapest first. */
  linear: LinearTask[];
  /** Diagonal node index → the convolution it is folded into (the bound counts it as 1). */
  foldedInto: Map<number, number>;
}

export function planEstimate(model: IrModel): EstimatePlan {
  // Batch norms folded into the convolution before them (the bound uses the folded layer).
  const folds = findBatchNormFolds(model);
  const closedForms: number[] = [];
  const linear: LinearTask[] = [];
  model.nodes.forEach((node, index) => {
    if (!isLinearSpec(node.spec)) {
      closedForms.push(index);
      return;
    }
    const spec = node.spec;
    const problem = reduceLinearProblem(spec, node.inputShapes[0]);
    const refusal = refusalOf(spec, node, problem);
    const fold = folds.get(index);
    linear.push({
      index,
      node,
      spec,
      problem,
      // Reduced problems cost what the smaller problem costs: 1x1 convolutions (tiny channel
      // matrices) come first, a dilated conv counts on its sub-lattice.
      cost: problem.reduction && problem.spec.type === 'conv' ? reducedConvCost(problem.spec, problem.inputShape) : costOf(node),
      ...(refusal ? { refusal } : {}),
      ...(fold ? { fold } : {}),
    });
  });
  // Cheapest first so results stream from the start (a stable sort: ties keep model order).
  linear.sort((a, b) => a.cost - b.cost);
  return {
    model,
    rows: planLayers(model),
    closedForms,
    linear,
    foldedInto: new Map([...folds].map(([conv, fold]) => [fold.diagonalIndex, conv])),
  };
}

/** Multiply-adds of one forward product over all linear layers: a rough measure of the run's work. */
export function linearWork(model: IrModel): number {
  return model.nodes.reduce((sum, node) => sum + (isLinearSpec(node.spec) ? costOf(node) : 0), 0);
}

/** The multiply-adds of the costliest linear layer's forward pass. */
export function largestLayerWork(model: IrModel): number {
  return model.nodes.reduce((largest, node) => Math.max(largest, isLinearSpec(node.spec) ? costOf(node) : 0), 0);
}

/** Multiply-adds of a reduced conv problem, about: its weights times its input positions. */
function reducedConvCost(spec: ConvSpec, inputShape: number[]): number {
  const rank = spec.weight.dims.length - 2;
  const spatial = spec.channelsLast ? inputShape.slice(1, 1 + rank) : inputShape.slice(2);
  return spec.weight.data.length * elementsOf(spatial);
}

function costOf(node: IrNode): number {
  const spec = node.spec;
  const inputSize = (node.inputShapes[0] ?? []).reduce((a, b) => a * b, 1);
  const outputSize = (node.outputShapes[0] ?? []).reduce((a, b) => a * b, 1);
  if (spec.type === 'conv' || spec.type === 'convTranspose') {
    const taps = spec.weight.dims.slice(2).reduce((a, b) => a * b, 1);
    const perPosition = spec.weight.dims[0] * spec.weight.dims[1] * taps;
    const positions = spec.type === 'conv' ? outputSize / spec.weight.dims[0] : inputSize / spec.weight.dims[0];
    return perPosition * positions;
  }
  if (spec.type === 'dense') return spec.weight.data.length;
  return inputSize + outputSize;
}

/** Why a layer cannot be solved: weights that are not finite numbers, or vectors too large for memory. */
function refusalOf(spec: LinearSpec, node: IrNode, problem: LinearProblem): string | undefined {
  const bad = nonFiniteWeight(spec);
  if (bad) return bad;
  const values = Math.max(elementsOf(problem.inputShape) + (problem.reduction ? reducedOutputValues(problem) : elementsOf(node.outputShapes[0] ?? [])), workingValues(problem.spec, problem.inputShape));
  if (values > MAX_SOLVER_VALUES) return `too large to estimate in memory (${values.toExponential(2)} values in and out)`;
  return undefined;
}

/** About the output values of a reduced problem: a stride-1 conv's outputs per input position times its positions. */
function reducedOutputValues(problem: LinearProblem): number {
  if (problem.spec.type !== 'conv') return 0;
  const [cOut, cInPerGroup] = problem.spec.weight.dims;
  return (elementsOf(problem.inputShape) / (cInPerGroup * (problem.spec.group || 1))) * cOut;
}

/** Input plus output values past which a layer's vectors cannot fit the wasm heap (4 GiB) with the solver's. */
const MAX_SOLVER_VALUES = 2 ** 28;

function elementsOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The padded input a convolution or pool builds: huge pads (SAME with a huge dilation) make it enormous. */
function workingValues(spec: LinearSpec, inputShape: readonly number[]): number {
  if (spec.type === 'dense') return 0;
  const rank = spec.padsBegin.length;
  const spatial = spec.channelsLast ? inputShape.slice(1, 1 + rank) : inputShape.slice(inputShape.length - rank);
  const rest = elementsOf(inputShape) / Math.max(1, elementsOf(spatial));
  return rest * spatial.reduce((a, d, i) => a * (d + Math.max(0, spec.padsBegin[i] ?? 0) + Math.max(0, spec.padsEnd[i] ?? 0)), 1);
}

/** ‖W‖_F·sqrt(taps) bounds σ; past this the solver's float32 products of AᵀA would overflow. */
const FLOAT32_SAFE_SIGMA = 1e18;

function nonFiniteWeight(spec: LinearSpec): string | undefined {
  if (spec.type === 'avgPool') return undefined;
  const data = spec.weight.data;
  let squares = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) return `weight holds ${Number.isNaN(data[i]) ? 'NaN' : 'Inf'} values (first at element ${i})`;
    squares += data[i] * data[i];
  }
  // Finite but huge weights (a flipped exponent bit) overflow float32 in the solver: invalid too.
  const taps = spec.type === 'dense' ? 1 : spec.weight.dims.slice(2).reduce((a, b) => a * b, 1);
  const bound = Math.sqrt(squares * taps);
  if (!(bound <= FLOAT32_SAFE_SIGMA)) return `weight is too large for float32 arithmetic (Frobenius norm ${bound.toExponential(2)})`;
  return undefined;
}
