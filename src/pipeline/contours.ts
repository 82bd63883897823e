/**
 * Traces a binary mask into polygon rings: marching squares at half-pixel positions, the rings that
 * d3-contour gives for the same mask (same vertices, same direction; the tests compare with it).
 *
 * Written here, not taken from d3-contour (used until session 4) or another package: d3-contour
 * stitches segments through sparse arrays with `delete`, a new array per vertex and `unshift`, about
 * 1 us per boundary segment, and gives each hole to the first exterior that contains it, which is
 * quadratic. On the benchmark's fragmented 1,024 x 1,024 mask (2,953 regions, 6,106 holes, 281,467
 * vertices) that was 0.6-0.9 s even traced one region at a time. The other npm candidates do not fit:
 * marchingsquares (last published 6 years ago) and its fork marching-squares are AGPL-3.0 (this
 * project is MIT) and take nested arrays, potrace fits curves, and OpenCV's findContours ships as
 * about 10 MB of WebAssembly (@techstark/opencv-js) to compile at every start. Here marching
 * squares fills one successor table over typed arrays, each ring is one cycle of it, and a hole goes
 * to the region of the inside pixel next to it (the 4-connected component labels), not by search.
 */
import type { Position } from 'geojson';
import type { BinaryMask } from './types';

/** The threshold the tracer applies: mask values >= 128 are inside. */
export const MASK_THRESHOLD = 128;

/** A polygon: exterior ring first, then its holes; coordinates in mask pixels (corners at integers). */
export type MaskPolygon = Position[][];

/**
 * The 4-connected components of the mask's inside pixels, labelled 1, 2, ... in scan order of their
 * first pixel (0 outside). Inside pixels meeting only at a corner are separate regions, as marching
 * squares here (and in d3-contour) separates them at saddle cells. Written here: no maintained npm
 * package labels a typed array; a flood fill with an explicit stack is a few lines.
 */
export function labelComponents(mask: BinaryMask): { labels: Int32Array; count: number } {
  const { width: w, height: h, data } = mask;
  const labels = new Int32Array(w * h);
  const stack = new Int32Array(w * h);
  let count = 0;
  for (let start = 0; start < w * h; start++) {
    if (data[start]! < MASK_THRESHOLD || labels[start] !== 0) continue;
    const label = ++count;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % w;
      // Four neighbours, each tested inline (no helper, no Math call): this runs on every pixel.
      for (let k = 0; k < 4; k++) {
        const j = k === 0 ? (x > 0 ? i - 1 : -1) : k === 1 ? (x < w - 1 ? i + 1 : -1) : k === 2 ? i - w : i + w;
        if (j < 0 || j >= w * h || labels[j] !== 0 || data[j]! < MASK_THRESHOLD) continue;
        labels[j] = label;
        stack[top++] = j;
      }
    }
  }
  return { labels, count };
}

// A cell has four pixels as corners: top-left, top-right, bottom-left, bottom-right. Its case is
// BL | BR << 1 | TR << 2 | TL << 3 (1 = inside), as in d3-contour. A segment joins two of the cell's
// edge midpoints, T(op), L(eft), R(ight), B(ottom), directed as d3-contour directs it (exteriors
// come out with positive area by d3-contour's formula, holes negative). Saddles (5, 10) cut off the
// two inside corners separately.
const T = 0;
const L = 1;
const R = 2;
const B = 3;
const SEGMENTS: readonly (readonly [number, number])[][] = [
  [],
  [[B, L]],
  [[R, B]],
  [[R, L]],
  [[T, R]],
  [
    [B, L],
    [T, R],
  ],
  [[T, B]],
  [[T, L]],
  [[L, T]],
  [[B, T]],
  [
    [L, T],
    [R, B],
  ],
  [[R, T]],
  [[L, R]],
  [[B, R]],
  [[L, B]],
  [],
];

/**
 * Boundary points are numbered: a point between horizontal neighbours (X - 1, j) and (X, j) lies at
 * (X, j + 0.5) and is number j * (w + 1) + X; a point between vertical neighbours (i, Y - 1) and
 * (i, Y) lies at (i + 0.5, Y) and is number (w + 1) * h + Y * w + i.
 */
class PointNumbering {
  readonly horizontal: number;
  readonly total: number;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.horizontal = (w + 1) * h;
    this.total = this.horizontal + w * (h + 1);
  }
  /** The numbers of the four edge midpoints of the cell whose top-left pixel is (x, y), as T, L, R, B. */
  cellPoints(x: number, y: number, out: Int32Array): void {
    out[T] = y * (this.w + 1) + x + 1;
    out[B] = (y + 1) * (this.w + 1) + x + 1;
    out[L] = this.horizontal + (y + 1) * this.w + x;
    out[R] = out[L]! + 1;
  }
  x(p: number): number {
    return p < this.horizontal ? p % (this.w + 1) : ((p - this.horizontal) % this.w) + 0.5;
  }
  y(p: number): number {
    return p < this.horizontal ? Math.floor(p / (this.w + 1)) + 0.5 : Math.floor((p - this.horizontal) / this.w);
  }
  /** The inside one of the two pixels a boundary point lies between, as an index into the mask. */
  insidePixel(p: number, data: Uint8Array): number {
    if (p < this.horizontal) {
      const right = Math.floor(p / (this.w + 1)) * this.w + (p % (this.w + 1));
      return p % (this.w + 1) > 0 && data[right - 1]! >= MASK_THRESHOLD ? right - 1 : right;
    }
    const below = p - this.horizontal;
    return below >= this.w && data[below - this.w]! >= MASK_THRESHOLD ? below - this.w : below;
  }
}

