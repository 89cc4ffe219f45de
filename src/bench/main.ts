// `npm run bench`: per-layer time, iterations and error against an exact answer for a ResNet-style
// set of shapes, with PyTorch's power iteration to the same true accuracy as the reference when
// Python with torch and scipy is present. A benchmark, not a test: it prints and writes .bench/.
// Flags: --runs=N --only=NAME --no-power; --resnet50 / --resnet18 [--no-torch] [--cores=N] run the whole-model bench in
// ./resnet50.ts instead; --large the large-input bench in ./large.ts.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ConvSpec, DenseSpec, LinearSpec } from '../model/ir';
import { buildOperator } from '../engine/operators';
import { estimateSpectralNorm } from '../engine/solvers';
import { upperBound } from '../engine/bounds';
import { startBackend } from '../host/start-backend';
import { seededNormal } from './random-layers';
import { benchResnet50 } from './resnet50';
import { benchLarge } from './large';

interface BenchLayer {
  name: string;
  type: 'conv' | 'dense';
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  pad: number;
  groups: number;
  size: number;
}

const conv = (name: string, cin: number, cout: number, kernel: number, stride: number, pad: number, size: number, groups = 1): BenchLayer => ({ name, type: 'conv', cin, cout, kernel, stride, pad, groups, size });
const dense = (name: string, cin: number, cout: number): BenchLayer => ({ name, type: 'dense', cin, cout, kernel: 1, stride: 1, pad: 0, groups: 1, size: 1 });

const LAYERS: BenchLayer[] = [
  conv('3→64 7x7 s2 @224', 3, 64, 7, 2, 3, 224),
  conv('64→64 3x3 @56', 64, 64, 3, 1, 1, 56),
  conv('128→128 3x3 s2 @56', 128, 128, 3, 2, 1, 56),
  conv('256→256 3x3 @14', 256, 256, 3, 1, 1, 14),
  conv('512→512 3x3 @7', 512, 512, 3, 1, 1, 7),
  conv('depthwise 144 3x3 @56', 144, 144, 3, 1, 1, 56, 144),
  dense('dense 4096x25088', 25088, 4096),
  dense('dense 1000x2048', 2048, 1000),
];

const TARGET = 1e-4;

function weightsFor(layer: BenchLayer, index: number): { dims: number[]; data: Float32Array } {
  const dims = layer.type === 'conv' ? [layer.cout, layer.cin / layer.groups, layer.kernel, layer.kernel] : [layer.cin, layer.cout];
  const count = dims.reduce((a, b) => a * b, 1);
  const fanIn = layer.type === 'conv' ? (layer.cin / layer.groups) * layer.kernel * layer.kernel : layer.cin;
  const normal = seededNormal(1000 + index);
  const data = new Float32Array(count);
  const scale = Math.sqrt(2 / fanIn);
  for (let i = 0; i < count; i++) data[i] = normal() * scale;
  return { dims, data };
}

