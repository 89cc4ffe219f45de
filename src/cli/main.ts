// `lipschitz-lens MODEL [options]`: the command-line face over the same core as the extension.
// Every write goes through ./output so that the process never exits before stdout and stderr are
// written out (a report piped to another program arrives whole on every exit path).

import { resolve } from 'node:path';
import { ModelError } from '../model/errors';
import type { IrModel } from '../model/ir';
import type { LayerResult, Report } from '../protocol/report';
import { CancelledError } from '../engine/operator';
import { nodeFileAccess } from '../host/node-files';
import { runSession } from '../host/session';
import { expectedLayerSeconds, formatSeconds, remainingSeconds } from '../engine/large-input/run-estimate';
import { readSamples } from '../host/samples';
import { USAGE, UsageError, parseArgs } from './args';
import { checkThresholds } from './gate';
import { err, exitWhenFlushed, out } from './output';
import { partialReport } from '../host/partial-report';
import { formatNumber, formatTable } from './table';
import { WorkerRunFailure, engineWorkerScript, runInWorker } from './engine-worker';
import { RunningLayers, announcesExpectedDuration, heartbeatInterval } from './heartbeat';

declare const LIPSCHITZ_LENS_VERSION: string | undefined;

/** Without a terminal, long runs print a progress line at most this often. */
const PROGRESS_INTERVAL_MS = 10_000;

