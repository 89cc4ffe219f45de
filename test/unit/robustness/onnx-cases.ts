// Hostile ONNX files: mutations of the real PyTorch / Paddle exports and of models built with the
// encoder, one list of cases per family.

import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import { T, attr, buildModel, encodeModel, floats, modelProto, node, seeded, tensor, type ModelSpec } from '../../helpers/onnx-builder';
import { bitPositions, encodeVarint, flipBit, lengthFields, lengthLies, pick, replaceVarint, rng, truncate, truncationLengths, utf8, withHead } from '../../helpers/mutations';
import type { Case, Folder } from './harness';
import type { IrModel } from '../../../src/model/ir';

export const root = resolve(__dirname, '..', '..', '..');

interface Source {
  label: string;
  path: string;
  inputShape?: number[];
  /** How many cases of each byte-level family this model gets. */
  weight: number;
}

export const ONNX_SOURCES: Source[] = [
  { label: 'small_cnn', path: 'test/fixtures/onnx/torch/small_cnn.onnx', weight: 1 },
  { label: 'residual', path: 'test/fixtures/onnx/torch/residual.onnx', weight: 1 },
  { label: 'concat', path: 'test/fixtures/onnx/torch/concat.onnx', weight: 1 },
  { label: 'conv_transpose', path: 'test/fixtures/onnx/torch/conv_transpose.onnx', weight: 1 },
  { label: 'conv_variants', path: 'test/fixtures/onnx/torch/conv_variants.onnx', weight: 1 },
  { label: 'cifar', path: 'examples/cifar-cnn.onnx', weight: 1 },
  { label: 'paddle', path: 'test/fixtures/onnx/paddle/ch_ppocr_mobile_v2.0_cls_infer.onnx', inputShape: [1, 3, 48, 192], weight: 0.5 },
];

const cache = new Map<string, Uint8Array>();
export function sourceBytes(source: Source): Uint8Array {
  let bytes = cache.get(source.path);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(join(root, source.path)));
    cache.set(source.path, bytes);
  }
  return bytes;
}

export const single = (main: string, bytes: Uint8Array, extra: Record<string, Uint8Array> = {}): Folder => ({ main, files: { [main]: bytes, ...extra } });

const options = (source: Source) => (source.inputShape ? { options: { inputShape: source.inputShape } } : {});

export function onnxTruncation(): Case[] {
  return ONNX_SOURCES.flatMap((source, s) => {
    const bytes = sourceBytes(source);
    return truncationLengths(bytes.length, Math.round(18 * source.weight), 100 + s).map((n) => ({
      name: `${source.label} truncated to ${n} of ${bytes.length} bytes`,
      make: () => single(`${source.label}-cut${n}.onnx`, truncate(bytes, n)),
      ...options(source),
    }));
  });
}

export function onnxBitFlips(): Case[] {
  return ONNX_SOURCES.flatMap((source, s) => {
    const bytes = sourceBytes(source);
    return bitPositions(bytes.length, Math.round(16 * source.weight), 200 + s).map((bit) => ({
      name: `${source.label} with bit ${bit} (byte ${bit >> 3}) flipped`,
      make: () => single(`${source.label}-bit${bit}.onnx`, flipBit(bytes, bit)),
      ...options(source),
    }));
  });
}

