/**
 * The pipeline's CPU thread (see offload.ts): the per-slide steps that loop over whole images or
 * large geometries run here, with the same functions the pipeline module each step names defines.
 */
import type { MultiPolygon, Polygon } from 'geojson';
import type { RgbImage } from '../slide/source';
import { Moved, buffersOf, serveCalls } from '../workers/rpc';
import { type PatchGrid, tissueFractions } from './grid';
import { dilate, erode } from './morphology';
import { type PolygonRings, clipToRoi, maskToPolygons } from './polygons';
import { cellsTouchingRoi } from './roi';
import { tissueMask } from './tissue';
import type { BinaryMask } from './types';

const moved = (mask: BinaryMask): Moved<BinaryMask> => new Moved(mask, buffersOf([mask.data]));

export const offloadHandlers = {
  tissueMask: (image: RgbImage) => moved(tissueMask(image)),
  tissueFractions: (grid: PatchGrid, mask: BinaryMask, w: number, h: number) => {
    const f = tissueFractions(grid, mask, w, h);
    return new Moved(f, buffersOf([f]));
  },
  cellsTouchingRoi: (grid: PatchGrid, roi: Polygon | MultiPolygon) => {
    const cells = cellsTouchingRoi(grid, roi);
    return new Moved(cells, buffersOf([cells]));
  },
  /** Erode r, dilate 2r, erode r (the authors' QuPath import script), r in mask pixels. */
  smooth: (mask: BinaryMask, radiusPx: number) =>
    moved(radiusPx < 1 ? mask : erode(dilate(erode(mask, radiusPx), 2 * radiusPx), radiusPx)),
  polygons: (mask: BinaryMask, w: number, h: number, roi: Polygon | MultiPolygon | undefined): PolygonRings[] => {
    const polygons = maskToPolygons(mask, w, h);
    return roi ? clipToRoi(polygons, roi) : polygons;
  },
};
export type OffloadHandlers = typeof offloadHandlers;

serveCalls(offloadHandlers);
