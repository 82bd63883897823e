/**
 * One slide through the result cache, for `h2g segment --cache`: the same key, entries and artifacts
 * as `h2g batch`, so either command reuses what the other computed.
 */
import type { Logger } from '../log';
import { loadModelSet } from '../models/model-set';
import { jobOptions, type PipelineSettings, sessionOptions, settingsLimits } from '../pipeline/settings';
import { resolveMpp, segmentWhileLoading } from '../pipeline/segment';
import { DEFAULT_OPTIONS, type ProgressEvent, type SegmentOptions } from '../pipeline/types';
import { SlideError } from '../slide/errors';
import { OpenSlide } from '../slide/openslide';
import { encodeArtifacts, runContext } from './artifacts';
import { type CacheEntry, ResultCache } from './cache';
import { modelIdentity, refusedHit, resultKey, resultOptions } from './identity';

export interface CachedSegmentRequest {
  slide: string;
  modelDirectory: string;
  cacheDir: string;
  settings: PipelineSettings;
  roi?: SegmentOptions['roi'];
  log: Logger;
  onProgress?: (e: ProgressEvent) => void;
}

export async function segmentThroughCache(req: CachedSegmentRequest): Promise<{ entry: CacheEntry; cached: boolean }> {
  const cache = await ResultCache.open(req.cacheDir);
  const options: Partial<SegmentOptions> = { ...jobOptions(req.settings), roi: req.roi };
  const limits = settingsLimits(req.settings);
  // Opening first gives the usual not-found / unsupported errors before any hashing.
  const source = await OpenSlide.open(req.slide, { limits });
  try {
    const models = await modelIdentity(req.modelDirectory, cache.digests);
    const digest = await cache.digests.slide(req.slide);
    const key = resultKey(digest.sha256, models, resultOptions(options));
    const found = await cache.lookup(key.key, 'full');
    if (found.state === 'hit') {
      const refused = refusedHit(found.entry.summary, source.description, options);
      if (refused) throw new SlideError('NO_PIXEL_SIZE', refused);
      return { entry: found.entry, cached: true };
    }
    if (found.state === 'damaged') req.log.warn({ key: key.key, reason: found.reason }, 'damaged cache entry removed');
    // The sessions load while the tissue mask is made (segmentWhileLoading); released however it ends.
    const loading = loadModelSet(req.modelDirectory, sessionOptions(req.settings));
    loading.catch(() => undefined); // a failed load rejects segmentWhileLoading below
    try {
      req.log.info({ slide: req.slide, models: models.directory }, 'segmenting');
      const result = await segmentWhileLoading(
        source,
        models.parameters,
        loading,
        options,
        { onProgress: req.onProgress },
        limits,
      );
      const set = await loading;
      const { artifacts } = await encodeArtifacts(
        result,
        {
          width: source.width,
          height: source.height,
          sha256: digest.sha256,
          mpp: resolveMpp(source, options.mpp, options.forceMpp),
        },
        key,
        runContext(set, options.batchSize ?? DEFAULT_OPTIONS.batchSize, { ...req.settings, models: set.directory }),
      );
      return { entry: await cache.store(key.key, artifacts), cached: false };
    } finally {
      await (await loading.catch(() => null))?.release();
    }
  } finally {
    await source.close();
  }
}
