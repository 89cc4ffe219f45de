// Runs one estimate in the engine worker (dist/worker.js, the same one the extension uses), so that
// this thread only reads signals and writes output. Every synchronous stretch of the engine (a
// solve, the bracket, parsing a large file) then runs elsewhere, and a SIGINT sets the shared cancel
// flag that the engine reads between solver steps: the run stops within a second, not at the end of
// whatever was running (docs/architecture.md#threads).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromWorker, LayerStartMessage, ModelReadMessage, RunJob } from '../protocol/messages';
import type { EstimateSettings, LayerResult, Report } from '../protocol/report';

/** dist/worker.js beside this bundle, or undefined when running unbundled (the engine then runs in this thread). */
export function engineWorkerScript(): string | undefined {
  const script = typeof __dirname === 'string' ? join(__dirname, 'worker.js') : undefined;
  return script && existsSync(script) ? script : undefined;
}

export interface WorkerRunHooks {
  onModel(message: ModelReadMessage): void;
  onLayer(index: number, layer: LayerResult, done: number, total: number): void;
  /** When given, the worker also says when each linear layer's solve begins. */
  onLayerStart?(index: number): void;
  onLog?(level: 'info' | 'warn' | 'error', text: string): void;
}

/** How a run in the worker ended when it did not produce a report. */
export class WorkerRunFailure extends Error {
  constructor(
    readonly outcome: 'bad-input' | 'internal' | 'cancelled',
    message: string,
    /** For 'cancelled': the rows finished so far, once the model was read. */
    readonly partial?: Report,
  ) {
    super(message);
    this.name = 'WorkerRunFailure';
  }
}

export interface WorkerRun {
  report: Promise<Report>;
  /** Asks the engine to stop; it does at its next solver step. */
  cancel(): void;
}

export function runInWorker(script: string, modelPath: string, settings: EstimateSettings, hooks: WorkerRunHooks, extra: { samplesPath?: string; maxBytes?: number } = {}): WorkerRun {
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const worker = new Worker(script);
  const job: RunJob = {
    type: 'run',
    jobId: 1,
    source: { kind: 'path', path: modelPath },
    settings,
    cancelFlag,
    ...(extra.samplesPath ? { samplesPath: extra.samplesPath } : {}),
    ...(extra.maxBytes !== undefined ? { maxBytes: extra.maxBytes } : {}),
    ...(hooks.onLayerStart ? { reportStarts: true } : {}),
  };
  const report = new Promise<Report>((resolveReport, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      worker.removeAllListeners();
      // The worker's wasm runtime and compute pool would keep the process alive; the report is in.
      void worker.terminate();
      outcome();
    };
    worker.on('message', (message: FromWorker | LayerStartMessage) => {
      switch (message.type) {
        case 'layerStart':
          hooks.onLayerStart?.(message.index);
          break;
        case 'model':
          hooks.onModel(message);
          break;
        case 'layer':
          hooks.onLayer(message.index, message.layer, message.done, message.total);
          break;
        case 'log':
          hooks.onLog?.(message.level, message.text);
          break;
        case 'done':
          settle(() => resolveReport(message.report));
          break;
        case 'cancelled':
          settle(() => reject(new WorkerRunFailure('cancelled', 'cancelled', message.partial)));
          break;
        case 'error':
          settle(() => reject(new WorkerRunFailure(message.badInput ? 'bad-input' : 'internal', message.message)));
          break;
        default:
          break;
      }
    });
    worker.on('error', (error) => settle(() => reject(new WorkerRunFailure('internal', `internal error: engine worker failed: ${error.message.split('\n')[0]}`))));
    worker.on('exit', (code) => settle(() => reject(new WorkerRunFailure('internal', `internal error: engine worker exited with code ${code}`))));
  });
  worker.postMessage(job);
  return {
    report,
    cancel: () => {
      Atomics.store(flag, 0, 1);
      worker.postMessage({ type: 'cancel', jobId: job.jobId });
    },
  };
}
