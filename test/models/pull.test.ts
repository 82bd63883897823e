/**
 * `pullModels` against a local stand-in for the GitHub release host: a complete download installs a
 * verified set; every failure is refused with a clear message and leaves the cache as it was.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DownloadError } from '../../src/models/download';
import { ModelError } from '../../src/models/errors';
import { readManifest } from '../../src/models/manifest';
import { loadModelSet } from '../../src/models/model-set';
import { PUBLISHED_SIZES, pullModels } from '../../src/models/pull';
import {
  closedPort,
  homeEntries,
  makeModels,
  PATCH,
  REFINEMENT,
  type ReleaseServer,
  removeDirs,
  serveDir,
  startReleaseServer,
  tempDir,
} from './helpers';

const CPU = { provider: 'cpu' as const, threads: 1 };
// The stand-in files are far smaller than the published ones: no size table unless a test sets one.
const NO_SIZES = {};
const FAST = { connectTimeoutMs: 2000, stallTimeoutMs: 500 };

let tiny: string;
let tiny2: string;
let server: ReleaseServer;
let home: string;

beforeAll(() => {
  tiny = makeModels('tiny');
  tiny2 = makeModels('tiny', 99); // different weights, different digests
});
afterAll(() => removeDirs(tiny, tiny2));

beforeEach(async () => {
  server = await startReleaseServer();
  home = tempDir('home');
});
afterEach(async () => {
  await server.close();
  removeDirs(home);
});

async function pull(extra: Partial<Parameters<typeof pullModels>[0]> = {}) {
  return pullModels({ home, urlBase: server.urlBase, expectedSizes: NO_SIZES, download: FAST, ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error('expected a rejection');
  return err;
}

/** The installed `published` set loads and is byte-identical to `dir`'s files. */
async function expectInstalledFrom(dir: string): Promise<void> {
  const set = await loadModelSet(path.join(home, 'published'), CPU);
  try {
    for (const f of [PATCH, REFINEMENT]) {
      expect(readFileSync(path.join(home, 'published', f)).equals(readFileSync(path.join(dir, f)))).toBe(true);
    }
  } finally {
    await set.release();
  }
  // Nothing but the set: no staging directories, no temporary files.
  expect(homeEntries(home)).toEqual(
    ['published', 'published/h2g-models.json', `published/${PATCH}`, `published/${REFINEMENT}`].sort(),
  );
}

test('a complete download is installed with a manifest that records source, sizes and SHA-256', async () => {
  serveDir(server, tiny);
  const progress: number[] = [];
  const result = await pull({ onProgress: (_f, received) => progress.push(received) });
  expect(result.directory).toBe(path.join(home, 'published'));
  expect(server.requests).toEqual([PATCH, REFINEMENT]);
  expect(progress.at(-1)).toBe(readFileSync(path.join(tiny, REFINEMENT)).length);

  const { manifest, fromFile } = await readManifest(result.directory);
  expect(fromFile).toBe(true);
  expect(manifest).toMatchObject({ schemaVersion: 1, name: 'published', demo: false, source: server.urlBase });
  expect(Date.parse(manifest.installedAt!)).toBeGreaterThan(Date.now() - 60_000);
  expect(manifest.files.refinement.size).toBe(readFileSync(path.join(tiny, REFINEMENT)).length);
  expect(manifest.files.patch.sha256).toMatch(/^[0-9a-f]{64}$/);
  await expectInstalledFrom(tiny);
});

test('the published size table is applied: a file of the wrong size is refused', async () => {
  serveDir(server, tiny);
  const err = await rejection(pull({ expectedSizes: PUBLISHED_SIZES }));
  expect(err).toBeInstanceOf(ModelError);
  expect((err as ModelError).code).toBe('MODEL_DIGEST');
  expect(err.message).toMatch(
    /refinement_network_breast_cancer\.onnx has 17,918 bytes but the published file has 46,313,140/,
  );
  expect(homeEntries(home)).toEqual([]);
});

