// Native float32 products through onnxruntime-node (ONNX Runtime's CPU kernels, MLAS): an optional
// accelerator for the iterative solver's convolution products, and float64 matrix products for the
// symbol's tap Gram matrices (large-input/conv-symbol.ts). docs/architecture.md#native-products.
//
// Why. The solver's cost is its product pairs. tfjs-wasm's convolutions reach about a fifth of a
// core (no FMA in wasm SIMD, no threads inside worker_threads); ONNX Runtime's reach PyTorch's speed
// on the same core. Measured here, one thread, one forward + adjoint pair: 512→512 3x3 @7² 5.7 ms
// against 17 ms, 64→64 3x3 @56² 8.8 against 17–21 ms, 512→512 3x3 @64² 0.49 s against about 1.4 s.
//
// Why the binding's own session. The solvers are synchronous (they run inside a compute worker and
// poll a shared cancel flag between products); the package's public `InferenceSession.run` wraps the
// same native call in a promise resolved on the next turn. The binding object behind it
// (`onnxruntime-node/dist/binding`) runs synchronously. Its shape is checked when it loads, and any
// mismatch (another version, a missing binary, a platform without one, the VS Code extension, whose
// package carries no node_modules) leaves the products on tfjs, with the numbers unchanged in kind:
// both are float32 products of the same operator.
//
// Off switch: LIPSCHITZ_LENS_PRODUCTS=tfjs in the environment, or useNativeProducts(false).

import { onnx } from 'onnx-proto';

interface BindingTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

interface BindingSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: Record<string, unknown>): Record<string, BindingTensor>;
  dispose(): void;
}

interface LoadedRuntime {
  version: string;
  newSession(): BindingSession;
  tensor(data: Float32Array | Float64Array, dims: number[]): unknown;
}

let loaded: LoadedRuntime | null | undefined;
let enabled = process.env.LIPSCHITZ_LENS_PRODUCTS !== 'tfjs';
let loadError: string | undefined;

/** Turns the native products on (when the runtime loads) or off, for this thread; returns the previous setting. */
export function useNativeProducts(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

function load(): LoadedRuntime | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    // Computed names: the bundles leave the package to be resolved at run time (it is optional).
    const name = ['onnxruntime', 'node'].join('-');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = require(name) as { Tensor: new (type: 'float32' | 'float64', data: Float32Array | Float64Array, dims: number[]) => unknown; env?: { versions?: { node?: string } } };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const internal = require([name, 'dist', 'binding'].join('/')) as { binding?: { InferenceSession?: new () => BindingSession }; initOrt?: () => void };
    const Session = internal.binding?.InferenceSession;
    if (typeof Session !== 'function' || typeof internal.initOrt !== 'function' || typeof api.Tensor !== 'function') {
      loadError = 'onnxruntime-node has an unexpected shape';
      return null;
    }
    internal.initOrt();
    const runtime: LoadedRuntime = {
      version: api.env?.versions?.node ?? 'unknown',
      newSession: () => new Session(),
      tensor: (data, dims) => (data instanceof Float64Array ? new api.Tensor('float64', data, dims) : new api.Tensor('float32', data, dims)),
    };
    // One real product before it is trusted: a host can load the addon and still refuse its
    // buffers (Electron's V8 memory cage rejects external array buffers), and that must show here,
    // not halfway through a solve.
    const check = compileGraph(runtime, {
      nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], output: 'c' }],
      initializers: [],
      inputs: [
        { name: 'a', dims: [1, 2] },
        { name: 'b', dims: [2, 1] },
      ],
      output: { name: 'c', dims: [1, 1] },
    });
    try {
      const value = check.run({ data: Float32Array.of(3, 4), dims: [1, 2] }, { data: Float32Array.of(5, 6), dims: [2, 1] });
      if (value[0] !== 39) throw new Error(`a probe product gave ${value[0]} instead of 39`);
    } finally {
      check.dispose();
    }
    loaded = runtime;
  } catch (error) {
    loadError = error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
  return loaded;
}

/** The runtime when native products are on and it loads; else null (tfjs does the products). */
export function nativeRuntime(): LoadedRuntime | null {
  return enabled ? load() : null;
}

/** What does the products, for the report's `backend` line. */
export function nativeProductsNote(): string | undefined {
  if (!enabled) return undefined;
  const runtime = load();
  return runtime ? `convolution products on onnxruntime-node ${runtime.version}` : undefined;
}

/** Why the runtime did not load (for logs and tests), if it was tried. */
export function nativeLoadError(): string | undefined {
  return loadError;
}

/** One ONNX node of a graph of float32 (or, with `elementType`, float64) tensors. */
export interface GraphNode {
  opType: string;
  inputs: string[];
  output: string;
  ints?: Record<string, number[]>;
  int?: Record<string, number>;
}

export interface GraphSpec {
  nodes: GraphNode[];
  /** Constant float32 tensors (weights), by name. */
  initializers: { name: string; dims: number[]; data: Float32Array }[];
  /** Graph inputs, in the order `run` takes them; a string dimension is symbolic (set per run). */
  inputs: { name: string; dims: (number | string)[] }[];
  output: { name: string; dims: (number | string)[] };
  /** Every input, initializer and the output: float32 unless 'float64'. */
  elementType?: 'float32' | 'float64';
}

