// The outline of a model.json's layers (document symbols and the "Lipschitz Layers" view): one item
// per layer or node, in file order, with its class or op and, when a report is shown, the values of
// its rows. Pure: the vscode side turns offsets into ranges.

import type { PlannedLayer } from '../protocol/messages';
import type { LayerResult } from '../protocol/report';
import { entryValueText, shownRowsByEntry } from './lens-text';
import type { LayerEntry } from './model-json-locations';

export interface OutlineItem {
  /** The entry's index in the model's listing. */
  index: number;
  label: string;
  /** Class or op, then the values when there are some: "SeparableConv2D · depthwise σ 1.93 · …". */
  detail: string;
  /** Report rows of this entry that have a value (empty without a report). */
  rows: number[];
  start: number;
  end: number;
  /** Offset of the "name" key, else the entry's start: where a reveal puts the cursor. */
  nameOffset: number;
}

export function layerOutline(entries: readonly LayerEntry[], layers: readonly (LayerResult | PlannedLayer)[] | undefined): OutlineItem[] {
  const shown = layers ? shownRowsByEntry(entries, layers) : new Map<number, number[]>();
  return entries.map((entry) => {
    const rows = shown.get(entry.index) ?? [];
    const values = rows.length > 0 ? entryValueText(rows.map((row) => layers![row] as LayerResult), entry.name) : '';
    const op = entry.op ?? '';
    return {
      index: entry.index,
      label: entry.name ?? `#${entry.index}`,
      detail: [op, values].filter((part) => part !== '').join(' · '),
      rows,
      start: entry.start,
      end: entry.end,
      nameOffset: entry.nameOffset ?? entry.start,
    };
  });
}
