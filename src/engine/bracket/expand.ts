// The certified upper bound from above (docs/bracket.md): on each chain L_K ∘ φ_{K−1} ∘ ⋯ ∘ φ₁ ∘ L₁,
// with φ_j = c_j·x + ρ_j·r_j(x) (r_j 1-Lipschitz), the Combettes–Pesquet recursion
//   θ₀ = 1,  θ_k = B(k, 0) + Σ_{j=1}^{k−1} ρ_j·B(k, j)·θ_j,  L(chain) ≤ θ_K,
// where B(k, j) is a certified bound on ||M_{k,j}||, M_{k,j} = L_k c_{k−1} L_{k−1} ⋯ c_{j+1} L_{j+1}.
// B(k, j) is the smallest of: the explicit product's certified norm (explicit.ts; within the window
// k − j ≤ window and when the matrices are small), and every split B(k, m)·|c_m|·B(m, j), down to
// B(j + 1, j) = the per-node certified constants of L_{j+1} multiplied. Chains then compose by the
// graph rules (analysis/compose.ts) with the chain's bound on its last node and 1 on the others.

import type { IrModel } from '../../model/ir';
import { compose } from '../../analysis/compose';
import { findChains, type Chain, type Slopes } from './chains';
import { circularSegments, segmentPlan, segmentWindowBounds, type CircularSegment } from './circular';
import { certifiedProductNorm, nodeMatrix, productCost, type ExplicitMatrix, type ProductTerm } from './explicit';

export interface ExpansionOptions {
  /** Longest partial product (in linear groups) computed directly (default 8). */
  window?: number;
  /** Longest partial product (in linear groups) certified on a circular grid (default 16). */
  circularWindow?: number;
  /** Largest estimated cost (flops) of one segment's circular windows (default 3e10); longer windows are dropped first. */
  maxCircularCost?: number;
  /** Largest node matrix built (entries). */
  maxMatrixEntries?: number;
  /** Largest cost (productCost) of one partial product and its certificate (default 3e9). */
  maxProductCost?: number;
  /** Wall-clock budget; past it the remaining products fall back to splits (default 30 s). */
  timeBudgetMs?: number;
  shouldStop?: () => boolean;
}

export interface ChainBound {
  /** First and last node names of the chain. */
  from: string;
  to: string;
  /** Linear groups K. */
  groups: number;
  /** The product of the chain's certified constants, and the expansion's certified bound. */
  product: number;
  bound: number;
  /** Partial products whose norm was certified from their explicit matrix. */
  directProducts: number;
  /** Partial products certified from their DFT blocks on a circular grid (circular.ts). */
  circularProducts: number;
}

export interface ExpansionResult {
  /** Certified bound of the whole network from the expansion (null: unbounded, invalid or unknown). */
  value: number | null;
  chains: ChainBound[];
  seconds: number;
  /**
   * The time budget ran out before every partial product in the window was tried, or a circular
   * segment was abandoned as projected not to finish within it.
   */
  timedOut: boolean;
}

/**
 * @param certified per node, the certified constant the network bound uses (estimate.ts): the
 * folded conv's bound, 1 for a folded batch norm, fixed constants; NaN/∞/undefined propagate.
 */
