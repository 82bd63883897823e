/**
 * Resource limits: the one table of what a single job, request or slide may make the process do.
 * Valid-range options can still multiply into work no machine has (a tiny pixel size with a large
 * smoothing radius, a slide whose metadata claims 100 um/px, a client declaring a 6,000,000 px wide
 * image), and one such job would take a shared sidecar down with every other client's job. So the
 * job's plan (plan.ts) is computed from the slide's geometry and the options before any work and
 * compared with these limits. The README's limits table is this one; `h2g serve` and `h2g segment`
 * take each as a flag (`flag`).
 */
import { LimitError } from './errors';

export interface Limits {
  /** Cells of the patch grid (rows x cols): the heatmap, tissue shares and ROI test are per cell. */
  maxGridCells: number;
  /** Tissue patches inferred in one job. */
  maxPatches: number;
  /** The job's own large buffers plus the inference memory of one batch, estimated by the plan. */
  maxJobMemoryMiB: number;
  /** Pixels read for the low-resolution image (a pyramid that stops early is read whole). */
  maxLowResPixels: number;
  /** Smoothing radius in mask pixels (the erosion/dilation disk; the mask is 1024 px wide). */
  maxSmoothingRadiusPx: number;
  /** Vertices of a region of interest. */
  maxRoiVertices: number;
  /** Bytes of an ROI file (`h2g segment --roi`); a gRPC ROI is bounded by the message size. */
  maxRoiFileBytes: number;
  /** Side of a slide level or of a client-declared image, in pixels (checked at open, natively). */
  maxImageSide: number;
  /** Tile side of a TIFF-based slide, in pixels (checked at open, natively, before OpenSlide reads). */
  maxTileSide: number;
  /** Pyramid levels of a slide or downsamples of a client-declared image. */
  maxLevels: number;
}

export interface LimitSpec {
  key: keyof Limits;
  flag: string;
  default: number;
  /** Whole numbers only (every limit but the memory budget). */
  integer: boolean;
  description: string;
}

/** Defaults and flags. Written down in the README ("Limits"); change both together. */
export const LIMIT_SPECS: readonly LimitSpec[] = [
  spec('maxGridCells', 1_000_000, 'cells of the patch grid (rows x cols)'),
  spec('maxPatches', 200_000, 'tissue patches inferred per job'),
  spec('maxJobMemoryMiB', 3072, "a job's estimated memory: its buffers plus one batch's inference", false),
  spec('maxLowResPixels', 2 ** 30, 'pixels read for the low-resolution image'),
  spec('maxSmoothingRadiusPx', 256, 'smoothing radius in mask pixels'),
  spec('maxRoiVertices', 100_000, 'vertices of a region of interest'),
  spec('maxRoiFileBytes', 16 * 2 ** 20, 'bytes of an --roi file'),
  spec('maxImageSide', 2 ** 20, 'side of a slide level or a declared image, px'),
  spec('maxTileSide', 4096, 'tile side of a TIFF-based slide, px'),
  spec('maxLevels', 64, 'pyramid levels or declared downsamples'),
];

function spec(key: keyof Limits, value: number, description: string, integer = true): LimitSpec {
  const flag = `--${key.replace(/MiB$/, 'Mib').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return { key, flag, default: value, integer, description };
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze(
  Object.fromEntries(LIMIT_SPECS.map((s) => [s.key, s.default])) as unknown as Limits,
);

export function limitSpec(key: keyof Limits): LimitSpec {
  return LIMIT_SPECS.find((s) => s.key === key)!;
}

/** Defaults with the given overrides, each checked (> 0, whole where it must be). */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const s of LIMIT_SPECS) {
    const v = overrides[s.key];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v <= 0 || (s.integer && !Number.isInteger(v)) || v > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`${s.flag} must be a ${s.integer ? 'whole ' : ''}number > 0, got ${v}`);
    }
    limits[s.key] = v;
  }
  return limits;
}

/** Throws a LimitError naming the limit and its flag when `value` exceeds it. */
export function enforce(limits: Limits, key: keyof Limits, value: number, what: string): void {
  if (value <= limits[key]) return;
  const s = limitSpec(key);
  throw new LimitError(
    key,
    `${what}: ${Math.ceil(value).toLocaleString('en-US')} exceeds the limit ${key} = ` +
      `${limits[key].toLocaleString('en-US')} (${s.description}; raise it with ${s.flag})`,
  );
}
