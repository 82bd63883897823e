/** PNG encoding through pngjs for masks (8-bit grey) and RGB pictures. */
import { PNG } from 'pngjs';
import type { BinaryMask } from '../pipeline/types';
import type { RgbImage } from '../slide/source';

export function encodeMaskPng(mask: BinaryMask): Buffer {
  const png = new PNG({
    width: mask.width,
    height: mask.height,
    colorType: 0,
    inputColorType: 0,
    bitDepth: 8,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(mask.data.buffer, mask.data.byteOffset, mask.data.byteLength);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

export function encodeRgbPng(image: RgbImage): Buffer {
  const png = new PNG({
    width: image.width,
    height: image.height,
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}
