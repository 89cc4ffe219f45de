// Writes small ONNX models with onnx-proto's encoder, for the ONNX loader's tests.

import { onnx } from 'onnx-proto';
import { onnxFormat } from '../../src/formats/onnx';
import { memoryFileAccess } from '../../src/model/memory-files';
import type { IrModel, IrNode } from '../../src/model/ir';
import type { OpenOptions } from '../../src/model/files';

export const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export type Attr = onnx.IAttributeProto;
export const attr = {
  int: (name: string, i: number): Attr => ({ name, type: A.INT, i }),
  ints: (name: string, ints: number[]): Attr => ({ name, type: A.INTS, ints }),
  float: (name: string, f: number): Attr => ({ name, type: A.FLOAT, f }),
  floats: (name: string, floats: number[]): Attr => ({ name, type: A.FLOATS, floats }),
  string: (name: string, s: string): Attr => ({ name, type: A.STRING, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: onnx.ITensorProto): Attr => ({ name, type: A.TENSOR, t }),
};

export interface TensorOptions {
  dataType?: number;
  /** Store in raw_data (default) or in the typed field. */
  raw?: boolean;
}

function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (exponent <= 0) return sign | Math.round((mantissa | 0x800000) / 2 ** (14 - exponent));
  if (exponent >= 31) return sign | 0x7c00;
  return sign | (exponent << 10) | Math.round(mantissa / 8192);
}

function floatToBfloat16(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
  return bits >>> 16;
}

/** A TensorProto holding `values` as `dataType`, in raw_data or the typed field. */
export function tensor(name: string, dims: number[], values: ArrayLike<number>, options: TensorOptions = {}): onnx.ITensorProto {
  const dataType = options.dataType ?? T.FLOAT;
  const raw = options.raw ?? true;
  const n = values.length;
  const t: onnx.ITensorProto = { name, dims, dataType };
  if (!raw) {
    const list = Array.from(values);
    switch (dataType) {
      case T.FLOAT: t.floatData = list; break;
      case T.DOUBLE: t.doubleData = list; break;
      case T.INT64: t.int64Data = list; break;
      case T.FLOAT16: t.int32Data = list.map(floatToHalf); break;
      case T.BFLOAT16: t.int32Data = list.map(floatToBfloat16); break;
      default: t.int32Data = list;
    }
    return t;
  }
  const sizes: Record<number, number> = { [T.FLOAT]: 4, [T.DOUBLE]: 8, [T.FLOAT16]: 2, [T.BFLOAT16]: 2, [T.INT8]: 1, [T.UINT8]: 1, [T.INT32]: 4, [T.INT64]: 8, [T.BOOL]: 1 };
  const bytes = new Uint8Array(n * sizes[dataType]);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    switch (dataType) {
      case T.FLOAT: view.setFloat32(4 * i, v, true); break;
      case T.DOUBLE: view.setFloat64(8 * i, v, true); break;
      case T.FLOAT16: view.setUint16(2 * i, floatToHalf(v), true); break;
      case T.BFLOAT16: view.setUint16(2 * i, floatToBfloat16(v), true); break;
      case T.INT8: view.setInt8(i, v); break;
      case T.UINT8:
      case T.BOOL: view.setUint8(i, v); break;
      case T.INT32: view.setInt32(4 * i, v, true); break;
      case T.INT64: view.setBigInt64(8 * i, BigInt(v), true); break;
    }
  }
  t.rawData = bytes;
  return t;
}

