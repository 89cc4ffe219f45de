// The CLI's writes to stdout and stderr, and its exit, such that nothing written is ever cut off.
// A pipe takes 64 KiB at once; libuv queues the rest and writes it as the reader drains the pipe,
// and process.exit() drops that queue (a `--json | jq` got exactly 65,536 bytes). So every write
// is tracked, and the process exits only once the last write of each stream has called back.

type Stream = NodeJS.WriteStream;

const lastWrite = new Map<Stream, Promise<void>>();
const watched = new Set<Stream>();
/** Streams whose reader went away (EPIPE): further writes are dropped, not errors. */
const closed = new Set<Stream>();

function watchForClosedReader(stream: Stream): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // The reader closed early (`| head`): there is no one left to write for. Anything else is a
    // real failure of the stream, and the exit code already says how the run went.
    closed.add(stream);
    if (error.code !== 'EPIPE' && stream !== process.stderr) process.stderr.write(`lipschitz-lens: cannot write the output: ${error.message}\n`);
  });
}

function write(stream: Stream, text: string): void {
  watchForClosedReader(stream);
  if (closed.has(stream) || text.length === 0) return;
  const done = new Promise<void>((resolve) => {
    // The callback runs once the text has reached the OS, or with the error that stopped it.
    stream.write(text, () => resolve());
  });
  lastWrite.set(stream, done);
}

/** Writes to stdout (the report). */
export function out(text: string): void {
  write(process.stdout, text);
}

/** Writes to stderr (progress, errors, gate failures). */
export function err(text: string): void {
  write(process.stderr, text);
}

/** Resolves once every write so far has reached the OS (callbacks run in write order). */
export async function flushed(): Promise<void> {
  await Promise.all(lastWrite.values());
}

/**
 * Ends the process with `code` once stdout and stderr are written out. The exit code is set first,
 * so a process that ends on its own while waiting ends with it too; the explicit exit afterwards
 * stops whatever else might hold the event loop open (worker threads, the wasm runtime).
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  process.exitCode = code;
  await flushed();
  process.exit(code);
}
