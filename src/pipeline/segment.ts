/**
 * The H2G-Net pipeline end to end: slide source -> tissue mask -> patch grid -> patch inference ->
 * heatmap -> refinement -> mask -> polygons -> GeoJSON. I/O stays at the edges: pixels come in through
 * the SlideSource, results go out as values.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FeatureCollection } from 'geojson';
import { ModelError } from '../models/errors';
import type { ModelParameters } from '../models/manifest';
import type { ModelSet } from '../models/model-set';
import { SlideError } from '../slide/errors';
import type { RgbImage, SlideSource } from '../slide/source';
import { VERSION } from '../version';
import { CancelledError } from './errors';
import { DEFAULT_LIMITS, type Limits, enforce } from './limits';
import { plausibleMpp, validateOptions } from './options';
import { checkPlan, planJob } from './plan';
import { inferPatches } from './patch-inference';
import { cpuReaders } from './patch-reader';
import { offload, startOffloadThread } from './offload';
import { refine } from './refine';
import { readLowRes } from './lowres';
import type { PatchGrid } from './grid';
import { planSlide, type SlidePlan } from './rules';
import {
  type BinaryMask,
  type Heatmap,
  MPP_RANGE,
  type SegmentCallbacks,
  type SegmentationResult,
  type SegmentOptions,
  type Stage,
} from './types';

/** Why a slide's own pixel size is not used without `forceMpp`. */
export function implausiblePixelSize(description: string, own: { x: number; y: number }): string {
  return (
    `${description} says its pixels are ${own.x} x ${own.y} um, outside [${MPP_RANGE.min}, ${MPP_RANGE.max}]: ` +
    'give the real pixel size (CLI: --mpp <um/px>), or --force-mpp to use this one'
  );
}

/** Resolves the level-0 pixel size: the caller's override, else the slide's, else a clear error. */
export function resolveMpp(source: SlideSource, override: number | undefined, force = false): { x: number; y: number } {
  if (override !== undefined) return { x: override, y: override };
  const own = source.pixelSize;
  if (own && !force && !(plausibleMpp(own.x) && plausibleMpp(own.y))) {
    throw new SlideError('NO_PIXEL_SIZE', implausiblePixelSize(source.description, own));
  }
  if (own) return { x: own.x, y: own.y };
  throw new SlideError(
    'NO_PIXEL_SIZE',
    `${source.description} has no pixel size; give it explicitly (CLI: --mpp <um/px>, e.g. --mpp 0.25 for a 40x scan)`,
  );
}

export class StageClock {
  readonly seconds: Record<string, number> = {};
  private readonly start: number;
  private stageStart: number;
  private current: Stage | null = null;

  /** `tissueSeconds`: the planning stage's time when it ran apart (see planSegmentation). */
  constructor(
    private callbacks: SegmentCallbacks,
    tissueSeconds?: number,
  ) {
    this.start = performance.now() - (tissueSeconds ?? 0) * 1000;
    this.stageStart = this.start;
    if (tissueSeconds !== undefined) this.seconds.tissue = tissueSeconds;
  }

