/**
 * Binary morphology with a disk, for the tissue mask's closing and the optional mask smoothing.
 * Written here because no maintained npm package does binary morphology on plain typed arrays; it is
 * a few lines. Pixels outside the image are ignored (neither tissue nor background), so the image
 * border neither grows nor erodes regions.
 */
import type { BinaryMask } from './types';

/** Row offsets of a disk: for each dy in [-r, r], the half-width of the disk on that row. */
function diskHalfWidths(radius: number): number[] {
  const r = Math.floor(radius);
  const widths: number[] = [];
  for (let dy = -r; dy <= r; dy++) widths.push(Math.floor(Math.sqrt(radius * radius - dy * dy)));
  return widths;
}

/**
 * A summed-area table gives the set pixels of any rectangle in O(1): each disk row is the span
 * [x - hw, x + hw] on row y + dy, clipped to the image. Most pixels lie inside uniform areas, where
 * the disk's bounding square decides at once (none set: no dilation hit; all set: erosion keeps the
 * pixel), so the square is tested first and the disk's rows only near edges (closing a 1,312 x 1,296
 * tissue image in a fresh process: 0.20 -> 0.13 s).
 */
function morph(mask: BinaryMask, radius: number, dilate: boolean): BinaryMask {
  const { width: w, height: h, data } = mask;
  if (radius < 1) return { width: w, height: h, data: Uint8Array.from(data) };
  // area[(y + 1) * (w + 1) + x + 1] = set pixels in rows 0..y, columns 0..x.
  const stride = w + 1;
  const area = new Int32Array(stride * (h + 1));
  for (let y = 0; y < h; y++) {
    let run = 0;
    for (let x = 0; x < w; x++) {
      run += data[y * w + x]! !== 0 ? 1 : 0;
      area[(y + 1) * stride + x + 1] = area[y * stride + x + 1]! + run;
    }
  }
  /** Set pixels in columns x0..x1 of rows y0..y1 (inclusive). */
  const setIn = (x0: number, y0: number, x1: number, y1: number): number =>
    area[(y1 + 1) * stride + x1 + 1]! -
    area[y0 * stride + x1 + 1]! -
    area[(y1 + 1) * stride + x0]! +
    area[y0 * stride + x0]!;
  const widths = diskHalfWidths(radius);
  const r = Math.floor(radius);
  const out = new Uint8Array(w * h);
  // Hot loop: plain comparisons instead of Math.min/max, which cost far more in some embedders (jest's vm).
  for (let y = 0; y < h; y++) {
    const sy0 = y - r < 0 ? 0 : y - r;
    const sy1 = y + r > h - 1 ? h - 1 : y + r;
    for (let x = 0; x < w; x++) {
      const sx0 = x - r < 0 ? 0 : x - r;
      const sx1 = x + r > w - 1 ? w - 1 : x + r;
      const inSquare = setIn(sx0, sy0, sx1, sy1);
      if (dilate ? inSquare === 0 : inSquare === (sx1 - sx0 + 1) * (sy1 - sy0 + 1)) {
        out[y * w + x] = dilate ? 0 : 255;
        continue;
      }
      let hit = !dilate; // dilation: any set pixel; erosion: all pixels set
      for (let yy = sy0; yy <= sy1; yy++) {
        const hw = widths[yy - y + r]!;
        const x0 = x - hw < 0 ? 0 : x - hw;
        const x1 = x + hw > w - 1 ? w - 1 : x + hw;
        const set = setIn(x0, yy, x1, yy);
        if (dilate ? set > 0 : set < x1 - x0 + 1) {
          hit = dilate;
          break;
        }
      }
      out[y * w + x] = hit ? 255 : 0;
    }
  }
  return { width: w, height: h, data: out };
}

export function dilate(mask: BinaryMask, radius: number): BinaryMask {
  return morph(mask, radius, true);
}

export function erode(mask: BinaryMask, radius: number): BinaryMask {
  return morph(mask, radius, false);
}

/** Closing (dilate, then erode): fills gaps narrower than the disk. */
export function close(mask: BinaryMask, radius: number): BinaryMask {
  return erode(dilate(mask, radius), radius);
}
