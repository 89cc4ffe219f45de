// Runs the whole estimate on an IR model: closed forms at once, then every linear layer through a
// matrix-free solver (cheapest first, identical layers computed once), streaming one result per
// layer, then the graph-aware network bound from the estimates and from the certified bounds.

import type { IrModel, IrNode, LinearSpec, OpSpec } from '../model/ir';
import type { EstimateSettings, LayerKind, LayerResult, NetworkBounds } from '../protocol/report';
import type { PlannedLayer } from '../protocol/messages';
import { closedForm } from '../analysis/closed-form';
import { compose } from '../analysis/compose';
import { findBatchNormFolds } from '../analysis/fold';
import { foldScaleIntoConv, reduceLinearProblem } from './operators';
import { CancelledError } from './operator';
import { solveLinearProblem, type LinearProblem, type SolvedLayer, type SolveOutcome, type SolverSettings } from './solve-layer';

export interface EstimateHooks {
  onLayer?(index: number, layer: LayerResult, done: number, total: number): void;
  /** Polled between solver products: true cancels (CancelledError). */
  shouldStop?(): boolean;
  log?(text: string): void;
}

export interface EstimateResult {
  layers: LayerResult[];
  bounds: NetworkBounds;
}

const LINEAR_TYPES = new Set<OpSpec['type']>(['conv', 'convTranspose', 'dense', 'avgPool']);
/** With several lanes, lane 0 takes the cheapest layers for this long (first results at once). */
const QUICK_START_MS = 1000;

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
  }));
}

/**
 * Where the linear problems are solved. The default solves them one at a time in this thread; a
 * pool of compute workers (src/host/compute-pool.ts) solves `concurrency` at once.
 */
export interface LayerRunner {
  readonly concurrency: number;
  /** Rejects with CancelledError once cancelled. */
  solve(problem: LinearProblem, settings: SolverSettings): Promise<SolveOutcome>;
}

export interface EstimateOptions {
  runner?: LayerRunner;
  /** With several lanes, how long lane 0 takes the cheapest layers first (default QUICK_START_MS). */
  quickStartMs?: number;
}

function inThreadRunner(shouldStop?: () => boolean): LayerRunner {
  return { concurrency: 1, solve: async (problem, settings) => solveLinearProblem(problem, settings, shouldStop) };
}