function specFor(layer: BenchLayer, weight: { dims: number[]; data: Float32Array }): { spec: LinearSpec; inputShape: number[] } {
  if (layer.type === 'dense') return { spec: { type: 'dense', weight } satisfies DenseSpec, inputShape: [1, layer.cin] };
  const spec: ConvSpec = {
    type: 'conv',
    channelsLast: false,
    weight,
    strides: [layer.stride, layer.stride],
    dilations: [1, 1],
    padsBegin: [layer.pad, layer.pad],
    padsEnd: [layer.pad, layer.pad],
    group: layer.groups,
  };
  return { spec, inputShape: [1, layer.cin, layer.size, layer.size] };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function stepTimeMs(spec: LinearSpec, inputShape: number[]): number {
  const operator = buildOperator(spec, inputShape);
  try {
    const x = tf.randomNormal(operator.inputShape, 0, 1, 'float32', 7);
    const times: number[] = [];
    for (let i = 0; i < 12; i++) {
      const started = performance.now();
      const y = operator.forward(x);
      const back = operator.adjoint(y);
      back.dataSync();
      times.push(performance.now() - started);
      tf.dispose([y, back]);
    }
    x.dispose();
    return median(times.slice(2));
  } finally {
    operator.dispose();
  }
}

interface Row {
  name: string;
  stepMs: number;
  lanczos: { sigma: number; iterations: number; seconds: number };
  power: { sigma: number; iterations: number; seconds: number };
  upper: { value: number; method: string; seconds: number } | null;
  exact?: number;
  torch?: { iterations: number; seconds: number; step_ms: number; reached: boolean; threads: number };
}


async function main() {
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  const skipPower = process.argv.includes('--no-power');
  const backend = await startBackend();
  const outDir = resolve('.bench');
  mkdirSync(join(outDir, 'weights'), { recursive: true });
  const rows: Row[] = [];
  const manifest: { layers: (BenchLayer & { weightFile: string; weightDims: number[] })[] } = { layers: [] };
  console.error(`backend ${backend.name}${backend.note ? ` (${backend.note})` : ''}; ${cpus().length} × ${cpus()[0]?.model}; ${runs} runs per solve`);

  for (const [index, layer] of LAYERS.entries()) {
    if (only && !layer.name.includes(only)) continue;
    const weight = weightsFor(layer, index);
    const weightFile = join(outDir, 'weights', `layer${index}.bin`);
    writeFileSync(weightFile, Buffer.from(weight.data.buffer, weight.data.byteOffset, weight.data.byteLength));
    manifest.layers.push({ ...layer, weightFile, weightDims: weight.dims });
    const { spec, inputShape } = specFor(layer, weight);
    const solve = (method: 'lanczos' | 'power') => {
      const samples: { sigma: number; iterations: number; seconds: number }[] = [];
      for (let run = 0; run < (method === 'power' ? 1 : runs); run++) {
        const operator = buildOperator(spec, inputShape);
        const started = performance.now();
        const result = estimateSpectralNorm(operator, { tol: TARGET, maxIter: method === 'power' ? 3000 : 500, seed: 0, method });
        samples.push({ sigma: result.sigma, iterations: result.iterations, seconds: (performance.now() - started) / 1000 });
        operator.dispose();
      }
      return { ...samples[0], seconds: median(samples.map((s) => s.seconds)) };
    };
    const stepMs = stepTimeMs(spec, inputShape);
    const lanczos = solve('lanczos');
    const power = skipPower ? { sigma: NaN, iterations: 0, seconds: NaN } : solve('power');
    const boundStarted = performance.now();
    const bound = upperBound(spec, inputShape);
    const upper = bound ? { ...bound, seconds: (performance.now() - boundStarted) / 1000 } : null;
    rows.push({ name: layer.name, stepMs, lanczos, power, upper });
    console.error(`${layer.name}: step ${stepMs.toFixed(1)} ms, lanczos σ=${lanczos.sigma.toFixed(6)} in ${lanczos.iterations} it / ${lanczos.seconds.toFixed(2)} s, power ${power.iterations} it / ${power.seconds.toFixed(2)} s, upper ${upper?.value.toFixed(6) ?? '—'}`);
  }

  const manifestFile = join(outDir, 'manifest.json');
  writeFileSync(manifestFile, JSON.stringify(manifest));
  const python = spawnSync('python3', ['-c', 'import torch, scipy'], { encoding: 'utf8' });
  if (python.status === 0) {
    console.error('reference: PyTorch + SciPy (float64 ARPACK for the exact σ1, PyTorch power iteration to the same true accuracy)');
    const reference = spawnSync('python3', [join(__dirname, '..', 'scripts', 'bench', 'torch_reference.py'), manifestFile, String(TARGET)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    for (const line of reference.stdout.split('\n').filter(Boolean)) {
      const parsed = JSON.parse(line) as { name: string; exact: number; torch_power: NonNullable<Row['torch']>; threads: number };
      const row = rows.find((r) => r.name === parsed.name);
      if (row) {
        row.exact = parsed.exact;
        row.torch = { ...parsed.torch_power, threads: parsed.threads };
      }
    }
  } else {
    console.error('reference: python3 with torch and scipy not found; no exact σ1 or PyTorch timing (apt-get install python3-torch python3-scipy)');
  }

  const fmt = (v: number | undefined, digits = 2) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));
  const err = (sigma: number, exact?: number) => (exact ? (Math.abs(sigma - exact) / exact).toExponential(1) : '—');
  const lines = [
    `| layer | step ms | Lanczos it | Lanczos s | rel. error | power it | power s | upper / exact | PyTorch power it | PyTorch s | PyTorch s ÷ Lanczos s |`,
    `|---|---|---|---|---|---|---|---|---|---|---|`,
    ...rows.map((r) =>
      `| ${r.name} | ${fmt(r.stepMs, 1)} | ${r.lanczos.iterations} | ${fmt(r.lanczos.seconds)} | ${err(r.lanczos.sigma, r.exact)} | ${r.power.iterations || '—'} | ${fmt(r.power.seconds)} | ${r.upper && r.exact ? (r.upper.value / r.exact).toFixed(4) : r.upper ? `${r.upper.value.toFixed(4)} (no exact)` : '—'} | ${r.torch?.iterations ?? '—'} | ${fmt(r.torch?.seconds)} | ${r.torch ? fmt(r.torch.seconds / r.lanczos.seconds) : '—'} |`,
    ),
  ];
  const totalLanczos = rows.reduce((s, r) => s + r.lanczos.seconds, 0);
  const totalTorch = rows.every((r) => r.torch) ? rows.reduce((s, r) => s + (r.torch?.seconds ?? 0), 0) : undefined;
  lines.push('', `total: Lanczos ${fmt(totalLanczos)} s${totalTorch !== undefined ? `, PyTorch power ${fmt(totalTorch)} s, ratio engine/PyTorch ${fmt(totalLanczos / totalTorch)}` : ''}`);
  console.log(lines.join('\n'));
  writeFileSync(join(outDir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ backend: backend.name, cpu: cpus()[0]?.model, rows }, null, 2));
}

(process.argv.includes('--resnet50') ? benchResnet50(process.argv) : process.argv.includes('--resnet18') ? benchResnet50(process.argv, 'resnet18') : process.argv.includes('--large') ? benchLarge() : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
