/**
 * The patch grid at the patch magnification (10x = 1.0 um/px for the published model): 256 px patches,
 * no overlap, row-major from the slide's top-left, and which of them hold enough tissue to infer.
 */
import type { LevelInfo } from '../slide/source';
import type { BinaryMask } from './types';

export interface PatchGrid {
  /** Level-0 pixels per patch-magnification pixel. */
  scale: number;
  /** Slide size at the patch magnification. */
  width: number;
  height: number;
  rows: number;
  cols: number;
  patchSize: number;
  /** Level to read patches from: the patch magnification itself, or the nearest finer level. */
  readLevel: number;
  readDownsample: number;
  /** True when readLevel is not at the patch magnification and patches must be resampled. */
  resample: boolean;
  /**
   * FastPathology's resampling (fast-rules.ts): patch i reads readSize read-level pixels from
   * int(i * patchSize * rf) on, and FAST's resizer shrinks them. Absent: bilinear at pixel centres.
   */
  fastResample?: { rf: number; readSize: number };
}

/** A level counts as the patch magnification when its downsample is within 1% (libvips writes 4.0007). */
const SAME_SCALE_TOLERANCE = 0.01;

export function planPatchGrid(
  levels: readonly LevelInfo[],
  mppLevel0: number,
  patchMpp: number,
  patchSize: number,
): PatchGrid {
  const wanted = patchMpp / mppLevel0;
  const level0 = levels[0]!;
  let readLevel = 0;
  levels.forEach((l, i) => {
    if (l.downsample <= wanted * (1 + SAME_SCALE_TOLERANCE) && l.downsample > levels[readLevel]!.downsample)
      readLevel = i;
  });
  const read = levels[readLevel]!;
  const exact = Math.abs(read.downsample - wanted) <= wanted * SAME_SCALE_TOLERANCE;
  const scale = exact ? read.downsample : wanted;
  const width = exact ? read.width : Math.max(1, Math.round(level0.width / scale));
  const height = exact ? read.height : Math.max(1, Math.round(level0.height / scale));
  return {
    scale,
    width,
    height,
    rows: Math.ceil(height / patchSize),
    cols: Math.ceil(width / patchSize),
    patchSize,
    readLevel,
    readDownsample: read.downsample,
    resample: !exact,
  };
}

/** Level-0 rectangle of a patch (it may extend past the slide's right and bottom edges). */
export function patchRectLevel0(grid: PatchGrid, row: number, col: number): { x: number; y: number; size: number } {
  const fast = grid.fastResample;
  if (fast) {
    const at = (i: number) => Math.trunc(Math.fround(i * grid.patchSize * fast.rf)) * grid.readDownsample;
    return { x: at(col), y: at(row), size: fast.readSize * grid.readDownsample };
  }
  const size = grid.patchSize * grid.scale;
  return { x: col * size, y: row * size, size };
}

/**
 * Mean of the tissue mask over each patch's footprint, as a rows x cols grid. The footprint is the
 * patch's level-0 rectangle mapped onto the mask (whose pixels cover level0Width / mask.width level-0
 * pixels each), rounded to whole mask pixels; footprint beyond the slide counts as background, like the
 * white padding the patch gets there.
 */
export function tissueFractions(
  grid: PatchGrid,
  mask: BinaryMask,
  level0Width: number,
  level0Height: number,
): Float32Array {
  const fx = mask.width / level0Width;
  const fy = mask.height / level0Height;
  const out = new Float32Array(grid.rows * grid.cols);
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const rect = patchRectLevel0(grid, r, c);
      const x0 = Math.round(rect.x * fx);
      const x1 = Math.max(x0 + 1, Math.round((rect.x + rect.size) * fx));
      const y0 = Math.round(rect.y * fy);
      const y1 = Math.max(y0 + 1, Math.round((rect.y + rect.size) * fy));
      let set = 0;
      const yEnd = Math.min(y1, mask.height);
      const xEnd = Math.min(x1, mask.width);
      for (let y = y0; y < yEnd; y++) {
        const row = y * mask.width;
        for (let x = x0; x < xEnd; x++) if (mask.data[row + x] !== 0) set++;
      }
      out[r * grid.cols + c] = set / ((x1 - x0) * (y1 - y0));
    }
  }
  return out;
}

/** The low-resolution level for tissue detection and refinement: the coarsest with a side >= minSide. */
export function chooseLowResLevel(levels: readonly LevelInfo[], minSide: number): number {
  let chosen = 0;
  levels.forEach((l, i) => {
    if (Math.max(l.width, l.height) >= minSide && l.downsample > levels[chosen]!.downsample) chosen = i;
  });
  return chosen;
}
