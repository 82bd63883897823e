/** What the models commands share: the streams of one run, and the report after an install. */
import path from 'node:path';
import { DEMO_LABEL, formatFiles, manifestFiles } from '../models/store-format';
import type { InstallResult } from '../models/store-install';

/** Streams and environment of one CLI run; tests pass their own instead of the process's. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

export function reportInstall(io: CliIo, verb: string, r: InstallResult): void {
  const lines = [
    `${verb} model set '${r.name}' in ${r.directory}`,
    `    source:     ${r.manifest.source ?? 'unknown'}`,
    ...formatFiles(manifestFiles(r.manifest)),
    `  checked: sizes, SHA-256 recorded in ${path.join(r.directory, 'h2g-models.json')}, and the H2G-Net input/output contract`,
  ];
  if (r.manifest.demo) lines.push(`  ${DEMO_LABEL}`);
  io.stdout.write(`${lines.join('\n')}\n`);
}
