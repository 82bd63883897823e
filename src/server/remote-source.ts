/**
 * A SlideSource whose pixels come from the client over the SegmentPixels stream: each readRegion
 * becomes one or more RegionRequest messages, answered by RegionPixels with the same id. This is
 * how QuPath segments images OpenSlide cannot open; the pipeline cannot tell the difference.
 *
 * Large reads are split into tiles of at most `maxTile` x `maxTile` pixels so every answer fits a
 * modest gRPC message (1024 x 1024 RGB = 3 MiB, under the 4 MiB default of most gRPC stacks).
 */
import { status } from '@grpc/grpc-js';
import type { ImageDescription, RegionPixels, RegionRequest as WireRequest } from '../generated/h2gnet/v1/segmentation';
import type { PixelSize } from '../slide/metadata';
import { SlideError } from '../slide/errors';
import type { LevelInfo, RegionRequest, RgbImage, SlideSource } from '../slide/source';
import { DEFAULT_LIMITS, type Limits } from '../pipeline/limits';
import { RequestError } from './errors';

export const DEFAULT_MAX_TILE = 1024;

export interface RemoteSourceOptions {
  /** Fails the job when one region stays unanswered this long. */
  timeoutMs: number;
  /** Bounds on the declared image (maxImageSide, maxLevels); default the limits table's. */
  limits?: Pick<Limits, 'maxImageSide' | 'maxLevels'>;
  maxTile?: number;
}

