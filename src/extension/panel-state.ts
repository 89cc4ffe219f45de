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
      const needsInputShape = message.needsInputShape;
      const state: PanelState = untouched
        ? { ...previous, summary, needsInputShape, model: message.model, layers: message.layers, total: message.layers.length }
        : { ...previous, summary, needsInputShape };
      return { state, messages: [{ type: 'state', state }] };
    }
    case 'log':
      return { state: previous, messages: [] };
  }
}

/** A report that is not the whole run: what the panel showed when a run was cancelled or failed. */
export interface PartialRun {
  status: 'running' | 'cancelled' | 'error';
  /** Rows with a result, of `total`. */
  done: number;
  total: number;
}

/**
 * What the panel shows, as a report to export: the finished report, or the rows finished so far
 * of a run that was cancelled, failed or is still going (with `partial` saying so, and no network
 * bound, since none is known). Undefined when the panel shows no result at all.
 */
export function shownReport(state: PanelState, report: Report | undefined): { report: Report; partial?: PartialRun } | undefined {
  if (state.status === 'done' && report && state.layers === report.layers) return { report };
  if (state.status === 'idle' || state.status === 'done') return report ? { report } : undefined;
  const done = state.layers.filter(isLayerResult).length;
  const model = state.model ?? report?.model;
  if (done === 0 || !model) return undefined;
  const how = state.status === 'cancelled' ? 'the run was cancelled before this row' : state.status === 'error' ? 'the run failed before this row' : 'not computed yet';
  // Rows keep their panel index: a row not done is there, with no σ and a note saying why.
  const layers: LayerResult[] = state.layers.map((layer) => {
    if (isLayerResult(layer)) return layer;
    const { index: _index, ...plan } = layer;
    return { ...plan, sigma: null, upperBound: null, iterations: 0, converged: false, seconds: 0, note: `not computed: ${how}` };
  });
  return {
    report: {
      model,
      layers,
      bounds: { product: null, certified: null, unsupported: [] },
      seconds: layers.reduce((sum, layer) => sum + (layer.seconds > 0 ? layer.seconds : 0), 0),
      ...(report?.settings ? { settings: report.settings } : {}),
    },
    partial: { status: state.status, done, total: Math.max(state.total, state.layers.length) },
  };
}
