"""Augmentations of H2GNET.md ("Training"), drawn from the sample's own RNG so a run is reproducible.

Patch classifier (the authors' flip, rotate_ll, hsv 20, mult [0.8, 1.2]): a random flip, a random
multiple of 90 degrees, hue and saturation shifted by whole steps in +-20 (OpenCV's 8-bit HSV, hue in
0..179, so +-40 degrees), value multiplied by [0.8, 1.2]. Refinement (flip, rotate_ll, stain, mult):
the same geometry on image, heatmap and target, a stain jitter, the brightness factor. The authors'
stain step is staintools' Macenko augmentor (not packaged for Debian); ours perturbs the haematoxylin,
eosin and DAB optical densities of Ruifrok & Johnston's colour deconvolution (Tellez et al. 2018's
"HED jitter"), written in numpy because neither staintools nor scikit-image is installed here."""

from __future__ import annotations

import numpy as np

HSV_SHIFT = 20
BRIGHTNESS = (0.8, 1.2)
STAIN_SIGMA = 0.05
# Ruifrok & Johnston's stain vectors (rows: haematoxylin, eosin, DAB), as scikit-image's rgb2hed uses.
RGB_FROM_HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
RGB_FROM_HED = RGB_FROM_HED / np.linalg.norm(RGB_FROM_HED, axis=1, keepdims=True)
HED_FROM_RGB = np.linalg.inv(RGB_FROM_HED)


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """float (..., 3) RGB in 0..255 -> H in 0..180 (OpenCV 8-bit scale), S and V in 0..255."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    c = v - rgb.min(axis=-1)
    s = np.where(v > 0, c / np.maximum(v, 1e-9) * 255.0, 0.0)
    safe = np.maximum(c, 1e-9)
    h = np.where(v == r, (g - b) / safe % 6, np.where(v == g, (b - r) / safe + 2, (r - g) / safe + 4))
    h = np.where(c > 0, h * 30.0, 0.0)  # 60 degrees per sector, halved
    return np.stack([h, s, v], axis=-1)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    h, s, v = hsv[..., 0] / 30.0, hsv[..., 1] / 255.0, hsv[..., 2]
    c = v * s
    x = c * (1 - np.abs(h % 2 - 1))
    m = v - c
    sector = np.floor(h).astype(np.int64) % 6
    zeros = np.zeros_like(c)
    table = [(c, x, zeros), (x, c, zeros), (zeros, c, x), (zeros, x, c), (x, zeros, c), (c, zeros, x)]
    out = np.zeros(hsv.shape, dtype=np.float64)
    for k, (r, g, b) in enumerate(table):
        sel = sector == k
        out[..., 0] = np.where(sel, r, out[..., 0])
        out[..., 1] = np.where(sel, g, out[..., 1])
        out[..., 2] = np.where(sel, b, out[..., 2])
    return out + m[..., None]


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
    hsv = rgb_to_hsv(rgb.astype(np.float64))
    if hsv_shift:
        hsv[..., 0] = (hsv[..., 0] + round(rng.uniform(-hsv_shift, hsv_shift))) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] + round(rng.uniform(-hsv_shift, hsv_shift)), 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(*brightness), 0, 255)
    return hsv_to_rgb(hsv)


def stain_jitter(rgb: np.ndarray, rng: np.random.Generator, sigma=STAIN_SIGMA) -> np.ndarray:
    """float RGB 0..255: each stain's optical density scaled by U(1-s, 1+s) and shifted by U(-s, s)."""
    od = -np.log(np.maximum(rgb, 1.0) / 255.0)
    hed = od @ HED_FROM_RGB
    hed = hed * rng.uniform(1 - sigma, 1 + sigma, 3) + rng.uniform(-sigma, sigma, 3)
    return np.clip(255.0 * np.exp(-(hed @ RGB_FROM_HED)), 0, 255)


def augment_patch(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8 (H, W, 3)."""
    (patch,) = flip_rotate([patch], rng)
    return np.rint(hsv_and_brightness(patch, rng)).astype(np.uint8)


def augment_refinement(image, heatmap, target, rng: np.random.Generator):
    """image float (H, W, 3) in 0..255 before normalisation, heatmap (H, W), target (H, W)."""
    image, heatmap, target = flip_rotate([image, heatmap, target], rng)
    image = stain_jitter(image, rng)
    image = np.clip(image * rng.uniform(*BRIGHTNESS), 0, 255)
    return image.astype(np.float32), np.ascontiguousarray(heatmap), np.ascontiguousarray(target)
