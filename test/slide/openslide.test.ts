import { copyFileSync, chmodSync, mkdtempSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenSlide } from '../../src/slide/openslide';
import { SlideError } from '../../src/slide/errors';
import { BROKEN_SVS, CMU_SMALL, NO_MPP_TIFF, PYRAMID_40X, ROOT } from '../helpers/paths';
import { referenceRegion } from '../helpers/openslide-tools';

async function expectSlideError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SlideError);
  expect((err as SlideError).code).toBe(code);
  expect((err as SlideError).message).toMatch(message);
}

describe('OpenSlide metadata', () => {
  test('Aperio SVS: vendor, size, one level, 0.499 um/px from openslide.mpp, 20x', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    expect(slide.vendor).toBe('aperio');
    expect(slide.levels).toEqual([{ width: 2220, height: 2967, downsample: 1 }]);
    expect(slide.pixelSize).toEqual({ x: 0.499, y: 0.499, source: 'openslide.mpp' });
    expect(slide.objectivePower).toBe(20);
    expect(Object.keys(slide.associatedImages).sort()).toEqual(['label', 'macro', 'thumbnail']);
    expect(slide.properties['aperio.AppMag']).toBe('20');
    await slide.close();
  });

  test('generic TIFF from libvips: pyramid levels and 0.25 um/px from tiff.XResolution', async () => {
    const slide = await OpenSlide.open(PYRAMID_40X);
    expect(slide.vendor).toBe('generic-tiff');
    expect(slide.levels.length).toBeGreaterThanOrEqual(4);
    expect(slide.levels[0]).toEqual({ width: 4440, height: 5934, downsample: 1 });
    expect(slide.levels[2]!.width).toBe(1110);
    expect(slide.levels[2]!.downsample).toBeCloseTo(4, 2);
    expect(slide.pixelSize!.source).toBe('tiff.resolution');
    expect(slide.pixelSize!.x).toBeCloseTo(0.25, 6);
    expect(slide.pixelSize!.y).toBeCloseTo(0.25, 6);
    expect(slide.objectivePower).toBeNull();
    expect(slide.bestLevelForDownsample(4)).toBe(2);
    expect(slide.bestLevelForDownsample(3.9)).toBe(1);
    expect(slide.bestLevelForDownsample(1000)).toBe(slide.levels.length - 1);
    await slide.close();
  });

  test('a placeholder resolution is not taken as a pixel size', async () => {
    const slide = await OpenSlide.open(NO_MPP_TIFF);
    expect(slide.pixelSize).toBeNull();
    await slide.close();
  });

  test('associated images come back as RGB of their declared size', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    const thumb = await slide.readAssociatedImage('thumbnail');
    expect(thumb).toMatchObject(slide.associatedImages.thumbnail!);
    expect(thumb.data.length).toBe(thumb.width * thumb.height * 3);
    await expectSlideError(slide.readAssociatedImage('nonexistent'), 'NOT_FOUND', /no associated image/);
    await slide.close();
  });
});

describe('OpenSlide pixels equal openslide-write-png', () => {
  const cases: [string, string, number, number, number, number, number][] = [
    ['SVS inside', CMU_SMALL, 700, 900, 0, 256, 256],
    ['SVS across the bottom-right edge', CMU_SMALL, 2100, 2900, 0, 300, 200],
    ['SVS beyond the top-left edge', CMU_SMALL, -100, -50, 0, 300, 200],
    ['SVS entirely outside', CMU_SMALL, 5000, 5000, 0, 64, 64],
    ['TIFF level 0 inside', PYRAMID_40X, 1000, 1500, 0, 256, 256],
    ['TIFF level 2 (10x) across the edge', PYRAMID_40X, 4000, 5000, 2, 300, 300],
    ['TIFF level 1 beyond the left edge', PYRAMID_40X, -512, 100, 1, 400, 128],
    ['TIFF coarsest level whole', PYRAMID_40X, 0, 0, 5, 138, 185],
  ];
  test.each(cases)('%s', async (_name, file, x, y, level, w, h) => {
    const slide = await OpenSlide.open(file);
    const region = await slide.readRegion({ level, x, y, width: w, height: h });
    expect(region.width).toBe(w);
    expect(region.height).toBe(h);
    const expected = referenceRegion(file, x, y, level, w, h);
    expect(Buffer.compare(Buffer.from(region.data), expected)).toBe(0);
    await slide.close();
  });

  test('outside the image is white', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    const region = await slide.readRegion({ level: 0, x: -64, y: -64, width: 32, height: 32 });
    expect(region.data.every((v) => v === 255)).toBe(true);
    await slide.close();
  });
});