  /** The same clock, reporting its next stages to `callbacks`. */
  reportingTo(callbacks: SegmentCallbacks): this {
    this.callbacks = callbacks;
    return this;
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
  slidePlan: SlidePlan;
  lowResLevel: number;
  lowRes: RgbImage;
  tissue: BinaryMask;
  grid: PatchGrid;
  cells: number[];
  /** Mask smoothing radius in mask pixels (0: none). */
  smoothingRadiusPx: number;
  /** Seconds of the tissue stage. */
  tissueSeconds: number;
}

export async function planSegmentation(
  source: SlideSource,
  params: ModelParameters,
  partialOptions: Partial<SegmentOptions>,
  callbacks: SegmentCallbacks = {},
  limits: Limits = DEFAULT_LIMITS,
): Promise<SegmentationPlan> {
  const options = validateOptions(partialOptions);
  const mpp = resolveMpp(source, options.mpp, options.forceMpp);
  // Everything the job will allocate or loop over is known from the geometry: refuse before any work.
  const slidePlan = planSlide(source, mpp.x, params, options.reference, options.mpp !== undefined);
  const plan = planJob(source.levels, mpp, params, options, slidePlan);
  checkPlan(plan, limits);
  startOffloadThread();
  const signal = callbacks.signal;
  const check = () => {
    if (signal?.aborted) throw new CancelledError();
  };
  const clock = new StageClock(callbacks);
  const level0 = source.levels[0]!;

  clock.enter('tissue');
  const { lowResLevel, grid } = plan;
  const lowRes = await readLowRes(source, lowResLevel, signal);
  check();
  // The long CPU steps run off the main thread (offload.ts), so its event loop stays free.
  const tissue = await offload.tissueMask(lowRes);

  const selected = await offload.selectCells(slidePlan, tissue, options.tissueThreshold, level0.width, level0.height);
  const inRoi = options.roi ? await offload.cellsTouchingRoi(grid, options.roi) : null;
  const cells: number[] = [];
  selected.forEach((s, i) => {
    if (s && (!inRoi || inRoi[i])) cells.push(i);
  });
  check();
  enforce(limits, 'maxPatches', cells.length, 'the slide has too many tissue patches');
  clock.leave();
  return {
    options,
    mpp,
    slidePlan,
    lowResLevel,
    lowRes,
    tissue,
    grid,
    cells,
    smoothingRadiusPx: plan.smoothingRadiusPx,
    tissueSeconds: clock.seconds.tissue ?? 0,
  };
}

export async function segmentSlide(
  source: SlideSource,
  models: ModelSet,
  partialOptions: Partial<SegmentOptions>,
  callbacks: SegmentCallbacks = {},
  limits: Limits = DEFAULT_LIMITS,
): Promise<SegmentationResult> {
  const plan = await planSegmentation(source, models.parameters, partialOptions, callbacks, limits);
  return finishSegmentation(source, models, plan, callbacks);
}

/**
 * segmentSlide for a caller whose model set is still loading (`models`, a load started before the
 * slide was even opened): the tissue mask and the patch plan are computed meanwhile, so on a small
 * slide the load costs no time of its own. The caller owns the set (and releases it, also when this
 * rejects: a failed plan leaves the load running).
 */
export async function segmentWhileLoading(
  source: SlideSource,
  parameters: ModelParameters,
  models: Promise<ModelSet>,
  partialOptions: Partial<SegmentOptions>,
  callbacks: SegmentCallbacks = {},
  limits: Limits = DEFAULT_LIMITS,
): Promise<SegmentationResult> {
  const plan = await planSegmentation(source, parameters, partialOptions, callbacks, limits);
  const set = await models;
  if (!isDeepStrictEqual(set.parameters, parameters)) {
    // The manifest was read twice (here and by the load): someone replaced the set in between.
    throw new ModelError('MODEL_INVALID', `the model set in ${set.directory} changed while it was loading; run again`);
  }
  if (callbacks.signal?.aborted) throw new CancelledError();
  return finishSegmentation(source, set, plan, callbacks);
}

/** The remaining stages of a planned slide: patch inference, refinement, polygons. */
async function finishSegmentation(
  source: SlideSource,
  models: ModelSet,
  plan: SegmentationPlan,
  callbacks: SegmentCallbacks = {},
): Promise<SegmentationResult> {
  return completeSegmentation(models, await inferSlidePatches(source, models, plan, callbacks), callbacks);
}

/**
 * A slide whose patches are inferred: everything the last stages need. They no longer read the
 * slide, so its source may be closed, and a batch starts the next slide's patches meanwhile.
 */
export interface InferredSlide {
  plan: SegmentationPlan;
  level0: { width: number; height: number };
  heatmap: Heatmap;
  /** Made on the CPU thread while the patches inferred. */
  refinementImage: Promise<Float32Array>;
  clock: StageClock;
}

/** The patch stage of a planned slide (finishSegmentation's first half). */
export async function inferSlidePatches(
  source: SlideSource,
  models: ModelSet,
  plan: SegmentationPlan,
  callbacks: SegmentCallbacks = {},
): Promise<InferredSlide> {
  const { options, slidePlan, lowRes, grid, cells } = plan;
  const params = models.parameters;
  const clock = new StageClock(callbacks, plan.tissueSeconds);

  // The refinement image needs only the low-resolution image: made on the CPU thread while the
  // patches infer, so the refinement starts right after the last patch (issue 17).
  const refinementImage = offload.refinementImage(slidePlan.steps, lowRes, params.refinementSize);
  refinementImage.catch(() => undefined); // awaited later; a failed inference must not leave it unhandled
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
    signal: callbacks.signal,
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
  clock.leave();
  const level0 = source.levels[0]!;
  const heatmap = {
    rows: grid.rows,
    cols: grid.cols,
    patchSizeLevel0: grid.patchSize * grid.scale,
    values: heatmapValues,
  };
  return { plan, level0: { width: level0.width, height: level0.height }, heatmap, refinementImage, clock };
}

/**
 * The last stages of a slide whose patches are inferred: refinement, polygons, the result. `callbacks`
 * may differ from the patch stage's (a batch reports only the slide in its patch stage).
 */
export async function completeSegmentation(
  models: ModelSet,
  inferred: InferredSlide,
  callbacks: SegmentCallbacks = {},
): Promise<SegmentationResult> {
  const { plan, level0, heatmap, refinementImage } = inferred;
  const { options, mpp, slidePlan, lowResLevel, tissue, grid, cells } = plan;
  const params = models.parameters;
  const signal = callbacks.signal;
  const check = () => {
    if (signal?.aborted) throw new CancelledError();
  };
  const clock = inferred.clock.reportingTo(callbacks);

  clock.enter('refinement', 1);
  const inputs = {
    heatmap: await offload.refinementHeatmap(slidePlan.steps, heatmap, params.refinementSize),
    image: await refinementImage,
  };
  const rawMask = await refine(models.refinement, inputs, params.refinementSize, params.tumourChannel);
  check();
  const mask = plan.smoothingRadiusPx < 1 ? rawMask : await offload.smooth(rawMask, plan.smoothingRadiusPx);

  clock.enter('polygons', 1);
  const vector = await offload.vectorize(mask, level0.width, level0.height, options.roi, {
    pipelineVersion: VERSION,
    modelSet: models.name,
    patchModel: { file: models.patch.info.file, sha256: models.patch.info.sha256 },
    refinementModel: { file: models.refinement.info.file, sha256: models.refinement.info.sha256 },
    parameters: {
      ...params,
      reference: slidePlan.reference,
      lowResRule: slidePlan.lowResRule,
      magnification: slidePlan.magnification
        ? `${slidePlan.magnification.value} (${slidePlan.magnification.source})`
        : 'none',
      tissueThreshold: options.tissueThreshold,
      smoothingUm: options.smoothingUm,
      roi: options.roi !== undefined,
      lowResLevel,
      patchLevel: grid.readLevel,
      patchResampled: grid.resample,
    },
    demo: models.demo,
    precision: models.precision,
    quantizedFrom: models.quantizedFrom,
    mpp,
  });
  clock.leave();
  // The polygon stage cannot be interrupted; a cancel or deadline during it still ends the job here.
  check();

  const umPerPx2 = mpp.x * mpp.y;
  const tumourAreaMm2 = vector.areaPx * umPerPx2 * 1e-6;
  const tissueAreaMm2 = (await offload.maskFraction(tissue)) * level0.width * level0.height * umPerPx2 * 1e-6;
  const totalSeconds = clock.elapsed();
  clock.report('done', 1, 1, 0);
  let geojson: FeatureCollection | undefined;
  return {
    get geojson() {
      return (geojson ??= JSON.parse(vector.text) as FeatureCollection);
    },
    geojsonText: vector.text,
    heatmap,
    mask,
    lowResImage: plan.lowRes,
    tissueMask: tissue,
    summary: {
      patchesTotal: grid.rows * grid.cols,
      patchesInferred: cells.length,
      tumourAreaMm2,
      tissueAreaMm2,
      tumourShareOfTissue: tissueAreaMm2 > 0 ? tumourAreaMm2 / tissueAreaMm2 : 0,
      polygonCount: vector.polygonCount,
      stageSeconds: clock.seconds,
      totalSeconds,
    },
  };
}
