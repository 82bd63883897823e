/** The server's small parts on their own: queue, token check, config rules, path policy, remote source. */
import { mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { RegionRequest } from '../../src/generated/h2gnet/v1/segmentation';
import { CancelledError } from '../../src/pipeline/errors';
import { MIN_TOKEN_LENGTH, bearerMatches, readTokenFile } from '../../src/server/auth';
import {
  ConfigError,
  DEFAULT_CONFIG,
  type ServerConfig,
  checkConfig,
  effectiveThreads,
  isLoopbackHost,
} from '../../src/server/config';
import { QueueFullError, RequestError, ShuttingDownError, toGrpcStatus } from '../../src/server/errors';
import { JobQueue } from '../../src/server/jobs/queue';
import { PathPolicy } from '../../src/server/paths';
import { RemoteSource, levelsFromDescription } from '../../src/server/remote-source';
import { SlideError } from '../../src/slide/errors';
import { ModelError } from '../../src/models/errors';
import { InvalidOptionError } from '../../src/pipeline/errors';
import { tempDir, testLogger } from './helpers';

describe('JobQueue', () => {
  test('runs up to maxConcurrent, queues up to maxQueue with positions, refuses beyond', async () => {
    const q = new JobQueue({ maxConcurrent: 1, maxQueue: 2 });
    const signal = new AbortController().signal;
    const first = await q.acquire(signal);
    const positions: Record<string, number[]> = { a: [], b: [] };
    const a = q.acquire(signal, (p) => positions.a!.push(p));
    const b = q.acquire(signal, (p) => positions.b!.push(p));
    await expect(q.acquire(signal)).rejects.toBeInstanceOf(QueueFullError);
    expect(q.stats).toEqual({ running: 1, queued: 2 });
    first();
    first(); // a second release must not free another slot
    const releaseA = await a;
    expect(q.stats).toEqual({ running: 1, queued: 1 });
    expect(positions).toEqual({ a: [0], b: [1, 0] });
    releaseA();
    (await b)();
    expect(q.stats).toEqual({ running: 0, queued: 0 });
  });

  test('a job cancelled while queued leaves the queue and the ones behind move up', async () => {
    const q = new JobQueue({ maxConcurrent: 1, maxQueue: 5 });
    const release = await q.acquire(new AbortController().signal);
    const cancelA = new AbortController();
    const a = q.acquire(cancelA.signal);
    const positionsB: number[] = [];
    const b = q.acquire(new AbortController().signal, (p) => positionsB.push(p));
    cancelA.abort();
    await expect(a).rejects.toBeInstanceOf(CancelledError);
    expect(positionsB).toEqual([1, 0]);
    expect(q.stats.queued).toBe(1);
    release();
    (await b)();
    expect(q.stats).toEqual({ running: 0, queued: 0 });
  });

  test('close() rejects waiting jobs and refuses new ones, running ones keep their slot', async () => {
    const q = new JobQueue({ maxConcurrent: 1, maxQueue: 5 });
    const release = await q.acquire(new AbortController().signal);
    const waiting = q.acquire(new AbortController().signal);
    q.close();
    await expect(waiting).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(q.acquire(new AbortController().signal)).rejects.toBeInstanceOf(ShuttingDownError);
    expect(q.stats).toEqual({ running: 1, queued: 0 });
    release();
    expect(q.stats.running).toBe(0);
  });

  test('maxQueue 0: a busy server refuses at once', async () => {
    const q = new JobQueue({ maxConcurrent: 1, maxQueue: 0 });
    await q.acquire(new AbortController().signal);
    await expect(q.acquire(new AbortController().signal)).rejects.toBeInstanceOf(QueueFullError);
  });
});

describe('token check', () => {
  const token = 'a'.repeat(8) + 'B9c8D7e6F5g4';

  test('accepts exactly "Bearer <token>" (scheme case-insensitive), rejects everything else', () => {
    expect(bearerMatches(token, `Bearer ${token}`)).toBe(true);
    expect(bearerMatches(token, `bearer ${token}`)).toBe(true);
    for (const bad of [
      undefined,
      '',
      token,
      `Bearer ${token}x`,
      `Bearer ${token.slice(1)}`,
      `Basic ${token}`,
      'Bearer ',
      `Bearer ${token} extra`,
    ]) {
      expect(bearerMatches(token, bad)).toBe(false);
    }
  });

  test('token file: trimmed, at least 16 characters, one word', async () => {
    const dir = tempDir();
    const good = path.join(dir, 'good');
    writeFileSync(good, `${token}\n`);
    chmodSync(good, 0o600);
    expect(await readTokenFile(good)).toBe(token);
    const short = path.join(dir, 'short');
    writeFileSync(short, 'x'.repeat(MIN_TOKEN_LENGTH - 1));
    await expect(readTokenFile(short)).rejects.toThrow(/at least 16/);
    const spaced = path.join(dir, 'spaced');
    writeFileSync(spaced, `${token} ${token}`);
    await expect(readTokenFile(spaced)).rejects.toThrow(/one line/);
    await expect(readTokenFile(path.join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});

describe('config safety rules', () => {
  const base: ServerConfig = { ...DEFAULT_CONFIG, modelsDir: null, token: null, tls: null };
  const tls = { cert: Buffer.from('c'), key: Buffer.from('k') };

  test('loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.org', '10.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });

  test('non-loopback needs a token, TLS and allowed roots; loopback needs none', () => {
    expect(() => checkConfig(base)).not.toThrow();
    expect(() => checkConfig({ ...base, host: '0.0.0.0' })).toThrow(
      /--token-file, --tls-cert\/--tls-key, --allow-root/,
    );
    expect(() => checkConfig({ ...base, host: '0.0.0.0', token: 't'.repeat(16), tls })).toThrow(/--allow-root/);
    expect(() => checkConfig({ ...base, host: '0.0.0.0', token: 't'.repeat(16), allowRoots: ['/'] })).toThrow(
      ConfigError,
    );
    expect(() =>
      checkConfig({ ...base, host: '0.0.0.0', token: 't'.repeat(16), tls, allowRoots: ['/'] }),
    ).not.toThrow();
  });

  test('--threads 0 shares the cores out between concurrent jobs; an explicit value is kept', () => {
    expect(effectiveThreads({ threads: 0, maxConcurrent: 1 }, 8)).toBe(0);
    expect(effectiveThreads({ threads: 0, maxConcurrent: 2 }, 8)).toBe(4);
    expect(effectiveThreads({ threads: 0, maxConcurrent: 3 }, 2)).toBe(1);
    expect(effectiveThreads({ threads: 3, maxConcurrent: 2 }, 8)).toBe(3);
  });

  test('limits are range-checked', () => {
    expect(() => checkConfig({ ...base, maxConcurrent: 0 })).toThrow(/--max-concurrent/);
    expect(() => checkConfig({ ...base, maxQueue: -1 })).toThrow(/--max-queue/);
    expect(() => checkConfig({ ...base, port: 70000 })).toThrow(/--port/);
    expect(() => checkConfig({ ...base, graceSeconds: -1 })).toThrow(/--grace-seconds/);
  });
});

describe('PathPolicy', () => {
  const dir = tempDir();
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, 'sub', 'a.svs'), 'x');
  writeFileSync(path.join(outside, 'b.svs'), 'x');
  symlinkSync(path.join(outside, 'b.svs'), path.join(root, 'escape.svs'));
  symlinkSync(outside, path.join(root, 'escape-dir'));
  symlinkSync(path.join(root, 'sub', 'a.svs'), path.join(outside, 'into-root.svs'));

  const codeOf = async (policy: PathPolicy, p: string): Promise<number | string> =>
    policy.resolve(p).then(
      (real) => real,
      (err: RequestError) => err.grpcCode,
    );

  test('inside a root: resolved to the real path; symlinks are followed before judging', async () => {
    const policy = await PathPolicy.create([root]);
    expect(await codeOf(policy, path.join(root, 'sub', 'a.svs'))).toBe(path.join(root, 'sub', 'a.svs'));
    expect(await codeOf(policy, path.join(root, 'sub', '..', 'sub', 'a.svs'))).toBe(path.join(root, 'sub', 'a.svs'));
    expect(await codeOf(policy, path.join(root, 'escape.svs'))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(policy, path.join(root, 'escape-dir', 'b.svs'))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(policy, path.join(root, '..', 'outside', 'b.svs'))).toBe(status.PERMISSION_DENIED);
    // A link from outside into a root reads a file inside: allowed.
    expect(await codeOf(policy, path.join(outside, 'into-root.svs'))).toBe(path.join(root, 'sub', 'a.svs'));
  });

  test('missing files: NOT_FOUND inside a root, PERMISSION_DENIED outside (no probing beyond the roots)', async () => {
    const policy = await PathPolicy.create([root]);
    expect(await codeOf(policy, path.join(root, 'sub', 'nope.svs'))).toBe(status.NOT_FOUND);
    expect(await codeOf(policy, path.join(root, 'no', 'such', 'dir.svs'))).toBe(status.NOT_FOUND);
    expect(await codeOf(policy, path.join(outside, 'nope.svs'))).toBe(status.PERMISSION_DENIED);
    expect(await codeOf(policy, path.join(root, 'escape-dir', 'nope.svs'))).toBe(status.PERMISSION_DENIED);
  });

  test('relative, empty and non-file paths are refused; no roots = any path', async () => {
    const policy = await PathPolicy.create([root]);
    expect(await codeOf(policy, 'sub/a.svs')).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(policy, '')).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(policy, path.join(root, 'sub'))).toBe(status.NOT_FOUND);
    const open = await PathPolicy.create([]);
    expect(await codeOf(open, path.join(outside, 'b.svs'))).toBe(path.join(outside, 'b.svs'));
    await expect(PathPolicy.create([path.join(dir, 'nope')])).rejects.toThrow(ConfigError);
  });
});

describe('RemoteSource', () => {
  const image = { name: 'img', width: 3000, height: 2000, pixelSizeUm: 0.5, downsamples: [1, 4] };

  function source(maxTile = 1024, timeoutMs = 5000) {
    const sent: RegionRequest[] = [];
    const src = new RemoteSource(image, (r) => sent.push(r), { timeoutMs, maxTile });
    const answer = (r: RegionRequest, fill?: (x: number, y: number) => number) => {
      const rgb = Buffer.alloc(r.width * r.height * 3);
      for (let y = 0; y < r.height; y++)
        for (let x = 0; x < r.width; x++)
          rgb.fill(fill ? fill(x, y) : 7, (y * r.width + x) * 3, (y * r.width + x + 1) * 3);
      src.deliver({ id: r.id, width: r.width, height: r.height, rgb, error: '' });
    };
    return { src, sent, answer };
  }

  test('levels from the client downsamples: ceil(size / downsample); bad descriptions refused', () => {
    expect(levelsFromDescription(image)).toEqual([
      { width: 3000, height: 2000, downsample: 1 },
      { width: 750, height: 500, downsample: 4 },
    ]);
    expect(levelsFromDescription({ ...image, downsamples: [] })).toHaveLength(1);
    for (const bad of [
      { ...image, width: 0 },
      { ...image, downsamples: [2, 4] },
      { ...image, downsamples: [1, 4, 4] },
      { ...image, pixelSizeUm: -1 },
    ]) {
      expect(() => levelsFromDescription(bad)).toThrow(RequestError);
    }
  });

  test('a large read is split into tiles and reassembled at the right place', async () => {
    const { src, sent, answer } = source(100);
    const read = src.readRegion({ level: 1, x: 40, y: 80, width: 250, height: 130 });
    expect(sent).toHaveLength(6); // 3 x 2 tiles
    expect(sent[1]).toMatchObject({ level: 1, downsample: 4, x: 40 + 400, y: 80, width: 100, height: 100 });
    expect(sent[5]).toMatchObject({ x: 40 + 800, y: 80 + 400, width: 50, height: 30 });
    // Each tile answers with its own level-pixel coordinates encoded in the value.
    for (const r of sent) answer(r, (x, y) => ((r.x - 40) / 4 + x + (r.y - 80) / 4 + y) % 251);
    const img = await read;
    expect([img.width, img.height]).toEqual([250, 130]);
    for (const [x, y] of [
      [0, 0],
      [99, 0],
      [100, 0],
      [249, 129],
      [120, 110],
    ] as const) {
      expect(img.data[(y * 250 + x) * 3]).toBe((x + y) % 251);
    }
  });

  test('wrong size, unknown id and a client error fail the read; later reads fail too', async () => {
    const { src, sent } = source();
    const a = src.readRegion({ level: 0, x: 0, y: 0, width: 10, height: 10 });
    src.deliver({ id: sent[0]!.id, width: 10, height: 9, rgb: Buffer.alloc(270), error: '' });
    await expect(a).rejects.toThrow(/expected 10 x 10/);
    await expect(src.readRegion({ level: 0, x: 0, y: 0, width: 1, height: 1 })).rejects.toThrow(/expected 10 x 10/);

    const s2 = source();
    const b = s2.src.readRegion({ level: 0, x: 0, y: 0, width: 10, height: 10 });
    s2.src.deliver({ id: s2.sent[0]!.id, width: 0, height: 0, rgb: Buffer.alloc(0), error: 'disk on fire' });
    await expect(b).rejects.toThrow(SlideError);

    const s3 = source();
    const c = s3.src.readRegion({ level: 0, x: 0, y: 0, width: 10, height: 10 });
    s3.src.deliver({ id: 999, width: 10, height: 10, rgb: Buffer.alloc(300), error: '' });
    await expect(c).rejects.toThrow(/999 was not requested/);
  });

  test('an unanswered request times out with DEADLINE_EXCEEDED; a closed stream rejects pending reads', async () => {
    const { src } = source(1024, 50);
    await expect(src.readRegion({ level: 0, x: 0, y: 0, width: 5, height: 5 })).rejects.toMatchObject({
      grpcCode: status.DEADLINE_EXCEEDED,
    });
    const s2 = source();
    const pending = s2.src.readRegion({ level: 0, x: 0, y: 0, width: 5, height: 5 });
    s2.src.clientEnded();
    await expect(pending).rejects.toMatchObject({ grpcCode: status.INVALID_ARGUMENT });
    expect(s2.src.outstanding).toBe(0);
  });
});

describe('error mapping', () => {
  test('each error kind has its gRPC code; unexpected errors are INTERNAL without details', () => {
    const code = (e: unknown) => toGrpcStatus(e, testLogger).code;
    expect(code(new SlideError('NOT_FOUND', 'x'))).toBe(status.NOT_FOUND);
    expect(code(new SlideError('UNSUPPORTED', 'x'))).toBe(status.INVALID_ARGUMENT);
    expect(code(new SlideError('CORRUPT', 'x'))).toBe(status.INVALID_ARGUMENT);
    expect(code(new SlideError('NO_PIXEL_SIZE', 'x'))).toBe(status.FAILED_PRECONDITION);
    expect(code(new InvalidOptionError('x'))).toBe(status.INVALID_ARGUMENT);
    expect(code(new ModelError('MODEL_CONTRACT', 'x'))).toBe(status.FAILED_PRECONDITION);
    expect(code(new CancelledError())).toBe(status.CANCELLED);
    expect(code(new QueueFullError(3))).toBe(status.RESOURCE_EXHAUSTED);
    expect(code(new ShuttingDownError())).toBe(status.UNAVAILABLE);
    const internal = toGrpcStatus(new TypeError('secret internals at /home/x'), testLogger);
    expect(internal.code).toBe(status.INTERNAL);
    expect(internal.details).not.toMatch(/secret|home/);
  });
});
