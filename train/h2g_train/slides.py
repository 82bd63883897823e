"""Slide reading with the rules of the h2g pipeline (src/pipeline: grid.ts, lowres.ts, patch-reader.ts,
tissue.ts, resize.ts), so that the networks are trained on pixels read exactly as inference reads them:
the 10x patch level (a level within 1% of the wanted downsample, else the nearest finer level sampled
bilinearly at pixel centres), white past the slide's edges, the low-resolution level (the coarsest with a
side >= the refinement size, box-averaged when over 4096 px) and the tissue rule. FastPathology's rules
(rules.py) choose other levels and resample otherwise, on the readers here."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import openslide
from scipy import ndimage

SAME_SCALE_TOLERANCE = 0.01
LOWRES_MAX_SIDE = 4096
TISSUE_DISTANCE_FROM_WHITE = 85
TISSUE_CLOSING_RADIUS = 4
PLAUSIBLE_MPP = (0.01, 100.0)
UM_PER_UNIT = {"centimeter": 1e4, "inch": 25400.0}


class SlideReadError(ValueError):
    pass


@dataclass(frozen=True)
class Level:
    width: int
    height: int
    downsample: float


def pixel_size(props) -> float | None:
    """Level-0 um/px: openslide.mpp-x/-y, else the TIFF resolution tags (what libvips writes), as
    src/slide/metadata.ts decides; the mean of x and y."""

    def num(key):
        try:
            v = float(props.get(key, ""))
        except ValueError:
            return None
        return v if math.isfinite(v) and v > 0 else None

    ok = lambda v: v is not None and PLAUSIBLE_MPP[0] <= v <= PLAUSIBLE_MPP[1]  # noqa: E731
    mx, my = num("openslide.mpp-x"), num("openslide.mpp-y")
    if ok(mx) and ok(my):
        return (mx + my) / 2
    per_unit = UM_PER_UNIT.get(props.get("tiff.ResolutionUnit", ""))
    rx, ry = num("tiff.XResolution"), num("tiff.YResolution")
    if per_unit and rx and ry and ok(per_unit / rx) and ok(per_unit / ry):
        return (per_unit / rx + per_unit / ry) / 2
    return None


def to_rgb(region) -> np.ndarray:
    """openslide-python's RGBA (already un-premultiplied) -> RGB, white where fully transparent
    (outside the scanned area), as the pipeline's native conversion (src/native/pixel_convert.h)."""
    a = np.asarray(region, dtype=np.uint8)
    rgb = a[..., :3].copy()
    rgb[a[..., 3] == 0] = 255
    return rgb


def axis_weights(dst: int, src: int, scale: float, origin=0.0, lo_clamp=0.0, hi_clamp=None):
    """Bilinear sample positions at pixel centres with clamp-to-edge (resize.ts / patch-reader.ts)."""
    hi_clamp = src - 1 if hi_clamp is None else hi_clamp
    f = np.clip(origin + (np.arange(dst) + 0.5) * scale - 0.5, lo_clamp, hi_clamp)
    lo = np.floor(f).astype(np.int64)
    return lo, np.minimum(lo + 1, src - 1), (f - lo)


