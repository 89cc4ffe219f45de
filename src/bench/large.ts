// `npm run bench -- --large`: large-input layers through the engine's real per-layer pipeline
// (reduceLinearProblem, then solveLinearProblem, which picks symbol-sup / exact-dense / the
// iterative solver by its cost model). Generated stacks with seeded He-scaled weights:
// - a sweep of one 64→64 3x3 layer from 128² to 1024²;
// - an upscaler-like stack (3→64, 48 × 64→64 3x3, 64→3) at 128² and 256²;
// - a U-Net-like stack at 1024² (encoder and decoder, 10 convs per level and side).
// Prints per-layer time, iterations (cells for symbol-sup), method, interval width, and totals;
// with --arpack, SciPy ARPACK (eigsh on AᵀA with PyTorch conv products, tol = the same relative
// accuracy) on the sweep's layers, when /usr/bin/python3 has torch and scipy.
// Flags: --only=sweep|upscaler|unet --sizes=128,256 --kernel=3 (sweep) --upscaler-sizes=128,256 --unet-levels=N --convs-per-level=N --arpack.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { ConvSpec } from '../model/ir';
import { reduceLinearProblem } from '../engine/operators';
import { solveLinearProblem } from '../engine/solve-layer';
import { planLayer } from '../engine/large-input/solve';
import { startBackend } from '../host/start-backend';
import { heConv } from './random-layers';
import { formatSeconds } from '../protocol/format-number';

interface LargeLayer {
  name: string;
  cin: number;
  cout: number;
  k: number;
  size: number;
}

interface LargeRow extends LargeLayer {
  method: string;
  planned: string;
  expectedSeconds: number;
  seconds: number;
  iterations: number;
  sigma: number;
  upper: number | null;
  lower: number | null;
  arpack?: { seconds: number; products: number; sigma: number };
}

const TOL = 1e-4;

function flag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function sweep(): LargeLayer[] {
  const sizes = (flag('sizes') ?? '128,256,512,1024').split(',').map(Number);
  const k = Number(flag('kernel') ?? 3);
  return sizes.map((size) => ({ name: `64→64 ${k}x${k} @${size}`, cin: 64, cout: 64, k, size }));
}

function upscaler(size: number): LargeLayer[] {
  const layers: LargeLayer[] = [{ name: `up${size} conv_first 3→64`, cin: 3, cout: 64, k: 3, size }];
  for (let i = 0; i < 48; i++) layers.push({ name: `up${size} body${i} 64→64`, cin: 64, cout: 64, k: 3, size });
  layers.push({ name: `up${size} conv_last 64→3`, cin: 64, cout: 3, k: 3, size });
  return layers;
}

function unet(levels: number, perLevel: number): LargeLayer[] {
  const layers: LargeLayer[] = [];
  const widths = [32, 64, 128, 256, 512, 512, 512];
  for (let side = 0; side < 2; side++) {
    for (let l = 0; l < levels; l++) {
      const level = side === 0 ? l : levels - 1 - l;
      const size = 1024 >> level;
      const width = widths[Math.min(level, widths.length - 1)];
      for (let i = 0; i < perLevel; i++) {
        const cin = i === 0 ? (side === 0 ? (level === 0 ? 3 : widths[level - 1]) : 2 * width) : width;
        layers.push({ name: `unet ${side ? 'dec' : 'enc'}${level} c${i} ${cin}→${width} @${size}`, cin, cout: width, k: 3, size });
      }
    }
  }
  return layers;
}

function specOf(layer: LargeLayer, seed: number): ConvSpec {
  const pad = (layer.k - 1) / 2;
  return heConv(layer.cin, layer.cout, layer.k, 1, pad, seed) as ConvSpec;
}

function runLayer(layer: LargeLayer, seed: number): LargeRow {
  const spec = specOf(layer, seed);
  const problem = reduceLinearProblem(spec, [1, layer.cin, layer.size, layer.size]);
  const plan = planLayer(problem.spec, problem.inputShape, TOL);
  const started = performance.now();
  const outcome = solveLinearProblem(problem, { tol: TOL, maxIter: 1000, seed: 0, method: 'lanczos' });
  const seconds = (performance.now() - started) / 1000;
  if ('failure' in outcome) throw new Error(`${layer.name}: ${outcome.failure}`);
  const r = outcome.result;
  return { ...layer, method: r.method, planned: plan.path, expectedSeconds: plan.seconds, seconds, iterations: r.iterations, sigma: r.sigma, upper: r.upper, lower: r.lower ?? null };
}

