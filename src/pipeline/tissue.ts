/**
 * Tissue detection as the reference (FastPathology) does it, on a low-resolution image: a pixel is
 * tissue when it is not all zero and its Euclidean RGB distance from white is > 85; then a closing
 * with a disk of radius 4 px.
 */
import type { RgbImage } from '../slide/source';
import { close } from './morphology';
import type { BinaryMask } from './types';

export const TISSUE_DISTANCE_FROM_WHITE = 85;
export const TISSUE_CLOSING_RADIUS = 4;

export function thresholdTissue(image: RgbImage): BinaryMask {
  const { width, height, data } = image;
  const out = new Uint8Array(width * height);
  const limit = TISSUE_DISTANCE_FROM_WHITE * TISSUE_DISTANCE_FROM_WHITE;
  for (let i = 0, p = 0; i < out.length; i++, p += 3) {
    const r = data[p]!;
    const g = data[p + 1]!;
    const b = data[p + 2]!;
    if (r === 0 && g === 0 && b === 0) continue;
    const dr = 255 - r;
    const dg = 255 - g;
    const db = 255 - b;
    if (dr * dr + dg * dg + db * db > limit) out[i] = 255;
  }
  return { width, height, data: out };
}

export function tissueMask(image: RgbImage): BinaryMask {
  return close(thresholdTissue(image), TISSUE_CLOSING_RADIUS);
}

/** Share of pixels set, in [0, 1]. */
export function maskFraction(mask: BinaryMask): number {
  let n = 0;
  for (const v of mask.data) if (v !== 0) n++;
  return mask.data.length === 0 ? 0 : n / mask.data.length;
}
