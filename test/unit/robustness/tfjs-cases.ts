// Hostile TF.js folders: mutations of the real (nsfwjs, @vladmandic/human) and generated model.json
// fixtures and their weight shards, one list of cases per family.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bitPositions, deepClone, flipBit, nestedJson, pick, rng, truncate, truncationLengths, utf8 } from '../../helpers/mutations';
import type { Case, Folder } from './harness';
import { root } from './onnx-cases';

interface Source {
  label: string;
  dir: string;
  /** How many cases of each byte-level family this model gets (the real models are slower to open). */
  weight: number;
}

export const TFJS_SOURCES: Source[] = [
  { label: 'functional', dir: 'functional', weight: 1 },
  { label: 'seq-cnn', dir: 'seq-cnn', weight: 1 },
  { label: 'uint8', dir: 'functional-uint8', weight: 0.6 },
  { label: 'float16', dir: 'functional-float16', weight: 0.6 },
  { label: 'misc-1d', dir: 'misc-1d-nested', weight: 0.6 },
  { label: 'channels-first', dir: 'channels-first', weight: 1 },
  { label: 'human-emotion', dir: 'real/human-emotion', weight: 0.6 },
  { label: 'nsfwjs', dir: 'real/nsfwjs-mobilenet-v2', weight: 0.3 },
];

const cache = new Map<string, Folder>();
/** A fixture folder in memory (expected.json and other non-model files left out). */
export function tfjsFolder(source: Source): Folder {
  let folder = cache.get(source.dir);
  if (!folder) {
    const dir = join(root, 'test', 'fixtures', 'tfjs', source.dir);
    const files: Record<string, Uint8Array> = {};
    for (const name of readdirSync(dir)) if (name !== 'expected.json') files[name] = new Uint8Array(readFileSync(join(dir, name)));
    folder = { main: 'model.json', files };
    cache.set(source.dir, folder);
  }
  return folder;
}

type Manifest = { paths: unknown[]; weights: Record<string, unknown>[] }[];
type ModelJson = Record<string, unknown> & { weightsManifest: Manifest; modelTopology: Record<string, unknown> };

export function modelJson(source: Source): ModelJson {
  return JSON.parse(new TextDecoder().decode(tfjsFolder(source).files['model.json'])) as ModelJson;
}

/** The folder with some files replaced (a Uint8Array) or removed (null). */
export function withFiles(folder: Folder, changes: Record<string, Uint8Array | null>): Folder {
  const files = { ...folder.files };
  for (const [path, bytes] of Object.entries(changes)) {
    if (bytes === null) delete files[path];
    else files[path] = bytes;
  }
  return { main: folder.main, files };
}

const withJson = (folder: Folder, json: unknown): Folder => withFiles(folder, { 'model.json': utf8(JSON.stringify(json)) });

const shardsOf = (source: Source): string[] => modelJson(source).weightsManifest.flatMap((g) => g.paths as string[]);

export function tfjsTruncation(): Case[] {
  return TFJS_SOURCES.flatMap((source, s) => {
    const folder = tfjsFolder(source);
    const text = folder.files['model.json'];
    return truncationLengths(text.length, Math.round(14 * source.weight), 400 + s).map((n) => ({
      name: `${source.label} model.json truncated to ${n} of ${text.length} bytes`,
      make: () => withFiles(folder, { 'model.json': truncate(text, n) }),
      expect: 'error' as const,
    }));
  });
}

export function tfjsShardTruncation(): Case[] {
  return TFJS_SOURCES.flatMap((source, s) => {
    const folder = tfjsFolder(source);
    const shards = shardsOf(source);
    return shards.flatMap((shard, k) => {
      if (k > 0 && k < shards.length - 1) return [];
      const bytes = folder.files[shard];
      return truncationLengths(bytes.length, Math.round(8 * source.weight), 500 + s * 10 + k).map((n) => ({
        name: `${source.label} shard ${shard} truncated to ${n} of ${bytes.length} bytes`,
        make: () => withFiles(folder, { [shard]: truncate(bytes, n) }),
        expect: 'error' as const,
        problem: new RegExp(`shard.*"${shard.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}".*short`),
      }));
    });
  });
}

