/**
 * `h2g batch` on this machine: the cohort (from the inputs, or a Slurm task's shard of a cohort file),
 * the cache, the models' identity, then the runner, then the table and the report.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log';
import { readManifest } from '../models/manifest';
import { type ExecutionProvider, loadModelSet } from '../models/model-set';
import { CACHE_FORMAT, pipelineIdentity } from './cache-key';
import { CacheUnavailableError, ResultCache } from './cache';
import {
  type CohortFile,
  type CohortSettings,
  cohortFilePath,
  makeCohortFile,
  readCohortFile,
  settingsId,
  writeCohortFile,
} from './cohort-file';
import { BatchInputError, BatchSetupError } from './errors';
import { modelIdentity, type ModelIdentity, resultOptions } from './identity';
import { type CohortSlide, expandInputs } from './inputs';
import { createBatchProgress } from './progress';
import { publishCohort } from './publish';
import { type RunCounts, runSlides } from './runner';
import type { CohortRow } from './table';

export interface BatchSettingsRequest {
  outDir: string;
  cacheDir: string;
  modelDirectory: string;
  mpp?: number;
  tissueThreshold?: number;
  smoothingUm?: number;
  rehash?: boolean;
}

export interface BatchRequest extends BatchSettingsRequest {
  inputs: readonly string[];
  batchSize?: number;
  provider: ExecutionProvider;
  threads: number;
  /** A Slurm task: run the slides of `shard` in this cohort file instead of expanding inputs. */
  cohortFile?: string;
  shard?: number;
  log: Logger;
  interactive?: boolean;
  signal?: AbortSignal;
}

export interface BatchOutcome {
  counts: RunCounts;
  /** The whole cohort's rows; null for a Slurm task (its submitter writes the table). */
  rows: CohortRow[] | null;
}

/** Creates the output directory and proves it writable, before any work that could be lost. */
export async function ensureOutputDir(outDir: string): Promise<void> {
  const probe = path.join(outDir, `.h2g-probe.${os.hostname()}.${process.pid}`);
  try {
    await mkdir(outDir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new BatchSetupError(`cannot write to the output directory ${outDir}: ${(err as Error).message}`);
  }
}

export interface BatchContext {
  cache: ResultCache;
  models: ModelIdentity;
  settings: CohortSettings;
}

/** The cache and the settings every slide's key shares. */
export async function openBatchContext(req: BatchSettingsRequest): Promise<BatchContext> {
  await ensureOutputDir(req.outDir);
  let cache: ResultCache;
  try {
    cache = await ResultCache.open(req.cacheDir, { rehash: req.rehash });
  } catch (err) {
    if (err instanceof CacheUnavailableError) throw new BatchSetupError(err.message);
    throw err;
  }
  const models = await modelIdentity(req.modelDirectory, cache.digests);
  const { manifest } = await readManifest(models.directory);
  const settings: CohortSettings = {
    cacheFormat: CACHE_FORMAT,
    pipeline: pipelineIdentity(),
    models: {
      patchSha256: models.patchSha256,
      refinementSha256: models.refinementSha256,
      parameters: models.parameters,
    },
    options: resultOptions({ mpp: req.mpp, tissueThreshold: req.tissueThreshold, smoothingUm: req.smoothingUm }),
    modelSet: manifest.name ?? path.basename(models.directory),
    demo: manifest.demo,
  };
  return { cache, models, settings };
}

async function shardOf(
  file: string,
  shard: number,
  settings: CohortSettings,
): Promise<{ cohort: CohortFile; slides: CohortSlide[] }> {
  const cohort = await readCohortFile(file);
  if (cohort.settingsId !== settingsId(settings)) {
    throw new BatchInputError(
      `${file} was made with other models, options or h2g version than this task has; submit the batch again`,
    );
  }
  const shards = cohort.shards;
  if (!shards || shards.length !== cohort.slides.length) throw new BatchInputError(`${file} has no shard assignment`);
  return { cohort, slides: cohort.slides.filter((_, i) => shards[i] === shard) };
}

export async function runBatch(req: BatchRequest): Promise<BatchOutcome> {
  const context = await openBatchContext(req);
  const { cache, models, settings } = context;
  let cohort: CohortFile;
  let slides: CohortSlide[];
  if (req.cohortFile !== undefined) {
    ({ cohort, slides } = await shardOf(req.cohortFile, req.shard ?? 0, settings));
  } else {
    slides = await expandInputs(req.inputs);
    if (slides.length === 0) throw new BatchInputError('the inputs hold no slides');
    cohort = makeCohortFile(slides, settings);
    await writeCohortFile(cohortFilePath(req.outDir), cohort);
  }
  req.log.info(
    { slides: slides.length, outDir: req.outDir, cache: cache.dir, models: models.directory },
    'batch started',
  );
  let counts: RunCounts;
  try {
    counts = await runSlides(slides, {
      outDir: req.outDir,
      cache,
      models,
      loadModels: () => loadModelSet(models.directory, { provider: req.provider, threads: req.threads }),
      options: settings.options,
      batchSize: req.batchSize,
      settingsId: cohort.settingsId,
      progress: createBatchProgress(req.log, req.interactive),
      log: req.log,
      signal: req.signal,
    });
  } catch (err) {
    // Stopped: the table and the report still show what is done (a Slurm task leaves them to the merge).
    if (req.cohortFile === undefined) await publishCohort(req.outDir, cohort).catch(() => undefined);
    throw err;
  }
  const rows = req.cohortFile === undefined ? await publishCohort(req.outDir, cohort) : null;
  return { counts, rows };
}
