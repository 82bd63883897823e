/**
 * Every error code the issue lists, on a real in-process server and a real client: bad requests get
 * a specific status with a readable message, never INTERNAL, and the server keeps serving.
 * (These requests all fail before the heavy pipeline stages, so they run fine inside jest.)
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Metadata, type ServiceError, credentials, status } from '@grpc/grpc-js';
import { HealthClient } from '../../src/generated/health/v1/health';
import {
  type PixelClientMessage,
  type ServerInfo,
  SegmentationClient,
} from '../../src/generated/h2gnet/v1/segmentation';
import { PUBLISHED_FILES } from '../../src/models/manifest';
import { ERROR_CODE_TRAILER } from '../../src/server/errors';
import { OpenSlide } from '../../src/slide/openslide';
import { BROKEN_SVS, CMU_SMALL, FOREIGN_ONNX, NO_MPP_TIFF, SHARED_DATA } from '../helpers/paths';
import {
  type TestServer,
  collect,
  fullOptions,
  segment,
  segmentPixels,
  startServer,
  tempDir,
  testModels,
} from './helpers';

const servers: TestServer[] = [];
async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function statusOf(call: ReturnType<typeof segment>): Promise<{ code: number; details: string }> {
  const { error } = await collect(call);
  return { code: error?.code ?? status.OK, details: error?.details ?? '' };
}

/** The typed error's code a failed call carries in its trailers (what clients branch on). */
async function errorCodeOf(call: ReturnType<typeof segment>): Promise<unknown[]> {
  const { error } = await collect(call);
  return error?.metadata?.get(ERROR_CODE_TRAILER) ?? [];
}

function getInfo(client: SegmentationClient, md = new Metadata()): Promise<ServerInfo> {
  return new Promise((resolve, reject) => client.getInfo({}, md, (err, res) => (err ? reject(err) : resolve(res))));
}

describe('Segment errors', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await server();
  });

  test.each([
    ['a missing file', path.join(SHARED_DATA, 'no-such-slide.svs'), {}, status.NOT_FOUND, /not found/],
    ['a corrupt slide', BROKEN_SVS, {}, status.INVALID_ARGUMENT, /broken\.svs/],
    ['a file that is no slide', FOREIGN_ONNX, {}, status.INVALID_ARGUMENT, /does not recognise/],
    ['a relative path', 'data/slide.svs', {}, status.INVALID_ARGUMENT, /absolute/],
    ['tissue_threshold > 1', CMU_SMALL, { tissueThreshold: 2 }, status.INVALID_ARGUMENT, /tissueThreshold/],
    ['a negative batch size', CMU_SMALL, { batchSize: -3 }, status.INVALID_ARGUMENT, /batchSize/],
    ['a negative pixel size', CMU_SMALL, { mpp: -1 }, status.INVALID_ARGUMENT, /mpp/],
    [
      'an unknown rule set',
      CMU_SMALL,
      { reference: 'fastpath' },
      status.INVALID_ARGUMENT,
      /reference: must be one of fast, fast-exact, h2g/,
    ],
    ['an ROI that is not JSON', CMU_SMALL, { roiGeojson: '{nope' }, status.INVALID_ARGUMENT, /roi/],
    [
      'an ROI that is a point',
      CMU_SMALL,
      { roiGeojson: '{"type":"Point","coordinates":[1,2]}' },
      status.INVALID_ARGUMENT,
      /Polygon/,
    ],
    ['a slide without pixel size', NO_MPP_TIFF, {}, status.FAILED_PRECONDITION, /no pixel size/],
  ])('%s', async (_what, slide, options, code, message) => {
    const s = await statusOf(segment(ts.client, slide, options));
    expect(status[s.code]).toBe(status[code]);
    expect(s.details).toMatch(message);
  });

  test('a model set name that is not installed: FAILED_PRECONDITION naming it; a path as name is refused', async () => {
    const s = await statusOf(segment(ts.client, CMU_SMALL, {}, { modelSet: 'nonexistent' }));
    expect(s).toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringMatching(/nonexistent/) });
    const p = await statusOf(segment(ts.client, CMU_SMALL, {}, { modelSet: '../../etc' }));
    expect(p).toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringMatching(/not a model set name/),
    });
  });

  test('FAILED_PRECONDITION says in a trailer whether the model set or the pixel size is missing', async () => {
    expect(await errorCodeOf(segment(ts.client, CMU_SMALL, {}, { modelSet: 'nonexistent' }))).toEqual([
      'MODEL_NOT_FOUND',
    ]);
    expect(await errorCodeOf(segment(ts.client, NO_MPP_TIFF))).toEqual(['NO_PIXEL_SIZE']);
    expect(await errorCodeOf(segment(ts.client, FOREIGN_ONNX))).toEqual(['UNSUPPORTED']);
    // Failures that are no typed slide or model error carry none.
    expect(await errorCodeOf(segment(ts.client, CMU_SMALL, { tissueThreshold: 2 }))).toEqual([]);
  });

  test('after all that the server still answers', async () => {
    expect((await getInfo(ts.client)).version).toBeTruthy();
  });
});

