/**
 * Tumour polygons from GeoJSON as QuPath writes it ("Export objects as GeoJSON": a FeatureCollection,
 * a single Feature or an array of Features) and as `h2g segment` writes it. Features whose
 * `properties.classification.name` is the class asked for count; Polygon, MultiPolygon and
 * GeometryCollection geometries give area, points and lines none.
 */
import { readFile } from 'node:fs/promises';

export type Ring = readonly (readonly [number, number])[];

export class AnnotationError extends Error {
  override name = 'AnnotationError';
}

export const TUMOUR_CLASS = 'Tumor';

type Json = unknown;

function features(doc: Json, file: string): Json[] {
  if (Array.isArray(doc)) return doc;
  const d = doc as { type?: unknown; features?: unknown } | null;
  if (d && d.type === 'FeatureCollection') {
    if (!Array.isArray(d.features)) throw new AnnotationError(`${file}: a FeatureCollection needs a "features" list`);
    return d.features;
  }
  if (d && d.type === 'Feature') return [d];
  throw new AnnotationError(`${file}: expected a GeoJSON FeatureCollection, a Feature or a list of Features`);
}

function className(feature: Json): string | undefined {
  const cls = (feature as { properties?: { classification?: unknown } } | null)?.properties?.classification;
  if (typeof cls === 'string') return cls;
  const name = (cls as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

function ring(coords: Json, file: string): Ring | null {
  if (!Array.isArray(coords)) throw new AnnotationError(`${file}: a polygon ring is not a list of positions`);
  const out: [number, number][] = [];
  for (const p of coords) {
    const x = Array.isArray(p) ? p[0] : undefined;
    const y = Array.isArray(p) ? p[1] : undefined;
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw new AnnotationError(`${file}: a polygon ring holds a position that is not [x, y] numbers`);
    }
    out.push([x, y]);
  }
  return out.length >= 3 ? out : null;
}

function polygon(coords: Json, file: string): Ring[] {
  if (!Array.isArray(coords)) throw new AnnotationError(`${file}: malformed Polygon coordinates`);
  return coords.map((c) => ring(c, file)).filter((r): r is Ring => r !== null);
}

function polygons(geometry: Json, file: string): Ring[][] {
  const g = geometry as { type?: unknown; coordinates?: unknown; geometries?: unknown } | null;
  if (!g || typeof g !== 'object') return [];
  if (g.type === 'Polygon') return [polygon(g.coordinates, file)];
  if (g.type === 'MultiPolygon') {
    if (!Array.isArray(g.coordinates)) throw new AnnotationError(`${file}: malformed MultiPolygon coordinates`);
    return g.coordinates.map((c) => polygon(c, file));
  }
  if (g.type === 'GeometryCollection' && Array.isArray(g.geometries)) {
    return g.geometries.flatMap((x) => polygons(x, file));
  }
  return [];
}

export function parsePolygons(doc: Json, file: string, cls = TUMOUR_CLASS): Ring[][] {
  return features(doc, file)
    .filter((f) => className(f) === cls)
    .flatMap((f) => polygons((f as { geometry?: unknown }).geometry, file))
    .filter((p) => p.length > 0);
}

export async function readPolygons(file: string, cls = TUMOUR_CLASS): Promise<Ring[][]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AnnotationError(
      code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(err as Error).message}`,
    );
  }
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AnnotationError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePolygons(doc, file, cls);
}
