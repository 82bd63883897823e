/**
 * The low-resolution image of the whole slide (for tissue detection, refinement and overlays). A level
 * up to MAX_SIDE is read in one region: strips would start at fractional level rows on pyramids whose
 * downsample is not an integer (libvips' 4.0007), and OpenSlide would then interpolate. A larger level
 * (a pyramid that stops early) is read in strips and box-averaged by an integer factor, which bounds
 * memory.
 */
import type { LevelInfo, RgbImage, SlideSource } from '../slide/source';

export const MAX_SIDE = 4096;
/**
 * Pixels per strip when box-averaging: each strip's sums run on the JavaScript thread between reads,
 * so a strip stays a few milliseconds of work however wide the level is.
 */
const STRIP_PIXELS = 2 ** 21;

/** How a level is read into the low-resolution image: box factor, output size, rows per read. */
export interface LowResGeometry {
  factor: number;
  width: number;
  height: number;
  rowsPerStrip: number;
}

export function lowResGeometry(info: LevelInfo): LowResGeometry {
  const factor = Math.max(1, Math.ceil(Math.max(info.width, info.height) / MAX_SIDE));
  const stripRows = Math.floor(STRIP_PIXELS / info.width / factor) * factor;
  return {
    factor,
    width: Math.ceil(info.width / factor),
    height: Math.ceil(info.height / factor),
    rowsPerStrip: factor === 1 ? info.height : Math.max(factor, stripRows),
  };
}

export async function readLowRes(source: SlideSource, level: number, signal?: AbortSignal): Promise<RgbImage> {
  const info = source.levels[level]!;
  const { factor, width, height, rowsPerStrip } = lowResGeometry(info);
  const sums = factor > 1 ? new Float64Array(width * height * 3) : null;
  const counts = factor > 1 ? new Uint32Array(width * height) : null;
  const data = new Uint8Array(width * height * 3);
  for (let y0 = 0; y0 < info.height; y0 += rowsPerStrip) {
    signal?.throwIfAborted();
    const rows = Math.min(rowsPerStrip, info.height - y0);
    const strip = await source.readRegion({
      level,
      x: 0,
      y: Math.round(y0 * info.downsample),
      width: info.width,
      height: rows,
    });
    if (!sums || !counts) {
      data.set(strip.data.subarray(0, info.width * rows * 3), y0 * info.width * 3);
      continue;
    }
    for (let y = 0; y < rows; y++) {
      const oy = Math.floor((y0 + y) / factor);
      for (let x = 0; x < info.width; x++) {
        const o = oy * width + Math.floor(x / factor);
        const s = (y * info.width + x) * 3;
        sums[o * 3] = sums[o * 3]! + strip.data[s]!;
        sums[o * 3 + 1] = sums[o * 3 + 1]! + strip.data[s + 1]!;
        sums[o * 3 + 2] = sums[o * 3 + 2]! + strip.data[s + 2]!;
        counts[o] = counts[o]! + 1;
      }
    }
  }
  if (sums && counts) {
    for (let i = 0; i < counts.length; i++) {
      for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(sums[i * 3 + c]! / Math.max(1, counts[i]!));
    }
  }
  return { width, height, data };
}