describe('OpenSlide errors', () => {
  test('missing path', async () => {
    await expectSlideError(
      OpenSlide.open('/no/such/slide.svs'),
      'NOT_FOUND',
      /slide not found: \/no\/such\/slide\.svs/,
    );
  });

  test('a directory', async () => {
    await expectSlideError(OpenSlide.open(ROOT), 'NOT_FOUND', /not a file/);
  });

  test('a file OpenSlide does not recognise', async () => {
    await expectSlideError(OpenSlide.open(path.join(ROOT, 'package.json')), 'UNSUPPORTED', /does not recognise/);
  });

  test('the corrupt broken.svs', async () => {
    await expectSlideError(OpenSlide.open(BROKEN_SVS), 'UNSUPPORTED', /broken\.svs/);
  });

  test('a slide whose tile data is damaged opens, then reads fail with CORRUPT', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'h2g-corrupt-'));
    const file = path.join(dir, 'damaged.svs');
    copyFileSync(CMU_SMALL, file);
    chmodSync(file, 0o644);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(50000), 0, 50000, 600000);
    closeSync(fd);
    const slide = await OpenSlide.open(file);
    await expectSlideError(
      slide.readRegion({ level: 0, x: 0, y: 0, width: 2220, height: 2967 }),
      'CORRUPT',
      /cannot be decoded/,
    );
    await slide.close();
  });

  test.each([
    ['negative width', { level: 0, x: 0, y: 0, width: -5, height: 10 }, /region size -5x10 is not allowed/],
    ['zero height', { level: 0, x: 0, y: 0, width: 10, height: 0 }, /not allowed/],
    ['absurd size', { level: 0, x: 0, y: 0, width: 1e6, height: 1e6 }, /not allowed/],
    ['fractional coordinate', { level: 0, x: 0.5, y: 0, width: 10, height: 10 }, /integers/],
    ['missing level', { level: 7, x: 0, y: 0, width: 10, height: 10 }, /level 7 does not exist/],
    ['negative level', { level: -1, x: 0, y: 0, width: 10, height: 10 }, /level out of range/],
  ])('read with %s', async (_name, request, message) => {
    const slide = await OpenSlide.open(CMU_SMALL);
    await expectSlideError(slide.readRegion(request), 'INVALID_ARGUMENT', message);
    // The handle stays usable after a refused read.
    const ok = await slide.readRegion({ level: 0, x: 0, y: 0, width: 4, height: 4 });
    expect(ok.data.length).toBe(48);
    await slide.close();
  });

  test('read after close', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    await slide.close();
    expect(slide.closed).toBe(true);
    await expectSlideError(slide.readRegion({ level: 0, x: 0, y: 0, width: 8, height: 8 }), 'CLOSED', /closed/);
    await slide.close(); // twice is fine
  });

  test('hundreds of concurrent reads with a close in the middle: each read succeeds or fails CLOSED', async () => {
    const slide = await OpenSlide.open(PYRAMID_40X);
    const expected = referenceRegion(PYRAMID_40X, 1024, 1024, 0, 128, 128);
    const reads: Promise<string>[] = [];
    for (let i = 0; i < 400; i++) {
      if (i === 200) await slide.close();
      reads.push(
        slide.readRegion({ level: 0, x: 1024, y: 1024, width: 128, height: 128 }).then(
          (r) => (Buffer.compare(Buffer.from(r.data), expected) === 0 ? 'ok' : 'wrong pixels'),
          (e: SlideError) => e.code,
        ),
      );
    }
    const outcomes = await Promise.all(reads);
    expect(outcomes.slice(0, 200).every((o) => o === 'ok')).toBe(true);
    expect(outcomes.slice(200).every((o) => o === 'CLOSED')).toBe(true);
  });
});
