// Files that are not plain model bytes (empty, directories, FIFOs, devices, symlink loops, modes),
// the model size limit, and NaN / Inf weights, which must make the layer and the bound invalid.

import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { T, attr, buildModel, floats, node, seeded, tensor, type ModelSpec } from '../../helpers/onnx-builder';
import { utf8 } from '../../helpers/mutations';
import type { EstimateResult } from '../../../src/engine/estimate';
import { type Case, type Folder, writeFolder } from './harness';
import { ONNX_SOURCES, baseSpec, single, sourceBytes } from './onnx-cases';
import { TFJS_SOURCES, modelJson, tfjsFolder, withFiles } from './tfjs-cases';

const fifoSupported = (): boolean => process.platform !== 'win32' && spawnSync('mkfifo', ['--help'], { stdio: 'ignore' }).status === 0;

export function fileCases(): Case[] {
  const onnx = sourceBytes(ONNX_SOURCES[0]);
  const tfjs = tfjsFolder(TFJS_SOURCES[5]);
  const shard = modelJson(TFJS_SOURCES[5]).weightsManifest[0].paths[0] as string;
  const disk = (folder: Folder, label: string) => ({ path: writeFolder(folder, label) });
  const cases: Case[] = [
    { name: 'an empty .onnx', make: () => disk(single('empty.onnx', new Uint8Array(0)), 'empty'), expect: 'error', problem: /empty\.onnx: is empty/ },
    { name: 'an empty model.json', make: () => disk(withFiles(tfjs, { 'model.json': new Uint8Array(0) }), 'empty-json'), expect: 'error', problem: /model\.json: is empty/ },
    { name: 'an empty shard', make: () => disk(withFiles(tfjs, { [shard]: new Uint8Array(0) }), 'empty-shard'), expect: 'error', problem: /short/ },
    { name: 'a model file that does not exist', make: () => ({ path: join(writeFolder({ main: 'x', files: {} }, 'missing'), '..', 'nope.onnx') }), expect: 'error', problem: /nope\.onnx: no such file/ },
    {
      name: 'a directory named model.onnx',
      make: () => {
        const path = join(writeFolder({ main: 'x', files: {} }, 'dir'), '..', 'model.onnx');
        mkdirSync(path);
        return { path };
      },
      expect: 'error',
      problem: /is a directory/,
    },
    {
      name: 'a directory named model.json holding a model.json',
      make: () => {
        const path = join(writeFolder({ main: 'x', files: {} }, 'dir-json'), '..', 'model.json');
        mkdirSync(path);
        writeFileSync(join(path, 'model.json'), tfjs.files['model.json']);
        return { path };
      },
      expect: 'error',
      problem: /is a directory/,
    },
    {
      name: 'a shard that is a directory',
      make: () => {
        const path = writeFolder(withFiles(tfjs, { [shard]: null }), 'shard-dir');
        mkdirSync(join(dirname(path), shard));
        return { path };
      },
      expect: 'error',
      problem: /is a directory/,
    },
    {
      name: 'a symlink loop as the model',
      make: () => {
        const dir = dirname(writeFolder({ main: 'x', files: {} }, 'loop'));
        symlinkSync(join(dir, 'b.onnx'), join(dir, 'a.onnx'));
        symlinkSync(join(dir, 'a.onnx'), join(dir, 'b.onnx'));
        return { path: join(dir, 'a.onnx') };
      },
      expect: 'error',
      problem: /symbolic links|cannot be read/,
    },
    {
      name: 'a shard that is a symlink to /dev/zero (endless bytes)',
      make: () => {
        const path = writeFolder(withFiles(tfjs, { [shard]: null }), 'dev-zero');
        symlinkSync('/dev/zero', join(dirname(path), shard));
        return { path };
      },
      expect: 'error',
      problem: /not a regular file|missing or unreadable/,
    },
    {
      name: 'external data that is /dev/zero',
      make: () => {
        const spec = baseSpec();
        const w = (spec.initializers ?? [])[0];
        const external = { name: 'w', dims: w.dims, dataType: T.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] };
        const path = writeFolder(single('ext.onnx', buildModel({ ...spec, initializers: [external, ...(spec.initializers ?? []).slice(1)] })), 'ext-zero');
        symlinkSync('/dev/zero', join(dirname(path), 'w.bin'));
        return { path };
      },
      expect: 'error',
      problem: /not a regular file/,
    },
  ];
  if (fifoSupported()) {
    for (const [label, main] of [['onnx', 'fifo.onnx'], ['tfjs', 'model.json']] as const) {
      cases.push({
        name: `a FIFO as the ${label} model (a read would block forever)`,
        make: () => {
          const path = join(dirname(writeFolder({ main: 'x', files: {} }, `fifo-${label}`)), main);
          spawnSync('mkfifo', [path]);
          return { path };
        },
        expect: 'error',
        problem: /not a regular file/,
      });
    }
  }
  // The size limit (--max-bytes, lipschitzLens.maxModelBytes).
  cases.push(
    { name: 'an ONNX model over --max-bytes', make: () => single('big.onnx', onnx), options: { maxBytes: 1000 }, expect: 'error', problem: new RegExp(`big\\.onnx: is ${(onnx.length / 1024).toFixed(0)} KiB, larger than the 1000 B limit \\(setting lipschitzLens\\.maxModelBytes\\)`) },
    { name: 'an ONNX model exactly at --max-bytes', make: () => single('big.onnx', onnx), options: { maxBytes: onnx.length }, expect: 'report' },
    { name: 'a model.json over --max-bytes', make: () => tfjs, options: { maxBytes: 100 }, expect: 'error', problem: /model\.json: is 1\.3 KiB, larger than the 100 B limit/ },
    {
      name: 'a model.json under --max-bytes whose shards take it over',
      make: () => tfjsFolder(TFJS_SOURCES[0]),
      options: { maxBytes: tfjsFolder(TFJS_SOURCES[0]).files['model.json'].length + 1500 },
      expect: 'error',
      problem: /model\.json: with its weight files is over 7\.\d KiB, larger than the 6\.\d KiB limit/,
    },
    { name: 'a model.json with its shards exactly at --max-bytes', make: () => tfjsFolder(TFJS_SOURCES[0]), options: { maxBytes: Object.values(tfjsFolder(TFJS_SOURCES[0]).files).reduce((a, b) => a + b.length, 0) }, expect: 'report' },
    {
      name: 'an ONNX model under --max-bytes whose external data takes it over',
      make: () => {
        const spec = baseSpec();
        const external = { name: 'w2', dims: [10, 256], dataType: T.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'w2.bin' }] };
        return single('ext.onnx', buildModel({ ...spec, initializers: (spec.initializers ?? []).map((t) => (t.name === 'w2' ? external : t)) }), { 'w2.bin': new Uint8Array(10240) });
      },
      options: { maxBytes: 8000 },
      expect: 'error',
      problem: /ext\.onnx: with its weight files is over 1\d KiB, larger than the 7\.8 KiB limit/,
    },
    { name: '--max-bytes 0 refuses everything', make: () => single('big.onnx', onnx), options: { maxBytes: 0 }, expect: 'error', problem: /larger than the 0 B limit/ },
  );
  return cases;
}

