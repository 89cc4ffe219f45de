// What the CLI says while nothing finishes. Without a terminal a progress line is printed only when
// a layer ends, so a run whose remaining layers each take minutes looked dead in a CI log. The
// heartbeat names the layers being solved and how long each has run (against the cost model's
// expectation), at a fixed interval whenever no other progress line was printed in between.

import { formatSeconds } from '../engine/large-input/run-estimate';

/** Default interval of heartbeat lines (LIPSCHITZ_LENS_HEARTBEAT_MS overrides it, for tests). */
export const HEARTBEAT_INTERVAL_MS = 30_000;

/** The interval from the environment: a positive number of milliseconds, else the default. */
export function heartbeatInterval(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.LIPSCHITZ_LENS_HEARTBEAT_MS);
  return Number.isFinite(value) && value > 0 ? value : HEARTBEAT_INTERVAL_MS;
}

/**
 * Whether to print the expected duration before the run: always on a terminal (or when progress is
 * forced), and in a pipe or a CI log once the run is expected to last long enough to matter there;
 * never with --quiet.
 */
export function announcesExpectedDuration(options: { quiet: boolean; terminal: boolean; expectedSeconds: number }): boolean {
  return !options.quiet && (options.terminal || options.expectedSeconds >= ANNOUNCE_FROM_SECONDS);
}

/** Runs expected to be shorter than this stay silent before they start in a pipe. */
export const ANNOUNCE_FROM_SECONDS = 10;

/** The layers being solved right now, with when each began. */
export class RunningLayers {
  private readonly started = new Map<number, number>();

  constructor(
    private readonly names: (index: number) => string,
    private readonly expectedSeconds: (index: number) => number,
  ) {}

  start(index: number, now: number): void {
    this.started.set(index, now);
  }

  finish(index: number): void {
    this.started.delete(index);
  }

  get size(): number {
    return this.started.size;
  }

  /**
   * "[12/1050] 6 min 2 s: running /a/conv (5 min 40 s; expected ~1 min 56 s), /b/conv (12 s)":
   * longest-running first.
   */
  line(done: number, total: number | undefined, elapsedSeconds: number, now: number): string {
    const running = [...this.started]
      .sort((a, b) => a[1] - b[1])
      .map(([index, since]) => {
        const expected = this.expectedSeconds(index);
        const note = expected > 0 ? `; expected ~${formatSeconds(expected)}` : '';
        return `${this.names(index)} (${formatSeconds((now - since) / 1000)}${note})`;
      });
    const what = running.length > 0 ? `running ${running.join(', ')}` : 'working (no layer is being solved)';
    return `[${done}/${total ?? '?'}] ${formatSeconds(elapsedSeconds)}: ${what}`;
  }
}
