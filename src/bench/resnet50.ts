// `npm run bench -- --resnet50` (or `--resnet18`): the whole ResNet at 224x224 through the CLI's path (runSession,
// default settings), against float64 ARPACK σ1 per layer and PyTorch power iteration stopped at the
// same TRUE relative error, both from scripts/bench/resnet50.py (which also exports the ONNX file;
// its exact values are cached in .bench/resnet50.reference.json, so reruns only time PyTorch).
// Records total wall time, per-layer time and iterations, relative error of every layer, peak RSS,
// and the time to the first linear-layer result; prints a summary and engine / PyTorch.
// Cores: --cores=N (default 1) gives the engine N compute workers and PyTorch N intra-op threads,
// so the ratio compares like with like; --threads=N / --torch-threads=N override one side, and the
// summary then says the cores differ. --stop=relchange times PyTorch as a script without the exact
// answer runs (stop at a relative change ≤ 1e-6; the ResNet-18 default), --stop=oracle at the true
// error (the ResNet-50 default, the historic comparison).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { LayerResult } from '../protocol/report';
import { DEFAULT_SETTINGS } from '../protocol/report';
import { nodeFileAccess } from '../host/node-files';
import { runSession } from '../host/session';

const TARGET = 1e-4;

interface Reference {
  module: string;
  inputShape: number[];
  weightShape: number[];
  exact: number;
  torch: { iterations: number; seconds: number; reached: boolean; error?: number };
  threads: number;
}

interface Matched {
  name: string;
  module?: string;
  inputShape: number[];
  weightShape: number[];
  sigma: number | null;
  exact?: number;
  relativeError?: number;
  iterations: number;
  seconds: number;
  converged: boolean;
  note?: string;
  torch?: Reference['torch'];
}

const shapeKey = (input: number[], weight: number[]) => `${input.join('x')}|${[...weight].sort((a, b) => a - b).join('x')}`;