/** A compiled graph of float32 inputs and one float32 output, run synchronously on one thread. */
export interface NativeGraph<T extends Float32Array | Float64Array = Float32Array> {
  /** One array per input, with its dims (only symbolic dims may differ from the spec). */
  run(...inputs: { data: T; dims: number[] }[]): T;
  dispose(): void;
}

const OPSET = 17;

function encodeGraph(spec: GraphSpec): Uint8Array {
  const elemType = spec.elementType === 'float64' ? onnx.TensorProto.DataType.DOUBLE : onnx.TensorProto.DataType.FLOAT;
  const valueInfo = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const graph = onnx.GraphProto.create({
    name: 'products',
    node: spec.nodes.map((node) =>
      onnx.NodeProto.create({
        opType: node.opType,
        input: node.inputs,
        output: [node.output],
        attribute: [
          ...Object.entries(node.ints ?? {}).map(([name, ints]) => onnx.AttributeProto.create({ name, ints, type: onnx.AttributeProto.AttributeType.INTS })),
          ...Object.entries(node.int ?? {}).map(([name, i]) => onnx.AttributeProto.create({ name, i, type: onnx.AttributeProto.AttributeType.INT })),
        ],
      }),
    ),
    initializer: spec.initializers.map(({ name, dims, data }) =>
      onnx.TensorProto.create({ name, dims, dataType: elemType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }),
    ),
    input: spec.inputs.map(({ name, dims }) => valueInfo(name, dims)),
    output: [valueInfo(spec.output.name, spec.output.dims)],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: OPSET }], graph })).finish();
}

/**
 * Compiles the graph. One intra-op thread: the engine runs one layer per compute worker, one worker
 * per core, so more threads would only contend.
 */
export function compileGraph(runtime: LoadedRuntime, spec: GraphSpec & { elementType?: 'float32' }): NativeGraph;
export function compileGraph(runtime: LoadedRuntime, spec: GraphSpec & { elementType: 'float64' }): NativeGraph<Float64Array>;
export function compileGraph(runtime: LoadedRuntime, spec: GraphSpec): NativeGraph<Float32Array> | NativeGraph<Float64Array> {
  const bytes = encodeGraph(spec);
  const session = runtime.newSession();
  session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const fetches = { [spec.output.name]: null };
  let disposed = false;
  const expected = spec.elementType === 'float64' ? Float64Array : Float32Array;
  return {
    run(...inputs: { data: Float32Array | Float64Array; dims: number[] }[]): never {
      if (disposed) throw new Error('native graph used after dispose');
      if (inputs.length !== spec.inputs.length) throw new Error(`native graph takes ${spec.inputs.length} inputs, got ${inputs.length}`);
      const feeds: Record<string, unknown> = {};
      inputs.forEach(({ data, dims }, i) => {
        if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error('native graph input does not match its dims');
        feeds[spec.inputs[i].name] = runtime.tensor(data, dims);
      });
      const output = session.run(feeds, fetches, {})[spec.output.name];
      const data = output?.data;
      if (!(data instanceof expected) || data.length !== output.dims.reduce((a, b) => a * b, 1)) throw new Error('onnxruntime returned an output of the wrong type or size');
      return data as never;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      session.dispose();
    },
  };
}

/** One MatMul of symbolic sizes: a (rows × inner) times b (inner × width). */
function matMulSpec<T extends 'float32' | 'float64'>(elementType: T): GraphSpec & { elementType: T } {
  return {
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], output: 'c' }],
    initializers: [],
    inputs: [
      { name: 'a', dims: ['rows', 'inner'] },
      { name: 'b', dims: ['inner', 'width'] },
    ],
    output: { name: 'c', dims: ['rows', 'width'] },
    elementType,
  };
}

let matMulGraph: NativeGraph | undefined;

/**
 * left (rows × inner) times right (inner × width), row-major float32, on ONNX Runtime (MLAS SGEMM),
 * or null when native products are off. Each entry is a float32 sum of float32 products (FMA or not,
 * in some order), so the standard bound |fl(xᵀy) − xᵀy| ≤ γ_inner |x|ᵀ|y| holds as for tfjs's matMul.
 */
export function nativeMatMul(left: Float32Array, right: Float32Array, rows: number, inner: number, width: number): Float32Array | null {
  const runtime = nativeRuntime();
  if (!runtime) return null;
  matMulGraph ??= compileGraph(runtime, matMulSpec('float32'));
  return matMulGraph.run({ data: left, dims: [rows, inner] }, { data: right, dims: [inner, width] });
}

let matMul64Graph: NativeGraph<Float64Array> | undefined;

/**
 * left (rows × inner) times right (inner × width), row-major float64, on ONNX Runtime (MLAS DGEMM),
 * or null when native products are off. Each entry is a float64 sum of float64 products in some order
 * (FMA or not), so |fl(xᵀy) − xᵀy| ≤ γ_inner |x|ᵀ|y| (unit roundoff 2⁻⁵³), the bound the symbol's
 * rounding analysis assumes of its dot products.
 */
export function nativeMatMul64(left: Float64Array, right: Float64Array, rows: number, inner: number, width: number): Float64Array | null {
  const runtime = nativeRuntime();
  if (!runtime) return null;
  matMul64Graph ??= compileGraph(runtime, matMulSpec('float64'));
  return matMul64Graph.run({ data: left, dims: [rows, inner] }, { data: right, dims: [inner, width] });
}
