"""What the refinement U-Net sees, exactly as the pipeline feeds it under the slide's rules
(rules.ts makeRefinementImage, makeRefinementHeatmap): 'h2g' (refine.ts `refinementInputs`): the
low-resolution image and the heatmap stretched to the network's square input bilinearly, the image divided by 255; 'fast'
(fast-rules.ts `fastRefinementInputs`): the image normalised by its own minimum and maximum over all
pixels and channels, then it and the heatmap resized by FAST's resizer (blurred when shrinking).
pytest runs the pipeline's own functions and fails when these differ from them."""

from __future__ import annotations

import numpy as np

from . import fast_resize
from .augment import augment_refinement
from .geometry import rasterise
from .slides import resize_bilinear

F = np.float32


def normalise_image(stretched: np.ndarray) -> np.ndarray:
    """float32 (S, S, 3) with values 0..255 -> the network's image input under the h2g rules: / 255."""
    return stretched / np.float32(255.0)


def fast_normalise(image: np.ndarray) -> np.ndarray:
    """(I - min) / (max - min) over all pixels and channels in float32 (FAST's IntensityNormalization);
    all zeros when the image is flat, as the pipeline."""
    lo, hi = image.min(), image.max()
    if hi <= lo:
        return np.zeros(image.shape, F)
    return ((image.astype(F) - F(lo)) / F(hi - lo)).astype(F)


def stretch_image(lowres: np.ndarray, size: int) -> np.ndarray:
    """uint8 (h, w, 3) -> float32 (size, size, 3), values 0..255, not yet normalised (h2g rules)."""
    return resize_bilinear(lowres, size, size)


def stretch_heatmap(heatmap: np.ndarray, size: int) -> np.ndarray:
    """float32 (rows, cols) tumour probabilities -> (size, size) (h2g rules)."""
    return resize_bilinear(heatmap.astype(np.float32)[..., None], size, size)[..., 0]


def refinement_inputs(steps: str, lowres: np.ndarray, heatmap: np.ndarray, size: int):
    """(float32 (size, size, 3) image, float32 (size, size) heatmap) as the pipeline builds them under
    `steps` ('fast' or 'h2g', a SlidePlan's)."""
    if steps == "h2g":
        return normalise_image(stretch_image(lowres, size)), stretch_heatmap(heatmap, size)
    image = fast_resize.resize_floats(fast_normalise(lowres), size, size)
    heat = fast_resize.resize_floats(heatmap.astype(F)[..., None], size, size)[..., 0]
    return image, heat


def augmented_inputs(steps: str, lowres, heatmap, target, size: int, rng: np.random.Generator):
    """The refinement inputs of one augmented draw. The augmentations work on 0..255 pixels: under the
    h2g rules before the division by 255 (as before); under FAST's the pipeline's inputs are scaled
    back to 0..255, augmented and min-max normalised again, as FAST would normalise a slide that
    looked like the augmented one (the resize is linear, so normalising after it differs from
    normalising before it only by the blur's effect on the extremes)."""
    if steps == "h2g":
        image, heat, target = augment_refinement(
            stretch_image(lowres, size), stretch_heatmap(heatmap, size), target, rng
        )
        return normalise_image(image), heat, target
    image, heat = refinement_inputs(steps, lowres, heatmap, size)
    image, heat, target = augment_refinement(image * F(255), heat, target, rng)
    return fast_normalise(image), heat, target


def target_mask(polygons, width: int, height: int, size: int) -> np.ndarray:
    """uint8 (size, size): the tumour annotation on the refinement grid over the slide's level 0."""
    return rasterise(polygons, size, size, width / size, height / size).astype(np.uint8)
