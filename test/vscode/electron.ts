// `test:electron`: the same in-host suite through @vscode/test-electron, for machines that can
// download VS Code (it fetches a VS Code build at run time; CI here cannot, and uses run.ts with
// code-server instead). @vscode/test-electron is deliberately not a dependency:
//   npm install --no-save @vscode/test-electron && node --import tsx test/vscode/electron.ts
// Env: LL_VSCODE_VERSION (default "stable"), LL_VSCODE_GREP (mocha grep).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSuite } from './bundle';
import { prepareWorkspace } from './fixtures';
import type { SuiteConfig } from './suite/config';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface TestElectron {
  runTests(options: {
    version?: string;
    extensionDevelopmentPath: string;
    extensionTestsPath: string;
    launchArgs?: string[];
    extensionTestsEnv?: Record<string, string | undefined>;
  }): Promise<number>;
}

async function loadTestElectron(): Promise<TestElectron | undefined> {
  const name = '@vscode/test-electron';
  try {
    return (await import(name)) as TestElectron;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const testElectron = await loadTestElectron();
  if (!testElectron) {
    console.error(
      '@vscode/test-electron is not installed (on purpose: it downloads VS Code at run time, which CI cannot).\n' +
        'With internet access: npm install --no-save @vscode/test-electron, then run this again.\n' +
        'Without: node scripts/test-all.mjs vscode (the same suite in code-server).',
    );
    return 1;
  }
  if (!existsSync(join(root, 'dist', 'extension.js'))) {
    console.error('dist/extension.js is missing: run `node scripts/build.mjs` first.');
    return 1;
  }
  const base = mkdtempSync(join(tmpdir(), 'll-electron-'));
  try {
    const suiteDir = join(base, 'suite');
    await bundleSuite(join(root, 'test', 'vscode', 'suite'), suiteDir);
    const workspace = prepareWorkspace(join(base, 'workspace'), join(root, 'test', 'fixtures'));
    const config: SuiteConfig = { repoRoot: root, suiteDir, workspace, cli: join(root, 'dist', 'cli.js') };
    writeFileSync(join(suiteDir, 'config.json'), JSON.stringify(config, null, 2));
    const userData = join(base, 'user-data');
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ 'telemetry.telemetryLevel': 'off', 'update.mode': 'none', 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false }));
    const code = await testElectron.runTests({
      version: process.env.LL_VSCODE_VERSION ?? 'stable',
      extensionDevelopmentPath: root,
      extensionTestsPath: suiteDir,
      launchArgs: [workspace.folder, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', join(base, 'extensions')],
      extensionTestsEnv: { LL_VSCODE_GREP: process.env.LL_VSCODE_GREP },
    }).catch((e: unknown) => {
      console.error(e);
      return 1;
    });
    const resultsFile = join(suiteDir, 'results.json');
    if (existsSync(resultsFile)) {
      const r = JSON.parse(readFileSync(resultsFile, 'utf8')) as { passed: number; failed: number };
      console.log(`test:electron: ${r.passed} passed, ${r.failed} failed`);
      if (process.env.LL_COUNTS_FILE) writeFileSync(process.env.LL_COUNTS_FILE, JSON.stringify({ passed: r.passed, failed: r.failed }));
    }
    return code === 0 ? 0 : 1;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
