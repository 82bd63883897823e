/**
 * Polygons -> a binary mask on a grid over the slide's level 0: pixel (i, j) covers level-0
 * [i*sx, (i+1)*sx) x [j*sy, (j+1)*sy) and is inside when its centre is, by the even-odd rule within a
 * polygon (inner rings are holes) and the union over polygons. The trainer rasterises its targets with
 * the same rule (train/h2g_train/geometry.py), so evaluation and training agree pixel for pixel.
 * A scanline fill written here: the pipeline only goes the other way (mask -> polygons), and the npm
 * rasterisers draw onto canvases with antialiasing rather than sampling pixel centres.
 */
import type { Ring } from './annotations';

export interface Grid {
  width: number;
  height: number;
  /** Level-0 pixels per grid pixel. */
  sx: number;
  sy: number;
}

export function rasterise(polygons: readonly (readonly Ring[])[], grid: Grid): Uint8Array {
  const { width, height, sx, sy } = grid;
  // Per row, +1 where a span starts and -1 where it ends; a prefix sum > 0 is inside some polygon.
  const cover = new Int32Array(height * (width + 1));
  const crossings: number[][] = Array.from({ length: height }, () => []);
  for (const polygon of polygons) {
    const touched: number[] = [];
    for (const ring of polygon) {
      for (let k = 0; k < ring.length; k++) {
        const [ax, ay] = ring[k]!;
        const [bx, by] = ring[(k + 1) % ring.length]!;
        const ya = ay / sy - 0.5;
        const yb = by / sy - 0.5;
        if (ya === yb) continue;
        // Rows whose centre lies in [min, max) cross this edge.
        const lo = Math.max(0, Math.ceil(Math.min(ya, yb)));
        const hi = Math.min(height, Math.ceil(Math.max(ya, yb)));
        for (let r = lo; r < hi; r++) {
          const t = (r - ya) / (yb - ya);
          if (crossings[r]!.length === 0) touched.push(r);
          crossings[r]!.push((ax + t * (bx - ax)) / sx - 0.5);
        }
      }
    }
    for (const r of touched) {
      const xs = crossings[r]!.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const c0 = Math.min(width, Math.max(0, Math.ceil(xs[k]!)));
        const c1 = Math.min(width, Math.max(0, Math.ceil(xs[k + 1]!)));
        cover[r * (width + 1) + c0]! += 1;
        cover[r * (width + 1) + c1]! -= 1;
      }
      crossings[r] = [];
    }
  }
  const out = new Uint8Array(width * height);
  for (let r = 0; r < height; r++) {
    let sum = 0;
    for (let c = 0; c < width; c++) {
      sum += cover[r * (width + 1) + c]!;
      if (sum > 0) out[r * width + c] = 1;
    }
  }
  return out;
}
