// One interface for every model format, as the best model viewers do: match the bytes, then open.

import type { ModelFormat } from '../protocol/report';
import type { FileAccess, OpenOptions } from '../model/files';
import type { IrModel } from '../model/ir';

export interface ModelFormatReader {
  /** Formats this reader produces. */
  readonly formats: readonly ModelFormat[];
  /** Cheap check on the file name and the first bytes (at most 4 KiB); never throws. */
  detect(fileName: string, head: Uint8Array): boolean;
  /** Reads the whole model into the IR; throws ModelError with a one-line message on bad input. */
  open(bytes: Uint8Array, files: FileAccess, options: OpenOptions): Promise<IrModel>;
}
