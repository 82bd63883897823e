/**
 * The pipeline's long CPU steps, run on one CPU thread per process (offload-worker.ts) so the main
 * thread's event loop stays free for health checks, GetInfo, cancels and signals: on a 4096 px
 * low-resolution image the tissue closing takes about a second, tracing a fragmented mask a quarter
 * of a second, clipping polygons to a large ROI seconds, turning them into GeoJSON text a few tenths.
 * Each function here is the pipeline step of the same name (tissue.ts, grid.ts, roi.ts,
 * morphology.ts, refine.ts, polygons.ts + geojson.ts) with its arguments copied to the thread and its
 * result moved back. The thread starts on first use, stays for the process (so the
 * server's JIT-compiled steps stay warm) and never keeps it alive when idle.
 */
import path from 'node:path';
import type { MultiPolygon, Polygon } from 'geojson';
import type { ResultImages } from '../output/result-images';
import type { RgbImage } from '../slide/source';
import { WorkerClient, genericError } from '../workers/rpc';
import type { PatchGrid } from './grid';
import type { OffloadHandlers } from './offload-worker';
import type { Provenance } from './geojson';
import type { SlidePlan } from './rules';
import type { BinaryMask, Heatmap } from './types';

let client: WorkerClient<OffloadHandlers> | null = null;

function thread(): WorkerClient<OffloadHandlers> {
  client ??= new WorkerClient<OffloadHandlers>(path.join(__dirname, 'offload-worker'), 'h2g-cpu', genericError);
  return client;
}

/** Starts the thread ahead of its first step (its start-up then overlaps the slide's first read). */
export function startOffloadThread(): void {
  thread();
}

export const offload = {
  tissueMask: (image: RgbImage): Promise<BinaryMask> => thread().call('tissueMask', [image]),
  selectCells: (
    plan: Pick<SlidePlan, 'steps' | 'grid'>,
    mask: BinaryMask,
    threshold: number,
    w: number,
    h: number,
  ): Promise<Uint8Array> =>
    thread().call('selectCells', [{ steps: plan.steps, grid: plan.grid }, mask, threshold, w, h]),
  cellsTouchingRoi: (grid: PatchGrid, roi: Polygon | MultiPolygon): Promise<Uint8Array> =>
    thread().call('cellsTouchingRoi', [grid, roi]),
  smooth: (mask: BinaryMask, radiusPx: number): Promise<BinaryMask> => thread().call('smooth', [mask, radiusPx]),
  maskFraction: (mask: BinaryMask): Promise<number> => thread().call('maskFraction', [mask]),
  refinementImage: (steps: SlidePlan['steps'], lowRes: RgbImage, size: number): Promise<Float32Array> =>
    thread().call('refinementImage', [steps, lowRes, size]),
  refinementHeatmap: (steps: SlidePlan['steps'], heatmap: Heatmap, size: number): Promise<Float32Array> =>
    thread().call('refinementHeatmap', [steps, heatmap, size]),
  vectorize: (
    mask: BinaryMask,
    w: number,
    h: number,
    roi: Polygon | MultiPolygon | undefined,
    provenance: Provenance,
  ): Promise<{ text: string; polygonCount: number; areaPx: number }> =>
    thread().call('vectorize', [mask, w, h, roi, provenance]),
  /** A stored result's overlay, thumbnail, mask and heatmap files (output/result-images.ts). */
  resultImages: (lowRes: RgbImage, heatmap: Heatmap, mask: BinaryMask, w: number, h: number): Promise<ResultImages> =>
    thread().call('resultImages', [lowRes, heatmap, mask, w, h]),
  /** The mask as an 8-bit PNG (output/png.ts). */
  maskPng: (mask: BinaryMask): Promise<Buffer> => thread().call('maskPng', [mask]),
};