/** Debian's python3 carries torch and scipy here; a pyenv python3 first on PATH may not. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function runReference(outDir: string, skipTorch: boolean, torchThreads: string, arch: string, stop: string): { references: Reference[]; onnxBytes?: number; seconds: number } {
  const script = join(__dirname, '..', 'scripts', 'bench', 'resnet50.py');
  const started = performance.now();
  const args = [script, outDir, String(TARGET), `--arch=${arch}`, `--stop=${stop}`, `--torch-threads=${torchThreads}`, ...(skipTorch ? ['--export-only'] : [])];
  const child = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`python3 ${args.join(' ')} failed (exit ${child.status}): is Debian's python3-torch with scipy installed?`);
  const references: Reference[] = [];
  let onnxBytes: number | undefined;
  for (const line of child.stdout.split('\n').filter(Boolean)) {
    const parsed = JSON.parse(line) as Partial<Reference> & { bytes?: number };
    if (parsed.bytes !== undefined) onnxBytes = parsed.bytes;
    else references.push(parsed as Reference);
  }
  return { references, onnxBytes, seconds: (performance.now() - started) / 1000 };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export async function benchResnet50(argv: string[], arch: 'resnet50' | 'resnet18' = 'resnet50'): Promise<void> {
  const outDir = resolve('.bench');
  mkdirSync(outDir, { recursive: true });
  const skipTorch = argv.includes('--no-torch');
  console.error(`${arch} bench: ${cpus().length} × ${cpus()[0]?.model}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);

  // 1. Reference (export + exact σ1 + PyTorch timings). Runs before the engine, never beside it.
  const flag = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  const cores = flag('cores') ?? '1';
  const torchThreads = flag('torch-threads') ?? cores;
  const engineThreads = flag('threads') ?? cores;
  const sameCores = torchThreads === engineThreads;
  const stop = flag('stop') ?? (arch === 'resnet18' ? 'relchange' : 'oracle');
  const reference = runReference(outDir, skipTorch, torchThreads, arch, stop);
  const onnxPath = join(outDir, `${arch}.onnx`);
  if (!existsSync(onnxPath)) throw new Error(`${onnxPath} was not written`);
  const modelBytes = reference.onnxBytes ?? statSync(onnxPath).size;
  console.error(`reference: ${reference.references.length} layers in ${reference.seconds.toFixed(1)} s (torch threads ${reference.references[0]?.threads ?? '—'})`);

  // 2. The engine, as the CLI runs it.
  const rssBefore = process.resourceUsage().maxRSS;
  const started = performance.now();
  let firstResult: number | undefined;
  let firstLinear: number | undefined;
  const order: string[] = [];
  const report = await runSession(nodeFileAccess(onnxPath), { ...DEFAULT_SETTINGS, threads: Number(engineThreads) }, {
    onLayer: (_index, layer) => {
      const now = (performance.now() - started) / 1000;
      firstResult ??= now;
      if (layer.kind === 'linear') {
        firstLinear ??= now;
        order.push(layer.name);
      }
    },
  });
  const wall = (performance.now() - started) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;

  // 3. Match layers: by input shape + weight shape, in order within each shape.
  const queues = new Map<string, Reference[]>();
  for (const ref of reference.references) {
    const key = shapeKey(ref.inputShape, ref.weightShape);
    queues.set(key, [...(queues.get(key) ?? []), ref]);
  }
  const linear = report.layers.filter((layer: LayerResult) => layer.kind === 'linear');
  const rows: Matched[] = linear.map((layer) => {
    const ref = queues.get(shapeKey(layer.inputShape, layer.weightShape ?? []))?.shift();
    const relativeError = ref && layer.sigma !== null ? Math.abs(layer.sigma - ref.exact) / ref.exact : undefined;
    return {
      name: layer.name,
      module: ref?.module,
      inputShape: layer.inputShape,
      weightShape: layer.weightShape ?? [],
      sigma: layer.sigma,
      exact: ref?.exact,
      relativeError,
      iterations: layer.iterations,
      seconds: layer.seconds,
      converged: layer.converged,
      note: layer.note,
      torch: ref?.torch,
    };
  });
  const unmatched = [...queues.values()].flat();
  const nameMismatch = rows.filter((row) => row.module && !row.name.includes(`/${row.module.split('.').slice(-1)[0]}`)).length;

  // 4. Summary.
  const fmt = (v: number | undefined, digits = 2) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));
  const torchTotal = rows.every((row) => row.torch) && rows.length ? rows.reduce((s, row) => s + (row.torch?.seconds ?? 0), 0) : undefined;
  const layerTotal = rows.reduce((s, row) => s + row.seconds, 0);
  const errors = rows.flatMap((row) => (row.relativeError !== undefined ? [row.relativeError] : []));
  const worst = errors.length ? Math.max(...errors) : undefined;
  const within = errors.filter((e) => e <= TARGET).length;
  const lines = [
    '| layer | module | input | weight | σ | exact | rel. error | it | s | PyTorch it | PyTorch s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.module ?? '—'} | ${row.inputShape.join('x')} | ${row.weightShape.join('x')} | ${fmt(row.sigma ?? undefined, 6)} | ${fmt(row.exact, 6)} | ${row.relativeError !== undefined ? row.relativeError.toExponential(1) : '—'} | ${row.iterations} | ${fmt(row.seconds, 3)} | ${row.torch?.iterations ?? '—'} | ${fmt(row.torch?.seconds, 3)} |`,
    ),
    '',
    `engine (runSession, default settings: tol ${DEFAULT_SETTINGS.tol}, ${DEFAULT_SETTINGS.method}, threads ${engineThreads} of ${availableParallelism()} cores): total wall ${fmt(wall)} s (report ${fmt(report.seconds)} s, linear layers ${fmt(layerTotal)} s)`,
    `first result ${fmt(firstResult, 3)} s, first linear-layer result ${fmt(firstLinear, 3)} s after the start`,
    `peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (before the run ${(rssBefore / 1024).toFixed(0)} MiB); model ${(modelBytes / 2 ** 20).toFixed(0)} MiB; goal ≤ model + 1 GiB = ${((modelBytes + 2 ** 30) / 2 ** 20).toFixed(0)} MiB`,
    `accuracy: ${within}/${errors.length} layers within ${TARGET} of the exact σ1, worst ${worst?.toExponential(2) ?? '—'}; median layer error ${errors.length ? median(errors).toExponential(1) : '—'}`,
    torchTotal !== undefined
      ? `PyTorch power iteration ${stop === 'relchange' ? 'to a relative change ≤ 1e-6' : 'to the same true error'}: ${fmt(torchTotal)} s (threads ${reference.references[0]?.threads}${stop === 'relchange' ? `; its worst true error ${Math.max(...rows.map((row) => row.torch?.error ?? 0)).toExponential(1)}` : ''}); ratio engine total / PyTorch = ${fmt(wall / torchTotal, 3)} (linear layers only: ${fmt(layerTotal / torchTotal, 3)}); ${sameCores ? `same cores (${engineThreads} each)` : `cores differ: engine ${engineThreads}, PyTorch ${torchThreads}`}`
      : 'PyTorch: not timed',
    ...(unmatched.length ? [`unmatched reference layers: ${unmatched.map((r) => r.module).join(', ')}`] : []),
    ...(nameMismatch ? [`${nameMismatch} layers matched by shape whose names differ`] : []),
  ];
  console.log(lines.join('\n'));
  const file = join(outDir, `${arch}-results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ cpu: cpus()[0]?.model, cores: cpus().length, load: loadavg(), engineThreads, torchThreads: reference.references[0]?.threads, sameCores, stop, wall, firstResult, firstLinear, peakRss, modelBytes, torchTotal, layerTotal, worst, order, rows }, null, 2),
  );
  console.error(`written ${file}`);
}