export function onnxMagic(): Case[] {
  const heads: [string, number[]][] = [
    ['zeros', [0, 0, 0, 0]],
    ['0xff', [0xff, 0xff, 0xff, 0xff]],
    ['zip', [0x50, 0x4b, 0x03, 0x04]],
    ['json', [...utf8('{"a"')]],
    ['hdf5', [0x89, 0x48, 0x44, 0x46]],
    ['valid tag, broken varint', [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['group wire type', [0x0b, 0x0c]],
  ];
  const cases: Case[] = [];
  for (const source of ONNX_SOURCES.slice(0, 3)) {
    const bytes = sourceBytes(source);
    for (const [label, head] of heads) {
      cases.push({ name: `${source.label} starting with ${label}`, make: () => single(`${source.label}-head.onnx`, withHead(bytes, head)), expect: 'error' });
    }
  }
  const random = rng(7);
  for (const size of [1, 2, 64, 4096]) {
    const noise = Uint8Array.from({ length: size }, () => pick(random, 256));
    cases.push({ name: `${size} bytes of noise named .onnx`, make: () => single('noise.onnx', noise), expect: 'error' });
  }
  cases.push({ name: 'a text file named .onnx', make: () => single('notes.onnx', utf8('hello, this is not a model\n')), expect: 'error', problem: /neither an ONNX model/ });
  cases.push({ name: 'an ONNX model named .bin', make: () => single('model.bin', sourceBytes(ONNX_SOURCES[0])), expect: 'error', problem: /neither an ONNX model/ });
  return cases;
}

export function onnxLyingLengths(): Case[] {
  const cases: Case[] = [];
  ONNX_SOURCES.forEach((source, s) => {
    const bytes = sourceBytes(source);
    const fields = lengthFields(bytes);
    if (!fields) throw new Error(`${source.label} does not parse as protobuf`);
    const random = rng(300 + s);
    const chosen = new Set<number>([0]); // the graph (or the first field) always
    const wanted = Math.round(4 * source.weight);
    while (chosen.size < Math.min(wanted, fields.length)) chosen.add(pick(random, fields.length));
    for (const f of chosen) {
      const field = fields[f];
      for (const lie of lengthLies(field, bytes.length)) {
        cases.push({
          name: `${source.label} field ${field.path} at ${field.lengthAt} declares ${lie.label} (${lie.value}) instead of ${field.length}`,
          make: () => single(`${source.label}-len.onnx`, replaceVarint(bytes, field.lengthAt, field.lengthBytes, lie.value)),
          ...options(source),
        });
      }
    }
  });
  return cases;
}

// --- declared sizes, built with the encoder ---------------------------------------------------------

/** x [1,3,8,8] -> Conv(w [4,3,3,3], b) -> Relu -> Flatten -> Gemm(w2 [10,256]) -> y */
export function baseSpec(): ModelSpec {
  return {
    inputs: [{ name: 'x', shape: [1, 3, 8, 8] }],
    outputs: [{ name: 'y', shape: [1, 10] }],
    initializers: [floats('w', [4, 3, 3, 3], seeded(108, 1)), floats('b', [4], seeded(4, 2)), floats('w2', [10, 256], seeded(2560, 3)), floats('b2', [10], seeded(10, 4))],
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('pads', [1, 1, 1, 1])], 'conv'),
      node('Relu', ['c'], ['r'], [], 'relu'),
      node('Flatten', ['r'], ['f'], [attr.int('axis', 1)], 'flatten'),
      node('Gemm', ['f', 'w2', 'b2'], ['y'], [attr.int('transB', 1)], 'fc'),
    ],
  };
}

/** The base model with the initializer `name` replaced. */
function withInitializer(name: string, replacement: onnx.ITensorProto, spec = baseSpec()): ModelSpec {
  return { ...spec, initializers: (spec.initializers ?? []).map((t) => (t.name === name ? { ...replacement, name } : t)) };
}

/** A tensor whose dims are `dims` but whose raw data holds only `bytes` bytes. */
function claiming(dims: number[], bytes = 16, dataType: number = T.FLOAT): onnx.ITensorProto {
  return { dims, dataType, rawData: new Uint8Array(bytes) };
}

const MIB = 1024 * 1024;
/** What the bytes of a ~12 KB model justify at once (the model itself, its weights, some slack). */
const SMALL_MODEL_ALLOCATION = 4 * MIB;

