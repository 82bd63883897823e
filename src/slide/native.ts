/** Types of the native OpenSlide addon (src/native/openslide_binding.cc) and its loader. */
import path from 'node:path';

export interface NativeLevel {
  width: number;
  height: number;
  downsample: number;
}

export interface NativePixels {
  width: number;
  height: number;
  /** Packed RGB, row-major, 3 bytes per pixel. */
  data: Buffer;
}

export interface NativeSlide {
  readRegion(x: number, y: number, level: number, width: number, height: number): Promise<NativePixels>;
  /**
   * Reads regions one after another on one worker thread into `target` as byte / 255 RGB floats (or
   * sampled bilinearly): `packed` holds 14 numbers per region, x, y, level, width, height, offset,
   * then size, scale, originU, originV, u0, v0, maxU, maxV of its sampling (size 0: none).
   */
  readRegions(packed: Float64Array, target: Float32Array): Promise<void>;
  readAssociatedImage(name: string): Promise<NativePixels>;
  close(): void;
  readonly closed: boolean;
  /** Reads served by the direct TIFF tile path (src/native/tiff_tiles.h) instead of OpenSlide; 0 once closed. */
  readonly directTileReads: number;
  /** Tiles the direct path took from its cache of decoded tiles (src/native/tile_cache.h); 0 once closed. */
  readonly tileCacheHits: number;
}

export interface NativeOpenResult {
  slide: NativeSlide;
  vendor: string | null;
  properties: Record<string, string>;
  levels: NativeLevel[];
  associatedImages: Record<string, { width: number; height: number }>;
}

/** What a slide's geometry may be (src/native/geometry_check.h); omitted fields keep the addon's defaults. */
export interface NativeGeometryBounds {
  maxTileSide?: number;
  maxLevelSide?: number;
  maxLevels?: number;
  maxAssociatedPixels?: number;
}

export interface NativeAddon {
  /** `directTiles` (default true): serve whole-pixel regions from JPEG tiles decoded by libtiff (src/native/tiff_tiles.h). */
  open(path: string, directTiles?: boolean, bounds?: NativeGeometryBounds): Promise<NativeOpenResult>;
  version(): string;
}

let addon: NativeAddon | undefined;

/** Loads the addon once; the build output lives at the package root whether we run from src or dist. */
export function nativeAddon(): NativeAddon {
  if (!addon) {
    const file = path.resolve(__dirname, '..', '..', 'build', 'Release', 'openslide_binding.node');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(file) as NativeAddon;
  }
  return addon;
}
