// The one build script: bundles the extension, the worker, the CLI, the benchmark and the webview
// with esbuild, and copies the tfjs wasm binaries and the media next to them.
// Usage: node scripts/build.mjs [--production] [--watch]   (--production: minified, no source
// maps; what `vscode:prepublish` runs before packaging)
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const outdir = join(root, 'dist');
mkdirSync(outdir, { recursive: true });

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // VS Code provides 'vscode' to the extension at run time; everything else is bundled, except
  // onnxruntime-node (native binaries; optional, resolved from node_modules when present:
  // src/engine/native/onnxruntime.ts).
  external: ['vscode', 'onnxruntime-node', 'onnxruntime-node/*'],
  // tfjs-backend-cpu registers its kernels on import but its package.json claims no side effects.
  ignoreAnnotations: true,
  define: {
    'process.env.NODE_ENV': production ? '"production"' : '"development"',
    LIPSCHITZ_LENS_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version),
  },
};

const entries = [
  { in: 'src/extension/main.ts', out: 'extension.js', ...node },
  { in: 'src/worker/main.ts', out: 'worker.js', ...node },
  { in: 'src/worker/compute.ts', out: 'compute.js', ...node },
  { in: 'src/cli/main.ts', out: 'cli.js', ...node, banner: { js: '#!/usr/bin/env node' } },
  { in: 'src/bench/main.ts', out: 'bench.js', ...node },
  {
    in: 'webview-ui/main.ts',
    out: 'webview.js',
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
  },
];

// A missing entry point is a broken checkout or a rename this list missed: fail, never ship without it.
const missing = entries.filter((entry) => !existsSync(join(root, entry.in)));
if (missing.length > 0) {
  console.error(`build: missing entry point${missing.length > 1 ? 's' : ''} ${missing.map((entry) => entry.in).join(', ')} (see the entries in scripts/build.mjs)`);
  process.exit(1);
}

const contexts = [];
for (const { in: input, out, ...options } of entries) {
  const config = { ...options, entryPoints: [join(root, input)], outfile: join(outdir, out) };
  if (watch) {
    const ctx = await esbuild.context(config);
    await ctx.watch();
    contexts.push(ctx);
  } else {
    await esbuild.build(config);
  }
}

const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
for (const file of readdirSync(wasmDir)) {
  if (file.endsWith('.wasm')) cpSync(join(wasmDir, file), join(outdir, file));
}
if (existsSync(join(root, 'webview-ui/style.css'))) cpSync(join(root, 'webview-ui/style.css'), join(outdir, 'webview.css'));
if (existsSync(join(outdir, 'cli.js'))) chmodSync(join(outdir, 'cli.js'), 0o755);
if (!watch) console.log(`built ${contexts.length ? 'watching' : 'dist/'} (${production ? 'production' : 'development'})`);
