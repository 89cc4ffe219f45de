// The webview's theme rules: colours only through --vscode-* variables, nothing inline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '../../../webview-ui');
const css = readFileSync(join(dir, 'style.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
const sources = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));

const COLOUR_PROPERTIES = /^(color|background|background-color|border|border-[a-z-]*color|border(-top|-left|-right|-bottom)?|outline|outline-color|fill|stroke|accent-color|caret-color|box-shadow|text-decoration-color)$/;
const ALLOWED_KEYWORDS = /^(none|transparent|inherit|currentcolor|initial|unset)$/i;

function declarations(): { property: string; value: string }[] {
  const out: { property: string; value: string }[] = [];
  for (const block of css.matchAll(/\{([^{}]*)\}/g)) {
    for (const decl of block[1].split(';')) {
      const colon = decl.indexOf(':');
      if (colon < 0) continue;
      out.push({ property: decl.slice(0, colon).trim(), value: decl.slice(colon + 1).trim() });
    }
  }
  return out;
}

test('style.css has no literal colours', () => {
  assert.doesNotMatch(css, /#[0-9a-f]{3,8}\b/i, 'hex colour');
  assert.doesNotMatch(css, /\b(rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(/i, 'colour function');
});

test('every colour property uses a --vscode-* variable or a neutral keyword', () => {
  const decls = declarations().filter((d) => COLOUR_PROPERTIES.test(d.property));
  assert.ok(decls.length > 20, 'the parser found the colour declarations');
  for (const { property, value } of decls) {
    const parts = value.split(/\s+/);
    const usesVar = /var\(--vscode-[a-zA-Z0-9-]+/.test(value);
    const colourWords = parts.filter((p) => /^[a-z]+$/i.test(p) && !ALLOWED_KEYWORDS.test(p) && !/^(solid|dashed|dotted|none|inset)$/.test(p));
    assert.ok(usesVar || parts.every((p) => ALLOWED_KEYWORDS.test(p) || /^[\d.]+(px|em)?$/.test(p)), `${property}: ${value}`);
    assert.deepEqual(colourWords, [], `${property}: ${value} names a colour`);
    for (const fallback of value.matchAll(/var\(--[a-zA-Z0-9-]+,\s*([^)]+)\)/g)) {
      assert.match(fallback[1].trim(), /^(transparent|var\(--vscode-.*)$/, `${property}: fallback ${fallback[1]}`);
    }
  }
});

test('the webview code sets no inline styles and builds no HTML from strings', () => {
  for (const { file, text } of sources) {
    assert.doesNotMatch(text, /\.style\b|setAttribute\(\s*['"]style['"]|innerHTML|outerHTML|insertAdjacentHTML|document\.write/, file);
    assert.doesNotMatch(text, /#[0-9a-f]{6}\b/i, `${file}: hex colour`);
  }
});

test('the webview imports only the protocol and its own modules', () => {
  for (const { file, text } of sources) {
    for (const match of text.matchAll(/from\s+'([^']+)'/g)) {
      assert.match(match[1], /^(\.\/[a-z-]+|\.\.\/src\/protocol\/(messages|report|format-number))$/, `${file} imports ${match[1]}`);
    }
  }
});

test('reduced motion turns transitions off', () => {
  for (const match of css.matchAll(/transition\s*:/g)) {
    const before = css.slice(0, match.index);
    const lastMedia = before.lastIndexOf('@media (prefers-reduced-motion: no-preference)');
    assert.ok(lastMedia >= 0 && before.slice(lastMedia).split('}').length <= 3, 'every transition sits inside a no-preference media query');
  }
});