interface Pending {
  width: number;
  height: number;
  resolve: (image: RgbImage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const invalid = (message: string): RequestError => new RequestError(status.INVALID_ARGUMENT, message);

/** Checks the client's description of its image; throws INVALID_ARGUMENT saying what is wrong. */
export function levelsFromDescription(
  image: ImageDescription | undefined,
  limits: Pick<Limits, 'maxImageSide' | 'maxLevels'> = DEFAULT_LIMITS,
): LevelInfo[] {
  if (!image) throw invalid('start.image is missing');
  const { width, height } = image;
  const MAX_SIDE = limits.maxImageSide;
  const MAX_LEVELS = limits.maxLevels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw invalid(`image size ${width} x ${height} is not valid`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw invalid(
      `image size ${width} x ${height} is beyond the limit maxImageSide = ${MAX_SIDE} px (--max-image-side)`,
    );
  }
  if (!Number.isFinite(image.pixelSizeUm) || image.pixelSizeUm < 0) {
    throw invalid('image.pixel_size_um must be >= 0 (0 = unknown)');
  }
  const downsamples = image.downsamples.length > 0 ? image.downsamples : [1];
  if (downsamples.length > MAX_LEVELS) throw invalid(`at most ${MAX_LEVELS} downsamples (maxLevels, --max-levels)`);
  if (downsamples[0] !== 1) throw invalid('the first downsample must be 1 (the full-resolution image)');
  for (let i = 1; i < downsamples.length; i++) {
    const d = downsamples[i]!;
    if (!Number.isFinite(d) || d <= downsamples[i - 1]!) throw invalid('downsamples must be finite and increasing');
  }
  return downsamples.map((downsample) => ({
    width: Math.ceil(width / downsample),
    height: Math.ceil(height / downsample),
    downsample,
  }));
}

export class RemoteSource implements SlideSource {
  readonly description: string;
  readonly levels: readonly LevelInfo[];
  readonly pixelSize: PixelSize | null;
  readonly bounds = null;
  private readonly pending = new Map<number, Pending>();
  private readonly maxTile: number;
  private nextId = 1;
  private failed: Error | null = null;

  /** `send` writes one region request to the client. */
  constructor(
    image: ImageDescription,
    private readonly send: (request: WireRequest) => void,
    private readonly options: RemoteSourceOptions,
  ) {
    this.levels = Object.freeze(levelsFromDescription(image, options.limits));
    this.description = image.name ? `client image '${image.name}'` : 'client image';
    this.pixelSize = image.pixelSizeUm > 0 ? { x: image.pixelSizeUm, y: image.pixelSizeUm, source: 'user' } : null;
    this.maxTile = options.maxTile ?? DEFAULT_MAX_TILE;
  }

  /** The first failure (a protocol violation, a client error, close); null while healthy. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Regions asked for and not yet answered. */
  get outstanding(): number {
    return this.pending.size;
  }

  async readRegion(req: RegionRequest): Promise<RgbImage> {
    const level = this.levels[req.level];
    if (!level) throw new SlideError('INVALID_ARGUMENT', `level ${req.level} does not exist`);
    if (!(req.width > 0 && req.height > 0)) throw new SlideError('INVALID_ARGUMENT', 'empty region');
    const t = this.maxTile;
    if (req.width <= t && req.height <= t) return this.requestOne(req, level.downsample);
    const out = new Uint8Array(req.width * req.height * 3);
    const tiles: Promise<void>[] = [];
    for (let ty = 0; ty < req.height; ty += t) {
      for (let tx = 0; tx < req.width; tx += t) {
        const w = Math.min(t, req.width - tx);
        const h = Math.min(t, req.height - ty);
        const sub = {
          level: req.level,
          x: req.x + Math.round(tx * level.downsample),
          y: req.y + Math.round(ty * level.downsample),
          width: w,
          height: h,
        };
        tiles.push(
          this.requestOne(sub, level.downsample).then((tile) => {
            for (let row = 0; row < h; row++) {
              const src = tile.data.subarray(row * w * 3, (row + 1) * w * 3);
              out.set(src, ((ty + row) * req.width + tx) * 3);
            }
          }),
        );
      }
    }
    await Promise.all(tiles);
    return { width: req.width, height: req.height, data: out };
  }

  private requestOne(req: RegionRequest, downsample: number): Promise<RgbImage> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<RgbImage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new RequestError(
            status.DEADLINE_EXCEEDED,
            `the client did not answer region request ${id} within ${this.options.timeoutMs / 1000} s`,
          ),
        );
      }, this.options.timeoutMs);
      timer.unref();
      this.pending.set(id, { width: req.width, height: req.height, resolve, reject, timer });
      try {
        this.send({ id, level: req.level, downsample, x: req.x, y: req.y, width: req.width, height: req.height });
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** One answer from the client. A malformed answer fails the whole job (the client is broken). */
  deliver(msg: RegionPixels): void {
    const p = this.pending.get(msg.id);
    if (!p) {
      this.fail(invalid(`region ${msg.id} was not requested or was already answered`));
      return;
    }
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) {
      const err = new SlideError(
        'READ_FAILED',
        `the client could not read region ${msg.id}: ${msg.error.slice(0, 500)}`,
      );
      p.reject(err);
      this.fail(err);
      return;
    }
    const expected = p.width * p.height * 3;
    if (msg.width !== p.width || msg.height !== p.height || msg.rgb.length !== expected) {
      const err = invalid(
        `region ${msg.id}: expected ${p.width} x ${p.height} RGB (${expected} bytes), ` +
          `got ${msg.width} x ${msg.height} with ${msg.rgb.length} bytes`,
      );
      p.reject(err);
      this.fail(err);
      return;
    }
    p.resolve({ width: p.width, height: p.height, data: msg.rgb });
  }

  /** Rejects every pending and future read with `err` (the first failure wins). */
  fail(err: Error): void {
    if (!this.failed) this.failed = err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(this.failed);
    }
  }

  /** The client half-closed its side: nothing more will arrive. */
  clientEnded(): void {
    this.fail(invalid('the client closed its stream while region requests were pending'));
  }

  async close(): Promise<void> {
    // Reads after close are our bug (the job is over), hence CLOSED; pending ones are dropped.
    this.fail(new SlideError('CLOSED', 'the client image source is closed'));
  }
}
