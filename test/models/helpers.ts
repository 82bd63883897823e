/**
 * Test helpers for the model cache: stand-in model files, a local HTTP server that plays the GitHub
 * release host (and its failure modes), temp homes and a captured CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { type CliIo, modelsCommand } from '../../src/cli/models';
import { ROOT } from '../helpers/paths';

export const PATCH = 'patchwise_mobilenet_network_breast_cancer.onnx';
export const REFINEMENT = 'refinement_network_breast_cancer.onnx';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `h2g-${prefix}-`));
}

/** Generates a model set with scripts/make_test_models.py into a fresh temp dir. */
export function makeModels(variant: 'tiny' | 'full' | 'oracle', seed = 1234): string {
  const dir = tempDir(`models-${variant}`);
  execFileSync(
    '/usr/bin/python3',
    [path.join(ROOT, 'scripts', 'make_test_models.py'), '--variant', variant, '--out', dir, '--seed', String(seed)],
    {
      stdio: 'ignore',
    },
  );
  return dir;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/**
 * Pads an ONNX file to exactly `size` bytes with an unknown protobuf field (number 1000), which
 * onnxruntime skips: a small stand-in with the published refinement file's size.
 */
export function padOnnx(data: Buffer, size: number): Buffer {
  const key = varint((1000 << 3) | 2);
  for (let len = size - data.length - key.length - 10; len <= size; len++) {
    const lenBytes = varint(len);
    if (len >= 0 && data.length + key.length + lenBytes.length + len === size) {
      return Buffer.concat([data, key, lenBytes, Buffer.alloc(len)]);
    }
  }
  throw new Error(`cannot pad ${data.length} bytes to ${size}`);
}

/** What the fake release host does for one file. */
export type Route =
  | { kind: 'file'; data: Buffer }
  | { kind: 'status'; code: number }
  /** Announces the full Content-Length, sends half, then destroys the socket. */
  | { kind: 'cut'; data: Buffer }
  /** Sends headers and half the body, then nothing more. */
  | { kind: 'stall'; data: Buffer }
  /** Accepts the connection and never answers. */
  | { kind: 'hang' };

export interface ReleaseServer {
  urlBase: string;
  routes: Map<string, Route>;
  requests: string[];
  close(): Promise<void>;
}

export async function startReleaseServer(): Promise<ReleaseServer> {
  const routes = new Map<string, Route>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    requests.push(name);
    const route = routes.get(name);
    if (!route) {
      res.writeHead(404).end('Not Found');
      return;
    }
    switch (route.kind) {
      case 'file':
        res.writeHead(200, { 'content-length': route.data.length }).end(route.data);
        return;
      case 'status':
        res.writeHead(route.code).end('error');
        return;
      case 'cut':
      case 'stall':
        res.writeHead(200, { 'content-length': route.data.length });
        res.write(route.data.subarray(0, route.data.length >> 1), () => {
          if (route.kind === 'cut') setTimeout(() => res.socket?.destroy(), 20);
        });
        return;
      case 'hang':
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    urlBase: `http://127.0.0.1:${port}/releases/download/pretrained-models`,
    routes,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves the two files of a model directory. */
export function serveDir(server: ReleaseServer, dir: string): void {
  for (const f of [PATCH, REFINEMENT]) server.routes.set(f, { kind: 'file', data: readFileSync(path.join(dir, f)) });
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Everything in a models home, hidden entries included, to prove no partial file is left. */
export function homeEntries(home: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
    }
  };
  walk(home, '');
  return out.sort();
}

export interface CliRun {
  stdout: string;
  stderr: string;
  error: Error | null;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `h2g models ...` in-process with captured output; errors come back instead of exiting. */
export async function runModelsCli(args: string[], env: NodeJS.ProcessEnv, stderrIsTTY = false): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = Object.assign(new Capture(), { isTTY: stderrIsTTY, columns: 120 });
  const io: CliIo = { stdout, stderr, env };
  const program = new Command('h2g').exitOverride();
  program.addCommand(modelsCommand(io).exitOverride());
  let error: Error | null = null;
  try {
    await program.parseAsync(['node', 'h2g', 'models', ...args]);
  } catch (err) {
    error = err as Error;
  }
  return { stdout: stdout.text, stderr: stderr.text, error };
}

export function removeDirs(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
