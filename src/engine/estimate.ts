// Runs the whole estimate on an IR model: closed forms at once, then every linear layer through a
// matrix-free solver (cheapest first, identical layers computed once), streaming one result per
// layer with the running network bound, then the network bounds from the estimates and from the
// certified bounds. The parts: estimate-plan.ts (what to do, in which order), estimate-schedule.ts
// (where and when), estimate-rows.ts (each row and its constants), estimate-bounds.ts (the
// composition, updated as each layer finishes).

import type { IrModel } from '../model/ir';
import type { EstimateSettings, LayerResult, NetworkBounds } from '../protocol/report';
import { foldScaleIntoConv, reduceLinearProblem } from './operators';
import { planEstimate, type EstimatePlan, type LinearTask } from './estimate-plan';
import { inThreadRunner, QUICK_START_MS, runLanes, SharedSolves, type LayerRunner } from './estimate-schedule';
import { closedFormLayer, invalidLinearLayer, solvedLinearLayer, type FinishedLayer } from './estimate-rows';
import { NetworkBoundTracker } from './estimate-bounds';
import type { SolvedLayer } from './solve-layer';
import { uniformMagnitude } from '../analysis/fold';
import { SCALAR_SAFETY } from './bounds/rounding';

export { isLinearSpec, kindOf, largestLayerWork, linearWork, planLayers } from './estimate-plan';
export type { LayerRunner } from './estimate-schedule';

export interface EstimateHooks {
  onLayer?(index: number, layer: LayerResult, done: number, total: number): void;
  /** A linear layer's solve begins (its onLayer follows when it ends): for "what is running" displays. */
  onLayerStart?(index: number): void;
  /** Polled between solver products: true cancels (CancelledError). */
  shouldStop?(): boolean;
  log?(text: string): void;
}

export interface EstimateResult {
  layers: LayerResult[];
  bounds: NetworkBounds;
}

export interface EstimateOptions {
  runner?: LayerRunner;
  /** With several lanes, how long lane 0 takes the cheapest layers first (default QUICK_START_MS). */
  quickStartMs?: number;
}

export async function estimateModel(model: IrModel, settings: EstimateSettings, hooks: EstimateHooks = {}, options: EstimateOptions = {}): Promise<EstimateResult> {
  const plan = planEstimate(model);
  const total = model.nodes.length;
  const rows: (LayerResult | undefined)[] = new Array(total).fill(undefined);
  const tracker = new NetworkBoundTracker(model);
  let done = 0;
  const finish = (index: number, { row, constant, certified, invalid }: FinishedLayer) => {
    row.runningBound = tracker.record(index, constant, certified, invalid);
    rows[index] = row;
    done += 1;
    hooks.onLayer?.(index, row, done, total);
  };

  // Closed forms first: they cost nothing and fill the table at once.
  for (const index of plan.closedForms) finish(index, closedFormLayer(plan, index));

  const runner = options.runner ?? inThreadRunner(hooks.shouldStop);
  const solves = new SharedSolves(runner, settings);
  await runLanes(
    plan.linear,
    { lanes: runner.concurrency, quickStartMs: options.quickStartMs ?? QUICK_START_MS, ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}) },
    (task) => {
      hooks.onLayerStart?.(task.index);
      return estimateLinearLayer(plan, task, solves, finish);
    },
  );

  return assembleResult(rows as LayerResult[], tracker);
}

/** Solves one linear layer (and its folded twin) and finishes its row. */
async function estimateLinearLayer(plan: EstimatePlan, task: LinearTask, solves: SharedSolves, finish: (index: number, layer: FinishedLayer) => void): Promise<void> {
  const started = performance.now();
  if (task.refusal) {
    finish(task.index, invalidLinearLayer(plan, task, task.refusal));
    return;
  }
  const { outcome: pending, reused } = solves.solve(task.problem);
  const outcome = await pending;
  if ('failure' in outcome) {
    finish(task.index, invalidLinearLayer(plan, task, outcome.failure));
    return;
  }
  // With a batch norm after it, the bound uses this layer with the batch norm folded in.
  let folded: SolvedLayer | undefined;
  if (task.fold && task.spec.type === 'conv') {
    // One magnitude for every channel: the folded layer is |a|·(the layer) up to signs, no second solve.
    const magnitude = uniformMagnitude(task.fold.scale);
    if (magnitude !== null) folded = scaledSolution(outcome.result, magnitude);
    else {
      const foldedOutcome = await solves.solve(reduceLinearProblem(foldScaleIntoConv(task.spec, task.fold.scale), task.node.inputShapes[0])).outcome;
      if (!('failure' in foldedOutcome)) folded = foldedOutcome.result;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  finish(task.index, solvedLinearLayer(plan, task, { result: outcome.result, ...(folded ? { folded } : {}), reused, seconds }));
}

/**
 * The solution of c·A from that of A, c ≥ 0: σ and its bounds times c, the certified ones moved
 * outward by one float64 rounding (SCALAR_SAFETY covers it many times over).
 */
function scaledSolution(result: SolvedLayer, c: number): SolvedLayer {
  return {
    ...result,
    sigma: result.sigma * c,
    upper: result.upper === null ? null : result.upper * c * SCALAR_SAFETY,
    ...(result.lower !== undefined ? { lower: (result.lower * c) / SCALAR_SAFETY } : {}),
    iterations: 0,
  };
}

/** The result once every layer is done: each row's final running bound, and the network bounds. */
function assembleResult(rows: LayerResult[], tracker: NetworkBoundTracker): EstimateResult {
  rows.forEach((row, index) => {
    row.runningBound = tracker.runningBound(index);
  });
  return { layers: rows, bounds: tracker.bounds() };
}
