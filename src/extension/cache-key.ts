// Cache keys: SHA-256 of the model's bytes (and its weight shards' bytes for model.json) plus the
// settings that change the numbers and the engine's results version. A changed file, setting or
// engine gives a new key.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { EstimateSettings, Report } from '../protocol/report';
import { ENGINE_RESULTS_VERSION } from '../protocol/results-version';

export const CACHE_FORMAT_VERSION = 1;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Streams a local file through SHA-256 without holding it in memory. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** JSON with sorted keys and no undefined members, so equal settings give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface HashedFile {
  /** Path relative to the model's folder (the main file's base name, or a shard path). */
  path: string;
  sha256: string;
}

/**
 * The cache key of a model's files (any order) under the given settings, for the reports of engine
 * results version `resultsVersion` (the current one unless a test asks): 64 hex digits.
 */
export function cacheKey(files: readonly HashedFile[], settings: EstimateSettings, resultsVersion = ENGINE_RESULTS_VERSION): string {
  // The thread count changes how fast, never what: it is not part of the key.
  const { threads: _threads, ...numeric } = settings;
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sha256Hex(canonicalJson({ v: CACHE_FORMAT_VERSION, engine: resultsVersion, files: sorted.map((f) => [f.path, f.sha256]), settings: numeric }));
}

export interface CacheEntry {
  version: number;
  key: string;
  savedAt: string;
  report: Report;
  /**
   * Companion files outside the key that the loader read (an ONNX model's external data, named
   * only inside the model), with their hashes when the entry was written: the entry is valid only
   * while they still match.
   */
  companions?: HashedFile[];
}

export function encodeCacheEntry(key: string, report: Report, now = new Date(), companions: HashedFile[] = []): string {
  const entry: CacheEntry = { version: CACHE_FORMAT_VERSION, key, savedAt: now.toISOString(), report, ...(companions.length ? { companions } : {}) };
  return JSON.stringify(entry);
}

/** The report of a cache file, or undefined when the file is not a valid entry for `key`. */
export function decodeCacheEntry(text: string, key: string): Report | undefined {
  return decodeCacheFile(text, key)?.report;
}

/** The entry of a cache file (report and companion hashes), or undefined when it is not valid for `key`. */
export function decodeCacheFile(text: string, key: string): { report: Report; companions: HashedFile[] } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const entry = value as Partial<CacheEntry> | null;
  if (!entry || entry.version !== CACHE_FORMAT_VERSION || entry.key !== key) return undefined;
  const report = entry.report as Partial<Report> | undefined;
  if (!report || typeof report !== 'object' || !Array.isArray(report.layers) || !report.model || !report.bounds) return undefined;
  const companions = entry.companions ?? [];
  const wellFormed = Array.isArray(companions) && companions.every((c) => c && typeof c.path === 'string' && typeof c.sha256 === 'string');
  if (!wellFormed) return undefined;
  return { report: report as Report, companions };
}

/** True when every companion recorded in an entry still has the recorded hash (a missing one does not). */
export function companionsUnchanged(recorded: readonly HashedFile[], current: readonly (HashedFile | undefined)[]): boolean {
  return recorded.every((file, i) => current[i]?.path === file.path && current[i]?.sha256 === file.sha256);
}

/** File name of a cache entry; keys are hex, so this cannot leave the cache folder. */
export function cacheFileName(key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a cache key: ${key}`);
  return `${key}.json`;
}