/** Unreadable files: meaningful only when chmod 000 blocks reads (not as root). */
export function unreadableCases(): { cases: Case[]; skip?: string } {
  const probe = writeFolder({ main: 'probe', files: { probe: utf8('x') } }, 'probe');
  chmodSync(probe, 0);
  let readable = false;
  try {
    readFileSync(probe);
    readable = true;
  } catch {
    readable = false;
  }
  if (readable) return { cases: [], skip: `chmod 000 does not block reads for this user (uid ${process.getuid?.() ?? '?'}, root?): unreadable-file cases skipped` };
  const tfjs = tfjsFolder(TFJS_SOURCES[5]);
  const shard = modelJson(TFJS_SOURCES[5]).weightsManifest[0].paths[0] as string;
  return {
    cases: [
      {
        name: 'an unreadable .onnx',
        make: () => {
          const path = writeFolder(single('locked.onnx', sourceBytes(ONNX_SOURCES[0])), 'locked');
          chmodSync(path, 0);
          return { path };
        },
        expect: 'error',
        problem: /locked\.onnx: permission denied/,
      },
      {
        name: 'an unreadable shard',
        make: () => {
          const path = writeFolder(tfjs, 'locked-shard');
          chmodSync(join(dirname(path), shard), 0);
          return { path };
        },
        expect: 'error',
        problem: /permission denied/,
      },
    ],
  };
}