export const int64s = (name: string, values: number[], dims = [values.length]): onnx.ITensorProto => tensor(name, dims, values, { dataType: T.INT64 });
export const floats = (name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto => tensor(name, dims, values);

/** Deterministic pseudo-random values in [-1, 1). */
export function seeded(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Attr[];
  domain?: string;
}

export const node = (op: string, inputs: string[], outputs: string[], attrs: Attr[] = [], name?: string): NodeSpec => ({ op, inputs, outputs, attrs, name });

export interface ValueSpec {
  name: string;
  /** Numbers are fixed dims, strings are dim_param, null is a dim with neither. Undefined: no shape at all. */
  shape?: (number | string | null)[];
  elemType?: number;
}

export interface ModelSpec {
  opset?: number;
  inputs: ValueSpec[];
  outputs: (ValueSpec | string)[];
  initializers?: onnx.ITensorProto[];
  nodes: NodeSpec[];
  valueInfo?: ValueSpec[];
  producer?: string;
  producerVersion?: string;
  /** List the initializers among the graph inputs too (what old exporters did). */
  initializersAsInputs?: boolean;
  extraOpsets?: { domain: string; version: number }[];
}

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType: v.elemType ?? T.FLOAT };
  if (v.shape) tensorType.shape = { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) };
  return { name: v.name, type: { tensorType } };
}

export function modelProto(spec: ModelSpec): onnx.IModelProto {
  const initializers = spec.initializers ?? [];
  const inputs = spec.inputs.map(valueInfo);
  if (spec.initializersAsInputs) for (const t of initializers) inputs.push(valueInfo({ name: t.name ?? '', shape: (t.dims ?? []).map(Number), elemType: t.dataType ?? T.FLOAT }));
  return {
    irVersion: 8,
    producerName: spec.producer ?? 'onnx-builder',
    producerVersion: spec.producerVersion ?? '0',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }, ...(spec.extraOpsets ?? [])],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({ opType: n.op, input: n.inputs, output: n.outputs, name: n.name ?? `${n.op.toLowerCase()}_${i}`, attribute: n.attrs ?? [], domain: n.domain ?? '' })),
      input: inputs,
      output: spec.outputs.map((o) => valueInfo(typeof o === 'string' ? { name: o } : o)),
      initializer: initializers,
      valueInfo: (spec.valueInfo ?? []).map(valueInfo),
    },
  };
}

export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function buildModel(spec: ModelSpec): Uint8Array {
  return encodeModel(modelProto(spec));
}

export const MODEL_PATH = 'model.onnx';

/** Opens encoded bytes with the ONNX reader over in-memory companion files. */
export function openBytes(bytes: Uint8Array, options: OpenOptions = {}, companions: Record<string, Uint8Array> = {}): Promise<IrModel> {
  return onnxFormat.open(bytes, memoryFileAccess(MODEL_PATH, { [MODEL_PATH]: bytes, ...companions }), options);
}

export function open(spec: ModelSpec, options: OpenOptions = {}, companions: Record<string, Uint8Array> = {}): Promise<IrModel> {
  return openBytes(buildModel(spec), options, companions);
}

/** A one-node model on input "x" with fixed shape. */
export function single(op: string, xShape: number[], opts: { inputs?: string[]; attrs?: Attr[]; initializers?: onnx.ITensorProto[]; opset?: number; outputs?: string[]; domain?: string } = {}): ModelSpec {
  const outputs = opts.outputs ?? ['y'];
  return {
    opset: opts.opset,
    inputs: [{ name: 'x', shape: xShape }],
    outputs,
    initializers: opts.initializers,
    nodes: [{ op, inputs: ['x', ...(opts.inputs ?? [])], outputs, attrs: opts.attrs, name: op.toLowerCase(), domain: opts.domain }],
  };
}

export function byName(model: IrModel, name: string): IrNode {
  const found = model.nodes.find((n) => n.name === name);
  if (!found) throw new Error(`no node ${name} in ${model.nodes.map((n) => n.name).join(', ')}`);
  return found;
}

/** The only IR node of a single-op model. */
export async function only(spec: ModelSpec, options: OpenOptions = {}): Promise<IrNode> {
  const model = await open(spec, options);
  if (model.nodes.length !== 1) throw new Error(`expected one node, got ${model.nodes.map((n) => n.op).join(', ')}`);
  return model.nodes[0];
}
