/**
 * Every bad input gets its proper status from a real server on 127.0.0.1, and the slide that was
 * checked is the slide that is read. Before: a 5,000-character path, an int64 of 2^53 and a region
 * id of 2^64 - 1 answered INTERNAL; a symlink loop outside the roots answered INVALID_ARGUMENT with
 * its name; a slide swapped for a symlink to a file outside the root while its job was queued was
 * read; a client declaring a 1e7 x 1e7 px image got INTERNAL after the server had tried to allocate.
 */
import { copyFileSync, mkdirSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { SegmentEvent } from '../../src/generated/h2gnet/v1/segmentation';
import { OpenSlide } from '../../src/slide/openslide';
import { CMU_SMALL, MODELS } from '../helpers/paths';
import { RawClient, pixelRegion, pixelStart } from '../helpers/wire';
import {
  type TestServer,
  collect,
  resultOf,
  segment,
  segmentPixels,
  smallSlide,
  startServer,
  tempDir,
  waitFor,
} from './helpers';

const root = tempDir('h2g-root-');
const outside = tempDir('h2g-outside-');
const slideInRoot = path.join(root, 'slide.tif');
copyFileSync(smallSlide(), slideInRoot);
copyFileSync(smallSlide(), path.join(outside, 'secret.tif'));

let ts: TestServer;
let raw: RawClient;
let cmu: OpenSlide;
beforeAll(async () => {
  ts = await startServer({ allowRoots: [root], maxConcurrent: 1, maxQueue: 4 });
  raw = new RawClient(ts.address);
  cmu = await OpenSlide.open(CMU_SMALL);
});
afterAll(async () => {
  raw.close();
  await cmu.close();
  await ts.close();
});

describe('paths', () => {
  test('a 5,000-character path: INVALID_ARGUMENT inside the root, PERMISSION_DENIED outside', async () => {
    const inside = await collect(segment(ts.client, path.join(root, 'a'.repeat(5000))));
    expect(inside.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(inside.error?.details).toMatch(/slide_path has 50\d\d characters \(at most 4096\)/);
    // A name over 255 bytes (ENAMETOOLONG from the file system).
    const long = await collect(segment(ts.client, path.join(root, 'n'.repeat(300))));
    expect(long.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(long.error?.details).toMatch(/ENAMETOOLONG/);
    const out = await collect(segment(ts.client, path.join(outside, 'n'.repeat(300))));
    expect(out.error?.code).toBe(status.PERMISSION_DENIED);
    const far = await collect(segment(ts.client, `/${'x'.repeat(5000)}`));
    expect(far.error?.code).toBe(status.PERMISSION_DENIED);
  });

  test('a symlink loop outside the roots is PERMISSION_DENIED and not named; inside it is INVALID_ARGUMENT', async () => {
    symlinkSync(path.join(outside, 'loop'), path.join(outside, 'loop'));
    symlinkSync(path.join(root, 'loop'), path.join(root, 'loop'));
    const out = await collect(segment(ts.client, path.join(outside, 'loop')));
    expect(out.error?.code).toBe(status.PERMISSION_DENIED);
    expect(out.error?.details).toMatch(/outside the directories this server may read/);
    const inside = await collect(segment(ts.client, path.join(root, 'loop')));
    expect(inside.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(inside.error?.details).toMatch(/ELOOP/);
  });

  test('a slide swapped for a symlink to a file outside the root while its job waits is not read', async () => {
    // Job A holds the only slot: a pixel job whose client never answers.
    const held = segmentPixels(ts.client, cmu, { beforeAnswer: () => false });
    await waitFor(() => ts.server.stats.running === 1, 20000, 'job A to run');
    const queued = collect(segment(ts.client, slideInRoot));
    await waitFor(() => ts.server.stats.queued === 1, 20000, 'job B to queue');
    // B passed its check on arrival; now the file becomes a symlink to outside.
    renameSync(slideInRoot, path.join(root, 'moved.tif'));
    symlinkSync(path.join(outside, 'secret.tif'), slideInRoot);
    held.call.cancel();
    const b = await queued;
    expect(b.error?.code).toBe(status.PERMISSION_DENIED);
    expect(resultOf(b.events)).toBeUndefined();
    const stages = b.events.map((e: SegmentEvent) => (e.event?.$case === 'progress' ? e.event.progress.stage : ''));
    expect(stages).not.toContain('tissue');
  });

  test('an unswapped slide inside the root is read through its pin and segments', async () => {
    const inside = path.join(root, 'kept.tif');
    copyFileSync(smallSlide(), inside);
    const r = await collect(segment(ts.client, inside));
    expect(r.error).toBeNull();
    expect(resultOf(r.events)?.summary?.patchesInferred).toBeGreaterThan(0);
  });
});

describe('messages no encoder of ours would write', () => {
  const run = (messages: Buffer[]) => {
    const call = raw.segmentPixels();
    const done = collect(call);
    for (const m of messages) call.write(m);
    return done;
  };

  test('an image width of 2^53 is INVALID_ARGUMENT (it cannot be decoded as a number)', async () => {
    const r = await run([pixelStart(2n ** 53n, 100)]);
    expect(r.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(r.error?.details).toMatch(/cannot be decoded/);
  });

  test('a region id of 2^64 - 1 is INVALID_ARGUMENT', async () => {
    const call = raw.segmentPixels();
    const done = collect(call);
    call.write(pixelStart(2220, 2967, 0.5, [1, 4]));
    // Wait for the first request (the job runs), then answer with an impossible id.
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.write(pixelRegion(2n ** 64n - 1n, 1, 1, Buffer.alloc(3)));
    const r = await done;
    expect(r.error?.code).toBe(status.INVALID_ARGUMENT);
  });

  test('a declared 1e7 x 1e7 px image is INVALID_ARGUMENT naming maxImageSide', async () => {
    const r = await run([pixelStart(10_000_000, 10_000_000)]);
    expect(r.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(r.error?.details).toContain('maxImageSide = 1048576');
  });

  test('a declared 1,000,000 px square with no pyramid is RESOURCE_EXHAUSTED before a region is asked', async () => {
    const call = raw.segmentPixels();
    const done = collect(call);
    call.write(pixelStart(1_000_000, 1_000_000, 0.25, [1]));
    const r = await done;
    expect(r.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(r.error?.details).toMatch(/maxLowResPixels .*--max-low-res-pixels/);
    expect(r.events.some((m) => m.message?.$case === 'regionRequest')).toBe(false);
  });

  test('an ROI over maxRoiVertices is RESOURCE_EXHAUSTED before the job queues', async () => {
    const ring = Array.from({ length: 100_001 }, (_, i) => [1000 + Math.cos(i) * 500, 1000 + Math.sin(i) * 500]);
    ring.push(ring[0]!);
    const r = await collect(
      segment(ts.client, path.join(root, 'kept.tif'), {
        roiGeojson: JSON.stringify({ type: 'Polygon', coordinates: [ring] }),
      }),
    );
    expect(r.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(r.error?.details).toContain('maxRoiVertices');
  });
});

describe('broken models', () => {
  test('a patch model answering NaN fails the job with FAILED_PRECONDITION saying so', async () => {
    const dir = tempDir('h2g-nan-');
    mkdirSync(dir, { recursive: true });
    const bad = await startServer({ modelsDir: MODELS.nanPatch });
    try {
      const r = await collect(segment(bad.client, CMU_SMALL));
      expect(r.error?.code).toBe(status.FAILED_PRECONDITION);
      expect(r.error?.details).toMatch(/NaN or infinite values/);
    } finally {
      await bad.close();
    }
  });
});
