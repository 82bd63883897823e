/**
 * traceMask (our marching squares over the whole mask) must give exactly the rings of one d3-contour
 * call on the whole mask (d3-contour is the independent reference here), rings that fill exactly the
 * mask's inside pixels, and each hole with the region that really surrounds it.
 */
import { contours } from 'd3-contour';
import type { Position } from 'geojson';
import { labelComponents, traceMask } from '../../src/pipeline/contours';
import type { BinaryMask } from '../../src/pipeline/types';

/** Deterministic pseudo-random mask (xorshift), with `fill` the share of inside pixels. */
function randomMask(width: number, height: number, fill: number, seed: number): BinaryMask {
  let s = seed >>> 0 || 1;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    data[i] = s / 4294967296 < fill ? 255 : 0;
  }
  return { width, height, data };
}

function maskFrom(rows: string[]): BinaryMask {
  const width = rows[0]!.length;
  const data = new Uint8Array(width * rows.length);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '#' ? 255 : 0)));
  return { width, height: rows.length, data };
}

function d3Whole(mask: BinaryMask): Position[][][] {
  const [multi] = contours().size([mask.width, mask.height]).smooth(false).thresholds([128])(Array.from(mask.data));
  return multi!.coordinates;
}

/** A ring as a string that does not depend on where it starts. */
function ringKey(ring: Position[]): string {
  const pts = ring.slice(0, -1).map((p) => `${p[0]},${p[1]}`);
  let best = 0;
  for (let i = 1; i < pts.length; i++) if (pts[i]! < pts[best]!) best = i;
  return [...pts.slice(best), ...pts.slice(0, best)].join(' ');
}

const allRings = (polygons: Position[][][]) => polygons.flat().map(ringKey).sort();
/** Each polygon as its exterior and its set of holes. */
const allPolygons = (polygons: Position[][][]) =>
  polygons.map(([exterior, ...holes]) => [ringKey(exterior!), ...holes.map(ringKey).sort()].join(' | ')).sort();

/** Even-odd fill of all rings sampled at pixel centres: what the polygons say is inside. */
function rasterise(polygons: Position[][][], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rings = polygons.flat();
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    const xs: number[] = [];
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i] as [number, number];
        const [xj, yj] = ring[j] as [number, number];
        if (yi > cy !== yj > cy) xs.push(xi + ((cy - yi) * (xj - xi)) / (yj - yi));
      }
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      for (let x = 0; x < width; x++) if (x + 0.5 > xs[k]! && x + 0.5 < xs[k + 1]!) out[y * width + x] = 255;
    }
  }
  return out;
}

function pointInRing(p: Position, ring: Position[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > p[1]! !== yj > p[1]! && p[0]! < ((xj - xi) * (p[1]! - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const randomCases = [
  { name: '40 x 30, 50 % inside', mask: randomMask(40, 30, 0.5, 7) },
  { name: '64 x 64, 70 % inside (one big region with many holes)', mask: randomMask(64, 64, 0.7, 11) },
  { name: '57 x 33, 25 % inside (many specks)', mask: randomMask(57, 33, 0.25, 3) },
  { name: '150 x 140, 75 % inside', mask: randomMask(150, 140, 0.75, 19) },
  // The benchmark's noise mask in small: one region with hundreds of holes and islands inside them.
  { name: '320 x 256, 72 % inside', mask: randomMask(320, 256, 0.72, 23) },
  { name: '1 x 50 column', mask: randomMask(1, 50, 0.5, 5) },
];

describe('traceMask', () => {
  test.each(randomCases)('$name: the same rings as one d3-contour call on the whole mask', ({ mask }) => {
    const ours = traceMask(mask);
    const theirs = d3Whole(mask);
    expect(ours.length).toBe(theirs.length); // one polygon per exterior ring in both
    expect(allRings(ours)).toEqual(allRings(theirs));
    expect(allPolygons(ours)).toEqual(allPolygons(theirs));
  });

  test.each(randomCases)('$name: the rings fill exactly the inside pixels', ({ mask }) => {
    const filled = rasterise(traceMask(mask), mask.width, mask.height);
    expect(Buffer.from(filled).equals(Buffer.from(mask.data))).toBe(true);
  });

  test('a region with many holes, one of them 8-connected through a diagonal, and an island in a hole', () => {
    // A 30 x 30 square with 49 one- to three-pixel holes, some touching diagonally (one 8-connected
    // hole), and an island in a larger hole.
    const size = 32;
    const data = new Uint8Array(size * size);
    for (let y = 1; y < 31; y++) for (let x = 1; x < 31; x++) data[y * size + x] = 255;
    for (let y = 3; y < 29; y += 4) for (let x = 3; x < 29; x += 4) data[y * size + x] = 0;
    data[4 * size + 4] = 0; // diagonal to (3, 3): the same hole for d3-contour
    for (let y = 20; y < 27; y++) for (let x = 20; x < 27; x++) data[y * size + x] = 0;
    data[23 * size + 23] = 255; // island
    const mask = { width: size, height: size, data };
    const ours = traceMask(mask);
    expect(ours[0]!.length - 1).toBeGreaterThan(8);
    expect(allPolygons(ours)).toEqual(allPolygons(d3Whole(mask)));
    expect(Buffer.from(rasterise(ours, size, size)).equals(Buffer.from(data))).toBe(true);
  });

  test('components are 4-connected, as d3-contour traces them: a diagonal pair is two regions', () => {
    const mask = maskFrom(['#.', '.#']);
    expect(labelComponents(mask).count).toBe(2);
    expect(traceMask(mask)).toHaveLength(2);
    expect(d3Whole(mask)).toHaveLength(2);
  });

  test("an island's hole belongs to the island, also when the island sits in another region's hole", () => {
    const mask = maskFrom([
      '#########',
      '#.......#',
      '#.#####.#',
      '#.#...#.#',
      '#.#...#.#',
      '#.#####.#',
      '#.......#',
      '#########',
    ]);
    const polygons = traceMask(mask);
    expect(polygons.map((p) => p.length)).toEqual([2, 2]); // frame + its hole, island + its hole
    for (const [exterior, ...holes] of polygons) {
      for (const hole of holes) {
        expect(pointInRing(hole[0]!, exterior!)).toBe(true);
        // The innermost exterior around the hole is its own: no other polygon's exterior lies between.
        const others = polygons.filter((p) => p[0] !== exterior).map((p) => p[0]!);
        const between = others.filter((o) => pointInRing(hole[0]!, o) && pointInRing(o[0]!, exterior!));
        expect(between).toEqual([]);
      }
    }
  });

  test('long interleaved regions whose bounding boxes all span the mask', () => {
    // 30 parallel staircases, 4 px apart, from top-left towards bottom-right: long thin regions whose
    // bounding boxes overlap, adding up to more than 8 times the mask.
    const height = 64;
    const width = 64 + 4 * 30 + 2;
    const data = new Uint8Array(width * height);
    for (let k = 0; k < 30; k++) {
      for (let y = 0; y < height; y++) data[y * width + 4 * k + y] = data[y * width + 4 * k + y + 1] = 255;
    }
    const mask = { width, height, data };
    expect(labelComponents(mask).count).toBe(30);
    expect(allRings(traceMask(mask))).toEqual(allRings(d3Whole(mask)));
    expect(Buffer.from(rasterise(traceMask(mask), width, height)).equals(Buffer.from(data))).toBe(true);
  });
});
