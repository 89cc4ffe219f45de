// Runs one hostile model through the pipeline in-process (openModel, then a capped estimate) and
// checks how it ended: a one-line ModelError naming the file, or a report; never another
// exception, never past the time limit, never an allocation the bytes on disk do not justify.

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openModel, type OpenModelOptions } from '../../../src/formats';
import { memoryFileAccess } from '../../../src/model/memory-files';
import { nodeFileAccess } from '../../../src/host/node-files';
import { ModelError } from '../../../src/model/errors';
import { CancelledError } from '../../../src/engine/operator';
import { estimateModel, type EstimateResult } from '../../../src/engine/estimate';
import type { FileAccess } from '../../../src/model/files';
import type { IrModel } from '../../../src/model/ir';

/** A model folder: the main file's name and every file in it, by path relative to the folder. */
export interface Folder {
  main: string;
  files: Record<string, Uint8Array>;
}

export type Expect = 'error' | 'report' | 'either';

/** A main file prepared on disk by the case itself (directories, FIFOs, symlinks, modes). */
export interface OnDisk {
  path: string;
}

export interface Case {
  name: string;
  make: () => Folder | OnDisk | Promise<Folder | OnDisk>;
  /** What must happen (default: either a ModelError or a report). */
  expect?: Expect;
  /** The ModelError's message must match this. */
  problem?: RegExp;
  options?: OpenModelOptions;
  /** Count typed-array allocations while opening; fail if one exceeds this many bytes. */
  allocationLimit?: number;
  /** With allocationLimit: fail if all allocations while opening add up to more than this. */
  totalAllocationLimit?: number;
  /** Open from a temporary folder on disk (nodeFileAccess) instead of memory. */
  onDisk?: boolean;
  /** Checks on a successful open and estimate. */
  check?: (model: IrModel, result: EstimateResult | undefined) => void;
  /** Run the estimate to the end (no deadline): for the NaN / Inf cases. */
  fullEstimate?: boolean;
}

export interface Outcome {
  kind: 'error' | 'report' | 'capped';
  message?: string;
  seconds: number;
  largestAllocation?: number;
}

export const CASE_TIME_LIMIT_S = 10;
/** Wall time the estimate of a mutated model that still loads may take before it is stopped. */
const ESTIMATE_BUDGET_MS = 150;

let scratchRoot: string | undefined;
let scratchCount = 0;
export function setScratchRoot(dir: string): void {
  scratchRoot = dir;
}

