// FileAccess over the local file system, for the faces that run in Node (the CLI and the worker).
// Companion paths are resolved next to the model and may not escape its folder.

import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { FileAccess } from '../model/files';
import { ModelError } from '../model/errors';
import { LEGACY_GRAPH_FILE, LEGACY_MANIFEST_FILE, LEGACY_TFJS_PROBLEM } from '../formats/tfjs/legacy';

export function nodeFileAccess(modelPath: string): FileAccess {
  const folder = dirname(resolve(modelPath));
  const locate = (relativePath: string): string => {
    const full = resolve(folder, relativePath);
    const inside = relative(folder, full);
    if (isAbsolute(relativePath) || inside.startsWith('..') || isAbsolute(inside)) {
      throw new ModelError(modelPath, `refers to "${relativePath}", outside the model's folder`);
    }
    return full;
  };
  const describe = (relativePath: string): string => (relativePath === basename(modelPath) ? modelPath : `${modelPath} (${relativePath})`);

  const statFile = async (relativePath: string) => {
    const full = locate(relativePath);
    let info;
    try {
      info = await stat(full);
    } catch (error) {
      throw new ModelError(describe(relativePath), fsProblem(error, 'cannot be read'));
    }
    if (info.isDirectory()) throw new ModelError(describe(relativePath), relativePath === basename(modelPath) ? await directoryProblem(full, modelPath) : 'is a directory, not a model file');
    if (!info.isFile()) throw new ModelError(describe(relativePath), 'is not a regular file');
    return { full, size: info.size, mtimeMs: info.mtimeMs };
  };

  const readRange = async (relativePath: string, offset: number, length: number): Promise<Uint8Array> => {
    const { full, size } = await statFile(relativePath);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
      throw new ModelError(describe(relativePath), `asks for bytes ${offset}..${offset + length} but the file has ${size}`);
    }
    let handle;
    try {
      handle = await open(full, 'r');
      const buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`file ended after ${offset + done} bytes`);
        done += bytesRead;
      }
      return buffer;
    } catch (error) {
      throw new ModelError(describe(relativePath), fsProblem(error, 'cannot be read'));
    } finally {
      await handle?.close();
    }
  };

  return {
    mainPath: modelPath,
    size: async (relativePath) => (await statFile(relativePath)).size,
    stat: async (relativePath) => {
      const { size, mtimeMs } = await statFile(relativePath);
      return { size, mtimeMs };
    },
    readRange,
    readFile: async (relativePath) => {
      const { size } = await statFile(relativePath);
      return readRange(relativePath, 0, size);
    },
  };
}

/** A folder given as the model: names the model file inside it when that is clear (one line). */
async function directoryProblem(folder: string, givenPath: string): Promise<string> {
  let names: string[] = [];
  try {
    names = await readdir(folder);
  } catch {
    // Unreadable: the plain message.
  }
  const suggest = (name: string) => `is a directory, not a model file: did you mean ${join(givenPath, name)}?`;
  if (names.includes('model.json')) return suggest('model.json');
  if (names.includes(LEGACY_GRAPH_FILE) || names.includes(LEGACY_MANIFEST_FILE)) return LEGACY_TFJS_PROBLEM;
  const onnx = names.filter((name) => /\.onnx$/i.test(name));
  if (onnx.length === 1) return suggest(onnx[0]);
  return 'is a directory, not a model file';
}

function fsProblem(error: unknown, fallback: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory, not a model file';
    case 'ELOOP': return 'too many symbolic links';
    default: return error instanceof Error && !code ? error.message.split('\n')[0] : `${fallback}${code ? ` (${code})` : ''}`;
  }
}
