// Constant tensors: TensorProto decoding (raw_data, typed fields, external data) with every declared
// size checked against the bytes actually present before anything is allocated.

import type { FileAccess } from '../../model/files';
import { ModelError } from '../../model/errors';
import { DataType, isFloatType, onnx, toNumber, typeName } from './proto';

/** A constant value: floating types decoded to float32, integer and bool types to float64 (exact to 2^53). */
export interface ConstTensor {
  dims: number[];
  /** ONNX element type of the value. */
  dataType: number;
  data: Float32Array | Float64Array;
}

/** Largest element count a single tensor may have (Float32Array's practical limit and well beyond any real layer). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2,
  [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4, [DataType.UINT64]: 8, [DataType.BFLOAT16]: 2,
};

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) count *= d;
  return count;
}

export function makeTensor(dims: number[], dataType: number, values: ArrayLike<number>): ConstTensor {
  const data = isFloatType(dataType) ? Float32Array.from(values) : Float64Array.from(values);
  return { dims, dataType, data };
}

export function scalarOf(tensor: ConstTensor): number | undefined {
  return tensor.data.length === 1 ? tensor.data[0] : undefined;
}

/** Checked dims of a TensorProto: non-negative safe integers whose product is representable. */
export function tensorDims(tensor: onnx.ITensorProto, describe: string, file: string): number[] {
  const dims = (tensor.dims ?? []).map(toNumber);
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelError(file, `${describe} declares an invalid dimension ${d} in [${dims.join(', ')}]`);
  }
  const count = elementCount(dims);
  if (!Number.isSafeInteger(count) || count > MAX_ELEMENTS) {
    throw new ModelError(file, `${describe} declares ${count.toExponential(2)} elements ([${dims.join(', ')}]), more than a tensor can hold`);
  }
  return dims;
}

export interface TensorSource {
  file: string;
  files: FileAccess;
}

interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

/** Where a tensor's bytes live and how many it needs, checked without reading anything large. */
export async function checkTensor(tensor: onnx.ITensorProto, describe: string, source: TensorSource): Promise<{ dims: number[]; external?: ExternalRef }> {
  const { file } = source;
  const dims = tensorDims(tensor, describe, file);
  const dataType = tensor.dataType ?? 0;
  const count = elementCount(dims);
  const size = ELEMENT_BYTES[dataType];
  if (size === undefined) throw new ModelError(file, `${describe} has element type ${typeName(dataType)}, which a weight cannot have here`);
  const bytes = count * size;
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location');
    if (!location) throw new ModelError(file, `${describe} is stored externally but names no location`);
    checkRelativePath(location, describe, file);
    const offset = entries.has('offset') ? Number(entries.get('offset')) : 0;
    const length = entries.has('length') ? Number(entries.get('length')) : bytes;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new ModelError(file, `${describe} has an invalid external data offset "${entries.get('offset')}"`);
    if (!Number.isSafeInteger(length) || length !== bytes) {
      throw new ModelError(file, `${describe} declares ${entries.get('length')} external bytes but [${dims.join(', ')}] ${typeName(dataType)} needs ${bytes}`);
    }
    const available = await source.files.size(location);
    if (offset + bytes > available) {
      throw new ModelError(file, `${describe} needs bytes ${offset}..${offset + bytes} of "${location}", which has only ${available}`);
    }
    return { dims, external: { location, offset, length: bytes } };
  }
  checkInline(tensor, dims, describe, file);
  return { dims };
}

function checkInline(tensor: onnx.ITensorProto, dims: number[], describe: string, file: string): void {
  const dataType = tensor.dataType ?? 0;
  const count = elementCount(dims);
  const bytes = count * (ELEMENT_BYTES[dataType] ?? 0);
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== bytes) {
      throw new ModelError(file, `${describe} declares [${dims.join(', ')}] ${typeName(dataType)} (${bytes} bytes) but holds ${raw.length} bytes of raw data`);
    }
    return;
  }
  const typed = typedField(tensor, dataType);
  if (typed.length !== count) {
    throw new ModelError(file, `${describe} declares [${dims.join(', ')}] (${count} values) but holds ${typed.length}`);
  }
}

/** Decodes a tensor (reading external data through FileAccess) after `checkTensor`'s checks. */
export async function readTensor(tensor: onnx.ITensorProto, describe: string, source: TensorSource): Promise<ConstTensor> {
  const { dims, external } = await checkTensor(tensor, describe, source);
  const raw = external ? await source.files.readRange(external.location, external.offset, external.length) : undefined;
  return decode(tensor, dims, raw);
}

/** Decodes a tensor held inside the model file (an attribute's value); external data is refused. */
export function readTensorSync(tensor: onnx.ITensorProto, describe: string, file: string): ConstTensor {
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) throw new ModelError(file, `${describe} keeps its value in external data, which is not read here`);
  const dims = tensorDims(tensor, describe, file);
  const dataType = tensor.dataType ?? 0;
  if (ELEMENT_BYTES[dataType] === undefined) throw new ModelError(file, `${describe} has element type ${typeName(dataType)}, which is not supported here`);
  checkInline(tensor, dims, describe, file);
  return decode(tensor, dims, undefined);
}

