// Browser harness for the results webview: bundles webview-ui/main.ts with esbuild into a temp
// dir, serves it from a tiny node:http server on 127.0.0.1 in the extension's own HTML shell and
// CSP (a nonce for scripts, styles only from the page's own origin), with a nonce'd stub of
// acquireVsCodeApi that records posted messages and keeps setState in sessionStorage (so a reload
// restores it, as a hidden-then-shown VS Code panel does). Drives Debian's Chromium through playwright-core.

import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildWebviewHtml, makeNonce } from '../../src/extension/webview-html';
import type { FromWebview, ToWebview } from '../../src/protocol/messages';

export const ROOT = join(import.meta.dirname, '../..');
export const SCREENSHOTS = join(ROOT, 'test-results/webview');
export const CHROMIUM = process.env.LL_CHROMIUM ?? '/usr/bin/chromium';

/** Theme variables of the test page: distinctive values so computed colours can be traced back. */
export const THEME: Record<string, string> = {
  '--vscode-font-family': 'sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-editor-font-family': 'monospace',
  '--vscode-editor-background': 'rgb(30, 31, 32)',
  '--vscode-foreground': 'rgb(204, 205, 206)',
  '--vscode-descriptionForeground': 'rgb(150, 151, 152)',
  '--vscode-disabledForeground': 'rgb(101, 102, 103)',
  '--vscode-errorForeground': 'rgb(241, 76, 76)',
  '--vscode-editorWarning-foreground': 'rgb(204, 167, 0)',
  '--vscode-button-background': 'rgb(14, 99, 156)',
  '--vscode-button-foreground': 'rgb(255, 255, 254)',
  '--vscode-button-hoverBackground': 'rgb(17, 119, 187)',
  '--vscode-button-secondaryBackground': 'rgb(58, 61, 65)',
  '--vscode-button-secondaryForeground': 'rgb(240, 241, 242)',
  '--vscode-button-secondaryHoverBackground': 'rgb(69, 73, 78)',
  '--vscode-input-background': 'rgb(60, 60, 61)',
  '--vscode-input-foreground': 'rgb(204, 204, 205)',
  '--vscode-input-border': 'rgb(80, 80, 81)',
  '--vscode-input-placeholderForeground': 'rgb(120, 120, 121)',
  '--vscode-focusBorder': 'rgb(0, 127, 212)',
  '--vscode-panel-border': 'rgb(70, 71, 72)',
  '--vscode-list-hoverBackground': 'rgb(42, 45, 46)',
  '--vscode-list-inactiveSelectionBackground': 'rgb(55, 56, 61)',
  '--vscode-badge-background': 'rgb(77, 77, 78)',
  '--vscode-badge-foreground': 'rgb(255, 254, 255)',
  '--vscode-inputValidation-errorBackground': 'rgb(90, 29, 29)',
  '--vscode-inputValidation-errorBorder': 'rgb(190, 17, 0)',
  '--vscode-textBlockQuote-background': 'rgb(40, 41, 42)',
  '--vscode-progressBar-background': 'rgb(0, 120, 212)',
  '--vscode-charts-blue': 'rgb(55, 148, 255)',
  '--vscode-charts-orange': 'rgb(209, 134, 22)',
  '--vscode-charts-red': 'rgb(244, 135, 113)',
  '--vscode-charts-green': 'rgb(137, 209, 133)',
  '--vscode-charts-purple': 'rgb(179, 128, 255)',
  '--vscode-charts-lines': 'rgb(128, 129, 130)',
  '--vscode-testing-iconPassed': 'rgb(115, 201, 145)',
};

export interface PageRecord {
  posted: FromWebview[];
  stateCalls: number;
  violations: { directive: string; blocked: string; sample: string }[];
}

export interface Harness {
  url: string;
  context: BrowserContext;
  /** Console errors and page errors seen on any page. */
  consoleErrors: string[];
  /** A page as the results panel shows it, or as the .onnx editor does (view 'editor'). */
  newPage(view?: 'panel' | 'editor'): Promise<Page>;
  close(): Promise<void>;
}

/**
 * The extension's own HTML shell (src/extension/webview-html.ts: CSP with a per-load nonce, the
 * bundled script and stylesheet, <div id="app">), with two test additions: the theme's variables
 * as a stylesheet from the same origin (VS Code injects them itself), and a nonce'd stub of
 * acquireVsCodeApi before the page's script.
 */
