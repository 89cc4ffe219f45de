// The last N reports of each model file, kept beside the cache so that runs can be compared (after
// training with a Lipschitz penalty, or between checkpoints): docs/architecture.md#run-history-and-compare-runs.
// Pure: the controller reads and writes the files.

import type { Report } from '../protocol/report';
import { sha256Hex } from './cache-key';

export const HISTORY_FORMAT_VERSION = 1;

export interface RunRecord {
  /** The model file's URI (toString()). */
  model: string;
  /** When the run finished (ISO). */
  savedAt: string;
  /** The cache key of the run (files, settings, engine version): one record per key. */
  key: string;
  report: Report;
}

/** File name of a model's history: a hash of its URI, so any path maps into the history folder. */
export function historyFileName(model: string): string {
  return `${sha256Hex(model)}.json`;
}

/**
 * The history with `run` added at the front, at most `max` records (newest first). A run with the
 * key of an earlier record (same files and settings, computed again) replaces it.
 */
export function addRun(runs: readonly RunRecord[], run: RunRecord, max: number): RunRecord[] {
  const limit = Math.max(1, Math.floor(max));
  return [run, ...runs.filter((r) => r.key !== run.key)].slice(0, limit);
}

export function encodeHistory(model: string, runs: readonly RunRecord[]): string {
  return JSON.stringify({ version: HISTORY_FORMAT_VERSION, model, runs });
}

/** The records of a history file for `model`, newest first; [] for anything else. */
export function decodeHistory(text: string, model: string): RunRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const file = value as { version?: unknown; model?: unknown; runs?: unknown } | null;
  if (!file || file.version !== HISTORY_FORMAT_VERSION || file.model !== model || !Array.isArray(file.runs)) return [];
  return (file.runs as Partial<RunRecord>[]).filter(
    (r): r is RunRecord =>
      !!r && r.model === model && typeof r.savedAt === 'string' && typeof r.key === 'string' && !!r.report && Array.isArray(r.report.layers) && !!r.report.bounds,
  );
}

/**
 * What makes two reports runs of one architecture: the same rows (name, op, kind) with the same
 * weight shapes, in the same order. Two checkpoints of one network share it; the input shape
 * may differ (it is shown with the comparison).
 */
export function architectureOf(report: Report): string {
  return sha256Hex(JSON.stringify(report.layers.map((l) => [l.name, l.op, l.kind, l.weightShape])));
}