/** Exit codes (README, `--help`). */
const EXIT = { ok: 0, threshold: 1, badInput: 2, internal: 3, cancelled: 130 } as const;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`lipschitz-lens: ${error.message}\n${USAGE}\n`);
      return EXIT.badInput;
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    out(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (parsed.kind === 'version') {
    out(`${typeof LIPSCHITZ_LENS_VERSION === 'string' ? LIPSCHITZ_LENS_VERSION : 'dev'}\n`);
    return EXIT.ok;
  }
  const { options } = parsed;
  // The first SIGINT or SIGTERM stops the run at the next solver step; the layers done so far are
  // printed. A second one gets the default action (ends at once).
  let cancelled = false;
  let stopWorker: (() => void) | undefined;
  const cancel = () => {
    cancelled = true;
    stopWorker?.();
  };
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const progress = !options.quiet && process.stderr.isTTY;
  const started = Date.now();
  let lastProgressLine = started;
  // The cost model's expected seconds per layer, for the expected duration and a countdown.
  let expected: number[] = [];
  let expectedTotal = 0;
  let expectedDone = 0;
  let layerCount: number | undefined;
  let layersDone = 0;
  let layerNames: string[] = [];
  const running = new RunningLayers((index) => layerNames[index] ?? `layer ${index}`, (index) => expected[index] ?? 0);
  // Without a terminal, a line every heartbeatInterval() while no layer finishes (heartbeat.ts).
  const heartbeat = !options.quiet && !progress
    ? setInterval(() => {
        if (Date.now() - lastProgressLine < heartbeatInterval()) return;
        lastProgressLine = Date.now();
        err(`${running.line(layersDone, layerCount, (Date.now() - started) / 1000, Date.now())}\n`);
      }, Math.min(heartbeatInterval(), 5_000))
    : undefined;
  heartbeat?.unref();
  const onLayerStart = (index: number) => running.start(index, Date.now());
  const onModel = (path: string, format: string, layers: number, backend: string, expectedSeconds: number[], names: string[]) => {
    layerCount = layers;
    layerNames = names;
    expected = expectedSeconds;
    expectedTotal = expected.reduce((sum, value) => sum + value, 0);
    if (announcesExpectedDuration({ quiet: options.quiet, terminal: Boolean(progress || process.env.LIPSCHITZ_LENS_PROGRESS), expectedSeconds: expectedTotal })) {
      err(`${path}: ${layers} layers, ${format}, backend ${backend}; expected ~${formatSeconds(expectedTotal)} (cost model, one quiet core)\n`);
    }
  };
  const onLayer = (index: number, layer: LayerResult, done: number, total: number) => {
    layersDone = done;
    running.finish(index);
    expectedDone += expected[index] ?? 0;
    if (progress) {
      const left = remainingSeconds(expectedTotal, expectedDone, (Date.now() - started) / 1000);
      const line = `[${done}/${total}] ${layer.name} σ=${formatNumber(layer.sigma)} (${((Date.now() - started) / 1000).toFixed(1)} s, ~${formatSeconds(left)} left)`;
      err(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
    } else if (!options.quiet && (process.env.LIPSCHITZ_LENS_PROGRESS || Date.now() - lastProgressLine >= PROGRESS_INTERVAL_MS)) {
      // Not a terminal (CI logs, pipes): a plain line now and then on long runs.
      lastProgressLine = Date.now();
      const left = remainingSeconds(expectedTotal, expectedDone, (Date.now() - started) / 1000);
      err(`[${done}/${total}] ${layer.name} σ=${formatNumber(layer.sigma)} (${((Date.now() - started) / 1000).toFixed(0)} s, ~${formatSeconds(left)} left)\n`);
    }
  };
  const printReport = (report: Report) => out(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\n`);
  const cancelledNote = () =>
    err(`lipschitz-lens: ${options.model}: cancelled${layerCount === undefined ? ' before the model was read' : ` with ${layersDone} of ${layerCount} layers done: the report is partial and has no network bound`}\n`);
  const finish = (report: Report) => {
    clearInterval(heartbeat);
    if (progress) err('\r\x1b[2K');
    printReport(report);
    const failures = [...checkThresholds(report, options), ...measuredGate(report, options.failAboveMeasured)];
    for (const failure of failures) err(`lipschitz-lens: ${options.model}: ${failure}\n`);
    return failures.length > 0 ? EXIT.threshold : EXIT.ok;
  };

  const script = engineWorkerScript();
  if (script) {
    const run = runInWorker(script, resolve(options.model), options.settings, {
      onModel: (message) => onModel(message.model.path, message.model.format, message.layers.length, message.backend, message.layers.map((layer) => layer.expectedSeconds ?? 0), message.layers.map((layer) => layer.name)),
      onLayer,
      onLayerStart,
      onLog: (level, text) => {
        if (process.env.LIPSCHITZ_LENS_DEBUG && level === 'error') err(`${text}\n`);
      },
    }, { ...(options.samples ? { samplesPath: resolve(options.samples) } : {}), ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) });
    stopWorker = run.cancel;
    if (cancelled) run.cancel();
    try {
      return finish(await run.report);
    } catch (error) {
      clearInterval(heartbeat);
      if (progress) err('\r\x1b[2K');
      if (!(error instanceof WorkerRunFailure)) throw error;
      if (error.outcome === 'cancelled') {
        if (error.partial) printReport(error.partial);
        cancelledNote();
        return EXIT.cancelled;
      }
      err(error.outcome === 'bad-input' ? `lipschitz-lens: ${error.message}\n` : `lipschitz-lens: ${options.model}: ${error.message}\n`);
      return error.outcome === 'bad-input' ? EXIT.badInput : EXIT.internal;
    }
  }

  // Unbundled (tests run from the sources): the engine runs in this thread, and a cancel is seen
  // between solver steps only where the engine yields.
  let opened: { model: IrModel; backend: string } | undefined;
  const finished = new Map<number, LayerResult>();
  try {
    const report = await runSession(
      nodeFileAccess(resolve(options.model)),
      options.settings,
      {
        shouldStop: () => cancelled,
        onModel: (model, planned, backend) => {
          opened = { model, backend: backend.name };
          onModel(model.path, model.format, planned.length, backend.name, expectedLayerSeconds(model, options.settings.tol), planned.map((layer) => layer.name));
        },
        onLayerStart,
        onLayer: (index, layer, done, total) => {
          finished.set(index, layer);
          onLayer(index, layer, done, total);
        },
      },
      options.maxBytes,
      options.samples ? { samples: (elements) => readSamples(resolve(options.samples as string), elements) } : {},
    );
    return finish(report);
  } catch (error) {
    clearInterval(heartbeat);
    if (progress) err('\r\x1b[2K');
    if (error instanceof ModelError) {
      err(`lipschitz-lens: ${error.message}\n`);
      return EXIT.badInput;
    }
    if (error instanceof CancelledError) {
      if (opened) printReport(partialReport(opened.model, finished, (Date.now() - started) / 1000, options.settings, opened.backend));
      cancelledNote();
      return EXIT.cancelled;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    err(`lipschitz-lens: ${options.model}: internal error: ${message}\n`);
    if (process.env.LIPSCHITZ_LENS_DEBUG && error instanceof Error) err(`${error.stack}\n`);
    return EXIT.internal;
  }
}

main(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (error: unknown) => {
    err(`lipschitz-lens: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitWhenFlushed(EXIT.internal);
  },
);

/** --fail-above-measured: fails when the MEASURED lower bound exceeds X (docs/bracket.md), or when there is none. */
function measuredGate(report: Report, threshold: number | undefined): string[] {
  if (threshold === undefined) return [];
  const lower = report.bounds.lower;
  if (lower === undefined || lower === null) return [`no measured lower bound to check against --fail-above-measured ${threshold}: ${report.bounds.bracket?.lower.unavailable ?? 'the bracket did not run'}`];
  if (lower > threshold) return [`measured lower bound ${formatNumber(lower)} exceeds --fail-above-measured ${threshold}: the network is at least that sensitive`];
  return [];
}
