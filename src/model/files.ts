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
  /** Override of the first graph input's shape (the file's own layout, batch included). */
  inputShape?: number[];
}
