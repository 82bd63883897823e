/**
 * The patch reader gives the same floats whether the source samples or converts natively
 * (readRegionsInto, a batch per worker thread) or only offers readRegion (the JavaScript path, as for
 * pixels streamed by QuPath), and whatever the number of reader threads a batch is split over.
 */
import { planPatchGrid, type PatchGrid } from '../../src/pipeline/grid';
import { cpuReaders, readPatchesInto } from '../../src/pipeline/patch-reader';
import { OpenSlide } from '../../src/slide/openslide';
import type { BilinearSampling, SlideSource } from '../../src/slide/source';
import { CMU_SMALL, PYRAMID_40X } from '../helpers/paths';

/** The same slide seen through readRegion alone. */
function bytesOnly(slide: OpenSlide): SlideSource {
  return {
    description: slide.description,
    levels: slide.levels,
    pixelSize: slide.pixelSize,
    bounds: slide.bounds,
    readRegion: (request) => slide.readRegion(request),
    close: () => slide.close(),
  };
}

/** Reads the grid a row at a time through both paths; counts the patches that differ. */
async function compareAllPatches(
  slide: OpenSlide,
  grid: PatchGrid,
  readers: number,
): Promise<{ cells: number; differing: number }> {
  const stride = grid.patchSize * grid.patchSize * 3;
  const native = new Float32Array(grid.cols * stride);
  const js = new Float32Array(grid.cols * stride);
  const plain = bytesOnly(slide);
  let differing = 0;
  for (let row = 0; row < grid.rows; row++) {
    const cells = Array.from({ length: grid.cols }, (_, col) => row * grid.cols + col);
    native.fill(-1);
    js.fill(-2);
    await readPatchesInto(slide, grid, cells, native, readers);
    await readPatchesInto(plain, grid, cells, js, readers);
    for (let i = 0; i < cells.length; i++) {
      const at = i * stride * 4;
      if (!Buffer.from(native.buffer, at, stride * 4).equals(Buffer.from(js.buffer, at, stride * 4))) differing++;
    }
  }
  return { cells: grid.rows * grid.cols, differing };
}

describe('readPatchesInto: native and JavaScript paths agree bit for bit', () => {
  const cases = [
    {
      name: '20x Aperio slide without a 10x level (resampled by 2, edges white)',
      file: CMU_SMALL,
      mpp: 0,
      size: 256,
      resample: true,
    },
    // 0.3 um/px: 3.33 level-0 pixels per patch pixel, sampled from the nearest finer level (level 1).
    {
      name: 'an odd scale from the nearest finer level, a row split over 3 readers',
      file: PYRAMID_40X,
      mpp: 0.3,
      size: 128,
      resample: true,
      readers: 3,
    },
    { name: 'a direct 10x level (converted, not resampled)', file: PYRAMID_40X, mpp: 0, size: 256, resample: false },
  ];
  test.each(cases)('$name', async ({ file, mpp, size, resample, readers }) => {
    const slide = await OpenSlide.open(file);
    const grid = planPatchGrid(slide.levels, mpp || slide.pixelSize!.x, 1, size);
    expect(grid.resample).toBe(resample);
    expect(grid.cols).toBeGreaterThan(3);
    const result = await compareAllPatches(slide, grid, readers ?? 1);
    expect(result).toEqual({ cells: grid.rows * grid.cols, differing: 0 });
    await slide.close();
  });

  test('a sampling request that does not fit the region or the target is refused', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    const request = { level: 0, x: 0, y: 0, width: 10, height: 10 };
    const sampling = { size: 4, scale: 2, originU: 0, originV: 0, u0: 0, v0: 0, maxU: 9, maxV: 9 };
    const code = (s: BilinearSampling, target: Float32Array) =>
      slide.readRegionsInto([{ request, offset: 0, sampling: s }], target).then(
        () => 'ok',
        (e: unknown) => `${(e as { code?: string }).code}: ${(e as Error).message}`,
      );
    expect(await code(sampling, new Float32Array(48))).toBe('ok');
    expect(await code(sampling, new Float32Array(47))).toMatch(/^INVALID_ARGUMENT: region 0: target offset/);
    expect(await code({ ...sampling, maxU: 10 }, new Float32Array(48))).toMatch(
      /^INVALID_ARGUMENT: region 0: sampling/,
    );
    expect(await code({ ...sampling, size: 2.5 }, new Float32Array(48))).toMatch(
      /^INVALID_ARGUMENT: region 0: .*integers/,
    );
    expect(await code({ ...sampling, size: 0 }, new Float32Array(48))).toMatch(
      /^INVALID_ARGUMENT: region 0: sampling size/,
    );
    expect(await code({ ...sampling, scale: 0 }, new Float32Array(48))).toMatch(
      /^INVALID_ARGUMENT: region 0: sampling/,
    );
    await slide.close();
  });
});

describe('cpuReaders: reader threads per batch grow with the pixels each patch decodes', () => {
  const levels = (downsamples: number[]) =>
    downsamples.map((d) => ({ width: 65536 / d, height: 65536 / d, downsample: d }));
  test.each([
    {
      name: '40x slide with a 10x level: one whole tile per patch',
      ds: [1, 2, 4, 16],
      mpp: 0.25,
      size: 256,
      readers: 1,
    },
    { name: '20x slide without 10x: 514 px regions', ds: [1, 4, 16], mpp: 0.5, size: 256, readers: 4 },
    { name: '40x slide read at 20x: 514 px regions', ds: [1, 2, 8], mpp: 0.25, size: 256, readers: 4 },
    {
      name: '40x slide at 0.3 um/px, 128 px patches: ~430 px regions',
      ds: [1, 4, 16],
      mpp: 0.3,
      size: 128,
      readers: 3,
    },
  ])('$name: $readers', ({ ds, mpp, size, readers }) => {
    expect(cpuReaders(planPatchGrid(levels(ds), mpp, 1, size))).toBe(readers);
  });
});
