/**
 * Calibration patches for `h2g models quantize`, read the way a segmentation reads them: our slide
 * reader, tissue mask, patch grid and tissue threshold, so the quantizer sees the activations the
 * pipeline will produce on these slides. Patches are spread evenly over each slide's tissue cells
 * (row-major order, every k-th cell) and over the slides (equal shares; what a small slide cannot
 * give goes to the others), which is deterministic and covers the slide rather than one corner.
 */
import path from 'node:path';
import { chooseLowResLevel, type PatchGrid, planPatchGrid, tissueFractions } from '../pipeline/grid';
import { readLowRes } from '../pipeline/lowres';
import { cpuReaders, readPatchesInto } from '../pipeline/patch-reader';
import { resolveMpp } from '../pipeline/segment';
import { tissueMask } from '../pipeline/tissue';
import { OpenSlide } from '../slide/openslide';
import type { SlideSource } from '../slide/source';
import type { ModelParameters } from '../models/manifest';

export interface SlideInput {
  path: string;
  sha256: string;
}

export interface CalibrationSet {
  /** uint8 RGB patches, [count, patchSize, patchSize, 3] row-major (the model's input x 255). */
  data: Uint8Array;
  count: number;
  perSlide: { file: string; sha256: string; patches: number; tissuePatches: number }[];
}

export interface SamplingOptions {
  mpp?: number;
  tissueThreshold: number;
  onSlide?: (index: number, file: string, taken: number, available: number) => void;
}

/** Cells (row * cols + col) whose tissue share reaches the threshold, as the pipeline selects them. */
async function tissueCells(
  source: SlideSource,
  params: ModelParameters,
  options: SamplingOptions,
): Promise<{ grid: PatchGrid; cells: number[] }> {
  const mpp = resolveMpp(source, options.mpp);
  const lowRes = await readLowRes(source, chooseLowResLevel(source.levels, params.refinementSize));
  const grid = planPatchGrid(source.levels, mpp.x, params.patchMpp, params.patchSize);
  const level0 = source.levels[0]!;
  const fractions = tissueFractions(grid, tissueMask(lowRes), level0.width, level0.height);
  const cells: number[] = [];
  fractions.forEach((f, i) => {
    if (f >= options.tissueThreshold) cells.push(i);
  });
  return { grid, cells };
}

/** Shares of `total` for slides with `available` cells each: equal, capped, the rest passed on. */
export function allocate(total: number, available: readonly number[]): number[] {
  const shares = available.map(() => 0);
  let left = total;
  let open = available.map((_, i) => i).filter((i) => available[i]! > 0);
  while (left > 0 && open.length > 0) {
    const each = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      const take = Math.min(each, available[i]! - shares[i]!, left);
      shares[i]! += take;
      left -= take;
    }
    open = open.filter((i) => shares[i]! < available[i]!);
  }
  return shares;
}

/** `count` of `cells`, evenly spaced. */
export function spread(cells: readonly number[], count: number): number[] {
  return Array.from({ length: count }, (_, i) => cells[Math.floor(((i + 0.5) * cells.length) / count)]!);
}

const BATCH = 16;

export async function sampleCalibrationPatches(
  slides: readonly SlideInput[],
  total: number,
  params: ModelParameters,
  options: SamplingOptions,
): Promise<CalibrationSet> {
  const plans: { grid: PatchGrid; cells: number[] }[] = [];
  for (const slide of slides) {
    const source = await OpenSlide.open(slide.path);
    try {
      plans.push(await tissueCells(source, params, options));
    } finally {
      await source.close();
    }
  }
  const shares = allocate(
    total,
    plans.map((p) => p.cells.length),
  );
  const p = params.patchSize;
  const stride = p * p * 3;
  const count = shares.reduce((a, b) => a + b, 0);
  const data = new Uint8Array(count * stride);
  const floats = new Float32Array(BATCH * stride);
  let written = 0;
  for (const [k, slide] of slides.entries()) {
    const { grid, cells } = plans[k]!;
    const chosen = spread(cells, shares[k]!);
    options.onSlide?.(k, path.basename(slide.path), chosen.length, cells.length);
    const source = await OpenSlide.open(slide.path);
    try {
      for (let i = 0; i < chosen.length; i += BATCH) {
        const batch = chosen.slice(i, i + BATCH);
        const view = floats.subarray(0, batch.length * stride);
        await readPatchesInto(source, grid, batch, view, cpuReaders(grid));
        // Exact for patches read at the grid's level (bytes / 255); resampled patches round to the
        // nearest byte, far below what calibration ranges resolve.
        for (let j = 0; j < view.length; j++) data[written + j] = Math.round(view[j]! * 255);
        written += view.length;
      }
    } finally {
      await source.close();
    }
  }
  return {
    data,
    count,
    perSlide: slides.map((s, k) => ({
      file: path.basename(s.path),
      sha256: s.sha256,
      patches: shares[k]!,
      tissuePatches: plans[k]!.cells.length,
    })),
  };
}
