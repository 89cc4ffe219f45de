// The lipschitzLens.* settings, read from a plain getter so the parsing is testable without vscode.

import { DEFAULT_SETTINGS, type EstimateSettings, type SolverMethod } from '../protocol/report';
import { parseCustomLayers } from '../protocol/custom-layers';

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
  /** Reports kept per model file for Compare Runs (at least 1). */
  historySize: number;
  /** The bracket on the true constant (docs/bracket.md): 'auto' runs it on small models only. */
  bracket: 'auto' | 'on' | 'off';
  /** Custom Keras layer classes declared by the user, CLASS → declaration (the valid entries). */
  customLayers: Record<string, string>;
  /** Why entries of lipschitzLens.customLayers were ignored (one message each). */
  customLayerProblems: string[];
}

export const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 ** 3;
export const DEFAULT_AUTO_RUN_MAX_BYTES = 0;
export const DEFAULT_HISTORY_SIZE = 5;

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

function finiteIn(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : fallback;
}

function bracketMode(value: unknown): ExtensionSettings['bracket'] {
  return value === 'on' || value === 'off' ? value : 'auto';
}

/** The valid entries of lipschitzLens.customLayers and, for the others, why they were ignored. */
export function readCustomLayers(value: unknown): { customLayers: Record<string, string>; customLayerProblems: string[] } {
  const customLayers: Record<string, string> = {};
  const customLayerProblems: string[] = [];
  if (value === undefined || value === null) return { customLayers, customLayerProblems };
  if (typeof value !== 'object' || Array.isArray(value)) return { customLayers, customLayerProblems: ['lipschitzLens.customLayers must be an object of CLASS: "declaration" entries'] };
  for (const [className, text] of Object.entries(value as Record<string, unknown>)) {
    const parsed = typeof text === 'string' ? parseCustomLayers({ [className]: text }) : `custom layer ${className}: the declaration must be a string`;
    if (typeof parsed === 'string') customLayerProblems.push(`lipschitzLens.customLayers: ${parsed}`);
    else customLayers[className] = (text as string).trim();
  }
  return { customLayers, customLayerProblems };
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
    historySize: Math.round(finiteIn(get('historySize'), 1, 100, DEFAULT_HISTORY_SIZE)),
    bracket: bracketMode(get('bracket')),
    ...readCustomLayers(get('customLayers')),
  };
}

/**
 * What the user chose for one model file's inputs and outputs, remembered per file (see
 * docs/graphs.md, "Several inputs" and "A chosen output"): the signal input, the shapes and values
 * of the inputs held fixed, and the values the bound is taken to.
 */
export interface ModelIoChoice {
  input?: string;
  inputShapes?: Record<string, number[]>;
  inputValues?: Record<string, number>;
  outputs?: string[];
}

/** The choice without empty members, so that "nothing chosen" has one form (and one cache key). */
export function normalizeIoChoice(choice: ModelIoChoice | undefined): ModelIoChoice {
  const out: ModelIoChoice = {};
  if (!choice) return out;
  if (choice.input) out.input = choice.input;
  if (choice.inputShapes && Object.keys(choice.inputShapes).length > 0) out.inputShapes = { ...choice.inputShapes };
  if (choice.inputValues && Object.keys(choice.inputValues).length > 0) out.inputValues = { ...choice.inputValues };
  if (choice.outputs && choice.outputs.length > 0) out.outputs = [...new Set(choice.outputs)];
  return out;
}

/** The text of Set Input Shape: the signal input's shape and other inputs' shapes. */
export interface ShapeEntries {
  signal?: number[];
  named: Record<string, number[]>;
}

const SHAPE_HELP = 'Give positive integers separated by commas, e.g. 1,3,224,224 (batch first, the model file\'s own layout); other inputs as NAME=2,1,128, entries separated by ";".';

/** Splits "a; b; c" into its non-empty entries. */
function entriesOf(text: string): string[] {
  return text.split(';').map((e) => e.trim()).filter((e) => e !== '');
}

/**
 * Parses "1,3,224,224; state=2,1,128; h=1,64": at most one unnamed entry (the signal input's shape)
 * and any number of NAME=dims entries (inputs held fixed). The name is what precedes the last "=",
 * so names with ":" or "/" (TF.js) are kept whole.
 */
