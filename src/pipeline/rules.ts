/**
 * The rule set of one run (`reference`): which level gives the tissue mask and the refinement image,
 * the patch grid, which patches are inferred, and how the refinement inputs are made. segment.ts asks
 * this module and follows; the rules themselves live in fast-rules.ts (FastPathology's) and grid.ts /
 * refine.ts (this project's 'h2g' rules).
 */
import type { ModelParameters } from '../models/manifest';
import type { RgbImage, SlideSource } from '../slide/source';
import {
  fastLevelCount,
  fastMagnification,
  fastRefinementHeatmap,
  fastRefinementImage,
  fastTissueSelection,
  type Magnification,
  planFastGrid,
} from './fast-rules';
import { chooseLowResLevel, type PatchGrid, planPatchGrid, tissueFractions } from './grid';
import { refinementHeatmap, refinementImage } from './refine';
import type { BinaryMask, Heatmap, ReferenceName } from './types';

export interface SlidePlan {
  reference: ReferenceName;
  lowResLevel: number;
  /** Why that level: FAST's last level, or the coarsest level of at least the refinement size. */
  lowResRule: 'fast-last-level' | 'coarsest-at-least-refinement-size';
  grid: PatchGrid;
  /** The magnification FAST's rules used (null for 'h2g', or when none could be known). */
  magnification: Magnification | null;
  /**
   * Whose rules select patches and make the refinement inputs. Plain data, not functions: both steps
   * run on the CPU thread (offload.ts), which gets the plan as a copy.
   */
  steps: 'fast' | 'h2g';
}

/** 1 for each grid cell (row-major) with enough tissue to infer, by the plan's rules. */
export function selectCells(
  plan: Pick<SlidePlan, 'steps' | 'grid'>,
  tissue: BinaryMask,
  threshold: number,
  level0Width: number,
  level0Height: number,
): Uint8Array {
  if (plan.steps === 'fast') return fastTissueSelection(plan.grid, tissue, threshold);
  const shares = tissueFractions(plan.grid, tissue, level0Width, level0Height);
  return Uint8Array.from(shares, (share) => (share >= threshold ? 1 : 0));
}

/**
 * The refinement network's two inputs, by the plan's rules, one at a time: the image is made while
 * the patches infer, so only the heatmap's resize lies between the last patch and the refinement.
 */
export function makeRefinementImage(steps: SlidePlan['steps'], lowRes: RgbImage, size: number): Float32Array {
  return steps === 'fast' ? fastRefinementImage(lowRes, size) : refinementImage(lowRes, size);
}

export function makeRefinementHeatmap(steps: SlidePlan['steps'], heatmap: Heatmap, size: number): Float32Array {
  return steps === 'fast' ? fastRefinementHeatmap(heatmap, size) : refinementHeatmap(heatmap, size);
}

/** A last level shorter than this share of the refinement size is an artefact (libvips' one tile). */
const FAST_LOW_RES_MIN_SHARE = 0.5;

function h2gPlan(source: SlideSource, mppX: number, params: ModelParameters, reference: ReferenceName): SlidePlan {
  return {
    reference,
    lowResLevel: chooseLowResLevel(source.levels, params.refinementSize),
    lowResRule: 'coarsest-at-least-refinement-size',
    grid: planPatchGrid(source.levels, mppX, params.patchMpp, params.patchSize),
    magnification: null,
    steps: 'h2g',
  };
}

/** `mppGiven`: the caller's pixel size overrides the slide's, so its objective power is not trusted either. */
export function planSlide(
  source: SlideSource,
  mppX: number,
  params: ModelParameters,
  reference: ReferenceName,
  mppGiven = false,
): SlidePlan {
  const magnification = reference === 'h2g' ? null : fastMagnification(source, mppX, mppGiven);
  // No magnification FAST could know (an unusual pixel size and no objective power): its rules
  // cannot place the grid, so this project's pixel-size rules do (recorded in the metadata).
  if (!magnification) return h2gPlan(source, mppX, params, reference);
  const count = fastLevelCount(source);
  const last = count - 1;
  const lastSide = Math.max(source.levels[last]!.width, source.levels[last]!.height);
  const keepFastLevel = reference === 'fast-exact' || lastSide >= params.refinementSize * FAST_LOW_RES_MIN_SHARE;
  const grid = planFastGrid(source.levels, count, magnification.value, 10 / params.patchMpp, params.patchSize);
  return {
    reference,
    lowResLevel: keepFastLevel ? last : chooseLowResLevel(source.levels, params.refinementSize),
    lowResRule: keepFastLevel ? 'fast-last-level' : 'coarsest-at-least-refinement-size',
    grid,
    magnification,
    steps: 'fast',
  };
}