export function tfjsBitFlips(): Case[] {
  return TFJS_SOURCES.flatMap((source, s) => {
    const folder = tfjsFolder(source);
    const shard = shardsOf(source)[0];
    const bytes = folder.files[shard];
    const text = folder.files['model.json'];
    const inShard = bitPositions(bytes.length, Math.round(10 * source.weight), 600 + s).map((bit) => ({
      name: `${source.label} shard ${shard} with bit ${bit} flipped`,
      make: () => withFiles(folder, { [shard]: flipBit(bytes, bit) }),
    }));
    const inJson = bitPositions(text.length, Math.round(10 * source.weight), 700 + s).map((bit) => ({
      name: `${source.label} model.json with bit ${bit} ("${String.fromCharCode(text[bit >> 3])}" at ${bit >> 3}) flipped`,
      make: () => withFiles(folder, { 'model.json': flipBit(text, bit) }),
    }));
    return [...inShard, ...inJson];
  });
}

export function tfjsManifest(): Case[] {
  const cases: Case[] = [];
  for (const source of [TFJS_SOURCES[5], TFJS_SOURCES[0], TFJS_SOURCES[1]]) {
    const folder = tfjsFolder(source);
    const shards = shardsOf(source);
    const first = shards[0];
    const edit = (name: string, change: (json: ModelJson) => void, expect: Case['expect'] = 'error', problem?: RegExp, files: Record<string, Uint8Array | null> = {}) => {
      cases.push({
        name: `${source.label}: ${name}`,
        make: () => {
          const json = deepClone(modelJson(source));
          change(json);
          return withFiles(withJson(folder, json), files);
        },
        expect,
        allocationLimit: 16 * 1024 * 1024,
        ...(problem ? { problem } : {}),
      });
    };
    const weight0 = (json: ModelJson) => json.weightsManifest[0].weights[0];
    edit('unchanged', () => undefined, 'report');
    edit('a missing shard', () => undefined, 'error', /weight shard ".*" is missing/, { [first]: null });
    edit('an extra shard listed that does not exist', (j) => j.weightsManifest[0].paths.push('group1-shard9of9.bin'), 'error', /group1-shard9of9\.bin/);
    edit('an extra file on disk nobody lists', () => undefined, 'report', undefined, { 'stray.bin': new Uint8Array(100) });
    edit('a short shard', () => undefined, 'error', /short/, { [first]: folder.files[first].slice(0, folder.files[first].length - 1) });
    edit('a longer shard', () => undefined, 'either', undefined, { [shards[shards.length - 1]]: new Uint8Array([...folder.files[shards[shards.length - 1]], 1, 2, 3, 4]) });
    edit('an empty shard', () => undefined, 'error', /short/, { [first]: new Uint8Array(0) });
    edit('shards listed twice', (j) => j.weightsManifest[0].paths.push(...(j.weightsManifest[0].paths as string[])), 'either');
    edit('model.json listed as its own shard', (j) => { j.weightsManifest[0].paths = ['model.json']; }, 'either');
    edit('no paths', (j) => { j.weightsManifest[0].paths = []; }, 'error', /no shard files/);
    edit('paths not strings', (j) => { j.weightsManifest[0].paths = [42]; }, 'error', /not a list of file names/);
    edit('weights not a list', (j) => { j.weightsManifest[0].weights = {} as unknown as Record<string, unknown>[]; }, 'error', /not a list/);
    edit('manifest not a list', (j) => { (j as Record<string, unknown>).weightsManifest = { paths: [] }; }, 'error', /not a list of weight groups/);
    edit('manifest group null', (j) => { (j.weightsManifest as unknown[])[0] = null; }, 'error', /not an object/);
    edit('no manifest at all', (j) => { delete (j as Record<string, unknown>).weightsManifest; }, 'error');
    edit('a weight without a name', (j) => { delete weight0(j).name; }, 'error', /has no name/);
    edit('a duplicate weight', (j) => j.weightsManifest[0].weights.push(deepClone(weight0(j))), 'either');
    edit('a weight the layers do not use', (j) => j.weightsManifest[0].weights.push({ name: 'extra/kernel', shape: [1], dtype: 'float32' }), 'either');
    edit('a weight the layers need removed', (j) => j.weightsManifest[0].weights.splice(0, 1), 'error');
    for (const dtype of ['float64', 'int64', 'uint8', 'complex64', 'string', 'bool', 'int32', 'Float32', '', 42, null]) {
      edit(`dtype ${JSON.stringify(dtype)}`, (j) => { weight0(j).dtype = dtype; }, 'error');
    }
    edit('quantization of an unknown dtype', (j) => { weight0(j).quantization = { dtype: 'int4', scale: 1, min: 0 }; }, 'error', /unsupported quantization/);
    edit('uint8 quantization without scale', (j) => { weight0(j).quantization = { dtype: 'uint8' }; }, 'error', /without numeric scale/);
    edit('quantization null', (j) => { weight0(j).quantization = null; }, 'error');
    for (const path of ['../group1-shard1of1.bin', '../../../../etc/passwd', 'sub/../../x.bin', '/etc/passwd', '\\\\server\\share\\x.bin', 'C:\\weights.bin', 'https://example.com/w.bin', 'file:///etc/passwd', 'data:application/octet-stream;base64,AAAA', '']) {
      edit(`shard path ${JSON.stringify(path)}`, (j) => { j.weightsManifest[0].paths[0] = path; }, 'error', /weight shard path|outside|missing/);
    }
    for (const shape of [[2 ** 20, 2 ** 20], [2 ** 31], [2 ** 27, 2 ** 27], [2 ** 30, 2 ** 30, 2 ** 30], [-1, 3], [3, -3, 1, 1], [1.5, 2], [null, 3], 'abc', null, [1e400], [2 ** 53 + 2]]) {
      edit(`weight shape ${JSON.stringify(shape)}`, (j) => { weight0(j).shape = shape; }, 'error');
    }
    edit('weight shape with a zero dim', (j) => { weight0(j).shape = [0, ...(weight0(j).shape as number[]).slice(1)]; }, 'error');
    edit('weight shape transposed (same size)', (j) => { weight0(j).shape = [...(weight0(j).shape as number[])].reverse(); }, 'either');
  }
  return cases;
}

