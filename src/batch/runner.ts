/**
 * Runs a list of slides into an output directory through the result cache. One slide's patches are
 * inferred at a time (inference already uses every core it is given); meanwhile the next slide is
 * prepared (its content digest on the hashing thread, its cache lookup, and for a miss its opening and
 * tissue stage, `planSegmentation`) and the one before is finished (refinement on its own inference
 * thread, polygons, files), so the patch model never waits for either. Models load once, while the
 * first slide that needs them finds its tissue. A slide that fails is
 * recorded with its error and the rest go on; only what concerns every slide (the models, the output
 * directory) stops the run. An abort (SIGINT/SIGTERM) stops within one batch of patches and leaves
 * unfinished slides pending.
 */
import type { Logger } from '../log';
import { ModelError } from '../models/errors';
import type { ModelSet } from '../models/model-set';
import { CancelledError } from '../pipeline/errors';
import {
  completeSegmentation,
  type InferredSlide,
  inferSlidePatches,
  planSegmentation,
  type SegmentationPlan,
} from '../pipeline/segment';
import { jobOptions, type PipelineSettings, settingsLimits } from '../pipeline/settings';
import type { SegmentOptions } from '../pipeline/types';
import { OpenSlide } from '../slide/openslide';
import { encodeArtifacts, runContext } from './artifacts';
import type { CacheEntry, ResultCache } from './cache';
import type { ResultOptions } from './cache-key';
import { BatchSetupError } from './errors';
import { type ModelIdentity, refusedHit, resultKey } from './identity';
import type { CohortSlide } from './inputs';
import type { BatchProgress } from './progress';
import { writeSlideFailure, writeSlideResult } from './slide-output';
import os from 'node:os';

