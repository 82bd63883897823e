/** Runs the real `h2g` CLI (bin/h2g.js over dist/) as a child process. */
import { execFile } from 'node:child_process';
import { H2G_BIN } from './paths';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [H2G_BIN, ...args],
      { env: { ...process.env, H2G_LOG_LEVEL: 'warn', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}