export function expandCertified(model: IrModel, certified: readonly (number | undefined)[], options: ExpansionOptions = {}): ExpansionResult {
  const started = performance.now();
  const window = options.window ?? 8;
  const circularWindow = options.circularWindow ?? 16;
  const maxCircularCost = options.maxCircularCost ?? 3e10;
  const budget = options.timeBudgetMs ?? 30_000;
  const maxCost = options.maxProductCost ?? 3e9;
  const constants = certified.map((c) => (c === undefined ? NaN : c));
  const chains = findChains(model, constants);
  const matrices = new Map<number, ExplicitMatrix | null>();
  const matrixOf = (index: number) => {
    if (!matrices.has(index)) matrices.set(index, nodeMatrix(model.nodes[index], options.maxMatrixEntries));
    return matrices.get(index) ?? null;
  };
  const adjusted = [...constants];
  const results: ChainBound[] = [];
  const deadline = started + budget;
  const outOfTime = () => performance.now() > deadline || options.shouldStop?.() === true;
  const work = chains
    .filter((chain) => Number.isFinite(chain.nodes.reduce((p, index) => p * constants[index], 1)))
    .map((chain) => ({ chain, ...circularSegments(model, chain), windows: new Map<string, number>(), dropped: new Set<CircularSegment>() }));
  // The circular segments of every chain, multi-group ones cheapest first (docs/bracket.md#time-budgets): a segment
  // that cannot finish by the budget's end is abandoned early, so the time goes to the ones that can,
  // and an abandoned segment keeps its groups' certified product (valid, only looser).
  const queue = work
    .flatMap((w) => w.segments.map((segment) => ({ w, segment, ...segmentPlan(segment, circularWindow, maxCircularCost) })))
    // One-group segments last: their only window is the group alone, which the per-layer constant
    // already bounds (measured on ResNet-18, BENCHMARKS.md#time-budgets: first, they ate the budget).
    .sort((a, b) => Number(a.segment.last === a.segment.first) - Number(b.segment.last === b.segment.first) || a.cost - b.cost);
  let abandoned = 0;
  for (const { w, segment, window: segmentWindow } of queue) {
    const c = (m: number) => w.slopes[m - 1].c;
    // No a-priori gate from other segments' rates: the cost model is off by more than 2× between
    // segments (ResNet-18, BENCHMARKS.md#time-budgets); the segment's own frequencies decide.
    const bounds = segmentWindow > 0 && !outOfTime() ? segmentWindowBounds(segment, c, { window: circularWindow, maxCost: maxCircularCost, outOfTime, deadline }) : null;
    if (bounds) for (const [key, value] of bounds) w.windows.set(key, value);
    else {
      if (segmentWindow > 0) abandoned++;
      w.dropped.add(segment);
    }
  }
  for (const { chain, segments, slopes, windows, dropped } of work) {
    const product = chain.nodes.reduce((p, index) => p * constants[index], 1);
    const { bound, direct, circular } = chainBound(model, chain, constants, matrixOf, window, maxCost, outOfTime, circularWindow, segments, slopes, windows, dropped);
    const value = Math.min(bound, product);
    chain.nodes.forEach((index) => (adjusted[index] = 1));
    adjusted[chain.nodes[chain.nodes.length - 1]] = value;
    results.push({
      from: model.nodes[chain.nodes[0]].name,
      to: model.nodes[chain.nodes[chain.nodes.length - 1]].name,
      groups: chain.linear.length,
      product,
      bound: value,
      directProducts: direct,
      circularProducts: circular,
    });
  }
  const network = compose(model, adjusted).network;
  // A segment left for want of time counts too, though the budget itself may not be spent.
  const timedOut = performance.now() > deadline || abandoned > 0;
  return {
    timedOut,
    value: network !== undefined && Number.isFinite(network) ? network : null,
    chains: results,
    seconds: (performance.now() - started) / 1000,
  };
}

function chainBound(
  model: IrModel,
  chain: Chain,
  constants: readonly number[],
  matrixOf: (index: number) => ExplicitMatrix | null,
  window: number,
  maxCost: number,
  outOfTime: () => boolean,
  circularWindow: number,
  segments: readonly CircularSegment[],
  slopes: Slopes[],
  windows: ReadonlyMap<string, number>,
  dropped: ReadonlySet<CircularSegment>,
): { bound: number; direct: number; circular: number } {
  const K = chain.linear.length;
  // Group i (1-based) as explicit factors (a reshape is the identity on the flattened values), or
  // null when some node has no matrix.
  const groupTerms = (i: number): ProductTerm[] | null => {
    const terms: ProductTerm[] = [];
    for (const index of chain.linear[i - 1]) {
      if (model.nodes[index].execution?.kind === 'reshape') continue;
      const matrix = matrixOf(index);
      if (!matrix) return null;
      terms.push({ matrix, scale: 1 });
    }
    return terms;
  };
  const groupProduct = (k: number) => chain.linear[k - 1].reduce((p, index) => p * constants[index], 1);
  // Explicit partial products, shared by both representations below.
  const explicit = new Map<string, number>();
  const explicitBound = (j: number, k: number, c: (m: number) => number): number | undefined => {
    const key = `${k},${j}`;
    if (!explicit.has(key)) {
      const terms = explicitTerms(j, k, c, groupTerms);
      explicit.set(key, terms && chains(terms) && productCost(terms) <= maxCost && !outOfTime() ? certifiedProductNorm(terms, outOfTime) : Infinity);
    }
    return explicit.get(key);
  };
  // 1. The real chain: every window from explicit matrices.
  const realSlopes = chain.nonlinear.map((n) => n.slopes);
  const real = theta(K, realSlopes, window, groupProduct, (j, k, c) => explicitBound(j, k, c));
  // 2. The circular representation (circular.ts): windows inside a segment from their DFT blocks
  // (computed by the caller, cheapest segment first), windows outside every segment from explicit
  // matrices, windows across a segment's edge by splits.
  let circularTheta = Infinity;
  if (segments.length > 0) {
    const segmentOf = new Int32Array(K + 1).fill(-1);
    segments.forEach((s, index) => {
      for (let i = s.first; i <= s.last; i++) segmentOf[i] = index;
    });
    for (const segment of dropped) {
      // Not computed: its groups stay real (explicit matrices or their constants), its maps unwidened.
      for (let i = segment.first; i <= segment.last; i++) segmentOf[i] = -1;
      for (let m = segment.first; m < segment.last; m++) slopes[m - 1] = chain.nonlinear[m - 1].slopes;
    }
    const single = (k: number) => (segmentOf[k] >= 0 ? windows.get(`${k},${k - 1}`) ?? Infinity : groupProduct(k));
    circularTheta = theta(K, slopes, Math.max(window, circularWindow), single, (j, k, cOf) => {
      const first = segmentOf[j + 1];
      if (first >= 0 && segmentOf[k] === first) return windows.get(`${k},${j}`);
      for (let i = j + 1; i <= k; i++) if (segmentOf[i] >= 0) return undefined;
      return k - j <= window ? explicitBound(j, k, cOf) : undefined;
    });
  }
  let direct = 0;
  for (const value of explicit.values()) if (Number.isFinite(value)) direct++;
  return { bound: Math.min(real, circularTheta), direct, circular: windows.size };
}

