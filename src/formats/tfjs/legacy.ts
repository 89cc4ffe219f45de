// TF.js 0.x models: tensorflowjs_converter before 1.0 wrote a frozen graph as `tensorflowjs_model.pb`
// (a binary GraphDef) with its weights listed in `weights_manifest.json` (a bare manifest); 1.0
// replaced both with one model.json. Only model.json is read, so such a model gets a message that
// says how to convert it, instead of "not a model".

import type { FileAccess } from '../../model/files';

export const LEGACY_GRAPH_FILE = 'tensorflowjs_model.pb';
export const LEGACY_MANIFEST_FILE = 'weights_manifest.json';

export const LEGACY_TFJS_PROBLEM =
  `is a TF.js 0.x model (${LEGACY_GRAPH_FILE} with ${LEGACY_MANIFEST_FILE}, the format of tensorflowjs_converter before 1.0), ` +
  'which is not supported: re-convert it with tensorflowjs_converter 1.0 or later to get a model.json';

/**
 * Whether `fileName` (a base name in the model's folder) belongs to a 0.x model: by its name, or a
 * renamed `.pb` next to a weights_manifest.json.
 */
export async function isLegacyTfjsFile(fileName: string, files: FileAccess): Promise<boolean> {
  if (fileName === LEGACY_GRAPH_FILE || fileName === LEGACY_MANIFEST_FILE) return true;
  if (!/\.pb$/i.test(fileName)) return false;
  try {
    await files.size(LEGACY_MANIFEST_FILE);
    return true;
  } catch {
    return false;
  }
}
