/**
 * Runs a list of slides into an output directory through the result cache. One slide is inferred at a
 * time (inference already uses every core), and the next slide is prepared meanwhile: its content
 * digest (on the hashing thread), its cache lookup, and for a miss its opening and tissue stage
 * (`planSegmentation`). Models load once, on the first slide that needs them. A slide that fails is
 * recorded with its error and the rest go on; only what concerns every slide (the models, the output
 * directory) stops the run. An abort (SIGINT/SIGTERM) stops within one batch of patches and leaves
 * unfinished slides pending.
 */
import type { Logger } from '../log';
import { ModelError } from '../models/errors';
import type { ModelSet } from '../models/model-set';
import { CancelledError } from '../pipeline/errors';
import { finishSegmentation, planSegmentation, type SegmentationPlan } from '../pipeline/segment';
import type { SegmentOptions } from '../pipeline/types';
import { OpenSlide } from '../slide/openslide';
import { encodeArtifacts, runContext } from './artifacts';
import type { CacheEntry, ResultCache } from './cache';
import type { ResultOptions } from './cache-key';
import { BatchSetupError } from './errors';
import { type ModelIdentity, resultKey } from './identity';
import type { CohortSlide } from './inputs';
import type { BatchProgress } from './progress';
import { writeSlideFailure, writeSlideResult } from './slide-output';
import os from 'node:os';

export interface RunnerSettings {
  outDir: string;
  cache: ResultCache;
  models: ModelIdentity;
  /** Loads the sessions; called once, when the first slide misses the cache. */
  loadModels: () => Promise<ModelSet>;
  options: ResultOptions;
  batchSize?: number;
  settingsId: string;
  progress: BatchProgress;
  log: Logger;
  signal?: AbortSignal;
}

export interface RunCounts {
  ok: number;
  failed: number;
  pending: number;
  cached: number;
  computed: number;
}

interface Owner {
  name: string;
  entry: Promise<CacheEntry>;
}

type Prepared =
  | { kind: 'failed'; slide: CohortSlide; error: string; sha256?: string }
  | { kind: 'cancelled'; slide: CohortSlide }
  | { kind: 'hit'; slide: CohortSlide; entry: CacheEntry }
  | { kind: 'same'; slide: CohortSlide; owner: Owner }
  | {
      kind: 'compute';
      slide: CohortSlide;
      source: OpenSlide;
      plan: SegmentationPlan;
      key: ReturnType<typeof resultKey>;
      sha256: string;
      resolve: (entry: CacheEntry) => void;
      reject: (err: Error) => void;
    };

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isCancel(err: unknown, signal?: AbortSignal): boolean {
  return err instanceof CancelledError || (signal?.aborted ?? false);
}

