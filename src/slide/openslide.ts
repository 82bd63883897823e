/**
 * A small typed API over the native OpenSlide addon (in the spirit of `sharp`): open a slide, read its
 * metadata synchronously, read pixels asynchronously on libuv's worker threads.
 */
import { promises as fs } from 'node:fs';
import { SlideError, fromNativeError } from './errors';
import {
  type Bounds,
  type PixelSize,
  boundsFromProperties,
  bestLevelForDownsample,
  objectivePowerFromProperties,
  pixelSizeFromProperties,
} from './metadata';
import { DEFAULT_LIMITS, type Limits } from '../pipeline/limits';
import { type NativeOpenResult, type NativeSlide, nativeAddon } from './native';
import type { LevelInfo, RegionInto, RegionRequest, RgbImage, SlideSource } from './source';

/** Numbers per region in the native `readRegions`' packed argument (src/native/batch_worker.h). */
const REGION_FIELDS = 14;

export class OpenSlide implements SlideSource {
  readonly description: string;
  readonly filePath: string;
  readonly vendor: string | null;
  readonly properties: Readonly<Record<string, string>>;
  readonly levels: readonly LevelInfo[];
  readonly pixelSize: PixelSize | null;
  readonly objectivePower: number | null;
  readonly bounds: Bounds | null;
  /** Names and sizes of the associated images (thumbnail, label, macro...). */
  readonly associatedImages: Readonly<Record<string, { width: number; height: number }>>;
  private readonly native: NativeSlide;

  private constructor(path: string, opened: NativeOpenResult) {
    this.description = path;
    this.filePath = path;
    this.native = opened.slide;
    this.vendor = opened.vendor;
    this.properties = Object.freeze({ ...opened.properties });
    this.levels = Object.freeze(opened.levels.map((l) => Object.freeze({ ...l })));
    this.associatedImages = Object.freeze({ ...opened.associatedImages });
    this.pixelSize = pixelSizeFromProperties(this.properties);
    this.objectivePower = objectivePowerFromProperties(this.properties);
    this.bounds = boundsFromProperties(this.properties);
  }

  /**
   * Opens a slide; rejects with a SlideError (NOT_FOUND, UNSUPPORTED or CORRUPT). Its geometry is
   * checked first (src/native/geometry_check.h): every TIFF directory's image and tile sides, then
   * the levels OpenSlide reports, against `limits` (maxTileSide, maxImageSide, maxLevels); a slide
   * outside them is CORRUPT, refused before anything is allocated by its sizes. Regions at whole
   * pixel positions of a TIFF-based slide's JPEG-tiled level are assembled from tiles decoded with
   * libtiff rather than composited by OpenSlide (identical bytes, a sixth of the CPU); `directTiles:
   * false`, or H2G_TIFF_TILES=0 in the environment, sends every read through OpenSlide.
   */
  static async open(
    path: string,
    options: { directTiles?: boolean; limits?: Pick<Limits, 'maxTileSide' | 'maxImageSide' | 'maxLevels'> } = {},
  ): Promise<OpenSlide> {
    const stat = await fs.stat(path).catch(() => null);
    if (!stat) throw new SlideError('NOT_FOUND', `slide not found: ${path}`);
    if (!stat.isFile()) throw new SlideError('NOT_FOUND', `not a file: ${path}`);
    const limits = options.limits ?? DEFAULT_LIMITS;
    const bounds = { maxTileSide: limits.maxTileSide, maxLevelSide: limits.maxImageSide, maxLevels: limits.maxLevels };
    try {
      return new OpenSlide(path, await nativeAddon().open(path, options.directTiles ?? true, bounds));
    } catch (err) {
      throw fromNativeError(err);
    }
  }

  /** Version of the libopenslide the addon is linked against. */
  static libraryVersion(): string {
    return nativeAddon().version();
  }

  get width(): number {
    return this.levels[0]!.width;
  }

  get height(): number {
    return this.levels[0]!.height;
  }

  get closed(): boolean {
    return this.native.closed;
  }

  /**
   * How many reads were assembled from JPEG tiles decoded by libtiff directly rather than composited by OpenSlide
   * (byte-identical, ~6x less CPU; see src/native/tiff_tiles.h). For tests and benchmarks.
   */
  get directTileReads(): number {
    return this.native.directTileReads;
  }

  /** How many decoded tiles the direct path reused from its cache (src/native/tile_cache.h). */
  get tileCacheHits(): number {
    return this.native.tileCacheHits;
  }

  bestLevelForDownsample(downsample: number): number {
    return bestLevelForDownsample(
      this.levels.map((l) => l.downsample),
      downsample,
    );
  }

  async readRegion(request: RegionRequest): Promise<RgbImage> {
    const { x, y, level, width, height } = request;
    return this.call(level, () => this.native.readRegion(x, y, level, width, height));
  }

  /** Regions as floats in `target` (see `SlideSource.readRegionsInto`), one worker thread per call. */
  async readRegionsInto(reads: readonly RegionInto[], target: Float32Array): Promise<void> {
    const packed = new Float64Array(reads.length * REGION_FIELDS);
    let deepest = 0;
    reads.forEach(({ request: r, offset, sampling: s }, i) => {
      // Natively a sampling size of 0 means "no sampling": a sampling given with it is a mistake.
      if (s && !(s.size >= 1)) throw new SlideError('INVALID_ARGUMENT', `region ${i}: sampling size must be >= 1`);
      deepest = Math.max(deepest, r.level);
      const sampling = s ? [s.size, s.scale, s.originU, s.originV, s.u0, s.v0, s.maxU, s.maxV] : [];
      packed.set([r.x, r.y, r.level, r.width, r.height, offset, ...sampling], i * REGION_FIELDS);
    });
    return this.call(deepest, () => this.native.readRegions(packed, target));
  }

  async readAssociatedImage(name: string): Promise<RgbImage> {
    return this.call(null, () => this.native.readAssociatedImage(name));
  }

  /** Runs a native read of `level` (checked first, when given), with its failures as SlideErrors. */
  private async call<T>(level: number | null, read: () => Promise<T>): Promise<T> {
    if (level !== null && level >= this.levels.length) {
      throw new SlideError('INVALID_ARGUMENT', `level ${level} does not exist (the slide has ${this.levels.length})`);
    }
    try {
      return await read();
    } catch (err) {
      throw fromNativeError(err);
    }
  }

  /** Closes the handle; reads still in flight finish first. Safe to call twice. */
  async close(): Promise<void> {
    this.native.close();
  }
}