/**
 * Each boundary point's successor along its ring (marching squares over the whole mask); -1 for
 * points the boundary does not pass.
 */
function successors(mask: BinaryMask, points: PointNumbering): Int32Array {
  const { width: w, height: h, data } = mask;
  const next = new Int32Array(points.total).fill(-1);
  // The mask with a ring of outside pixels around it, as 0/1: every cell, edges included, reads 4 bytes.
  const pw = w + 2;
  const padded = new Uint8Array(pw * (h + 2));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) padded[(y + 1) * pw + x + 1] = data[y * w + x]! >= MASK_THRESHOLD ? 1 : 0;
  }
  const cell = new Int32Array(4);
  for (let y = -1; y < h; y++) {
    const top = (y + 1) * pw;
    const bottom = top + pw;
    for (let x = -1; x < w; x++) {
      const c =
        padded[bottom + x + 1]! |
        (padded[bottom + x + 2]! << 1) |
        (padded[top + x + 2]! << 2) |
        (padded[top + x + 1]! << 3);
      if (c === 0 || c === 15) continue;
      points.cellPoints(x, y, cell);
      for (const [from, to] of SEGMENTS[c]!) {
        next[cell[from]!] = cell[to]!;
      }
    }
  }
  return next;
}

/**
 * A ring as flat coordinates in mask pixels, x0, y0, x1, y1, ..., closed (the last point repeats
 * the first): one typed array per ring instead of an array per vertex.
 */
export type FlatRing = Float64Array;

/**
 * The mask's boundaries as polygons with holes (exterior ring first), one per 4-connected region in
 * scan order of its first pixel; each ring starts at its topmost, then leftmost, point on a vertical
 * pixel edge. A generator so that a caller reducing each polygon as it comes
 * (simplification) lets the rings die young.
 */
export function* tracePolygons(mask: BinaryMask): Generator<FlatRing[]> {
  const points = new PointNumbering(mask.width, mask.height);
  const next = successors(mask, points);
  const { labels, count } = labelComponents(mask);

  // Every ring crosses a horizontal neighbour pair, so scanning those points finds every ring once.
  const rings: FlatRing[] = [];
  const exteriorOf = new Int32Array(count + 1).fill(-1);
  const holesOf: number[][] = Array.from({ length: count + 1 }, () => []);
  let coords = new Float64Array(1024);
  for (let p = 0; p < points.horizontal; p++) {
    if (next[p] === -1) continue; // not on a boundary, or its ring already traced
    let n = 0;
    let area = 0; // d3-contour's formula; coordinates are halves, so the sums are exact
    let q = p;
    do {
      if (n + 4 > coords.length) {
        const grown = new Float64Array(coords.length * 2);
        grown.set(coords);
        coords = grown;
      }
      coords[n] = points.x(q);
      coords[n + 1] = points.y(q);
      if (n > 0) area += coords[n - 1]! * coords[n]! - coords[n - 2]! * coords[n + 1]!;
      n += 2;
      const following = next[q]!;
      next[q] = -1; // traced
      q = following;
    } while (q !== p);
    coords[n] = coords[0]!;
    coords[n + 1] = coords[1]!;
    area += coords[n - 1]! * coords[n]! - coords[n - 2]! * coords[n + 1]!;
    const label = labels[points.insidePixel(p, mask.data)]!;
    if (area > 0) exteriorOf[label] = rings.length;
    else holesOf[label]!.push(rings.length);
    rings.push(coords.slice(0, n + 2));
  }

  for (let label = 1; label <= count; label++) {
    const exterior = exteriorOf[label]!;
    if (exterior < 0) continue; // cannot happen: every region has one outer boundary
    yield [rings[exterior]!, ...holesOf[label]!.map((r) => rings[r]!)];
    // Let the rings go as the caller finishes with them.
    rings[exterior] = EMPTY;
    for (const r of holesOf[label]!) rings[r] = EMPTY;
  }
}

const EMPTY = new Float64Array(0);

/** A flat ring as GeoJSON positions. */
export function ringPositions(ring: FlatRing): Position[] {
  const out: Position[] = [];
  for (let k = 0; k < ring.length; k += 2) out.push([ring[k]!, ring[k + 1]!]);
  return out;
}

/** All of tracePolygons' polygons at once, as GeoJSON positions. */
export function traceMask(mask: BinaryMask): MaskPolygon[] {
  return [...tracePolygons(mask)].map((polygon) => polygon.map(ringPositions));
}
