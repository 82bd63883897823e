/**
 * The H2G-Net pipeline end to end: slide source -> tissue mask -> patch grid -> patch inference ->
 * heatmap -> refinement -> mask -> polygons -> GeoJSON. I/O stays at the edges: pixels come in through
 * the SlideSource, results go out as values.
 */
import type { ModelParameters } from '../models/manifest';
import type { ModelSet } from '../models/model-set';
import { SlideError } from '../slide/errors';
import type { RgbImage, SlideSource } from '../slide/source';
import { VERSION } from '../version';
import { CancelledError } from './errors';
import { polygonsToFeatureCollection } from './geojson';
import { chooseLowResLevel, type PatchGrid, planPatchGrid, tissueFractions } from './grid';
import { dilate, erode } from './morphology';
import { validateOptions } from './options';
import { inferPatches } from './patch-inference';
import { cpuReaders } from './patch-reader';
import { clipToRoi, maskToPolygons, polygonArea } from './polygons';
import { refine } from './refine';
import { readLowRes } from './lowres';
import { cellsTouchingRoi } from './roi';
import { maskFraction, tissueMask } from './tissue';
import type { BinaryMask, SegmentCallbacks, SegmentationResult, SegmentOptions, Stage } from './types';

/** Resolves the level-0 pixel size: the caller's override, else the slide's, else a clear error. */
export function resolveMpp(source: SlideSource, override: number | undefined): { x: number; y: number } {
  if (override !== undefined) return { x: override, y: override };
  if (source.pixelSize) return { x: source.pixelSize.x, y: source.pixelSize.y };
  throw new SlideError(
    'NO_PIXEL_SIZE',
    `${source.description} has no pixel size; give it explicitly (CLI: --mpp <um/px>, e.g. --mpp 0.25 for a 40x scan)`,
  );
}

/** Erode r, dilate 2r, erode r (the authors' QuPath import script), r in mask pixels. */
function smooth(mask: BinaryMask, radiusPx: number): BinaryMask {
  return radiusPx < 1 ? mask : erode(dilate(erode(mask, radiusPx), 2 * radiusPx), radiusPx);
}

class StageClock {
  readonly seconds: Record<string, number> = {};
  private readonly start: number;
  private stageStart: number;
  private current: Stage | null = null;

  /** `tissueSeconds`: the planning stage's time when it ran apart (see planSegmentation). */
  constructor(
    private readonly callbacks: SegmentCallbacks,
    tissueSeconds?: number,
  ) {
    this.start = performance.now() - (tissueSeconds ?? 0) * 1000;
    this.stageStart = this.start;
    if (tissueSeconds !== undefined) this.seconds.tissue = tissueSeconds;
  }

  enter(stage: Stage, total = 0): void {
    this.leave();
    this.current = stage;
    this.stageStart = performance.now();
    this.report(stage, 0, total, -1);
  }

  report(stage: Stage, done: number, total: number, etaSeconds: number): void {
    this.callbacks.onProgress?.({ stage, done, total, elapsedSeconds: this.elapsed(), etaSeconds });
  }

  leave(): void {
    if (this.current) this.seconds[this.current] = (performance.now() - this.stageStart) / 1000;
    this.current = null;
  }

  elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }

  stageElapsed(): number {
    return (performance.now() - this.stageStart) / 1000;
  }
}

/**
 * The first stage on its own: the tissue mask and the patches to infer. Reads only the low-resolution
 * level and needs no model session, so a batch plans the next slide while the current one infers.
 */
export interface SegmentationPlan {
  options: SegmentOptions;
  mpp: { x: number; y: number };
  lowResLevel: number;
  lowRes: RgbImage;
  tissue: BinaryMask;
  grid: PatchGrid;
  cells: number[];
  /** Seconds of the tissue stage. */
  tissueSeconds: number;
}

export async function planSegmentation(
  source: SlideSource,
  params: ModelParameters,
  partialOptions: Partial<SegmentOptions>,
  callbacks: SegmentCallbacks = {},
): Promise<SegmentationPlan> {
  const options = validateOptions(partialOptions);
  const mpp = resolveMpp(source, options.mpp);
  const signal = callbacks.signal;
  const clock = new StageClock(callbacks);
  const level0 = source.levels[0]!;

  clock.enter('tissue');
  const lowResLevel = chooseLowResLevel(source.levels, params.refinementSize);
  const lowRes = await readLowRes(source, lowResLevel, signal);
  if (signal?.aborted) throw new CancelledError();
  const tissue = tissueMask(lowRes);

  const grid = planPatchGrid(source.levels, mpp.x, params.patchMpp, params.patchSize);
  const fractions = tissueFractions(grid, tissue, level0.width, level0.height);
  const inRoi = options.roi ? cellsTouchingRoi(grid, options.roi) : null;
  const cells: number[] = [];
  fractions.forEach((f, i) => {
    if (f >= options.tissueThreshold && (!inRoi || inRoi[i])) cells.push(i);
  });
  if (signal?.aborted) throw new CancelledError();
  clock.leave();
  return { options, mpp, lowResLevel, lowRes, tissue, grid, cells, tissueSeconds: clock.seconds.tissue ?? 0 };
}

