// The worker_threads entry: reads a model, runs the engine, streams one message per finished
// layer, stops promptly when cancelled, and reports every failure as a message (never a crash).

import { parentPort } from 'node:worker_threads';
import type { FromWorker, LayerStartMessage, ModelSource, ToWorker } from '../protocol/messages';
import type { FileAccess } from '../model/files';
import { ModelError } from '../model/errors';
import { memoryFileAccess } from '../model/memory-files';
import { recordingFileAccess } from '../model/recording-files';
import { CancelledError } from '../engine/operator';
import { backendLabel } from '../engine/backend';
import { expectedLayerSeconds } from '../engine/large-input/run-estimate';
import { basename } from 'node:path';
import { nodeFileAccess } from '../host/node-files';
import { summarizeOnnx } from '../host/onnx-summary';
import { describeSession, runSession } from '../host/session';
import { partialReport } from '../host/partial-report';
import { readSamples } from '../host/samples';
import type { IrModel } from '../model/ir';
import type { LayerResult, Report } from '../protocol/report';

const port = parentPort;
if (!port) throw new Error('the Lipschitz Lens worker must run in a worker thread');

const cancelled = new Set<number>();
let queue: Promise<void> = Promise.resolve();

const post = (message: FromWorker) => port.postMessage(message);
/** Only to jobs that asked for it (RunJob.reportStarts). */
const postStart = (message: LayerStartMessage) => port.postMessage(message);

function filesFor(source: ModelSource): FileAccess {
  return source.kind === 'path' ? nodeFileAccess(source.path) : memoryFileAccess(source.path, source.files);
}

function reportFailure(jobId: number, error: unknown, partial?: () => Report | undefined) {
  if (error instanceof CancelledError || cancelled.has(jobId)) {
    const report = partial?.();
    post(report ? { type: 'cancelled', jobId, partial: report } : { type: 'cancelled', jobId });
  } else if (error instanceof ModelError) {
    post({ type: 'error', jobId, message: error.message, badInput: true });
  } else {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    post({ type: 'error', jobId, message: `internal error: ${message}`, badInput: false });
    post({ type: 'log', jobId, level: 'error', text: error instanceof Error && error.stack ? error.stack : message });
  }
}

async function run(job: Extract<ToWorker, { type: 'run' }>) {
  const flag = job.cancelFlag ? new Int32Array(job.cancelFlag) : undefined;
  const shouldStop = () => cancelled.has(job.jobId) || (flag !== undefined && Atomics.load(flag, 0) !== 0);
  const started = performance.now();
  // What a cancelled run can still report: the rows finished so far.
  let opened: { model: IrModel; backend: string } | undefined;
  const finished = new Map<number, LayerResult>();
  try {
    if (shouldStop()) throw new CancelledError();
    const mainRelative = job.source.kind === 'path' ? basename(job.source.path) : job.source.main;
    const recorded = recordingFileAccess(filesFor(job.source), mainRelative);
    const samplesPath = job.samplesPath;
    const report = await runSession(recorded.files, job.settings, {
      shouldStop,
      onModel: (model, planned, backend) => {
        opened = { model, backend: backendLabel(backend) };
        const expected = expectedLayerSeconds(model, job.settings.tol);
        const layers = planned.map((layer, i) => ({ ...layer, expectedSeconds: expected[i] }));
        const expectedSeconds = expected.reduce((a, b) => a + b, 0);
        post({ type: 'model', jobId: job.jobId, model: { path: model.path, format: model.format, inputShape: model.inputs[0]?.shape ?? [] }, layers, backend: backendLabel(backend), warnings: [...model.warnings, ...(backend.note ? [backend.note] : [])], expectedSeconds });
        post({ type: 'log', jobId: job.jobId, level: 'info', text: `${model.path}: ${layers.length} layers (${model.format}), backend ${backendLabel(backend)}` });
      },
      onLayer: (index, layer, done, total) => {
        finished.set(index, layer);
        post({ type: 'layer', jobId: job.jobId, index, layer, done, total });
      },
      ...(job.reportStarts ? { onLayerStart: (index: number) => postStart({ type: 'layerStart', jobId: job.jobId, index }) } : {}),
    }, job.maxBytes, samplesPath ? { samples: (elements) => readSamples(samplesPath, elements) } : {});
    post({ type: 'done', jobId: job.jobId, report, companions: recorded.companions() });
  } catch (error) {
    reportFailure(job.jobId, error, () => opened && partialReport(opened.model, finished, (performance.now() - started) / 1000, job.settings, opened.backend));
  } finally {
    cancelled.delete(job.jobId);
  }
}

async function describe(job: Extract<ToWorker, { type: 'describe' }>) {
  try {
    const { model, layers } = await describeSession(filesFor(job.source), job.inputShape, job.selection);
    post({ type: 'described', jobId: job.jobId, model, layers });
  } catch (error) {
    // An ONNX model that cannot be laid out (most often: an input shape that cannot be guessed)
    // still has a summary in its header; the editor shows it and asks for the shape.
    if (error instanceof ModelError && /\.onnx$/i.test(job.source.path)) {
      try {
        const model = await summarizeOnnx(filesFor(job.source));
        post({ type: 'described', jobId: job.jobId, model, layers: [], needsInputShape: error.message });
        return;
      } catch {
        // Not readable as ONNX either: report the first problem.
      }
    }
    reportFailure(job.jobId, error);
  }
}

port.on('message', (message: ToWorker) => {
  switch (message?.type) {
    case 'cancel':
      cancelled.add(message.jobId);
      break;
    case 'run':
      queue = queue.then(() => run(message));
      break;
    case 'describe':
      queue = queue.then(() => describe(message));
      break;
    default:
      post({ type: 'log', level: 'warn', text: `worker ignored an unknown message` });
  }
});

process.on('uncaughtException', (error) => post({ type: 'log', level: 'error', text: `uncaught: ${error.stack ?? error.message}` }));
process.on('unhandledRejection', (reason) => post({ type: 'log', level: 'error', text: `unhandled: ${String(reason)}` }));