export function onnxDeclaredSizes(): Case[] {
  const cases: Case[] = [];
  const refuse = (name: string, spec: () => ModelSpec, problem?: RegExp, extra: Partial<Case> = {}) =>
    cases.push({ name, make: () => single('sizes.onnx', buildModel(spec())), expect: 'error', allocationLimit: SMALL_MODEL_ALLOCATION, ...(problem ? { problem } : {}), ...extra });
  const either = (name: string, spec: () => ModelSpec) => cases.push({ name, make: () => single('sizes.onnx', buildModel(spec())), allocationLimit: SMALL_MODEL_ALLOCATION });

  cases.push({ name: 'the base model opens and estimates', make: () => single('sizes.onnx', buildModel(baseSpec())), expect: 'report', allocationLimit: SMALL_MODEL_ALLOCATION });
  // Dims larger than the bytes.
  refuse('conv weight declares [4,3,3,4] over 108 floats', () => withInitializer('w', tensor('w', [4, 3, 3, 4], seeded(108))), /initializer "w" declares \[4, 3, 3, 4\] float32 \(576 bytes\) but holds 432 bytes/);
  refuse('conv weight raw data cut in half', () => withInitializer('w', { dims: [4, 3, 3, 3], dataType: T.FLOAT, rawData: (tensor('w', [4, 3, 3, 3], seeded(108)).rawData as Uint8Array).slice(0, 216) }), /holds 216 bytes/);
  refuse('conv weight typed field short', () => withInitializer('w', tensor('w', [4, 3, 3, 3], seeded(100), { raw: false })), /108 values\) but holds 100/);
  refuse('dense weight int64 typed field short', () => withInitializer('w2', tensor('w2', [10, 256], seeded(10), { dataType: T.INT64, raw: false })));
  refuse('dense weight double raw short', () => withInitializer('w2', tensor('w2', [10, 256], seeded(2559), { dataType: T.DOUBLE })));
  refuse('bias declares 2^26 elements over 16 bytes', () => withInitializer('b', claiming([2 ** 26])), /holds 16 bytes/);
  refuse('weight declares 2^28 elements with no data at all', () => withInitializer('w', { dims: [2 ** 14, 2 ** 14], dataType: T.FLOAT }), /holds 0/);
  refuse('weight declares [2^28] float64 typed values it lacks', () => withInitializer('w', { dims: [2 ** 28], dataType: T.DOUBLE, doubleData: [1, 2, 3] }), /holds 3/);
  // Huge dims.
  refuse('weight declares 2^40 elements', () => withInitializer('w', claiming([2 ** 20, 2 ** 20])), /more than a tensor can hold/);
  refuse('weight declares 2^31 elements', () => withInitializer('w', claiming([2 ** 31])), /more than a tensor can hold/);
  refuse('weight declares 2^31 elements over four dims', () => withInitializer('w', claiming([2 ** 8, 2 ** 8, 2 ** 8, 2 ** 7])), /more than a tensor can hold/);
  refuse('weight dims whose product passes 2^53', () => withInitializer('w', claiming([2 ** 27, 2 ** 27])), /more than a tensor can hold/);
  refuse('weight dims whose product is 2^90', () => withInitializer('w', claiming([2 ** 30, 2 ** 30, 2 ** 30])), /more than a tensor can hold/);
  refuse('weight dim 2^62 (past 2^53 as int64)', () => withInitializer('w', claiming([2 ** 62])), /invalid dimension|more than a tensor/);
  refuse('unused initializer declares 2^40 elements', () => ({ ...baseSpec(), initializers: [...(baseSpec().initializers ?? []), claiming([2 ** 20, 2 ** 20]) as onnx.ITensorProto].map((t, i) => (i === 4 ? { ...t, name: 'unused' } : t)) }), /initializer "unused"/);
  refuse('Constant attribute declares 2^40 elements', () => {
    const spec = baseSpec();
    return { ...spec, initializers: (spec.initializers ?? []).filter((t) => t.name !== 'w'), nodes: [node('Constant', [], ['w'], [attr.tensor('value', claiming([2 ** 20, 2 ** 20]))], 'const_w'), ...spec.nodes] };
  }, /more than a tensor can hold/);
  refuse('Constant attribute declares [64,64,64,64] over 16 bytes', () => {
    const spec = baseSpec();
    return { ...spec, initializers: (spec.initializers ?? []).filter((t) => t.name !== 'w'), nodes: [node('Constant', [], ['w'], [attr.tensor('value', claiming([64, 64, 64, 64]))], 'const_w'), ...spec.nodes] };
  });
  // Negative and zero dims.
  refuse('weight dim -1', () => withInitializer('w', claiming([-1, 3, 3, 3])), /invalid dimension -1/);
  refuse('weight dim -2^40', () => withInitializer('w', claiming([4, -(2 ** 40), 3, 3])), /invalid dimension/);
  either('conv weight with a zero dim and no data', () => withInitializer('w', { dims: [0, 3, 3, 3], dataType: T.FLOAT }));
  either('dense weight with a zero dim', () => withInitializer('w2', { dims: [10, 0], dataType: T.FLOAT }));
  either('scalar conv weight', () => withInitializer('w', tensor('w', [], [1])));
  refuse('graph input dim -1', () => ({ ...baseSpec(), inputs: [{ name: 'x', shape: [1, 3, -1, 8] }] }), /declares dimension 2 as -1/);
  refuse('graph input dim 0', () => ({ ...baseSpec(), inputs: [{ name: 'x', shape: [1, 3, 0, 8] }] }), /declares dimension 2 as 0/);
  refuse('graph input 2^40 elements', () => ({ ...baseSpec(), inputs: [{ name: 'x', shape: [1, 3, 2 ** 20, 2 ** 20] }] }));
  refuse('graph input 2^31 elements', () => ({ ...baseSpec(), inputs: [{ name: 'x', shape: [1, 2 ** 31, 1, 1] }] }));
  refuse('graph input dims whose product passes 2^53', () => ({ ...baseSpec(), inputs: [{ name: 'x', shape: [2 ** 20, 2 ** 20, 2 ** 20, 8] }] }));
  cases.push({ name: '--input-shape with 2^40 elements', make: () => single('sizes.onnx', buildModel(baseSpec())), options: { inputShape: [1, 3, 2 ** 20, 2 ** 20] }, expect: 'error', allocationLimit: SMALL_MODEL_ALLOCATION });
  cases.push({ name: '--input-shape with a negative dim', make: () => single('sizes.onnx', buildModel(baseSpec())), options: { inputShape: [1, 3, -8, 8] }, expect: 'error', problem: /positive integers/ });
  // Wrong element types.
  // A non-numeric weight leaves the conv's output unknown: reported unsupported, never guessed.
  const unsupportedConv = (model: IrModel) => {
    const conv = model.nodes.find((n) => n.name === 'conv');
    if (conv?.spec.type !== 'unsupported') throw new Error(`conv row is ${conv?.spec.type ?? 'missing'}, not unsupported`);
  };
  cases.push({ name: 'conv weight of type string', make: () => single('sizes.onnx', buildModel(withInitializer('w', { dims: [4, 3, 3, 3], dataType: T.STRING, stringData: [utf8('a')] }))), check: unsupportedConv });
  cases.push({ name: 'conv weight of undefined type', make: () => single('sizes.onnx', buildModel(withInitializer('w', { dims: [4, 3, 3, 3], dataType: 0, rawData: new Uint8Array(432) }))), check: unsupportedConv });
  refuse('conv weight of type 99', () => withInitializer('w', { dims: [4, 3, 3, 3], dataType: 99, rawData: new Uint8Array(432) }));
  refuse('conv weight of complex128', () => withInitializer('w', { dims: [4, 3, 3, 3], dataType: T.COMPLEX128, rawData: new Uint8Array(432 * 4) }));
  either('conv weight as int8', () => withInitializer('w', tensor('w', [4, 3, 3, 3], new Array(108).fill(1), { dataType: T.INT8 })));
  either('conv weight as float16', () => withInitializer('w', tensor('w', [4, 3, 3, 3], seeded(108), { dataType: T.FLOAT16 })));
  // External data that lies or escapes.
  const external = (entries: Record<string, string>, dims = [4, 3, 3, 3]): onnx.ITensorProto => ({
    name: 'w', dims, dataType: T.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
  });
  const weights = new Uint8Array(432);
  const ext = (name: string, entries: Record<string, string>, problem?: RegExp, dims?: number[], expect: Case['expect'] = 'error', companions: Record<string, Uint8Array> = { 'w.bin': weights }) =>
    cases.push({ name: `external data: ${name}`, make: () => single('ext.onnx', buildModel(withInitializer('w', external(entries, dims))), companions), expect, allocationLimit: SMALL_MODEL_ALLOCATION, ...(problem ? { problem } : {}) });
  ext('a valid reference opens', { location: 'w.bin' }, undefined, undefined, 'report');
  ext('missing file', { location: 'nope.bin' }, /nope\.bin/);
  ext('no location', { offset: '0' }, /names no location/);
  ext('escaping with ..', { location: '../w.bin' }, /outside the model's folder/);
  ext('absolute path', { location: '/etc/passwd' }, /outside the model's folder/);
  ext('windows drive path', { location: 'C:\\w.bin' }, /outside the model's folder/);
  ext('URL', { location: 'https://example.com/w.bin' }, /outside|no such file/);
  ext('offset past the end', { location: 'w.bin', offset: '4000' }, /has only 432/);
  ext('offset 2^60', { location: 'w.bin', offset: String(2 ** 60) }, /invalid external data offset|has only/);
  ext('negative offset', { location: 'w.bin', offset: '-8' }, /invalid external data offset/);
  ext('offset not a number', { location: 'w.bin', offset: 'abc' }, /invalid external data offset/);
  ext('length lies', { location: 'w.bin', length: '4' }, /declares 4 external bytes/);
  ext('dims 2^40 over a 432-byte file', { location: 'w.bin' }, /more than a tensor can hold/, [2 ** 20, 2 ** 20]);
  ext('dims 2^26 over a 432-byte file', { location: 'w.bin' }, /has only 432/, [2 ** 26]);
  return cases;
}

// --- graph structure -------------------------------------------------------------------------------

export function onnxGraphs(): Case[] {
  const cases: Case[] = [];
  const build = (name: string, spec: () => ModelSpec, expect: Case['expect'] = 'error', problem?: RegExp) =>
    cases.push({ name, make: () => single('graph.onnx', buildModel(spec())), expect, ...(problem ? { problem } : {}) });
  const nodes = () => baseSpec().nodes;
  build('a cycle through two nodes', () => ({ ...baseSpec(), nodes: [node('Conv', ['x2', 'w', 'b'], ['c'], [attr.ints('pads', [1, 1, 1, 1])], 'conv'), node('Relu', ['c'], ['x2'], [], 'relu'), ...nodes().slice(2).map((n) => (n.op === 'Flatten' ? { ...n, inputs: ['x2'] } : n))] }), 'error', /cycle/);
  build('a node reading its own output', () => ({ ...baseSpec(), nodes: [nodes()[0], node('Add', ['c', 'r'], ['r'], [], 'self'), ...nodes().slice(2)] }), 'error', /cycle/);
  build('a cycle of four nodes', () => ({ ...baseSpec(), nodes: nodes().map((n, i) => (i === 0 ? { ...n, inputs: ['y', 'w', 'b'] } : n)) }), 'error', /cycle|produced/);
  build('a missing initializer', () => ({ ...baseSpec(), initializers: (baseSpec().initializers ?? []).filter((t) => t.name !== 'w') }), 'error', /reads "w", which is neither/);
  build('a missing bias initializer', () => ({ ...baseSpec(), initializers: (baseSpec().initializers ?? []).filter((t) => t.name !== 'b2') }), 'error', /reads "b2"/);
  build('two nodes with the same output', () => ({ ...baseSpec(), nodes: [...nodes(), node('Relu', ['f'], ['y'], [], 'dup')] }), 'error', /"y" is produced twice/);
  build('a node output named like the graph input', () => ({ ...baseSpec(), nodes: [...nodes(), node('Relu', ['y'], ['x'], [], 'dup')] }), 'error', /"x" is produced twice/);
  build('a node output named like an initializer', () => ({ ...baseSpec(), nodes: [...nodes(), node('Relu', ['y'], ['w'], [], 'dup')] }), 'error', /"w" is produced twice/);
  build('two initializers with the same name', () => ({ ...baseSpec(), initializers: [...(baseSpec().initializers ?? []), floats('w', [2], [1, 2])] }), 'either');
  build('duplicate graph outputs', () => ({ ...baseSpec(), outputs: ['y', 'y'] }), 'either');
  build('a graph output nothing produces', () => ({ ...baseSpec(), outputs: ['y', 'ghost'] }), 'either');
  build('a node named with terminal escapes reading a missing value', () => ({ ...baseSpec(), nodes: nodes().map((n, i) => (i === 1 ? { ...n, name: '\u001b[2J\u001b[31mpwned\u0007\r\n', inputs: ['ghost'] } : n)) }), 'error', /reads "ghost"/);
  build('no nodes', () => ({ ...baseSpec(), nodes: [] }), 'error', /no nodes/);
  build('only initializers among the inputs', () => ({ ...baseSpec(), inputs: [], initializersAsInputs: true }), 'error');
  build('an input with no shape', () => ({ ...baseSpec(), inputs: [{ name: 'x' }] }), 'error', /declares no shape/);
  build('an op with an empty type', () => ({ ...baseSpec(), nodes: nodes().map((n, i) => (i === 1 ? { ...n, op: '' } : n)) }), 'either');
  build('an unknown op', () => ({ ...baseSpec(), nodes: nodes().map((n, i) => (i === 1 ? { ...n, op: 'Frobnicate' } : n)) }), 'either');
  build('an op of an unknown domain', () => ({ ...baseSpec(), nodes: nodes().map((n, i) => (i === 1 ? { ...n, domain: 'evil.corp' } : n)) }), 'either');
  // An op that cannot be followed is an unsupported row with the reason, never an abort (docs/graphs.md).
  const unsupportedRow = (name: string) => (model: IrModel) => {
    const row = model.nodes.find((n) => n.name === name);
    if (row?.spec.type !== 'unsupported' || !row.spec.detail) throw new Error(`${name} row is ${row?.spec.type ?? 'missing'}, not unsupported with a reason`);
  };
  const reported = (name: string, spec: () => ModelSpec, row: string) => cases.push({ name, make: () => single('graph.onnx', buildModel(spec())), expect: 'report', check: unsupportedRow(row) });
  reported('a conv whose weight has the wrong rank', () => withInitializer('w', floats('w', [4, 27], seeded(108))), 'conv');
  reported('a conv whose weight disagrees with its input channels', () => withInitializer('w', floats('w', [4, 2, 3, 3], seeded(72))), 'conv');
  reported('a gemm whose weight disagrees with its input', () => withInitializer('w2', floats('w2', [10, 255], seeded(2550))), 'fc');
  build('a node with 10000 empty inputs', () => ({ ...baseSpec(), nodes: nodes().map((n, i) => (i === 1 ? { ...n, inputs: ['c', ...new Array<string>(10000).fill('')] } : n)) }), 'either');
  build('an opset of 2^40', () => ({ ...baseSpec(), opset: 2 ** 40 }), 'either');
  build('an opset of -1', () => ({ ...baseSpec(), opset: -1 }), 'either');
  build('a 2000-node chain of Relu', () => ({ ...baseSpec(), nodes: [nodes()[0], ...Array.from({ length: 2000 }, (_, i) => node('Relu', [i === 0 ? 'c' : `r${i - 1}`], [i === 1999 ? 'r' : `r${i}`], [], `relu${i}`)), ...nodes().slice(2)] }), 'either');
  cases.push({ name: 'a model without a graph', make: () => single('graph.onnx', encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }] })), expect: 'error', problem: /no nodes|graph/ });
  cases.push({ name: 'a graph nested 5000 deep in If attributes', make: () => single('graph.onnx', deepIf(5000)), expect: 'either' });
  return cases;
}

