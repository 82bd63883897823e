/**
 * The h2gnet.v1.Segmentation handlers. Each handler catches everything: a bad request ends its own
 * call with a status and is logged; it never throws into grpc-js (which would crash the process).
 */
import {
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  status,
} from '@grpc/grpc-js';
import { listSupportedBackends } from 'onnxruntime-node';
import type {
  GetInfoRequest,
  PixelClientMessage,
  PixelServerMessage,
  SegmentEvent,
  SegmentRequest,
  SegmentationServer,
  ServerInfo,
} from '../generated/h2gnet/v1/segmentation';
import type { Logger } from '../log';
import { SlideError } from '../slide/errors';
import type { SlideSource } from '../slide/source';
import { VERSION } from '../version';
import type { ServerConfig } from './config';
import { RequestError, toGrpcStatus, toServiceError } from './errors';
import type { JobRunner } from './jobs/runner';
import type { ModelRegistry } from './models';
import type { PathPolicy } from './paths';
import { malformedReason } from './malformed';
import { RemoteSource } from './remote-source';
import { GuardedStream } from './stream';

export interface ServiceContext {
  config: ServerConfig;
  runner: JobRunner;
  models: ModelRegistry;
  policy: PathPolicy;
  /** Opens a slide file; given the path of the job's pinned file (PathPolicy.pin). */
  openSlide: (pinnedPath: string) => Promise<SlideSource>;
  log: Logger;
}

/**
 * How long a half-close waits for a possible cancel before it counts as hanging up. 250 ms was
 * enough while inference blocked the event loop (the timer fired late); with the loop free, a busy
 * machine delivered the cancel after it, and a cancel was reported as INVALID_ARGUMENT.
 */
const END_GRACE_MS = 1000;

let jobCounter = 0;
const nextJobId = (): string => `${process.pid}-${++jobCounter}`;

/**
 * Opens the job's slide through its pinned file (checked on the opened descriptor, paths.ts), named
 * as the client named it; closing the source lets go of the pin.
 */
async function openPinned(ctx: ServiceContext, slidePath: string): Promise<SlideSource> {
  const pinned = await ctx.policy.pin(slidePath);
  let source: SlideSource;
  try {
    source = await ctx.openSlide(pinned.path);
  } catch (err) {
    await pinned.release();
    // Say the client's path, not the link's, in the error.
    if (err instanceof SlideError) throw new SlideError(err.code, err.message.replaceAll(pinned.path, slidePath));
    throw err;
  }
  return {
    description: slidePath,
    levels: source.levels,
    pixelSize: source.pixelSize,
    bounds: source.bounds,
    readRegion: (request) => source.readRegion(request),
    ...(source.readRegionsInto ? { readRegionsInto: source.readRegionsInto.bind(source) } : {}),
    close: async () => {
      try {
        await source.close();
      } finally {
        await pinned.release();
      }
    },
  };
}

/** Logs how a job ended: bad input at info (the client hears it), our failures at error (already logged). */
function logOutcome(log: Logger, code: status, details: string): void {
  if (code === status.INTERNAL) return;
  log.info({ code: status[code], details }, 'job ended without result');
}

async function handleSegment(
  ctx: ServiceContext,
  call: ServerWritableStream<SegmentRequest, SegmentEvent>,
): Promise<void> {
  const log = ctx.log.child({ job: nextJobId(), rpc: 'Segment' });
  const out = new GuardedStream<SegmentEvent>(call);
  const cancel = new AbortController();
  call.on('cancelled', () => cancel.abort());
  try {
    const req = call.request;
    const bad = malformedReason(req);
    if (bad) throw new RequestError(status.INVALID_ARGUMENT, `the request cannot be decoded: ${bad}`);
    log.info(
      { slide: req.slidePath, modelSet: req.modelSet || '(default)', precision: req.precision, peer: call.getPeer() },
      'job received',
    );
    // Checked now to fail fast; checked again on the opened file when the job starts (openPinned).
    await ctx.policy.resolve(req.slidePath);
    await ctx.runner.run({
      open: () => openPinned(ctx, req.slidePath),
      modelSet: req.modelSet,
      precision: req.precision,
      options: req.options,
      emit: (e) => out.write(e),
      signal: cancel.signal,
      log,
    });
    out.end();
  } catch (err) {
    const s = toGrpcStatus(err, log);
    logOutcome(log, s.code, s.details);
    out.fail(s);
  }
}

