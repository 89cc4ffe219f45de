// The lipschitzLens.* settings, read from a plain getter so the parsing is testable without vscode.

import { DEFAULT_SETTINGS, type EstimateSettings, type SolverMethod } from '../protocol/report';

export interface ExtensionSettings {
  tolerance: number;
  maxIterations: number;
  solver: SolverMethod;
  defaultInputShape: number[] | undefined;
  /** Run automatically when a model smaller than this is opened; 0 = never. */
  autoRunMaxBytes: number;
  /** Refuse models larger than this (main file plus weight shards); 0 = no limit. */
  maxModelBytes: number;
  /** Layers solved at once on worker threads; 0 = one per core (at most 3) on large models. */
  threads: number;
}

export const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 ** 3;
export const DEFAULT_AUTO_RUN_MAX_BYTES = 0;

/** "1,3,224,224", "1x3x224x224", "[1, 3, 224, 224]" or an array → positive integers; undefined when empty or invalid. */
export function parseInputShape(value: unknown): number[] | undefined {
  let parts: unknown[];
  if (Array.isArray(value)) parts = value;
  else if (typeof value === 'string') {
    const text = value.trim().replace(/^\[|\]$/g, '').trim();
    if (text === '') return undefined;
    parts = text.split(/\s*[,x×\s]\s*/);
  } else return undefined;
  if (parts.length === 0 || parts.length > 8) return undefined;
  const shape: number[] = [];
  for (const part of parts) {
    const n = typeof part === 'number' ? part : typeof part === 'string' && /^\d+$/.test(part) ? Number(part) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) return undefined;
    shape.push(n);
  }
  return shape;
}

/** Why an input shape the user typed is not valid, or undefined when it is. */
export function validateInputShapeText(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  return parseInputShape(text) ? undefined : 'Give positive integers separated by commas, e.g. 1,3,224,224 (batch first, the model file\'s own layout).';
}

function finiteIn(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : fallback;
}

export function readSettings(get: (key: string) => unknown): ExtensionSettings {
  const solver = get('solver');
  return {
    tolerance: finiteIn(get('tolerance'), 1e-12, 0.5, DEFAULT_SETTINGS.tol),
    maxIterations: Math.round(finiteIn(get('maxIterations'), 1, 1e6, DEFAULT_SETTINGS.maxIter)),
    solver: solver === 'power' || solver === 'lanczos' ? solver : DEFAULT_SETTINGS.method,
    defaultInputShape: parseInputShape(get('defaultInputShape')),
    autoRunMaxBytes: Math.round(finiteIn(get('autoRunMaxBytes'), 0, Number.MAX_SAFE_INTEGER, DEFAULT_AUTO_RUN_MAX_BYTES)),
    maxModelBytes: Math.round(finiteIn(get('maxModelBytes'), 0, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_MODEL_BYTES)),
    threads: Math.round(finiteIn(get('threads'), 0, 64, 0)),
  };
}

/** The engine settings of a run: the file's remembered input shape wins over the default. */
export function estimateSettings(settings: ExtensionSettings, fileInputShape: number[] | undefined): EstimateSettings {
  const inputShape = fileInputShape ?? settings.defaultInputShape;
  return {
    tol: settings.tolerance,
    maxIter: settings.maxIterations,
    seed: DEFAULT_SETTINGS.seed,
    method: settings.solver,
    ...(inputShape ? { inputShape } : {}),
    ...(settings.threads > 0 ? { threads: settings.threads } : {}),
  };
}

/** A one-line refusal for a model over the size limit, or undefined when it may run. */
export function sizeRefusal(fileName: string, bytes: number, maxModelBytes: number): string | undefined {
  if (maxModelBytes <= 0 || bytes <= maxModelBytes) return undefined;
  const mb = (n: number) => `${(n / 1024 ** 2).toFixed(n < 10 * 1024 ** 2 ? 1 : 0)} MB`;
  return `${fileName} is ${mb(bytes)} with its weights, over the limit of ${mb(maxModelBytes)} (setting lipschitzLens.maxModelBytes).`;
}
