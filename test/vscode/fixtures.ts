// The throwaway workspace the real VS Code opens: copies of the project's fixture models
// (test/fixtures/**) plus a few small TF.js layers-models written here (pure JSON + float32
// shards, deterministic), so every in-host test has a model even before other fixtures exist.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { onnx } from 'onnx-proto';

export interface WorkspaceModels {
  /** Workspace folder (absolute). */
  folder: string;
  /** Small dense TF.js model: fast; CodeLens/hover/cache/export tests. */
  tinyTfjs: string;
  /** Conv TF.js model heavy enough to run for many seconds: cancel, event-loop, kill tests. */
  slowTfjs: string;
  /** Small conv TF.js model no other test runs first: the run after a killed worker (no cache hit). */
  freshTfjs: string;
  /** Garbage bytes named .onnx. */
  brokenOnnx: string;
  /** A model.json whose weight shard is missing. */
  brokenTfjs: string;
  /** An ONNX Gemm whose weight is ONNX external data in weights.bin next to it. */
  externalOnnx: string;
  /** Two small dense TF.js models only the menu tests use (input shapes set and reset). */
  menuTfjs: [string, string];
  /** A conv TF.js model written on one line, as converters write them (outline and Format model.json). */
  oneLineTfjs: string;
  /** Two checkpoints of one small dense architecture (same layer names, other weights): Compare Runs. */
  checkpoints: [string, string];
  /** .onnx files copied from test/fixtures (smallest first). */
  onnx: string[];
  /** model.json files copied from test/fixtures (smallest total first). */
  tfjs: string[];
}

/** Deterministic pseudo-random float32 weights (xorshift), scaled like a Glorot init. */
function weights(count: number, fanIn: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  const scale = Math.sqrt(3 / fanIn);
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 0xffffffff) * 2 - 1) * scale;
  }
  return out;
}

interface LayerSpec {
  className: 'Dense' | 'Conv2D';
  name: string;
  config: Record<string, unknown>;
  kernelShape: number[];
  biasShape: number[];
}

/** Writes a TF.js layers-model (Sequential) with one weight shard; returns model.json's path. */
export function writeTfjsLayersModel(dir: string, inputShape: (number | null)[], layers: LayerSpec[], seed = 7): string {
  mkdirSync(dir, { recursive: true });
  const specs: { name: string; shape: number[]; dtype: 'float32' }[] = [];
  const chunks: Float32Array[] = [];
  layers.forEach((layer, i) => {
    const kernelCount = layer.kernelShape.reduce((a, b) => a * b, 1);
    const fanIn = kernelCount / layer.kernelShape[layer.kernelShape.length - 1];
    chunks.push(weights(kernelCount, fanIn, seed + 17 * i));
    specs.push({ name: `${layer.name}/kernel`, shape: layer.kernelShape, dtype: 'float32' });
    chunks.push(weights(layer.biasShape[0], fanIn, seed + 17 * i + 5).map((v) => v * 0.1));
    specs.push({ name: `${layer.name}/bias`, shape: layer.biasShape, dtype: 'float32' });
  });
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(all.buffer));
  const modelLayers = layers.map((layer, i) => ({
    class_name: layer.className,
    config: {
      name: layer.name,
      trainable: true,
      dtype: 'float32',
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      ...(i === 0 ? { batch_input_shape: inputShape } : {}),
      ...layer.config,
    },
  }));
  const model = {
    format: 'layers-model',
    generatedBy: 'lipschitz-lens test/vscode/fixtures.ts',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: basename(dir), layers: modelLayers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }],
  };
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify(model, null, 2) + '\n');
  return path;
}

const dense = (name: string, inputs: number, units: number, activation: string): LayerSpec => ({
  className: 'Dense',
  name,
  config: { units, activation },
  kernelShape: [inputs, units],
  biasShape: [units],
});

const conv = (name: string, cin: number, cout: number, activation: string): LayerSpec => ({
  className: 'Conv2D',
  name,
  config: {
    filters: cout,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'same',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation,
  },
  kernelShape: [3, 3, cin, cout],
  biasShape: [cout],
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

function dirSize(dir: string): number {
  return filesUnder(dir).reduce((n, f) => n + statSync(f).size, 0);
}

/** Output features x input features of the external-data Gemm. */
export const EXTERNAL_GEMM_SHAPE = [6, 8] as const;

/**
 * Writes an ONNX model with one Gemm (8 → 6) whose weight lives in `weights.bin` (ONNX external
 * data, named only inside the model); `scale` multiplies the weights. Returns the model's path.
 */
export function writeExternalDataOnnx(dir: string, scale = 1): string {
  mkdirSync(dir, { recursive: true });
  const [outputs, inputs] = EXTERNAL_GEMM_SHAPE;
  const values = weights(outputs * inputs, inputs, 11).map((v) => v * scale);
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(values.buffer));
  const float = onnx.TensorProto.DataType.FLOAT;
  const valueInfo = (name: string, dims: number[]): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: float, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'lipschitz-lens-fixtures',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'external-data',
      node: [{ opType: 'Gemm', name: 'gemm', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }],
      initializer: [{ name: 'w', dims: [outputs, inputs], dataType: float, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'weights.bin' }] }],
      input: [valueInfo('x', [1, inputs])],
      output: [valueInfo('y', [1, outputs])],
    },
  };
  const path = join(dir, 'external.onnx');
  writeFileSync(path, onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
  return path;
}

