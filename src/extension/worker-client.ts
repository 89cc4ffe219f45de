// The extension's side of the engine worker (dist/worker.js): spawned lazily, given one job at a
// time (the rest wait here, so cancelling a waiting job is immediate and terminating a stuck worker
// costs only its own job), cancelled through a SharedArrayBuffer flag plus a 'cancel' message,
// terminated when a cancelled job has not stopped after a grace period, and respawned after a
// crash. A new run of a model cancels that model's previous run. No vscode here.

import { Worker } from 'node:worker_threads';
import type { DescribeJob, DescribeResultMessage, FromWorker, LogMessage, ModelSource, ToWorker } from '../protocol/messages';
import type { EstimateSettings, Report } from '../protocol/report';

/**
 * The engine worker's environment (its compute workers inherit it): products on tfjs, never on
 * onnxruntime-node. The packaged extension carries no node_modules, so users get tfjs anyway; a
 * development copy with node_modules would otherwise load the addon, and terminating a worker inside
 * one of its native calls (a cancel past its grace period, a killed worker) aborts the whole process
 * with an uncaught C++ exception (seen once in the in-host suite: "terminate called after throwing
 * an instance of 'Napi::Error'"), which here is the extension host.
 */
const ENGINE_WORKER_ENV = { ...process.env, LIPSCHITZ_LENS_PRODUCTS: 'tfjs' };

/** What the client needs of a worker; node's Worker satisfies it, tests may pass a fake. */
export interface WorkerPort {
  postMessage(message: ToWorker): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  removeAllListeners(): unknown;
  terminate(): Promise<number>;
}

export class WorkerJobError extends Error {
  constructor(
    message: string,
    /** True when the model file is at fault (show it as the file's problem, not as a bug). */
    readonly badInput: boolean,
  ) {
    super(message);
    this.name = 'WorkerJobError';
  }
}

/** `companions`: the weight shards and external data files the worker's loader read. */
export type RunOutcome = { kind: 'done'; report: Report; companions: string[] } | { kind: 'cancelled' };

export interface JobHandle<T> {
  jobId: number;
  result: Promise<T>;
  /** Asks the job to stop; the result then resolves as cancelled (runs) or rejects (describe). */
  cancel(): void;
}

export interface WorkerClientOptions {
  scriptPath: string;
  createWorker?: (scriptPath: string) => WorkerPort;
  /** How long a cancelled job may take to stop before the worker is terminated. */
  cancelGraceMs?: number;
  /** Every 'log' message, and the client's own notes (spawn, crash, terminate). */
  onLog?: (message: LogMessage) => void;
  /** Stop the worker after this long without jobs (it is respawned on the next job); undefined = keep it. */
  idleMs?: number;
}

interface PendingJob {
  jobId: number;
  kind: 'run' | 'describe';
  key?: string;
  onMessage?: (message: FromWorker) => void;
  resolve: (value: RunOutcome | DescribeResultMessage) => void;
  reject: (error: Error) => void;
  cancelFlag?: Int32Array;
  cancelled: boolean;
  cancelTimer?: ReturnType<typeof setTimeout>;
  message: ToWorker;
  /** The worker the job was sent to; undefined while it waits. */
  worker?: WorkerPort;
}

export class WorkerClient {
  private worker: WorkerPort | undefined;
  private readonly pending = new Map<number, PendingJob>();
  private readonly waiting: PendingJob[] = [];
  private active: PendingJob | undefined;
  private readonly runningByKey = new Map<string, PendingJob>();
  private nextJobId = 1;
  private disposed = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly createWorker: (scriptPath: string) => WorkerPort;
  private readonly cancelGraceMs: number;

  constructor(private readonly options: WorkerClientOptions) {
    this.createWorker = options.createWorker ?? ((path) => new Worker(path, { env: ENGINE_WORKER_ENV }) as unknown as WorkerPort);
    this.cancelGraceMs = options.cancelGraceMs ?? 1000;
  }

  /** True while a run for `key` (a model's URI) is in flight. */
  isRunning(key: string): boolean {
    return this.runningByKey.has(key);
  }

