// Every message between the extension, the worker and the webview: typed unions with a `type`
// discriminant. The webview imports only this module and ./report.

import type { EstimateSettings, LayerResult, ModelInfo, NetworkBounds, Report } from './report';

/** Where the worker finds the model: a local path, or bytes the extension read (remote hosts, virtual files). */
export type ModelSource =
  | { kind: 'path'; path: string }
  | {
      kind: 'bytes';
      /** Display path (URI string) of the main file. */
      path: string;
      /** Main file and companions (weight shards, external data), keyed by path relative to the model's folder. */
      files: Record<string, Uint8Array>;
      main: string;
    };

// ---- extension → worker -------------------------------------------------------------------

export interface RunJob {
  type: 'run';
  jobId: number;
  source: ModelSource;
  settings: EstimateSettings;
  /**
   * Int32Array view over a SharedArrayBuffer of length ≥ 1: the extension stores 1 at index 0 to cancel.
   * The solver polls it between products, so cancel works even while the worker's event loop is busy.
   */
  cancelFlag?: SharedArrayBuffer;
  /** A file or folder of sample inputs for the measured lower bound (`--samples`). */
  samplesPath?: string;
  /** The largest model file the reader accepts, in bytes (`--max-bytes`). */
  maxBytes?: number;
  /** Also post a LayerStartMessage when each linear layer's solve begins (the CLI's heartbeat asks for it). */
  reportStarts?: boolean;
}

export interface CancelJob {
  type: 'cancel';
  jobId: number;
}

/** Reads only the model summary (for the .onnx custom editor) without estimating. */
export interface DescribeJob {
  type: 'describe';
  jobId: number;
  source: ModelSource;
  inputShape?: number[];
  /** The signal input, other inputs' shapes and values, and chosen outputs (as in EstimateSettings). */
  selection?: Pick<EstimateSettings, 'input' | 'inputShapes' | 'inputValues' | 'outputs'>;
}

export type ToWorker = RunJob | CancelJob | DescribeJob;

// ---- worker → extension -------------------------------------------------------------------

/** Planned rows, sent once the model is read and before any σ is computed. */
export interface PlannedLayer {
  index: number;
  name: string;
  op: string;
  kind: LayerResult['kind'];
  weightShape: number[] | null;
  inputShape: number[];
  outputShape: number[];
  sourceIndex?: number;
  /** Expected seconds of this layer on one quiet core (the engine's cost model; 0 for closed forms). */
  expectedSeconds?: number;
  /** Names of the values the row produces (ONNX tensor names, TF.js node outputs): what an output choice can name. */
  outputs?: string[];
}

export interface ModelReadMessage {
  type: 'model';
  jobId: number;
  model: ModelInfo;
  layers: PlannedLayer[];
  backend: string;
  warnings: string[];
  /** Expected seconds of the whole run on one quiet core, from the cost model (sum of the layers'). */
  expectedSeconds?: number;
}

export interface LayerDoneMessage {
  type: 'layer';
  jobId: number;
  index: number;
  layer: LayerResult;
  /** Layers finished so far, of `total`. */
  done: number;
  total: number;
}

/**
 * A linear layer's solve began (sent only to jobs with `reportStarts`; not part of FromWorker, so
 * consumers that did not ask never see it).
 */
export interface LayerStartMessage {
  type: 'layerStart';
  jobId: number;
  index: number;
}

export interface JobDoneMessage {
  type: 'done';
  jobId: number;
  report: Report;
  /**
   * Companion files the loader read (weight shards, ONNX external data), relative to the model's
   * folder: the extension keys its cache on their contents too.
   */
  companions?: string[];
}

export interface JobCancelledMessage {
  type: 'cancelled';
  jobId: number;
  /** The rows finished before the cancel, once the model was read (no network bound). */
  partial?: Report;
}

export interface JobErrorMessage {
  type: 'error';
  jobId: number;
  /** One line that names the file and the problem. */
  message: string;
  /** True for a problem with the model file (bad input); false for an internal failure. */
  badInput: boolean;
}

export interface DescribeResultMessage {
  type: 'described';
  jobId: number;
  model: ModelInfo;
  layers: PlannedLayer[];
  /** Set when the model could not be laid out without an input shape: why (model.inputShape is then []). */
  needsInputShape?: string;
}

export interface LogMessage {
  type: 'log';
  jobId?: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export type FromWorker =
  | ModelReadMessage
  | LayerDoneMessage
  | JobDoneMessage
  | JobCancelledMessage
  | JobErrorMessage
  | DescribeResultMessage
  | LogMessage;

// ---- extension → webview ------------------------------------------------------------------

export type RunStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

/** Everything the panel shows; also what it saves with setState. */
export interface PanelState {
  model: ModelInfo | null;
  layers: (LayerResult | PlannedLayer)[];
  bounds: NetworkBounds | null;
  status: RunStatus;
  done: number;
  total: number;
  error?: string;
  fromCache?: boolean;
  /** True when a click on a row reveals it in the model: the layer in model.json, the node in the .onnx editor. */
  canReveal: boolean;
  /** Summary shown by the .onnx custom editor above the table. */
  summary?: ModelInfo;
  /** Why the model needs an input shape before it can be estimated (the .onnx editor asks for one). */
  needsInputShape?: string;
  seconds?: number;
}

export type ToWebview =
  | { type: 'state'; state: PanelState }
  | { type: 'layer'; index: number; layer: LayerResult; done: number; total: number; runningBound: number | null }
  | { type: 'status'; status: RunStatus; error?: string; bounds?: NetworkBounds | null; seconds?: number }
  /** Show row `row`'s graph node (the .onnx editor's node list): the answer to a 'reveal' from any page of the model. */
  | { type: 'reveal'; row: number };

// ---- webview → extension ------------------------------------------------------------------

export type FromWebview =
  | { type: 'ready' }
  | { type: 'estimate'; inputShape?: number[] }
  | { type: 'cancel' }
  | { type: 'export'; format: 'json' | 'csv' | 'markdown' | 'netron' }
  | { type: 'reveal'; index: number };

/** Validates a message from the webview before use: the webview is untrusted input. */
export function parseFromWebview(value: unknown): FromWebview | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'estimate': {
      const shape = message.inputShape;
      if (shape === undefined) return { type: 'estimate' };
      const valid = Array.isArray(shape) && shape.length > 0 && shape.length <= 8 && shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0);
      return valid ? { type: 'estimate', inputShape: shape as number[] } : undefined;
    }
    case 'ready':
    case 'cancel':
      return { type: message.type };
    case 'export':
      return message.format === 'json' || message.format === 'csv' || message.format === 'markdown' || message.format === 'netron'
        ? { type: 'export', format: message.format }
        : undefined;
    case 'reveal':
      return Number.isSafeInteger(message.index) && (message.index as number) >= 0 ? { type: 'reveal', index: message.index as number } : undefined;
    default:
      return undefined;
  }
}
