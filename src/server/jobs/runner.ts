/**
 * Runs one segmentation job for either RPC: checks options and models before taking a queue slot
 * (bad requests fail fast and never wait), opens the slide only once a slot is granted (queued jobs
 * hold no file handle or memory), and always closes the slide and frees the slot, however the job
 * ends. The server keeps every running job here so a shutdown can wait for them or cancel them.
 */
import type { SegmentEvent, SegmentOptions as ProtoOptions } from '../../generated/h2gnet/v1/segmentation';
import type { Logger } from '../../log';
import type { ModelSet } from '../../models/model-set';
import { CancelledError } from '../../pipeline/errors';
import { DEFAULT_LIMITS, type Limits } from '../../pipeline/limits';
import { validateOptions } from '../../pipeline/options';
import type { SegmentCallbacks, SegmentationResult, SegmentOptions } from '../../pipeline/types';
import type { SlideSource } from '../../slide/source';
import {
  fromPatchScores,
  fromPipelineProgress,
  progressEvent,
  resultExtras,
  toPipelineOptions,
  toProtoResult,
} from '../convert';
import { ShuttingDownError } from '../errors';
import type { ModelRegistry } from '../models';
import type { JobQueue } from './queue';

export type SegmentFn = (
  source: SlideSource,
  models: ModelSet,
  options: Partial<SegmentOptions>,
  callbacks?: SegmentCallbacks,
  limits?: Limits,
) => Promise<SegmentationResult>;

export interface JobRequest {
  /**
   * Opens the pixels; called only once the job has a slot. `signal` aborts when the job is stopped:
   * a source whose reads can wait indefinitely (a client's pixels) must then fail them.
   */
  open: (signal: AbortSignal) => Promise<SlideSource>;
  modelSet: string;
  /** '' = the server's --precision. */
  precision: string;
  options: ProtoOptions | undefined;
  /** Sends one event to the client (progress, patches, finally the result). */
  emit: (event: SegmentEvent) => void;
  /** Aborts when the client cancels or its deadline passes. */
  signal: AbortSignal;
  log: Logger;
}

interface ActiveJob {
  controller: AbortController;
  done: Promise<void>;
}

export class JobRunner {
  private readonly active = new Set<ActiveJob>();
  private draining = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly models: ModelRegistry,
    private readonly segment: SegmentFn,
    private readonly limits: Limits = DEFAULT_LIMITS,
  ) {}

  get stats(): { running: number; queued: number; active: number } {
    return { ...this.queue.stats, active: this.active.size };
  }

  /** Resolves after the result event was emitted; rejects with the error to report. */
  async run(req: JobRequest): Promise<void> {
    if (this.draining) throw new ShuttingDownError();
    // Linked controller: the server can cancel a job (shutdown) without touching the client's signal.
    const controller = new AbortController();
    // The caller may abort with a reason (a protocol error); a bare abort is the client cancelling.
    const onClientAbort = (): void => {
      const reason: unknown = req.signal.reason;
      controller.abort(reason instanceof Error && reason.name !== 'AbortError' ? reason : new CancelledError());
    };
    if (req.signal.aborted) onClientAbort();
    req.signal.addEventListener('abort', onClientAbort, { once: true });
    const job: ActiveJob = { controller, done: Promise.resolve() };
    job.done = this.execute(req, controller.signal)
      .catch((err: unknown) => {
        // A stopped job fails in whatever way its reads or the pipeline noticed first; report why it
        // was stopped (the client cancelled, a protocol error, shutdown) instead.
        throw controller.signal.aborted ? controller.signal.reason : err;
      })
      .finally(() => {
        this.active.delete(job);
        req.signal.removeEventListener('abort', onClientAbort);
      });
    this.active.add(job);
    return job.done;
  }

  private async execute(req: JobRequest, signal: AbortSignal): Promise<void> {
    const partial = toPipelineOptions(req.options, this.limits);
    validateOptions(partial); // fail fast on bad options, before loading models or queueing
    const extras = resultExtras(req.options);
    const models = await this.models.get(req.modelSet, req.precision);
    signal.throwIfAborted();
    const release = await this.queue.acquire(signal, (queuePosition) =>
      req.emit(progressEvent({ stage: 'queued', queuePosition })),
    );
    let source: SlideSource | null = null;
    const started = performance.now();
    try {
      req.emit(progressEvent({ stage: 'opening' }));
      source = await req.open(signal);
      signal.throwIfAborted();
      let lastStage = 'opening';
      const result = await this.segment(
        source,
        models,
        partial,
        {
          signal,
          onProgress: (e) => {
            lastStage = e.stage;
            req.emit(fromPipelineProgress(e));
          },
          onPatches: extras.livePatches ? (e) => req.emit(fromPatchScores(e)) : undefined,
        },
        this.limits,
      );
      const proto = await toProtoResult(result, extras);
      if (lastStage !== 'done') {
        req.emit(
          progressEvent({
            stage: 'done',
            done: 1,
            total: 1,
            elapsedSeconds: (performance.now() - started) / 1000,
            etaSeconds: 0,
          }),
        );
      }
      req.emit({ event: { $case: 'result', result: proto } });
      req.log.info(
        {
          seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
          patches: result.summary.patchesInferred,
          polygons: result.summary.polygonCount,
        },
        'job finished',
      );
    } finally {
      await source?.close().catch((err: unknown) => req.log.warn({ err }, 'closing the slide failed'));
      release();
      // Tests and operators can see that a cancelled or failed job let go of its slide and slot.
      req.log.debug({ slideClosed: source !== null, ...this.queue.stats }, 'job released');
    }
  }

  /**
   * Stops taking jobs, rejects queued ones, gives running ones `graceMs` to finish, then cancels
   * the rest and waits for them to stop (within one batch). Resolves when no job is left.
   */
  async drain(graceMs: number, log: Logger): Promise<void> {
    this.draining = true;
    this.queue.close(new ShuttingDownError());
    const all = (): Promise<unknown> => Promise.allSettled([...this.active].map((j) => j.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([all().then(() => 'finished' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout' && this.active.size > 0) {
      log.warn({ jobs: this.active.size }, 'grace period over; cancelling running jobs');
      const reason = new ShuttingDownError('the server is shutting down and cancelled this job; retry later');
      for (const job of this.active) job.controller.abort(reason);
      await all();
    }
  }
}