/** The base model plus an If node whose then_branch holds an If whose ... `depth` levels, written as bytes (the encoder recurses). */
function deepIf(depth: number): Uint8Array {
  const tag = (field: number) => encodeVarint(field * 8 + 2);
  // Innermost: GraphProto { node: NodeProto { op_type: "Relu" } }.
  const relu = [...tag(4), ...encodeVarint(4), ...utf8('Relu')];
  const payload = [...tag(1), ...encodeVarint(relu.length), ...relu];
  const prefixes: number[][] = [];
  let length = payload.length;
  const push = (field: number) => {
    const prefix = [...tag(field), ...encodeVarint(length)];
    prefixes.push(prefix);
    length += prefix.length;
  };
  for (let i = 0; i < depth; i++) {
    push(6); // AttributeProto.g
    push(5); // NodeProto.attribute
    push(1); // GraphProto.node
  }
  // The outermost GraphProto.node: an If in the main graph; ModelProto.graph (7) wraps it all.
  const base = modelProto(baseSpec());
  const graphBytes = onnx.GraphProto.encode(onnx.GraphProto.create(base.graph ?? {})).finish();
  const nested = new Uint8Array(length);
  let at = 0;
  for (let i = prefixes.length - 1; i >= 0; i--) {
    nested.set(prefixes[i], at);
    at += prefixes[i].length;
  }
  nested.set(payload, at);
  // graph := existing graph fields + one more node field (the nested chain starts with a node prefix).
  const graph = new Uint8Array(graphBytes.length + nested.length);
  graph.set(graphBytes, 0);
  graph.set(nested, graphBytes.length);
  const head = onnx.ModelProto.encode(onnx.ModelProto.create({ ...base, graph: undefined })).finish();
  const graphField = [...tag(7), ...encodeVarint(graph.length)];
  const out = new Uint8Array(head.length + graphField.length + graph.length);
  out.set(head, 0);
  out.set(graphField, head.length);
  out.set(graph, head.length + graphField.length);
  return out;
}

