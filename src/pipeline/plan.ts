/**
 * A job's plan, computed from the slide's geometry and the options before any pixel is read: which
 * levels are read, the patch grid, the smoothing radius in mask pixels, the ROI's size and the
 * memory the job's buffers and one batch's inference will take. `checkPlan` compares it with the
 * limits (limits.ts), so a job that could not finish, or would exhaust the process, is refused at
 * once with the limit's name instead of failing (or taking the server down) halfway.
 */
import type { ModelParameters } from '../models/manifest';
import type { LevelInfo } from '../slide/source';
import { type PatchGrid, chooseLowResLevel, planPatchGrid } from './grid';
import { type Limits, enforce } from './limits';
import { type LowResGeometry, lowResGeometry } from './lowres';
import type { SegmentOptions } from './types';

/**
 * onnxruntime's memory for one patch of a batch, at 256 px: the published MobileNetV2's activations
 * plus its input. Measured with the full-size stand-in model (scripts/make_test_models.py --variant
 * full), peak RSS over two runs: batch 1 123 MiB, 16 441 MiB, 64 1,549 MiB, ~22 MiB per patch.
 */
const INFERENCE_BYTES_PER_PATCH_256 = 22 * 2 ** 20;

export interface JobPlan {
  lowResLevel: number;
  lowRes: LowResGeometry;
  /** Level pixels read for the low-resolution image. */
  lowResReadPixels: number;
  grid: PatchGrid;
  gridCells: number;
  /** Mask smoothing radius in mask pixels (0: none). */
  smoothingRadiusPx: number;
  roiVertices: number;
  /** Estimated bytes of the job's large buffers plus one batch's inference. */
  memoryBytes: number;
}

export function roiVertexCount(roi: SegmentOptions['roi']): number {
  if (!roi) return 0;
  const polygons = roi.type === 'Polygon' ? [roi.coordinates] : roi.coordinates;
  let n = 0;
  for (const rings of polygons) for (const ring of rings) n += ring.length;
  return n;
}

/** Mask smoothing radius in mask pixels: the option's micrometres over the mask's pixel size. */
export function smoothingRadiusPx(
  level0: LevelInfo,
  mpp: { x: number; y: number },
  maskSize: number,
  smoothingUm: number,
): number {
  const maskPixelUm = ((level0.width / maskSize) * mpp.x + (level0.height / maskSize) * mpp.y) / 2;
  return Math.round(smoothingUm / maskPixelUm);
}

/** Bytes the plan's buffers take (typed arrays of the pipeline's stages, at their largest). */
function memoryEstimate(plan: Omit<JobPlan, 'memoryBytes'>, level: LevelInfo, params: ModelParameters, batch: number) {
  const { lowRes } = plan;
  const lowResPx = lowRes.width * lowRes.height;
  // A strip read: RGBA from OpenSlide, RGB returned; box sums (f64 x 3) and counts (u32) when averaged.
  const strip = level.width * Math.min(lowRes.rowsPerStrip, level.height) * 7;
  const lowResImage = lowResPx * (3 + (lowRes.factor > 1 ? 28 : 0));
  // Tissue: threshold, summed-area table (i32) and result for each of closing's two passes.
  const tissue = lowResPx * 12;
  const cells = plan.gridCells * (4 + 4 + 1 + 8);
  const patchPx = params.patchSize * params.patchSize;
  const batchTensors = 2 * batch * patchPx * 3 * 4;
  const inference = batch * INFERENCE_BYTES_PER_PATCH_256 * (patchPx / 65536);
  const s2 = params.refinementSize * params.refinementSize;
  const refinement = s2 * (3 + 1 + 2) * 4 * 2 + s2 * 8;
  return strip + lowResImage + tissue + cells + batchTensors + inference + refinement;
}

/**
 * `layout`: the low-resolution level and patch grid the rule set chose (rules.ts); without it, this
 * project's own choice ('h2g' rules).
 */
export function planJob(
  levels: readonly LevelInfo[],
  mpp: { x: number; y: number },
  params: ModelParameters,
  options: SegmentOptions,
  layout?: { lowResLevel: number; grid: PatchGrid },
): JobPlan {
  const level0 = levels[0]!;
  const lowResLevel = layout?.lowResLevel ?? chooseLowResLevel(levels, params.refinementSize);
  const lowResInfo = levels[lowResLevel]!;
  const grid = layout?.grid ?? planPatchGrid(levels, mpp.x, params.patchMpp, params.patchSize);
  const partial = {
    lowResLevel,
    lowRes: lowResGeometry(lowResInfo),
    lowResReadPixels: lowResInfo.width * lowResInfo.height,
    grid,
    gridCells: grid.rows * grid.cols,
    smoothingRadiusPx: smoothingRadiusPx(level0, mpp, params.refinementSize, options.smoothingUm),
    roiVertices: roiVertexCount(options.roi),
  };
  return { ...partial, memoryBytes: memoryEstimate(partial, lowResInfo, params, options.batchSize) };
}

/** Throws a LimitError naming the first limit the plan exceeds. */
export function checkPlan(plan: JobPlan, limits: Limits): void {
  enforce(limits, 'maxLowResPixels', plan.lowResReadPixels, 'the low-resolution level has too many pixels to read');
  enforce(
    limits,
    'maxGridCells',
    plan.gridCells,
    `the patch grid (${plan.grid.rows} x ${plan.grid.cols}) is too large`,
  );
  enforce(limits, 'maxSmoothingRadiusPx', plan.smoothingRadiusPx, 'the smoothing radius in mask pixels is too large');
  enforce(limits, 'maxRoiVertices', plan.roiVertices, 'the region of interest has too many vertices');
  enforce(limits, 'maxJobMemoryMiB', plan.memoryBytes / 2 ** 20, 'the job would need too much memory (MiB)');
}
