/**
 * How the project's command-line tools end: with one clear line and a
 * non-zero exit on bad arguments or a missing file, never a stack trace.
 * A network failure no tool described itself is named by its cause
 * (./net-errors) rather than as "fetch failed".
 */
import { describeNetworkError, isNetworkError, NetworkError } from './net-errors';

/** A problem the user can fix: printed as one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function runCli(usage: string, main: () => Promise<number> | number): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code),
      (error: unknown) => {
        const e = error as { code?: unknown; message?: unknown } | null;
        const badArguments = error instanceof UsageError || (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'));
        const message =
          !(error instanceof NetworkError) && isNetworkError(error)
            ? describeNetworkError(error)
            : typeof e?.message === 'string'
              ? e.message
              : String(error);
        console.error(`${message}${badArguments ? `\n${usage}` : ''}`);
        process.exit(badArguments ? 2 : 1);
      },
    );
}
