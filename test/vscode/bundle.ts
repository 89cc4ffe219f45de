// Bundles the in-host suite with esbuild (tsx does not exist inside the extension host):
// suite/index.ts (with mocha inside) and each suite/*.test.ts as its own CommonJS file, so
// mocha can load them one by one. `vscode` stays external; the extension host provides it.
import * as esbuild from 'esbuild';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function bundleSuite(suiteSrc: string, outdir: string): Promise<string[]> {
  mkdirSync(outdir, { recursive: true });
  const tests = readdirSync(suiteSrc).filter((f) => f.endsWith('.test.ts')).sort();
  const entryPoints = ['index.ts', ...tests].map((f) => ({ in: join(suiteSrc, f), out: f.replace(/\.ts$/, '') }));
  await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode'],
    nodePaths: [join(root, 'node_modules')],
    logLevel: 'error',
  });
  return tests.map((f) => f.replace(/\.ts$/, '.js'));
}
