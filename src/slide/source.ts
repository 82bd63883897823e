/**
 * The slide-source interface: everything the pipeline needs from a slide, whether pixels come from
 * OpenSlide on a local file or are streamed by a client such as QuPath.
 */
import type { Bounds, PixelSize } from './metadata';

export interface LevelInfo {
  width: number;
  height: number;
  downsample: number;
}

/** Packed RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * A region to read: `x`, `y` are level-0 coordinates of the top-left corner (OpenSlide's convention),
 * `width`, `height` are in pixels of `level`. Pixels outside the image come back white.
 */
export interface RegionRequest {
  level: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SlideSource {
  /** Human-readable name for logs and errors (a path or a client-given label). */
  readonly description: string;
  /** Level 0 first; downsample of level 0 is 1. */
  readonly levels: readonly LevelInfo[];
  /** Level-0 pixel size, or null when the image carries none. */
  readonly pixelSize: PixelSize | null;
  /** Level-0 rectangle of the scanned area, when known. */
  readonly bounds: Bounds | null;
  readRegion(request: RegionRequest): Promise<RgbImage>;
  /**
   * Optional: the same pixels as `readRegion`, written into `target` from element `offset` on as RGB
   * floats `byte / 255` (width * height * 3 of them). A source implements it when it can fill a batch
   * tensor off the JavaScript thread; the pipeline converts `readRegion`'s bytes itself otherwise.
   */
  readRegionInto?(request: RegionRequest, target: Float32Array, offset: number): Promise<void>;
  close(): Promise<void>;
}