export async function runSlides(slides: readonly CohortSlide[], s: RunnerSettings): Promise<RunCounts> {
  const counts: RunCounts = { ok: 0, failed: 0, pending: 0, cached: 0, computed: 0 };
  const owners = new Map<string, Owner>();
  let models = null as Promise<ModelSet> | null;
  const loadModels = () => (models ??= s.loadModels());
  const segmentOptions: Partial<SegmentOptions> = {
    mpp: s.options.mpp ?? undefined,
    tissueThreshold: s.options.tissueThreshold,
    smoothingUm: s.options.smoothingUm,
    roi: s.options.roi ?? undefined,
    batchSize: s.batchSize,
  };

  async function prepare(slide: CohortSlide): Promise<Prepared> {
    if (slide.problem) return { kind: 'failed', slide, error: slide.problem };
    if (s.signal?.aborted) return { kind: 'cancelled', slide };
    let digest: { sha256: string };
    try {
      digest = await s.cache.digests.slide(slide.path);
    } catch (err) {
      return { kind: 'failed', slide, error: `cannot read ${slide.path}: ${message(err)}` };
    }
    const key = resultKey(digest.sha256, s.models, s.options);
    const owner = owners.get(key.key);
    if (owner) return { kind: 'same', slide, owner };
    const found = await s.cache.lookup(key.key, 'full');
    if (found.state === 'hit') {
      owners.set(key.key, { name: slide.name, entry: Promise.resolve(found.entry) });
      return { kind: 'hit', slide, entry: found.entry };
    }
    if (found.state === 'damaged') {
      s.log.warn(
        { slide: slide.name, key: key.key, reason: found.reason },
        'damaged cache entry removed; segmenting again',
      );
    }
    let resolve!: (entry: CacheEntry) => void;
    let reject!: (err: Error) => void;
    const entry = new Promise<CacheEntry>((res, rej) => ((resolve = res), (reject = rej)));
    entry.catch(() => undefined); // awaited only by duplicates, if any
    owners.set(key.key, { name: slide.name, entry });
    let source: OpenSlide | null = null;
    try {
      source = await OpenSlide.open(slide.path);
      const plan = await planSegmentation(source, s.models.parameters, segmentOptions, { signal: s.signal });
      return { kind: 'compute', slide, source, plan, key, sha256: digest.sha256, resolve, reject };
    } catch (err) {
      await source?.close();
      reject(err as Error);
      if (isCancel(err, s.signal)) return { kind: 'cancelled', slide };
      return { kind: 'failed', slide, error: message(err), sha256: digest.sha256 };
    }
  }

  async function compute(p: Extract<Prepared, { kind: 'compute' }>): Promise<CacheEntry> {
    try {
      const set = await loadModels();
      s.progress.slideStarted(p.slide.name);
      const result = await finishSegmentation(p.source, set, p.plan, {
        signal: s.signal,
        onProgress: (e) => s.progress.pipeline(e),
      });
      const level0 = p.source.levels[0]!;
      const { artifacts } = encodeArtifacts(
        result,
        { width: level0.width, height: level0.height, sha256: p.sha256, mpp: p.plan.mpp },
        p.key,
        runContext(set, p.plan.options.batchSize),
      );
      const entry = await s.cache.store(p.key.key, artifacts);
      p.resolve(entry);
      return entry;
    } catch (err) {
      p.reject(err as Error);
      throw err;
    } finally {
      await p.source.close();
    }
  }

  const host = os.hostname();

  async function execute(p: Prepared): Promise<void> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const record = { name: p.slide.name, slide: p.slide.path, settingsId: s.settingsId };
    const fail = async (error: string, sameAs: string | null = null, slideSha256: string | null = null) => {
      const run = { cached: false, finishedAt: new Date().toISOString(), seconds: seconds(), host };
      await writeSlideFailure(s.outDir, { ...record, error, sameAs, slideSha256, run }).catch(unwritable);
      counts.failed++;
      s.progress.slideDone({ name: p.slide.name, status: 'failed', cached: false, seconds: seconds(), error });
    };
    const succeed = async (entry: CacheEntry, cached: boolean, sameAs: string | null) => {
      const run = { cached, finishedAt: new Date().toISOString(), seconds: seconds(), host };
      await writeSlideResult(s.outDir, { ...record, sameAs, run }, entry).catch(unwritable);
      counts.ok++;
      if (cached) counts.cached++;
      else counts.computed++;
      const pipelineSeconds = cached ? seconds() : entry.summary.figures.totalSeconds;
      s.progress.slideDone({ name: p.slide.name, status: 'ok', cached, seconds: pipelineSeconds, error: null });
    };
    const unwritable = (err: unknown): never => {
      // The result itself is safe in the cache; without an output directory no slide can be recorded.
      throw new BatchSetupError(`cannot write the results of ${p.slide.name} into ${s.outDir}: ${message(err)}`);
    };
    const pending = () => {
      counts.pending++;
      s.progress.slideDone({ name: p.slide.name, status: 'pending', cached: false, seconds: seconds(), error: null });
    };

    switch (p.kind) {
      case 'cancelled':
        return pending();
      case 'failed':
        return fail(p.error, null, p.sha256 ?? null);
      case 'hit':
        return succeed(p.entry, true, null);
      case 'same': {
        let entry: CacheEntry;
        try {
          entry = await p.owner.entry;
        } catch (err) {
          if (isCancel(err, s.signal)) return pending();
          return fail(`same slide content as ${p.owner.name}, which failed: ${message(err)}`, p.owner.name);
        }
        return succeed(entry, true, p.owner.name);
      }
      case 'compute': {
        let entry: CacheEntry;
        try {
          entry = await compute(p);
        } catch (err) {
          if (err instanceof ModelError) throw new BatchSetupError(err.message, { cause: err });
          if (isCancel(err, s.signal)) return pending();
          return fail(message(err), null, p.sha256);
        }
        return succeed(entry, false, null);
      }
    }
  }

  s.progress.begin(slides.length);
  try {
    let next: Promise<Prepared> | null = slides.length > 0 ? prepare(slides[0]!) : null;
    for (let i = 0; i < slides.length; i++) {
      const current = await next!;
      // The next slide is digested, looked up and planned while this one infers.
      next = i + 1 < slides.length ? prepare(slides[i + 1]!) : null;
      try {
        await execute(current);
      } catch (err) {
        // Stopping: release what the prepared slide holds, then count the rest as pending.
        const after = await next?.catch(() => null);
        if (after?.kind === 'compute') await after.source.close();
        throw err;
      }
    }
  } finally {
    s.progress.end();
    if (models) await (await models.catch(() => null))?.release();
  }
  return counts;
}
