/**
 * How failures become gRPC statuses. Bad input always maps to a specific code with a readable
 * message; only our own bugs become INTERNAL, with a generic message (details go to the log, never
 * to the client, since they may hold paths or internals the client has no business seeing).
 */
import { randomUUID } from 'node:crypto';
import { Metadata, type StatusObject, status } from '@grpc/grpc-js';
import { ModelError } from '../models/errors';
import { CancelledError, InvalidOptionError, LimitError } from '../pipeline/errors';
import { SlideError, type SlideErrorCode } from '../slide/errors';
import type { Logger } from '../log';

/** A failure whose gRPC code is decided where it happens (policy checks, protocol violations...). */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
  }
}

export class QueueFullError extends RequestError {
  override name = 'QueueFullError';
  constructor(limit: number) {
    super(status.RESOURCE_EXHAUSTED, `the server's job queue is full (${limit} waiting); retry later`);
  }
}

export class ShuttingDownError extends RequestError {
  override name = 'ShuttingDownError';
  constructor(message = 'the server is shutting down; retry on another instance or later') {
    super(status.UNAVAILABLE, message);
  }
}

/**
 * Trailing metadata naming the typed error behind a status (a ModelError or SlideError code such as
 * `MODEL_NOT_FOUND` or `NO_PIXEL_SIZE`), so clients tell apart causes that share a status code
 * (FAILED_PRECONDITION: no usable model set, or no pixel size) without parsing the message.
 */
export const ERROR_CODE_TRAILER = 'h2gnet-error-code';

export interface GrpcStatus {
  code: status;
  details: string;
  /** The typed error's code, sent as the ERROR_CODE_TRAILER trailer; absent for other failures. */
  reason?: string;
}

/** The status as grpc-js sends it: with the error-code trailer when the status has a reason. */
export function toServiceError(s: GrpcStatus): Partial<StatusObject> & Error {
  const metadata = new Metadata();
  if (s.reason) metadata.set(ERROR_CODE_TRAILER, s.reason);
  return { code: s.code, details: s.details, metadata, name: 'Error', message: s.details };
}

const SLIDE_CODES: Record<SlideErrorCode, status> = {
  NOT_FOUND: status.NOT_FOUND,
  UNSUPPORTED: status.INVALID_ARGUMENT,
  CORRUPT: status.INVALID_ARGUMENT,
  // A read that fails mid-job means the image is damaged (or the client could not read it): bad input.
  READ_FAILED: status.INVALID_ARGUMENT,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NO_PIXEL_SIZE: status.FAILED_PRECONDITION,
  OUT_OF_MEMORY: status.RESOURCE_EXHAUSTED,
  // Using a closed slide is our bug, not the caller's.
  CLOSED: status.INTERNAL,
};

/** The status to send for `err`; unexpected errors are logged with an id the client also sees. */
export function toGrpcStatus(err: unknown, log: Logger): GrpcStatus {
  if (err instanceof CancelledError || (err instanceof Error && err.name === 'AbortError')) {
    return { code: status.CANCELLED, details: 'the job was cancelled' };
  }
  if (err instanceof RequestError) return { code: err.grpcCode, details: err.message };
  if (err instanceof InvalidOptionError) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof LimitError) return { code: status.RESOURCE_EXHAUSTED, details: err.message };
  if (err instanceof ModelError) return { code: status.FAILED_PRECONDITION, details: err.message, reason: err.code };
  if (err instanceof SlideError) {
    const code = SLIDE_CODES[err.code] ?? status.INTERNAL;
    if (code !== status.INTERNAL) return { code, details: err.message, reason: err.code };
  }
  const errorId = randomUUID();
  log.error({ err, errorId }, 'unexpected error while serving a request');
  return { code: status.INTERNAL, details: `internal server error (id ${errorId}; see the server log)` };
}
