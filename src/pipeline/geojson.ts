/**
 * Polygons -> a GeoJSON FeatureCollection that QuPath imports as it is: one "Tumor" annotation per
 * region, area in its measurements, and provenance (model digests, pipeline version, parameters) in
 * its metadata. QuPath's metadata is a String -> String map, so every value is a string.
 */
import type { Feature, FeatureCollection, Polygon } from 'geojson';
import { type PolygonRings, polygonArea } from './polygons';

export const TUMOR_CLASSIFICATION = { name: 'Tumor', color: [200, 0, 0] } as const;
export const AREA_MEASUREMENT = 'Area µm^2';
export const DEMO_WARNING =
  'UNTRAINED DEMO WEIGHTS: these regions mean nothing clinically; install the published H2G-Net weights with `h2g models pull`';

export interface Provenance {
  pipelineVersion: string;
  modelSet: string;
  patchModel: { file: string; sha256: string };
  refinementModel: { file: string; sha256: string };
  parameters: Record<string, string | number | boolean>;
  demo: boolean;
  /** The patch model's arithmetic, and for int8 the SHA-256 of the float32 patch model it came from. */
  precision: string;
  quantizedFrom: string | null;
  /** Level-0 pixel size used, um/px. */
  mpp: { x: number; y: number };
}

export function provenanceMetadata(p: Provenance): Record<string, string> {
  const meta: Record<string, string> = {
    'h2gnet.pipeline_version': p.pipelineVersion,
    'h2gnet.model_set': p.modelSet,
    'h2gnet.patch_model': p.patchModel.file,
    'h2gnet.patch_model_sha256': p.patchModel.sha256,
    'h2gnet.refinement_model': p.refinementModel.file,
    'h2gnet.refinement_model_sha256': p.refinementModel.sha256,
    'h2gnet.mpp': `${p.mpp.x},${p.mpp.y}`,
    'h2gnet.demo_weights': String(p.demo),
    'h2gnet.precision': p.precision,
  };
  if (p.quantizedFrom) meta['h2gnet.quantized_from_sha256'] = p.quantizedFrom;
  for (const [k, v] of Object.entries(p.parameters)) meta[`h2gnet.param.${k}`] = String(v);
  if (p.demo) meta['h2gnet.warning'] = DEMO_WARNING;
  return meta;
}

/** A FeatureCollection with provenance as a GeoJSON foreign member, so even an empty result says what made it. */
export type TumourCollection = FeatureCollection<Polygon> & { metadata: Record<string, string> };

export function polygonsToFeatureCollection(polygons: PolygonRings[], provenance: Provenance): TumourCollection {
  const metadata = provenanceMetadata(provenance);
  const umPerPx2 = provenance.mpp.x * provenance.mpp.y;
  const features: Feature<Polygon>[] = polygons.map((rings) => ({
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: rings },
    properties: {
      objectType: 'annotation',
      classification: { ...TUMOR_CLASSIFICATION, color: [...TUMOR_CLASSIFICATION.color] },
      measurements: { [AREA_MEASUREMENT]: polygonArea(rings) * umPerPx2 },
      metadata,
    },
  }));
  return { type: 'FeatureCollection', metadata, features } as TumourCollection;
}