describe('model errors', () => {
  test('a wrong model (not H2G-Net) in the model directory: FAILED_PRECONDITION with the reason', async () => {
    const dir = tempDir();
    copyFileSync(FOREIGN_ONNX, path.join(dir, PUBLISHED_FILES.patch));
    copyFileSync(path.join(testModels('tiny'), PUBLISHED_FILES.refinement), path.join(dir, PUBLISHED_FILES.refinement));
    const ts = await server({ modelsDir: dir });
    const s = await statusOf(segment(ts.client, CMU_SMALL));
    expect(s.code).toBe(status.FAILED_PRECONDITION);
    expect(s.details).toMatch(/is not an H2G-Net patch classifier/);
    expect((await getInfo(ts.client)).modelSets).toEqual([]);
  });

  test('no model set configured or installed: FAILED_PRECONDITION telling how to install one', async () => {
    const ts = await server({ modelsDir: null });
    const s = await statusOf(segment(ts.client, CMU_SMALL));
    expect(s.code).toBe(status.FAILED_PRECONDITION);
    expect(s.details).toMatch(/h2g models/);
  });
});

describe('allowed roots', () => {
  test('a path outside every root is PERMISSION_DENIED whether it exists or not; inside is served', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'slides'));
    writeFileSync(path.join(root, 'slides', 'empty.svs'), '');
    const ts = await server({ allowRoots: [path.join(root, 'slides')] });
    for (const p of [CMU_SMALL, path.join(SHARED_DATA, 'no-such.svs'), path.join(root, 'slides', '..', 'x.svs')]) {
      const s = await statusOf(segment(ts.client, p));
      expect(s.code).toBe(status.PERMISSION_DENIED);
      expect(s.details).toMatch(/--allow-root/);
    }
    // Inside the root the request gets as far as OpenSlide (which rejects the empty file).
    expect((await statusOf(segment(ts.client, path.join(root, 'slides', 'empty.svs')))).code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect((await statusOf(segment(ts.client, path.join(root, 'slides', 'gone.svs')))).code).toBe(status.NOT_FOUND);
  });
});

describe('authentication', () => {
  const token = 'Zq7-secret-token-4f1c9a';
  let ts: TestServer;
  beforeAll(async () => {
    ts = await server({ token });
  });
  const withAuth = (value: string): Metadata => {
    const md = new Metadata();
    md.set('authorization', value);
    return md;
  };

  test('no token or a wrong one: UNAUTHENTICATED on every method, health included', async () => {
    for (const md of [new Metadata(), withAuth('Bearer wrong-token-000000000'), withAuth(token)]) {
      const err = await getInfo(ts.client, md).then(
        () => null,
        (e: ServiceError) => e,
      );
      expect(err?.code).toBe(status.UNAUTHENTICATED);
      expect((await statusOf(segment(ts.client, CMU_SMALL, {}, { metadata: md }))).code).toBe(status.UNAUTHENTICATED);
    }
    const health = new HealthClient(ts.address, credentials.createInsecure());
    const code = await new Promise<number>((resolve) =>
      health.check({ service: '' }, (err) => resolve(err?.code ?? 0)),
    );
    expect(code).toBe(status.UNAUTHENTICATED);
    health.close();
  });

  test('the right token passes', async () => {
    const info = await getInfo(ts.client, withAuth(`Bearer ${token}`));
    expect(info.limits?.requiresToken).toBe(true);
    const s = await statusOf(
      segment(ts.client, path.join(SHARED_DATA, 'no-such.svs'), {}, { metadata: withAuth(`Bearer ${token}`) }),
    );
    expect(s.code).toBe(status.NOT_FOUND);
  });
});

