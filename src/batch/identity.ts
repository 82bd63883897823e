/** Cache keys for real slides and model sets: content digests (through the memo) plus options. */
import path from 'node:path';
import type { MultiPolygon, Polygon } from 'geojson';
import { readManifest } from '../models/manifest';
import { plausibleMpp, validateOptions } from '../pipeline/options';
import { implausiblePixelSize } from '../pipeline/segment';
import type { ResultSummary } from './artifacts';
import type { SegmentOptions } from '../pipeline/types';
import {
  CACHE_FORMAT,
  cacheKey,
  type CacheKeyInputs,
  type ModelKey,
  pipelineIdentity,
  type ResultOptions,
} from './cache-key';
import type { DigestMemo } from './digest';

export interface ModelIdentity extends ModelKey {
  directory: string;
}

/** The model files' digests and parameters, without loading any session (a cached run needs none). */
export async function modelIdentity(directory: string, memo: DigestMemo): Promise<ModelIdentity> {
  const dir = path.resolve(directory);
  const { manifest } = await readManifest(dir);
  const patch = await memo.file(path.join(dir, manifest.files.patch.file));
  const refinement = await memo.file(path.join(dir, manifest.files.refinement.file));
  return {
    directory: dir,
    patchSha256: patch.sha256,
    refinementSha256: refinement.sha256,
    parameters: manifest.parameters,
    precision: manifest.precision,
  };
}

/** The model set's part of a cache key. */
export function modelKey(m: ModelKey): ModelKey {
  return {
    patchSha256: m.patchSha256,
    refinementSha256: m.refinementSha256,
    parameters: m.parameters,
    precision: m.precision,
  };
}

/** The options that decide results, validated and with defaults filled in. */
export function resultOptions(options: Partial<SegmentOptions>): ResultOptions {
  const o = validateOptions(options);
  return {
    mpp: o.mpp ?? null,
    reference: o.reference,
    tissueThreshold: o.tissueThreshold,
    smoothingUm: o.smoothingUm,
    roi: (o.roi as Polygon | MultiPolygon | undefined) ?? null,
  };
}

export function resultKey(
  slideSha256: string,
  models: ModelIdentity,
  options: ResultOptions,
): { key: string; inputs: CacheKeyInputs } {
  const inputs: CacheKeyInputs = {
    cacheFormat: CACHE_FORMAT,
    pipeline: pipelineIdentity(),
    slide: { sha256: slideSha256 },
    models: modelKey(models),
    options,
  };
  return { key: cacheKey(inputs), inputs };
}

/**
 * Why a cached result may not be given under these options, as computing it would be refused; null
 * when it may. Only the pixel-size check depends on an option outside the key (`forceMpp`).
 */
export function refusedHit(summary: ResultSummary, slide: string, options: Partial<SegmentOptions>): string | null {
  const mpp = summary.slide.mpp;
  if (options.mpp !== undefined || options.forceMpp || (plausibleMpp(mpp.x) && plausibleMpp(mpp.y))) return null;
  return implausiblePixelSize(slide, mpp);
}
