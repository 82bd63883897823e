/**
 * What one segmentation leaves behind, as files: the GeoJSON, the overlay picture and its thumbnail,
 * the heatmap (.npy), the mask (.png) and `summary.json` (figures and provenance). The same bytes go
 * into the result cache and out to a batch's per-slide folder or `h2g segment`'s files.
 */
import os from 'node:os';
import type { ExecutionProvider, ModelSet } from '../models/model-set';
import { encodeNpy } from '../output/npy';
import { renderOverlay } from '../output/overlay';
import { encodeMaskPng, encodeRgbPng } from '../output/png';
import { resizeBilinear } from '../pipeline/resize';
import type { SegmentationResult, SegmentSummary } from '../pipeline/types';
import type { RgbImage } from '../slide/source';
import { VERSION } from '../version';
import type { CacheKeyInputs } from './cache-key';

/** File names inside a cache entry. */
export const ARTIFACT_FILES = {
  geojson: 'result.geojson',
  overlay: 'overlay.png',
  thumbnail: 'thumbnail.png',
  heatmap: 'heatmap.npy',
  mask: 'mask.png',
  summary: 'summary.json',
} as const;
export type ArtifactName = keyof typeof ARTIFACT_FILES;
export type Artifacts = Record<ArtifactName, Buffer>;

/** Longest side of the report's thumbnails. */
export const THUMBNAIL_MAX_SIDE = 320;

/** How a result was computed, beyond what its cache key says. */
export interface RunContext {
  modelSet: string;
  modelDirectory: string;
  demo: boolean;
  patchModelFile: string;
  refinementModelFile: string;
  provider: ExecutionProvider;
  threads: number;
  batchSize: number;
}

export function runContext(set: ModelSet, batchSize: number): RunContext {
  return {
    modelSet: set.name,
    modelDirectory: set.directory,
    demo: set.demo,
    patchModelFile: set.patch.info.file,
    refinementModelFile: set.refinement.info.file,
    provider: set.provider,
    threads: set.threads,
    batchSize,
  };
}

/** `summary.json` of a result: what a table row, a report card and `h2g segment`'s summary need. */
export interface ResultSummary {
  schemaVersion: 1;
  figures: SegmentSummary;
  heatmap: { rows: number; cols: number; patchSizeLevel0: number };
  slide: { sha256: string; width: number; height: number; mpp: { x: number; y: number } };
  provenance: {
    h2gVersion: string;
    cacheKey: string;
    keyInputs: CacheKeyInputs;
    run: RunContext;
    host: string;
    createdAt: string;
    node: string;
  };
}

export function thumbnailOf(image: RgbImage): RgbImage {
  const f = Math.min(1, THUMBNAIL_MAX_SIDE / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * f));
  const height = Math.max(1, Math.round(image.height * f));
  const data = Uint8Array.from(resizeBilinear(image.data, image.width, image.height, 3, width, height), (v) =>
    Math.round(v),
  );
  return { width, height, data };
}

export function encodeArtifacts(
  result: SegmentationResult,
  slide: { width: number; height: number; sha256: string; mpp: { x: number; y: number } },
  key: { key: string; inputs: CacheKeyInputs },
  run: RunContext,
): { artifacts: Artifacts; summary: ResultSummary } {
  const overlay = renderOverlay(result.lowResImage, result.heatmap, result.mask, slide.width, slide.height);
  const summary: ResultSummary = {
    schemaVersion: 1,
    figures: result.summary,
    heatmap: { rows: result.heatmap.rows, cols: result.heatmap.cols, patchSizeLevel0: result.heatmap.patchSizeLevel0 },
    slide: { sha256: slide.sha256, width: slide.width, height: slide.height, mpp: slide.mpp },
    provenance: {
      h2gVersion: VERSION,
      cacheKey: key.key,
      keyInputs: key.inputs,
      run,
      host: os.hostname(),
      createdAt: new Date().toISOString(),
      node: process.version,
    },
  };
  const artifacts: Artifacts = {
    geojson: Buffer.from(JSON.stringify(result.geojson)),
    overlay: encodeRgbPng(overlay),
    thumbnail: encodeRgbPng(thumbnailOf(overlay)),
    heatmap: encodeNpy(result.heatmap.values, [result.heatmap.rows, result.heatmap.cols]),
    mask: encodeMaskPng(result.mask),
    summary: Buffer.from(`${JSON.stringify(summary, null, 2)}\n`),
  };
  return { artifacts, summary };
}
