// The "vscode" test stage: Lipschitz Lens inside a real VS Code (code-server's server build with
// its Node extension host, driven by Debian's Chromium). Two parts:
//   1. the in-host mocha suite (test/vscode/suite) through the extension-test payload;
//   2. the UI end-to-end test (test/vscode/ui.test.ts) against the packaged, installed .vsix.
// Writes {"passed":N,"failed":N} to $LL_COUNTS_FILE; exits non-zero when anything failed.
//
// Env: LL_VSCODE_PART=inhost|ui (only one part), LL_VSCODE_GREP (mocha grep), LL_VSCODE_BUILD=
// always|never|auto, LL_VSCODE_KEEP=1 (keep the temp folder), LL_VSCODE_VERBOSE=1 (server log),
// LL_CODE_SERVER_VERSION, LL_VSCODE_TIMEOUT (in-host driver timeout, seconds), LL_VSCODE_MODELS=DIR
// (the UI part on the smallest .onnx and model.json under DIR instead of test/fixtures).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { ensureCodeServer, killAllGroups, startCodeServer, type RunningCodeServer } from '../../scripts/code-server.mjs';
import { bundleSuite } from './bundle';
import { prepareWorkspace } from './fixtures';
import type { SuiteConfig } from './suite/config';
import { runUiTest, type StepResult } from './ui.test';
import { CHROMIUM, launchBrowser, runInHostSuite } from './workbench';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'test-results', 'vscode');
/** A path in the artifacts folder (re-created if something removed it meanwhile). */
const artifact = (name: string) => {
  mkdirSync(artifacts, { recursive: true });
  return join(artifacts, name);
};

interface Counts {
  passed: number;
  failed: number;
}

const log = (...args: unknown[]) => console.log('[vscode]', ...args);
const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

function newestMtime(paths: string[]): number {
  let newest = 0;
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else newest = Math.max(newest, s.mtimeMs);
  };
  paths.forEach(walk);
  return newest;
}

/** Builds dist/ when asked, or when it is older than its sources (so a hand-edited dist/ stays). */
function buildIfStale(): void {
  const mode = process.env.LL_VSCODE_BUILD ?? 'auto';
  const ext = join(root, 'dist', 'extension.js');
  const stale =
    !existsSync(ext) ||
    newestMtime([join(root, 'src'), join(root, 'webview-ui'), join(root, 'package.json')]) > statSync(ext).mtimeMs;
  if (mode === 'never' || (mode === 'auto' && !stale)) return;
  const t = Date.now();
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('node scripts/build.mjs failed');
  log(`built dist/ in ${since(t)}`);
}

async function inHostPart(browser: Browser, base: string, suiteConfig: Omit<SuiteConfig, 'suiteDir'>): Promise<Counts> {
  const suiteDir = join(base, 'suite');
  const t = Date.now();
  const files = await bundleSuite(join(root, 'test', 'vscode', 'suite'), suiteDir);
  const config: SuiteConfig = { ...suiteConfig, suiteDir };
  writeFileSync(join(suiteDir, 'config.json'), JSON.stringify(config, null, 2));
  log(`bundled the in-host suite (${files.length} files) in ${since(t)}`);
  const install = ensureCodeServer();
  let server: RunningCodeServer | undefined;
  try {
    const t1 = Date.now();
    server = await startCodeServer({
      install,
      base: join(base, 'cs-inhost'),
      env: process.env.LL_VSCODE_GREP ? { LL_VSCODE_GREP: process.env.LL_VSCODE_GREP } : {},
      logFile: artifact('code-server-inhost.log'),
    });
    log(`code-server ${install.version} up at ${server.url} in ${since(t1)}`);
    // The suite takes ~150 s on a quiet machine (70 tests); a fresh clone's first run was seen past
    // 180 s, and results.json is written only at the end, so the cap leaves room for a slow machine.
    const timeoutMs = Number(process.env.LL_VSCODE_TIMEOUT ?? 480) * 1000;
    const outcome = await runInHostSuite({
      browser,
      serverUrl: server.url,
      port: server.port,
      folder: suiteConfig.workspace.folder,
      extensionPath: root,
      suitePath: suiteDir,
      timeoutMs,
      screenshot: artifact('inhost-final.png'),
    });
    log(`in-host suite ended with code ${outcome.code}${outcome.reason ? ` (${outcome.reason})` : ''} after ${outcome.seconds.toFixed(1)} s`);
    const resultsFile = join(suiteDir, 'results.json');
    if (!existsSync(resultsFile)) {
      log('no results.json from the in-host suite: the extension host never ran it (see test-results/vscode/code-server-inhost.log)');
      return { passed: 0, failed: 1 };
    }
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as Counts & { failures: { title: string; error: string }[] };
    cpSync(resultsFile, artifact('inhost-results.json'));
    for (const f of results.failures) log(`FAILED in host: ${f.title}: ${f.error.split('\n')[0]}`);
    // A suite whose run() resolved but reported failures, or an exit code that disagrees, fails.
    const failed = results.failed + (outcome.code !== 0 && results.failed === 0 ? 1 : 0);
    return { passed: results.passed, failed };
  } finally {
    await server?.stop();
  }
}

