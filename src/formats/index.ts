// Picks the reader whose `detect` matches the bytes, then opens the model with it.

import type { FileAccess, OpenOptions } from '../model/files';
import type { IrModel } from '../model/ir';
import { ModelError, asModelError } from '../model/errors';
import type { ModelFormatReader } from './format';
import { selectSubgraph } from '../analysis/subgraph';
import { onnxFormat } from './onnx';
import { tfjsFormat } from './tfjs';
import { LEGACY_TFJS_PROBLEM, isLegacyTfjsFile } from './tfjs/legacy';

export const modelReaders: readonly ModelFormatReader[] = [onnxFormat, tfjsFormat];

export interface OpenModelOptions extends OpenOptions {
  /** Refuse models whose files (the main file, then its weight shards or external data as they are read) add up to more than this many bytes. */
  maxBytes?: number;
}

export async function openModel(files: FileAccess, options: OpenModelOptions = {}): Promise<IrModel> {
  const path = files.mainPath;
  const name = path.split(/[\\/]/).pop() ?? path;
  try {
    const size = await files.size(name);
    if (size === 0) throw new ModelError(path, 'is empty');
    if (options.maxBytes !== undefined && size > options.maxBytes) {
      throw new ModelError(path, `is ${formatBytes(size)}, larger than the ${formatBytes(options.maxBytes)} limit (setting lipschitzLens.maxModelBytes)`);
    }
    const bytes = await files.readFile(name);
    const head = bytes.subarray(0, 4096);
    const reader = modelReaders.find((candidate) => candidate.detect(name, head));
    if (!reader) throw new ModelError(path, (await isLegacyTfjsFile(name, files)) ? LEGACY_TFJS_PROBLEM : 'is neither an ONNX model nor a TF.js model.json');
    const { maxBytes, ...openOptions } = options;
    const read = await reader.open(bytes, maxBytes === undefined ? files : limitReads(files, maxBytes, size), openOptions);
    const model = selectSubgraph(read, options.outputs);
    checkShapes(model);
    return model;
  } catch (error) {
    throw tidy(asModelError(error, path));
  }
}

/** The companions (weight shards, external data) count towards the size limit too: refused before they are read. */
function limitReads(files: FileAccess, maxBytes: number, mainBytes: number): FileAccess {
  let total = mainBytes;
  const take = (bytes: number) => {
    total += bytes;
    if (total > maxBytes) {
      throw new ModelError(files.mainPath, `with its weight files is over ${formatBytes(total)}, larger than the ${formatBytes(maxBytes)} limit (setting lipschitzLens.maxModelBytes)`);
    }
  };
  return {
    mainPath: files.mainPath,
    ...(files.stat ? { stat: (path: string) => (files.stat as NonNullable<FileAccess['stat']>)(path) } : {}),
    size: (path) => files.size(path),
    readFile: async (path) => {
      take(await files.size(path));
      return files.readFile(path);
    },
    readRange: async (path, offset, length) => {
      take(length);
      return files.readRange(path, offset, length);
    },
  };
}

/** Most values one activation may hold: past this no typed array (let alone the solver's vectors) fits. */
export const MAX_ACTIVATION_ELEMENTS = 2 ** 31 - 1;

/** Shapes that a few bytes can declare (huge inputs, strides, pads, repeats) but nothing can hold. */
function checkShapes(model: IrModel): void {
  const check = (shape: readonly number[], what: string) => {
    let count = 1;
    for (const d of shape) count *= d;
    if (!(count <= MAX_ACTIVATION_ELEMENTS)) {
      throw new ModelError(model.path, `${what} has shape [${shape.join(', ')}] (${count.toExponential(2)} values), more than can be analysed`);
    }
  };
  for (const input of model.inputs) check(input.shape, `input "${input.name}"`);
  // A row whose inferred shape is out of reach is reported unsupported (with the reason), not an abort.
  model.nodes.forEach((node, index) => {
    try {
      for (const shape of node.inputShapes) check(shape, `the input of ${node.op} "${node.name}"`);
      for (const shape of node.outputShapes) check(shape, `the output of ${node.op} "${node.name}"`);
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      model.nodes[index] = { ...node, inputShapes: [], outputShapes: [], spec: { type: 'unsupported', detail: error.problem }, weightShape: node.weightShape };
    }
  });
}

/** Messages quote names from the file: a hostile file's megabyte-long name is cut to fit one line. */
function tidy(error: ModelError): ModelError {
  const limit = 400;
  // Names from a hostile file may hold control characters (terminal escapes): never print them.
  const printable = error.problem.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
  if (printable !== error.problem) return tidy(new ModelError(error.file, printable));
  if (error.message.length <= limit) return error;
  // Quoted runs longer than 80 characters keep their first 40 (a plain scan: a regex over megabytes can overflow the stack).
  const parts = error.problem.split('"');
  let problem = parts[0];
  for (let i = 1; i < parts.length; i++) {
    if (i % 2 === 1 && i < parts.length - 1 && parts[i].length > 80) {
      problem += `"${parts[i].slice(0, 40)}…" (${parts[i].length} characters)${parts[i + 1]}`;
      i++;
    } else problem += `"${parts[i]}`;
  }
  if (problem.length > limit) problem = `${problem.slice(0, limit)}…`;
  return new ModelError(error.file.length > limit ? `${error.file.slice(0, limit)}…` : error.file, problem);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
