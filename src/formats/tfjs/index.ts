// The TF.js model.json reader: a layers-model (Keras topology) or a graph-model (tfjs-converter
// GraphDef), plus the weight shards its `weightsManifest` names.

import { resolveSharedPatterns } from '../../analysis/products';
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelFormatReader } from '../format';
import type { FileAccess, OpenOptions } from '../../model/files';
import type { IrModel } from '../../model/ir';
import { ModelError, asModelError } from '../../model/errors';
import { readGraphModel } from './graph';
import { readLayersModel } from './layers';
import { LEGACY_MANIFEST_FILE, LEGACY_TFJS_PROBLEM } from './legacy';
import { WeightStore } from './weights';

export type ModelJSON = tf.io.ModelJSON;

export const tfjsFormat: ModelFormatReader = {
  formats: ['tfjs-layers', 'tfjs-graph'],

  detect(fileName: string, head: Uint8Array): boolean {
    try {
      if (!/\.json$/i.test(fileName)) return false;
      const text = new TextDecoder('utf-8', { fatal: false }).decode(head).replace(/^\uFEFF/, '').trimStart();
      // A bare weights manifest (face-api.js and tfjs's save of weights only) is claimed so it gets its own error.
      if (text.startsWith('[')) return /"paths"\s*:/.test(text) && /"weights"\s*:/.test(text);
      if (!text.startsWith('{')) return false;
      return /"(modelTopology|weightsManifest)"\s*:/.test(text) || /"format"\s*:\s*"(layers|graph)-model"/.test(text);
    } catch {
      return false;
    }
  },

  async open(bytes: Uint8Array, files: FileAccess, options: OpenOptions): Promise<IrModel> {
    const file = files.mainPath;
    try {
      const json = parseModelJson(bytes, file);
      const kind = modelKind(json, file);
      const weights = await WeightStore.load(json.weightsManifest, files, file);
      const record = json as unknown as Record<string, unknown>;
      const model = kind === 'graph' ? await readGraphModel(record, weights, options, file) : await readLayersModel(record, weights, options, file);
      if (model.nodes.length === 0) throw new ModelError(file, `is a TF.js ${kind} model with no ${kind === 'graph' ? 'nodes' : 'layers'} to analyse`);
      // Products of two data tensors (gated activations, bounded factors, or unbounded) and written-out layer norms, shared with ONNX.
      resolveSharedPatterns(model, options.inputRange, options.inputRanges);
      return model;
    } catch (error) {
      throw asModelError(error, file);
    }
  },
};

function parseModelJson(bytes: Uint8Array, file: string): ModelJSON {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ModelError(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (Array.isArray(value) && value.every((group) => typeof group === 'object' && group !== null && 'paths' in group && 'weights' in group)) {
    if (file.split(/[\\/]/).pop() === LEGACY_MANIFEST_FILE) throw new ModelError(file, LEGACY_TFJS_PROBLEM);
    throw new ModelError(file, 'is a TF.js weights manifest with no model topology: the layers are defined in the code that loads it, so there is no network to analyse (open a model.json with a "modelTopology")');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelError(file, 'is not a JSON object');
  const json = value as Partial<ModelJSON>;
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null) throw new ModelError(file, 'has no "modelTopology": not a TF.js model.json');
  return json as ModelJSON;
}

/** 'graph' for a GraphDef (a `node` list), 'layers' for a Keras topology. */
export function modelKind(json: ModelJSON, file: string): 'graph' | 'layers' {
  const topology = json.modelTopology as Record<string, unknown>;
  if (json.format === 'graph-model' || Array.isArray(topology.node)) return 'graph';
  if (json.format === 'layers-model' || 'class_name' in topology || 'model_config' in topology || 'config' in topology) return 'layers';
  throw new ModelError(file, `has a modelTopology that is neither a Keras model nor a graph (format ${JSON.stringify(json.format ?? null)})`);
}
