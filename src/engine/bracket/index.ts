// The bracket L ∈ [lower, certifiedTight] (docs/bracket.md): the measured lower bound from the
// graph executor, and the certified expansion bound, from the IR and the finished per-layer rows.

import type { IrModel } from '../../model/ir';
import type { BracketDetail, EstimateSettings, LayerResult, NetworkBounds } from '../../protocol/report';
import { closedForm } from '../../analysis/closed-form';
import { findBatchNormFolds } from '../../analysis/fold';
import { CancelledError } from '../operator';
import { NotExecutableError } from '../executor/execute';
import { measureLowerBound } from '../executor/lower-bound';
import { expandCertified } from './expand';

export interface BracketOptions {
  inputRange?: [number, number];
  /** Sample inputs (flattened, the model's input shape), e.g. from --samples. */
  givenInputs?: Float32Array[];
  seed?: number;
  /** The lower bound's search effort (measureLowerBound's defaults when absent). */
  samples?: number;
  powerSteps?: number;
  ascentSteps?: number;
  /** Time budgets of the two sides, a safety net: the effort above is what normally ends them (defaults 120 s). */
  lowerSeconds?: number;
  upperSeconds?: number;
  /** Largest node matrix the expansion builds (entries), and largest cost of one partial product. */
  maxMatrixEntries?: number;
  maxProductCost?: number;
  /** Largest estimated cost (flops) of one chain segment's circular windows (expand.ts). */
  maxCircularCost?: number;
  shouldStop?: () => boolean;
}

/** Multiply-adds of one forward pass below which 'auto' runs the bracket (a second or two). */
export const AUTO_BRACKET_MAX_WORK = 2e7;

export function bracketWanted(settings: EstimateSettings, work: number): boolean {
  return settings.bracket === 'on' || (settings.bracket === 'auto' && work <= AUTO_BRACKET_MAX_WORK);
}

/**
 * Per node, the certified constant the engine's network bound composes (estimate.ts): a conv with
 * a folded batch norm counts its folded bound and the batch norm 1; undefined where none exists.
 */
export function certifiedConstants(model: IrModel, layers: readonly LayerResult[]): (number | undefined)[] {
  const folds = findBatchNormFolds(model);
  const foldedDiagonals = new Set([...folds.values()].map((fold) => fold.diagonalIndex));
  return model.nodes.map((node, index) => {
    const layer = layers[index];
    if (foldedDiagonals.has(index)) return 1;
    const form = closedForm(node);
    if (form && !['conv', 'convTranspose', 'dense', 'avgPool'].includes(node.spec.type)) return form.compositionConstant;
    if (layer.sigma === null && layer.upperBound === null) return NaN;
    const fold = folds.get(index);
    if (fold) {
      if (layer.foldedUpperBound !== undefined && layer.foldedUpperBound !== null) return layer.foldedUpperBound;
      let largest = 0;
      for (const v of fold.scale) largest = Math.max(largest, Math.abs(v));
      return layer.upperBound === null ? undefined : layer.upperBound * largest;
    }
    return layer.upperBound ?? undefined;
  });
}

export interface BracketResult {
  bounds: Pick<NetworkBounds, 'lower' | 'certifiedTight' | 'bracket'>;
  seconds: { lower: number; upper: number };
}

export function computeBracket(model: IrModel, layers: readonly LayerResult[], certified: number | null, options: BracketOptions = {}): BracketResult {
  const inputRange = options.inputRange ?? [0, 1];
  // From above.
  const expansion = expandCertified(model, certifiedConstants(model, layers), { timeBudgetMs: (options.upperSeconds ?? 120) * 1000, shouldStop: options.shouldStop, ...(options.maxMatrixEntries ? { maxMatrixEntries: options.maxMatrixEntries } : {}), ...(options.maxProductCost ? { maxProductCost: options.maxProductCost } : {}), ...(options.maxCircularCost ? { maxCircularCost: options.maxCircularCost } : {}) });
  if (options.shouldStop?.()) throw new CancelledError();
  const candidates = [certified, expansion.value].filter((v): v is number => v !== null && Number.isFinite(v));
  const certifiedTight = candidates.length ? Math.min(...candidates) : null;
  const chains = [...expansion.chains].sort((a, b) => b.product / Math.max(b.bound, 1e-300) - a.product / Math.max(a.bound, 1e-300));

  // From below.
  let lower: number | null = null;
  let lowerDetail: BracketDetail['lower'];
  const started = performance.now();
  const lowerBudget = (options.lowerSeconds ?? 120) * 1000;
  try {
    const result = measureLowerBound(model, {
      inputRange,
      givenInputs: options.givenInputs,
      seed: options.seed ?? 0,
      timeBudgetMs: lowerBudget,
      shouldStop: options.shouldStop,
      ...(options.samples !== undefined ? { samples: options.samples } : {}),
      ...(options.powerSteps !== undefined ? { powerSteps: options.powerSteps } : {}),
      ...(options.ascentSteps !== undefined ? { ascentSteps: options.ascentSteps } : {}),
    });
    lower = result.value > 0 ? result.value : null;
    lowerDetail = {
      // A pass longer than the whole budget leaves no pair (docs/bracket.md#time-budgets).
      ...(lower === null && result.timedOut ? { unavailable: `the ${fmtSeconds(lowerBudget)} budget ran out before the first pair of network passes finished` } : {}),
      foundBy: result.foundBy,
      jacobianNorm: result.jacobianNorm,
      distance: result.distance,
      inputRange,
      samples: result.samplesTried,
      evaluations: result.evaluations,
      ...(result.timedOut ? { timedOut: true } : {}),
      ...(result.timedOutReason ? { timedOutReason: result.timedOutReason } : {}),
    };
  } catch (error) {
    if (!(error instanceof NotExecutableError)) throw error;
    lowerDetail = { unavailable: error.message, inputRange, samples: 0 };
  }
  const width = lower !== null && certifiedTight !== null ? certifiedTight / lower : null;
  return {
    bounds: {
      lower,
      certifiedTight,
      bracket: {
        width,
        lower: lowerDetail,
        upper: { expansion: expansion.value, chains, ...(expansion.timedOut ? { timedOut: true } : {}) },
      },
    },
    seconds: { lower: (performance.now() - started) / 1000, upper: expansion.seconds },
  };
}

function fmtSeconds(ms: number): string {
  return `${Number((ms / 1000).toPrecision(3))} s`;
}
