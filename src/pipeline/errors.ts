/** Errors the pipeline raises besides SlideError and ModelError. */

/** An option out of range or a malformed region of interest: the caller's input is wrong. */
export class InvalidOptionError extends Error {
  override name = 'InvalidOptionError';
  readonly code = 'INVALID_OPTION';
}

/** The job was cancelled through its AbortSignal. */
export class CancelledError extends Error {
  override name = 'AbortError';
  readonly code = 'CANCELLED';
  constructor(message = 'the segmentation was cancelled') {
    super(message);
  }
}

/** The job's plan exceeds a resource limit (src/pipeline/limits.ts); the message names the limit and its flag. */
export class LimitError extends Error {
  override name = 'LimitError';
  readonly code = 'LIMIT_EXCEEDED';
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super(message);
  }
}
