/**
 * Work is bounded before it starts: the job's plan (grid, low-resolution read, smoothing radius, ROI,
 * memory) is checked against the limits before a pixel is read, and the refusal names the limit and
 * its flag. Before, a tiny pixel size with a large smoothing radius ran the whole job and then a disk
 * of ~90,000 px radius over the mask (a stall); 50 um/px planned a million patches.
 */
import { type ModelSet, loadModelSet } from '../../src/models/model-set';
import { LimitError } from '../../src/pipeline/errors';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_LIMITS, LIMIT_SPECS, resolveLimits } from '../../src/pipeline/limits';
import { parseRoi, validateOptions } from '../../src/pipeline/options';
import { checkPlan, planJob } from '../../src/pipeline/plan';
import { segmentSlide } from '../../src/pipeline/segment';
import type { SegmentOptions } from '../../src/pipeline/types';
import { OpenSlide } from '../../src/slide/openslide';
import type { SlideSource } from '../../src/slide/source';
import { runCli } from '../helpers/cli';
import { CMU_SMALL, MODELS, PYRAMID_40X, ROOT, SHAPES_TIFF } from '../helpers/paths';

const PARAMS = { patchSize: 256, patchMpp: 1, refinementSize: 1024, tumourChannel: 1 };
const options = (o: Partial<SegmentOptions> = {}): SegmentOptions => validateOptions(o);

let models: ModelSet;
beforeAll(async () => {
  models = await loadModelSet(MODELS.tiny, { provider: 'cpu', threads: 1 });
});
afterAll(() => models.release());

/** The real slide, with its reads counted. */
async function counted(file: string): Promise<{ source: SlideSource; reads: () => number }> {
  const slide = await OpenSlide.open(file);
  let reads = 0;
  const source: SlideSource = {
    description: slide.description,
    levels: slide.levels,
    pixelSize: slide.pixelSize,
    bounds: slide.bounds,
    readRegion: (r) => (reads++, slide.readRegion(r)),
    readRegionsInto: (r, t) => (reads++, slide.readRegionsInto(r, t)),
    close: () => slide.close(),
  };
  return { source, reads: () => reads };
}

async function refusal(file: string, o: Partial<SegmentOptions>, limits = DEFAULT_LIMITS) {
  const { source, reads } = await counted(file);
  try {
    const err = await segmentSlide(source, models, o, {}, limits).then(
      () => null,
      (e: Error) => e,
    );
    return { err, reads: reads() };
  } finally {
    await source.close();
  }
}

test('a tiny pixel size with a large smoothing radius is refused before any read', async () => {
  const { err, reads } = await refusal(CMU_SMALL, { mpp: 0.05, smoothingUm: 10000 });
  expect(err).toBeInstanceOf(LimitError);
  expect((err as LimitError).limit).toBe('maxSmoothingRadiusPx');
  expect(err!.message).toMatch(
    /smoothing radius .*: 78,967 exceeds the limit maxSmoothingRadiusPx = 256 .*--max-smoothing-radius-px/,
  );
  expect(reads).toBe(0);
});

test('a pixel size that plans a million patches is refused before any read', async () => {
  const { err, reads } = await refusal(PYRAMID_40X, { mpp: 50, forceMpp: true });
  expect((err as LimitError).limit).toBe('maxGridCells');
  expect(err!.message).toContain('the patch grid (1159 x 868) is too large');
  expect(reads).toBe(0);
});

test('tissue patches over maxPatches are refused after the tissue stage, before inference', async () => {
  const { err, reads } = await refusal(SHAPES_TIFF, {}, resolveLimits({ maxPatches: 47 }));
  expect((err as LimitError).limit).toBe('maxPatches');
  expect(err!.message).toContain('48 exceeds the limit maxPatches = 47');
  expect(reads).toBe(1); // the low-resolution level only
});