export async function estimateModel(model: IrModel, settings: EstimateSettings, hooks: EstimateHooks = {}, options: EstimateOptions = {}): Promise<EstimateResult> {
  const planned = planLayers(model);
  const total = model.nodes.length;
  const layers: (LayerResult | undefined)[] = new Array(total).fill(undefined);
  const constants: (number | undefined)[] = new Array(total).fill(undefined);
  const certifiedConstants: (number | undefined)[] = new Array(total).fill(undefined);
  const invalid: NetworkBounds['invalid'] = [];
  let done = 0;

  const finish = (index: number, layer: LayerResult, constant: number, certified: number | undefined) => {
    constants[index] = constant;
    certifiedConstants[index] = certified;
    const running = compose(model, constants).running[index];
    layer.runningBound = running === undefined || !Number.isFinite(running) ? null : running;
    layers[index] = layer;
    done += 1;
    hooks.onLayer?.(index, layer, done, total);
  };

  const base = (index: number): Omit<LayerResult, 'sigma' | 'upperBound' | 'iterations' | 'converged' | 'seconds'> => {
    const { index: _index, ...rest } = planned[index];
    return rest;
  };

  // Batch norms folded into the convolution before them (the bound uses the folded layer).
  const folds = findBatchNormFolds(model);
  const foldedDiagonals = new Map([...folds].map(([conv, fold]) => [fold.diagonalIndex, conv]));

  // Closed forms first: they cost nothing and fill the table at once.
  const linear: number[] = [];
  model.nodes.forEach((node, index) => {
    if (isLinearSpec(node.spec)) {
      linear.push(index);
      return;
    }
    const form = closedForm(node);
    if (!form) throw new Error(`no closed form for ${node.spec.type}`);
    if (form.sigma === null && Number.isNaN(form.compositionConstant) && node.spec.type === 'diagonal') {
      invalid.push({ name: node.name, op: node.op, reason: form.note ?? 'NaN or Inf values' });
    }
    const foldedInto = foldedDiagonals.get(index);
    const note = foldedInto === undefined ? form.note : `${form.note ? `${form.note}; ` : ''}folded into ${model.nodes[foldedInto].name}: counted there, as 1 here`;
    const constant = foldedInto === undefined ? form.compositionConstant : 1;
    finish(
      index,
      {
        ...base(index),
        sigma: form.sigma,
        upperBound: form.sigma,
        iterations: 0,
        converged: form.sigma !== null,
        seconds: 0,
        method: 'closed-form',
        ...(note ? { note } : {}),
      },
      constant,
      constant,
    );
  });

  // Cheapest linear layers first so results stream from the start; identical layers share one solve.
  // The cost is that of the reduced problem, so 1x1 convolutions (tiny channel matrices) come first.
  const problems = new Map(linear.map((index) => [index, reduceLinearProblem(model.nodes[index].spec as LinearSpec, model.nodes[index].inputShapes[0])]));
  const cost = (index: number) => {
    const problem = problems.get(index);
    return problem?.reduction && problem.spec.type === 'conv' ? problem.spec.weight.data.length : costOf(model.nodes[index]);
  };
  linear.sort((a, b) => cost(a) - cost(b));
  // Identical problems share one solve: the promise is stored, so a twin scheduled while the first
  // is still running waits for it instead of solving again.
  const solved = new Map<string, Promise<SolveOutcome>>();
  const runner = options.runner ?? inThreadRunner(hooks.shouldStop);
  const solve = (problem: LinearProblem): { outcome: Promise<SolveOutcome>; reused: boolean } => {
    const key = layerKey(problem.spec, problem.inputShape);
    const known = solved.get(key);
    if (known) return { outcome: known, reused: true };
    const outcome = runner.solve(problem, settings);
    solved.set(key, outcome);
    return { outcome, reused: false };
  };

  const estimateLayer = async (index: number): Promise<void> => {
    const node = model.nodes[index];
    const spec = node.spec as LinearSpec;
    const started = performance.now();
    const bad = nonFiniteWeight(spec);
    if (bad) {
      invalid.push({ name: node.name, op: node.op, reason: bad });
      finish(index, { ...base(index), sigma: null, upperBound: null, iterations: 0, converged: false, seconds: 0, note: `${bad}: the layer and the bound through it are invalid` }, NaN, NaN);
      return;
    }
    // The solver and the bound work on the smallest problem with the same σ1 (1x1 convolutions: the
    // channel matrix), which also lets identical maps at different input sizes share one solve.
    const problem = problems.get(index) ?? { spec, inputShape: node.inputShapes[0] };
    const values = Math.max(elementsOf(problem.inputShape) + (problem.reduction ? 0 : elementsOf(node.outputShapes[0] ?? [])), workingValues(problem.spec, problem.inputShape));
    if (values > MAX_SOLVER_VALUES) {
      const reason = `too large to estimate in memory (${values.toExponential(2)} values in and out)`;
      invalid.push({ name: node.name, op: node.op, reason });
      finish(index, { ...base(index), sigma: null, upperBound: null, iterations: 0, converged: false, seconds: 0, note: `${reason}: the layer and the bound through it are invalid` }, NaN, NaN);
      return;
    }
    const { outcome: pending, reused } = solve(problem);
    const outcome = await pending;
    if ('failure' in outcome) {
      invalid.push({ name: node.name, op: node.op, reason: outcome.failure });
      finish(index, { ...base(index), sigma: null, upperBound: null, iterations: 0, converged: false, seconds: 0, note: `${outcome.failure}: the layer and the bound through it are invalid` }, NaN, NaN);
      return;
    }
    const { result } = outcome;
    // With a batch norm after it, the bound uses this layer with the batch norm folded in.
    const fold = folds.get(index);
    let folded: SolvedLayer | undefined;
    if (fold && spec.type === 'conv') {
      const foldedOutcome = await solve(reduceLinearProblem(foldScaleIntoConv(spec, fold.scale), node.inputShapes[0])).outcome;
      if (!('failure' in foldedOutcome)) folded = foldedOutcome.result;
    }
    const seconds = (performance.now() - started) / 1000;
    const notes: string[] = [];
    if (reused) notes.push('identical to an earlier layer: result reused');
    if (problem.reduction) notes.push(problem.reduction);
    if (result.boundMethod) notes.push(`upper bound: ${result.boundMethod}`);
    if (!result.converged) notes.push(`not converged in ${result.iterations} iterations`);
    if (fold && folded) notes.push(`with ${model.nodes[fold.diagonalIndex].name} folded in: σ ${folded.sigma.toPrecision(5)} (used by the bound)`);
    finish(
      index,
      {
        ...base(index),
        sigma: result.sigma,
        upperBound: result.upper,
        iterations: reused ? 0 : result.iterations,
        converged: result.converged,
        seconds,
        residual: result.residual,
        method: result.method,
        ...(folded ? { foldedSigma: folded.sigma, foldedUpperBound: folded.upper } : {}),
        ...(notes.length ? { note: notes.join('; ') } : {}),
      },
      folded ? folded.sigma : fold ? result.sigma * maxAbs(fold.scale) : result.sigma,
      folded ? folded.upper ?? undefined : result.upper === null ? undefined : fold ? result.upper * maxAbs(fold.scale) : result.upper,
    );
  };

  // Lane 0 takes the cheapest remaining layers at first, so results stream from the start; then,
  // like any other lane, the costliest (longest first), so the lanes end on small layers and
  // finish together. A single lane goes cheapest first throughout.
  const queue = [...linear];
  let failed = false;
  const lanes = Math.max(1, Math.min(runner.concurrency, linear.length));
  const quickStartEnds = performance.now() + (options.quickStartMs ?? QUICK_START_MS);
  const lane = async (position: number): Promise<void> => {
    while (queue.length > 0 && !failed) {
      if (hooks.shouldStop?.()) throw new CancelledError();
      const cheapest = position === 0 && (lanes === 1 || performance.now() < quickStartEnds);
      const index = (cheapest ? queue.shift() : queue.pop()) as number;
      await estimateLayer(index);
      // Let the event loop deliver messages (progress, cancel) between layers.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(
    Array.from({ length: lanes }, (_, position) =>
      lane(position).catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    ),
  );

  const final = compose(model, constants);
  const certified = compose(model, certifiedConstants);
  const rows = layers as LayerResult[];
  rows.forEach((layer, index) => {
    const running = final.running[index];
    layer.runningBound = running === undefined || !Number.isFinite(running) ? null : running;
  });
  const unsupported = model.nodes.filter((node) => node.spec.type === 'unsupported').map((node) => ({ name: node.name, op: node.op }));
  const unbounded = model.nodes.flatMap((node) => (node.spec.type === 'unbounded' ? [{ name: node.name, op: node.op, reason: node.spec.reason }] : []));
  const network = final.network;
  const bounds: NetworkBounds = {
    product: network !== undefined && Number.isFinite(network) ? network : null,
    certified: certified.network !== undefined && Number.isFinite(certified.network) ? certified.network : null,
    unsupported,
    ...(unbounded.length ? { unbounded } : {}),
    ...(invalid.length ? { invalid } : {}),
  };
  return { layers: rows, bounds };
}

function maxAbs(values: Float32Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}

/** Multiply-adds of one forward product over all linear layers: a rough measure of the run's work. */
export function linearWork(model: IrModel): number {
  return model.nodes.reduce((sum, node) => sum + (isLinearSpec(node.spec) ? costOf(node) : 0), 0);
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

/** Two problems with this key are the same linear map on the same input shape (after reduceLinearProblem). */
function layerKey(spec: LinearSpec, inputShape: number[]): string {
  const { weight, ...attributes } = spec as LinearSpec & { weight?: { dims: number[]; data: Float32Array } };
  return JSON.stringify({ attributes, input: inputShape, dims: weight?.dims ?? null, hash: weight ? hashFloats(weight.data) : 0 });
}

/** FNV-1a over the float bits: a collision would need identical shapes too, and is astronomically unlikely. */
function hashFloats(data: Float32Array): string {
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < words.length; i++) {
    h1 = Math.imul(h1 ^ words[i], 0x01000193);
    h2 = Math.imul(h2 ^ words[i], 0x5bd1e995) ^ (h2 >>> 13);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}${words.length}`;
}
