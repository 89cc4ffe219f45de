// Scheduling the linear layers of an estimate: where each problem is solved (this thread or a pool
// of compute workers), identical problems solved once, and the lanes that take layers from the
// planned queue.

import { CancelledError } from './operator';
import { solveLinearProblem, type LinearProblem, type SolveOutcome, type SolverSettings } from './solve-layer';
import type { LinearSpec } from '../model/ir';

/**
 * Where the linear problems are solved. The default solves them one at a time in this thread; a
 * pool of compute workers (src/host/compute-pool.ts) solves `concurrency` at once.
 */
export interface LayerRunner {
  readonly concurrency: number;
  /** Rejects with CancelledError once cancelled. */
  solve(problem: LinearProblem, settings: SolverSettings): Promise<SolveOutcome>;
}

export function inThreadRunner(shouldStop?: () => boolean): LayerRunner {
  return { concurrency: 1, solve: async (problem, settings) => solveLinearProblem(problem, settings, shouldStop) };
}

/**
 * Identical problems share one solve: the promise is stored, so a twin scheduled while the first
 * is still running waits for it instead of solving again.
 */
export class SharedSolves {
  private readonly solved = new Map<string, Promise<SolveOutcome>>();

  constructor(
    private readonly runner: LayerRunner,
    private readonly settings: SolverSettings,
  ) {}

  solve(problem: LinearProblem): { outcome: Promise<SolveOutcome>; reused: boolean } {
    const key = problemKey(problem.spec, problem.inputShape);
    const known = this.solved.get(key);
    if (known) return { outcome: known, reused: true };
    const outcome = this.runner.solve(problem, this.settings);
    this.solved.set(key, outcome);
    return { outcome, reused: false };
  }
}

/** With several lanes, lane 0 takes the cheapest layers for this long (first results at once). */
export const QUICK_START_MS = 1000;

export interface LaneOptions {
  /** Layers worked on at once. */
  lanes: number;
  /** With several lanes, how long lane 0 takes the cheapest layers first. */
  quickStartMs: number;
  /** Polled before each layer: true ends the run with CancelledError. */
  shouldStop?(): boolean;
}

/**
 * Works through `queue` (cheapest first) on several lanes. Lane 0 takes the cheapest remaining
 * layers at first, so results stream from the start; then, like any other lane, the costliest
 * (longest first), so the lanes end on small layers and finish together. A single lane goes
 * cheapest first throughout. The first error stops every lane and is rethrown.
 */
export async function runLanes<T>(queue: readonly T[], options: LaneOptions, work: (item: T) => Promise<void>): Promise<void> {
  const remaining = [...queue];
  let failed = false;
  const lanes = Math.max(1, Math.min(options.lanes, remaining.length));
  const quickStartEnds = performance.now() + options.quickStartMs;
  const lane = async (position: number): Promise<void> => {
    while (remaining.length > 0 && !failed) {
      if (options.shouldStop?.()) throw new CancelledError();
      const cheapest = position === 0 && (lanes === 1 || performance.now() < quickStartEnds);
      const item = (cheapest ? remaining.shift() : remaining.pop()) as T;
      await work(item);
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
}

/** Two problems with this key are the same linear map on the same input shape (after reduceLinearProblem). */
function problemKey(spec: LinearSpec, inputShape: number[]): string {
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
