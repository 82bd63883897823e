/**
 * The pipeline's CPU thread (see offload.ts): the per-slide steps that loop over whole images or
 * large geometries run here, with the same functions the pipeline module each step names defines.
 */
import type { MultiPolygon, Polygon } from 'geojson';
import type { RgbImage } from '../slide/source';
import { Moved, buffersOf, serveCalls } from '../workers/rpc';
import type { PatchGrid } from './grid';
import { dilate, erode } from './morphology';
import { encodeMaskPng } from '../output/png';
import { encodeResultImages } from '../output/result-images';
import { type Provenance, polygonsToFeatureCollection } from './geojson';
import { clipToRoi, maskToPolygons, polygonArea } from './polygons';
import { makeRefinementHeatmap, makeRefinementImage, selectCells, type SlidePlan } from './rules';
import { cellsTouchingRoi } from './roi';
import { maskFraction, tissueMask } from './tissue';
import type { BinaryMask, Heatmap } from './types';

const moved = (mask: BinaryMask): Moved<BinaryMask> => new Moved(mask, buffersOf([mask.data]));

export const offloadHandlers = {
  tissueMask: (image: RgbImage) => moved(tissueMask(image)),
  selectCells: (plan: Pick<SlidePlan, 'steps' | 'grid'>, mask: BinaryMask, threshold: number, w: number, h: number) => {
    const selected = selectCells(plan, mask, threshold, w, h);
    return new Moved(selected, buffersOf([selected]));
  },
  cellsTouchingRoi: (grid: PatchGrid, roi: Polygon | MultiPolygon) => {
    const cells = cellsTouchingRoi(grid, roi);
    return new Moved(cells, buffersOf([cells]));
  },
  /** Erode r, dilate 2r, erode r (the authors' QuPath import script), r in mask pixels. */
  smooth: (mask: BinaryMask, radiusPx: number) =>
    moved(radiusPx < 1 ? mask : erode(dilate(erode(mask, radiusPx), 2 * radiusPx), radiusPx)),
  maskFraction: (mask: BinaryMask) => maskFraction(mask),
  refinementImage: (steps: SlidePlan['steps'], lowRes: RgbImage, size: number) => {
    const image = makeRefinementImage(steps, lowRes, size);
    return new Moved(image, buffersOf([image]));
  },
  refinementHeatmap: (steps: SlidePlan['steps'], heatmap: Heatmap, size: number) => {
    const values = makeRefinementHeatmap(steps, heatmap, size);
    return new Moved(values, buffersOf([values]));
  },
  /**
   * Mask -> polygons (clipped to the ROI) -> GeoJSON text, with the polygons' count and total area
   * in level-0 px^2: the text crosses threads as one string, where ~10^5 nested coordinate arrays
   * would take the main thread long to rebuild.
   */
  vectorize: (mask: BinaryMask, w: number, h: number, roi: Polygon | MultiPolygon | undefined, p: Provenance) => {
    const traced = maskToPolygons(mask, w, h);
    const polygons = roi ? clipToRoi(traced, roi) : traced;
    const text = JSON.stringify(polygonsToFeatureCollection(polygons, p));
    return { text, polygonCount: polygons.length, areaPx: polygons.reduce((sum, q) => sum + polygonArea(q), 0) };
  },
  maskPng: (mask: BinaryMask) => encodeMaskPng(mask),
  resultImages: (lowRes: RgbImage, heatmap: Heatmap, mask: BinaryMask, w: number, h: number) => {
    // Fresh arrays: an encoder's Buffer may be a slice of a shared pool, which must not be moved.
    const encoded = encodeResultImages(lowRes, heatmap, mask, w, h);
    const own = {
      overlay: new Uint8Array(encoded.overlay),
      thumbnail: new Uint8Array(encoded.thumbnail),
      heatmap: new Uint8Array(encoded.heatmap),
      mask: new Uint8Array(encoded.mask),
    };
    return new Moved(own, buffersOf(Object.values(own)));
  },
};
export type OffloadHandlers = typeof offloadHandlers;

serveCalls(offloadHandlers);
