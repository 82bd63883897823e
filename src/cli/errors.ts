/** How the CLI reports failures: one readable line on stderr, a stack only with --verbose. */
import { CommanderError } from 'commander';

/** Raised for bad command-line input that commander itself cannot see (values out of range...). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function reportAndExit(err: unknown, verbose: boolean): never {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`h2g: error: ${e.message}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  const usage = err instanceof UsageError || (err as { code?: unknown }).code === 'INVALID_OPTION';
  process.exit(usage ? EXIT_USAGE : EXIT_FAILURE);
}