/** Builds the workspace under `folder`; `fixturesDir` is the project's test/fixtures. */
export function prepareWorkspace(folder: string, fixturesDir: string): WorkspaceModels {
  mkdirSync(folder, { recursive: true });
  const copied = join(folder, 'fixtures');
  if (existsSync(fixturesDir)) cpSync(fixturesDir, copied, { recursive: true });
  const all = filesUnder(copied);
  const onnx = all.filter((f) => f.endsWith('.onnx')).sort((a, b) => statSync(a).size - statSync(b).size);
  const tfjs = all
    .filter((f) => basename(f) === 'model.json')
    .sort((a, b) => dirSize(join(a, '..')) - dirSize(join(b, '..')));

  const tinyTfjs = writeTfjsLayersModel(join(folder, 'tiny-dense'), [null, 8], [
    dense('dense_in', 8, 16, 'relu'),
    dense('dense_hidden', 16, 16, 'tanh'),
    dense('dense_out', 16, 4, 'linear'),
  ]);
  const slowTfjs = writeTfjsLayersModel(join(folder, 'slow-conv'), [null, 96, 96, 32], [
    conv('conv_a', 32, 32, 'relu'),
    conv('conv_b', 32, 32, 'relu'),
    conv('conv_c', 32, 32, 'relu'),
    conv('conv_d', 32, 32, 'relu'),
    conv('conv_e', 32, 32, 'linear'),
  ]);
  const freshTfjs = writeTfjsLayersModel(join(folder, 'fresh-conv'), [null, 16, 16, 4], [
    conv('conv_1', 4, 8, 'relu'),
    conv('conv_2', 8, 8, 'linear'),
  ]);
  const brokenDir = join(folder, 'broken');
  mkdirSync(brokenDir, { recursive: true });
  const brokenOnnx = join(brokenDir, 'broken.onnx');
  writeFileSync(brokenOnnx, Buffer.from('this is not a protobuf \x00\xff\xfe\x01 model at all'));
  const brokenTfjs = writeTfjsLayersModel(join(brokenDir, 'missing-shard'), [null, 4], [dense('d', 4, 4, 'relu')]);
  // Point the manifest at a shard that does not exist.
  writeFileSync(brokenTfjs, readFileSync(brokenTfjs, 'utf8').replace('group1-shard1of1.bin', 'no-such-shard.bin'));
  const externalOnnx = writeExternalDataOnnx(join(folder, 'external-data'));
  const menuTfjs: [string, string] = [
    writeTfjsLayersModel(join(folder, 'menu-a'), [null, 8], [dense('menu_a_dense', 8, 4, 'relu')], 21),
    writeTfjsLayersModel(join(folder, 'menu-b'), [null, 8], [dense('menu_b_dense', 8, 4, 'relu')], 22),
  ];
  const oneLineTfjs = writeTfjsLayersModel(join(folder, 'one-line'), [null, 12, 12, 3], [
    conv('line_conv_1', 3, 8, 'relu'),
    conv('line_conv_2', 8, 8, 'relu'),
    conv('line_conv_3', 8, 4, 'linear'),
  ], 31);
  writeFileSync(oneLineTfjs, JSON.stringify(JSON.parse(readFileSync(oneLineTfjs, 'utf8'))));
  const checkpointLayers = [dense('ckpt_in', 8, 12, 'relu'), dense('ckpt_out', 12, 3, 'linear')];
  const checkpoints: [string, string] = [
    writeTfjsLayersModel(join(folder, 'checkpoint-1'), [null, 8], checkpointLayers, 41),
    writeTfjsLayersModel(join(folder, 'checkpoint-2'), [null, 8], checkpointLayers, 42),
  ];
  return { folder, tinyTfjs, slowTfjs, freshTfjs, brokenOnnx, brokenTfjs, externalOnnx, menuTfjs, oneLineTfjs, checkpoints, onnx, tfjs };
}

/** Relative path of `file` inside the workspace, with forward slashes. */
export function workspaceRelative(models: WorkspaceModels, file: string): string {
  return relative(models.folder, file).split('\\').join('/');
}
