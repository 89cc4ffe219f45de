// The weights of a TF.js model.json: the `weightsManifest` groups, their shard files (read through
// FileAccess, never escaping the model's folder), and decoding with tfjs's own `tf.io.decodeWeights`
// (float32, int32, bool, and the uint8 / uint16 / float16 quantisations).
//
// Every group's shards are concatenated and hold the group's weights back to back, in manifest
// order. The declared byte size is checked against the shards' real sizes before anything is read.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { FileAccess } from '../../model/files';
import { ModelError } from '../../model/errors';

type WeightsManifestConfig = tf.io.WeightsManifestConfig;
type WeightsManifestEntry = tf.io.WeightsManifestEntry;

/** Bytes per stored value, as tfjs's DTYPE_VALUE_SIZE_MAP has them. */
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };
const DTYPES = new Set(['float32', 'int32', 'bool', 'string', 'complex64']);
const QUANTIZED = new Set(['uint8', 'uint16', 'float16']);

export interface DecodedWeight {
  name: string;
  dtype: string;
  shape: number[];
  /** float32 values (quantised weights dequantised) or int32 / bool values as numbers. */
  values: Float32Array | Int32Array | Uint8Array;
}

interface Located {
  spec: WeightsManifestEntry;
  group: number;
  /** Byte offset inside the group's concatenated shards. */
  offset: number;
  byteLength: number;
}

export class WeightStore {
  private readonly byName = new Map<string, Located>();
  private readonly cache = new Map<string, DecodedWeight>();
  readonly parameterCount: number;
  readonly names: readonly string[];

  private constructor(
    private readonly file: string,
    entries: Located[],
    private readonly buffers: ArrayBuffer[],
    readonly warnings: string[],
  ) {
    let count = 0;
    const names: string[] = [];
    for (const entry of entries) {
      if (this.byName.has(entry.spec.name)) {
        warnings.push(`weight "${entry.spec.name}" appears twice in the weights manifest; the first is used`);
        continue;
      }
      this.byName.set(entry.spec.name, entry);
      names.push(entry.spec.name);
      count += entry.spec.shape.reduce((a, b) => a * b, 1);
    }
    this.parameterCount = count;
    this.names = names;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The manifest entry of a weight, without decoding it. */
  spec(name: string): WeightsManifestEntry | undefined {
    return this.byName.get(name)?.spec;
  }

  /** Decodes one weight with tf.io.decodeWeights; throws ModelError naming it when it is absent. */
  get(name: string): DecodedWeight {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const located = this.byName.get(name);
    if (!located) throw new ModelError(this.file, `weight "${name}" is not in the weights manifest`);
    const { spec, group, offset, byteLength } = located;
    const slice = this.buffers[group].slice(offset, offset + byteLength);
    let tensors: tf.NamedTensorMap;
    try {
      tensors = tf.io.decodeWeights(slice, [spec]);
    } catch (error) {
      throw new ModelError(this.file, `weight "${name}" cannot be decoded: ${error instanceof Error ? error.message : String(error)}`);
    }
    const tensor = tensors[spec.name];
    try {
      if (spec.dtype === 'string' || spec.dtype === 'complex64') {
        throw new ModelError(this.file, `weight "${name}" has dtype ${spec.dtype}, not a numeric tensor`);
      }
      const data = tensor.dataSync();
      const values = data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint8Array ? data : Float32Array.from(data as ArrayLike<number>);
      const decoded: DecodedWeight = { name, dtype: spec.dtype, shape: [...spec.shape], values };
      this.cache.set(name, decoded);
      return decoded;
    } finally {
      tensor.dispose();
    }
  }

  /** Float32 values of a weight (int weights converted). */
  floats(name: string): { shape: number[]; data: Float32Array } {
    const w = this.get(name);
    return { shape: w.shape, data: w.values instanceof Float32Array ? w.values : Float32Array.from(w.values) };
  }

  /**
   * Reads and checks the manifest and every shard. `file` names the model.json in messages.
   */
  static async load(manifest: unknown, files: FileAccess, file: string): Promise<WeightStore> {
    const groups = checkManifest(manifest, file);
    const warnings: string[] = [];
    // Sizes first: nothing is allocated for what the manifest merely claims.
    const plan: { paths: string[]; sizes: number[]; declared: number; hasStrings: boolean }[] = [];
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g];
      const sizes: number[] = [];
      for (const path of group.paths) {
        checkShardPath(path, file);
        let size: number;
        try {
          size = await files.size(path);
        } catch (error) {
          const why = error instanceof ModelError ? error.problem : error instanceof Error ? error.message : String(error);
          throw new ModelError(file, `weight shard "${path}" is missing or unreadable (${why})`);
        }
        sizes.push(size);
      }
      let declared = 0;
      let hasStrings = false;
      for (const spec of group.weights) {
        if (spec.dtype === 'string' && !spec.quantization) hasStrings = true;
        else declared += fixedByteLength(spec);
      }
      const real = sizes.reduce((a, b) => a + b, 0);
      if (real < declared) {
        throw new ModelError(
          file,
          `weight shard${group.paths.length > 1 ? 's' : ''} ${group.paths.map((p, i) => `"${p}" (${sizes[i]} B)`).join(' + ')} ` +
            `hold${group.paths.length > 1 ? '' : 's'} ${real} bytes but the manifest declares ${declared} bytes for ${group.weights.length} weights: ` +
            `shard "${group.paths[group.paths.length - 1] ?? '?'}" is short or missing data`,
        );
      }
      if (real > declared && !hasStrings) {
        warnings.push(`weight group ${g + 1} has ${real - declared} bytes more than its manifest declares`);
      }
      plan.push({ paths: group.paths, sizes, declared, hasStrings });
    }

