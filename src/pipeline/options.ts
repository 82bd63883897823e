/** Validation of segmentation options from any caller (CLI flags, gRPC requests). */
import type { MultiPolygon, Polygon } from 'geojson';
import { z } from 'zod';
import { InvalidOptionError } from './errors';
import { DEFAULT_OPTIONS, type ReferenceName, type SegmentOptions } from './types';

/**
 * The rule sets (`--reference`, gRPC `reference`); README "FastPathology's rules" says where they differ
 * and why. 'fast' is the default.
 */
export const REFERENCES: Readonly<Record<ReferenceName, string>> = {
  fast:
    "FastPathology's (FAST 4.18) rules; where FAST's last pyramid level is under half the refinement size " +
    '(libvips pyramids end in one tile) tissue and refinement image come from the coarsest level of at least the refinement size',
  'fast-exact': "FAST 4.18's rules on every slide, also the one-tile last level of libvips pyramids",
  h2g:
    "this project's rules before 0.2: 10x scale from the pixel size, tissue share = mean of the mask over the patch, " +
    'refinement image / 255 from the coarsest level of at least the refinement size',
};
export const REFERENCE_NAMES = Object.keys(REFERENCES) as [ReferenceName, ...ReferenceName[]];

const Position = z.tuple([z.number().finite(), z.number().finite()]).rest(z.number().finite());
const Ring = z.array(Position).min(4, 'a ring needs at least 4 positions (closed)');
const RoiSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: z.array(Ring).min(1) }).passthrough(),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(Ring).min(1)).min(1) }).passthrough(),
]);

const OptionsSchema = z
  .object({
    reference: z.enum(REFERENCE_NAMES, { message: `must be one of ${REFERENCE_NAMES.join(', ')}` }),
    mpp: z.number().gt(0, 'must be > 0').max(100, 'must be at most 100 um/px').optional(),
    tissueThreshold: z.number().gt(0, 'must be > 0').max(1, 'must be at most 1'),
    batchSize: z.number().int('must be a whole number').min(1).max(512),
    roi: RoiSchema.optional(),
    smoothingUm: z.number().min(0).max(10000),
  })
  .strict();

/** Fills defaults and checks ranges; throws InvalidOptionError naming each bad option. */
export function validateOptions(partial: Partial<SegmentOptions>): SegmentOptions {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const parsed = OptionsSchema.safeParse({ ...DEFAULT_OPTIONS, ...defined });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
    throw new InvalidOptionError(`invalid options: ${issues.join('; ')}`);
  }
  return { ...parsed.data, roi: parsed.data.roi as Polygon | MultiPolygon | undefined };
}

/** Parses a region of interest given as GeoJSON text (a geometry, a Feature or a one-feature collection). */
export function parseRoi(text: string): Polygon | MultiPolygon {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidOptionError(`roi is not valid JSON: ${(err as Error).message}`);
  }
  const obj = json as { type?: string; geometry?: unknown; features?: { geometry?: unknown }[] };
  const geometry =
    obj?.type === 'Feature'
      ? obj.geometry
      : obj?.type === 'FeatureCollection' && obj.features?.length === 1
        ? obj.features[0]!.geometry
        : json;
  const parsed = RoiSchema.safeParse(geometry);
  if (!parsed.success) throw new InvalidOptionError('roi must be a GeoJSON Polygon or MultiPolygon in level-0 pixels');
  return parsed.data as Polygon | MultiPolygon;
}
