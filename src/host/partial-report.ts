// The report of a cancelled run: the rows finished so far, no network bound (it needs every layer).

import type { IrModel } from '../model/ir';
import type { EstimateSettings, LayerResult, Report } from '../protocol/report';
import { describeModel } from '../engine/report';
import { graphProblems } from '../engine/estimate-bounds';

export function partialReport(model: IrModel, finished: ReadonlyMap<number, LayerResult>, seconds: number, settings: EstimateSettings, backend: string): Report {
  const layers = [...finished].sort(([a], [b]) => a - b).map(([, layer]) => layer);
  return {
    model: describeModel(model),
    layers,
    bounds: { product: null, certified: null, ...graphProblems(model) },
    seconds,
    settings,
    backend,
    warnings: [...model.warnings, `cancelled with ${layers.length} of ${model.nodes.length} layers done: no network bound`],
    cancelled: true,
  };
}
