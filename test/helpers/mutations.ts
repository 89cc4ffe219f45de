// Byte- and JSON-level mutations of model files for the robustness tests: seeded randomness,
// truncation, bit flips, a protobuf wire-format walker to find (and falsify) length fields.

/** mulberry32: a small seeded generator in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** An integer in [0, n). */
export function pick(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** `count` distinct truncation lengths of a file of `size` bytes: the very start, the very end, and seeded points between. */
export function truncationLengths(size: number, count: number, seed: number): number[] {
  const fixed = [0, 1, 2, 3, 4, 7, 8, 16, size - 1, size - 2, size - 4, size - 8, Math.floor(size / 2)];
  const out = new Set<number>();
  for (const n of fixed) if (n > 0 && n < size && out.size < count) out.add(n);
  const random = rng(seed);
  for (let guard = 0; out.size < Math.min(count, size - 1) && guard < count * 20; guard++) out.add(1 + pick(random, size - 1));
  return [...out].sort((a, b) => a - b);
}

export function truncate(bytes: Uint8Array, length: number): Uint8Array {
  return bytes.slice(0, length);
}

/** A copy of `bytes` with bit `bit` (0 = lowest bit of byte 0) flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] ^= 1 << (bit & 7);
  return out;
}

/** Seeded distinct bit positions in a file of `size` bytes. */
export function bitPositions(size: number, count: number, seed: number): number[] {
  const random = rng(seed);
  const out = new Set<number>();
  for (let guard = 0; out.size < Math.min(count, size * 8) && guard < count * 20; guard++) out.add(pick(random, size * 8));
  return [...out];
}

/** A copy with the first bytes replaced by `head`. */
export function withHead(bytes: Uint8Array, head: ArrayLike<number>): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < head.length && i < out.length; i++) out[i] = head[i];
  return out;
}

// --- protobuf wire format -------------------------------------------------------------------------

export interface LengthField {
  /** Field numbers from the root message down to this field, e.g. "7.1.5" (graph.node.input). */
  path: string;
  /** Offset and size of the length varint. */
  lengthAt: number;
  lengthBytes: number;
  /** The declared length (what the varint says). */
  length: number;
  /** Where the field's payload starts. */
  start: number;
}

/** Reads a varint at `at` (values up to 2^53); undefined when it runs off `end` or is too long. */
export function readVarint(bytes: Uint8Array, at: number, end: number): { value: number; size: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && at + i < end; i++) {
    const b = bytes[at + i];
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, size: i + 1 };
  }
  return undefined;
}

/** A varint of `value` written in at least `minBytes` bytes (padded with continuation bits). */
export function encodeVarint(value: number, minBytes = 1): number[] {
  const out: number[] = [];
  let v = value;
  do {
    out.push(v % 128);
    v = Math.floor(v / 128);
  } while (v > 0);
  while (out.length < minBytes) out.push(0);
  for (let i = 0; i < out.length - 1; i++) out[i] |= 0x80;
  return out;
}

/**
 * Every length-delimited field of a protobuf message, recursing into payloads that parse as
 * messages themselves (strings that happen to parse are harmless extra targets). Undefined when
 * the bytes are not a well-formed message.
 */
export function lengthFields(bytes: Uint8Array, start = 0, end = bytes.length, path = '', depth = 0): LengthField[] | undefined {
  const out: LengthField[] = [];
  let at = start;
  while (at < end) {
    const tag = readVarint(bytes, at, end);
    if (!tag || tag.value === 0) return undefined;
    at += tag.size;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    const here = path ? `${path}.${field}` : `${field}`;
    switch (wire) {
      case 0: {
        const v = readVarint(bytes, at, end);
        if (!v) return undefined;
        at += v.size;
        break;
      }
      case 1: at += 8; break;
      case 5: at += 4; break;
      case 2: {
        const len = readVarint(bytes, at, end);
        if (!len || at + len.size + len.value > end) return undefined;
        const payload = at + len.size;
        out.push({ path: here, lengthAt: at, lengthBytes: len.size, length: len.value, start: payload });
        if (depth < 12 && len.value > 0) {
          const inner = lengthFields(bytes, payload, payload + len.value, here, depth + 1);
          if (inner) out.push(...inner);
        }
        at = payload + len.value;
        break;
      }
      default: return undefined;
    }
    if (at > end) return undefined;
  }
  return out;
}

/** A copy with the varint at `at` (of `size` bytes) replaced by `value` (same size when it fits). */
export function replaceVarint(bytes: Uint8Array, at: number, size: number, value: number): Uint8Array {
  const encoded = encodeVarint(value, size);
  const out = new Uint8Array(bytes.length - size + encoded.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(encoded, at);
  out.set(bytes.subarray(at + size), at + encoded.length);
  return out;
}

/** Lies a length field can tell: one more or less, zero, past the end, absurd. */
export function lengthLies(field: LengthField, fileSize: number): { label: string; value: number }[] {
  const lies = [
    { label: '+1', value: field.length + 1 },
    { label: 'past-end', value: fileSize - field.start + 1 },
    { label: '2^31-1', value: 2 ** 31 - 1 },
    { label: '2^40', value: 2 ** 40 },
  ];
  if (field.length > 0) lies.push({ label: '-1', value: field.length - 1 }, { label: 'zero', value: 0 });
  return lies;
}

// --- JSON ------------------------------------------------------------------------------------------

export function deepClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** `depth` nested arrays around `inner`, as text (never built as an object). */
export function nestedJson(depth: number, inner = '0'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
