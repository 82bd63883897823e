/**
 * Pure functions that derive physical metadata from a slide's OpenSlide properties. Kept apart from the
 * binding so they can be tested on plain property maps.
 */

/** Pixel size in micrometres per pixel at level 0, and which properties it came from. */
export interface PixelSize {
  x: number;
  y: number;
  source: 'openslide.mpp' | 'tiff.resolution' | 'user';
}

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Outside this range a resolution tag is a placeholder (e.g. 72 dpi), not a microscope calibration. */
const PLAUSIBLE_MPP = { min: 0.01, max: 100 } as const;

const UM_PER_UNIT: Record<string, number> = { centimeter: 1e4, inch: 25400 };

function positiveNumber(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

function plausible(mpp: number): boolean {
  return mpp >= PLAUSIBLE_MPP.min && mpp <= PLAUSIBLE_MPP.max;
}

/**
 * Pixel size from `openslide.mpp-x/-y`, else from `tiff.XResolution/YResolution` with
 * `tiff.ResolutionUnit` (what libvips writes into generic TIFFs), else null.
 */
export function pixelSizeFromProperties(props: Readonly<Record<string, string>>): PixelSize | null {
  const mx = positiveNumber(props['openslide.mpp-x']);
  const my = positiveNumber(props['openslide.mpp-y']);
  if (mx !== null && my !== null && plausible(mx) && plausible(my)) {
    return { x: mx, y: my, source: 'openslide.mpp' };
  }
  const unit = props['tiff.ResolutionUnit'];
  const umPerUnit = unit !== undefined ? UM_PER_UNIT[unit] : undefined;
  const rx = positiveNumber(props['tiff.XResolution']);
  const ry = positiveNumber(props['tiff.YResolution']);
  if (umPerUnit !== undefined && rx !== null && ry !== null) {
    const x = umPerUnit / rx;
    const y = umPerUnit / ry;
    if (plausible(x) && plausible(y)) return { x, y, source: 'tiff.resolution' };
  }
  return null;
}

export function objectivePowerFromProperties(props: Readonly<Record<string, string>>): number | null {
  return positiveNumber(props['openslide.objective-power']);
}

/** The scanned area's rectangle in level-0 pixels, when the format declares one. */
export function boundsFromProperties(props: Readonly<Record<string, string>>): Bounds | null {
  const keys = ['x', 'y', 'width', 'height'] as const;
  const values = keys.map((k) => props[`openslide.bounds-${k}`]);
  if (values.some((v) => v === undefined)) return null;
  const [x, y, width, height] = values.map(Number) as [number, number, number, number];
  if (![x, y, width, height].every(Number.isFinite)) return null;
  return { x, y, width, height };
}

/**
 * Index of the level to read for a wanted downsample: the coarsest level that is not coarser than
 * asked (OpenSlide's rule), so that resampling only ever shrinks.
 */
export function bestLevelForDownsample(downsamples: readonly number[], downsample: number): number {
  let best = 0;
  downsamples.forEach((d, i) => {
    // The tolerance absorbs pyramids whose downsamples are 3.9999 instead of 4.
    if (d <= downsample * (1 + 1e-3) && d > (downsamples[best] ?? 1)) best = i;
  });
  return best;
}