describe('SegmentPixels protocol errors', () => {
  let ts: TestServer;
  let slide: OpenSlide;
  beforeAll(async () => {
    ts = await server({ regionTimeoutSeconds: 2 });
    slide = await OpenSlide.open(CMU_SMALL);
  });
  afterAll(async () => {
    await slide.close();
  });

  async function rawCall(messages: PixelClientMessage[], end = true): Promise<ServiceError | null> {
    const call = ts.client.segmentPixels();
    const done = collect(call);
    for (const m of messages) call.write(m);
    if (end) call.end();
    return (await done).error;
  }

  test('the first message is not `start`: INVALID_ARGUMENT', async () => {
    const err = await rawCall([
      { message: { $case: 'region', region: { id: 1, width: 1, height: 1, rgb: Buffer.alloc(3), error: '' } } },
    ]);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/first message/) });
  });

  test('the stream ends before `start`: INVALID_ARGUMENT', async () => {
    expect((await rawCall([]))?.code).toBe(status.INVALID_ARGUMENT);
  });

  test('an impossible image description: INVALID_ARGUMENT', async () => {
    const err = await rawCall(
      [
        {
          message: {
            $case: 'start',
            start: {
              image: { name: 'x', width: 0, height: 5, pixelSizeUm: 1, downsamples: [1] },
              modelSet: '',
              precision: '',
              options: fullOptions(),
            },
          },
        },
      ],
      false,
    );
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/size/) });
  });

  test('an answer of the wrong size: INVALID_ARGUMENT saying what was expected', async () => {
    const call = ts.client.segmentPixels();
    const done = collect(call);
    call.on('data', (m: { message?: { $case: string; regionRequest?: { id: number } } }) => {
      if (m.message?.$case === 'regionRequest') {
        call.write({
          message: {
            $case: 'region',
            region: { id: m.message.regionRequest!.id, width: 2, height: 2, rgb: Buffer.alloc(12), error: '' },
          },
        });
      }
    });
    call.write({
      message: {
        $case: 'start',
        start: {
          image: { name: 'x', width: 600, height: 400, pixelSizeUm: 0.5, downsamples: [1] },
          modelSet: '',
          precision: '',
          options: fullOptions(),
        },
      },
    });
    const { error } = await done;
    expect(error).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/expected 600 x \d+ RGB/),
    });
  });

  test('the client reports it cannot read a region: INVALID_ARGUMENT with its message', async () => {
    const source = {
      ...slide,
      levels: slide.levels,
      pixelSize: slide.pixelSize,
      description: 'x',
      bounds: null,
      readRegion: () => Promise.reject(new Error('tile server said 503')),
      close: async () => undefined,
    };
    const got = await segmentPixels(ts.client, source).done;
    expect(got.error).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/tile server said 503/),
    });
  });

  test('no pixel size from the client and none in the options: FAILED_PRECONDITION', async () => {
    const got = await segmentPixels(ts.client, slide, { pixelSizeUm: 0 }).done;
    expect(got.error?.code).toBe(status.FAILED_PRECONDITION);
  });

  test('a client that stops answering: DEADLINE_EXCEEDED after the region timeout', async () => {
    const started = Date.now();
    const got = await segmentPixels(ts.client, slide, { beforeAnswer: () => false }).done;
    expect(got.error).toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: expect.stringMatching(/did not answer/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(ts.server.stats).toEqual({ running: 0, queued: 0, active: 0 });
  });
});
