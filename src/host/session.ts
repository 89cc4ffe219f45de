// One estimate from a model location to a report: what both Node faces (CLI, worker) run.

import type { FileAccess, OpenOptions } from '../model/files';
import type { IrModel } from '../model/ir';
import type { EstimateSettings, LayerResult, Report } from '../protocol/report';
import type { PlannedLayer } from '../protocol/messages';
import { openModel } from '../formats';
import type { BackendInfo } from '../engine/backend';
import { estimateModel, linearWork, planLayers } from '../engine/estimate';
import { ComputePool, computeWorkerScript, resolveThreads } from './compute-pool';
import { startBackend } from './start-backend';
import { buildReport, describeModel } from '../engine/report';

export interface SessionHooks {
  onModel?(model: IrModel, planned: PlannedLayer[], backend: BackendInfo): void;
  onLayer?(index: number, layer: LayerResult, done: number, total: number): void;
  shouldStop?(): boolean;
}

export async function runSession(files: FileAccess, settings: EstimateSettings, hooks: SessionHooks = {}, maxBytes?: number): Promise<Report> {
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
  const after = await fingerprint(files);
  const warnings = [...model.warnings, ...(backend.note ? [backend.note] : [])];
  if (before !== after) warnings.push(`${files.mainPath} changed during the run: the results may be stale; estimate again`);
  return buildReport(model, result, (performance.now() - started) / 1000, settings, backend.name, warnings);
}

/**
 * Below this much work (multiply-adds of one forward pass over the linear layers) starting compute
 * workers (~0.2 s each for tfjs-wasm) costs more than it saves, unless threads is set explicitly.
 */
const POOL_MIN_WORK = 2e8;

/** A pool of compute workers, or undefined to solve in this thread (unbundled, one core, small model). */
function startPool(model: IrModel, settings: EstimateSettings, shouldStop?: () => boolean): ComputePool | undefined {
  const script = computeWorkerScript();
  const threads = resolveThreads(settings.threads);
  if (!script || threads < 2) return undefined;
  if (!settings.threads && linearWork(model) < POOL_MIN_WORK) return undefined;
  return new ComputePool(script, threads, shouldStop);
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
export function openOptions(settings: Pick<EstimateSettings, 'inputShape' | 'input' | 'inputShapes' | 'inputValues' | 'outputs' | 'inputRange'>): OpenOptions {
  return {
    ...(settings.inputShape ? { inputShape: settings.inputShape } : {}),
    ...(settings.input ? { signalInput: settings.input } : {}),
    ...(settings.inputShapes && Object.keys(settings.inputShapes).length > 0 ? { inputShapes: settings.inputShapes } : {}),
    ...(settings.inputValues && Object.keys(settings.inputValues).length > 0 ? { inputValues: settings.inputValues } : {}),
    ...(settings.outputs && settings.outputs.length > 0 ? { outputs: settings.outputs } : {}),
    ...(settings.inputRange ? { inputRange: settings.inputRange } : {}),
  };
}

export async function describeSession(files: FileAccess, inputShape?: number[], options: Omit<EstimateSettings, 'tol' | 'maxIter' | 'seed' | 'method'> = {}) {
  const model = await openModel(files, openOptions({ ...options, ...(inputShape ? { inputShape } : {}) }));
  return { model: describeModel(model), layers: planLayers(model) };
}
