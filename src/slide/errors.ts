/**
 * Typed errors for everything that can go wrong with a slide. Callers branch on `code` (stable) and
 * show `message` (one readable line). The gRPC layer maps codes to status codes.
 */
export type SlideErrorCode =
  | 'NOT_FOUND' // the path does not exist or is not a file
  | 'UNSUPPORTED' // OpenSlide does not recognise the format
  | 'CORRUPT' // OpenSlide recognised it but cannot read it
  | 'CLOSED' // used after close()
  | 'INVALID_ARGUMENT' // a read with impossible coordinates or sizes
  | 'NO_PIXEL_SIZE' // the slide carries no pixel size and none was given
  | 'READ_FAILED'
  | 'OUT_OF_MEMORY';

export class SlideError extends Error {
  readonly code: SlideErrorCode;

  constructor(code: SlideErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlideError';
    this.code = code;
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set<SlideErrorCode>([
  'NOT_FOUND',
  'UNSUPPORTED',
  'CORRUPT',
  'CLOSED',
  'INVALID_ARGUMENT',
  'NO_PIXEL_SIZE',
  'READ_FAILED',
  'OUT_OF_MEMORY',
]);

/** Turns an error thrown by the native addon (an Error with a string `code`) into a SlideError. */
export function fromNativeError(err: unknown): SlideError {
  if (err instanceof SlideError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && KNOWN_CODES.has(e.code) ? (e.code as SlideErrorCode) : 'READ_FAILED';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return new SlideError(code, message, { cause: err });
}
