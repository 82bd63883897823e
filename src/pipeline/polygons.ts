/**
 * Mask -> polygons: contours.ts traces the mask's boundaries (marching squares, holes included, the
 * rings d3-contour would give), simplify-js removes needless vertices, and coordinates are stretched
 * back onto the slide's level 0. polygon-clipping restricts the result to a region of interest.
 */
import type { MultiPolygon, Polygon, Position } from 'geojson';
import polygonClipping from 'polygon-clipping';
import simplify from 'simplify-js';
import { type FlatRing, tracePolygons } from './contours';
import type { BinaryMask } from './types';

/** Polygon rings as GeoJSON positions: the exterior ring first, then holes. */
export type PolygonRings = Position[][];

/** Largest deviation, in mask pixels, that simplification may introduce. */
export const SIMPLIFY_TOLERANCE_PX = 0.5;

/**
 * Marching squares cuts each corner by half a pixel, so a region along the image border runs half a
 * pixel inside it once simplified; snap such vertices onto the border so edge regions reach the edge.
 */
function snapToBorder(v: number, size: number): number {
  if (v <= SIMPLIFY_TOLERANCE_PX) return 0;
  if (v >= size - SIMPLIFY_TOLERANCE_PX) return size;
  return v;
}

/**
 * One traced ring as output: simplified (simplify-js, in mask pixels), snapped to the border, without
 * consecutive repeats (snapping can make them), closed, and scaled to level 0; null when fewer than 3
 * distinct vertices remain. One pass after simplify-js: on a fragmented mask there are ~10^5 vertices.
 */
function finishRing(ring: FlatRing, width: number, height: number, sx: number, sy: number): Position[] | null {
  const input: { x: number; y: number }[] = [];
  for (let k = 0; k < ring.length; k += 2) input.push({ x: ring[k]!, y: ring[k + 1]! });
  const pts = simplify(input, SIMPLIFY_TOLERANCE_PX, true);
  if (pts.length < 4) return null; // a closed ring needs 3 distinct points plus the closing one
  const out: Position[] = [];
  let px = Number.NaN;
  let py = Number.NaN;
  for (const p of pts) {
    const x = snapToBorder(p.x, width);
    const y = snapToBorder(p.y, height);
    if (x === px && y === py) continue;
    out.push([x * sx, y * sy]);
    px = x;
    py = y;
  }
  const first = out[0]!;
  const last = out[out.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1]) out.push([first[0]!, first[1]!]);
  return out.length >= 4 ? out : null;
}

/**
 * Traces a binary mask into polygons in level-0 coordinates of a slide of the given size. The mask
 * covers the whole slide, stretched (mask pixel i spans [i, i+1) * level0Size / maskSize).
 */
export function maskToPolygons(mask: BinaryMask, level0Width: number, level0Height: number): PolygonRings[] {
  const sx = level0Width / mask.width;
  const sy = level0Height / mask.height;
  const polygons: PolygonRings[] = [];
  for (const polygon of tracePolygons(mask)) {
    const rings: Position[][] = [];
    for (const ring of polygon) {
      const finished = finishRing(ring, mask.width, mask.height, sx, sy);
      if (finished) rings.push(finished);
      else if (rings.length === 0) break; // exterior vanished: drop the polygon with its holes
    }
    if (rings.length > 0) polygons.push(rings);
  }
  return polygons;
}

/** Clips polygons to a region of interest; polygons outside it disappear. */
export function clipToRoi(polygons: PolygonRings[], roi: Polygon | MultiPolygon): PolygonRings[] {
  if (polygons.length === 0) return polygons;
  const roiCoords = (roi.type === 'Polygon' ? [roi.coordinates] : roi.coordinates) as polygonClipping.MultiPolygon;
  return polygonClipping.intersection(polygons as polygonClipping.MultiPolygon, roiCoords) as PolygonRings[];
}

function ringArea(ring: Position[]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += (ring[j]![0]! + ring[i]![0]!) * (ring[j]![1]! - ring[i]![1]!);
  }
  return Math.abs(sum) / 2;
}

/** Area of a polygon with holes, in squared coordinate units. */
export function polygonArea(rings: PolygonRings): number {
  return rings.reduce((total, ring, i) => total + (i === 0 ? ringArea(ring) : -ringArea(ring)), 0);
}
