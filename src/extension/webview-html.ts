// The HTML shell of the results panel and the .onnx editor: a strict CSP with a per-load nonce,
// the bundled webview script and stylesheet, and <div id="app"> for webview-ui/ to fill. Pure.

import { randomBytes } from 'node:crypto';

export interface WebviewHtmlOptions {
  /** webview.cspSource */
  cspSource: string;
  /** asWebviewUri(dist/webview.js).toString() */
  scriptUri: string;
  /** asWebviewUri(dist/webview.css).toString() */
  styleUri: string;
  nonce: string;
  title: string;
  /** Shown as the page's data-view attribute: which surface this is. */
  view: 'panel' | 'editor';
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${cspSource}`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The start of a webview page up to its open <head>'s last line: doctype, charset, CSP, viewport, `extra` (trusted markup), title. */
export function documentStart(csp: string, title: string, extra = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">${extra ? `\n${extra}` : ''}
<title>${escapeHtml(title)}</title>`;
}

export function buildWebviewHtml(options: WebviewHtmlOptions): string {
  if (!/^[A-Za-z0-9]{16,}$/.test(options.nonce)) throw new Error('the nonce must be at least 16 letters or digits');
  const csp = contentSecurityPolicy(options.cspSource, options.nonce);
  return `${documentStart(csp, options.title, `<link rel="stylesheet" href="${escapeHtml(options.styleUri)}">`)}
</head>
<body data-view="${options.view}">
<div id="app"></div>
<script nonce="${options.nonce}" src="${escapeHtml(options.scriptUri)}"></script>
</body>
</html>
`;
}
