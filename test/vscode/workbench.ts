// Debian's Chromium driven by playwright-core (no browser download), and the workbench of a
// running code-server: plain (what a user sees) or with the extension-test payload, whose
// progress comes back through codeAutomationLog / codeAutomationExit.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LL_CHROMIUM || '/usr/bin/chromium';

export async function launchBrowser(home: string): Promise<Browser> {
  mkdirSync(home, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') },
    timeout: 30_000,
  });
}

export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  return { context, page };
}

/**
 * From code-server 4.139 the workbench honours the test payload only with the smoke-test driver,
 * which code-server's command line refuses; set it in the page's configuration <meta> before the
 * workbench reads it. Harmless on older versions.
 */
export async function enableSmokeTestDriver(page: Page): Promise<void> {
  // Passed as source text: a function would be transpiled with esbuild's keepNames helper
  // (`__name(...)`), which does not exist in the page ("__name is not defined"), and never ran.
  await page.addInitScript({
    content: `(() => {
      const id = 'vscode-workbench-web-configuration';
      const patch = () => {
        const meta = document.getElementById(id);
        const raw = meta && meta.getAttribute('data-settings');
        if (!meta || !raw) return false;
        try {
          const settings = JSON.parse(raw);
          settings.developmentOptions = Object.assign({}, settings.developmentOptions || {}, { enableSmokeTestDriver: true });
          meta.setAttribute('data-settings', JSON.stringify(settings));
        } catch (e) {
          /* leave it */
        }
        return true;
      };
      if (!patch()) {
        const observer = new MutationObserver(() => {
          if (patch()) observer.disconnect();
        });
        observer.observe(document, { childList: true, subtree: true });
      }
    })();`,
  });
}

export function workbenchUrl(serverUrl: string, folder: string, payload?: [string, string][]): string {
  let url = `${serverUrl}/?folder=${encodeURIComponent(folder)}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

export interface InHostOutcome {
  /** Exit code from codeAutomationExit, or null on timeout / page failure. */
  code: number | null;
  reason?: string;
  seconds: number;
}

/**
 * Opens the workbench with extensionDevelopmentPath/extensionTestsPath and waits for the suite
 * to call codeAutomationExit (or `timeoutMs`). Suite output is printed as it arrives.
 */
export async function runInHostSuite(o: {
  browser: Browser;
  serverUrl: string;
  port: number;
  folder: string;
  extensionPath: string;
  suitePath: string;
  timeoutMs: number;
  screenshot?: string;
  print?: (line: string) => void;
}): Promise<InHostOutcome> {
  const print = o.print ?? ((line: string) => console.log(line));
  const started = Date.now();
  const { context, page } = await newPage(o.browser);
  try {
    await enableSmokeTestDriver(page);
    let finish: (outcome: InHostOutcome) => void = () => undefined;
    const done = new Promise<InHostOutcome>((resolve) => (finish = resolve));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const list = Array.isArray(args) ? args : [args];
      const text = format(...list);
      for (const line of text.replace(/\n$/, '').split('\n')) print(`  [host${type === 'error' ? ' error' : ''}] ${line}`);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => {
      finish({ code, seconds: (Date.now() - started) / 1000 });
    });
    page.on('pageerror', (e) => print(`  [page error] ${e.message}`));
    page.on('crash', () => finish({ code: null, reason: 'page crashed', seconds: (Date.now() - started) / 1000 }));
    const remote = (path: string) => `vscode-remote://127.0.0.1:${o.port}${path}`;
    const url = workbenchUrl(o.serverUrl, o.folder, [
      ['extensionDevelopmentPath', remote(o.extensionPath)],
      ['extensionTestsPath', remote(o.suitePath)],
    ]);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
    const timer = new Promise<InHostOutcome>((resolve) =>
      setTimeout(
        () => resolve({ code: null, reason: `the suite did not finish within ${o.timeoutMs / 1000} s`, seconds: (Date.now() - started) / 1000 }),
        o.timeoutMs,
      ).unref(),
    );
    const outcome = await Promise.race([done, timer]);
    if (o.screenshot) await page.screenshot({ path: o.screenshot }).catch(() => undefined);
    return outcome;
  } finally {
    await context.close().catch(() => undefined);
  }
}
