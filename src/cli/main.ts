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
import { partialReport } from './partial-report';
import { formatNumber, formatTable } from './table';

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
  const cancel = () => {
    cancelled = true;
  };
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const progress = !options.quiet && process.stderr.isTTY;
  const started = Date.now();
  let lastProgressLine = started;
  // What a cancelled run can still print.
  let opened: { model: IrModel; backend: string } | undefined;
  const finished = new Map<number, LayerResult>();
  // The cost model's expected seconds per layer, for the expected duration and a countdown.
  let expected: number[] = [];
  let expectedTotal = 0;
  let expectedDone = 0;
  try {
    const report = await runSession(
      nodeFileAccess(resolve(options.model)),
      options.settings,
      {
        shouldStop: () => cancelled,
        onModel: (model, planned, backend) => {
          opened = { model, backend: backend.name };
          expected = expectedLayerSeconds(model, options.settings.tol);
          expectedTotal = expected.reduce((sum, value) => sum + value, 0);
          if (!options.quiet && (progress || process.env.LIPSCHITZ_LENS_PROGRESS)) {
            err(`${model.path}: ${planned.length} layers, ${model.format}, backend ${backend.name}; expected ~${formatSeconds(expectedTotal)} (cost model, one quiet core)\n`);
          }
        },
        onLayer: (index, layer, done, total) => {
          finished.set(index, layer);
          expectedDone += expected[index] ?? 0;
          if (progress) {
            const left = remainingSeconds(expectedTotal, expectedDone, (Date.now() - started) / 1000);
            const line = `[${done}/${total}] ${layer.name} σ=${formatNumber(layer.sigma)} (${((Date.now() - started) / 1000).toFixed(1)} s, ~${formatSeconds(left)} left)`;
            err(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
          } else if (!options.quiet && (process.env.LIPSCHITZ_LENS_PROGRESS || Date.now() - lastProgressLine >= PROGRESS_INTERVAL_MS)) {
            // Not a terminal (CI logs, pipes): a plain line now and then on long runs.
            lastProgressLine = Date.now();
            err(`[${done}/${total}] ${layer.name} σ=${formatNumber(layer.sigma)} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
          }
        },
      },
      options.maxBytes,
      options.samples ? { samples: (elements) => readSamples(resolve(options.samples as string), elements) } : {},
    );
    if (progress) err('\r\x1b[2K');
    out(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\n`);
    const failures = [...checkThresholds(report, options), ...measuredGate(report, options.failAboveMeasured)];
    for (const failure of failures) err(`lipschitz-lens: ${options.model}: ${failure}\n`);
    return failures.length > 0 ? EXIT.threshold : EXIT.ok;
  } catch (error) {
    if (progress) err('\r\x1b[2K');
    if (error instanceof ModelError) {
      err(`lipschitz-lens: ${error.message}\n`);
      return EXIT.badInput;
    }
    if (error instanceof CancelledError) {
      const total = opened?.model.nodes.length;
      if (opened) {
        const partial = partialReport(opened.model, finished, (Date.now() - started) / 1000, options.settings, opened.backend);
        out(options.json ? `${JSON.stringify(partial, null, 2)}\n` : `${formatTable(partial)}\n`);
      }
      err(`lipschitz-lens: ${options.model}: cancelled${total === undefined ? ' before the model was read' : ` with ${finished.size} of ${total} layers done: the report is partial and has no network bound`}\n`);
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
