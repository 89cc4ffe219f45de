// Shared option and result types of the certified upper bounds.

export interface BoundOptions {
  /** Polled between steps; true stops refining and returns the best bound proven so far. */
  shouldStop?: () => boolean;
  /**
   * Rough arithmetic budget (floating-point operations) for one layer's bound; above it a cheaper,
   * looser but still valid bound is used and named in `method`. Default BOUND_BUDGET_FLOPS.
   */
  budgetFlops?: number;
  /**
   * A value the caller already has (e.g. the solver's σ estimate), used only to stop work early:
   * the DFT conv bound then returns max(L, its blocks' bounds), skipping blocks whose certified
   * bound is ≤ that running max. Any finite L ≥ 0 keeps the result a valid upper bound (it can
   * only raise it); a too-high L makes the bound looser, never invalid. Ignored elsewhere.
   */
  lowerBound?: number;
  /**
   * How the conv bound forms its DFT blocks' Gram matrices: per block ('direct'), from kernel-tap
   * products ('taps', tap-gram.ts), or whichever is estimated cheaper ('auto', the default). Both
   * are certified; 'taps' is cheaper on wide layers and slightly looser. For tests and benchmarks.
   */
  convGram?: 'auto' | 'direct' | 'taps';
}

export interface UpperBound {
  /** Certified: the layer's operator 2-norm on its input shape is ≤ value. */
  value: number;
  /** How the bound was obtained (shown to the user). */
  method: string;
}

/**
 * About 5–10 s of float32 matMul on one wasm core (20–30 GFLOP/s measured): enough for the DFT
 * bound of every ResNet-50 3x3 layer; VGG's 4096x25088 dense layer falls back to row blocks.
 */
export const BOUND_BUDGET_FLOPS = 2.5e11;
