// One estimate from a model location to a report: what both Node faces (CLI, worker) run.

import type { FileAccess, OpenOptions } from '../model/files';
import type { IrModel } from '../model/ir';
import type { EstimateSettings, LayerResult, Report } from '../protocol/report';
import type { PlannedLayer } from '../protocol/messages';
import { openModel } from '../formats';
import { backendLabel, type BackendInfo } from '../engine/backend';
import { estimateModel, largestLayerWork, linearWork, planLayers } from '../engine/estimate';
import { ComputePool, computeWorkerScript, resolveThreads } from './compute-pool';
import { startBackend } from './start-backend';
import { buildReport, describeModel } from '../engine/report';
import { bracketWanted, computeBracket } from '../engine/bracket';

export interface SessionHooks {
  onModel?(model: IrModel, planned: PlannedLayer[], backend: BackendInfo): void;
  onLayer?(index: number, layer: LayerResult, done: number, total: number): void;
  /** A linear layer's solve begins (estimate.ts). */
  onLayerStart?(index: number): void;
  shouldStop?(): boolean;
}

/** Inputs of the run that are not settings: the bracket's sample inputs (--samples), read once the input shape is known. */
export interface SessionExtras {
  samples?: (elements: number) => Float32Array[];
}

export async function runSession(files: FileAccess, settings: EstimateSettings, hooks: SessionHooks = {}, maxBytes?: number, extras: SessionExtras = {}): Promise<Report> {
  const started = performance.now();
  const backend = await startBackend();
  const before = await fingerprint(files);
  const model = await openModel(files, { ...openOptions(settings), ...(maxBytes !== undefined ? { maxBytes } : {}) });
  hooks.onModel?.(model, planLayers(model), backend);
  const pool = startPool(model, settings, hooks.shouldStop);
  let result: Awaited<ReturnType<typeof estimateModel>>;
  try {
    result = await estimateModel(model, settings, hooks, pool ? { runner: pool } : {});
  } finally {
    await pool?.close();
  }
  // The bracket (docs/bracket.md), when asked for or cheap: measured lower and tighter certified upper.
  let bracketSeconds: Report['bracketSeconds'];
  if (bracketWanted(settings, linearWork(model))) {
    const elements = model.inputs[0]?.shape.reduce((a, b) => a * b, 1) ?? 0;
    const givenInputs = extras.samples?.(elements);
    // 'auto' runs on small models with short budgets, so that the default run stays about as fast.
    // Effort in counts, not seconds, so that reports are reproducible; the time budgets are a safety net.
    const budgets = settings.bracket === 'on' ? {} : { samples: 2, powerSteps: 6, ascentSteps: 8, maxMatrixEntries: 2 ** 16, maxProductCost: 1e8, maxCircularCost: 1e9, lowerSeconds: 20, upperSeconds: 20 };
    const bracket = computeBracket(model, result.layers, result.bounds.certified, { inputRange: settings.inputRange, givenInputs, seed: settings.seed, shouldStop: hooks.shouldStop, ...budgets });
    Object.assign(result.bounds, bracket.bounds);
    bracketSeconds = bracket.seconds;
  }
  const after = await fingerprint(files);
  const warnings = [...model.warnings, ...(backend.note ? [backend.note] : [])];
  if (before !== after) warnings.push(`${files.mainPath} changed during the run: the results may be stale; estimate again`);
  const report = buildReport(model, result, (performance.now() - started) / 1000, settings, backendLabel(backend), warnings);
  return bracketSeconds ? { ...report, bracketSeconds } : report;
}

/**
 * Below this much work (multiply-adds of one forward pass over the linear layers) starting compute
 * workers (~0.2 s each for tfjs-wasm) costs more than it saves, unless threads is set explicitly.
 */
const POOL_MIN_WORK = 2e8;

/**
 * A model is solved in this thread only if even its costliest layer's solve, run to the iteration
 * cap (a forward and an adjoint pass per step), stays under this many multiply-adds, about half a
 * second: a cancel is seen only between layers there.
 */
const IN_THREAD_MAX_SOLVE_WORK = 5e8;

/**
 * A pool of compute workers, or undefined to solve in this thread (unbundled, or a small model).
 * One thread still gets a pool of one worker: a solve in this thread is synchronous, so a cancel
 * (the CLI's SIGINT, a message) would only be seen between layers, minutes late on a big layer;
 * a worker reads the pool's shared cancel flag between solver steps.
 */
function startPool(model: IrModel, settings: EstimateSettings, shouldStop?: () => boolean): ComputePool | undefined {
  const script = computeWorkerScript();
  if (!script) return undefined;
  const inThread = linearWork(model) < POOL_MIN_WORK && largestLayerWork(model) * 2 * settings.maxIter < IN_THREAD_MAX_SOLVE_WORK;
  if (!settings.threads && inThread) return undefined;
  return new ComputePool(script, resolveThreads(settings.threads), shouldStop);
}

/** The main file's size and modification time, when the FileAccess can tell (else a constant). */
async function fingerprint(files: FileAccess): Promise<string> {
  if (!files.stat) return '';
  const name = files.mainPath.split(/[\\/]/).pop() ?? files.mainPath;
  try {
    const { size, mtimeMs } = await files.stat(name);
    return `${size}:${mtimeMs}`;
  } catch {
    return 'gone';
  }
}

/** The reader's options carried by the settings: input shapes, the signal input, fixed values, chosen outputs. */
export function openOptions(settings: Pick<EstimateSettings, 'inputShape' | 'input' | 'inputShapes' | 'inputValues' | 'outputs' | 'inputRange' | 'inputRanges' | 'customLayers'>): OpenOptions {
  return {
    ...(settings.inputShape ? { inputShape: settings.inputShape } : {}),
    ...(settings.input ? { signalInput: settings.input } : {}),
    ...(settings.inputShapes && Object.keys(settings.inputShapes).length > 0 ? { inputShapes: settings.inputShapes } : {}),
    ...(settings.inputValues && Object.keys(settings.inputValues).length > 0 ? { inputValues: settings.inputValues } : {}),
    ...(settings.outputs && settings.outputs.length > 0 ? { outputs: settings.outputs } : {}),
    ...(settings.inputRange ? { inputRange: settings.inputRange } : {}),
    ...(settings.inputRanges && Object.keys(settings.inputRanges).length > 0 ? { inputRanges: settings.inputRanges } : {}),
    ...(settings.customLayers && Object.keys(settings.customLayers).length > 0 ? { customLayers: settings.customLayers } : {}),
  };
}

export async function describeSession(files: FileAccess, inputShape?: number[], options: Omit<EstimateSettings, 'tol' | 'maxIter' | 'seed' | 'method'> = {}) {
  const model = await openModel(files, openOptions({ ...options, ...(inputShape ? { inputShape } : {}) }));
  return { model: describeModel(model), layers: planLayers(model) };
}
