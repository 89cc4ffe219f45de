// How loaders reach the bytes of a model and its companions (weight shards, external data)
// without touching the file system themselves: the CLI and the worker pass a Node fs access,
// the extension can pass bytes it read through workspace.fs.

export interface FileAccess {
  /** Path of the main model file, as shown to the user. */
  readonly mainPath: string;
  /** Size in bytes of a file next to the model (relative to the model's folder), or throws ModelError. */
  size(relativePath: string): Promise<number>;
  /** Whole file next to the model. Callers check `size` first for anything a header merely claims. */
  readFile(relativePath: string): Promise<Uint8Array>;
  /** `length` bytes from `offset` of a file next to the model. */
  readRange(relativePath: string, offset: number, length: number): Promise<Uint8Array>;
  /** Optional: size and modification time of a file next to the model, to notice it changing during a run. */
  stat?(relativePath: string): Promise<{ size: number; mtimeMs: number }>;
}

export interface OpenOptions {
  /** Override of the signal input's shape (the file's own layout, batch included). */
  inputShape?: number[];
  /** The input the bound is taken with respect to (default: the first floating-point input). */
  signalInput?: string;
  /** Shapes of named inputs (the signal's too), overriding the file's declared shapes. */
  inputShapes?: Record<string, number[]>;
  /** Fixed values of scalar control inputs (e.g. a sample rate), so that control flow on them folds. */
  inputValues?: Record<string, number>;
  /** Bound the sub-network from the signal input to these values only (graph outputs or named intermediate values). */
  outputs?: string[];
  /** The signal input lies in the box [lo, hi]ⁿ: products bounded only there get a bound valid on it (docs/op-coverage.md). */
  inputRange?: [number, number];
  /** Ranges of named inputs (--input-range NAME=LO,HI): an input held fixed with one is a value in that box; the signal's is its box. */
  inputRanges?: Record<string, [number, number]>;
  /** Custom Keras layer classes the user declared, CLASS → declaration text (src/protocol/custom-layers.ts). */
  customLayers?: Record<string, string>;
}