  /**
   * Starts estimating a model. A run already in flight for the same key is cancelled first.
   * `onMessage` sees this job's messages ('model', 'layer', 'log', ...) as they arrive.
   */
  run(key: string, source: ModelSource, settings: EstimateSettings, onMessage?: (message: FromWorker) => void): JobHandle<RunOutcome> {
    const previous = this.runningByKey.get(key);
    if (previous) this.cancelJob(previous);
    const cancelBuffer = new SharedArrayBuffer(4);
    return this.start<RunOutcome>('run', key, onMessage, (jobId) => ({ type: 'run', jobId, source, settings, cancelFlag: cancelBuffer }), new Int32Array(cancelBuffer));
  }

  /** Reads a model's summary without estimating. */
  describe(source: ModelSource, inputShape?: number[], selection?: DescribeJob['selection']): JobHandle<DescribeResultMessage> {
    const chosen = selection && Object.keys(selection).length > 0 ? { selection } : {};
    return this.start<DescribeResultMessage>('describe', undefined, undefined, (jobId) => ({ type: 'describe', jobId, source, ...(inputShape ? { inputShape } : {}), ...chosen }));
  }

  /** Cancels the run for `key`, if any. */
  cancel(key: string): boolean {
    const job = this.runningByKey.get(key);
    if (!job) return false;
    this.cancelJob(job);
    return true;
  }

  /** Kills the worker the way a crash would (its exit handler runs): for tests of recovery. */
  async terminateForTesting(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Stops everything: jobs in flight end as cancelled (runs) or rejected (describe). */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.waiting.length = 0;
    for (const job of [...this.pending.values()]) {
      if (job.kind === 'run') this.settle(job, () => job.resolve({ kind: 'cancelled' }));
      else this.settle(job, () => job.reject(new WorkerJobError('The Lipschitz Lens worker was shut down.', false)));
    }
    if (worker) {
      worker.removeAllListeners();
      await worker.terminate().catch(() => undefined);
    }
  }

  private start<T extends RunOutcome | DescribeResultMessage>(
    kind: 'run' | 'describe',
    key: string | undefined,
    onMessage: ((message: FromWorker) => void) | undefined,
    message: (jobId: number) => ToWorker,
    cancelFlag?: Int32Array,
  ): JobHandle<T> {
    const jobId = this.nextJobId++;
    let job: PendingJob | undefined;
    const result = new Promise<T>((resolve, reject) => {
      if (this.disposed) {
        reject(new WorkerJobError('The Lipschitz Lens worker was shut down.', false));
        return;
      }
      job = {
        jobId,
        kind,
        key,
        onMessage,
        resolve: resolve as (value: RunOutcome | DescribeResultMessage) => void,
        reject,
        cancelFlag,
        cancelled: false,
        message: message(jobId),
      };
      this.pending.set(jobId, job);
      if (key !== undefined) this.runningByKey.set(key, job);
      this.waiting.push(job);
    });
    this.pump();
    return {
      jobId,
      result,
      cancel: () => {
        if (job) this.cancelJob(job);
      },
    };
  }