/** Writes a folder to a fresh directory under the scratch root; returns the main file's path. */
export function writeFolder(folder: Folder, label = 'case'): string {
  if (!scratchRoot) throw new Error('setScratchRoot first');
  const dir = join(scratchRoot, `${++scratchCount}-${label.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`);
  mkdirSync(dir, { recursive: true });
  for (const [path, bytes] of Object.entries(folder.files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return join(dir, folder.main);
}

/** Checks that a thrown value is a ModelError with a one-line message naming `file`. */
export function checkModelError(error: unknown, file: string): string {
  if (!(error instanceof ModelError)) {
    const detail = error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}\n${error.stack?.split('\n').slice(1, 6).join('\n')}` : String(error);
    throw new Error(`threw something other than a ModelError: ${detail}`);
  }
  const { message } = error;
  if (message.includes('\n')) throw new Error(`message spans lines: ${JSON.stringify(message.slice(0, 300))}`);
  if (!message.startsWith(file)) throw new Error(`message does not start with the file "${file}": ${message.slice(0, 300)}`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(message)) throw new Error(`message holds control characters: ${JSON.stringify(message.slice(0, 300))}`);
  if (message.length > 1000) throw new Error(`message is ${message.length} characters long: ${message.slice(0, 200)}...`);
  if (/\bat .+:\d+:\d+\)?$/.test(message) || /^\s*at /m.test(message)) throw new Error(`message holds a stack trace: ${message}`);
  if (message.slice(file.length).trim().replace(/^:\s*/, '').length < 5) throw new Error(`message names no problem: ${message}`);
  return message;
}

// --- allocation counter -----------------------------------------------------------------------------

const ALLOCATORS = ['ArrayBuffer', 'SharedArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'] as const;

/**
 * Runs `fn` with the global ArrayBuffer and typed-array constructors wrapped, and returns the
 * largest single allocation asked for (in bytes) while it ran, whether or not it succeeded.
 */
export async function countAllocations<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; largest: number; total: number }> {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  let largest = 0;
  let total = 0;
  for (const name of ALLOCATORS) {
    const target = g[name] as (new (...args: unknown[]) => unknown) & { BYTES_PER_ELEMENT?: number };
    if (typeof target !== 'function') continue;
    saved.set(name, target);
    const perElement = target.BYTES_PER_ELEMENT ?? 1;
    g[name] = new Proxy(target, {
      construct(t, args, newTarget) {
        const first = args[0];
        const count = typeof first === 'number' ? first : first && typeof first === 'object' && !(first instanceof (saved.get('ArrayBuffer') as typeof ArrayBuffer)) && 'length' in first ? Number((first as { length: unknown }).length) : 0;
        const bytes = Number.isFinite(count) ? count * perElement : Infinity;
        largest = Math.max(largest, bytes);
        total += bytes;
        return Reflect.construct(t, args, newTarget === g[name] ? t : newTarget);
      },
    });
  }
  try {
    const value = await fn();
    return { value, largest, total };
  } catch (error) {
    return { error, largest, total };
  } finally {
    for (const [name, original] of saved) g[name] = original;
  }
}

// --- one case ---------------------------------------------------------------------------------------

function access(folder: Folder | OnDisk, onDisk: boolean, label: string): FileAccess {
  if ('path' in folder) return nodeFileAccess(folder.path);
  if (onDisk) return nodeFileAccess(writeFolder(folder, label));
  return memoryFileAccess(folder.main, folder.files);
}

/** Runs a case; throws (with the case's name) when it ends in a way the rules forbid. */
export async function runCase(c: Case): Promise<Outcome> {
  let folder: Folder | OnDisk;
  try {
    folder = await c.make();
  } catch (error) {
    throw new Error(`${c.name}: building the case failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const files = access(folder, c.onDisk ?? false, c.name);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const fail = (why: string): never => {
    throw new Error(`${c.name}: ${why}`);
  };

  let model: IrModel | undefined;
  let largestAllocation: number | undefined;
  let openError: unknown;
  if (c.allocationLimit !== undefined) {
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
    const counted = await countAllocations(() => openModel(files, c.options ?? {}));
    const grown = process.memoryUsage().arrayBuffers - arrayBuffersBefore;
    if (grown > c.allocationLimit) fail(`array buffers grew by ${grown} bytes while opening (limit ${c.allocationLimit})`);
    largestAllocation = counted.largest;
    model = counted.value;
    openError = counted.error;
    if (c.totalAllocationLimit !== undefined && counted.total > c.totalAllocationLimit) {
      fail(`allocated ${counted.total} bytes in all (limit ${c.totalAllocationLimit}) before ${counted.error ? 'refusing' : 'accepting'} the model`);
    }
    if (counted.largest > c.allocationLimit) {
      fail(`allocated ${counted.largest} bytes at once (limit ${c.allocationLimit}) before ${counted.error ? 'refusing' : 'accepting'} the model`);
    }
  } else {
    try {
      model = await openModel(files, c.options ?? {});
    } catch (error) {
      openError = error;
    }
  }
  if (elapsed() > CASE_TIME_LIMIT_S) fail(`took ${elapsed().toFixed(1)} s to open`);

  if (!model) {
    let message: string;
    try {
      message = checkModelError(openError, files.mainPath);
    } catch (error) {
      return fail((error as Error).message);
    }
    if (c.expect === 'report') fail(`expected a report, got: ${message}`);
    if (c.problem && !c.problem.test(message)) fail(`message ${JSON.stringify(message)} does not match ${c.problem}`);
    return { kind: 'error', message, seconds: elapsed(), largestAllocation };
  }
  if (c.expect === 'error') fail(`expected a ModelError${c.problem ? ` matching ${c.problem}` : ''}, but the model opened (${model.nodes.length} nodes)`);

  const deadline = performance.now() + ESTIMATE_BUDGET_MS;
  let result: EstimateResult | undefined;
  try {
    result = await estimateModel(model, { tol: 0.05, maxIter: 2, seed: 0, method: 'lanczos' }, c.fullEstimate ? {} : { shouldStop: () => performance.now() > deadline });
  } catch (error) {
    if (!(error instanceof CancelledError)) {
      const detail = error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}\n${error.stack?.split('\n').slice(1, 5).join('\n')}` : String(error);
      fail(`the estimate of the opened model threw ${detail}`);
    }
  }
  if (elapsed() > CASE_TIME_LIMIT_S) fail(`took ${elapsed().toFixed(1)} s`);
  if (result) {
    if (result.layers.length !== model.nodes.length) fail(`report has ${result.layers.length} rows for ${model.nodes.length} nodes`);
    if (result.bounds.product !== null && !(result.bounds.product >= 0)) fail(`network bound ${result.bounds.product}`);
  }
  c.check?.(model, result);
  return { kind: result ? 'report' : 'capped', seconds: elapsed(), largestAllocation };
}

export interface FamilyResult {
  cases: number;
  errors: number;
  reports: number;
  failures: string[];
  /** The cases that ended in a ModelError, for the CLI sample. */
  refused: Case[];
}

/** Runs every case of a family in turn, collecting failures rather than stopping at the first. */
export async function runFamily(cases: Case[]): Promise<FamilyResult> {
  const result: FamilyResult = { cases: cases.length, errors: 0, reports: 0, failures: [], refused: [] };
  for (const c of cases) {
    try {
      const outcome = await runCase(c);
      if (outcome.kind === 'error') {
        result.errors++;
        result.refused.push(c);
      }
      else result.reports++;
    } catch (error) {
      result.failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return result;
}

export const fileName = (path: string): string => basename(path);
