/**
 * FastPathology's rules (FAST 4.18, probed with pyFAST 4.18.0; see README "FastPathology's rules"):
 * which levels FAST lists, the slide's magnification, the 10x patch grid, which patches are inferred,
 * and the refinement network's inputs.
 */
import { SlideError } from '../slide/errors';
import type { LevelInfo, RgbImage, SlideSource } from '../slide/source';
import { fastResizeFloatExact, fastResizeFloats } from './fast-resize';
import type { PatchGrid } from './grid';
import type { RefinementInputs } from './refine';
import type { BinaryMask, Heatmap } from './types';

const f = Math.fround;

/** FAST's ImagePyramid::getMagnification table: level-0 pixel size (um) -> objective magnification. */
const MAGNIFICATION_BY_MPP: readonly [number, number, number][] = [
  [0.15, 0.35, 40],
  [0.4, 0.6, 20],
  [0.75, 1.25, 10],
  [1.75, 2.25, 5],
  [7.5, 12.5, 1],
];

export interface Magnification {
  value: number;
  source: 'objective-power' | 'pixel-size';
}

/**
 * The objective power when the slide has one (FAST reads openslide.objective-power) and the caller
 * gave no pixel size of its own, else the magnification FAST's table gives the pixel size (FAST 4.18
 * itself throws "magnification unknown" there; FastPathology users set it by hand), else null.
 */
export function fastMagnification(source: SlideSource, mppX: number, mppGiven = false): Magnification | null {
  if (source.objectivePower && !mppGiven) return { value: source.objectivePower, source: 'objective-power' };
  for (const [lo, hi, mag] of MAGNIFICATION_BY_MPP) {
    if (mppX > lo && (mppX < hi || (mag === 40 && mppX <= hi))) return { value: mag, source: 'pixel-size' };
  }
  return null;
}

/**
 * How many of the slide's levels FAST lists. It opens files whose name contains ".tif" with its own
 * TIFF reader (every directory a level) and everything else with OpenSlide, dropping each level whose
 * RGBA size is 4 MiB or less in whole MiB (floor(w * h * 4 / 2^20) <= 4). A source that is not a file
 * (pixels streamed by QuPath) keeps its levels.
 */
export function fastLevelCount(source: SlideSource): number {
  const levels = source.levels;
  if (!source.filePath || source.filePath.toLowerCase().includes('.tif')) return levels.length;
  const kept = levels.filter((l) => Math.floor((l.width * l.height * 4) / (1024 * 1024)) > 4).length;
  return Math.max(1, kept);
}

/**
 * The 10x grid as FAST's PatchGenerator lays it: a level whose magnification (M0 / round(level-0
 * width / level width)) is exactly the patch magnification is read as it is; otherwise the coarsest
 * finer level, with resample factor rf = its magnification / the patch magnification (2.0 for a 20x
 * slide, whatever its pixel size). Patch i starts at int(i * 256 * rf) level pixels and reads
 * int(256 * rf) of them; there are ceil(level size / (256 * rf)) patches per axis (float32, as FAST).
 */
export function planFastGrid(
  levels: readonly LevelInfo[],
  levelCount: number,
  magnification: number,
  patchMagnification: number,
  patchSize: number,
): PatchGrid {
  const level0 = levels[0]!;
  const magOf = (l: LevelInfo) => f(magnification / Math.round(f(level0.width / l.width)));
  let readLevel = -1;
  for (let i = 0; i < levelCount; i++) {
    const m = magOf(levels[i]!);
    if (m === patchMagnification) {
      readLevel = i;
      break;
    }
    if (m > patchMagnification) readLevel = i;
  }
  if (readLevel < 0) {
    throw new SlideError(
      'UNSUPPORTED',
      `FAST's rules need a level at ${patchMagnification}x or finer; this slide's level 0 is ${magnification}x (use --reference h2g)`,
    );
  }
  const read = levels[readLevel]!;
  const rf = f(magOf(read) / patchMagnification);
  const step = f(patchSize * rf);
  const resample = rf !== 1;
  return {
    scale: rf * read.downsample,
    width: resample ? Math.floor(read.width / rf) : read.width,
    height: resample ? Math.floor(read.height / rf) : read.height,
    rows: Math.ceil(f(read.height / step)),
    cols: Math.ceil(f(read.width / step)),
    patchSize,
    readLevel,
    readDownsample: read.downsample,
    resample,
    fastResample: resample ? { rf, readSize: Math.trunc(step) } : undefined,
  };
}

/**
 * FAST 4.18's patch selection: the tissue mask as 0/1 floats shrunk to one pixel per patch by its
 * ImageResizer (blur of at most 19 x 19 mask pixels, then bilinear; float, so not rounded), and a patch
 * inferred when that value >= the threshold. So a patch is inferred when the mask is mostly tissue
 * around its sample point, however much tissue the rest of it holds. (FAST's own ImageResizer on the
 * 8-bit mask rounds and truncates, and selected 2 patches fewer on a probe slide than its patch
 * generator: the generator resizes floats.)
 */
export function fastTissueSelection(grid: PatchGrid, tissue: BinaryMask, threshold: number): Uint8Array {
  // A loop, not Float32Array.from with a map function: that calls it per pixel, ~0.2 us each (0.23 s on
  // a 1,024 x 1,024 mask, ~1 ms as a loop).
  const ones = new Float32Array(tissue.data.length);
  for (let i = 0; i < ones.length; i++) if (tissue.data[i] !== 0) ones[i] = 1;
  const values = fastResizeFloatExact(ones, tissue.width, tissue.height, grid.cols, grid.rows);
  return Uint8Array.from(values, (v) => (v >= threshold ? 1 : 0));
}

/**
 * The refinement inputs as FastPathology builds them: the low-resolution image normalised to 0..1 by
 * its own minimum and maximum over all pixels and channels (FAST's IntensityNormalization), and the
 * heatmap, each resized to size x size by FAST's ImageResizer (blurred when shrinking). One input at a
 * time too (the image is made while the patches infer).
 */
export function fastRefinementImage(lowRes: RgbImage, size: number): Float32Array {
  const { width, height, data } = lowRes;
  let min = 255;
  let max = 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  const normalised = new Float32Array(data.length);
  if (range > 0) for (let i = 0; i < data.length; i++) normalised[i] = f(f(data[i]! - min) / range);
  return fastResizeFloats(normalised, width, height, 3, size, size);
}

export function fastRefinementHeatmap(heatmap: Heatmap, size: number): Float32Array {
  return fastResizeFloats(heatmap.values, heatmap.cols, heatmap.rows, 1, size, size);
}

export function fastRefinementInputs(lowRes: RgbImage, heatmap: Heatmap, size: number): RefinementInputs {
  return { image: fastRefinementImage(lowRes, size), heatmap: fastRefinementHeatmap(heatmap, size) };
}
