"""The rule set the trainer reads a slide under (`reference`, as `h2g segment --reference`), so the
networks learn from the inputs inference will feed them. src/pipeline/rules.ts decides per slide and
this module follows it step for step:

- 'fast' (FastPathology's rules, fast-rules.ts): the magnification is the objective power (the pixel
  size's when the caller gave one, or when there is none); the low-resolution image (tissue mask,
  refinement image) is FAST's last listed level, unless shorter than half the refinement size; a
  256 px 10x patch is read as it is from a level at exactly 10x, else as int(256 rf) level pixels
  from an integer level position shrunk by FAST's resizer (blur, then bilinear, 8-bit); the
  refinement image is normalised by its own minimum and maximum, then resized by FAST's resizer.
- 'h2g' (this project's rules, grid.ts / refine.ts): slides.py's readers, the refinement image
  stretched bilinearly and divided by 255.

The refinement inputs of each rule set are made in refine_inputs.py.

A slide whose magnification FAST's rules cannot know (no objective power, an unusual pixel size) is
planned by the h2g rules under 'fast' too, as the pipeline does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fast_resize
from .slides import Slide, SlideReadError

# FAST's ImagePyramid::getMagnification table: level-0 um/px range -> objective magnification.
MAGNIFICATION_BY_MPP = ((0.15, 0.35, 40), (0.4, 0.6, 20), (0.75, 1.25, 10), (1.75, 2.25, 5), (7.5, 12.5, 1))
FAST_LOW_RES_MIN_SHARE = 0.5
F = np.float32


class RulesError(SlideReadError):
    """A slide FAST's rules cannot read (as the pipeline refuses it under them)."""


@dataclass(frozen=True)
class SlidePlan:
    steps: str  # whose rules read patches and make the refinement inputs: 'fast' or 'h2g'
    level_count: int  # the levels FAST lists
    read_level: int  # FAST's patch level (unused by the h2g steps, which choose their own)
    rf: float  # FAST's resample factor (1: the level is read as it is)
    read_size: int  # level pixels FAST reads per patch side

    @property
    def resample(self) -> bool:
        return self.rf != 1


def fast_magnification(slide: Slide) -> float | None:
    if slide.objective_power and not slide.mpp_given:
        return slide.objective_power
    for lo, hi, mag in MAGNIFICATION_BY_MPP:
        if slide.mpp > lo and (slide.mpp < hi or (mag == 40 and slide.mpp <= hi)):
            return float(mag)
    return None


def fast_level_count(slide: Slide) -> int:
    """FAST lists every directory of a file named *.tif*, else OpenSlide's levels over 4 MiB (RGBA)."""
    if ".tif" in slide.path.lower():
        return len(slide.levels)
    kept = sum(1 for lv in slide.levels if (lv.width * lv.height * 4) // (1024 * 1024) > 4)
    return max(1, kept)


def plan_slide(slide: Slide, reference: str, patch_mpp: float, patch_size: int) -> SlidePlan:
    """rules.ts planSlide with planFastGrid's level choice (float32 where FAST computes in float32)."""
    magnification = fast_magnification(slide) if reference == "fast" else None
    if magnification is None:
        return SlidePlan("h2g", len(slide.levels), 0, 1.0, patch_size)
    count = fast_level_count(slide)
    patch_mag = F(10 / patch_mpp)
    w0 = slide.levels[0].width

    def mag_of(lv):
        return F(F(magnification) / F(round(F(w0) / F(lv.width))))

    read = -1
    for i in range(count):
        m = mag_of(slide.levels[i])
        if m == patch_mag:
            read = i
            break
        if m > patch_mag:
            read = i
    if read < 0:
        raise RulesError(
            f"{slide.path}: FAST's rules need a level at {float(patch_mag):g}x or finer; level 0 is "
            f"{magnification:g}x (train with --reference h2g)"
        )
    rf = F(mag_of(slide.levels[read]) / patch_mag)
    return SlidePlan("fast", count, read, float(rf), int(F(patch_size) * rf))


def lowres_level(slide: Slide, plan: SlidePlan, refinement_size: int) -> int:
    """FAST's last listed level, unless shorter than half the refinement size (libvips' one-tile level):
    then, as under the h2g rules, the coarsest level with a side of at least the refinement size."""
    last = slide.levels[plan.level_count - 1]
    if plan.steps == "fast" and max(last.width, last.height) >= refinement_size * FAST_LOW_RES_MIN_SHARE:
        return plan.level_count - 1
    return slide.lowres_level(refinement_size)


def read_lowres(slide: Slide, plan: SlidePlan, refinement_size: int) -> np.ndarray:
    """uint8 (h, w, 3): the image the tissue mask and the refinement image come from."""
    return slide.read_lowres_level(lowres_level(slide, plan, refinement_size))


def patch_side(slide: Slide, plan: SlidePlan, size: int, patch_mpp: float) -> float:
    """A patch's side in level-0 pixels."""
    if plan.steps == "h2g":
        return size * slide.patch_plan(patch_mpp)[1]
    return plan.read_size * slide.levels[plan.read_level].downsample


def read_patch(slide: Slide, plan: SlidePlan, x0: float, y0: float, size: int, patch_mpp: float) -> np.ndarray:
    """float32 (size, size, 3), values 0..255, whose top-left is level-0 (x0, y0), as the pipeline reads
    a grid patch there. FAST's rules start a patch at a whole level pixel: the nearest one."""
    if plan.steps == "h2g":
        return slide.read_patch(x0, y0, size, patch_mpp)
    if not plan.resample:
        return slide.read_level_patch(plan.read_level, x0, y0, size)
    ds = slide.levels[plan.read_level].downsample
    region = slide.read_region(plan.read_level, round(x0 / ds), round(y0 / ds), plan.read_size, plan.read_size)
    return fast_resize.resize_bytes(region, size, size).astype(np.float32)
