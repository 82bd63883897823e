/**
 * Mask -> polygons: d3-contour traces the mask's boundaries (marching squares, holes included; see
 * contours.ts), simplify-js removes needless vertices, and coordinates are stretched back onto the
 * slide's level 0. polygon-clipping restricts the result to a region of interest.
 */
import type { MultiPolygon, Polygon, Position } from 'geojson';
import polygonClipping from 'polygon-clipping';
import simplify from 'simplify-js';
import { traceMask } from './contours';
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

/** Drops consecutive repeated vertices (snapping can create them). */
function dedupe(ring: Position[]): Position[] {
  return ring.filter((p, i) => i === 0 || p[0] !== ring[i - 1]![0] || p[1] !== ring[i - 1]![1]);
}

function simplifyRing(ring: Position[]): Position[] | null {
  const pts = simplify(
    ring.map(([x, y]) => ({ x: x!, y: y! })),
    SIMPLIFY_TOLERANCE_PX,
    true,
  );
  if (pts.length < 4) return null; // a closed ring needs 3 distinct points plus the closing one
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  if (first.x !== last.x || first.y !== last.y) pts.push({ ...first });
  return pts.map((p) => [p.x, p.y]);
}

/**
 * Traces a binary mask into polygons in level-0 coordinates of a slide of the given size. The mask
 * covers the whole slide, stretched (mask pixel i spans [i, i+1) * level0Size / maskSize).
 */
export function maskToPolygons(mask: BinaryMask, level0Width: number, level0Height: number): PolygonRings[] {
  const sx = level0Width / mask.width;
  const sy = level0Height / mask.height;
  const polygons: PolygonRings[] = [];
  for (const polygon of traceMask(mask)) {
    const rings: Position[][] = [];
    for (const ring of polygon) {
      const simple = simplifyRing(ring);
      const snapped =
        simple && dedupe(simple.map(([x, y]) => [snapToBorder(x!, mask.width), snapToBorder(y!, mask.height)]));
      if (snapped && snapped.length >= 4) rings.push(snapped.map(([x, y]) => [x! * sx, y! * sy]));
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
