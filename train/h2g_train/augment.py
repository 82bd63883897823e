"""Augmentations of H2GNET.md ("Training"), drawn from the sample's own RNG so a run is reproducible.

Patch classifier (the authors' flip, rotate_ll, hsv 20, mult [0.8, 1.2]): a random flip, a random
multiple of 90 degrees, hue and saturation shifted by whole steps in +-20 (OpenCV's 8-bit HSV, hue in
0..179, so +-40 degrees; applied in PIL's 8-bit HSV), value multiplied by [0.8, 1.2]. Refinement
(flip, rotate_ll, stain, mult): the same geometry on image, heatmap and target, a stain jitter, the
brightness factor. The authors'
stain step is staintools' Macenko augmentor (not packaged for Debian); ours perturbs the haematoxylin,
eosin and DAB optical densities of Ruifrok & Johnston's colour deconvolution (Tellez et al. 2018's
"HED jitter"), written in numpy because neither staintools nor scikit-image is installed here."""

from __future__ import annotations

import numpy as np
from PIL import Image

HSV_SHIFT = 20
BRIGHTNESS = (0.8, 1.2)
STAIN_SIGMA = 0.05
# Ruifrok & Johnston's stain vectors (rows: haematoxylin, eosin, DAB), as scikit-image's rgb2hed uses.
RGB_FROM_HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
RGB_FROM_HED = RGB_FROM_HED / np.linalg.norm(RGB_FROM_HED, axis=1, keepdims=True)
HED_FROM_RGB = np.linalg.inv(RGB_FROM_HED)


def flip_rotate(arrays: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The same random flip and quarter turn for every (H, W, ...) array."""
    flip = int(rng.integers(3))  # 0: none, 1: vertical, 2: horizontal
    k = int(rng.integers(4))
    out = []
    for a in arrays:
        if flip:
            a = np.flip(a, axis=flip - 1)
        out.append(np.rot90(a, k, axes=(0, 1)))
    return out


def hsv_and_brightness(rgb: np.ndarray, rng: np.random.Generator, hsv_shift=HSV_SHIFT, brightness=BRIGHTNESS):
    """uint8 RGB -> uint8 RGB through PIL's 8-bit HSV (hue 0..255 for 360 degrees): hue shifted by
    round(U(-s, s)) OpenCV steps of 2 degrees, saturation by round(U(-s, s)), value times U(b0, b1)."""
    hsv = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).convert("HSV")).astype(np.float32)
    if hsv_shift:
        hsv[..., 0] = (hsv[..., 0] + round(rng.uniform(-hsv_shift, hsv_shift)) * 2 * 256 / 360) % 256
        hsv[..., 1] = np.clip(hsv[..., 1] + round(rng.uniform(-hsv_shift, hsv_shift)), 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(*brightness), 0, 255)
    return np.asarray(Image.fromarray(np.rint(hsv).astype(np.uint8), "HSV").convert("RGB"))


def stain_jitter(rgb: np.ndarray, rng: np.random.Generator, sigma=STAIN_SIGMA) -> np.ndarray:
    """float RGB 0..255: each stain's optical density scaled by U(1-s, 1+s) and shifted by U(-s, s)."""
    od = -np.log(np.maximum(rgb, 1.0, dtype=np.float32) / np.float32(255.0))
    hed = od @ HED_FROM_RGB.astype(np.float32)
    hed = hed * rng.uniform(1 - sigma, 1 + sigma, 3).astype(np.float32) + rng.uniform(-sigma, sigma, 3).astype(
        np.float32
    )
    return np.clip(np.float32(255.0) * np.exp(-(hed @ RGB_FROM_HED.astype(np.float32))), 0, 255)


def augment_patch(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8 (H, W, 3)."""
    (patch,) = flip_rotate([patch], rng)
    return hsv_and_brightness(patch, rng)


def augment_refinement(image, heatmap, target, rng: np.random.Generator):
    """image float (H, W, 3) in 0..255 before normalisation, heatmap (H, W), target (H, W)."""
    image, heatmap, target = flip_rotate([image, heatmap, target], rng)
    image = stain_jitter(image, rng)
    image = np.clip(image * rng.uniform(*BRIGHTNESS), 0, 255)
    return image.astype(np.float32), np.ascontiguousarray(heatmap), np.ascontiguousarray(target)
