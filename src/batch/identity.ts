/** Cache keys for real slides and model sets: content digests (through the memo) plus options. */
import path from 'node:path';
import type { MultiPolygon, Polygon } from 'geojson';
import { type ModelParameters, readManifest } from '../models/manifest';
import { validateOptions } from '../pipeline/options';
import type { SegmentOptions } from '../pipeline/types';
import { CACHE_FORMAT, cacheKey, type CacheKeyInputs, pipelineIdentity, type ResultOptions } from './cache-key';
import type { DigestMemo } from './digest';

export interface ModelIdentity {
  directory: string;
  patchSha256: string;
  refinementSha256: string;
  parameters: ModelParameters;
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
    models: {
      patchSha256: models.patchSha256,
      refinementSha256: models.refinementSha256,
      parameters: models.parameters,
    },
    options,
  };
  return { key: cacheKey(inputs), inputs };
}
