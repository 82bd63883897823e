/**
 * `h2g serve` as a child process (node bin/h2g.js serve), for the end-to-end tests. Besides being the
 * real thing, it runs the pipeline at plain node speed: inside jest's vm sandbox every global lookup
 * goes through an interceptor (Math.max in a per-pixel loop once made the pipeline 30-80x slower).
 * dist/ is rebuilt first when any src/ file is newer than it (one worker builds, the other waits).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { SegmentationClient } from '../../src/generated/h2gnet/v1/segmentation';
import { ROOT } from '../helpers/paths';
import { tempDir, testModels, waitFor } from './helpers';

const BIN = path.join(ROOT, 'bin', 'h2g.js');
const DIST_MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const LOCK = path.join(ROOT, '.cache', 'server-tests', 'build.lock');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const isFresh = (): boolean =>
  existsSync(path.join(ROOT, 'dist', 'cli', 'serve.js')) &&
  statSync(DIST_MAIN).mtimeMs >= newestMtime(path.join(ROOT, 'src'));

export async function ensureBuilt(): Promise<void> {
  if (isFresh()) return;
  mkdirSync(path.dirname(LOCK), { recursive: true });
  let locked = false;
  try {
    mkdirSync(LOCK);
    locked = true;
  } catch {
    // Another worker is building; wait for it (a lock older than 3 minutes is stale).
    await waitFor(() => !existsSync(LOCK) || Date.now() - statSync(LOCK).mtimeMs > 180_000, 200_000, 'the dist build');
    if (isFresh()) return;
  }
  try {
    try {
      execFileSync(
        process.execPath,
        [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        {
          cwd: ROOT,
          stdio: 'ignore',
        },
      );
    } catch {
      // tsc emits even with type errors elsewhere in the tree; what matters is that serve.js exists.
    }
    if (!existsSync(path.join(ROOT, 'dist', 'cli', 'serve.js'))) throw new Error('building dist/ failed');
  } finally {
    if (locked) rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ChildServer {
  child: ChildProcess;
  port: number;
  address: string;
  client: SegmentationClient;
  stdout: string[];
  logs: LogLine[];
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function spawnServer(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  await ensureBuilt();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--models', testModels('tiny'), ...args], {
    cwd: ROOT,
    env: { ...process.env, H2G_LOG_LEVEL: 'debug', H2G_MODELS_HOME: tempDir('h2g-home-'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const logs: LogLine[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void): void => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  };
  lines(child.stdout!, (l) => stdout.push(l));
  lines(child.stderr!, (l) => {
    try {
      logs.push(JSON.parse(l) as LogLine);
    } catch {
      logs.push({ level: 60, msg: l });
    }
  });
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  await waitFor(() => stdout.length > 0 || exitCode !== undefined, 60_000, 'READY');
  const match = /^READY port=(\d+)$/.exec(stdout[0] ?? '');
  if (!match) throw new Error(`no READY line; stdout=${JSON.stringify(stdout)} logs=${JSON.stringify(logs)}`);
  const port = Number(match[1]);
  const address = `127.0.0.1:${port}`;
  const client = new SegmentationClient(address, credentials.createInsecure());
  return {
    child,
    port,
    address,
    client,
    stdout,
    logs,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (exitCode === undefined) child.kill(signal);
      const code = await exited;
      client.close();
      return code;
    },
  };
}
