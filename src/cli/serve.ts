/**
 * `h2g serve`: the gRPC sidecar. Prints exactly one line, `READY port=<n>`, on stdout once
 * listening (a launcher starts it with --port 0 and reads the port); everything else is pino JSON on
 * stderr. SIGTERM/SIGINT drain gracefully and exit 0.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { type Logger, createLogger } from '../log';
import { type Precision, PRECISIONS } from '../models/manifest';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../models/model-set';
import { readTokenFile } from '../server/auth';
import { ConfigError, DEFAULT_CONFIG, type ServerConfig, type TlsFiles } from '../server/config';
import { H2gServer } from '../server/server';
import { UsageError } from './errors';
import { addLimitOptions, limitsFromFlags } from './limit-options';

interface ServeFlags {
  host: string;
  port: string;
  models?: string;
  provider: ExecutionProvider;
  threads: string;
  precision?: Precision;
  maxConcurrent: string;
  maxQueue: string;
  allowRoot: string[];
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  graceSeconds: string;
  regionTimeoutSeconds: string;
  maxMessageMb: string;
}

function num(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got '${value}'`);
  return n;
}

async function readTls(flags: ServeFlags): Promise<TlsFiles | null> {
  if (!flags.tlsCert && !flags.tlsKey) return null;
  if (!flags.tlsCert || !flags.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
  const read = (f: string): Promise<Buffer> =>
    readFile(f).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${f}: ${err.code ?? err.message}`);
    });
  return { cert: await read(flags.tlsCert), key: await read(flags.tlsKey) };
}

async function toConfig(flags: ServeFlags, log: Logger): Promise<ServerConfig> {
  return {
    host: flags.host,
    port: num('--port', flags.port),
    modelsDir: flags.models ?? null,
    provider: flags.provider,
    threads: num('--threads', flags.threads),
    precision: flags.precision ?? null,
    maxConcurrent: num('--max-concurrent', flags.maxConcurrent),
    maxQueue: num('--max-queue', flags.maxQueue),
    allowRoots: flags.allowRoot,
    token: flags.tokenFile
      ? await readTokenFile(flags.tokenFile, log).catch((e: Error) => Promise.reject(new UsageError(e.message)))
      : null,
    tls: await readTls(flags),
    graceSeconds: num('--grace-seconds', flags.graceSeconds),
    regionTimeoutSeconds: num('--region-timeout-seconds', flags.regionTimeoutSeconds),
    maxMessageBytes: Math.round(num('--max-message-mb', flags.maxMessageMb) * 1024 * 1024),
    limits: limitsFromFlags(flags as unknown as Record<string, unknown>),
  };
}

async function serve(flags: ServeFlags): Promise<void> {
  const log = createLogger();
  const config = await toConfig(flags, log);
  let server: H2gServer;
  try {
    server = await H2gServer.start(config, log);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  // A stray rejection somewhere must be logged, not take every other client's job down with it.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
  // Listening for the signals before READY is printed: a launcher that stops the sidecar as soon as
  // it reads READY (the writer is often preempted right after the write) must get a graceful stop.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'signal received');
      server.shutdown().then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.stdout.write(`READY port=${server.port}\n`);
  await stopped;
  // Let pino flush, then leave even if a native handle (onnxruntime) would keep the loop alive.
  log.flush();
  setImmediate(() => process.exit(0));
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function serveCommand(): Command {
  const d = DEFAULT_CONFIG;
  const command = new Command('serve')
    .description('run the gRPC segmentation service (prints READY port=<n> on stdout when listening)')
    .option('--host <host>', 'address to listen on; non-loopback needs --token-file, TLS and --allow-root', d.host)
    .option('--port <n>', 'port; 0 = any free port', String(d.port))
    .option(
      '--models <dir-or-name>',
      'default model set (directory or installed name); else $H2G_MODELS, else the installed default',
    )
    .addOption(
      new Option('--provider <name>', 'onnxruntime execution provider')
        .choices(EXECUTION_PROVIDERS)
        .default(d.provider),
    )
    .option(
      '--threads <n>',
      'onnxruntime threads per inference call; 0 = chosen for this machine, shared out between concurrent jobs',
      String(d.threads),
    )
    .addOption(
      new Option(
        '--precision <p>',
        "patch model arithmetic for requests that name none: the chosen set's int8 or float32 sibling (default: the set as it is)",
      ).choices(PRECISIONS),
    )
    .option('--max-concurrent <n>', 'jobs running at once', String(d.maxConcurrent))
    .option('--max-queue <n>', 'jobs waiting; beyond it calls get RESOURCE_EXHAUSTED', String(d.maxQueue))
    .option(
      '--allow-root <dir>',
      'slide paths must lie inside this directory (repeatable); none = any path, loopback only',
      collect,
      [],
    )
    .option('--token-file <file>', 'require "authorization: Bearer <token>" with the token in this file')
    .option('--tls-cert <file>', 'PEM certificate chain (with --tls-key): serve over TLS')
    .option('--tls-key <file>', 'PEM private key')
    .option(
      '--grace-seconds <s>',
      'on SIGTERM, running jobs get this long before being cancelled',
      String(d.graceSeconds),
    )
    .option(
      '--region-timeout-seconds <s>',
      'SegmentPixels: fail a job whose client leaves a region unanswered this long',
      String(d.regionTimeoutSeconds),
    )
    .option('--max-message-mb <n>', 'largest message accepted from a client', String(d.maxMessageBytes / 1024 / 1024));
  return addLimitOptions(command).action(serve);
}
