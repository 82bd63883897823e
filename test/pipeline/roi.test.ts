/**
 * cellsTouchingRoi: the cells whose square shares area with the region, as polygon-clipping's
 * intersection of each square with the region says (the implementation before, O(cells x vertices)),
 * on random regions with holes, concave rings and several polygons.
 */
import type { MultiPolygon, Position } from 'geojson';
import polygonClipping from 'polygon-clipping';
import type { PatchGrid } from '../../src/pipeline/grid';
import { cellsTouchingRoi } from '../../src/pipeline/roi';

const grid: PatchGrid = {
  scale: 4,
  width: 256 * 13 - 100,
  height: 256 * 9 - 7,
  rows: 9,
  cols: 13,
  patchSize: 256,
  readLevel: 0,
  readDownsample: 4,
  resample: false,
};
const SIZE = 1024;

function byClipping(roi: MultiPolygon): Uint8Array {
  const out = new Uint8Array(grid.rows * grid.cols);
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const [x, y] = [c * SIZE, r * SIZE];
      const square: polygonClipping.Polygon = [
        [
          [x, y],
          [x + SIZE, y],
          [x + SIZE, y + SIZE],
          [x, y + SIZE],
          [x, y],
        ],
      ];
      const hit = polygonClipping.intersection(square, roi.coordinates as polygonClipping.MultiPolygon);
      if (hit.length > 0) out[r * grid.cols + c] = 1;
    }
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** A star-shaped ring (concave) around a centre; reversed for holes. */
function star(random: () => number, cx: number, cy: number, radius: number, n: number): Position[] {
  const ring: Position[] = [];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    const r = radius * (0.4 + 0.6 * random());
    ring.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  ring.push(ring[0]!);
  return ring;
}

test.each(Array.from({ length: 30 }, (_, i) => i))('random region %i: the same cells as polygon-clipping', (seed) => {
  const random = rng(seed + 1);
  const polygons: Position[][][] = [];
  for (let p = 0; p < 1 + (seed % 3); p++) {
    const cx = random() * 14000 - 500;
    const cy = random() * 10000 - 500;
    const radius = 300 + random() * 4000;
    const rings = [star(random, cx, cy, radius, 3 + Math.floor(random() * 40))];
    if (seed % 2 === 0) rings.push(star(random, cx, cy, radius * 0.3, 8).reverse());
    polygons.push(rings);
  }
  // Keep the polygons apart (GeoJSON MultiPolygon parts do not overlap): union them first.
  const roi: MultiPolygon = {
    type: 'MultiPolygon',
    coordinates: polygonClipping.union(polygons as polygonClipping.MultiPolygon) as Position[][][],
  };
  expect(Array.from(cellsTouchingRoi(grid, roi))).toEqual(Array.from(byClipping(roi)));
});

test('edges on grid lines enter no cell; a region equal to one cell marks only it', () => {
  const roi: MultiPolygon = {
    type: 'MultiPolygon',
    coordinates: [
      [
        [
          [2048, 1024],
          [3072, 1024],
          [3072, 2048],
          [2048, 2048],
          [2048, 1024],
        ],
      ],
    ],
  };
  const cells = cellsTouchingRoi(grid, roi);
  expect([...cells.keys()].filter((i) => cells[i])).toEqual([1 * grid.cols + 2]);
  expect(Array.from(cells)).toEqual(Array.from(byClipping(roi)));
});
