/**
 * The known "tumour" geometry of the generated shapes slide (8192 x 6144 px at 0.25 um/px): blue
 * regions on pink tissue, including a ring (a region with a hole) and regions touching the slide's
 * edges. Coordinates are level-0 pixels.
 */
export const SHAPES_WIDTH = 8192;
export const SHAPES_HEIGHT = 6144;
export const SHAPES_MPP = 0.25;
export const TUMOUR_RGB = [40, 40, 200] as const;
export const TISSUE_RGB = [230, 150, 200] as const;

export function isTumour(x: number, y: number): boolean {
  const ring = Math.hypot(x - 2400, y - 2400);
  if (ring <= 1400 && ring >= 600) return true; // annulus: its hole is pink
  if (x >= 6800 && y >= 800 && y <= 2600) return true; // rectangle touching the right edge
  if (Math.hypot(x, y - SHAPES_HEIGHT) <= 1600) return true; // quarter disk in the bottom-left corner
  return ((x - 5200) / 900) ** 2 + ((y - 4400) / 500) ** 2 <= 1; // ellipse inside
}

/** Truth at a grid covering the slide (pixel centres), as 0/255. */
export function truthMask(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      if (isTumour(((i + 0.5) * SHAPES_WIDTH) / width, ((j + 0.5) * SHAPES_HEIGHT) / height)) out[j * width + i] = 255;
    }
  }
  return out;
}
