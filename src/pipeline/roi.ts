/** Which patches a region of interest touches. */
import type { MultiPolygon, Polygon } from 'geojson';
import polygonClipping from 'polygon-clipping';
import { type PatchGrid, patchRectLevel0 } from './grid';

function bbox(roi: Polygon | MultiPolygon): [number, number, number, number] {
  const polys = roi.type === 'Polygon' ? [roi.coordinates] : roi.coordinates;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of polys) {
    for (const [x, y] of poly[0] ?? []) {
      x0 = Math.min(x0, x!);
      y0 = Math.min(y0, y!);
      x1 = Math.max(x1, x!);
      y1 = Math.max(y1, y!);
    }
  }
  return [x0, y0, x1, y1];
}

/** A rows x cols grid of 0/1: 1 where the patch's level-0 square overlaps the region. */
export function cellsTouchingRoi(grid: PatchGrid, roi: Polygon | MultiPolygon): Uint8Array {
  const out = new Uint8Array(grid.rows * grid.cols);
  const [bx0, by0, bx1, by1] = bbox(roi);
  const geom = (roi.type === 'Polygon' ? [roi.coordinates] : roi.coordinates) as polygonClipping.MultiPolygon;
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const { x, y, size } = patchRectLevel0(grid, r, c);
      if (x > bx1 || y > by1 || x + size < bx0 || y + size < by0) continue;
      const square: polygonClipping.Polygon = [
        [
          [x, y],
          [x + size, y],
          [x + size, y + size],
          [x, y + size],
          [x, y],
        ],
      ];
      if (polygonClipping.intersection(square, geom).length > 0) out[r * grid.cols + c] = 1;
    }
  }
  return out;
}
