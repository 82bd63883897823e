/**
 * The server's settings and the safety rules on them, checked before anything listens: a server
 * reachable from the network must authenticate callers (token), encrypt (TLS, so the token cannot
 * be sniffed) and restrict the files it will read (--allow-root).
 */
import { isIP } from 'node:net';
import type { Precision } from '../models/manifest';
import { availableParallelism } from 'node:os';
import type { ExecutionProvider } from '../models/model-set';
import { DEFAULT_LIMITS, type Limits } from '../pipeline/limits';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export interface ServerConfig {
  host: string;
  /** 0 = any free port (printed on the READY line). */
  port: number;
  /** Directory of the default model set; null = none configured (jobs then fail FAILED_PRECONDITION). */
  modelsDir: string | null;
  provider: ExecutionProvider;
  /** onnxruntime intra-op threads per inference call; 0 = its default. */
  threads: number;
  /** Precision for requests that name none; null = the chosen set as it is (float32 unless it is int8). */
  precision: Precision | null;
  maxConcurrent: number;
  maxQueue: number;
  /** Slide paths must resolve inside one of these; empty = any path (loopback only). */
  allowRoots: string[];
  token: string | null;
  tls: TlsFiles | null;
  /** On SIGTERM, running jobs get this long to finish before they are cancelled. */
  graceSeconds: number;
  /** A SegmentPixels job fails when the client leaves a region request unanswered this long. */
  regionTimeoutSeconds: number;
  /** Largest message the server accepts (a client's region of pixels is the big one). */
  maxMessageBytes: number;
  /** What one job, request or slide may make the process do (src/pipeline/limits.ts). */
  limits: Limits;
}

export const DEFAULT_CONFIG: Omit<ServerConfig, 'modelsDir' | 'token' | 'tls'> = {
  host: '127.0.0.1',
  port: 0,
  provider: 'cpu',
  threads: 0,
  precision: null,
  // One job at a time with all cores is the fastest per job; more concurrent jobs only pay off with
  // more cores (see effectiveThreads).
  maxConcurrent: 1,
  maxQueue: 16,
  allowRoots: [],
  graceSeconds: 30,
  regionTimeoutSeconds: 120,
  maxMessageBytes: 16 * 1024 * 1024,
  limits: DEFAULT_LIMITS,
};

/**
 * onnxruntime threads per inference call. `--threads 0` means "the machine's cores", shared out
 * between concurrent jobs: two jobs each spinning up a pool of all cores oversubscribe the CPU and
 * are slower together than one after the other (measured on 2 cores).
 */
export function effectiveThreads(config: Pick<ServerConfig, 'threads' | 'maxConcurrent'>, cores: number): number {
  if (config.threads > 0) return config.threads;
  if (config.maxConcurrent <= 1) return 0;
  return Math.max(1, Math.floor(cores / config.maxConcurrent));
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Loopback only by address: a name other than "localhost" may resolve anywhere. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The address grpc-js binds: IPv6 literals need brackets. */
export function bindAddress(host: string, port: number): string {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  return isIP(h) === 6 ? `[${h}]:${port}` : `${h}:${port}`;
}

export function checkConfig(config: ServerConfig): void {
  const intIn = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new ConfigError(`${name} must be an integer in [${min}, ${max}]`);
  };
  intIn('--port', config.port, 0, 65535);
  intIn('--max-concurrent', config.maxConcurrent, 1, 256);
  intIn('--max-queue', config.maxQueue, 0, 10000);
  // More than 4 threads per CPU only oversubscribes the machine (and each thread costs a stack).
  intIn('--threads', config.threads, 0, availableParallelism() * 4);
  if (!(config.graceSeconds >= 0 && config.graceSeconds <= 3600))
    throw new ConfigError('--grace-seconds must be in [0, 3600]');
  if (!(config.regionTimeoutSeconds > 0 && config.regionTimeoutSeconds <= 3600)) {
    throw new ConfigError('--region-timeout-seconds must be in (0, 3600]');
  }
  if (!(config.maxMessageBytes >= 4 * 1024 * 1024)) throw new ConfigError('--max-message-mb must be at least 4');
  if (config.host.trim() === '') throw new ConfigError('--host must not be empty');
  if (!isLoopbackHost(config.host)) {
    const missing = [
      config.token ? null : '--token-file',
      config.tls ? null : '--tls-cert/--tls-key',
      config.allowRoots.length > 0 ? null : '--allow-root',
    ].filter((m): m is string => m !== null);
    if (missing.length > 0) {
      throw new ConfigError(
        `refusing to listen on non-loopback address ${config.host} without ${missing.join(', ')}: ` +
          'anyone on the network could otherwise run jobs and read slides as this user',
      );
    }
  }
}