async function uiPart(browser: Browser, base: string): Promise<Counts> {
  const steps: StepResult[] = await runUiTest({ browser, base, root, artifacts, install: ensureCodeServer() });
  let passed = 0;
  let failed = 0;
  for (const s of steps) {
    const mark = s.status === 'passed' ? 'ok  ' : s.status === 'skipped' ? 'skip' : 'FAIL';
    log(`ui ${mark} ${s.name}${s.detail ? ` — ${s.detail}` : ''} (${s.seconds.toFixed(1)} s)`);
    if (s.status === 'passed') passed++;
    if (s.status === 'failed') failed++;
  }
  return { passed, failed };
}

async function main(): Promise<number> {
  const started = Date.now();
  const counts: Counts = { passed: 0, failed: 0 };
  const writeCounts = () => {
    if (process.env.LL_COUNTS_FILE) writeFileSync(process.env.LL_COUNTS_FILE, JSON.stringify(counts));
  };
  const realTmp = tmpdir();
  const base = mkdtempSync(join(realTmp, 'll-vscode-'));
  // Everything this process and its children write to a temp dir lands in `base`.
  mkdirSync(join(base, 'tmp'), { recursive: true });
  process.env.TMPDIR = join(base, 'tmp');
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  let browser: Browser | undefined;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    killAllGroups();
    if (!process.env.LL_VSCODE_KEEP) rmSync(base, { recursive: true, force: true });
    else log(`kept ${base}`);
  };
  try {
    if (!existsSync(CHROMIUM)) {
      log(`${CHROMIUM} is missing: run \`bash scripts/ci-deps.sh\` (as root) to install chromium and libkrb5-dev`);
      counts.failed++;
      return 1;
    }
    const t0 = Date.now();
    const install = ensureCodeServer();
    log(`code-server ${install.version} ready in ${since(t0)} (cached in .cache/code-server)`);
    try {
      buildIfStale();
    } catch (e) {
      // Counted, but the stage goes on: the tests then show what the stale or missing dist/ does.
      counts.failed++;
      log(`${e instanceof Error ? e.message : String(e)}; testing the dist/ that exists`);
    }
    const workspace = prepareWorkspace(join(base, 'workspace'), join(root, 'test', 'fixtures'));
    log(`workspace ${workspace.folder}: ${workspace.onnx.length} .onnx and ${workspace.tfjs.length} model.json fixtures + generated TF.js models`);
    browser = await launchBrowser(join(base, 'browser-home'));
    const part = process.env.LL_VSCODE_PART;
    if (!part || part === 'inhost') {
      const t = Date.now();
      const c = await inHostPart(browser, base, { repoRoot: root, workspace, cli: join(root, 'dist', 'cli.js') });
      counts.passed += c.passed;
      counts.failed += c.failed;
      log(`in-host: ${c.passed} passed, ${c.failed} failed in ${since(t)}`);
    }
    if (!part || part === 'ui') {
      const t = Date.now();
      const c = await uiPart(browser, base);
      counts.passed += c.passed;
      counts.failed += c.failed;
      log(`ui: ${c.passed} passed, ${c.failed} failed in ${since(t)}`);
    }
  } catch (e) {
    counts.failed++;
    log('harness error:', e instanceof Error ? (e.stack ?? e.message) : e);
  } finally {
    await cleanup();
    writeCounts();
    log(`vscode stage: ${counts.passed} passed, ${counts.failed} failed in ${since(started)}; artifacts in test-results/vscode/`);
  }
  return counts.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    killAllGroups();
    process.exit(1);
  },
);
