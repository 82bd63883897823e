/**
 * Traces a binary mask into polygon rings with d3-contour, one connected component at a time.
 *
 * Why not one d3-contour call on the whole mask: after tracing, d3-contour gives each hole to the first
 * exterior ring that contains it by testing every hole against every exterior in turn, which is
 * quadratic. On a fragmented mask (the benchmark's 1024 x 1024 mask has 2,953 exteriors and 6,106
 * holes) that took 2.7 s of the polygon stage's 2.8 s. Marching squares is local, and d3-contour
 * resolves both saddle cells (two inside pixels on a diagonal) as two separate corners, which are
 * exactly the segments each corner gives alone: so d3's regions are the 4-connected components, and
 * tracing each component alone, in a crop of its bounding box with the other components cleared,
 * yields exactly the same rings, while the hole search runs among a component's own rings only. It also fixes d3's one wrong case: a hole of an island that lies
 * in another region's hole belongs to the island, not to whichever exterior came first.
 */
import { contours } from 'd3-contour';
import type { Position } from 'geojson';
import type { BinaryMask } from './types';

/** The threshold d3-contour traces at: mask values >= 128 are inside. */
export const MASK_THRESHOLD = 128;

/** A polygon: exterior ring first, then its holes; coordinates in mask pixels (corners at integers). */
export type MaskPolygon = Position[][];

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Labels pixel j and pushes it when it is on the region's side and unlabelled; returns the new top. */
function visit(
  j: number,
  label: number,
  data: Uint8Array,
  inside: boolean,
  labels: Int32Array,
  stack: Int32Array,
  top: number,
): number {
  if (labels[j] !== 0 || data[j]! >= MASK_THRESHOLD !== inside) return top;
  labels[j] = label;
  stack[top] = j;
  return top + 1;
}

/**
 * Connected regions of the pixels whose side of the threshold is `inside`, labelled 1, 2, ... in scan
 * order of their first pixel, 4- or 8-connected. Written here: no maintained npm package labels a
 * typed array; a flood fill with an explicit stack is a few lines. Plain loops only (no Math calls):
 * this runs on every pixel.
 */
function labelRegions(
  w: number,
  h: number,
  data: Uint8Array,
  inside: boolean,
  eight: boolean,
): { labels: Int32Array; boxes: Box[] } {
  const labels = new Int32Array(w * h);
  const boxes: Box[] = [];
  const stack = new Int32Array(w * h);
  for (let start = 0; start < w * h; start++) {
    if (data[start]! >= MASK_THRESHOLD !== inside || labels[start] !== 0) continue;
    const label = boxes.length + 1;
    const box = { x0: w, y0: h, x1: -1, y1: -1 };
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % w;
      const y = (i - x) / w;
      if (x < box.x0) box.x0 = x;
      if (x > box.x1) box.x1 = x;
      if (y < box.y0) box.y0 = y;
      if (y > box.y1) box.y1 = y;
      const left = x > 0;
      const right = x < w - 1;
      if (left) top = visit(i - 1, label, data, inside, labels, stack, top);
      if (right) top = visit(i + 1, label, data, inside, labels, stack, top);
      if (y > 0) {
        top = visit(i - w, label, data, inside, labels, stack, top);
        if (eight && left) top = visit(i - w - 1, label, data, inside, labels, stack, top);
        if (eight && right) top = visit(i - w + 1, label, data, inside, labels, stack, top);
      }
      if (y < h - 1) {
        top = visit(i + w, label, data, inside, labels, stack, top);
        if (eight && left) top = visit(i + w - 1, label, data, inside, labels, stack, top);
        if (eight && right) top = visit(i + w + 1, label, data, inside, labels, stack, top);
      }
    }
    boxes.push(box);
  }
  return { labels, boxes };
}

/** The 4-connected components of the mask's inside pixels: d3-contour's regions (see above). */
export function labelComponents(mask: BinaryMask): { labels: Int32Array; components: Box[] } {
  const { labels, boxes } = labelRegions(mask.width, mask.height, mask.data, true, false);
  return { labels, components: boxes };
}

// One generator for all calls (they run one after another): creating one costs more than tracing a
// small hole's crop.
const generator = contours().smooth(false).thresholds([MASK_THRESHOLD]);

function traceWhole(mask: BinaryMask): MaskPolygon[] {
  // Without smoothing, d3-contour only compares values with the threshold and indexes any array-like.
  const [multi] = generator.size([mask.width, mask.height])(mask.data as unknown as number[]);
  return multi?.coordinates ?? [];
}

/**
 * The mask's boundaries as polygons with holes (marching squares at half-pixel positions, d3-contour's
 * ring orientation), components in scan order, one component at a time: a caller that reduces each
 * polygon as it comes (simplification) lets the raw rings die young, which the garbage collector
 * handles far more cheaply than ~10^5 vertex arrays kept to the end.
 */
export function* tracePolygons(mask: BinaryMask): Generator<MaskPolygon> {
  const { labels, components } = labelComponents(mask);
  // Crops cost their bounding boxes' area: when components' boxes overlap so much that this would
  // exceed a few whole-mask passes (long interleaved spirals), one whole-mask call is cheaper.
  const cropArea = components.reduce((sum, c) => sum + (c.x1 - c.x0 + 1) * (c.y1 - c.y0 + 1), 0);
  if (cropArea > 8 * mask.width * mask.height) {
    yield* traceWhole(mask);
    return;
  }
  for (const [index, c] of components.entries()) {
    const label = index + 1;
    const w = c.x1 - c.x0 + 1;
    const h = c.y1 - c.y0 + 1;
    const crop = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      const row = (c.y0 + y) * mask.width + c.x0;
      for (let x = 0; x < w; x++) if (labels[row + x] === label) crop[y * w + x] = 255;
    }
    for (const polygon of traceComponent({ width: w, height: h, data: crop })) yield shift(polygon, c.x0, c.y0);
  }
}

