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
  const cellX = (x: number) =>
    Math.min(heatmap.cols - 1, Math.floor((((x + 0.5) / width) * slideWidth) / heatmap.patchSizeLevel0));
  const cellY = (y: number) =>
    Math.min(heatmap.rows - 1, Math.floor((((y + 0.5) / height) * slideHeight) / heatmap.patchSizeLevel0));
  const inMask = (x: number, y: number) =>
    mask.data[
      Math.min(mask.height - 1, Math.floor((y / height) * mask.height)) * mask.width +
        Math.min(mask.width - 1, Math.floor((x / width) * mask.width))
    ] !== 0;
  for (let y = 0; y < height; y++) {
    const cy = cellY(y);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const p = heatmap.values[cy * heatmap.cols + cellX(x)]!;
      const a = 0.5 * p;
      out[o] = Math.round(base[o]! * (1 - a) + 255 * a);
      out[o + 1] = Math.round(base[o + 1]! * (1 - a));
      out[o + 2] = Math.round(base[o + 2]! * (1 - a));
      const here = inMask(x, y);
      const edge = (x > 0 && inMask(x - 1, y) !== here) || (y > 0 && inMask(x, y - 1) !== here);
      if (edge) {
        out[o] = 0;
        out[o + 1] = 200;
        out[o + 2] = 0;
      }
    }
  }
  return { width, height, data: out };
}
