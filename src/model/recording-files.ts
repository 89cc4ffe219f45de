// A FileAccess that remembers which companion files (weight shards, ONNX external data) the loader
// reached, so the extension can key its cache on them too: an ONNX model's external data is named
// only inside the model, and a changed weights file must not serve a stale report.

import type { FileAccess } from './files';

export interface RecordingFileAccess {
  files: FileAccess;
  /** Companion paths (relative to the model's folder) touched so far, in first-touch order. */
  companions(): string[];
}

/** Wraps `inner`; `mainRelative` is the model file's own name, which is not a companion. */
export function recordingFileAccess(inner: FileAccess, mainRelative: string): RecordingFileAccess {
  const touched = new Set<string>();
  const innerStat = inner.stat;
  const note = (relativePath: string) => {
    if (relativePath !== mainRelative) touched.add(relativePath);
  };
  const files: FileAccess = {
    mainPath: inner.mainPath,
    size: (relativePath) => {
      note(relativePath);
      return inner.size(relativePath);
    },
    readFile: (relativePath) => {
      note(relativePath);
      return inner.readFile(relativePath);
    },
    readRange: (relativePath, offset, length) => {
      note(relativePath);
      return inner.readRange(relativePath, offset, length);
    },
    ...(innerStat
      ? {
          stat: (relativePath: string) => {
            note(relativePath);
            return innerStat(relativePath);
          },
        }
      : {}),
  };
  return { files, companions: () => [...touched] };
}