function page(origin: string, view: 'panel' | 'editor'): string {
  const nonce = makeNonce();
  const html = buildWebviewHtml({
    cspSource: origin,
    scriptUri: `${origin}/webview.js`,
    styleUri: `${origin}/webview.css`,
    nonce,
    title: 'Lipschitz Lens',
    view,
  });
  const stub = `
    // tsx compiles the tests with keepNames, so functions handed to page.evaluate call __name.
    globalThis.__name = globalThis.__name || ((fn) => fn);
    (() => {
      const KEY = 'lipschitz-lens-webview-state';
      const record = { posted: [], stateCalls: 0, violations: [] };
      window.__ll = record;
      document.addEventListener('securitypolicyviolation', (e) => {
        record.violations.push({ directive: e.violatedDirective, blocked: String(e.blockedURI), sample: String(e.sample || '') });
      });
      let acquired = false;
      window.acquireVsCodeApi = () => {
        if (acquired) throw new Error('acquireVsCodeApi may be called only once');
        acquired = true;
        return Object.freeze({
          postMessage(message) { record.posted.push(JSON.parse(JSON.stringify(message))); },
          getState() { const saved = sessionStorage.getItem(KEY); return saved === null ? undefined : JSON.parse(saved); },
          setState(state) { record.stateCalls++; sessionStorage.setItem(KEY, JSON.stringify(state)); return state; },
        });
      };
    })();`;
  const scriptTag = html.indexOf('<script ');
  const linkTag = html.indexOf('<link rel="stylesheet"');
  if (scriptTag < 0 || linkTag < 0 || !html.includes('<div id="app">') || !html.includes(`nonce-${nonce}`)) {
    throw new Error('the extension\'s webview HTML changed shape: update test/webview/harness.ts');
  }
  const withStub = `${html.slice(0, scriptTag)}<script nonce="${nonce}">${stub}</script>\n${html.slice(scriptTag)}`;
  return `${withStub.slice(0, linkTag)}<link rel="stylesheet" href="${origin}/theme.css">\n${withStub.slice(linkTag)}`;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install chromium (apt-get install chromium) or set LL_CHROMIUM`);
  const scratch = mkdtempSync(join(tmpdir(), 'll-webview-'));
  const out = join(scratch, 'dist');
  const build = esbuild.build({
    entryPoints: [join(ROOT, 'webview-ui/main.ts')],
    outfile: join(out, 'webview.js'),
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    logLevel: 'warning',
  });
  await build.catch((error: unknown) => {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  });
  const files: Record<string, { type: string; body: string }> = {
    '/webview.js': { type: 'text/javascript', body: readFileSync(join(out, 'webview.js'), 'utf8') },
    '/webview.css': { type: 'text/css', body: readFileSync(join(ROOT, 'webview-ui/style.css'), 'utf8') },
    '/theme.css': { type: 'text/css', body: `html {\n${Object.entries(THEME).map(([k, v]) => `  ${k}: ${v};`).join('\n')}\n}\n` },
  };

  let origin = '';
  const server: Server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    if (path === '/' || path === '/index.html') {
      let body: string;
      try {
        // ?view=editor serves the page as the .onnx editor shows it (its node list), else as the panel.
        body = page(origin, new URLSearchParams(query).get('view') === 'editor' ? 'editor' : 'panel');
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const file = files[path];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': `${file.type}; charset=utf-8`, 'cache-control': 'no-store' });
    res.end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const home = join(scratch, 'home');
  mkdirSync(home, { recursive: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') },
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }

  const consoleErrors: string[] = [];
  const watch = (p: Page) => {
    p.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${message.type()}: ${message.text()}`);
    });
    p.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);

  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    url: `${origin}/`,
    context,
    consoleErrors,
    async newPage(view = 'panel') {
      const p = await context.newPage();
      const response = await p.goto(`${origin}/${view === 'editor' ? '?view=editor' : ''}`);
      if (!response?.ok()) throw new Error(`test page: ${response?.status()} ${await response?.text()}`);
      await waitForReady(p);
      return p;
    },
    async close() {
      try {
        await context.close();
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  };
}

/** Waits until the page has posted {type:'ready'} since its last load. */
export async function waitForReady(p: Page): Promise<void> {
  await p.waitForFunction(() => {
    const record = (window as unknown as { __ll?: PageRecord }).__ll;
    return record?.posted.some((m) => m.type === 'ready') ?? false;
  });
}

/** Posts messages as the extension would, then waits until the page has handled them (messages are delivered in order). */
export async function send(p: Page, ...messages: ToWebview[]): Promise<void> {
  await p.evaluate(async (list) => {
    await new Promise<void>((resolve) => {
      const token = Math.random();
      const done = (event: MessageEvent) => {
        if ((event.data as { __sync?: number } | null)?.__sync !== token) return;
        window.removeEventListener('message', done);
        resolve();
      };
      window.addEventListener('message', done);
      for (const message of list) window.postMessage(message, '*');
      window.postMessage({ __sync: token }, '*');
    });
  }, messages);
}

export async function record(p: Page): Promise<PageRecord> {
  return p.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __ll: PageRecord }).__ll)) as PageRecord);
}

/** Messages posted since the last call (clears the page's list). */
export async function takePosted(p: Page): Promise<FromWebview[]> {
  return p.evaluate(() => {
    const record = (window as unknown as { __ll: PageRecord }).__ll;
    return record.posted.splice(0, record.posted.length);
  });
}

/** Row indices (data-index) of the table body, in display order. */
export async function rowOrder(p: Page): Promise<number[]> {
  return p.$$eval('table.results tbody tr', (rows) => rows.map((r) => Number(r.getAttribute('data-index'))));
}

export async function cellText(p: Page, index: number, key: string): Promise<string> {
  return p.$eval(`table.results tbody tr[data-index="${index}"] td.col-${key}`, (td) => td.textContent ?? '');
}

export async function screenshot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