export function tfjsHostileJson(): Case[] {
  const source = TFJS_SOURCES[5];
  const folder = tfjsFolder(source);
  const text = new TextDecoder().decode(folder.files['model.json']);
  const cases: Case[] = [];
  const raw = (name: string, json: string | Uint8Array, expect: Case['expect'] = 'error', problem?: RegExp, main = 'model.json') =>
    cases.push({ name, make: () => ({ main, files: { ...folder.files, [main]: typeof json === 'string' ? utf8(json) : json } }), expect, ...(problem ? { problem } : {}) });
  for (const depth of [1000, 100_000, 1_000_000]) {
    raw(`a modelTopology nested ${depth} arrays deep`, text.replace('"modelTopology":', `"deep": ${nestedJson(depth)}, "modelTopology":`), 'either');
    raw(`a layer config nested ${depth} objects deep`, text.replace('"config":', `"config": ${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}, "config2":`), 'either');
  }
  raw('unbalanced nesting 100000 deep', `{"modelTopology": ${'['.repeat(100_000)}`, 'error', /not valid JSON/);
  const big = 'x'.repeat(16 * 1024 * 1024);
  raw('a 16 MiB layer name', text.replace(/"name":\s*"([^"]*)"/, `"name": "${big}"`), 'either');
  raw('a 16 MiB class_name', text.replace(/"class_name":\s*"Conv2D"/, `"class_name": "${big}"`), 'either');
  raw('a 16 MiB weight name', text.replace(/"name":\s*"conv_cf\/kernel"/, `"name": "${big}"`), 'either');
  raw('a 16 MiB shard path', text.replace(/"group1-shard1of1\.bin"/, `"${big}"`), 'error');
  raw('a 16 MiB string of escapes', `{"modelTopology": {"x": "${'\\u0000'.repeat(1024 * 1024)}"}, "format": "${'\\n'.repeat(1024 * 1024)}"}`, 'either');
  raw('a package.json named model.json', JSON.stringify({ name: 'x', version: '1.0.0', dependencies: {} }), 'error', /neither an ONNX model nor a TF.js model.json/);
  raw('a JSON array', '[1, 2, 3]', 'error');
  raw('a weights manifest with no topology (face-api.js)', JSON.stringify([{ weights: [{ name: 'conv0/filters', shape: [3, 3, 3, 16], dtype: 'float32' }], paths: ['tiny_face_detector_model.bin'] }]), 'error', /weights manifest with no model topology/);
  raw('an array that mentions paths and weights but is not a manifest', '[{"paths": 1}, 2, "weights"]', 'error');
  raw('JSON null', 'null', 'error');
  raw('a JSON string', '"modelTopology"', 'error');
  raw('modelTopology a number', '{"modelTopology": 5, "weightsManifest": []}', 'error', /modelTopology/);
  raw('modelTopology empty', '{"modelTopology": {}, "weightsManifest": []}', 'error', /neither a Keras model nor a graph/);
  raw('a graph-model with a node that is not a list', '{"format": "graph-model", "modelTopology": {"node": "x"}, "weightsManifest": []}', 'error');
  raw('a graph-model with no nodes', '{"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": []}', 'error');
  raw('a graph-model whose nodes are numbers', '{"modelTopology": {"node": [1, 2, 3]}, "weightsManifest": []}', 'error');
  raw('a layers-model whose layers are not a list', '{"format": "layers-model", "modelTopology": {"class_name": "Sequential", "config": {"layers": 7}}, "weightsManifest": []}', 'error');
  raw('a layers-model with a null layer', '{"format": "layers-model", "modelTopology": {"class_name": "Sequential", "config": {"layers": [null]}}, "weightsManifest": []}', 'error');
  raw('a Functional model with inbound nodes to nowhere', '{"format": "layers-model", "modelTopology": {"class_name": "Model", "config": {"layers": [{"class_name": "Dense", "name": "d", "config": {"units": 2}, "inbound_nodes": [[["ghost", 0, 0, {}]]]}], "input_layers": [["ghost", 0, 0]], "output_layers": [["d", 0, 0]]}}, "weightsManifest": []}', 'error');
  raw('a Functional model with a cycle', '{"format": "layers-model", "modelTopology": {"class_name": "Model", "config": {"layers": [{"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 2]}, "inbound_nodes": []}, {"class_name": "Activation", "name": "a", "config": {"activation": "relu"}, "inbound_nodes": [[["b", 0, 0, {}]]]}, {"class_name": "Activation", "name": "b", "config": {"activation": "relu"}, "inbound_nodes": [[["a", 0, 0, {}]]]}], "input_layers": [["in", 0, 0]], "output_layers": [["b", 0, 0]]}}, "weightsManifest": []}', 'either');
  raw('a BOM then garbage', new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('{"modelTopology": {{')]), 'error', /not valid JSON/);
  raw('invalid UTF-8', new Uint8Array([...utf8('{"modelTopology": {"class_name": "'), 0xff, 0xfe, 0xc0, ...utf8('"}}')]), 'error');
  raw('UTF-16 encoded', new Uint8Array([0xff, 0xfe, ...[...'{"modelTopology":{}}'].flatMap((c) => [c.charCodeAt(0), 0])]), 'error');
  raw('duplicate keys', text.replace('"modelTopology":', '"modelTopology": null, "modelTopology":'), 'either');
  raw('a proto-pollution key', text.replace('"modelTopology":', '"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}, "modelTopology":'), 'either');
  raw('NaN and Infinity literals', text.replace('"weightsManifest":', '"x": NaN, "weightsManifest":'), 'error', /not valid JSON/);
  raw('a TF.js model named weights.json', text, 'report', undefined, 'weights.json');
  raw('a TF.js model named model.txt', text, 'error', /neither/, 'model.txt');
  const random = rng(9);
  for (let i = 0; i < 4; i++) {
    const noise = Uint8Array.from({ length: 64 + pick(random, 4096) }, () => pick(random, 256));
    raw(`noise ${i} named model.json`, noise, 'error');
  }
  return cases;
}