export async function segmentSlide(
  source: SlideSource,
  models: ModelSet,
  partialOptions: Partial<SegmentOptions>,
  callbacks: SegmentCallbacks = {},
): Promise<SegmentationResult> {
  const plan = await planSegmentation(source, models.parameters, partialOptions, callbacks);
  return finishSegmentation(source, models, plan, callbacks);
}

/** The remaining stages of a planned slide: patch inference, refinement, polygons. */
export async function finishSegmentation(
  source: SlideSource,
  models: ModelSet,
  plan: SegmentationPlan,
  callbacks: SegmentCallbacks = {},
): Promise<SegmentationResult> {
  const { options, mpp, lowResLevel, lowRes, tissue, grid, cells } = plan;
  const params = models.parameters;
  const signal = callbacks.signal;
  const check = () => {
    if (signal?.aborted) throw new CancelledError();
  };
  const clock = new StageClock(callbacks, plan.tissueSeconds);
  const level0 = source.levels[0]!;

  clock.enter('patches', cells.length);
  const heatmapValues = new Float32Array(grid.rows * grid.cols);
  let done = 0;
  await inferPatches({
    source,
    grid,
    cells,
    model: models.patch,
    tumourChannel: params.tumourChannel,
    batchSize: options.batchSize,
    // A GPU leaves the cores to the readers, and a batch infers faster than one thread decodes it.
    readers: models.provider === 'cpu' ? cpuReaders(grid) : 4,
    signal,
    onBatch: (batchCells, probs) => {
      batchCells.forEach((cell, i) => (heatmapValues[cell] = probs[i]!));
      done += batchCells.length;
      const perPatch = clock.stageElapsed() / done;
      clock.report('patches', done, cells.length, perPatch * (cells.length - done) + 1);
      callbacks.onPatches?.({
        rows: grid.rows,
        cols: grid.cols,
        patchSizeLevel0: grid.patchSize * grid.scale,
        cells: [...batchCells],
        probabilities: Array.from(probs),
      });
    },
  });
  const heatmap = {
    rows: grid.rows,
    cols: grid.cols,
    patchSizeLevel0: grid.patchSize * grid.scale,
    values: heatmapValues,
  };

  clock.enter('refinement', 1);
  const rawMask = await refine(models.refinement, lowRes, heatmap, params.refinementSize, params.tumourChannel);
  check();
  const maskPixelUm = ((level0.width / rawMask.width) * mpp.x + (level0.height / rawMask.height) * mpp.y) / 2;
  const mask = smooth(rawMask, Math.round(options.smoothingUm / maskPixelUm));

  clock.enter('polygons', 1);
  let polygons = maskToPolygons(mask, level0.width, level0.height);
  if (options.roi) polygons = clipToRoi(polygons, options.roi);
  const geojson = polygonsToFeatureCollection(polygons, {
    pipelineVersion: VERSION,
    modelSet: models.name,
    patchModel: { file: models.patch.info.file, sha256: models.patch.info.sha256 },
    refinementModel: { file: models.refinement.info.file, sha256: models.refinement.info.sha256 },
    parameters: {
      ...params,
      tissueThreshold: options.tissueThreshold,
      smoothingUm: options.smoothingUm,
      roi: options.roi !== undefined,
      lowResLevel,
      patchLevel: grid.readLevel,
      patchResampled: grid.resample,
    },
    demo: models.demo,
    mpp,
  });
  clock.leave();
  // The polygon stage cannot be interrupted; a cancel or deadline during it still ends the job here.
  check();

  const umPerPx2 = mpp.x * mpp.y;
  const tumourAreaMm2 = polygons.reduce((sum, p) => sum + polygonArea(p), 0) * umPerPx2 * 1e-6;
  const tissueAreaMm2 = maskFraction(tissue) * level0.width * level0.height * umPerPx2 * 1e-6;
  const totalSeconds = clock.elapsed();
  clock.report('done', 1, 1, 0);
  return {
    geojson,
    heatmap,
    mask,
    lowResImage: lowRes,
    tissueMask: tissue,
    summary: {
      patchesTotal: grid.rows * grid.cols,
      patchesInferred: cells.length,
      tumourAreaMm2,
      tissueAreaMm2,
      tumourShareOfTissue: tissueAreaMm2 > 0 ? tumourAreaMm2 / tissueAreaMm2 : 0,
      polygonCount: polygons.length,
      stageSeconds: clock.seconds,
      totalSeconds,
    },
  };
}