export const onnxName = (path: string): string => basename(path);

// --- constant folding that would build huge tensors from a few bytes ---------------------------------

/** Folding may build constants from tiny declarations (shapes, repeats): the whole model's folding stays bounded. */
export const FOLD_TOTAL_LIMIT = 1024 * MIB;
const FOLD_SINGLE_LIMIT = 160 * MIB;

export function onnxFoldBombs(): Case[] {
  const cases: Case[] = [];
  const i64 = (name: string, values: number[]) => tensor(name, [values.length], values, { dataType: T.INT64 });
  const bomb = (name: string, spec: () => ModelSpec, expect: Case['expect'] = 'either', check?: Case['check']) =>
    cases.push({ name, make: () => single('fold.onnx', buildModel(spec())), expect, allocationLimit: FOLD_SINGLE_LIMIT, totalAllocationLimit: FOLD_TOTAL_LIMIT, ...(check ? { check } : {}) });
  /** x -> Add(x, folded) -> y, where `nodes` compute "folded" from constants. */
  const around = (initializers: onnx.ITensorProto[], nodes: ModelSpec['nodes']): ModelSpec => ({
    inputs: [{ name: 'x', shape: [1, 4] }],
    outputs: ['y'],
    initializers,
    nodes: [...nodes, node('Add', ['x', 'folded'], ['y'], [], 'add')],
  });
  bomb('ConstantOfShape [2^30]', () => around([i64('shape', [2 ** 30])], [node('ConstantOfShape', ['shape'], ['folded'])]));
  bomb('ConstantOfShape [2^20, 2^20]', () => around([i64('shape', [2 ** 20, 2 ** 20])], [node('ConstantOfShape', ['shape'], ['folded'])]));
  bomb('ConstantOfShape [-1, 4]', () => around([i64('shape', [-1, 4])], [node('ConstantOfShape', ['shape'], ['folded'])]), 'report');
  bomb('64 chained ConstantOfShape [4096, 4096] + Add', () => around([i64('shape', [4096, 4096])], [
    node('ConstantOfShape', ['shape'], ['c0']),
    ...Array.from({ length: 64 }, (_, i) => node('Add', [`c${i}`, 'c0'], [i === 63 ? 'big' : `c${i + 1}`], [], `add${i}`)),
    node('ReduceSum', ['big'], ['folded'], [attr.int('keepdims', 0)], 'sum'),
  ]));
  bomb('Tile of [1] by 2^30', () => around([floats('one', [1], [1]), i64('repeats', [2 ** 30])], [node('Tile', ['one', 'repeats'], ['folded'])]));
  bomb('Tile of [1,1] by [2^16, 2^16]', () => around([floats('one', [1, 1], [1]), i64('repeats', [2 ** 16, 2 ** 16])], [node('Tile', ['one', 'repeats'], ['folded'])]));
  bomb('Expand of [1] to [2^31]', () => around([floats('one', [1], [1]), i64('to', [2 ** 31])], [node('Expand', ['one', 'to'], ['folded'])]));
  bomb('Range 0..2^31', () => around([floats('start', [], [0]), floats('limit', [], [2 ** 31]), floats('delta', [], [1])], [node('Range', ['start', 'limit', 'delta'], ['folded'])]));
  bomb('Range 0..1 by 1e-12', () => around([floats('start', [], [0]), floats('limit', [], [1]), floats('delta', [], [1e-12])], [node('Range', ['start', 'limit', 'delta'], ['folded'])]));
  bomb('Resize of a constant by 2^15 on each axis', () => around([floats('one', [1, 1, 2, 2], [1, 2, 3, 4]), floats('scales', [4], [1, 1, 2 ** 15, 2 ** 15])], [node('Resize', ['one', '', 'scales'], ['folded'])]));
  bomb('Pad of a constant by 2^30', () => around([floats('one', [1], [1]), i64('pads', [0, 2 ** 30])], [node('Pad', ['one', 'pads'], ['folded'])]));
  bomb('Gather of a constant with 2^24 indices', () => around([floats('one', [1], [1]), { name: 'idx', dims: [2 ** 24], dataType: T.INT64, rawData: new Uint8Array(8) }], [node('Gather', ['one', 'idx'], ['folded'])]), 'error');
  bomb('Reshape of data to [2^40]', () => ({ inputs: [{ name: 'x', shape: [1, 4] }], outputs: ['y'], initializers: [i64('to', [2 ** 20, 2 ** 20])], nodes: [node('Reshape', ['x', 'to'], ['y'])] }), 'report', (model) => {
    if (model.nodes[0]?.spec.type !== 'unsupported') throw new Error(`the row is ${model.nodes[0]?.spec.type}, not unsupported`);
  });
  bomb('Expand of data to [2^20, 2^20]', () => ({ inputs: [{ name: 'x', shape: [1, 1] }], outputs: ['y'], initializers: [i64('to', [2 ** 20, 2 ** 20])], nodes: [node('Expand', ['x', 'to'], ['y'])] }));
  bomb('Tile of data by [2^20, 2^20]', () => ({ inputs: [{ name: 'x', shape: [1, 1] }], outputs: ['y'], initializers: [i64('r', [2 ** 20, 2 ** 20])], nodes: [node('Tile', ['x', 'r'], ['y'])] }));
  bomb('Resize of data by 2^20 on each axis', () => ({ inputs: [{ name: 'x', shape: [1, 1, 2, 2] }], outputs: ['y'], initializers: [floats('scales', [4], [1, 1, 2 ** 20, 2 ** 20])], nodes: [node('Resize', ['x', '', 'scales'], ['y'])] }));
  bomb('ConvTranspose with stride 2^20', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], initializers: [floats('k', [1, 1, 1, 1], [1])], nodes: [node('ConvTranspose', ['x', 'k'], ['y'], [attr.ints('strides', [2 ** 20, 2 ** 20])])] }));
  bomb('ConvTranspose with stride 2^12', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], initializers: [floats('k', [1, 1, 2, 2], [1, 2, 3, 4])], nodes: [node('ConvTranspose', ['x', 'k'], ['y'], [attr.ints('strides', [2 ** 12, 2 ** 12])])] }));
  bomb('Resize of data to 2^28 values', () => ({ inputs: [{ name: 'x', shape: [1, 1, 2, 2] }], outputs: ['y'], initializers: [floats('scales', [4], [1, 1, 2 ** 13, 2 ** 13])], nodes: [node('Resize', ['x', '', 'scales'], ['y'])] }));
  bomb('Pad of data by 2^30', () => ({ inputs: [{ name: 'x', shape: [1, 4] }], outputs: ['y'], initializers: [i64('pads', [0, 0, 0, 2 ** 30])], nodes: [node('Pad', ['x', 'pads'], ['y'])] }));
  bomb('Conv with pads 2^30', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], initializers: [floats('k', [1, 1, 1, 1], [1])], nodes: [node('Conv', ['x', 'k'], ['y'], [attr.ints('pads', [2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30])])] }));
  bomb('Conv with dilation 2^30', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], initializers: [floats('k', [1, 1, 3, 3], seeded(9))], nodes: [node('Conv', ['x', 'k'], ['y'], [attr.ints('dilations', [2 ** 30, 2 ** 30])])] }));
  bomb('Conv with stride 0', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], initializers: [floats('k', [1, 1, 1, 1], [1])], nodes: [node('Conv', ['x', 'k'], ['y'], [attr.ints('strides', [0, 0])])] }), 'report', (model) => {
    if (model.nodes[0]?.spec.type !== 'unsupported') throw new Error(`the row is ${model.nodes[0]?.spec.type}, not unsupported`);
  });
  bomb('Conv with group 0', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], initializers: [floats('k', [1, 1, 1, 1], [1])], nodes: [node('Conv', ['x', 'k'], ['y'], [attr.int('group', 0)])] }), 'report', (model) => {
    if (model.nodes[0]?.spec.type !== 'unsupported') throw new Error(`the row is ${model.nodes[0]?.spec.type}, not unsupported`);
  });
  bomb('MaxPool with a 2^30 kernel', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], nodes: [node('MaxPool', ['x'], ['y'], [attr.ints('kernel_shape', [2 ** 30, 2 ** 30])])] }));
  bomb('AveragePool with a 2^15 kernel and padding', () => ({ inputs: [{ name: 'x', shape: [1, 1, 4, 4] }], outputs: ['y'], nodes: [node('AveragePool', ['x'], ['y'], [attr.ints('kernel_shape', [2 ** 15, 2 ** 15]), attr.ints('pads', [2 ** 15, 2 ** 15, 2 ** 15, 2 ** 15])])] }), 'report', invalidRow('averagepool_0', /too large to estimate in memory/));
  return cases;
}

/** The estimate must report `layer` invalid for `reason` (when it ran to that layer). */
export function invalidRow(layer: string, reason: RegExp): NonNullable<Case['check']> {
  return (_model, result) => {
    if (!result) return;
    const found = (result.bounds.invalid ?? []).find((i) => i.name === layer);
    if (!found || !reason.test(found.reason)) throw new Error(`bounds.invalid ${JSON.stringify(result.bounds.invalid ?? [])} has no "${layer}" matching ${reason}`);
    if (result.bounds.product !== null) throw new Error(`bounds.product ${result.bounds.product} through an invalid layer`);
  };
}