def resize_bilinear(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """float32 (height, width, C), as src/pipeline/resize.ts (x weights in float32, as there)."""
    h, w = img.shape[:2]
    x0, x1, wx = axis_weights(width, w, w / width)
    y0, y1, wy = axis_weights(height, h, h / height)
    wx = wx.astype(np.float32)[None, :, None]
    src = img.astype(np.float32)
    top = src[y0][:, x0] + (src[y0][:, x1] - src[y0][:, x0]) * wx
    bottom = src[y1][:, x0] + (src[y1][:, x1] - src[y1][:, x0]) * wx
    return (top + (bottom - top) * wy.astype(np.float64)[:, None, None]).astype(np.float32)


def tissue_mask(rgb: np.ndarray) -> np.ndarray:
    """Not all-zero and RGB distance from white > 85, then a closing with a radius-4 disk that neither
    grows nor erodes at the image border (tissue.ts, morphology.ts)."""
    d = 255.0 - rgb.astype(np.float32)
    mask = ((d * d).sum(axis=2) > TISSUE_DISTANCE_FROM_WHITE**2) & rgb.any(axis=2)
    r = TISSUE_CLOSING_RADIUS
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = xx * xx + yy * yy <= r * r
    # Pixels outside the image are ignored: pad with what makes each step a no-op there.
    grown = ndimage.binary_dilation(np.pad(mask, r, constant_values=False), disk)
    return ndimage.binary_erosion(np.pad(grown[r:-r, r:-r], r, constant_values=True), disk)[r:-r, r:-r]


def _white_beyond(patch: np.ndarray, valid_w: float, valid_h: float) -> np.ndarray:
    """Pixels from column valid_w / row valid_h on (the slide's edge at the patch magnification) white."""
    size = patch.shape[0]
    patch[:, int(np.clip(math.floor(valid_w), 0, size)) :] = 255
    patch[int(np.clip(math.floor(valid_h), 0, size)) :, :] = 255
    return patch


class Slide:
    """One open slide file. Keeps only the OpenSlide handle (and its tile cache)."""

    def __init__(self, path: str, mpp: float | None = None):
        try:
            self.osr = openslide.OpenSlide(path)
        except (openslide.OpenSlideError, openslide.OpenSlideUnsupportedFormatError) as err:
            raise SlideReadError(f"OpenSlide cannot read {path}: {err}") from None
        self.path = path
        self.levels = [
            Level(w, h, float(d)) for (w, h), d in zip(self.osr.level_dimensions, self.osr.level_downsamples)
        ]
        # A pixel size given by the caller overrides the slide's, and its objective power with it (rules.ts).
        self.mpp_given = mpp is not None
        self.mpp = mpp if mpp is not None else pixel_size(self.osr.properties)
        if self.mpp is None:
            raise SlideReadError(f"{path} has no pixel size; give it in the dataset file ('mpp')")

    def close(self):
        self.osr.close()

    @property
    def objective_power(self) -> float | None:
        """openslide.objective-power when a positive number (src/slide/metadata.ts)."""
        try:
            v = float(self.osr.properties.get("openslide.objective-power", "").strip() or "nan")
        except ValueError:
            return None
        return v if math.isfinite(v) and v > 0 else None

    @property
    def size(self) -> tuple[int, int]:
        return self.levels[0].width, self.levels[0].height

    # --- the patch magnification ------------------------------------------------------------------
    def patch_plan(self, patch_mpp: float):
        """(read level, level-0 px per patch px, exact): grid.ts planPatchGrid's level choice."""
        wanted = patch_mpp / self.mpp
        read = 0
        for i, lv in enumerate(self.levels):
            if lv.downsample <= wanted * (1 + SAME_SCALE_TOLERANCE) and lv.downsample > self.levels[read].downsample:
                read = i
        exact = abs(self.levels[read].downsample - wanted) <= wanted * SAME_SCALE_TOLERANCE
        return read, (self.levels[read].downsample if exact else wanted), exact

    def read_patch(self, x0: float, y0: float, size: int, patch_mpp: float) -> np.ndarray:
        """float32 (size, size, 3), values 0..255, at the patch magnification whose top-left is level-0
        (x0, y0): the pipeline's patch before its division by 255 (resampled values are not rounded,
        as there); pixels past the slide are white, as the pipeline pads them."""
        level, scale, exact = self.patch_plan(patch_mpp)
        if exact:
            return self.read_level_patch(level, x0, y0, size)
        lv = self.levels[level]
        f = scale / lv.downsample
        ou, ov = x0 / lv.downsample, y0 / lv.downsample
        u0 = max(0, math.floor(ou + 0.5 * f - 0.5))
        v0 = max(0, math.floor(ov + 0.5 * f - 0.5))
        w = math.ceil(ou + (size - 0.5) * f - 0.5) + 2 - u0
        h = math.ceil(ov + (size - 0.5) * f - 0.5) + 2 - v0
        region = to_rgb(self.osr.read_region((round(u0 * lv.downsample), round(v0 * lv.downsample)), level, (w, h)))
        xa, xb, wx = axis_weights(size, w, f, ou - u0, 0, min(w, lv.width - u0) - 1)
        ya, yb, wy = axis_weights(size, h, f, ov - v0, 0, min(h, lv.height - v0) - 1)
        src = region.astype(np.float64)
        wx = wx[None, :, None]
        top = src[ya][:, xa] + (src[ya][:, xb] - src[ya][:, xa]) * wx
        bottom = src[yb][:, xa] + (src[yb][:, xb] - src[yb][:, xa]) * wx
        out = (top + (bottom - top) * wy[:, None, None]).astype(np.float32)
        # The slide's extent at the patch magnification (grid.ts): pixels beyond it are white.
        w10 = max(1, round(self.levels[0].width / scale))
        h10 = max(1, round(self.levels[0].height / scale))
        return _white_beyond(out, w10 - x0 / scale, h10 - y0 / scale)

    def read_level_patch(self, level: int, x0: float, y0: float, size: int) -> np.ndarray:
        """float32 (size, size, 3), 0..255: `level` read as it is from level-0 (x0, y0), white past the
        level's edge (the pipeline pads the same)."""
        lv = self.levels[level]
        out = to_rgb(self.osr.read_region((round(x0), round(y0)), level, (size, size))).astype(np.float32)
        return _white_beyond(out, lv.width - round(x0 / lv.downsample), lv.height - round(y0 / lv.downsample))

    def read_region(self, level: int, u: int, v: int, w: int, h: int) -> np.ndarray:
        """uint8 (h, w, 3) from level pixel (u, v); white past the slide."""
        lv = self.levels[level]
        return to_rgb(self.osr.read_region((round(u * lv.downsample), round(v * lv.downsample)), level, (w, h)))

    # --- the low-resolution level -------------------------------------------------------------------
    def lowres_level(self, min_side: int) -> int:
        chosen = 0
        for i, lv in enumerate(self.levels):
            if max(lv.width, lv.height) >= min_side and lv.downsample > self.levels[chosen].downsample:
                chosen = i
        return chosen

    def read_lowres(self, min_side: int) -> np.ndarray:
        return self.read_lowres_level(self.lowres_level(min_side))

    def read_lowres_level(self, level: int) -> np.ndarray:
        """uint8 (h, w, 3) of lowres.ts: the level in one read, box-averaged by an integer factor (means
        rounded half up, as Math.round) when its longer side exceeds 4096 px."""
        lv = self.levels[level]
        factor = max(1, math.ceil(max(lv.width, lv.height) / LOWRES_MAX_SIDE))
        if factor == 1:
            return to_rgb(self.osr.read_region((0, 0), level, (lv.width, lv.height)))
        w, h = math.ceil(lv.width / factor), math.ceil(lv.height / factor)
        sums = np.zeros((h, w, 3), np.float64)
        counts = np.zeros((h, w, 1), np.float64)
        rows_per_strip = max(factor, (512 // factor) * factor)
        for y0 in range(0, lv.height, rows_per_strip):
            rows = min(rows_per_strip, lv.height - y0)
            strip = to_rgb(self.osr.read_region((0, round(y0 * lv.downsample)), level, (lv.width, rows)))
            bh = math.ceil(rows / factor)
            block = np.zeros((bh * factor, w * factor, 4), np.float64)
            block[:rows, : lv.width, :3] = strip
            block[:rows, : lv.width, 3] = 1.0
            summed = block.reshape(bh, factor, w, factor, 4).sum(axis=(1, 3))
            o = y0 // factor
            sums[o : o + bh] += summed[..., :3]
            counts[o : o + bh] += summed[..., 3:]
        return np.floor(sums / np.maximum(counts, 1) + 0.5).astype(np.uint8)
