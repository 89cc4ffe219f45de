// The results table's state and how worker messages change it. Pure: the results panel and the
// .onnx editor hold one PanelState per model and broadcast the ToWebview messages this returns.

import type { FromWorker, PanelState, PlannedLayer, ToWebview } from '../protocol/messages';
import type { LayerResult, ModelInfo, Report } from '../protocol/report';

export function initialPanelState(canReveal: boolean): PanelState {
  return { model: null, layers: [], bounds: null, status: 'idle', done: 0, total: 0, canReveal };
}

/** The state that shows a finished report (from a run or from the cache). */
export function stateFromReport(report: Report, previous: PanelState, fromCache: boolean): PanelState {
  return {
    ...previous,
    model: report.model,
    layers: report.layers,
    bounds: report.bounds,
    status: 'done',
    done: report.layers.length,
    total: report.layers.length,
    error: undefined,
    fromCache,
    seconds: report.seconds,
  };
}

/** A run was asked for: nothing is known yet beyond what the previous state showed. */
export function startRun(previous: PanelState): { state: PanelState; messages: ToWebview[] } {
  const state: PanelState = { ...previous, status: 'running', error: undefined, fromCache: false, done: 0, bounds: null, seconds: undefined };
  return { state, messages: [{ type: 'state', state }] };
}

/** A run ended without a worker message saying so (worker crash, refused before starting). */
export function failRun(previous: PanelState, error: string): { state: PanelState; messages: ToWebview[] } {
  const state: PanelState = { ...previous, status: 'error', error };
  return { state, messages: [{ type: 'status', status: 'error', error }] };
}

export function cancelRun(previous: PanelState): { state: PanelState; messages: ToWebview[] } {
  const state: PanelState = { ...previous, status: 'cancelled' };
  return { state, messages: [{ type: 'status', status: 'cancelled' }] };
}

export function isLayerResult(layer: LayerResult | PlannedLayer): layer is LayerResult {
  return 'sigma' in layer;
}

/** Applies one message of the current job. Messages of other jobs must be filtered out before. */
export function applyWorkerMessage(previous: PanelState, message: FromWorker): { state: PanelState; messages: ToWebview[] } {
  switch (message.type) {
    case 'model': {
      const state: PanelState = {
        ...previous,
        model: message.model,
        layers: message.layers,
        bounds: null,
        status: 'running',
        done: 0,
        total: message.layers.length,
        error: undefined,
        fromCache: false,
        seconds: undefined,
      };
      return { state, messages: [{ type: 'state', state }] };
    }
    case 'layer': {
      const layers = previous.layers.slice();
      const at = Number.isSafeInteger(message.index) && message.index >= 0 ? message.index : layers.length;
      // The worker announced the rows; a layer beyond them (should not happen) is appended.
      if (at < layers.length) layers[at] = message.layer;
      else layers.push(message.layer);
      const state: PanelState = { ...previous, layers, done: message.done, total: Math.max(message.total, layers.length) };
      const runningBound = message.layer.runningBound ?? null;
      return { state, messages: [{ type: 'layer', index: at, layer: message.layer, done: message.done, total: state.total, runningBound }] };
    }
    case 'done': {
      const state = stateFromReport(message.report, previous, false);
      return { state, messages: [{ type: 'state', state }] };
    }
    case 'cancelled':
      return cancelRun(previous);
    case 'error':
      return failRun(previous, message.message);
    case 'described': {
      const summary: ModelInfo = message.model;
      const untouched = previous.status === 'idle' && previous.layers.length === 0;
      const state: PanelState = untouched
        ? { ...previous, summary, model: message.model, layers: message.layers, total: message.layers.length }
        : { ...previous, summary };
      return { state, messages: [{ type: 'state', state }] };
    }
    case 'log':
      return { state: previous, messages: [] };
  }
}
