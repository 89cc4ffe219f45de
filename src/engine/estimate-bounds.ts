// Composing the network bounds while layers finish: the estimate (bounds.product, from each row's
// σ) and the certified bound (bounds.certified, from upper bounds), both kept up to date
// incrementally (src/analysis/compose.ts), and the lists of what makes them invalid or unbounded.

import type { IrModel } from '../model/ir';
import type { NetworkBounds } from '../protocol/report';
import { RunningComposition } from '../analysis/compose';

type Problems = Pick<NetworkBounds, 'unsupported' | 'unbounded' | 'domain' | 'fixedInputRanges'>;

export class NetworkBoundTracker {
  private readonly estimate: RunningComposition;
  private readonly certified: RunningComposition;
  private readonly invalid: NonNullable<NetworkBounds['invalid']> = [];

  constructor(private readonly model: IrModel) {
    this.estimate = new RunningComposition(model);
    this.certified = new RunningComposition(model);
  }

  /**
   * Records node `index`'s constants (certified undefined: it has none, so neither has the
   * certified bound through it) and returns the estimate's running bound at the node.
   */
  record(index: number, constant: number, certified: number | undefined, invalid?: { name: string; op: string; reason: string }): number | null {
    if (invalid) this.invalid.push(invalid);
    this.estimate.set(index, constant);
    if (certified !== undefined) this.certified.set(index, certified);
    return this.runningBound(index);
  }

  /** The estimate's bound from the network input to node `index`'s outputs, or null (unknown, invalid or unbounded). */
  runningBound(index: number): number | null {
    return finiteOrNull(this.estimate.running(index));
  }

  /** The network bounds as they stand (final once every node is recorded). */
  bounds(): NetworkBounds {
    const { unsupported, unbounded, domain, fixedInputRanges } = graphProblems(this.model);
    return {
      product: finiteOrNull(this.estimate.network),
      certified: finiteOrNull(this.certified.network),
      unsupported,
      ...(unbounded?.length ? { unbounded } : {}),
      ...(domain ? { domain } : {}),
      ...(fixedInputRanges ? { fixedInputRanges } : {}),
      ...(this.invalid.length ? { invalid: [...this.invalid] } : {}),
    };
  }
}

/** The ops the engine does not understand, and those that are not globally Lipschitz. */
export function graphProblems(model: IrModel): Problems {
  const unsupported = model.nodes.filter((node) => node.spec.type === 'unsupported').map((node) => ({ name: node.name, op: node.op }));
  const unbounded = model.nodes.flatMap((node) => (node.spec.type === 'unbounded' ? [{ name: node.name, op: node.op, reason: node.spec.reason }] : []));
  return { unsupported, ...(unbounded.length ? { unbounded } : {}), ...(model.domain ? { domain: { inputRange: [...model.domain.inputRange] as [number, number] } } : {}), ...(model.fixedInputRanges ? { fixedInputRanges: { ...model.fixedInputRanges } } : {}) };
}

function finiteOrNull(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}