export async function benchLarge(): Promise<void> {
  const backend = await startBackend();
  const only = flag('only');
  const levels = Number(flag('unet-levels') ?? 6);
  const perLevel = Number(flag('convs-per-level') ?? 10);
  console.error(`backend ${backend.name}; ${cpus().length} × ${cpus()[0]?.model}; load average at start ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  const groups: [string, LargeLayer[]][] = [
    ['sweep', sweep()],
    ['upscaler', (flag('upscaler-sizes') ?? '128,256').split(',').flatMap((size) => upscaler(Number(size)))],
    ['unet', unet(levels, perLevel)],
  ];
  const rows: LargeRow[] = [];
  const totals: string[] = [];
  let seed = 1;
  for (const [group, layers] of groups) {
    if (only && only !== group) continue;
    // The cost model's total first: the U-Net's 512-channel layers at 64² and 32² take the iterative
    // solver (minutes each), so the whole stack runs for about an hour on this machine.
    const expected = layers.reduce((sum, layer, i) => {
      const problem = reduceLinearProblem(specOf(layer, seed + i), [1, layer.cin, layer.size, layer.size]);
      return sum + planLayer(problem.spec, problem.inputShape, TOL).seconds;
    }, 0);
    console.error(`${group}: ${layers.length} convs, expected ~${formatSeconds(expected)} (cost model, one quiet core)`);
    const started = performance.now();
    const subtotals = new Map<string, number>();
    for (const layer of layers) {
      const row = runLayer(layer, seed++);
      rows.push(row);
      const key = group === 'upscaler' ? layer.name.split(' ')[0] : group;
      subtotals.set(key, (subtotals.get(key) ?? 0) + row.seconds);
      const width = row.upper !== null && row.lower !== null ? ((row.upper - row.lower) / row.lower).toExponential(1) : '—';
      console.error(`${row.name}: ${row.method} (planned ${row.planned}, ~${row.expectedSeconds.toFixed(2)} s) ${row.seconds.toFixed(2)} s, ${row.iterations} it, σ ${row.sigma.toFixed(5)}, width ${width}`);
    }
    for (const [key, value] of subtotals) totals.push(`${key}: ${layers.filter((l) => group !== 'upscaler' || l.name.startsWith(key)).length} convs, ${value.toFixed(1)} s`);
    console.error(`${group} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  if (process.argv.includes('--arpack')) arpack(rows.filter((r) => r.name.startsWith('64→64')));
  const lines = [
    `| layer | method | s | it | σ | (upper − lower)/lower | ARPACK s | ARPACK products |`,
    `|---|---|---|---|---|---|---|---|`,
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.method} | ${r.seconds.toFixed(2)} | ${r.iterations} | ${r.sigma.toFixed(5)} | ${r.upper !== null && r.lower !== null ? ((r.upper - r.lower) / r.lower).toExponential(1) : '—'} | ${r.arpack ? r.arpack.seconds.toFixed(1) : '—'} | ${r.arpack?.products ?? '—'} |`,
    ),
    '',
    ...totals,
    `load average at end ${loadavg().map((v) => v.toFixed(1)).join(' ')}`,
  ];
  console.log(lines.join('\n'));
  const outDir = resolve('.bench');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `large-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ rows, totals }, null, 2));
}

/** SciPy ARPACK on the same layers (same seeds, same weights written to .bench/large-weights). */
function arpack(rows: LargeRow[]): void {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch, scipy'], { encoding: 'utf8' }).status !== 0) {
    console.error('ARPACK: /usr/bin/python3 with torch and scipy not found');
    return;
  }
  const dir = resolve('.bench', 'large-weights');
  mkdirSync(dir, { recursive: true });
  const manifest = rows.map((r, i) => {
    const seed = 1 + sweep().findIndex((l) => l.name === r.name);
    const spec = specOf(r, seed);
    const file = join(dir, `layer${i}.bin`);
    writeFileSync(file, Buffer.from(spec.weight.data.buffer, spec.weight.data.byteOffset, spec.weight.data.byteLength));
    return { name: r.name, cin: r.cin, cout: r.cout, k: r.k, size: r.size, file };
  });
  const manifestFile = join(dir, 'manifest.json');
  writeFileSync(manifestFile, JSON.stringify(manifest));
  const out = spawnSync(python, [join(__dirname, '..', 'scripts', 'bench', 'arpack_large.py'), manifestFile, String(TOL)], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.stdout.split('\n').filter(Boolean)) {
    const parsed = JSON.parse(line) as { name: string; seconds: number; products: number; sigma: number };
    const row = rows.find((r) => r.name === parsed.name);
    if (row) row.arpack = { seconds: parsed.seconds, products: parsed.products, sigma: parsed.sigma };
  }
}
