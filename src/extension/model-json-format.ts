// Pretty-prints a model.json that was written on one line (converted TF.js files usually are), so
// that each layer gets its own lines for lenses and reading. Strings, keys and numbers are copied as
// written (no re-encoding through JSON.parse: "1e-3" stays "1e-3", escapes stay escapes), so the
// formatted text is the same JSON value (docs/architecture.md#run-history-and-compare-runs). Pure.

import { parseJsonTree, type JsonNode } from './model-json-locations';

/** Files of one line longer than this are offered a format (shorter ones read fine as they are). */
const LONG_LINE = 500;

/** True for a JSON text written on a single long line. */
export function isSingleLongLine(text: string): boolean {
  const body = text.trim();
  return body.length > LONG_LINE && !body.includes('\n');
}

/** Arrays of scalars that fit in this many characters stay on one line ("kernel_size": [3, 3]). */
const INLINE_ARRAY = 72;

/** The raw text of the key starting at `keyStart` (its opening quote), quotes included. */
function rawKey(text: string, keyStart: number): string {
  let pos = keyStart + 1;
  while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
  return text.slice(keyStart, pos + 1);
}

/** Formats JSON text with two-space indents, keeping every token's own spelling. Throws on invalid JSON. */
export function formatJsonText(text: string): string {
  const root = parseJsonTree(text);
  const out: string[] = [];
  const scalar = (node: JsonNode) => node.kind !== 'object' && node.kind !== 'array';
  const write = (node: JsonNode, indent: string): void => {
    if (node.kind === 'object') {
      if (node.properties.length === 0) return void out.push('{}');
      const inner = `${indent}  `;
      out.push('{\n');
      node.properties.forEach((p, i) => {
        out.push(`${inner}${rawKey(text, p.keyStart)}: `);
        write(p.value, inner);
        out.push(i < node.properties.length - 1 ? ',\n' : '\n');
      });
      out.push(`${indent}}`);
      return;
    }
    if (node.kind === 'array') {
      if (node.items.length === 0) return void out.push('[]');
      if (node.items.every(scalar)) {
        const inline = `[${node.items.map((item) => text.slice(item.start, item.end)).join(', ')}]`;
        if (inline.length <= INLINE_ARRAY) return void out.push(inline);
      }
      const inner = `${indent}  `;
      out.push('[\n');
      node.items.forEach((item, i) => {
        out.push(inner);
        write(item, inner);
        out.push(i < node.items.length - 1 ? ',\n' : '\n');
      });
      out.push(`${indent}]`);
      return;
    }
    out.push(text.slice(node.start, node.end));
  };
  write(root, '');
  return `${out.join('')}\n`;
}