/** All of tracePolygons' polygons at once. */
export function traceMask(mask: BinaryMask): MaskPolygon[] {
  return [...tracePolygons(mask)];
}

/** Moves rings from crop to mask coordinates, in place: d3-contour makes a new array per vertex. */
function shift(polygon: MaskPolygon, dx: number, dy: number): MaskPolygon {
  for (const ring of polygon) {
    for (const p of ring) {
      p[0]! += dx;
      p[1]! += dy;
    }
  }
  return polygon;
}

interface Hole extends Box {
  label: number;
}

/** Holes traced together: a rectangle of the component's crop and the holes lying inside it. */
interface HoleGroup extends Box {
  holes: Hole[];
}

/** Side of the tiles that group small holes, in mask pixels. */
const HOLE_TILE = 64;

/**
 * Each hole needs a crop whose edge is the only exterior ring, and tracing that edge is wasted work
 * (for a one-pixel hole, 12 segments against the hole's 4). Holes that fit, with a pixel around
 * them, in one 64 x 64 tile share that tile's crop; the others, and lone holes, get their own.
 */
function groupHoles(holes: Hole[], w: number, h: number): HoleGroup[] {
  const tiles = new Map<number, Hole[]>();
  const groups: HoleGroup[] = [];
  const alone = (hole: Hole): HoleGroup => ({
    x0: hole.x0 - 1,
    y0: hole.y0 - 1,
    x1: hole.x1 + 1,
    y1: hole.y1 + 1,
    holes: [hole],
  });
  const cols = Math.ceil(w / HOLE_TILE);
  for (const hole of holes) {
    const tx = Math.floor((hole.x0 - 1) / HOLE_TILE);
    const ty = Math.floor((hole.y0 - 1) / HOLE_TILE);
    if (Math.floor((hole.x1 + 1) / HOLE_TILE) !== tx || Math.floor((hole.y1 + 1) / HOLE_TILE) !== ty) {
      groups.push(alone(hole));
      continue;
    }
    const key = ty * cols + tx;
    const members = tiles.get(key);
    if (members) members.push(hole);
    else tiles.set(key, [hole]);
  }
  for (const [key, members] of tiles) {
    if (members.length === 1) {
      groups.push(alone(members[0]!));
      continue;
    }
    const x0 = (key % cols) * HOLE_TILE;
    const y0 = Math.floor(key / cols) * HOLE_TILE;
    groups.push({ x0, y0, x1: Math.min(w, x0 + HOLE_TILE) - 1, y1: Math.min(h, y0 + HOLE_TILE) - 1, holes: members });
  }
  return groups;
}

/**
 * The rings of a group's holes: its rectangle with every pixel inside but those of the selected holes.
 * Every pixel next to a hole is inside in the component too, so the cells, and rings, are the same.
 */
function traceHoles(labels: Int32Array, w: number, selected: Uint8Array, group: HoleGroup): Position[][] {
  const gw = group.x1 - group.x0 + 1;
  const gh = group.y1 - group.y0 + 1;
  const data = new Uint8Array(gw * gh).fill(255);
  for (let y = 0; y < gh; y++) {
    const row = (group.y0 + y) * w + group.x0;
    for (let x = 0; x < gw; x++) if (selected[labels[row + x]!] === 1) data[y * gw + x] = 0;
  }
  // The rectangle's edge is the only exterior; the holes are all its holes.
  const [frame] = traceWhole({ width: gw, height: gh, data });
  return shift(frame!.slice(1), group.x0, group.y0);
}

/** Up to this many holes, one d3-contour call on the component's crop is cheapest. */
const HOLES_IN_ONE_CALL = 8;

/**
 * One component, alone in the crop of its bounding box. d3-contour would test each hole against the
 * exterior ring (holes x exterior length: 0.45 s for the benchmark mask's largest region, 6,060 holes
 * in a 4,447-vertex exterior), so a component with many holes is traced in parts: the exterior from
 * the crop with its holes filled, and the holes from small crops (see groupHoles) in which everything
 * but those holes is inside. Background is 8-connected in d3-contour's tracing (saddles separate inside
 * pixels), so a hole is an 8-connected background region not reaching the crop's edge, every pixel
 * next to it is inside, and each part's cells, hence its ring, are exactly those of the whole crop.
 */
function traceComponent(crop: BinaryMask): MaskPolygon[] {
  const { width: w, height: h, data } = crop;
  const { labels, boxes } = labelRegions(w, h, data, false, true);
  const holes = boxes
    .map((b, i): Hole => ({ ...b, label: i + 1 }))
    .filter((b) => b.x0 > 0 && b.y0 > 0 && b.x1 < w - 1 && b.y1 < h - 1);
  if (holes.length <= HOLES_IN_ONE_CALL) return traceWhole(crop);
  const filled = new Uint8Array(data);
  const isHole = new Uint8Array(boxes.length + 1);
  for (const hole of holes) isHole[hole.label] = 1;
  for (let i = 0; i < filled.length; i++) if (isHole[labels[i]!] === 1) filled[i] = 255;
  const [outer] = traceWhole({ width: w, height: h, data: filled });
  const rings = [outer![0]!];
  const selected = new Uint8Array(boxes.length + 1);
  for (const group of groupHoles(holes, w, h)) {
    for (const hole of group.holes) selected[hole.label] = 1;
    rings.push(...traceHoles(labels, w, selected, group));
    for (const hole of group.holes) selected[hole.label] = 0;
  }
  return [rings];
}
