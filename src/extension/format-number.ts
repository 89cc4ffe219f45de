// Number and shape formatting shared by the lenses, hovers, status bar and exports.

/** Three significant digits; exponent form outside [1e-3, 1e5). Null, NaN and ±Inf are spelled out. */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(digits - 1).replace('e+', 'e');
  return String(Number(value.toPrecision(digits)));
}

/** 1×3×224×224; [] is a scalar; null is no shape. */
export function formatShape(shape: readonly (number | string)[] | null | undefined): string {
  if (!shape) return '—';
  if (shape.length === 0) return 'scalar';
  return shape.join('×');
}

/** 0.42 s, 12 ms, 3 min 5 s. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${Number(seconds.toPrecision(3))} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
