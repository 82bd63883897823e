/** Test-side rasteriser: which grid pixel centres fall inside GeoJSON polygons (even-odd rule). */
import type { FeatureCollection, Polygon } from 'geojson';

export function rasterize(
  fc: FeatureCollection,
  width: number,
  height: number,
  level0W: number,
  level0H: number,
): Uint8Array {
  const out = new Uint8Array(width * height);
  const rings = fc.features.flatMap((f) => (f.geometry as Polygon).coordinates);
  for (let j = 0; j < height; j++) {
    const y = ((j + 0.5) * level0H) / height;
    const xs: number[] = [];
    for (const ring of rings) {
      for (let k = 0, l = ring.length - 1; k < ring.length; l = k++) {
        const [x1, y1] = ring[l]!;
        const [x2, y2] = ring[k]!;
        if (y1! > y !== y2! > y) xs.push(x1! + ((y - y1!) * (x2! - x1!)) / (y2! - y1!));
      }
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil((xs[k]! * width) / level0W - 0.5));
      const to = Math.min(width - 1, Math.floor((xs[k + 1]! * width) / level0W - 0.5));
      for (let i = from; i <= to; i++) out[j * width + i] = 255;
    }
  }
  return out;
}

export function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x) sa++;
    if (y) sb++;
    if (x && y) inter++;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}
