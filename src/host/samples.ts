// Sample inputs for the bracket's lower bound (--samples DIR): every .npy (float32 or float64,
// little-endian, C order) and .json (a nested array, or { "data": [...] }) file in the folder, each
// one input of the model's input shape (its element count must match).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from '../model/errors';

export function readSamples(dir: string, elements: number): Float32Array[] {
  const names = readdirSync(dir).filter((name) => /\.(npy|json)$/i.test(name)).sort();
  if (names.length === 0) throw new ModelError(dir, 'holds no .npy or .json sample files');
  return names.map((name) => {
    const path = join(dir, name);
    const values = name.toLowerCase().endsWith('.npy') ? readNpy(path) : readJsonTensor(path);
    if (values.length !== elements) throw new ModelError(path, `holds ${values.length} values; the model's input has ${elements}`);
    if (!values.every(Number.isFinite)) throw new ModelError(path, 'holds NaN or Inf values');
    return values;
  });
}

/** The .npy format (NumPy's NEP 1): magic, version, header length, a Python dict header, raw data. */
export function parseNpy(bytes: Uint8Array, path = 'sample.npy'): Float32Array {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic !== '\x93NUMPY') throw new ModelError(path, 'is not a .npy file');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new ModelError(path, 'is in Fortran order; save it in C order');
  const data = bytes.slice(start);
  if (descr === '<f4') return new Float32Array(data.buffer, 0, Math.floor(data.length / 4));
  if (descr === '<f8') return Float32Array.from(new Float64Array(data.buffer, 0, Math.floor(data.length / 8)));
  throw new ModelError(path, `has dtype ${descr ?? 'unknown'}; float32 or float64 (little-endian) expected`);
}

function readNpy(path: string): Float32Array {
  return parseNpy(new Uint8Array(readFileSync(path)), path);
}

function readJsonTensor(path: string): Float32Array {
  const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const data = json && typeof json === 'object' && !Array.isArray(json) && 'data' in json ? (json as { data: unknown }).data : json;
  const flat: number[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'number') flat.push(value);
    else throw new ModelError(path, 'holds a value that is not a number');
  };
  walk(data);
  return Float32Array.from(flat);
}
