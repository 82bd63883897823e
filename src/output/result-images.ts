/**
 * The pictures and arrays a stored result keeps beside its GeoJSON: the overlay and its thumbnail as
 * RGB PNGs, the mask as a grey PNG, the heatmap as .npy. Encoded on the pipeline's CPU thread
 * (offload.ts): about half a second of pixel loops and deflate per slide, which on the main thread
 * held back the next slide's patch batches in a batch.
 */
import { resizeBilinear } from '../pipeline/resize';
import type { BinaryMask, Heatmap } from '../pipeline/types';
import type { RgbImage } from '../slide/source';
import { encodeNpy } from './npy';
import { renderOverlay } from './overlay';
import { encodeMaskPng, encodeRgbPng } from './png';

/** Longest side of the report's thumbnails. */
const THUMBNAIL_MAX_SIDE = 320;

export interface ResultImages {
  overlay: Uint8Array;
  thumbnail: Uint8Array;
  heatmap: Uint8Array;
  mask: Uint8Array;
}

function thumbnailOf(image: RgbImage): RgbImage {
  const f = Math.min(1, THUMBNAIL_MAX_SIDE / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * f));
  const height = Math.max(1, Math.round(image.height * f));
  const resized = resizeBilinear(image.data, image.width, image.height, 3, width, height);
  const data = new Uint8Array(resized.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(resized[i]!);
  return { width, height, data };
}

export function encodeResultImages(
  lowRes: RgbImage,
  heatmap: Heatmap,
  mask: BinaryMask,
  slideWidth: number,
  slideHeight: number,
): ResultImages {
  const overlay = renderOverlay(lowRes, heatmap, mask, slideWidth, slideHeight);
  return {
    overlay: encodeRgbPng(overlay),
    thumbnail: encodeRgbPng(thumbnailOf(overlay)),
    heatmap: encodeNpy(heatmap.values, [heatmap.rows, heatmap.cols]),
    mask: encodeMaskPng(mask),
  };
}