test('a batch whose inference memory exceeds the budget is refused', async () => {
  const { err } = await refusal(CMU_SMALL, { batchSize: 512 });
  expect((err as LimitError).limit).toBe('maxJobMemoryMiB');
  const plan = planJob([{ width: 2220, height: 2967, downsample: 1 }], { x: 0.5, y: 0.5 }, PARAMS, options());
  expect(plan.memoryBytes / 2 ** 20).toBeGreaterThan(16 * 22);
  expect(plan.memoryBytes / 2 ** 20).toBeLessThan(DEFAULT_LIMITS.maxJobMemoryMiB / 4);
});

test('plan: a level read whole for the low-resolution image is bounded (a pyramid that stops early)', () => {
  const flat = [{ width: 200_000, height: 150_000, downsample: 1 }];
  const plan = planJob(flat, { x: 0.25, y: 0.25 }, PARAMS, options());
  expect(plan.lowResReadPixels).toBe(3e10);
  expect(plan.lowRes).toEqual({ factor: 49, width: 4082, height: 3062, rowsPerStrip: 49 });
  expect(() => checkPlan(plan, DEFAULT_LIMITS)).toThrow(/maxLowResPixels/);
  const pyramid = [...flat, { width: 3125, height: 2344, downsample: 64 }];
  expect(() => checkPlan(planJob(pyramid, { x: 0.25, y: 0.25 }, PARAMS, options()), DEFAULT_LIMITS)).not.toThrow();
});

test('an ROI over maxRoiVertices is refused before it is validated in detail', () => {
  const ring = Array.from({ length: 100_001 }, (_, i) => [Math.cos(i) * 100, Math.sin(i) * 100]);
  ring.push(ring[0]!);
  const text = JSON.stringify({ type: 'Polygon', coordinates: [ring] });
  expect(() => parseRoi(text)).toThrow(LimitError);
  expect(() => parseRoi(text)).toThrow(/100,002 exceeds the limit maxRoiVertices = 100,000/);
  expect(parseRoi(text, 200_000).type).toBe('Polygon');
});

test('pixel sizes outside [0.05, 50] um need forceMpp, given or from the slide', async () => {
  expect(() => validateOptions({ mpp: 100 })).toThrow(/mpp 100 um\/px is outside \[0.05, 50\]/);
  expect(() => validateOptions({ mpp: 0.01 })).toThrow(/--force-mpp/);
  expect(validateOptions({ mpp: 100, forceMpp: true }).mpp).toBe(100);
  expect(() => resolveLimits({ maxPatches: 0 })).toThrow('--max-patches must be a whole number > 0');
});

describe('h2g segment', () => {
  test('a limit exceeded exits 1 naming the limit; an option no one can mean exits 2', async () => {
    const out = '/tmp/h2g-limits-never-written.geojson';
    const limit = await runCli(['segment', SHAPES_TIFF, '--models', MODELS.tiny, '-o', out, '--max-patches', '10']);
    expect(limit.code).toBe(1);
    expect(limit.stderr).toContain('exceeds the limit maxPatches = 10');
    const threads = await runCli(['segment', SHAPES_TIFF, '--models', MODELS.tiny, '-o', out, '--threads', '1000']);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toMatch(/--threads 1000 is more than 4 per CPU/);
    const mpp = await runCli(['segment', SHAPES_TIFF, '--models', MODELS.tiny, '-o', out, '--mpp', '0.01']);
    expect(mpp.code).toBe(2);
    expect(mpp.stderr).toContain('outside [0.05, 50]');
    const bad = await runCli(['segment', SHAPES_TIFF, '--models', MODELS.tiny, '-o', out, '--max-grid-cells', 'x']);
    expect(bad.code).toBe(2);
  });
});

test('the README documents every limit with its flag and default (one table)', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const s of LIMIT_SPECS) {
    expect(readme).toContain(`| \`${s.flag}\` | ${s.default.toLocaleString('en-US')} | ${s.description} |`);
  }
});
