/**
 * dilate/erode/close against a direct computation: for each pixel, every offset (dx, dy) with
 * dx^2 + dy^2 <= r^2 that falls inside the image (pixels outside are ignored).
 */
import { close, dilate, erode } from '../../src/pipeline/morphology';
import type { BinaryMask } from '../../src/pipeline/types';

function randomMask(width: number, height: number, fill: number, seed: number): BinaryMask {
  let s = seed >>> 0 || 1;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 4294967296 < fill ? 255 : 0;
  }
  return { width, height, data };
}

/** Blobs: a few filled disks, so that most pixels lie in uniform areas, as in a tissue image. */
function blobMask(width: number, height: number): BinaryMask {
  const data = new Uint8Array(width * height);
  const blobs = [
    [10, 12, 7],
    [40, 30, 12],
    [25, 50, 5],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (blobs.some(([cx, cy, r]) => (x - cx!) ** 2 + (y - cy!) ** 2 <= r! ** 2)) data[y * width + x] = 255;
    }
  }
  return { width, height, data };
}

function direct(mask: BinaryMask, radius: number, isDilation: boolean): Uint8Array {
  const { width: w, height: h, data } = mask;
  const r = Math.floor(radius);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let any = false;
      let all = true;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (dx * dx + dy * dy > radius * radius || xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          if (data[yy * w + xx] !== 0) any = true;
          else all = false;
        }
      }
      out[y * w + x] = (isDilation ? any : all) ? 255 : 0;
    }
  }
  return out;
}

const masks = [
  { name: 'random 37 x 29, 30 %', mask: randomMask(37, 29, 0.3, 5) },
  { name: 'random 37 x 29, 85 %', mask: randomMask(37, 29, 0.85, 9) },
  { name: 'blobs 64 x 60', mask: blobMask(64, 60) },
  { name: 'all set 20 x 9', mask: { width: 20, height: 9, data: new Uint8Array(180).fill(255) } },
  { name: 'none set 9 x 20', mask: { width: 9, height: 20, data: new Uint8Array(180) } },
];
const radii = [1, 2.5, 4, 6];

describe.each(masks)('$name', ({ mask }) => {
  test.each(radii)('radius %d: dilate and erode equal the direct computation', (radius) => {
    expect(Buffer.from(dilate(mask, radius).data).equals(Buffer.from(direct(mask, radius, true)))).toBe(true);
    expect(Buffer.from(erode(mask, radius).data).equals(Buffer.from(direct(mask, radius, false)))).toBe(true);
  });
  test('closing with radius 4 is dilation then erosion', () => {
    const dilated = { ...mask, data: direct(mask, 4, true) };
    expect(Buffer.from(close(mask, 4).data).equals(Buffer.from(direct(dilated, 4, false)))).toBe(true);
  });
});
