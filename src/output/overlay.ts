/**
 * A picture for people: the low-resolution slide with the patch heatmap as a translucent red tint
 * and the tumour mask's outline in green. Not used by the pipeline itself.
 */
import { resizeBilinear } from '../pipeline/resize';
import type { BinaryMask, Heatmap } from '../pipeline/types';
import type { RgbImage } from '../slide/source';

/** Longest side of the overlay picture. */
export const OVERLAY_MAX_SIDE = 1600;

export function overlaySize(image: RgbImage): { width: number; height: number } {
  const f = Math.min(1, OVERLAY_MAX_SIDE / Math.max(image.width, image.height));
  return { width: Math.max(1, Math.round(image.width * f)), height: Math.max(1, Math.round(image.height * f)) };
}

export function renderOverlay(
  image: RgbImage,
  heatmap: Heatmap,
  mask: BinaryMask,
  slideWidth: number,
  slideHeight: number,
): RgbImage {
  const { width, height } = overlaySize(image);
  const base = resizeBilinear(image.data, image.width, image.height, 3, width, height);
  const out = new Uint8Array(width * height * 3);
  // The heatmap grid may extend past the slide (padded last patches): map by level-0 position.
  // Per-column and per-row lookups keep Math calls out of the pixel loop.
  const cellX = new Int32Array(width);
  const maskX = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    cellX[x] = Math.min(heatmap.cols - 1, Math.floor((((x + 0.5) / width) * slideWidth) / heatmap.patchSizeLevel0));
    maskX[x] = Math.min(mask.width - 1, Math.floor((x / width) * mask.width));
  }
  const maskRow = (y: number) => Math.min(mask.height - 1, Math.floor((y / height) * mask.height)) * mask.width;
  for (let y = 0; y < height; y++) {
    const cy = Math.min(heatmap.rows - 1, Math.floor((((y + 0.5) / height) * slideHeight) / heatmap.patchSizeLevel0));
    const row = maskRow(y);
    const rowAbove = y > 0 ? maskRow(y - 1) : row;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const a = 0.5 * heatmap.values[cy * heatmap.cols + cellX[x]!]!;
      out[o] = base[o]! * (1 - a) + 255 * a + 0.5; // typed-array store truncates: +0.5 rounds
      out[o + 1] = base[o + 1]! * (1 - a) + 0.5;
      out[o + 2] = base[o + 2]! * (1 - a) + 0.5;
      const here = mask.data[row + maskX[x]!];
      const edge =
        (x > 0 && mask.data[row + maskX[x - 1]!] !== here) || (y > 0 && mask.data[rowAbove + maskX[x]!] !== here);
      if (edge) {
        out[o] = 0;
        out[o + 1] = 200;
        out[o + 2] = 0;
      }
    }
  }
  return { width, height, data: out };
}
