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

/**
 * Output pixel (x, y) samples the read region at u = originU + (x + 0.5) * scale - 0.5 - u0 (and v
 * likewise), clamped to [0, maxU] x [0, maxV], bilinearly (see src/pipeline/patch-reader.ts).
 */
export interface BilinearSampling {
  size: number;
  scale: number;
  originU: number;
  originV: number;
  u0: number;
  v0: number;
  maxU: number;
  maxV: number;
}

/** One region of `SlideSource.readRegionsInto`, and where its floats go. */
export interface RegionInto {
  request: RegionRequest;
  /** Element offset of the region's first float in the target. */
  offset: number;
  /** When given, `sampling.size` x `sampling.size` sampled pixels are written instead of the region. */
  sampling?: BilinearSampling;
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
  /** The scanner's objective magnification (e.g. 20, 40), when the image records it. */
  readonly objectivePower?: number | null;
  /** The slide file, when pixels come from a local file (FastPathology's rules depend on its name). */
  readonly filePath?: string;
  readRegion(request: RegionRequest): Promise<RgbImage>;
  /**
   * Optional: several regions read into one float array (a batch tensor) off the JavaScript thread,
   * each as `readRegion`'s pixels `byte / 255` (width * height * 3 floats from its offset on), or
   * sampled bilinearly when it carries a `sampling`. The pipeline's patch reader reads through
   * `readRegion` and converts or samples in JavaScript when a source lacks it.
   */
  readRegionsInto?(reads: readonly RegionInto[], target: Float32Array): Promise<void>;
  close(): Promise<void>;
}
