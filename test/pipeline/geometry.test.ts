/**
 * Geometry end to end on a slide whose tumour regions are known (test/helpers/shapes.ts), with the
 * oracle models whose output follows the tumour colour: the GeoJSON polygons must cover the known
 * regions, keep the ring's hole, and reach the slide's edges.
 */
import type { Polygon } from 'geojson';
import { loadModelSet, type ModelSet } from '../../src/models/model-set';
import { segmentSlide } from '../../src/pipeline/segment';
import type { SegmentationResult } from '../../src/pipeline/types';
import { OpenSlide } from '../../src/slide/openslide';
import { MODELS, SHAPES_TIFF } from '../helpers/paths';
import { dice, rasterize } from '../helpers/raster';
import { SHAPES_HEIGHT, SHAPES_MPP, SHAPES_WIDTH, isTumour, truthMask } from '../helpers/shapes';

let slide: OpenSlide;
let models: ModelSet;
let result: SegmentationResult;
const truth = truthMask(1024, 1024);

beforeAll(async () => {
  slide = await OpenSlide.open(SHAPES_TIFF);
  models = await loadModelSet(MODELS.oracle, { provider: 'cpu', threads: 1 });
  result = await segmentSlide(slide, models, {});
});

afterAll(async () => {
  await slide.close();
  await models.release();
});

const polygons = () => result.geojson.features.map((f) => (f.geometry as Polygon).coordinates);

test('the refinement mask matches the known regions (Dice >= 0.95)', () => {
  expect(dice(result.mask.data, truth)).toBeGreaterThanOrEqual(0.95);
});

test('the GeoJSON polygons cover the known regions (Dice >= 0.95 at the mask resolution)', () => {
  const drawn = rasterize(result.geojson, 1024, 1024, SHAPES_WIDTH, SHAPES_HEIGHT);
  expect(dice(drawn, truth)).toBeGreaterThanOrEqual(0.95);
});

test('four separate regions; the ring keeps its hole', () => {
  expect(result.geojson.features).toHaveLength(4);
  const withHole = polygons().filter((rings) => rings.length === 2);
  expect(withHole).toHaveLength(1);
  // The hole surrounds the ring's centre, which is not tumour.
  const hole = withHole[0]![1]!;
  const xs = hole.map((p) => p[0]!);
  const ys = hole.map((p) => p[1]!);
  expect(Math.min(...xs)).toBeLessThan(2400);
  expect(Math.max(...xs)).toBeGreaterThan(2400);
  expect(Math.min(...ys)).toBeLessThan(2400);
  expect(Math.max(...ys)).toBeGreaterThan(2400);
  expect(isTumour(2400, 2400)).toBe(false);
});

test('regions touching the slide edge reach it', () => {
  const all = polygons().flat(2);
  expect(Math.max(...all.map((p) => p[0]!))).toBeCloseTo(SHAPES_WIDTH, 6);
  expect(Math.min(...all.map((p) => p[0]!))).toBeCloseTo(0, 6);
  expect(Math.max(...all.map((p) => p[1]!))).toBeCloseTo(SHAPES_HEIGHT, 6);
});

test('vertices are not needlessly dense: straight edges keep few vertices', () => {
  const rectangle = polygons().find((rings) => rings[0]!.every((p) => p[0]! > 6000))!;
  expect(rectangle).toBeDefined();
  expect(rectangle[0]!.length).toBeLessThan(12);
  const total = polygons().reduce((n, rings) => n + rings.reduce((m, r) => m + r.length, 0), 0);
  // The raw marching-squares contours have one vertex per boundary pixel edge (thousands here).
  expect(total).toBeLessThan(1500);
});

test('areas and summary are in physical units', () => {
  const expectedMm2 =
    (Array.from(truth).filter((v) => v).length / truth.length) * SHAPES_WIDTH * SHAPES_HEIGHT * SHAPES_MPP ** 2 * 1e-6;
  expect(result.summary.tumourAreaMm2).toBeGreaterThan(expectedMm2 * 0.95);
  expect(result.summary.tumourAreaMm2).toBeLessThan(expectedMm2 * 1.05);
  const areas = result.geojson.features.map(
    (f) => (f.properties!.measurements as Record<string, number>)['Area µm^2']!,
  );
  expect(areas.reduce((a, b) => a + b, 0) * 1e-6).toBeCloseTo(result.summary.tumourAreaMm2, 6);
  expect(result.summary.tissueAreaMm2).toBeCloseTo(SHAPES_WIDTH * SHAPES_HEIGHT * SHAPES_MPP ** 2 * 1e-6, 3);
});

test('a region of interest restricts patches and clips polygons', async () => {
  const roi: Polygon = {
    type: 'Polygon',
    coordinates: [
      [
        [6000, 0],
        [8192, 0],
        [8192, 3000],
        [6000, 3000],
        [6000, 0],
      ],
    ],
  };
  const clipped = await segmentSlide(slide, models, { roi });
  expect(clipped.summary.patchesInferred).toBeLessThan(result.summary.patchesInferred);
  expect(clipped.geojson.features).toHaveLength(1);
  const pts = (clipped.geojson.features[0]!.geometry as Polygon).coordinates.flat();
  expect(Math.min(...pts.map((p) => p[0]!))).toBeGreaterThanOrEqual(6000 - 1e-6);
  expect(Math.max(...pts.map((p) => p[1]!))).toBeLessThanOrEqual(3000 + 1e-6);
});

test('cancelling through the AbortSignal rejects with a CancelledError', async () => {
  const controller = new AbortController();
  const run = segmentSlide(
    slide,
    models,
    { batchSize: 2 },
    {
      signal: controller.signal,
      onPatches: () => controller.abort(),
    },
  );
  await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
});

test('a cancel during the polygon stage still rejects with a CancelledError', async () => {
  const controller = new AbortController();
  const stages: string[] = [];
  const run = segmentSlide(
    slide,
    models,
    {},
    {
      signal: controller.signal,
      onProgress: (e) => {
        stages.push(e.stage);
        if (e.stage === 'polygons') controller.abort();
      },
    },
  );
  await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  expect(stages).toContain('polygons');
  expect(stages).not.toContain('done');
});
