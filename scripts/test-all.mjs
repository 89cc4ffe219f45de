// `npm test`: type check, lint, build, then every test stage; ends with one "N passed, N failed" line.
// Usage: node scripts/test-all.mjs [stage ...]   (stages: typecheck lint build unit unit-tfjs cli webview vscode)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function testFiles(dir) {
  const found = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.test.ts')) found.push(full);
    }
  };
  walk(join(root, dir));
  return found.sort();
}

/** Runs node's test runner on the .test.ts files under `dir`; counts come from a TAP copy. */
function nodeTests(dir, extraEnv = {}, concurrency = 1) {
  return () => {
    const files = (Array.isArray(dir) ? dir : [dir]).flatMap(testFiles);
    // A stage with nothing to run is a broken checkout or a moved folder, never a pass.
    if (files.length === 0) return { passed: 0, failed: 1, note: `no test files under ${dir}` };
    const scratch = mkdtempSync(join(tmpdir(), 'll-tap-'));
    const tap = join(scratch, 'report.tap');
    const result = spawnSync(
      process.execPath,
      [
        '--import', 'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=tap', `--test-reporter-destination=${tap}`,
        ...files.map((f) => relative(root, f)),
      ],
      { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } },
    );
    const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
    rmSync(scratch, { recursive: true, force: true });
    const count = (key) => Number([...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
    // node's runner lists a file that registered no test as one passing test named by its path:
    // such a file ran nothing, so it counts as a failure, not a pass.
    const empty = [...text.matchAll(/^ok \d+ - (.+\.test\.ts)$/gm)].map((match) => relative(root, match[1]));
    const passed = count('pass') - empty.length;
    const failed = count('fail') + count('cancelled') + empty.length;
    if (passed + failed === 0) return { passed: 0, failed: 1, note: `no test ran (exit status ${result.status})` };
    const note = empty.length ? `no test in ${empty.join(', ')}` : undefined;
    return { passed, failed: failed || (result.status !== 0 ? Math.max(1, failed) : 0), ...(note ? { note } : {}) };
  };
}

/** A plain command: one check that passes or fails. */
function command(cmd, args) {
  return () => {
    const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
    return result.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
  };
}

/** A script that writes {"passed":N,"failed":N} to $LL_COUNTS_FILE. */
function countedScript(script) {
  return () => {
    if (!existsSync(join(root, script))) return { passed: 0, failed: 1, note: `${script} missing` };
    const scratch = mkdtempSync(join(tmpdir(), 'll-counts-'));
    const countsFile = join(scratch, 'counts.json');
    const result = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, LL_COUNTS_FILE: countsFile },
    });
    let counts = { passed: 0, failed: 0 };
    if (existsSync(countsFile)) counts = JSON.parse(readFileSync(countsFile, 'utf8'));
    rmSync(scratch, { recursive: true, force: true });
    if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
    if (counts.passed + counts.failed === 0) return { passed: 0, failed: 1, note: 'no test ran' };
    return counts;
  };
}

const stages = {
  typecheck: command(bin('tsc'), ['--noEmit', '-p', '.']),
  lint: command(bin('eslint'), ['.']),
  build: command(process.execPath, ['scripts/build.mjs']),
  // Unit test files are independent and mostly single-threaded: two at a time use a 2-core machine.
  unit: nodeTests('test/unit', {}, Math.min(2, availableParallelism())),
  // The products and the bounds' matMuls run on onnxruntime-node when it loads (as in `unit`); the
  // packaged extension has no node_modules and runs them on tfjs: the same tests, on that path.
  'unit-tfjs': nodeTests(['test/unit/engine/operators', 'test/unit/engine/bounds', 'test/unit/engine/solvers'], { LIPSCHITZ_LENS_PRODUCTS: 'tfjs' }, Math.min(2, availableParallelism())),
  cli: nodeTests('test/cli'),
  webview: nodeTests('test/webview'),
  vscode: countedScript('test/vscode/run.ts'),
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(stages);
let passed = 0;
let failed = 0;
const summary = [];
for (const name of wanted) {
  const stage = stages[name];
  if (!stage) {
    console.error(`unknown stage ${name}; stages: ${Object.keys(stages).join(' ')}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = stage();
  passed += result.passed;
  failed += result.failed;
  summary.push(`${name}: ${result.passed} passed, ${result.failed} failed${result.note ? ` (${result.note})` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
console.log('\n' + summary.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