  /** Sends the next waiting job when the worker is free. */
  private pump(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    while (!this.active && this.waiting.length > 0 && !this.disposed) {
      const job = this.waiting.shift()!;
      let worker: WorkerPort;
      try {
        worker = this.ensureWorker();
      } catch (error) {
        this.settle(job, () => job.reject(new WorkerJobError(`The Lipschitz Lens worker could not start: ${firstLine(error)}`, false)));
        continue;
      }
      job.worker = worker;
      this.active = job;
      try {
        worker.postMessage(job.message);
      } catch (error) {
        this.settle(job, () => job.reject(new WorkerJobError(`The Lipschitz Lens worker did not take the job: ${firstLine(error)}`, false)));
      }
    }
    if (this.pending.size === 0 && this.worker && this.options.idleMs !== undefined && !this.disposed) {
      const worker = this.worker;
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.worker !== worker || this.pending.size > 0) return;
        this.worker = undefined;
        worker.removeAllListeners();
        void worker.terminate().catch(() => undefined);
      }, this.options.idleMs);
      this.idleTimer.unref?.();
    }
  }

  /** True while a worker thread exists. */
  get hasWorker(): boolean {
    return this.worker !== undefined;
  }

  private ensureWorker(): WorkerPort {
    if (this.worker) return this.worker;
    const worker = this.createWorker(this.options.scriptPath);
    this.worker = worker;
    let crash: string | undefined;
    worker.on('message', (message) => this.onMessage(worker, message));
    worker.on('error', (error) => {
      crash = firstLine(error);
      this.log('error', `worker error: ${error instanceof Error && error.stack ? error.stack : crash}`);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const reason = crash ? `crashed: ${crash}` : `stopped unexpectedly (exit code ${code})`;
      this.failJobsOf(worker, `The Lipschitz Lens worker ${reason}. Run again to start a fresh one.`);
    });
    return worker;
  }

  private onMessage(worker: WorkerPort, value: unknown): void {
    if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') return;
    const message = value as FromWorker;
    if (message.type === 'log') this.options.onLog?.(message);
    const jobId = (message as { jobId?: unknown }).jobId;
    if (typeof jobId !== 'number') return;
    const job = this.pending.get(jobId);
    if (!job || job.worker !== worker) return;
    try {
      job.onMessage?.(message);
    } catch (error) {
      this.log('error', `a message handler failed: ${firstLine(error)}`);
    }
    switch (message.type) {
      case 'done':
        if (job.kind === 'run') this.settle(job, () => job.resolve(job.cancelled ? { kind: 'cancelled' } : { kind: 'done', report: message.report, companions: message.companions ?? [] }));
        break;
      case 'described':
        if (job.kind === 'describe') this.settle(job, () => job.resolve(message));
        break;
      case 'cancelled':
        this.settle(job, () =>
          job.kind === 'run' ? job.resolve({ kind: 'cancelled' }) : job.reject(new WorkerJobError('Cancelled.', false)),
        );
        break;
      case 'error':
        // A job that was cancelled and then failed counts as cancelled: the user asked it to stop.
        this.settle(job, () =>
          job.cancelled && job.kind === 'run' ? job.resolve({ kind: 'cancelled' }) : job.reject(new WorkerJobError(message.message, message.badInput)),
        );
        break;
      default:
        break;
    }
  }

  private cancelJob(job: PendingJob): void {
    if (!this.pending.has(job.jobId) || job.cancelled) return;
    job.cancelled = true;
    const worker = job.worker;
    if (!worker) {
      // Still waiting here: it never reaches the worker.
      this.settle(job, () => (job.kind === 'run' ? job.resolve({ kind: 'cancelled' }) : job.reject(new WorkerJobError('Cancelled.', false))));
      return;
    }
    if (job.cancelFlag) {
      Atomics.store(job.cancelFlag, 0, 1);
      Atomics.notify(job.cancelFlag, 0);
    }
    try {
      worker.postMessage({ type: 'cancel', jobId: job.jobId });
    } catch {
      // The worker is gone; its exit handler settles the job.
    }
    job.cancelTimer = setTimeout(() => {
      if (!this.pending.has(job.jobId)) return;
      this.log('warn', `job ${job.jobId} did not stop within ${this.cancelGraceMs} ms of cancel; terminating the worker`);
      this.terminateWorker(worker, job);
    }, this.cancelGraceMs);
  }

  /** Terminates a worker that does not stop; its job ends as cancelled and waiting jobs go to a fresh worker. */
  private terminateWorker(worker: WorkerPort, cancelled: PendingJob): void {
    if (this.worker === worker) this.worker = undefined;
    worker.removeAllListeners();
    void worker.terminate().catch(() => undefined);
    this.settle(cancelled, () => (cancelled.kind === 'run' ? cancelled.resolve({ kind: 'cancelled' }) : cancelled.reject(new WorkerJobError('Cancelled.', false))));
  }

  private failJobsOf(worker: WorkerPort, reason: string): void {
    for (const job of [...this.pending.values()]) {
      if (job.worker !== worker) continue;
      this.settle(job, () =>
        job.cancelled && job.kind === 'run' ? job.resolve({ kind: 'cancelled' }) : job.reject(new WorkerJobError(reason, false)),
      );
    }
  }

  private settle(job: PendingJob, action: () => void): void {
    if (!this.pending.delete(job.jobId)) return;
    if (job.key !== undefined && this.runningByKey.get(job.key) === job) this.runningByKey.delete(job.key);
    if (job.cancelTimer) clearTimeout(job.cancelTimer);
    const waitingAt = this.waiting.indexOf(job);
    if (waitingAt >= 0) this.waiting.splice(waitingAt, 1);
    if (this.active === job) this.active = undefined;
    action();
    this.pump();
  }

  private log(level: LogMessage['level'], text: string): void {
    this.options.onLog?.({ type: 'log', level, text });
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