// --- declarations that would build huge tensors from a few bytes -------------------------------------

/** A graph model x [1,4] -> Add(x, c) -> y whose constant c is declared inline in model.json. */
function inlineConst(shape: unknown[], value: Record<string, unknown>): Folder {
  const json = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '1' }, { size: '4' }] } }, dtype: { type: 'DT_FLOAT' } } },
        { name: 'c', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: shape.map((size) => ({ size })) }, ...value } }, dtype: { type: 'DT_FLOAT' } } },
        { name: 'y', op: 'AddV2', input: ['x', 'c'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
    },
    weightsManifest: [],
  };
  return { main: 'model.json', files: { 'model.json': utf8(JSON.stringify(json)) } };
}

/** A Sequential layers model: the first layer's config merged with `config`, no weights. */
function layersModel(layers: { class_name: string; config: Record<string, unknown> }[], weights: Record<string, unknown>[] = [], shard = new Uint8Array(0)): Folder {
  const json = {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'seq', layers } },
    weightsManifest: weights.length ? [{ paths: ['w.bin'], weights }] : [],
  };
  return { main: 'model.json', files: { 'model.json': utf8(JSON.stringify(json)), ...(weights.length ? { 'w.bin': shard } : {}) } };
}

export function tfjsBombs(): Case[] {
  const cases: Case[] = [];
  const MIB = 1024 * 1024;
  const bomb = (name: string, make: () => Folder, expect: Case['expect'] = 'either', check?: Case['check']) =>
    cases.push({ name, make, expect, allocationLimit: 160 * MIB, totalAllocationLimit: 1024 * MIB, ...(check ? { check } : {}) });
  bomb('inline Const [2^30] filled from one value', () => inlineConst(['1073741824'], { floatVal: [1] }));
  bomb('inline Const [2^26] filled from one value', () => inlineConst(['67108864'], { floatVal: [1] }));
  bomb('inline Const [2^20, 2^20] filled from one value', () => inlineConst(['1048576', '1048576'], { floatVal: [1] }));
  bomb('inline Const [-1] with one value', () => inlineConst(['-1'], { floatVal: [1] }));
  bomb('inline Const ["abc"]', () => inlineConst(['abc'], { floatVal: [1] }));
  bomb('inline Const [4] with tensorContent of 3 bytes', () => inlineConst(['4'], { tensorContent: btoa('abc') }));
  bomb('inline Const [4] with tensorContent not base64', () => inlineConst(['4'], { tensorContent: '%%%%' }));
  bomb('inline Const [2^26] with 16 bytes of tensorContent', () => inlineConst(['67108864'], { tensorContent: btoa('0123456789abcdef') }));
  const input = (shape: unknown[]) => ({ class_name: 'InputLayer', config: { name: 'in', batch_input_shape: shape, dtype: 'float32' } });
  bomb('a layers model whose input is [null, 2^20, 2^20, 3]', () => layersModel([input([null, 2 ** 20, 2 ** 20, 3]), { class_name: 'ReLU', config: { name: 'relu' } }]), 'error');
  bomb('a layers model whose input is [null, -4, 4, 3]', () => layersModel([input([null, -4, 4, 3]), { class_name: 'ReLU', config: { name: 'relu' } }]), 'error');
  bomb('a layers model whose input is [null, 1e400]', () => layersModel([{ class_name: 'ReLU', config: { name: 'relu', batch_input_shape: [null, '1e400'] } }]), 'error');
  bomb('Dense with 2^31 units and no weights', () => layersModel([input([null, 4]), { class_name: 'Dense', config: { name: 'd', units: 2 ** 31, use_bias: false } }]), 'error');
  bomb('Dense with 2^31 units claiming a [4, 2^31] kernel', () => layersModel([input([null, 4]), { class_name: 'Dense', config: { name: 'd', units: 2 ** 31, use_bias: false } }], [{ name: 'd/kernel', shape: [4, 2 ** 31], dtype: 'float32' }], new Uint8Array(16)), 'error');
  bomb('Conv2D with stride 0', () => layersModel([input([null, 4, 4, 1]), { class_name: 'Conv2D', config: { name: 'c', filters: 1, kernel_size: [1, 1], strides: [0, 0], use_bias: false } }], [{ name: 'c/kernel', shape: [1, 1, 1, 1], dtype: 'float32' }], new Uint8Array(4)), 'report', (model) => {
    if (model.nodes[0]?.spec.type !== 'unsupported') throw new Error(`the row is ${model.nodes[0]?.spec.type}, not unsupported`);
  });
  bomb('Conv2D with dilation 2^30', () => layersModel([input([null, 4, 4, 1]), { class_name: 'Conv2D', config: { name: 'c', filters: 1, kernel_size: [3, 3], dilation_rate: [2 ** 30, 2 ** 30], padding: 'same', use_bias: false } }], [{ name: 'c/kernel', shape: [3, 3, 1, 1], dtype: 'float32' }], new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer)), 'report', (_model, result) => {
    // Every tap but the centre reads padding: the layer is 5·identity, and the exact dilated-conv
    // reduction finds it without enumerating 2^30 residue classes (which once ran out of memory).
    const sigma = result?.layers.find((layer) => layer.name === 'c')?.sigma;
    if (result && (typeof sigma !== 'number' || Math.abs(sigma - 5) > 1e-5)) throw new Error(`σ of c is ${sigma}, not 5 (the centre tap)`);
  });
  bomb('UpSampling2D by 2^20', () => layersModel([input([null, 4, 4, 1]), { class_name: 'UpSampling2D', config: { name: 'u', size: [2 ** 20, 2 ** 20] } }]), 'report', (model) => {
    if (model.nodes[0]?.spec.type !== 'unsupported') throw new Error(`the row is ${model.nodes[0]?.spec.type}, not unsupported`);
  });
  bomb('UpSampling2D by 2^13 then a Conv2D', () => layersModel([input([null, 4, 4, 1]), { class_name: 'UpSampling2D', config: { name: 'u', size: [2 ** 13, 2 ** 13] } }, { class_name: 'Conv2D', config: { name: 'c', filters: 1, kernel_size: [1, 1], use_bias: false } }], [{ name: 'c/kernel', shape: [1, 1, 1, 1], dtype: 'float32' }], new Uint8Array(4)));
  bomb('ZeroPadding2D by 2^30', () => layersModel([input([null, 4, 4, 1]), { class_name: 'ZeroPadding2D', config: { name: 'p', padding: [[2 ** 30, 2 ** 30], [2 ** 30, 2 ** 30]] } }]), 'report', (model) => {
    if (model.nodes[0]?.spec.type !== 'unsupported') throw new Error(`the row is ${model.nodes[0]?.spec.type}, not unsupported`);
  });
  bomb('RepeatVector 2^31 times', () => layersModel([input([null, 4]), { class_name: 'RepeatVector', config: { name: 'r', n: 2 ** 31 } }]));
  bomb('Reshape to [2^20, 2^20]', () => layersModel([input([null, 4]), { class_name: 'Reshape', config: { name: 'r', target_shape: [2 ** 20, 2 ** 20] } }]), 'error');
  return cases;
}