// --- NaN and Inf weights ----------------------------------------------------------------------------

/** The report must name `layer` as invalid, give its row no sigma, and give the network no bound. */
function invalidAt(layer: string) {
  return (_model: unknown, result: EstimateResult | undefined) => {
    if (!result) throw new Error('no report');
    const invalid = result.bounds.invalid ?? [];
    if (!invalid.some((i) => i.name === layer)) throw new Error(`bounds.invalid ${JSON.stringify(invalid)} does not name "${layer}"`);
    const row = result.layers.find((l) => l.name === layer);
    if (!row) throw new Error(`no row "${layer}"`);
    if (row.sigma !== null) throw new Error(`row "${layer}" has sigma ${row.sigma}, not null`);
    if (result.bounds.product !== null) throw new Error(`bounds.product is ${result.bounds.product}, not null`);
    if (result.bounds.certified !== null) throw new Error(`bounds.certified is ${result.bounds.certified}, not null`);
    if (!invalid.every((i) => /NaN|Inf|too large/.test(i.reason))) throw new Error(`reasons ${JSON.stringify(invalid)}`);
  };
}

/** A finite model gives a bound: the control that keeps the NaN checks honest. */
function finite(result: EstimateResult | undefined): void {
  if (!result || result.bounds.product === null || result.bounds.invalid) throw new Error(`a clean model has no valid bound: ${JSON.stringify(result?.bounds)}`);
}

function poisoned(values: ArrayLike<number>, at: number, value: number): Float32Array {
  const out = Float32Array.from(values);
  out[at] = value;
  return out;
}