/**
 * θ_K of the recursion for one representation of the chain: B(k, j) the smallest of the window's
 * direct bound (within `window`), every split B(k, m)|c_m|B(m, j), and for one group `single`.
 */
function theta(
  K: number,
  slopes: readonly Slopes[],
  window: number,
  single: (k: number) => number,
  directBound: (j: number, k: number, c: (m: number) => number) => number | undefined,
): number {
  const c = (m: number) => slopes[m - 1].c;
  const rho = (j: number) => slopes[j - 1].rho;
  const B: number[][] = Array.from({ length: K + 1 }, () => new Array<number>(K + 1).fill(Infinity));
  for (let k = 1; k <= K; k++) B[k][k - 1] = single(k);
  for (let length = 1; length <= K; length++) {
    for (let j = 0; j + length <= K; j++) {
      const k = j + length;
      let best = B[k][j];
      for (let m = j + 1; m < k; m++) best = Math.min(best, B[k][m] * Math.abs(c(m)) * B[m][j]);
      if (length <= window) {
        // A c = 0 in between (max pool, a map with no useful midpoint) makes the linearised path 0.
        const zero = Array.from({ length: k - j - 1 }, (_, i) => c(j + 1 + i)).some((v) => v === 0);
        const value = zero ? 0 : directBound(j, k, c);
        if (value !== undefined) best = Math.min(best, value);
      }
      B[k][j] = best;
    }
  }
  const thetas = new Array<number>(K + 1).fill(0);
  for (let k = 1; k <= K; k++) {
    let sum = B[k][0];
    for (let j = 1; j < k; j++) sum += rho(j) * B[k][j] * thetas[j];
    thetas[k] = sum;
  }
  return thetas[K];
}

/** The factors' sizes match (a non-linear map that changes the shape has c = 0 and never gets here). */
function chains(terms: readonly ProductTerm[]): boolean {
  let cols: number | undefined;
  for (const { matrix } of terms) {
    if (matrix === 'identity') continue;
    if (cols !== undefined && matrix.rows !== cols) return false;
    cols = matrix.cols;
  }
  return true;
}

/** Factors of M_{k,j} = L_{j+1} c_{j+1} ⋯ c_{k−1} L_k (row-vector order), or null if one group has no matrices. */
function explicitTerms(j: number, k: number, c: (m: number) => number, groupTerms: (i: number) => ProductTerm[] | null): ProductTerm[] | null {
  const terms: ProductTerm[] = [];
  for (let i = j + 1; i <= k; i++) {
    const group = groupTerms(i);
    if (!group) return null;
    terms.push(...group, { matrix: 'identity', scale: i < k ? c(i) : 1 });
  }
  return terms;
}
