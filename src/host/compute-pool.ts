// A pool of compute workers (src/worker/compute.ts) that solves several layers at once: tfjs-wasm
// is single-threaded inside worker_threads (its own threads cannot start there, see
// docs/measured-facts.md#no-wasm-threads-inside-worker_threads), so the cores are used one layer per
// worker instead (docs/architecture.md#threads).

import { existsSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError } from '../engine/operator';
import type { LayerRunner } from '../engine/estimate';
import type { LinearProblem, SolveOutcome, SolverSettings } from '../engine/solve-layer';
import type { ComputeReply, ComputeTask, ComputeWorkerData } from './compute-protocol';

/**
 * Each worker holds its own wasm heap: ResNet-50 at 224x224 peaked at 428 MiB RSS on 1 thread,
 * 660–785 on 2, 975 on 3 and 1,118 on 4 (model 97 MiB), so 3 keeps a run under model + 1 GiB.
 */
export const MAX_AUTO_THREADS = 3;
/** How long close() waits for busy workers to stop by themselves before terminating them. */
const CLOSE_GRACE_MS = 1000;
/** How often a pool with tasks in flight asks the session whether to cancel. */
const CANCEL_POLL_MS = 20;

interface Lane {
  worker: Worker;
  busy: boolean;
}

interface Pending {
  task: ComputeTask;
  resolve(outcome: SolveOutcome): void;
  reject(error: Error): void;
  lane?: Lane;
}

/** The compute worker script next to this bundle (dist/compute.js), or undefined when unbundled. */
export function computeWorkerScript(): string | undefined {
  const script = typeof __dirname === 'string' ? join(__dirname, 'compute.js') : undefined;
  return script && existsSync(script) ? script : undefined;
}

/**
 * Memory an automatic worker may need: its wasm heap grows to its largest layer's working set
 * (ResNet-50 at 224x224: the run's peak RSS grew by about 300 MiB per worker).
 */
const AUTO_BYTES_PER_WORKER = 512 * 2 ** 20;

/**
 * Worker threads for `requested`; 0 or undefined: one per core, at most MAX_AUTO_THREADS, and no
 * more than free memory allows at AUTO_BYTES_PER_WORKER each.
 */
export function resolveThreads(requested: number | undefined, freeBytes = freemem()): number {
  if (requested !== undefined && requested > 0) return Math.floor(requested);
  const byMemory = Math.floor(freeBytes / AUTO_BYTES_PER_WORKER);
  return Math.max(1, Math.min(availableParallelism(), MAX_AUTO_THREADS, byMemory));
}

export class ComputePool implements LayerRunner {
  readonly concurrency: number;
  private readonly lanes: Lane[];
  private readonly flag: Int32Array;
  private readonly waiting: Pending[] = [];
  private readonly inFlight = new Map<number, Pending>();
  private nextId = 1;
  private poll: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(script: string, size: number, private readonly shouldStop: () => boolean = () => false) {
    const cancelFlag = new SharedArrayBuffer(4);
    this.flag = new Int32Array(cancelFlag);
    const workerData: ComputeWorkerData = { cancelFlag };
    this.lanes = Array.from({ length: size }, () => {
      const lane: Lane = { worker: new Worker(script, { workerData }), busy: false };
      lane.worker.on('message', (reply: ComputeReply) => this.settle(lane, reply));
      lane.worker.on('error', (error) => this.fail(lane, `compute worker failed: ${error.message.split('\n')[0]}`));
      lane.worker.on('exit', (code) => this.fail(lane, `compute worker exited with code ${code}`));
      return lane;
    });
    this.concurrency = size;
  }

  solve(problem: LinearProblem, settings: SolverSettings): Promise<SolveOutcome> {
    if (this.closed) return Promise.reject(new Error('the compute pool is closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ task: { id: this.nextId++, problem, settings }, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every task (they reject with CancelledError). */
  cancel(): void {
    Atomics.store(this.flag, 0, 1);
    for (const pending of this.waiting.splice(0)) pending.reject(new CancelledError());
  }

  /**
   * Stops the workers. Busy ones (a run that failed or was cancelled while other layers were being
   * solved) are first asked to stop through the shared flag, which the solvers poll between
   * products, and given up to CLOSE_GRACE_MS to reply: terminating a worker inside a native
   * onnxruntime-node call aborts the whole process (an uncaught C++ exception) instead of ending the
   * run with its error. Returns how many workers were busy and how many of them stopped in time.
   */
  async close(): Promise<{ busy: number; replied: number }> {
    if (this.closed) return { busy: 0, replied: 0 };
    this.closed = true;
    this.stopPolling();
    for (const pending of [...this.waiting.splice(0), ...this.inFlight.values()]) pending.reject(new Error('the compute pool was closed'));
    this.inFlight.clear();
    const busy = this.lanes.filter((lane) => lane.busy);
    let replied = 0;
    if (busy.length > 0) {
      Atomics.store(this.flag, 0, 1);
      const stopped = (lane: Lane) =>
        new Promise<void>((resolve) => {
          let seen = false;
          const done = () => {
            if (seen) return;
            seen = true;
            replied += 1;
            resolve();
          };
          lane.worker.once('message', done);
          lane.worker.once('exit', done);
        });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(busy.map(stopped)), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
    }
    const counts = { busy: busy.length, replied };
    await Promise.all(this.lanes.map((lane) => lane.worker.terminate()));
    return counts;
  }

  private dispatch(): void {
    for (const lane of this.lanes) {
      if (lane.busy) continue;
      const pending = this.waiting.shift();
      if (!pending) break;
      lane.busy = true;
      pending.lane = lane;
      this.inFlight.set(pending.task.id, pending);
      lane.worker.postMessage(pending.task);
    }
    if (this.inFlight.size > 0) this.startPolling();
  }

  private settle(lane: Lane, reply: ComputeReply): void {
    const pending = this.inFlight.get(reply.id);
    lane.busy = false;
    if (pending) {
      this.inFlight.delete(reply.id);
      if ('outcome' in reply) pending.resolve(reply.outcome);
      else if ('cancelled' in reply) pending.reject(new CancelledError());
      else pending.reject(new Error(reply.error));
    }
    if (this.inFlight.size === 0) this.stopPolling();
    this.dispatch();
  }

  private fail(lane: Lane, message: string): void {
    if (this.closed) return;
    for (const [id, pending] of this.inFlight) {
      if (pending.lane !== lane) continue;
      this.inFlight.delete(id);
      pending.reject(new Error(message));
    }
    // A dead worker takes no more tasks: the others go on, or the run fails if none is left.
    this.lanes.splice(this.lanes.indexOf(lane), 1);
    if (this.lanes.length === 0) for (const pending of this.waiting.splice(0)) pending.reject(new Error(message));
  }

  private startPolling(): void {
    this.poll ??= setInterval(() => {
      if (this.shouldStop()) this.cancel();
    }, CANCEL_POLL_MS);
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }
}