    const buffers: ArrayBuffer[] = [];
    const entries: Located[] = [];
    for (let g = 0; g < groups.length; g++) {
      const { paths, sizes } = plan[g];
      const total = sizes.reduce((a, b) => a + b, 0);
      const joined = new Uint8Array(total);
      let at = 0;
      for (let p = 0; p < paths.length; p++) {
        let bytes: Uint8Array;
        try {
          bytes = await files.readFile(paths[p]);
        } catch (error) {
          if (error instanceof ModelError && error.file === files.mainPath) throw error;
          const why = error instanceof ModelError ? error.problem : error instanceof Error ? error.message : String(error);
          throw new ModelError(file, `weight shard "${paths[p]}" cannot be read (${why})`);
        }
        if (bytes.length !== sizes[p]) throw new ModelError(file, `weight shard "${paths[p]}" changed size while being read`);
        joined.set(bytes, at);
        at += bytes.length;
      }
      buffers.push(joined.buffer);
      let offset = 0;
      for (const spec of groups[g].weights) {
        const byteLength = spec.dtype === 'string' && !spec.quantization ? stringByteLength(spec, joined, offset, file) : fixedByteLength(spec);
        if (offset + byteLength > total) {
          throw new ModelError(file, `weight "${spec.name}" runs past the end of its shards (${offset + byteLength} > ${total} bytes); shard "${paths[paths.length - 1]}" is short`);
        }
        entries.push({ spec, group: g, offset, byteLength });
        offset += byteLength;
      }
    }
    await tf.ready();
    return new WeightStore(file, entries, buffers, warnings);
  }
}

function checkManifest(manifest: unknown, file: string): WeightsManifestConfig {
  if (manifest === undefined || manifest === null) return [];
  if (!Array.isArray(manifest)) throw new ModelError(file, '"weightsManifest" is not a list of weight groups');
  manifest.forEach((group: unknown, g) => {
    const where = `weightsManifest[${g}]`;
    if (typeof group !== 'object' || group === null) throw new ModelError(file, `${where} is not an object`);
    const { paths, weights } = group as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) throw new ModelError(file, `${where}.paths is not a list of file names`);
    if (!Array.isArray(weights)) throw new ModelError(file, `${where}.weights is not a list`);
    weights.forEach((spec: unknown, w) => checkEntry(spec, `${where}.weights[${w}]`, file));
    if (paths.length === 0 && weights.length > 0) throw new ModelError(file, `${where} lists ${weights.length} weights but no shard files`);
  });
  return manifest as WeightsManifestConfig;
}

function checkEntry(spec: unknown, where: string, file: string): void {
  if (typeof spec !== 'object' || spec === null) throw new ModelError(file, `${where} is not an object`);
  const { name, shape, dtype, quantization } = spec as Record<string, unknown>;
  if (typeof name !== 'string') throw new ModelError(file, `${where} has no name`);
  const label = `weight "${name}"`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ModelError(file, `${label} has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (typeof dtype !== 'string' || !DTYPES.has(dtype)) throw new ModelError(file, `${label} has unsupported dtype ${JSON.stringify(dtype)}`);
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * 8)) throw new ModelError(file, `${label} has an absurd shape ${JSON.stringify(shape)}`);
  if (quantization !== undefined) {
    const q = quantization as Record<string, unknown>;
    if (typeof q !== 'object' || q === null || typeof q.dtype !== 'string' || !QUANTIZED.has(q.dtype)) {
      throw new ModelError(file, `${label} has unsupported quantization ${JSON.stringify(quantization)}`);
    }
    if (q.dtype === 'float16' && dtype !== 'float32') throw new ModelError(file, `${label} is float16-quantised but its dtype is ${dtype}`);
    if (q.dtype !== 'float16' && (typeof q.scale !== 'number' || typeof q.min !== 'number')) {
      throw new ModelError(file, `${label} is ${q.dtype}-quantised without numeric scale and min`);
    }
    if (q.dtype !== 'float16' && dtype !== 'float32' && dtype !== 'int32') throw new ModelError(file, `${label} is ${q.dtype}-quantised but its dtype is ${dtype}`);
  }
}

function fixedByteLength(spec: WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const stored = spec.quantization ? spec.quantization.dtype : spec.dtype;
  return count * (BYTES[stored] ?? 4);
}

/** String tensors are stored as (uint32 length, bytes) per element. */
function stringByteLength(spec: WeightsManifestEntry, bytes: Uint8Array, offset: number, file: string): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw new ModelError(file, `string weight "${spec.name}" runs past the end of its shards`);
    at += 4 + view.getUint32(at, true);
  }
  return at - offset;
}

/** Shard paths are relative to model.json and may not leave its folder. */
export function checkShardPath(path: string, file: string): void {
  const bad = (why: string) => new ModelError(file, `weight shard path "${path}" ${why}`);
  if (path.length === 0) throw bad('is empty');
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path)) throw bad('is a URL or drive path; only files next to model.json are read');
  if (path.startsWith('/') || path.startsWith('\\')) throw bad('is absolute; only files next to model.json are read');
  let depth = 0;
  for (const part of path.split(/[\\/]+/)) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) throw bad("escapes the model's folder");
  }
}
