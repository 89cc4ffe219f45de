// FileAccess for the TF.js loader tests: a fixture folder on disk, or files held in memory.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFileAccess } from '../../../../src/host/node-files';
import type { FileAccess, OpenOptions } from '../../../../src/model/files';
import type { IrModel, IrNode } from '../../../../src/model/ir';
import { ModelError } from '../../../../src/model/errors';
import { tfjsFormat } from '../../../../src/formats/tfjs';

export const fixtures = join(__dirname, '..', '..', '..', 'fixtures', 'tfjs');

export function fixturePath(name: string, file = 'model.json'): string {
  return join(fixtures, name, file);
}

/** Opens a fixture's model.json with the loader, as the CLI does. */
export async function openFixture(name: string, options: OpenOptions = {}, file = 'model.json'): Promise<IrModel> {
  const path = fixturePath(name, file);
  return tfjsFormat.open(readFileSync(path), nodeFileAccess(path), options);
}

export function readJson(name: string, file = 'model.json'): Record<string, unknown> {
  return JSON.parse(readFileSync(fixturePath(name, file), 'utf8')) as Record<string, unknown>;
}

/** An in-memory model folder: model.json plus companions by relative path. */
export function memoryAccess(files: Record<string, Uint8Array>, mainPath = 'model.json'): FileAccess {
  const get = (path: string): Uint8Array => {
    const bytes = files[path];
    if (!bytes) throw new ModelError(`${mainPath} (${path})`, 'no such file');
    return bytes;
  };
  return {
    mainPath,
    size: async (path) => get(path).length,
    readFile: async (path) => get(path).slice(),
    readRange: async (path, offset, length) => {
      const bytes = get(path);
      if (offset + length > bytes.length) throw new ModelError(`${mainPath} (${path})`, `asks for bytes ${offset}..${offset + length} but the file has ${bytes.length}`);
      return bytes.slice(offset, offset + length);
    },
  };
}

export async function openMemory(json: unknown, shards: Record<string, Uint8Array>, options: OpenOptions = {}): Promise<IrModel> {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  return tfjsFormat.open(bytes, memoryAccess({ 'model.json': bytes, ...shards }), options);
}

export function row(model: IrModel, name: string): IrNode {
  const node = model.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no row "${name}" in ${model.nodes.map((n) => n.name).join(', ')}`);
  return node;
}

/** Float32 values of a weight straight from the shard bytes (no tfjs involved). */
export function rawFloats(name: string, weight: string): { shape: number[]; data: Float32Array } {
  const json = readJson(name) as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] };
  const group = json.weightsManifest[0];
  const bytes = Buffer.concat(group.paths.map((p) => readFileSync(fixturePath(name, p))));
  let offset = 0;
  for (const spec of group.weights) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.name === weight) {
      const copy = new Uint8Array(bytes.subarray(offset, offset + 4 * count));
      return { shape: spec.shape, data: new Float32Array(copy.buffer) };
    }
    offset += 4 * count;
  }
  throw new Error(`no weight ${weight}`);
}

/** Direct convolution from the IR's canonical spec (the engine is not involved), in the node's layout. */
export function referenceConv(x: Float32Array, inShape: number[], spec: import('../../../../src/model/ir').ConvSpec, outShape: number[]): Float32Array {
  const rank = inShape.length - 2;
  if (rank !== 2) throw new Error('2-D only');
  const cl = spec.channelsLast;
  const [n, cIn, h, w] = cl ? [inShape[0], inShape[3], inShape[1], inShape[2]] : inShape;
  const [, cOut, oh, ow] = cl ? [outShape[0], outShape[3], outShape[1], outShape[2]] : outShape;
  const [, cInG, kh, kw] = spec.weight.dims;
  const inIndex = (b: number, c: number, y: number, xx: number) => (cl ? ((b * h + y) * w + xx) * cIn + c : ((b * cIn + c) * h + y) * w + xx);
  const outIndex = (b: number, c: number, y: number, xx: number) => (cl ? ((b * oh + y) * ow + xx) * cOut + c : ((b * cOut + c) * oh + y) * ow + xx);
  const out = new Float32Array(n * cOut * oh * ow);
  const outPerGroup = cOut / spec.group;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cOut; o++) {
      const g = Math.floor(o / outPerGroup);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let sum = 0;
          for (let i = 0; i < cInG; i++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = y * spec.strides[0] + ky * spec.dilations[0] - spec.padsBegin[0];
                const ix = xx * spec.strides[1] + kx * spec.dilations[1] - spec.padsBegin[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum += x[inIndex(b, g * cInG + i, iy, ix)] * spec.weight.data[((o * cInG + i) * kh + ky) * kw + kx];
              }
          out[outIndex(b, o, y, xx)] = sum;
        }
    }
  return out;
}

/** Seeded values in [-1, 1). */
export function seeded(count: number, seed = 7): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 31 - 1;
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
