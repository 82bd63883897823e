/**
 * What one segmentation leaves behind, as files: the GeoJSON, the overlay picture and its thumbnail,
 * the heatmap (.npy), the mask (.png) and `summary.json` (figures and provenance). The same bytes go
 * into the result cache and out to a batch's per-slide folder or `h2g segment`'s files.
 */
import os from 'node:os';
import type { ExecutionProvider, ModelSet } from '../models/model-set';
import { offload } from '../pipeline/offload';
import type { PipelineSettings } from '../pipeline/settings';
import type { SegmentationResult, SegmentSummary } from '../pipeline/types';
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
  /** The settings asked for (flags), including those outside the cache key. */
  settings: PipelineSettings;
}

export function runContext(set: ModelSet, batchSize: number, settings: PipelineSettings): RunContext {
  return {
    settings,
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

export async function encodeArtifacts(
  result: SegmentationResult,
  slide: { width: number; height: number; sha256: string; mpp: { x: number; y: number } },
  key: { key: string; inputs: CacheKeyInputs },
  run: RunContext,
): Promise<{ artifacts: Artifacts; summary: ResultSummary }> {
  const images = await offload.resultImages(result.lowResImage, result.heatmap, result.mask, slide.width, slide.height);
  const buffer = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
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
    geojson: Buffer.from(result.geojsonText),
    overlay: buffer(images.overlay),
    thumbnail: buffer(images.thumbnail),
    heatmap: buffer(images.heatmap),
    mask: buffer(images.mask),
    summary: Buffer.from(`${JSON.stringify(summary, null, 2)}\n`),
  };
  return { artifacts, summary };
}
