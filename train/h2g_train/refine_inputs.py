"""What the refinement U-Net sees, exactly as the h2g pipeline feeds it (src/pipeline/refine.ts,
`refinementInputs`): the low-resolution image and the patch heatmap, each stretched to the network's
square input with the pipeline's bilinear rule, the image then normalised by `normalise_image`.

`normalise_image` is the one place the trainer states the image normalisation; a pytest test runs the
pipeline's own `refinementInputs` and fails when the two differ, so a change there (FAST's min-max
normalisation, H2GNET.md step 5) shows up at once and is made here in one line."""

from __future__ import annotations

import numpy as np

from .geometry import rasterise
from .slides import resize_bilinear


def normalise_image(stretched: np.ndarray) -> np.ndarray:
    """float32 (S, S, 3) with values 0..255 -> the network's image input. The pipeline divides by 255."""
    return stretched / np.float32(255.0)


def stretch_image(lowres: np.ndarray, size: int) -> np.ndarray:
    """uint8 (h, w, 3) -> float32 (size, size, 3), values 0..255, not yet normalised."""
    return resize_bilinear(lowres, size, size)


def stretch_heatmap(heatmap: np.ndarray, size: int) -> np.ndarray:
    """float32 (rows, cols) tumour probabilities -> (size, size)."""
    return resize_bilinear(heatmap.astype(np.float32)[..., None], size, size)[..., 0]


def target_mask(polygons, width: int, height: int, size: int) -> np.ndarray:
    """uint8 (size, size): the tumour annotation on the refinement grid over the slide's level 0."""
    return rasterise(polygons, size, size, width / size, height / size).astype(np.uint8)
