/**
 * The patch reader gives the same floats whether the source samples or converts natively
 * (readRegionSampledInto / readRegionInto on the read's worker thread) or only offers readRegion (the
 * JavaScript path, as for pixels streamed by QuPath).
 */
import { planPatchGrid, type PatchGrid } from '../../src/pipeline/grid';
import { readPatchInto } from '../../src/pipeline/patch-reader';
import { OpenSlide } from '../../src/slide/openslide';
import type { SlideSource } from '../../src/slide/source';
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

async function compareAllPatches(slide: OpenSlide, grid: PatchGrid): Promise<{ cells: number; differing: number }> {
  const stride = grid.patchSize * grid.patchSize * 3;
  const native = new Float32Array(stride);
  const js = new Float32Array(stride);
  const plain = bytesOnly(slide);
  let differing = 0;
  for (let row = 0; row < grid.rows; row++) {
    for (let col = 0; col < grid.cols; col++) {
      native.fill(-1);
      js.fill(-2);
      await readPatchInto(slide, grid, row, col, native, 0);
      await readPatchInto(plain, grid, row, col, js, 0);
      if (!Buffer.from(native.buffer).equals(Buffer.from(js.buffer))) differing++;
    }
  }
  return { cells: grid.rows * grid.cols, differing };
}

describe('readPatchInto: native and JavaScript paths agree bit for bit', () => {
  const cases = [
    {
      name: '20x Aperio slide without a 10x level (resampled by 2, edges white)',
      file: CMU_SMALL,
      mpp: 0,
      size: 256,
      resample: true,
    },
    // 0.3 um/px: 3.33 level-0 pixels per patch pixel, sampled from the nearest finer level (level 1).
    { name: 'an odd scale from the nearest finer level', file: PYRAMID_40X, mpp: 0.3, size: 128, resample: true },
    { name: 'a direct 10x level (converted, not resampled)', file: PYRAMID_40X, mpp: 0, size: 256, resample: false },
  ];
  test.each(cases)('$name', async ({ file, mpp, size, resample }) => {
    const slide = await OpenSlide.open(file);
    const grid = planPatchGrid(slide.levels, mpp || slide.pixelSize!.x, 1, size);
    expect(grid.resample).toBe(resample);
    expect(await compareAllPatches(slide, grid)).toEqual({ cells: grid.rows * grid.cols, differing: 0 });
    await slide.close();
  });

  test('a sampling request that does not fit the region or the target is refused', async () => {
    const slide = await OpenSlide.open(CMU_SMALL);
    const request = { level: 0, x: 0, y: 0, width: 10, height: 10 };
    const sampling = { size: 4, scale: 2, originU: 0, originV: 0, u0: 0, v0: 0, maxU: 9, maxV: 9 };
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e as { code?: string }).code,
      );
    expect(await code(slide.readRegionSampledInto(request, sampling, new Float32Array(48), 0))).toBe('ok');
    expect(await code(slide.readRegionSampledInto(request, sampling, new Float32Array(47), 0))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await code(slide.readRegionSampledInto(request, { ...sampling, maxU: 10 }, new Float32Array(48), 0))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await code(slide.readRegionSampledInto(request, { ...sampling, size: 0 }, new Float32Array(48), 0))).toBe(
      'INVALID_ARGUMENT',
    );
    await slide.close();
  });
});
