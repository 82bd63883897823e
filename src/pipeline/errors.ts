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
