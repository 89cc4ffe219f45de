// The filter box's syntax: words, field matches and numeric comparisons, all of which must hold.
//   conv            the name, op or kind contains "conv" (any case)
//   kind:linear     the kind is exactly "linear";  op:Conv / name:block3  the op / name contains it
//   σ > 2           a numeric comparison (also sigma>=1.5, upper<10, L>1e6, time>0.5, iters>=300)
//   -relu           a leading "-" negates any term
// Parsing only; model.ts applies the terms to rows. The syntax is also described in README.md and
// in the box's tooltip (FILTER_HELP).

export type NumericField = 'sigma' | 'upper' | 'folded' | 'running' | 'seconds' | 'iterations';
export type TextField = 'name' | 'op' | 'kind';
export type Comparison = '>' | '>=' | '<' | '<=' | '=' | '!=';

export type FilterTerm =
  | { type: 'text'; text: string; negate: boolean }
  | { type: 'field'; field: TextField; text: string; negate: boolean }
  | { type: 'compare'; field: NumericField; op: Comparison; value: number; negate: boolean };

export interface ParsedFilter {
  terms: FilterTerm[];
  /** Parts that look like a comparison but are not one yet ("σ >" while typing): ignored, and said. */
  incomplete: string[];
}

/** Field names as typed (lower case) → the value compared. */
const NUMERIC_FIELDS: Record<string, NumericField> = {
  'σ': 'sigma',
  sigma: 'sigma',
  upper: 'upper',
  ub: 'upper',
  folded: 'folded',
  l: 'running',
  bound: 'running',
  running: 'running',
  time: 'seconds',
  seconds: 'seconds',
  iters: 'iterations',
  iterations: 'iterations',
};

const TEXT_FIELDS: Record<string, TextField> = { name: 'name', op: 'op', kind: 'kind' };

export const FILTER_HELP = [
  'Filter: every term must hold.',
  'conv: name, op or kind contains "conv"',
  'kind:linear, op:Conv, name:block3: by field',
  'σ > 2, sigma>=1.5, upper<10, folded>1, L>1e6, time>0.5, iters>=300: numeric (σ is a fixed row\'s constant too)',
  '-relu, -kind:activation: leave out',
].join('\n');

const NUMBER = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[-+]?\\d+)?';
const FIELD = '(?:σ|[a-z]+)';
/** A comparison with optional spaces around the operator ("σ > 2"), or one missing its number. */
const COMPARE = new RegExp(`^(-?)(${FIELD})\\s*(>=|<=|!=|=|>|<)\\s*(${NUMBER})?(?=\\s|$)`, 'iu');

export function parseFilter(text: string): ParsedFilter {
  const terms: FilterTerm[] = [];
  const incomplete: string[] = [];
  let rest = text.trim();
  while (rest) {
    const compare = COMPARE.exec(rest);
    const field = compare ? NUMERIC_FIELDS[compare[2].toLowerCase()] : undefined;
    if (compare && field) {
      if (compare[4] === undefined) incomplete.push(compare[0].trim());
      else terms.push({ type: 'compare', field, op: compare[3] as Comparison, value: Number(compare[4]), negate: compare[1] === '-' });
      rest = rest.slice(compare[0].length).trim();
      continue;
    }
    const word = /^\S+/.exec(rest)?.[0] ?? rest;
    rest = rest.slice(word.length).trim();
    const negate = word.startsWith('-') && word.length > 1;
    const body = negate ? word.slice(1) : word;
    const colon = body.indexOf(':');
    const textField = colon > 0 ? TEXT_FIELDS[body.slice(0, colon).toLowerCase()] : undefined;
    if (textField) {
      const value = body.slice(colon + 1).toLowerCase();
      if (value) terms.push({ type: 'field', field: textField, text: value, negate });
      else incomplete.push(word);
    } else {
      // Unknown prefixes stay text: layer names often hold ':' ("conv1:0").
      terms.push({ type: 'text', text: body.toLowerCase(), negate });
    }
  }
  return { terms, incomplete };
}

export function compare(a: number, op: Comparison, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '=':
      // Values are shown to 4 significant digits: "=" matches what the table shows.
      return a === b || Math.abs(a - b) <= 5e-4 * Math.max(Math.abs(a), Math.abs(b));
    case '!=':
      return !compare(a, '=', b);
  }
}
