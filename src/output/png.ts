/** PNG encoding through pngjs for masks (8-bit grey) and RGB pictures. */
import { PNG } from 'pngjs';
import type { BinaryMask } from '../pipeline/types';
import type { RgbImage } from '../slide/source';

const GREY = 0;
const RGB = 2;

function encode(width: number, height: number, data: Uint8Array, colorType: typeof GREY | typeof RGB): Buffer {
  const png = new PNG({ width, height, colorType, inputColorType: colorType, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false });
}

/** 8-bit greyscale, 255 = set. */
export function encodeMaskPng(mask: BinaryMask): Buffer {
  return encode(mask.width, mask.height, mask.data, GREY);
}

export function encodeRgbPng(image: RgbImage): Buffer {
  return encode(image.width, image.height, image.data, RGB);
}
