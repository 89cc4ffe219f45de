// The one place numbers, shapes and times are written for people: the CLI table, the extension's
// lenses, hovers, status bar and exports, and the results page all format through here, so one value
// reads the same everywhere. Pure functions (no DOM, no vscode, no Node).

/** Significant digits every surface shows unless it asks for more (a hover's detail line). */
export const DEFAULT_DIGITS = 4;

/**
 * A norm or bound: `digits` significant digits, trailing zeros dropped; exponent form below 1e-3 and
 * from 1e5 up, decided after rounding (99999.7 → "1e5", never "100000"). Null or undefined is an em
 * dash; NaN and the infinities are spelled out. Negative values keep an ASCII minus.
 */
export function formatNumber(value: number | null | undefined, digits = DEFAULT_DIGITS): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  if (value === 0) return '0';
  const magnitude = Math.abs(Number(value.toPrecision(digits)));
  if (magnitude >= 1e5 || magnitude < 1e-3) {
    const [mantissa, exponent] = value.toExponential(digits - 1).split('e');
    const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    return `${trimmed}e${exponent.replace('+', '')}`;
  }
  // toPrecision may itself switch to exponent form for large integers; Number() undoes that.
  return String(Number(value.toPrecision(digits)));
}

/** 1×3×224×224; [] is a scalar; null or undefined is no shape. Symbolic dimensions stay as written, negative ones are "?". */
export function formatShape(shape: readonly (number | string)[] | null | undefined): string {
  if (!shape) return '—';
  if (shape.length === 0) return 'scalar';
  return shape.map((d) => (typeof d === 'number' && d < 0 ? '?' : String(d))).join('×');
}

/** Wall time: 0.3 ms, 12 ms, 1.53 s, 2 min 5 s (seconds rounding to 60 carry into the minutes). */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds === 0) return '0 ms';
  if (seconds < 1e-4) return '<0.1 ms';
  if (seconds < 0.9995) {
    const ms = seconds * 1000;
    return `${ms < 10 ? Number(ms.toPrecision(2)) : Math.round(ms)} ms`;
  }
  const rounded = Number(seconds.toPrecision(3));
  if (rounded < 60) return `${rounded} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** 1,234,567: grouping independent of the host locale, so tests are stable. */
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

/**
 * A long list of problems, grouped: "Mul: x·y is not Lipschitz ×34 (a, b, c and 31 more); Einsum (e)".
 * One item reads as "reason (name)". Groups keep the order of their first item.
 */
export function groupByReason(items: readonly { reason: string; name: string }[], shown = 3): string {
  const groups = new Map<string, string[]>();
  for (const { reason, name } of items) groups.set(reason, [...(groups.get(reason) ?? []), name]);
  return [...groups]
    .map(([reason, names]) => {
      const listed = names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
      return names.length === 1 ? `${reason} (${listed})` : `${reason} ×${names.length} (${listed})`;
    })
    .join('; ');
}

/**
 * The model line above the table: path, format, the signal input and its shape, and the outputs
 * the bound is taken to when the report names them (docs/graphs.md, "Several inputs").
 */
export function formatModelLine(model: { path: string; format: string; inputShape: readonly number[]; signalInput?: string; outputsUsed?: readonly string[] }): string {
  const input = model.signalInput ? `input ${model.signalInput}: ${formatShape(model.inputShape)}` : `input ${formatShape(model.inputShape)}`;
  const outputs = model.outputsUsed && model.outputsUsed.length > 0 ? ` · output${model.outputsUsed.length > 1 ? 's' : ''} ${model.outputsUsed.join(', ')}` : '';
  return `${model.path} · ${model.format} · ${input}${outputs}`;
}
