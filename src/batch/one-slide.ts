/**
 * One slide through the result cache, for `h2g segment --cache`: the same key, entries and artifacts
 * as `h2g batch`, so either command reuses what the other computed.
 */
import type { Logger } from '../log';
import { type ExecutionProvider, loadModelSet } from '../models/model-set';
import type { Limits } from '../pipeline/limits';
import { resolveMpp, segmentSlide } from '../pipeline/segment';
import { DEFAULT_OPTIONS, type ProgressEvent, type SegmentOptions } from '../pipeline/types';
import { OpenSlide } from '../slide/openslide';
import { encodeArtifacts, runContext } from './artifacts';
import { type CacheEntry, ResultCache } from './cache';
import { modelIdentity, resultKey, resultOptions } from './identity';

export interface CachedSegmentRequest {
  slide: string;
  modelDirectory: string;
  cacheDir: string;
  options: Partial<SegmentOptions>;
  limits?: Limits;
  provider: ExecutionProvider;
  threads: number;
  log: Logger;
  onProgress?: (e: ProgressEvent) => void;
}

export async function segmentThroughCache(req: CachedSegmentRequest): Promise<{ entry: CacheEntry; cached: boolean }> {
  const cache = await ResultCache.open(req.cacheDir);
  // Opening first gives the usual not-found / unsupported errors before any hashing.
  const source = await OpenSlide.open(req.slide);
  try {
    const models = await modelIdentity(req.modelDirectory, cache.digests);
    const digest = await cache.digests.slide(req.slide);
    const key = resultKey(digest.sha256, models, resultOptions(req.options));
    const found = await cache.lookup(key.key, 'full');
    if (found.state === 'hit') return { entry: found.entry, cached: true };
    if (found.state === 'damaged') req.log.warn({ key: key.key, reason: found.reason }, 'damaged cache entry removed');
    const set = await loadModelSet(req.modelDirectory, { provider: req.provider, threads: req.threads });
    try {
      req.log.info(
        { slide: req.slide, models: set.directory, provider: set.provider, threads: set.threads },
        'segmenting',
      );
      const result = await segmentSlide(source, set, req.options, { onProgress: req.onProgress }, req.limits);
      const { artifacts } = encodeArtifacts(
        result,
        {
          width: source.width,
          height: source.height,
          sha256: digest.sha256,
          mpp: resolveMpp(source, req.options.mpp, req.options.forceMpp),
        },
        key,
        runContext(set, req.options.batchSize ?? DEFAULT_OPTIONS.batchSize),
      );
      return { entry: await cache.store(key.key, artifacts), cached: false };
    } finally {
      await set.release();
    }
  } finally {
    await source.close();
  }
}