function decode(tensor: onnx.ITensorProto, dims: number[], external: Uint8Array | undefined): ConstTensor {
  const dataType = tensor.dataType ?? 0;
  const count = elementCount(dims);
  const raw = external ?? (tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : undefined);
  if (count === 0) return { dims, dataType, data: isFloatType(dataType) ? new Float32Array(0) : new Float64Array(0) };
  const data = raw ? fromBytes(raw, dataType, count) : fromTypedField(typedField(tensor, dataType), dataType);
  return { dims, dataType, data };
}

function typedField(tensor: onnx.ITensorProto, dataType: number): ArrayLike<unknown> {
  switch (dataType) {
    case DataType.FLOAT: return tensor.floatData ?? [];
    case DataType.DOUBLE: return tensor.doubleData ?? [];
    case DataType.INT64: return tensor.int64Data ?? [];
    case DataType.UINT32:
    case DataType.UINT64: return tensor.uint64Data ?? [];
    default: return tensor.int32Data ?? [];
  }
}

function fromTypedField(values: ArrayLike<unknown>, dataType: number): Float32Array | Float64Array {
  const n = values.length;
  if (dataType === DataType.FLOAT || dataType === DataType.DOUBLE) return Float32Array.from(values as ArrayLike<number>);
  if (dataType === DataType.FLOAT16 || dataType === DataType.BFLOAT16) {
    // float16 and bfloat16 travel as their 16 bits in int32_data.
    const out = new Float32Array(n);
    const convert = dataType === DataType.FLOAT16 ? halfToFloat : bfloat16ToFloat;
    for (let i = 0; i < n; i++) out[i] = convert((values as ArrayLike<number>)[i] & 0xffff);
    return out;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = toNumber(values[i] as number);
  if (dataType === DataType.INT8) for (let i = 0; i < n; i++) out[i] = (out[i] << 24) >> 24;
  if (dataType === DataType.UINT8) for (let i = 0; i < n; i++) out[i] = out[i] & 0xff;
  if (dataType === DataType.INT16) for (let i = 0; i < n; i++) out[i] = (out[i] << 16) >> 16;
  if (dataType === DataType.UINT16) for (let i = 0; i < n; i++) out[i] = out[i] & 0xffff;
  if (dataType === DataType.BOOL) for (let i = 0; i < n; i++) out[i] = out[i] ? 1 : 0;
  return out;
}

function fromBytes(raw: Uint8Array, dataType: number, count: number): Float32Array | Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dataType) {
    case DataType.FLOAT: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case DataType.DOUBLE: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      const out = new Float32Array(count);
      const convert = dataType === DataType.FLOAT16 ? halfToFloat : bfloat16ToFloat;
      for (let i = 0; i < count; i++) out[i] = convert(view.getUint16(2 * i, true));
      return out;
    }
  }
  const out = new Float64Array(count);
  switch (dataType) {
    case DataType.INT8: for (let i = 0; i < count; i++) out[i] = view.getInt8(i); break;
    case DataType.UINT8: for (let i = 0; i < count; i++) out[i] = view.getUint8(i); break;
    case DataType.BOOL: for (let i = 0; i < count; i++) out[i] = view.getUint8(i) ? 1 : 0; break;
    case DataType.INT16: for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, true); break;
    case DataType.UINT16: for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, true); break;
    case DataType.INT32: for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true); break;
    case DataType.UINT32: for (let i = 0; i < count; i++) out[i] = view.getUint32(4 * i, true); break;
    case DataType.INT64: for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true)); break;
    case DataType.UINT64: for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(8 * i, true)); break;
  }
  return out;
}

export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const bf16Scratch = new DataView(new ArrayBuffer(4));
export function bfloat16ToFloat(bits: number): number {
  bf16Scratch.setUint32(0, (bits & 0xffff) << 16);
  return bf16Scratch.getFloat32(0);
}

/** External data must stay inside the model's folder: no absolute paths, no climbing out with "..". */
export function checkRelativePath(location: string, describe: string, file: string): void {
  const escape = () => new ModelError(file, `${describe} refers to external data "${location}" outside the model's folder`);
  if (/^([a-zA-Z]:|[\\/])/.test(location) || location.includes('\0')) throw escape();
  let depth = 0;
  for (const part of location.split(/[\\/]+/)) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) throw escape();
  }
}

/** The tensor's values as float32 (shared when they already are). */
export function asFloat32(tensor: ConstTensor): Float32Array {
  return tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data);
}

/** A 2-D tensor's transpose, as float32. */
export function transpose2d(data: ArrayLike<number>, rows: number, cols: number, scale = 1): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = scale * data[r * cols + c];
  return out;
}