export function parseShapeEntries(text: string): ShapeEntries | { error: string } {
  const named: Record<string, number[]> = {};
  let signal: number[] | undefined;
  for (const entry of entriesOf(text)) {
    const eq = entry.lastIndexOf('=');
    const name = eq >= 0 ? entry.slice(0, eq).trim() : undefined;
    const dims = eq >= 0 ? entry.slice(eq + 1) : entry;
    if (name === '') return { error: `"${entry}" has no input name before "=". ${SHAPE_HELP}` };
    const shape = parseInputShape(dims);
    if (!shape) return { error: `"${entry}" is not a shape. ${SHAPE_HELP}` };
    if (name === undefined) {
      if (signal) return { error: `Two shapes without a name ("${signal.join(',')}" and "${entry}"): name the other inputs as NAME=dims.` };
      signal = shape;
    } else {
      if (named[name]) return { error: `Input "${name}" is given twice.` };
      named[name] = shape;
    }
  }
  return { ...(signal ? { signal } : {}), named };
}

/** The Set Input Shape text for a remembered signal shape and named shapes. */
export function formatShapeEntries(signal: number[] | undefined, named: Record<string, number[]> | undefined): string {
  return [...(signal ? [signal.join(',')] : []), ...Object.entries(named ?? {}).map(([name, shape]) => `${name}=${shape.join(',')}`)].join('; ');
}

/** Why the text of Set Input Shape is not valid, or undefined when it is. */
export function validateInputShapeText(text: string): string | undefined {
  const parsed = parseShapeEntries(text);
  return 'error' in parsed ? parsed.error : undefined;
}

/** Parses "sr=16000; gain=0.5": fixed values of inputs held fixed (every entry of the input takes the value). */
export function parseInputValues(text: string): { values: Record<string, number> } | { error: string } {
  const values: Record<string, number> = {};
  for (const entry of entriesOf(text)) {
    const eq = entry.lastIndexOf('=');
    if (eq < 0) return { error: `"${entry}" needs a name and a value, e.g. sr=16000.` };
    const name = entry.slice(0, eq).trim();
    const valueText = entry.slice(eq + 1).trim();
    if (name === '') return { error: `"${entry}" has no input name before "=".` };
    const value = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(valueText) ? Number(valueText) : NaN;
    if (!Number.isFinite(value)) return { error: `The value of "${name}" is not a finite number: "${valueText}".` };
    if (name in values) return { error: `Input "${name}" is given twice.` };
    values[name] = value;
  }
  return { values };
}

/** The Set Input Values text for remembered values. */
export function formatInputValues(values: Record<string, number> | undefined): string {
  return Object.entries(values ?? {}).map(([name, value]) => `${name}=${value}`).join('; ');
}

/** Why the text of Set Input Values is not valid, or undefined when it is. */
export function validateInputValuesText(text: string): string | undefined {
  const parsed = parseInputValues(text);
  return 'error' in parsed ? parsed.error : undefined;
}

/** A message naming the names that are not among the model's inputs (or outputs), or undefined. */
export function unknownNames(names: readonly string[], known: readonly string[] | undefined, what: 'input' | 'output'): string | undefined {
  if (!known || known.length === 0) return undefined;
  const missing = names.filter((n) => !known.includes(n));
  if (missing.length === 0) return undefined;
  const list = missing.map((n) => `"${n}"`).join(', ');
  return `The model has no ${what}${missing.length > 1 ? 's' : ''} ${list} (its ${what}s: ${known.join(', ')}).`;
}

/** The engine settings of a run: the file's remembered input shape wins over the default. */
export function estimateSettings(settings: ExtensionSettings, fileInputShape: number[] | undefined, io?: ModelIoChoice): EstimateSettings {
  const inputShape = fileInputShape ?? settings.defaultInputShape;
  return {
    tol: settings.tolerance,
    maxIter: settings.maxIterations,
    seed: DEFAULT_SETTINGS.seed,
    method: settings.solver,
    ...(inputShape ? { inputShape } : {}),
    ...normalizeIoChoice(io),
    ...(settings.threads > 0 ? { threads: settings.threads } : {}),
    bracket: settings.bracket,
    ...(Object.keys(settings.customLayers).length > 0 ? { customLayers: settings.customLayers } : {}),
  };
}

/** A one-line refusal for a model over the size limit, or undefined when it may run. */
export function sizeRefusal(fileName: string, bytes: number, maxModelBytes: number): string | undefined {
  if (maxModelBytes <= 0 || bytes <= maxModelBytes) return undefined;
  const mb = (n: number) => `${(n / 1024 ** 2).toFixed(n < 10 * 1024 ** 2 ? 1 : 0)} MB`;
  return `${fileName} is ${mb(bytes)} with its weights, over the limit of ${mb(maxModelBytes)} (setting lipschitzLens.maxModelBytes).`;
}
