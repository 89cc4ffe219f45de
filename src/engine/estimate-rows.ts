// Building a layer's row of the report, with the two constants the network bounds compose for it:
// the estimate (σ, or the folded σ) and the certified one (an upper bound, when there is one).

import type { LayerResult, NetworkBounds } from '../protocol/report';
import { closedForm } from '../analysis/closed-form';
import { uniformMagnitude } from '../analysis/fold';
import type { EstimatePlan, LinearTask } from './estimate-plan';
import type { SolvedLayer } from './solve-layer';

type InvalidLayer = NonNullable<NetworkBounds['invalid']>[number];

export interface FinishedLayer {
  row: LayerResult;
  /** What the estimate composes for this node (NaN: invalid). */
  constant: number;
  /** What the certified bound composes for this node; undefined when it has no certified bound. */
  certified: number | undefined;
  /** Set when this layer makes the bound through it invalid. */
  invalid?: InvalidLayer;
}

/** The row's fields known before any number (name, op, kind, shapes, source index). */
function plannedFields(plan: EstimatePlan, index: number): Omit<LayerResult, 'sigma' | 'upperBound' | 'iterations' | 'converged' | 'seconds'> {
  const { index: _index, ...fields } = plan.rows[index];
  return fields;
}

/** A non-linear node: its fixed constant, exact, so it is its own certified bound. */
export function closedFormLayer(plan: EstimatePlan, index: number): FinishedLayer {
  const node = plan.model.nodes[index];
  const form = closedForm(node);
  if (!form) throw new Error(`no closed form for ${node.spec.type}`);
  const invalid = form.sigma === null && Number.isNaN(form.compositionConstant) && node.spec.type === 'diagonal' ? { name: node.name, op: node.op, reason: form.note ?? 'NaN or Inf values' } : undefined;
  const foldedInto = plan.foldedInto.get(index);
  const note = foldedInto === undefined ? form.note : `${form.note ? `${form.note}; ` : ''}folded into ${plan.model.nodes[foldedInto].name}: counted there, as 1 here`;
  const constant = foldedInto === undefined ? form.compositionConstant : 1;
  return {
    row: {
      ...plannedFields(plan, index),
      sigma: form.sigma,
      upperBound: form.sigma,
      iterations: 0,
      converged: form.sigma !== null,
      seconds: 0,
      method: 'closed-form',
      ...(note ? { note } : {}),
    },
    constant,
    certified: constant,
    ...(invalid ? { invalid } : {}),
  };
}

/** A linear layer that has no σ (refused, or its solve failed): the bound through it is invalid. */
export function invalidLinearLayer(plan: EstimatePlan, task: LinearTask, reason: string): FinishedLayer {
  return {
    row: { ...plannedFields(plan, task.index), sigma: null, upperBound: null, iterations: 0, converged: false, seconds: 0, note: `${reason}: the layer and the bound through it are invalid` },
    constant: NaN,
    certified: NaN,
    invalid: { name: task.node.name, op: task.node.op, reason },
  };
}

export interface LinearSolution {
  result: SolvedLayer;
  /** The same layer with its batch norm folded in, when it has one and that solve succeeded. */
  folded?: SolvedLayer;
  /** The result came from an identical layer solved earlier. */
  reused: boolean;
  seconds: number;
}

/** A solved linear layer; with a batch norm after it, the bounds use the folded layer. */
export function solvedLinearLayer(plan: EstimatePlan, task: LinearTask, { result, folded, reused, seconds }: LinearSolution): FinishedLayer {
  const { fold } = task;
  const notes: string[] = [];
  if (reused) notes.push('identical to an earlier layer: result reused');
  if (task.problem.reduction) notes.push(task.problem.reduction);
  if (result.boundMethod) notes.push(`upper bound: ${result.boundMethod}`);
  if (!result.converged) notes.push(`not converged in ${result.iterations} iterations`);
  if (fold && folded) {
    const magnitude = uniformMagnitude(fold.scale);
    const how = magnitude === null ? '' : ` (one scale magnitude ${magnitude.toPrecision(5)} for every channel: σ times it)`;
    notes.push(`with ${plan.model.nodes[fold.diagonalIndex].name} folded in${how}: σ ${folded.sigma.toPrecision(5)} (used by the bound)`);
  }
  return {
    row: {
      ...plannedFields(plan, task.index),
      sigma: result.sigma,
      upperBound: result.upper,
      iterations: reused ? 0 : result.iterations,
      converged: result.converged,
      seconds,
      residual: result.residual,
      method: result.method,
      ...(result.lower !== undefined ? { lowerBound: result.lower } : {}),
      ...(folded ? { foldedSigma: folded.sigma, foldedUpperBound: folded.upper } : {}),
      ...(notes.length ? { note: notes.join('; ') } : {}),
    },
    // A fold whose own solve failed falls back to σ·max|scale| (diag(a)·W has σ ≤ max|a|·σ(W)).
    constant: folded ? folded.sigma : fold ? result.sigma * maxAbs(fold.scale) : result.sigma,
    certified: folded ? folded.upper ?? undefined : result.upper === null ? undefined : fold ? result.upper * maxAbs(fold.scale) : result.upper,
  };
}

function maxAbs(values: Float32Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}
