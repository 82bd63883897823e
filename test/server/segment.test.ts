/**
 * The two segmentation methods end to end on a real `h2g serve`: progress in order ending in one result,
 * live patch scores, mask and heatmap on request, and the pixel-supplying method giving the same
 * polygons as the path method on CMU-1. Also GetInfo and the health service.
 */
import { credentials } from '@grpc/grpc-js';
import { PNG } from 'pngjs';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../src/generated/health/v1/health';
import type { SegmentEvent, ServerInfo } from '../../src/generated/h2gnet/v1/segmentation';
import { OpenSlide } from '../../src/slide/openslide';
import { CMU_SMALL } from '../helpers/paths';
import { type ChildServer, spawnServer } from './child';
import { collect, geometries, resultOf, segment, segmentPixels, stagesOf } from './helpers';

let ts: ChildServer;
let byPath: { events: SegmentEvent[] };

beforeAll(async () => {
  ts = await spawnServer(['--max-concurrent', '2']);
  const got = await collect(
    segment(ts.client, CMU_SMALL, { livePatches: true, includeMask: true, includeHeatmap: true }),
  );
  expect(got.error).toBeNull();
  byPath = got;
});

afterAll(async () => {
  expect(await ts?.stop()).toBe(0);
});

const STAGE_ORDER = ['queued', 'opening', 'tissue', 'patches', 'refinement', 'polygons', 'done'];

describe('Segment (the server reads the slide)', () => {
  test('progress events arrive in stage order and the stream ends in exactly one result', () => {
    const stages = stagesOf(byPath.events);
    expect(stages[0]).toBe('opening');
    expect(stages[stages.length - 1]).toBe('done');
    const ranks = stages.map((s) => STAGE_ORDER.indexOf(s));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeGreaterThanOrEqual(ranks[i - 1]!);
    expect(new Set(stages)).toEqual(new Set(['opening', 'tissue', 'patches', 'refinement', 'polygons', 'done']));
    const results = byPath.events.filter((e) => e.event?.$case === 'result');
    expect(results).toHaveLength(1);
    expect(byPath.events[byPath.events.length - 1]!.event?.$case).toBe('result');
  });

  test('patch progress counts up to its total', () => {
    const patches = byPath.events.flatMap((e) =>
      e.event?.$case === 'progress' && e.event.progress.stage === 'patches' ? [e.event.progress] : [],
    );
    expect(patches.length).toBeGreaterThan(1);
    const last = patches[patches.length - 1]!;
    expect(last.total).toBeGreaterThan(0);
    expect(last.done).toBe(last.total);
    for (let i = 1; i < patches.length; i++) expect(patches[i]!.done).toBeGreaterThanOrEqual(patches[i - 1]!.done);
  });

  test('result: GeoJSON FeatureCollection, summary, PNG mask and heatmap matching the live patch scores', () => {
    const result = resultOf(byPath.events)!;
    const fc = JSON.parse(result.geojson) as { type: string; features: unknown[] };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.length).toBe(result.summary!.polygonCount);
    expect(result.summary!.patchesInferred).toBeGreaterThan(0);
    expect(result.summary!.patchesTotal).toBeGreaterThanOrEqual(result.summary!.patchesInferred);
    expect(result.summary!.totalSeconds).toBeGreaterThan(0);
    expect(Object.keys(result.summary!.stageSeconds)).toEqual(expect.arrayContaining(['tissue', 'patches']));

    const png = PNG.sync.read(Buffer.from(result.maskPng));
    expect([png.width, png.height]).toEqual([1024, 1024]);
    const heat = result.heatmap!;
    expect(heat.values).toHaveLength(heat.rows * heat.cols);

    // Every live score equals the final heatmap cell, and together they cover every inferred patch.
    const live = new Map<number, number>();
    for (const e of byPath.events) {
      if (e.event?.$case !== 'patches') continue;
      const scores = e.event.patches;
      expect([scores.rows, scores.cols]).toEqual([heat.rows, heat.cols]);
      scores.cells.forEach((c, i) => live.set(c, scores.probabilities[i]!));
    }
    expect(live.size).toBe(result.summary!.patchesInferred);
    for (const [cell, p] of live) expect(heat.values[cell]).toBeCloseTo(p, 6);
  });
});

describe('SegmentPixels (the client supplies the pixels)', () => {
  test('same polygons as Segment on CMU-1, with pixels read by the client through OpenSlide', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    try {
      const run = segmentPixels(ts.client, slide, { name: 'CMU-1-Small-Region', options: { includeHeatmap: true } });
      const got = await run.done;
      expect(got.error).toBeNull();
      expect(got.regionRequests).toBeGreaterThan(0);
      const pixels = resultOf(got.events)!;
      const path = resultOf(byPath.events)!;
      expect(pixels.summary!.polygonCount).toBeGreaterThan(0);
      expect(geometries(pixels)).toEqual(geometries(path));
      expect(pixels.heatmap!.values).toEqual(path.heatmap!.values);
      expect(pixels.summary!.patchesInferred).toBe(path.summary!.patchesInferred);
      expect(stagesOf(got.events).slice(-1)).toEqual(['done']);
    } finally {
      await slide.close();
    }
  });
});

describe('GetInfo and health', () => {
  test('GetInfo: version, the default model set with SHA-256 digests, providers, limits', async () => {
    const info = await new Promise<ServerInfo>((resolve, reject) =>
      ts.client.getInfo({}, (err, res) => (err ? reject(err) : resolve(res))),
    );
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.modelSets).toHaveLength(1);
    const set = info.modelSets[0]!;
    expect(set.isDefault).toBe(true);
    expect(set.files.map((f) => f.role).sort()).toEqual(['patch', 'refinement']);
    for (const f of set.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.executionProviders).toContain('cpu');
    expect(info.limits).toMatchObject({ maxConcurrent: 2, maxQueue: 16, requiresToken: false, allowedRoots: [] });
  });

  test('health reports SERVING for the server and for h2gnet.v1.Segmentation, NOT_FOUND for others', async () => {
    const health = new HealthClient(ts.address, credentials.createInsecure());
    const check = (service: string) =>
      new Promise<{ status?: HealthCheckResponse_ServingStatus; code?: number }>((resolve) =>
        health.check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res.status })),
      );
    expect(await check('')).toEqual({ status: HealthCheckResponse_ServingStatus.SERVING });
    expect(await check('h2gnet.v1.Segmentation')).toEqual({ status: HealthCheckResponse_ServingStatus.SERVING });
    expect(await check('nope')).toEqual({ code: 5 });
    health.close();
  });
});

describe('the long-lived sidecar loads nothing twice', () => {
  test('a further job on the same server reuses the model set: one load for all jobs', async () => {
    const again = await collect(segment(ts.client, CMU_SMALL, {}));
    expect(again.error).toBeNull();
    expect(resultOf(again.events)?.geojson).toBeTruthy();
    expect(geometries(resultOf(again.events))).toEqual(geometries(resultOf(byPath.events)));
    const finished = ts.logs.filter((l) => l.msg === 'job finished');
    expect(finished.length).toBeGreaterThanOrEqual(3); // Segment, SegmentPixels, this one
    expect(ts.logs.filter((l) => l.msg === 'model set loaded')).toHaveLength(1);
  });
});
