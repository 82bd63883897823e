/**
 * Downloads one URL to a file with Node's built-in fetch, and fails fast and clearly instead of
 * hanging: a deadline for the response to start (connect + headers), a stall deadline between body
 * chunks, and a byte count checked against Content-Length so a cut-off transfer is never mistaken
 * for a complete one.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export type DownloadErrorCode = 'NETWORK' | 'TIMEOUT' | 'HTTP' | 'TRUNCATED';

export class DownloadError extends Error {
  readonly code: DownloadErrorCode;
  readonly url: string;

  constructor(code: DownloadErrorCode, url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadError';
    this.code = code;
    this.url = url;
  }
}

export interface DownloadOptions {
  /** Deadline for the server to answer with headers, in ms (covers DNS + TCP + TLS). */
  connectTimeoutMs: number;
  /** Deadline between two body chunks, in ms. */
  stallTimeoutMs: number;
  onProgress?: (received: number, total: number | null) => void;
}

export const DEFAULT_DOWNLOAD_OPTIONS: DownloadOptions = { connectTimeoutMs: 10_000, stallTimeoutMs: 30_000 };

class Timeout extends Error {}

/** The innermost cause's code or message: fetch wraps everything in "TypeError: fetch failed". */
function rootCause(err: unknown): string {
  let e = err as { cause?: unknown; code?: string; message?: string } | undefined;
  while (e?.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  const code = e?.code && !/^UND_ERR$/.test(e.code) ? e.code : '';
  const msg = e?.message ?? String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/** Writes `url` to `file`; on any failure `file` is removed and a DownloadError says what happened. */
export async function downloadToFile(
  url: string,
  file: string,
  options: DownloadOptions = DEFAULT_DOWNLOAD_OPTIONS,
): Promise<{ bytes: number; contentLength: number | null }> {
  const host = new URL(url).host;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, what: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Timeout(`${what} from ${host} within ${ms / 1000} s`)), ms);
  };
  let received = 0;
  let total: number | null = null;
  try {
    arm(options.connectTimeoutMs, 'no answer');
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw controller.signal.reason instanceof Timeout
        ? new DownloadError('TIMEOUT', url, controller.signal.reason.message, { cause: err })
        : new DownloadError('NETWORK', url, `cannot reach ${host}: ${rootCause(err)}`, { cause: err });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new DownloadError('HTTP', url, `${url} answered HTTP ${res.status} ${res.statusText}`.trim());
    }
    const length = Number(res.headers.get('content-length'));
    total = Number.isSafeInteger(length) && length > 0 ? length : null;
    options.onProgress?.(0, total);
    arm(options.stallTimeoutMs, 'no data');
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        arm(options.stallTimeoutMs, 'no data');
        options.onProgress?.(received, total);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), meter, createWriteStream(file));
    } catch (err) {
      const reason = controller.signal.reason;
      if (reason instanceof Timeout) {
        throw new DownloadError('TIMEOUT', url, `${reason.message} after ${received} bytes`, { cause: err });
      }
      const of = total !== null ? ` of ${total}` : '';
      throw new DownloadError(
        'TRUNCATED',
        url,
        `the transfer broke off after ${received}${of} bytes: ${rootCause(err)}`,
        {
          cause: err,
        },
      );
    }
    if (total !== null && received !== total) {
      throw new DownloadError('TRUNCATED', url, `got ${received} bytes but the server announced ${total}`);
    }
    return { bytes: received, contentLength: total };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
