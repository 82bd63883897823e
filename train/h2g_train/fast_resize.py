"""FAST 4.18's ImageResizer as the pipeline reproduces it (src/pipeline/fast-resize.ts): when an axis
shrinks by d > 1, a Gaussian blur of sigma (d - 1) / 2 first (an axis that does not shrink while the
other does gets three equal taps), then pocl's bilinear sample at normalised pixel centres, all in
float32 in the pipeline's order of operations, so the trainer's pixels equal the pipeline's. Written
by hand (vectorised over the image) because no library reproduces pocl's float32 arithmetic; the
pipeline's file explains each quirk."""

from __future__ import annotations

import math

import numpy as np

F = np.float32


def downsampling_mask(dx: float, dy: float) -> np.ndarray | None:
    """(ny, nx) float32 weights of FAST's blur before shrinking by (dx, dy); None when neither shrinks."""
    if not (dx > 1 or dy > 1):
        return None

    def axis(d):
        s = (d - 1) / 2
        n = min(19, math.ceil(2 * s) * 2 + 1) if d > 1 else 3
        return n, (lambda i: (i * i) / (2 * s * s) if d > 1 and i != 0 else 0.0)

    (nx, tx), (ny, ty) = axis(dx), axis(dy)
    hx, hy = (nx - 1) // 2, (ny - 1) // 2
    weights = np.zeros((ny, nx), F)
    total = F(0)
    for x in range(-hx, hx + 1):  # the pipeline's order: x outer, y inner
        for y in range(-hy, hy + 1):
            w = F(math.exp(-(tx(x) + ty(y))))
            weights[y + hy, x + hx] = w
            total = F(total + w)
    return (weights / total).astype(F)


def _taps(out_size: int, in_size: int):
    """pocl's linear filter on one axis: (i0, i1, a, 1 - a) per output pixel."""
    u = ((np.arange(out_size, dtype=F) + F(0.5)) / F(out_size)) * F(in_size)
    r0 = np.floor(u - F(0.5))
    a = ((u - F(0.5)) - r0).astype(F)
    r0 = r0.astype(np.int64)
    return np.clip(r0, 0, in_size - 1), np.clip(r0 + 1, 0, in_size - 1), a, (F(1) - a).astype(F)


def _sample(image: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """(h, w, C) float32 -> (out_h, out_w, C): ((1-a)(1-b) T00 + a(1-b) T10 + (1-a)b T01 + ab T11)."""
    h, w = image.shape[:2]
    x0, x1, ax, bx = _taps(out_w, w)
    y0, y1, ay, by = _taps(out_h, h)
    ax, bx = ax[None, :, None], bx[None, :, None]
    ay, by = ay[:, None, None], by[:, None, None]
    rows0, rows1 = image[y0], image[y1]
    s = (bx * by) * rows0[:, x0]
    s = s + (ax * by) * rows0[:, x1]
    s = s + (bx * ay) * rows1[:, x0]
    return (s + (ax * ay) * rows1[:, x1]).astype(F)


def _blur_2d(src: np.ndarray, mask: np.ndarray, float_kernel: bool) -> np.ndarray:
    """GaussianSmoothing's float32 sum at every pixel (clamp-to-edge), x outer, y inner, as the pipeline
    (which blurs only the pixels its sampler reads: the others are never read). Its float kernel reads
    mask row dy + half-width-x: rows that do not exist count as 0."""
    h, w = src.shape[:2]
    ny, nx = mask.shape
    hx, hy = (nx - 1) // 2, (ny - 1) // 2
    shift = hx if float_kernel else hy
    # Clamp-to-edge as an edge-padded copy, each tap a view of it (a gather per tap costs far more).
    padded = np.pad(src.astype(F), ((hy, hy), (hx, hx), (0, 0)), mode="edge")
    total = np.zeros(src.shape, F)
    for dx in range(-hx, hx + 1):
        for dy in range(-hy, hy + 1):
            row = dy + shift
            if 0 <= row < ny:
                total += mask[row, dx + hx] * padded[dy + hy : dy + hy + h, dx + hx : dx + hx + w]
    return total


def resize_bytes(src: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """uint8 (h, w, C) -> uint8 (out_h, out_w, C): blurred pixels rounded half to even, samples truncated."""
    h, w = src.shape[:2]
    mask = downsampling_mask(w / out_w, h / out_h)
    image = src.astype(F)
    if mask is not None:
        image = np.clip(np.rint(_blur_2d(image, mask, False)), 0, 255)
    return np.minimum(np.trunc(_sample(image, out_w, out_h)), 255).astype(np.uint8)


def _blur_separable(src: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The pipeline's float64 separable form of the blur (within ~1e-7 of FAST's float32 2D sum)."""
    ny, nx = mask.shape
    hx, hy = (nx - 1) // 2, (ny - 1) // 2
    row, col = mask[hy, :].astype(np.float64), mask[:, hx].astype(np.float64)
    rs = cs = 0.0
    for v in row:
        rs += v
    for v in col:
        cs += v
    h, w = src.shape[:2]
    data = src.astype(np.float64)
    tmp = np.zeros_like(data)
    for k in range(-hx, hx + 1):
        tmp += row[k + hx] * data[:, np.clip(np.arange(w) + k, 0, w - 1)]
    tmp = tmp / rs
    out = np.zeros_like(data)
    for k in range(-hy, hy + 1):
        out += col[k + hy] * tmp[np.clip(np.arange(h) + k, 0, h - 1)]
    return (out / cs).astype(F)


def resize_floats(src: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """float32 (h, w, C) -> float32 (out_h, out_w, C), as fastResizeFloats."""
    h, w = src.shape[:2]
    image = src.astype(F)
    mask = downsampling_mask(w / out_w, h / out_h)
    if mask is not None and mask.shape[0] == mask.shape[1]:
        image = _blur_separable(image, mask)
    elif mask is not None:
        image = _blur_2d(image, mask, True)
    return _sample(image, out_w, out_h)
