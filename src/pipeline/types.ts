/**
 * Public types of the segmentation pipeline: what callers (CLI, gRPC server) pass in and get back.
 * Data flows one way: slide source -> tissue mask -> patch grid -> patch inference -> heatmap ->
 * refinement -> mask -> polygons -> GeoJSON.
 */
import type { FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import type { RgbImage } from '../slide/source';

export type Stage = 'queued' | 'opening' | 'tissue' | 'patches' | 'refinement' | 'polygons' | 'done';

/** Which rules the pipeline follows; the table with their meaning is REFERENCES in options.ts. */
export type ReferenceName = 'fast' | 'fast-exact' | 'h2g';

export interface SegmentOptions {
  /** Rule set: FastPathology's ('fast', the default), FAST's everywhere ('fast-exact'), or ours ('h2g'). */
  reference: ReferenceName;
  /** Level-0 pixel size in um/px; overrides the slide's own. */
  mpp?: number;
  /** Accept a pixel size (given or the slide's) outside MPP_RANGE; off by default. */
  forceMpp?: boolean;
  /** Share of a patch's footprint that must be tissue for it to be inferred (reference: 0.5). */
  tissueThreshold: number;
  /** Patches per inference call. */
  batchSize: number;
  /** Only patches touching this level-0 geometry are inferred; polygons are clipped to it. */
  roi?: Polygon | MultiPolygon;
  /** Mask smoothing radius in um (erode r, dilate 2r, erode r); 0 = none, as the reference. */
  smoothingUm: number;
}

/** Pixel sizes a scan of tissue can have, um/px (200x to 0.2x): outside it, only with `forceMpp`. */
export const MPP_RANGE = { min: 0.05, max: 50 } as const;

export const DEFAULT_OPTIONS: SegmentOptions = {
  reference: 'fast',
  tissueThreshold: 0.5,
  batchSize: 16,
  smoothingUm: 0,
};

export interface ProgressEvent {
  stage: Stage;
  done: number;
  total: number;
  elapsedSeconds: number;
  /** Seconds left for the whole job, or -1 when unknown. */
  etaSeconds: number;
}

/** Scores of patches finished since the last event, for live overlays. */
export interface PatchScoresEvent {
  rows: number;
  cols: number;
  patchSizeLevel0: number;
  cells: number[];
  probabilities: number[];
}

export interface SegmentCallbacks {
  onProgress?: (event: ProgressEvent) => void;
  onPatches?: (event: PatchScoresEvent) => void;
  /** Aborting stops the job within one batch; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

/** Tumour probability per patch: `rows` x `cols`, row-major, 0 where a patch was skipped. */
export interface Heatmap {
  rows: number;
  cols: number;
  /** Side of one patch in level-0 pixels. */
  patchSizeLevel0: number;
  values: Float32Array;
}

/** A binary image: 1 byte per pixel, 0 or 255. */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface SegmentSummary {
  patchesTotal: number;
  patchesInferred: number;
  tumourAreaMm2: number;
  tissueAreaMm2: number;
  tumourShareOfTissue: number;
  polygonCount: number;
  stageSeconds: Record<string, number>;
  totalSeconds: number;
}

export interface SegmentationResult {
  /** The regions (parsed from `geojsonText` when first read). */
  geojson: FeatureCollection;
  /** The same FeatureCollection as JSON text, as it is written and sent. */
  geojsonText: string;
  summary: SegmentSummary;
  heatmap: Heatmap;
  /** The refinement network's tumour mask (refinement size, e.g. 1024 x 1024), stretched over the slide. */
  mask: BinaryMask;
  /** The low-resolution image the refinement saw, at its native size (for overlays). */
  lowResImage: RgbImage;
  /** Tissue mask at the low-resolution level. */
  tissueMask: BinaryMask;
}
