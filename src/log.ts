/** One pino logger for the process: JSON lines on stderr, so stdout stays free for results. */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.H2G_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      // Tokens and pixel data must never reach logs, whatever a caller passes in.
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'pixels', '*.pixels'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
