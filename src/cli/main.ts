// `lipschitz-lens MODEL [options]`: the command-line face over the same core as the extension.

import { resolve } from 'node:path';
import { ModelError } from '../model/errors';
import { CancelledError } from '../engine/operator';
import { nodeFileAccess } from '../host/node-files';
import { runSession } from '../host/session';
import { USAGE, UsageError, parseArgs } from './args';
import { describeBound, formatNumber, formatTable } from './table';

declare const LIPSCHITZ_LENS_VERSION: string | undefined;

/** Without a terminal, long runs print a progress line at most this often. */
const PROGRESS_INTERVAL_MS = 10_000;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`lipschitz-lens: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${typeof LIPSCHITZ_LENS_VERSION === 'string' ? LIPSCHITZ_LENS_VERSION : 'dev'}\n`);
    return 0;
  }
  const { options } = parsed;
  let cancelled = false;
  process.once('SIGINT', () => {
    cancelled = true;
  });
  const progress = !options.quiet && process.stderr.isTTY;
  const started = Date.now();
  let lastProgressLine = started;
  try {
    const report = await runSession(
      nodeFileAccess(resolve(options.model)),
      options.settings,
      {
        shouldStop: () => cancelled,
        onModel: (model, planned, backend) => {
          if (!options.quiet && (progress || process.env.LIPSCHITZ_LENS_PROGRESS)) {
            process.stderr.write(`${model.path}: ${planned.length} layers, ${model.format}, backend ${backend.name}\n`);
          }
        },
        onLayer: (_index, layer, done, total) => {
          if (progress) {
            const line = `[${done}/${total}] ${layer.name} σ=${formatNumber(layer.sigma)} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
            process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
          } else if (!options.quiet && (process.env.LIPSCHITZ_LENS_PROGRESS || Date.now() - lastProgressLine >= PROGRESS_INTERVAL_MS)) {
            // Not a terminal (CI logs, pipes): a plain line now and then on long runs.
            lastProgressLine = Date.now();
            process.stderr.write(`[${done}/${total}] ${layer.name} σ=${formatNumber(layer.sigma)} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
          }
        },
      },
      options.maxBytes,
    );
    if (progress) process.stderr.write('\r\x1b[2K');
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\n`);
    if (options.failAbove !== undefined) {
      const bound = report.bounds.product;
      if (bound === null) {
        process.stderr.write(`lipschitz-lens: ${options.model}: the network bound cannot be checked against ${options.failAbove}: ${describeBound(report)}\n`);
        return 1;
      }
      if (bound > options.failAbove) {
        process.stderr.write(`lipschitz-lens: ${options.model}: network bound ${formatNumber(bound)} exceeds --fail-above ${options.failAbove}\n`);
        return 1;
      }
    }
    return 0;
  } catch (error) {
    if (progress) process.stderr.write('\r\x1b[2K');
    if (error instanceof ModelError) {
      process.stderr.write(`lipschitz-lens: ${error.message}\n`);
      return 2;
    }
    if (error instanceof CancelledError) {
      process.stderr.write('lipschitz-lens: cancelled\n');
      return 130;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(`lipschitz-lens: ${options.model}: internal error: ${message}\n`);
    if (process.env.LIPSCHITZ_LENS_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 3;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`lipschitz-lens: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(3);
  },
);
