"""Independent, straightforward NumPy implementation of the reference (FastPathology) rules of
H2G-Net inference, used by the tests as ground truth for the TypeScript pipeline.

It shares no code with the pipeline: OpenSlide's Python binding reads pixels, scipy does the
morphology, NumPy does the resampling. With the `oracle` test models (scripts/make_test_models.py),
whose outputs are known closed-form functions of the pixels, it also computes the heatmap and the mask
end to end without running any network.

Usage: h2g_reference.py SLIDE OUTDIR [--mpp X] [--tissue-threshold T] [--cells r,c;r,c...]
Writes OUTDIR/{tissue.npy (uint8 0/255), fractions.npy, oracle_heatmap.npy, oracle_mask.npy,
lowres_1024.npy (float32 image input), patch_<r>_<c>.npy (float32 256x256x3)} and OUTDIR/grid.json.
"""
import argparse
import json
import math
import os

import numpy as np
import openslide
from scipy import ndimage

PATCH_MPP, PATCH_SIZE, REFINE_SIZE = 1.0, 256, 1024
ORACLE_K, ORACLE_T = 20.0, 0.25


def read_rgb(slide, level, x, y, w, h):
    rgba = np.asarray(slide.read_region((x, y), level, (w, h)), dtype=np.uint8)
    rgb = rgba[..., :3].copy()
    rgb[rgba[..., 3] == 0] = 255
    return rgb


def disk(r):
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return xx * xx + yy * yy <= r * r


def tissue_mask(rgb):
    d2 = ((255 - rgb.astype(np.int32)) ** 2).sum(axis=2)
    raw = (d2 > 85 * 85) & (rgb.sum(axis=2) > 0)
    dil = ndimage.binary_dilation(raw, structure=disk(4), border_value=0)
    return ndimage.binary_erosion(dil, structure=disk(4), border_value=1)


def bilinear(img, out_h, out_w):
    """Pixel-centre bilinear resampling with clamp-to-edge; img is H x W x C float."""
    h, w = img.shape[:2]
    fy = np.clip((np.arange(out_h) + 0.5) * (h / out_h) - 0.5, 0, h - 1)
    fx = np.clip((np.arange(out_w) + 0.5) * (w / out_w) - 0.5, 0, w - 1)
    return sample(img, fy, fx)


def sample(img, fy, fx):
    h, w = img.shape[:2]
    y0 = np.floor(fy).astype(int)
    x0 = np.floor(fx).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    wy = (fy - y0)[:, None, None]
    wx = (fx - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def save(out, name, array):
    np.save(os.path.join(out, name), np.ascontiguousarray(array))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('slide')
    ap.add_argument('out')
    ap.add_argument('--mpp', type=float)
    ap.add_argument('--tissue-threshold', type=float, default=0.5)
    ap.add_argument('--cells', default='')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    s = openslide.OpenSlide(a.slide)
    dims, dss = s.level_dimensions, s.level_downsamples
    mpp = a.mpp or float(s.properties.get('openslide.mpp-x') or 10000 / float(s.properties['tiff.XResolution']))
    W0, H0 = dims[0]

    # Low-resolution level: the coarsest whose longer side is still >= the refinement size.
    low = max((i for i in range(len(dims)) if max(dims[i]) >= REFINE_SIZE), key=lambda i: dss[i], default=0)
    lw, lh = dims[low]
    lowres = read_rgb(s, low, 0, 0, lw, lh)
    tissue = tissue_mask(lowres)

    # Patch grid at 10x: read the 10x level when there is one (within 1%), else the nearest finer.
    wanted = PATCH_MPP / mpp
    level = max((i for i in range(len(dss)) if dss[i] <= wanted * 1.01), key=lambda i: dss[i])
    exact = abs(dss[level] - wanted) <= 0.01 * wanted
    scale = dss[level] if exact else wanted
    w10, h10 = (dims[level] if exact else (max(1, round(W0 / scale)), max(1, round(H0 / scale))))
    rows, cols = math.ceil(h10 / PATCH_SIZE), math.ceil(w10 / PATCH_SIZE)
    side = PATCH_SIZE * scale

    fx, fy = lw / W0, lh / H0
    fractions = np.zeros((rows, cols), np.float32)
    for r in range(rows):
        for c in range(cols):
            x0, y0 = round(c * side * fx), round(r * side * fy)
            x1, y1 = max(x0 + 1, round((c + 1) * side * fx)), max(y0 + 1, round((r + 1) * side * fy))
            fractions[r, c] = tissue[y0:y1, x0:x1].sum() / ((x1 - x0) * (y1 - y0))

    full = None if exact else read_rgb(s, level, 0, 0, *dims[level]).astype(np.float64)

    def patch(r, c):
        if exact:
            p = read_rgb(s, level, round(c * side), round(r * side), PATCH_SIZE, PATCH_SIZE).astype(np.float64)
        else:
            f = scale / dss[level]
            centres = lambda origin: (origin / dss[level]) + (np.arange(PATCH_SIZE) + 0.5) * f - 0.5
            lvh, lvw = full.shape[:2]
            p = sample(full, np.clip(centres(r * side), 0, lvh - 1), np.clip(centres(c * side), 0, lvw - 1))
        p[:, max(0, w10 - c * PATCH_SIZE):] = 255
        p[max(0, h10 - r * PATCH_SIZE):, :] = 255
        return (p / 255).astype(np.float32)

    heat = np.zeros((rows, cols), np.float32)
    for r in range(rows):
        for c in range(cols):
            if fractions[r, c] >= a.tissue_threshold:
                p = patch(r, c)
                z = ORACLE_K * (p[..., 2].mean() - p[..., 0].mean() - ORACLE_T)
                heat[r, c] = 1 / (1 + math.exp(-z))
    for cell in filter(None, a.cells.split(';')):
        r, c = map(int, cell.split(','))
        save(a.out, f'patch_{r}_{c}.npy', patch(r, c))

    image = (bilinear(lowres.astype(np.float64), REFINE_SIZE, REFINE_SIZE) / 255).astype(np.float32)
    mask = (image[..., 2] - image[..., 0] - ORACLE_T) > 0
    save(a.out, 'tissue.npy', (tissue * 255).astype(np.uint8))
    save(a.out, 'fractions.npy', fractions)
    save(a.out, 'oracle_heatmap.npy', heat)
    save(a.out, 'oracle_mask.npy', (mask * 255).astype(np.uint8))
    save(a.out, 'lowres_1024.npy', image)
    with open(os.path.join(a.out, 'grid.json'), 'w') as f:
        json.dump({'rows': rows, 'cols': cols, 'width': int(w10), 'height': int(h10), 'scale': scale,
                   'readLevel': level, 'resample': not exact, 'lowResLevel': low,
                   'inferred': int((fractions >= a.tissue_threshold).sum())}, f)


if __name__ == '__main__':
    main()