function handleSegmentPixels(
  ctx: ServiceContext,
  call: ServerDuplexStream<PixelClientMessage, PixelServerMessage>,
): void {
  const log = ctx.log.child({ job: nextJobId(), rpc: 'SegmentPixels' });
  const out = new GuardedStream<PixelServerMessage>(call);
  const cancel = new AbortController();
  let source: RemoteSource | null = null;
  const finish = (err: unknown): void => {
    const s = toGrpcStatus(err, log);
    logOutcome(log, s.code, s.details);
    out.fail(s);
    if (!cancel.signal.aborted) cancel.abort(err);
  };
  // A protocol error stops the job at once, even while it is still queued.
  const protocolError = (err: Error): void => {
    source?.fail(err);
    if (!cancel.signal.aborted) cancel.abort(err);
  };
  call.on('cancelled', () => {
    cancel.abort();
    source?.fail(new RequestError(status.CANCELLED, 'the client cancelled'));
  });
  call.on('error', (err) => log.debug({ err }, 'stream error'));
  call.on('data', (msg: PixelClientMessage) => {
    try {
      const bad = malformedReason(msg);
      if (bad) {
        const err = new RequestError(status.INVALID_ARGUMENT, `a message cannot be decoded: ${bad}`);
        if (source) protocolError(err);
        else finish(err);
        return;
      }
      const m = msg.message;
      if (!source) {
        if (m?.$case !== 'start') throw new RequestError(status.INVALID_ARGUMENT, 'the first message must be `start`');
        const image = m.start.image;
        source = new RemoteSource(
          image!,
          (regionRequest) => out.write({ message: { $case: 'regionRequest', regionRequest } }),
          { timeoutMs: ctx.config.regionTimeoutSeconds * 1000, limits: ctx.config.limits },
        );
        const opened = source;
        log.info(
          {
            image: image?.name,
            width: image?.width,
            height: image?.height,
            modelSet: m.start.modelSet || '(default)',
            precision: m.start.precision,
            peer: call.getPeer(),
          },
          'job received',
        );
        ctx.runner
          .run({
            open: async (jobSignal) => {
              // Stopping the job (cancel, shutdown) must not wait for answers that may never come.
              const stop = (): void => opened.fail(jobSignal.reason as Error);
              if (jobSignal.aborted) stop();
              else jobSignal.addEventListener('abort', stop, { once: true });
              return opened;
            },
            modelSet: m.start.modelSet,
            precision: m.start.precision,
            options: m.start.options,
            emit: (event) => out.write({ message: { $case: 'event', event } }),
            signal: cancel.signal,
            log,
          })
          .then(() => out.end(), finish);
      } else if (m?.$case === 'region') {
        source.deliver(m.region);
        const failure = source.failure;
        if (failure) protocolError(failure);
      } else {
        protocolError(new RequestError(status.INVALID_ARGUMENT, 'only `region` messages may follow `start`'));
      }
    } catch (err) {
      finish(err);
    }
  });
  call.on('end', () => {
    // A cancelled call ends its read side first and hears 'cancelled' only later (after more
    // network events): look again a moment later, so a cancel is not taken for a client that hung up
    // mid-protocol (which would be logged as INVALID_ARGUMENT instead of CANCELLED).
    setTimeout(() => {
      if (call.cancelled || cancel.signal.aborted) return;
      if (!source) finish(new RequestError(status.INVALID_ARGUMENT, 'the stream ended before a `start` message'));
      else source.clientEnded();
    }, END_GRACE_MS).unref();
  });
}

async function getInfo(ctx: ServiceContext): Promise<ServerInfo> {
  // Loading the default here (a no-op once loaded) lets a client see its digests right after READY.
  const defaultSet = await ctx.models.get('').catch(() => null);
  return {
    version: VERSION,
    modelSets: ctx.models.loadedSets().map((set) => ({
      name: set.name,
      directory: set.directory,
      files: [set.patch.info, set.refinement.info].map((f) => ({ role: f.role, file: f.file, sha256: f.sha256 })),
      isDefault: set === defaultSet,
      demo: set.demo,
      precision: set.precision,
    })),
    executionProviders: listSupportedBackends()
      .filter((b) => b.bundled)
      .map((b) => b.name),
    limits: {
      maxConcurrent: ctx.config.maxConcurrent,
      maxQueue: ctx.config.maxQueue,
      allowedRoots: [...ctx.policy.roots],
      requiresToken: ctx.config.token !== null,
      maxMessageBytes: ctx.config.maxMessageBytes,
    },
  };
}

export function segmentationService(ctx: ServiceContext): SegmentationServer {
  return {
    segment: (call: ServerWritableStream<SegmentRequest, SegmentEvent>) => void handleSegment(ctx, call),
    segmentPixels: (call: ServerDuplexStream<PixelClientMessage, PixelServerMessage>) => handleSegmentPixels(ctx, call),
    getInfo: (_call: ServerUnaryCall<GetInfoRequest, ServerInfo>, callback: sendUnaryData<ServerInfo>) => {
      getInfo(ctx).then(
        (info) => callback(null, info),
        (err: unknown) => {
          const s = toGrpcStatus(err, ctx.log);
          callback(toServiceError(s));
        },
      );
    },
  };
}
