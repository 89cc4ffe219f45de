// Messages between a session and its compute workers (src/worker/compute.ts): one linear problem
// per task, answered once. Plain data only (structured clone).

import type { LinearProblem, SolveOutcome, SolverSettings } from '../engine/solve-layer';

export interface ComputeWorkerData {
  /** Int32Array view, element 0: non-zero cancels every task of the pool. */
  cancelFlag: SharedArrayBuffer;
}

export interface ComputeTask {
  id: number;
  problem: LinearProblem;
  settings: SolverSettings;
}

export type ComputeReply =
  | { id: number; outcome: SolveOutcome }
  | { id: number; cancelled: true }
  | { id: number; error: string };
