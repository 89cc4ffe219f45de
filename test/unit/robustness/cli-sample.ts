// A sample of the refused cases through the real command line: exit code 2, nothing on stdout, one
// line on stderr that names the file, no stack trace.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Case, writeFolder } from './harness';
import { root } from './onnx-cases';

export const cli = join(root, 'dist', 'cli.js');

/** Newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/** Builds dist/cli.js when it is missing or older than the sources (npm test builds first anyway). */
export function ensureCli(): void {
  if (existsSync(cli) && statSync(cli).mtimeMs >= newest(join(root, 'src'))) return;
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (build.status !== 0 || !existsSync(cli)) throw new Error(`build failed: ${build.stderr}`);
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function run(args: string[], timeoutMs: number): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

/** `count` cases spread evenly over `cases`. */
export function spread<T>(cases: T[], count: number): T[] {
  if (cases.length <= count) return cases;
  return Array.from({ length: count }, (_, i) => cases[Math.floor((i * cases.length) / count)]);
}

/** Runs each case through dist/cli.js, two at a time; returns the failures. */
export async function runCli(cases: Case[], timeoutMs = 30_000): Promise<string[]> {
  const failures: string[] = [];
  const queue = [...cases];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const made = await c.make();
      const path = 'path' in made ? made.path : writeFolder(made, `cli-${c.name}`);
      const args = [path];
      if (c.options?.inputShape) args.push('--input-shape', c.options.inputShape.join(','));
      if (c.options?.maxBytes !== undefined) args.push('--max-bytes', String(c.options.maxBytes));
      const result = await run(args, timeoutMs);
      const lines = result.stderr.split('\n').filter((l) => l.length > 0);
      const why: string[] = [];
      if (result.status !== 2) why.push(`exit ${result.status} (expected 2)`);
      if (result.stdout !== '') why.push(`stdout not empty: ${JSON.stringify(result.stdout.slice(0, 200))}`);
      if (lines.length !== 1) why.push(`${lines.length} lines on stderr: ${JSON.stringify(result.stderr.slice(0, 400))}`);
      else {
        if (!lines[0].startsWith(`lipschitz-lens: ${path}`)) why.push(`stderr does not name the file: ${lines[0].slice(0, 300)}`);
        if (/\n\s+at |\bat .*:\d+:\d+/.test(result.stderr)) why.push(`stack trace on stderr: ${result.stderr.slice(0, 300)}`);
        if (/internal error/.test(lines[0])) why.push(`internal error: ${lines[0].slice(0, 300)}`);
      }
      if (why.length) failures.push(`${c.name} (${args.join(' ')}): ${why.join('; ')}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return failures;
}
