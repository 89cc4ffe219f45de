// The version of the numbers and rows the engine reports. It enters the extension's cache key
// (src/extension/cache-key.ts), so a report made by an older engine is never served for an
// unchanged model. It lives in the protocol because both the engine's side and the extension (which
// never imports the engine) read it.

/**
 * Bump on EVERY change to the numbers or the rows in reports (a new bound, a fold, an op's
 * constant, a solver's stop rule, rows added or removed, a field's meaning), never for speed alone.
 * Starts above 1, the version the keys of earlier releases implied by having none.
 * 3: never-abort graphs, products with value ranges, resize/quantised/recurrent ops, the
 *    size-independent and exact-dense conv paths, the bracket fields.
 * 4: normalisation constants, data×data MatMul, inputs held fixed, per-channel ranges, the adaptive
 *    symbol sup and the warm-started fallback, the circular bracket segments.
 * 5: TF.js data products and written-out normalisations, Gemm of two data inputs, dilated convs
 *    reduced to their sub-lattice, the output-side warm start.
 * 6: TF.js broadcast scaling by constants, declared custom Keras layers, the executor's wider op
 *    coverage (lower bounds where there were none), the warm start for strided and grouped convs
 *    (their rows' `lower`, and the symbol sup as their bound), ONNX CumSum / ReduceL1 /
 *    ReduceLogSumExp / variadic Sum and Mean / Shrink / Sin-Cos-Atan rows, TF.js Einsum with a
 *    constant, jax2tf's leaky ReLU and constant SelectV2 folds.
 * 7: the twisted-torus bound of stride-1 convs (their `upperBound`, and which layers take the symbol
 *    path), the bracket's windows bounded over cells on large maps, Einsum rows with reordered
 *    outputs executed, data×data Einsum, GatherNd/GatherND, TF.js Sin/Cos/Atan/Asinh/Atan2, MAXIM's
 *    written-out layer norm, squares on a range, ONNX Clip with limits computed from the data,
 *    written-out GELU (tanh) and sigmoid, depthwise layers reduced to their kept channels.
 * 8: the Galerkin window (the `lowerBound` of symbol-sup rows and warm-started rows, and which
 *    layers take the symbol path: 3x3 from about 100²), ONNX Pow with a constant exponent executed
 *    (lower bounds where there were none), Pow with exponent 0 a constant row (0) instead of
 *    unbounded, TF.js graph Pow with a constant exponent (ONNX's rows, executed), Pow 1 broadcast up
 *    by its exponent √copies instead of 1.
 */
export const ENGINE_RESULTS_VERSION = 8;
