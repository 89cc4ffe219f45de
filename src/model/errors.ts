// One error type for everything wrong with a model file: its message is one line that names the
// file and the problem, fit to show a user as it is (CLI exit 2, an error in the editor).

export class ModelError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem.replace(/\s+/g, ' ').trim()}`);
    this.name = 'ModelError';
  }
}

/**
 * The file contradicts itself (a weight's bytes, dtype or shape against its declaration): the model
 * cannot be read at all. Readers report an op they cannot follow on its row, but never this.
 */
export class BrokenFileError extends ModelError {
  constructor(file: string, problem: string) {
    super(file, problem);
    this.name = 'ModelError';
  }
}

/** Throws a ModelError unless `condition` holds. */
export function check(condition: unknown, file: string, problem: string | (() => string)): asserts condition {
  if (!condition) throw new ModelError(file, typeof problem === 'string' ? problem : problem());
}

/** Turns anything thrown while reading `file` into a one-line ModelError. */
export function asModelError(error: unknown, file: string): ModelError {
  if (error instanceof ModelError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ModelError(file, message.split('\n')[0] ?? 'unknown error');
}
