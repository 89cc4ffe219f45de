// Number, shape and time formatting for the results page. Pure functions, no DOM.

/**
 * A norm or bound: 4 significant digits, trailing zeros dropped; exponent form below 1e-3 and
 * from 1e5 up. Null or undefined is an em dash; NaN and infinities are spelled out.
 */
export function formatValue(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  if (value === 0) return '0';
  // Decide the form after rounding, so 99999.7 becomes 1e5 and not 100000.
  const magnitude = Math.abs(Number(value.toPrecision(digits)));
  if (magnitude >= 1e5 || magnitude < 1e-3) {
    const [mantissa, exponent] = value.toExponential(digits - 1).split('e');
    const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    return `${trimmed}e${exponent.replace('+', '')}`;
  }
  // toPrecision may itself switch to exponent form for large integers; Number() undoes that.
  return String(Number(value.toPrecision(digits)));
}

/** 1×3×224×224; [] is a scalar; null or undefined is no shape. Symbolic dimensions stay as written. */
export function formatShape(shape: readonly (number | string)[] | null | undefined): string {
  if (!shape) return '—';
  if (shape.length === 0) return 'scalar';
  return shape.map((d) => (typeof d === 'number' && d < 0 ? '?' : String(d))).join('×');
}

/** Wall time: 0.3 ms, 12 ms, 1.53 s, 2 min 5 s. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds === 0) return '0 ms';
  if (seconds < 1e-4) return '<0.1 ms';
  if (seconds < 0.9995) {
    const ms = seconds * 1000;
    return `${ms < 10 ? Number(ms.toPrecision(2)) : Math.round(ms)} ms`;
  }
  if (seconds < 60) return `${Number(seconds.toPrecision(3))} s`;
  let minutes = Math.floor(seconds / 60);
  let rest = Math.round(seconds - minutes * 60);
  if (rest === 60) {
    minutes += 1;
    rest = 0;
  }
  return `${minutes} min ${rest} s`;
}

/** 1,234,567 — grouping with a thin comma, independent of the host locale so tests are stable. */
export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const sign = value < 0 ? '−' : '';
  const digits = String(Math.round(Math.abs(value)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A parameter count with a short form: 1,234,567 (1.23 M). */
export function formatParameterCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, unit] of units) {
    if (Math.abs(value) >= scale) return `${formatInteger(value)} (${Number((value / scale).toPrecision(3))} ${unit})`;
  }
  return formatInteger(value);
}