export interface RunnerSettings {
  outDir: string;
  cache: ResultCache;
  models: ModelIdentity;
  /** Loads the sessions; called once, when the first slide misses the cache (before its tissue stage). */
  loadModels: () => Promise<ModelSet>;
  /** The key's options (from `settings`). */
  options: ResultOptions;
  settings: PipelineSettings;
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
  const segmentOptions: Partial<SegmentOptions> = { ...jobOptions(s.settings), roi: s.options.roi ?? undefined };
  const limits = settingsLimits(s.settings);

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
      const refused = refusedHit(found.entry.summary, slide.path, segmentOptions);
      if (refused) return { kind: 'failed', slide, error: refused, sha256: digest.sha256 };
      owners.set(key.key, { name: slide.name, entry: Promise.resolve(found.entry) });
      return { kind: 'hit', slide, entry: found.entry };
    }
    if (found.state === 'damaged') {
      s.log.warn(
        { slide: slide.name, key: key.key, reason: found.reason },
        'damaged cache entry removed; segmenting again',
      );
    }
    // A slide to compute: the sessions load while it opens and its tissue mask is made (once).
    loadModels().catch(() => undefined); // a failed load is reported by the slide that awaits it
    let resolve!: (entry: CacheEntry) => void;
    let reject!: (err: Error) => void;
    const entry = new Promise<CacheEntry>((res, rej) => ((resolve = res), (reject = rej)));
    entry.catch(() => undefined); // awaited only by duplicates, if any
    owners.set(key.key, { name: slide.name, entry });
    let source: OpenSlide | null = null;
    try {
      source = await OpenSlide.open(slide.path, { limits });
      const plan = await planSegmentation(source, s.models.parameters, segmentOptions, { signal: s.signal }, limits);
      return { kind: 'compute', slide, source, plan, key, sha256: digest.sha256, resolve, reject };
    } catch (err) {
      await source?.close();
      reject(err as Error);
      if (isCancel(err, s.signal)) return { kind: 'cancelled', slide };
      return { kind: 'failed', slide, error: message(err), sha256: digest.sha256 };
    }
  }

  /**
   * The patch stage of a slide, then (not waited for) the rest: refinement, polygons, encoding and
   * storing. Resolves when the patches are in, with the promise of the slide's entry (in an object:
   * a promise resolved with a promise would wait for it), so the next slide's patches start meanwhile.
   */
  async function inferThenComplete(
    p: Extract<Prepared, { kind: 'compute' }>,
    after: Promise<void>,
  ): Promise<{ entry: Promise<CacheEntry> }> {
    const fail = (err: unknown): never => {
      p.reject(err as Error);
      throw err;
    };
    let set: ModelSet;
    let inferred: InferredSlide;
    try {
      set = await loadModels();
      s.progress.slideStarted(p.slide.name);
      inferred = await inferSlidePatches(p.source, set, p.plan, {
        signal: s.signal,
        onProgress: (e) => s.progress.pipeline(e),
      });
    } catch (err) {
      return fail(err);
    } finally {
      await p.source.close();
    }
    const complete = async (): Promise<CacheEntry> => {
      // One slide's last stages at a time, in cohort order: their memory stays bounded, and a stop
      // (SIGTERM, scancel) finds at most one slide half finished.
      await after.catch(() => undefined);
      try {
        // The progress bars follow the slide in its patch stage; this one's last stages go unreported.
        const result = await completeSegmentation(set, inferred, { signal: s.signal });
        const { artifacts } = await encodeArtifacts(
          result,
          { ...inferred.level0, sha256: p.sha256, mpp: p.plan.mpp },
          p.key,
          runContext(set, p.plan.options.batchSize, s.settings),
        );
        const entry = await s.cache.store(p.key.key, artifacts);
        p.resolve(entry);
        return entry;
      } catch (err) {
        return fail(err);
      }
    };
    return { entry: complete() };
  }

  const host = os.hostname();

  /**
   * Starts a slide: resolves once it no longer needs the inference engine (a computed slide after its
   * patch stage, any other at once) with the promise of the slide's end, result or failure recorded.
   * `after`: the end of the slide before, which a computed slide's last stages wait for.
   */
  async function execute(p: Prepared, after: Promise<void>): Promise<{ finished: Promise<void> }> {
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
        return { finished: Promise.resolve(pending()) };
      case 'failed':
        return { finished: fail(p.error, null, p.sha256 ?? null) };
      case 'hit':
        return { finished: succeed(p.entry, true, null) };
      case 'same':
        return {
          finished: p.owner.entry.then(
            (entry) => succeed(entry, true, p.owner.name),
            (err: unknown) => {
              if (isCancel(err, s.signal)) return pending();
              return fail(`same slide content as ${p.owner.name}, which failed: ${message(err)}`, p.owner.name);
            },
          ),
        };
      case 'compute': {
        // A model error concerns every slide: it stops the run (thrown here when the patch stage
        // fails, from `finished` when the last stages do).
        const settle = (err: unknown) => {
          if (err instanceof ModelError) throw new BatchSetupError(err.message, { cause: err });
          if (isCancel(err, s.signal)) return pending();
          return fail(message(err), null, p.sha256);
        };
        try {
          const { entry } = await inferThenComplete(p, after);
          return { finished: entry.then((e) => succeed(e, false, null), settle) };
        } catch (err) {
          return { finished: Promise.resolve(settle(err)) };
        }
      }
    }
  }

  s.progress.begin(slides.length);
  // The previous slide's last stages (refinement, polygons, files), running beside this one's patches.
  let previous: Promise<void> = Promise.resolve();
  try {
    let next: Promise<Prepared> | null = slides.length > 0 ? prepare(slides[0]!) : null;
    for (let i = 0; i < slides.length; i++) {
      const current = await next!;
      // The next slide is digested, looked up and planned while this one infers.
      next = i + 1 < slides.length ? prepare(slides[i + 1]!) : null;
      try {
        const { finished } = await execute(current, previous);
        // The slide before ends before the next patch stage starts: one slide infers while at most one
        // is finished.
        const before = previous;
        previous = finished;
        finished.catch(() => undefined); // awaited in turn below (or in finally)
        await before;
      } catch (err) {
        // Stopping: release what the prepared slide holds, then count the rest as pending.
        const after = await next?.catch(() => null);
        if (after?.kind === 'compute') await after.source.close();
        throw err;
      }
    }
    await previous;
  } finally {
    await previous.catch(() => undefined); // no session is released under a slide still finishing
    s.progress.end();
    if (models) await (await models.catch(() => null))?.release();
  }
  return counts;
}
