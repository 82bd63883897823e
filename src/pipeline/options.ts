/** Validation of segmentation options from any caller (CLI flags, gRPC requests). */
import type { MultiPolygon, Polygon } from 'geojson';
import { z } from 'zod';
import { InvalidOptionError } from './errors';
import { DEFAULT_LIMITS, enforce } from './limits';
import { DEFAULT_OPTIONS, MPP_RANGE, type ReferenceName, type SegmentOptions } from './types';

/** Whether a pixel size is one a tissue scan can have (MPP_RANGE). */
export function plausibleMpp(mpp: number): boolean {
  return mpp >= MPP_RANGE.min && mpp <= MPP_RANGE.max;
}

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
    mpp: z.number().gt(0, 'must be > 0').max(1e6).optional(),
    forceMpp: z.boolean().optional(),
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
  const { mpp, forceMpp } = parsed.data;
  if (mpp !== undefined && !forceMpp && !plausibleMpp(mpp)) {
    throw new InvalidOptionError(
      `invalid options: mpp ${mpp} um/px is outside [${MPP_RANGE.min}, ${MPP_RANGE.max}] (no tissue scan has it; ` +
        'CLI: --force-mpp to use it anyway)',
    );
  }
  return { ...parsed.data, roi: parsed.data.roi as Polygon | MultiPolygon | undefined };
}

/** Positions in a GeoJSON-like coordinates array, counted without trusting its shape (before zod). */
function countPositions(coordinates: unknown, depth: number): number {
  if (!Array.isArray(coordinates)) return 0;
  if (depth === 0) return 1;
  let n = 0;
  for (const c of coordinates) n += countPositions(c, depth - 1);
  return n;
}

/**
 * Parses a region of interest given as GeoJSON text (a geometry, a Feature or a one-feature
 * collection); refuses one with more than `maxVertices` positions before validating it in detail.
 */
export function parseRoi(text: string, maxVertices = DEFAULT_LIMITS.maxRoiVertices): Polygon | MultiPolygon {
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
  const g = geometry as { type?: unknown; coordinates?: unknown } | null;
  const depth = g?.type === 'MultiPolygon' ? 3 : 2;
  enforce(
    { ...DEFAULT_LIMITS, maxRoiVertices: maxVertices },
    'maxRoiVertices',
    countPositions(g?.coordinates, depth),
    'the region of interest has too many vertices',
  );
  const parsed = RoiSchema.safeParse(geometry);
  if (!parsed.success) throw new InvalidOptionError('roi must be a GeoJSON Polygon or MultiPolygon in level-0 pixels');
  return parsed.data as Polygon | MultiPolygon;
}
