/**
 * FastPathology's rules where the slides of fast.test.ts do not reach: OpenSlide's level dropping,
 * the magnification table and an explicit pixel size, the grid of a 40x slide without a 10x level,
 * and the default's choice of low-resolution level on one-tile pyramids.
 */
import { loadModelSet } from '../../src/models/model-set';
import { fastLevelCount, fastMagnification, planFastGrid } from '../../src/pipeline/fast-rules';
import { patchRectLevel0 } from '../../src/pipeline/grid';
import { segmentSlide } from '../../src/pipeline/segment';
import type { LevelInfo, SlideSource } from '../../src/slide/source';
import { OpenSlide } from '../../src/slide/openslide';
import { FAST_ONETILE_TIFF, MODELS } from '../helpers/paths';

function source(levels: [number, number][], extra: Partial<SlideSource> = {}): SlideSource {
  const l0 = levels[0]![0];
  const info: LevelInfo[] = levels.map(([width, height]) => ({ width, height, downsample: l0 / width }));
  return {
    description: 'test',
    levels: info,
    pixelSize: null,
    bounds: null,
    readRegion: () => Promise.reject(new Error('no pixels')),
    close: () => Promise.resolve(),
    ...extra,
  };
}

test('OpenSlide files lose levels of 4 MiB or less (whole MiB); .tif files keep every directory', () => {
  // 1280 x 1024 x 4 B = 5 MiB (kept); 1024 x 1024 x 4 B = 4 MiB (dropped); 256 x 256 dropped.
  const levels: [number, number][] = [
    [20480, 16384],
    [5120, 4096],
    [1280, 1024],
    [1024, 1024],
    [256, 256],
  ];
  expect(fastLevelCount(source(levels, { filePath: '/s/slide.svs' }))).toBe(3);
  expect(fastLevelCount(source(levels, { filePath: '/s/slide.TIFF' }))).toBe(5);
  expect(fastLevelCount(source(levels))).toBe(5); // streamed pixels: the client's levels
  expect(fastLevelCount(source([[1000, 1000]], { filePath: 'x.svs' }))).toBe(1); // never none
});

test("magnification: objective power, else FAST's pixel-size table; an explicit pixel size wins", () => {
  expect(fastMagnification(source([[100, 100]], { objectivePower: 20 }), 0.25)).toEqual({
    value: 20,
    source: 'objective-power',
  });
  expect(fastMagnification(source([[100, 100]], { objectivePower: 20 }), 0.25, true)).toEqual({
    value: 40,
    source: 'pixel-size',
  });
  const table = (mpp: number) => fastMagnification(source([[100, 100]]), mpp)?.value ?? null;
  expect([0.15, 0.2527, 0.35, 0.37, 0.499, 1.0, 2.0, 10.0, 3.0].map(table)).toEqual([
    null,
    40,
    40,
    null,
    20,
    10,
    5,
    1,
    null,
  ]);
});

test('a 40x slide without a 10x level reads level 0 with rf 4; an exact 10x level is read as it is', () => {
  const noTenX = planFastGrid(
    [
      { width: 10000, height: 7000, downsample: 1 },
      { width: 625, height: 437, downsample: 16 },
    ],
    2,
    40,
    10,
    256,
  );
  expect(noTenX).toMatchObject({ readLevel: 0, resample: true, fastResample: { rf: 4, readSize: 1024 } });
  expect({ rows: noTenX.rows, cols: noTenX.cols }).toEqual({ rows: 7, cols: 10 }); // ceil(7000 / 1024)
  expect(patchRectLevel0(noTenX, 1, 2)).toEqual({ x: 2048, y: 1024, size: 1024 });
  const tenX = planFastGrid(
    [
      { width: 10000, height: 7000, downsample: 1 },
      { width: 2500, height: 1750, downsample: 4 },
    ],
    2,
    40,
    10,
    256,
  );
  expect(tenX).toMatchObject({ readLevel: 1, resample: false, rows: 7, cols: 10, width: 2500 });
  expect(() => planFastGrid([{ width: 100, height: 100, downsample: 1 }], 1, 5, 10, 256)).toThrow(/10x or finer/);
});

test("default 'fast' takes tissue and refinement image from a 1024 px level of a one-tile pyramid; fast-exact from FAST's", async () => {
  const slide = await OpenSlide.open(FAST_ONETILE_TIFF);
  const models = await loadModelSet(MODELS.tiny, { provider: 'cpu', threads: 1 });
  try {
    const meta = async (reference: 'fast' | 'fast-exact') =>
      ((await segmentSlide(slide, models, { reference })).geojson as unknown as { metadata: Record<string, string> })
        .metadata;
    const byDefault = await meta('fast');
    expect(byDefault['h2gnet.param.lowResRule']).toBe('coarsest-at-least-refinement-size');
    expect(byDefault['h2gnet.param.lowResLevel']).toBe('1'); // 1024 x 1280 px
    expect(byDefault['h2gnet.param.reference']).toBe('fast');
    const exact = await meta('fast-exact');
    expect(exact['h2gnet.param.lowResRule']).toBe('fast-last-level');
    expect(exact['h2gnet.param.lowResLevel']).toBe('4'); // 128 x 160 px, one tile
    expect(exact['h2gnet.param.magnification']).toBe('40 (pixel-size)');
  } finally {
    await models.release();
    await slide.close();
  }
});
