import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWebviewHtml, contentSecurityPolicy, makeNonce } from '../../../src/extension/webview-html';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
const options = (nonce = makeNonce()) => ({
  cspSource,
  nonce,
  scriptUri: `${cspSource}/ext/dist/webview.js`,
  styleUri: `${cspSource}/ext/dist/webview.css`,
  title: 'Lipschitz: <model>.onnx',
  view: 'panel' as const,
});

function cspOf(html: string): Map<string, string[]> {
  const match = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(match, 'a CSP meta tag');
  const directives = new Map<string, string[]>();
  for (const part of match[1].replace(/&#39;/g, "'").split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name, values);
  }
  return directives;
}

test('strict CSP: default none, scripts by nonce and the webview source only, no unsafe-inline', () => {
  const o = options();
  const html = buildWebviewHtml(o);
  const csp = cspOf(html);
  assert.deepEqual(csp.get('default-src'), ["'none'"]);
  assert.deepEqual(csp.get('script-src'), [`'nonce-${o.nonce}'`, cspSource]);
  assert.deepEqual(csp.get('style-src'), [cspSource]);
  assert.deepEqual(csp.get('img-src'), [cspSource, 'data:']);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
});

test('every script carries the nonce, no inline script or style, no remote origin', () => {
  const o = options();
  const html = buildWebviewHtml(o);
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  for (const [, attributes, body] of scripts) {
    assert.match(attributes, new RegExp(`nonce="${o.nonce}"`));
    assert.match(attributes, /src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"/);
    assert.equal(body.trim(), '', 'no inline code');
  }
  assert.doesNotMatch(html, /<style|style="/);
  assert.doesNotMatch(html, /\son\w+=/i, 'no inline event handlers');
  const origins = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assert.ok(origins.length >= 2);
  for (const url of origins) assert.ok(url.startsWith(cspSource), `${url} comes from the webview source`);
  for (const [, values] of cspOf(html)) {
    for (const value of values) assert.ok(value === cspSource || value.startsWith("'") || value === 'data:', `no remote origin: ${value}`);
  }
});

test('the page is an #app div; the title is escaped', () => {
  const html = buildWebviewHtml(options());
  assert.match(html, /<body data-view="panel">\s*<div id="app"><\/div>/);
  assert.match(html, /<title>Lipschitz: &lt;model&gt;\.onnx<\/title>/);
});

test('nonces are fresh and well formed; a weak nonce is refused', () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9]{16,}$/);
  assert.throws(() => buildWebviewHtml(options('abc')));
  assert.throws(() => buildWebviewHtml(options(`${'a'.repeat(20)}' 'unsafe-inline`)));
  assert.match(contentSecurityPolicy(cspSource, a), /base-uri 'none'/);
});
