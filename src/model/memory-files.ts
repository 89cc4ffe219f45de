// FileAccess over bytes already in memory: what the extension sends the worker for remote or
// virtual files it read through workspace.fs.

import type { FileAccess } from './files';
import { ModelError } from './errors';

export function memoryFileAccess(mainPath: string, files: Record<string, Uint8Array>): FileAccess {
  const get = (relativePath: string): Uint8Array => {
    const normalised = relativePath.replace(/^\.\//, '');
    const bytes = Object.prototype.hasOwnProperty.call(files, normalised) ? files[normalised] : undefined;
    if (!bytes) throw new ModelError(`${mainPath} (${relativePath})`, 'no such file next to the model');
    return bytes;
  };
  return {
    mainPath,
    size: async (relativePath) => get(relativePath).byteLength,
    readFile: async (relativePath) => get(relativePath),
    readRange: async (relativePath, offset, length) => {
      const bytes = get(relativePath);
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new ModelError(`${mainPath} (${relativePath})`, `asks for bytes ${offset}..${offset + length} but the file has ${bytes.byteLength}`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}