describe('failures leave a previously installed set loadable and no partial files', () => {
  beforeEach(async () => {
    serveDir(server, tiny);
    await pull();
    serveDir(server, tiny2);
  });

  test('a download cut off mid-way (socket destroyed after half the bytes)', async () => {
    server.routes.set(REFINEMENT, { kind: 'cut', data: readFileSync(path.join(tiny2, REFINEMENT)) });
    const err = await rejection(pull());
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('TRUNCATED');
    expect(err.message).toMatch(/download failed: the transfer broke off after \d+ of 17918 bytes/);
    expect(err.message).toMatch(/h2g models import <folder>/);
    await expectInstalledFrom(tiny);
  });

  test('a download that stalls mid-way times out', async () => {
    server.routes.set(PATCH, { kind: 'stall', data: readFileSync(path.join(tiny2, PATCH)) });
    const t0 = Date.now();
    const err = await rejection(pull());
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((err as DownloadError).code).toBe('TIMEOUT');
    expect(err.message).toMatch(/no data from 127\.0\.0\.1:\d+ within 0\.5 s after \d+ bytes/);
    await expectInstalledFrom(tiny);
  });

  test.each([404, 500])('a server answering %i', async (code) => {
    server.routes.set(REFINEMENT, { kind: 'status', code });
    const err = await rejection(pull());
    expect((err as DownloadError).code).toBe('HTTP');
    expect(err.message).toContain(`${server.urlBase}/${REFINEMENT} answered HTTP ${code}`);
    await expectInstalledFrom(tiny);
  });

  test('a file of the wrong size', async () => {
    const err = await rejection(pull({ expectedSizes: { refinement: 12345 } }));
    expect(err.message).toMatch(/has 17,918 bytes but the published file has 12,345 bytes/);
    await expectInstalledFrom(tiny);
  });

  test('a file that is not an H2G-Net model (the patch file served as both)', async () => {
    server.routes.set(REFINEMENT, { kind: 'file', data: readFileSync(path.join(tiny2, PATCH)) });
    const err = await rejection(pull());
    expect((err as ModelError).code).toBe('MODEL_CONTRACT');
    expect(err.message).toMatch(/is not an H2G-Net refinement network/);
    await expectInstalledFrom(tiny);
  });

  test('a file that is not ONNX at all', async () => {
    server.routes.set(PATCH, { kind: 'file', data: Buffer.from('<html>rate limited</html>') });
    const err = await rejection(pull());
    expect((err as ModelError).code).toBe('MODEL_INVALID');
    expect(err.message).toMatch(/onnxruntime cannot load .*patchwise/);
    await expectInstalledFrom(tiny);
  });

  test('a good second pull replaces the set atomically', async () => {
    await pull();
    await expectInstalledFrom(tiny2);
  });
});

describe('no network', () => {
  test('a closed port fails within seconds and says how to install by hand', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const err = await rejection(pullModels({ home, urlBase: `http://127.0.0.1:${port}/x` }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((err as DownloadError).code).toBe('NETWORK');
    expect(err.message).toMatch(/cannot reach 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(err.message).toMatch(/To install the weights by hand/);
    expect(err.message).toContain(`http://127.0.0.1:${port}/x/${REFINEMENT}`);
    expect(err.message).toMatch(/h2g models import <folder> --name published/);
    expect(homeEntries(home)).toEqual([]);
  });

  test('a host that accepts but never answers hits the connect deadline', async () => {
    server.routes.set(PATCH, { kind: 'hang' });
    const t0 = Date.now();
    const err = await rejection(pull({ download: { connectTimeoutMs: 300, stallTimeoutMs: 300 } }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((err as DownloadError).code).toBe('TIMEOUT');
    expect(err.message).toMatch(/no answer from 127\.0\.0\.1:\d+ within 0\.3 s/);
    expect(homeEntries(home)).toEqual([]);
  });
});
