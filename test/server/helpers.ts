/**
 * Shared pieces of the server tests: test models and a small slide generated once into .cache/,
 * a real server on 127.0.0.1 with an ephemeral port, a real grpc-js client, and event collectors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ClientDuplexStream,
  type ClientReadableStream,
  Metadata,
  type ServiceError,
  credentials,
} from '@grpc/grpc-js';
import {
  type PixelClientMessage,
  type PixelServerMessage,
  type SegmentEvent,
  type SegmentResult,
  SegmentationClient,
  type SegmentOptions,
} from '../../src/generated/h2gnet/v1/segmentation';
import { createLogger } from '../../src/log';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/server/config';
import { H2gServer, type ServerDeps } from '../../src/server/server';
import type { SlideSource } from '../../src/slide/source';
import { CMU_SMALL, ROOT } from '../helpers/paths';

const CACHE = path.join(ROOT, '.cache', 'server-tests');

/** Creates `target` with `make(tmp)` once; concurrent jest workers race safely via rename. */
function makeOnce(target: string, make: (tmp: string) => void): string {
  if (existsSync(target)) return target;
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.partial-${process.pid}${path.extname(target)}`;
  rmSync(tmp, { recursive: true, force: true });
  make(tmp);
  try {
    renameSync(tmp, target);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker won
  }
  return target;
}

export function testModels(variant: 'tiny' | 'oracle' | 'full' = 'tiny'): string {
  return makeOnce(path.join(CACHE, 'models', variant), (tmp) =>
    execFileSync(
      '/usr/bin/python3',
      [path.join(ROOT, 'scripts', 'make_test_models.py'), '--variant', variant, '--out', tmp],
      {
        stdio: 'ignore',
      },
    ),
  );
}

/** CMU-1-Small-Region at half size (1110 x 1484, 0.998 um/px), tiled pyramidal TIFF: a cheap job. */
export function smallSlide(): string {
  const target = path.join(CACHE, 'cmu-half.tif');
  if (existsSync(target)) return target;
  const v = path.join(CACHE, `cmu-half-${process.pid}.v`);
  mkdirSync(CACHE, { recursive: true });
  execFileSync('vips', ['resize', CMU_SMALL, v, '0.5']);
  makeOnce(target, (tmp) =>
    execFileSync('vips', [
      'tiffsave',
      v,
      tmp,
      '--tile',
      '--tile-width',
      '256',
      '--tile-height',
      '256',
      '--pyramid',
      '--compression',
      'jpeg',
      '--Q',
      '90',
      '--xres',
      '1002.004',
      '--yres',
      '1002.004',
      '--resunit',
      'cm',
    ]),
  );
  rmSync(v, { force: true });
  return target;
}

export function tempDir(prefix = 'h2g-server-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Pino at level silent unless H2G_TEST_LOG is set (then JSON on stderr, for debugging). */
export const testLogger = createLogger(process.env.H2G_TEST_LOG ?? 'silent');

export interface TestServer {
  server: H2gServer;
  client: SegmentationClient;
  address: string;
  close(): Promise<void>;
}

export async function startServer(overrides: Partial<ServerConfig> = {}, deps: ServerDeps = {}): Promise<TestServer> {
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    modelsDir: testModels('tiny'),
    token: null,
    tls: null,
    ...overrides,
  };
  // An empty models home, so nothing from the user's own installation leaks into a test.
  const env = deps.env ?? { H2G_MODELS_HOME: tempDir('h2g-models-home-') };
  const server = await H2gServer.start(config, testLogger, { ...deps, env });
  const address = `127.0.0.1:${server.port}`;
  const client = new SegmentationClient(address, credentials.createInsecure());
  return {
    server,
    client,
    address,
    close: async () => {
      client.close();
      await server.shutdown(0);
    },
  };
}

export interface Collected<E> {
  events: E[];
  error: ServiceError | null;
}

export function collect<E>(call: ClientReadableStream<E> | ClientDuplexStream<unknown, E>): Promise<Collected<E>> {
  return new Promise((resolve) => {
    const events: E[] = [];
    call.on('data', (e: E) => events.push(e));
    call.on('error', (error: ServiceError) => resolve({ events, error }));
    call.on('end', () => resolve({ events, error: null }));
  });
}

export function segment(
  client: SegmentationClient,
  slidePath: string,
  options: Partial<SegmentOptions> = {},
  extra: { modelSet?: string; precision?: string; metadata?: Metadata; deadline?: Date } = {},
): ClientReadableStream<SegmentEvent> {
  return client.segment(
    { slidePath, modelSet: extra.modelSet ?? '', precision: extra.precision ?? '', options: fullOptions(options) },
    extra.metadata ?? new Metadata(),
    extra.deadline ? { deadline: extra.deadline } : {},
  );
}

export function fullOptions(options: Partial<SegmentOptions> = {}): SegmentOptions {
  return {
    mpp: 0,
    tissueThreshold: 0,
    roiGeojson: '',
    batchSize: 0,
    livePatches: false,
    includeMask: false,
    reference: '',
    includeHeatmap: false,
    smoothingUm: 0,
    ...options,
  };
}

export function resultOf(events: SegmentEvent[]): SegmentResult | undefined {
  const last = events[events.length - 1];
  return last?.event?.$case === 'result' ? last.event.result : undefined;
}

export function stagesOf(events: SegmentEvent[]): string[] {
  return events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.progress.stage] : []));
}

export interface PixelClientOptions {
  name?: string;
  pixelSizeUm?: number;
  modelSet?: string;
  precision?: string;
  options?: Partial<SegmentOptions>;
  /** Called for each region request before answering; return false to leave it unanswered. */
  beforeAnswer?: (index: number) => boolean | Promise<boolean>;
  deadline?: Date;
}

export interface PixelRun {
  call: ClientDuplexStream<PixelClientMessage, PixelServerMessage>;
  done: Promise<Collected<SegmentEvent> & { regionRequests: number }>;
}

/** A SegmentPixels client that answers the server's region requests from `source` (e.g. OpenSlide). */
export function segmentPixels(client: SegmentationClient, source: SlideSource, o: PixelClientOptions = {}): PixelRun {
  const call = client.segmentPixels(new Metadata(), o.deadline ? { deadline: o.deadline } : {});
  const level0 = source.levels[0]!;
  call.write({
    message: {
      $case: 'start',
      start: {
        image: {
          name: o.name ?? source.description,
          width: level0.width,
          height: level0.height,
          pixelSizeUm: o.pixelSizeUm ?? source.pixelSize?.x ?? 0,
          downsamples: source.levels.map((l) => l.downsample),
        },
        modelSet: o.modelSet ?? '',
        precision: o.precision ?? '',
        options: fullOptions(o.options),
      },
    },
  });
  let regionRequests = 0;
  const done = new Promise<Collected<SegmentEvent> & { regionRequests: number }>((resolve) => {
    const events: SegmentEvent[] = [];
    call.on('data', (msg: PixelServerMessage) => {
      const m = msg.message;
      if (m?.$case === 'event') events.push(m.event);
      if (m?.$case !== 'regionRequest') return;
      const r = m.regionRequest;
      const index = regionRequests++;
      void (async () => {
        if (o.beforeAnswer && !(await o.beforeAnswer(index))) return;
        const image = await source.readRegion({ level: r.level, x: r.x, y: r.y, width: r.width, height: r.height });
        call.write({
          message: {
            $case: 'region',
            region: {
              id: r.id,
              width: image.width,
              height: image.height,
              rgb: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
              error: '',
            },
          },
        });
      })().catch((err: Error) =>
        call.write({
          message: {
            $case: 'region',
            region: { id: r.id, width: 0, height: 0, rgb: Buffer.alloc(0), error: err.message },
          },
        }),
      );
    });
    call.on('error', (error: ServiceError) => resolve({ events, error, regionRequests }));
    call.on('end', () => resolve({ events, error: null, regionRequests }));
  });
  return { call, done };
}

/** Waits until `predicate` holds, polling; fails the test after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 20000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polygons of a result's GeoJSON, for comparing two results. */
export function geometries(result: SegmentResult | undefined): unknown[] {
  const fc = JSON.parse(result?.geojson ?? '{"features":[]}') as { features: { geometry: unknown }[] };
  return fc.features.map((f) => f.geometry);
}