export function nonFiniteCases(): Case[] {
  const cases: Case[] = [];
  const onnxCase = (name: string, spec: () => ModelSpec, layer: string) =>
    cases.push({ name: `onnx: ${name}`, make: () => single('nan.onnx', buildModel(spec())), expect: 'report', fullEstimate: true, check: invalidAt(layer) });
  const replace = (spec: ModelSpec, name: string, t: ReturnType<typeof floats>): ModelSpec => ({ ...spec, initializers: (spec.initializers ?? []).map((x) => (x.name === name ? t : x)) });
  cases.push({ name: 'onnx: the clean base model has a bound', make: () => single('nan.onnx', buildModel(baseSpec())), expect: 'report', fullEstimate: true, check: (_m, r) => finite(r) });
  onnxCase('NaN in a conv weight', () => replace(baseSpec(), 'w', floats('w', [4, 3, 3, 3], poisoned(seeded(108, 1), 5, NaN))), 'conv');
  onnxCase('+Inf in a conv weight', () => replace(baseSpec(), 'w', floats('w', [4, 3, 3, 3], poisoned(seeded(108, 1), 0, Infinity))), 'conv');
  onnxCase('-Inf in a Gemm weight', () => replace(baseSpec(), 'w2', floats('w2', [10, 256], poisoned(seeded(2560, 3), 2559, -Infinity))), 'fc');
  onnxCase('NaN in a float16 conv weight', () => replace(baseSpec(), 'w', tensor('w', [4, 3, 3, 3], poisoned(seeded(108, 1), 7, NaN), { dataType: T.FLOAT16 })), 'conv');
  onnxCase('Inf in a double Gemm weight in the typed field', () => replace(baseSpec(), 'w2', tensor('w2', [10, 256], poisoned(seeded(2560, 3), 3, Infinity), { dataType: T.DOUBLE, raw: false })), 'fc');
  onnxCase('a finite conv weight of 1e30 (too large for float32 products)', () => replace(baseSpec(), 'w', floats('w', [4, 3, 3, 3], poisoned(seeded(108, 1), 1, 1e30))), 'conv');
  const matmul = (value: number): ModelSpec => ({
    inputs: [{ name: 'x', shape: [1, 16] }],
    outputs: ['y'],
    initializers: [floats('m', [16, 8], poisoned(seeded(128, 5), 9, value))],
    nodes: [node('MatMul', ['x', 'm'], ['y'], [], 'mm')],
  });
  onnxCase('NaN in a MatMul weight', () => matmul(NaN), 'mm');
  const transpose = (): ModelSpec => ({
    inputs: [{ name: 'x', shape: [1, 2, 4, 4] }],
    outputs: ['y'],
    initializers: [floats('k', [2, 3, 3, 3], poisoned(seeded(54, 6), 11, NaN))],
    nodes: [node('ConvTranspose', ['x', 'k'], ['y'], [], 'deconv')],
  });
  onnxCase('NaN in a ConvTranspose weight', transpose, 'deconv');
  const batchNorm = (scale: number[], variance: number[]): ModelSpec => ({
    inputs: [{ name: 'x', shape: [1, 3, 8, 8] }],
    outputs: ['y'],
    initializers: [floats('s', [3], scale), floats('bb', [3], [0, 0, 0]), floats('mean', [3], [0, 0, 0]), floats('var', [3], variance)],
    nodes: [node('BatchNormalization', ['x', 's', 'bb', 'mean', 'var'], ['y'], [attr.float('epsilon', 1e-5)], 'bn')],
  });
  onnxCase('NaN in a batch-norm scale', () => batchNorm([1, NaN, 1], [1, 1, 1]), 'bn');
  onnxCase('Inf in a batch-norm scale', () => batchNorm([1, 1, Infinity], [1, 1, 1]), 'bn');
  onnxCase('NaN in a batch-norm variance', () => batchNorm([1, 1, 1], [1, NaN, 1]), 'bn');

  // TF.js: seq-cnn (Conv2D conv_a, BatchNormalization bn_a, Dense dense_l) with a poisoned float in its shard.
  const seq = TFJS_SOURCES[1];
  const manifest = modelJson(seq).weightsManifest[0];
  const offsetOf = (weight: string): number => {
    let offset = 0;
    for (const w of manifest.weights) {
      if (w.name === weight) return offset;
      offset += (w.shape as number[]).reduce((a, b) => a * b, 1) * 4;
    }
    throw new Error(`no weight ${weight}`);
  };
  const shard = manifest.paths[0] as string;
  const tfjsCase = (name: string, weight: string, index: number, value: number, layer: string) =>
    cases.push({
      name: `tfjs: ${name}`,
      make: () => {
        const folder = tfjsFolder(seq);
        const bytes = folder.files[shard].slice();
        new DataView(bytes.buffer).setFloat32(offsetOf(weight) + 4 * index, value, true);
        return withFiles(folder, { [shard]: bytes });
      },
      expect: 'report',
      fullEstimate: true,
      check: invalidAt(layer),
    });
  cases.push({ name: 'tfjs: the clean seq-cnn has a bound', make: () => tfjsFolder(seq), expect: 'report', fullEstimate: true, check: (_m, r) => finite(r) });
  tfjsCase('NaN in a Conv2D kernel', 'conv_a/kernel', 3, NaN, 'conv_a');
  tfjsCase('Inf in a Dense kernel', 'dense_l/kernel', 2, Infinity, 'dense_l');
  tfjsCase('NaN in a BatchNormalization gamma', 'bn_a/gamma', 1, NaN, 'bn_a');
  tfjsCase('-Inf in a BatchNormalization gamma', 'bn_a/gamma', 0, -Infinity, 'bn_a');
  tfjsCase('NaN in a depthwise kernel', 'dw_b/depthwise_kernel', 0, NaN, 'dw_b');
  // float16-quantised shards hold NaN as 0x7e00.
  const f16 = TFJS_SOURCES[3];
  const f16Manifest = modelJson(f16).weightsManifest[0];
  const f16Shard = f16Manifest.paths[0] as string;
  const first = f16Manifest.weights[0];
  cases.push({
    name: `tfjs: NaN in a float16-quantised ${String(first.name)}`,
    make: () => {
      const folder = tfjsFolder(f16);
      const bytes = folder.files[f16Shard].slice();
      new DataView(bytes.buffer).setUint16(2, 0x7e00, true);
      return withFiles(folder, { [f16Shard]: bytes });
    },
    expect: 'report',
    fullEstimate: true,
    check: invalidAt(String(first.name).split('/')[0]),
  });
  return cases;
}
