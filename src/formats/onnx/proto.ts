// The ONNX protobuf decoding (onnx-proto: the protobufjs static code onnxjs itself uses) and small
// helpers over its messages: 64-bit integers, attributes, element types.

import { onnx } from 'onnx-proto';
import { ModelError } from '../../model/errors';

export { onnx };

/** A protobufjs 64-bit integer: a number or a Long. */
export type Int64 = number | { toNumber(): number } | null | undefined;

/** A protobufjs int64 as a JS number (exact up to 2^53; INT64_MAX and friends become ±9.2e18). */
export function toNumber(value: Int64): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Decodes a ModelProto; anything protobufjs throws becomes a one-line ModelError. */
export function decodeModel(bytes: Uint8Array, file: string): onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelError(file, `is not a valid ONNX model (protobuf decoding failed: ${detail.split('\n')[0]})`);
  }
}

export const DataType = onnx.TensorProto.DataType;

const TYPE_NAMES: Record<number, string> = {
  0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
  17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4',
};

export function typeName(dataType: number): string {
  return TYPE_NAMES[dataType] ?? `type ${dataType}`;
}

export function isFloatType(dataType: number): boolean {
  return dataType === DataType.FLOAT || dataType === DataType.FLOAT16 || dataType === DataType.DOUBLE || dataType === DataType.BFLOAT16;
}

const textDecoder = new TextDecoder();

/** Typed access to a node's attributes, with the defaults the op's schema gives. */
export class Attributes {
  private readonly byName = new Map<string, onnx.IAttributeProto>();

  constructor(attributes: onnx.IAttributeProto[] | null | undefined) {
    for (const attribute of attributes ?? []) if (attribute.name) this.byName.set(attribute.name, attribute);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const a = this.byName.get(name);
    return a ? toNumber(a.i) : fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const a = this.byName.get(name);
    return a ? (a.f ?? 0) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? (a.ints ?? []).map(toNumber) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? [...(a.floats ?? [])] : undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const a = this.byName.get(name);
    return a?.s ? textDecoder.decode(a.s) : fallback;
  }

  strings(name: string): string[] | undefined {
    const a = this.byName.get(name);
    return a?.strings?.length ? a.strings.map((s) => textDecoder.decode(s)) : undefined;
  }

  tensor(name: string): onnx.ITensorProto | undefined {
    return this.byName.get(name)?.t ?? undefined;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
