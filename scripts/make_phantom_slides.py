#!/usr/bin/env python3
"""Phantom training slides with known tumour shapes, their QuPath-style GeoJSON annotations and the
dataset file the trainer reads (README "Training"). Run with the project's .venv (numpy, scipy, the
trainer's rasteriser) and the libvips CLI:

    .venv/bin/python scripts/make_phantom_slides.py --out DIR [--slides 6] [--seed 1] [--mpp 0.5]

Each slide is drawn at 10x (1 um/px): white glass, a few pink tissue islands (eosin with sparse small
nuclei), and inside them "tumour" blobs (irregular star-shaped polygons: denser, larger, darker
purple nuclei on a bluish-purple background). The picture is upscaled by libvips to level 0 at --mpp
um/px (0.5 = 20x: the pipeline resamples its 10x patches; 0.25 = 40x: it reads a pyramid level) and
saved as a tiled JPEG pyramid with the pixel size in the TIFF resolution tags (OpenSlide's
generic-tiff). The annotations are the exact polygons the tumour was painted from (pixel centres inside
them, by the trainer's own rasteriser), in level-0 pixels, class "Tumor"; each slide also carries one
"Stroma" annotation, which the trainer must ignore. Deterministic for a given seed. Files are written
under temporary names and renamed, so an interrupted run leaves no half slide.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import ndimage

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from h2g_train.geometry import rasterise  # noqa: E402

GLASS = (245, 245, 245)
STROMA = (232, 160, 200)
TUMOUR_BG = (150, 110, 190)
NUCLEUS_STROMA = (120, 60, 140)
NUCLEUS_TUMOUR = (70, 30, 110)


def blob(cx, cy, radius, rng, vertices=72):
    """An irregular star-shaped polygon (closed ring, first point repeated) around (cx, cy)."""
    t = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    r = radius * (1 + 0.18 * np.sin(3 * t + rng.uniform(0, 6.3)) + 0.1 * np.sin(5 * t + rng.uniform(0, 6.3)))
    ring = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)
    return np.vstack([ring, ring[:1]])


def nuclei(shape, density, size, rng):
    """Blurred random impulses thresholded into round dark dots; density = dots per 10,000 px."""
    field = (rng.random(shape) < density / 1e4).astype(np.float32)
    field = ndimage.gaussian_filter(field, size)
    return field > field.max() * 0.25 if field.max() > 0 else field > 0


def draw(width, height, tumours, rng):
    """uint8 (height, width, 3) at 10x, tissue mask, and the tumour polygons (10x coordinates)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    tissue = np.zeros((height, width), bool)
    islands = [blob(width * (0.3 + 0.4 * i), height * 0.5, min(width * 0.27, height * 0.46), rng, 48) for i in range(2)]
    tissue = rasterise([[r] for r in islands], width, height, 1.0, 1.0)
    polys = []
    for _ in range(1000):
        if len(polys) == tumours:
            break
        radius = rng.uniform(0.06, 0.13) * min(width, height)
        cx, cy = rng.uniform(radius, width - radius), rng.uniform(radius, height - radius)
        ring = blob(cx, cy, radius, rng)
        inside = rasterise([[ring]], width, height, 1.0, 1.0)
        if (inside & ~tissue).any() or any((inside & rasterise([p], width, height, 1.0, 1.0)).any() for p in polys):
            continue  # tumour lies inside tissue and the blobs do not touch
        polys.append([ring])
    tumour = rasterise(polys, width, height, 1.0, 1.0)
    img = np.empty((height, width, 3), np.float32)
    img[:] = GLASS
    img[tissue] = STROMA
    img[tumour] = TUMOUR_BG
    img += ndimage.gaussian_filter(rng.normal(0, 12, (height, width, 1)).astype(np.float32), (2, 2, 0))
    for mask, colour, dens, size in ((tissue & ~tumour, NUCLEUS_STROMA, 6, 1.6), (tumour, NUCLEUS_TUMOUR, 40, 2.4)):
        dots = nuclei((height, width), dens, size, rng) & mask
        img[dots] = colour
    img[~tissue] = GLASS
    img[~tissue] += rng.normal(0, 2, (int((~tissue).sum()), 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), tissue, polys


def feature(rings, cls, colour, scale):
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [(r * scale).round(2).tolist() for r in rings]},
        "properties": {"objectType": "annotation", "classification": {"name": cls, "color": colour}},
    }


def write_slide(path, img, mpp):
    """10x RGB -> pyramidal TIFF at `mpp` um/px level 0 (libvips: upscale, tile, JPEG, resolution)."""
    h, w = img.shape[:2]
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as tmp:
        ppm = os.path.join(tmp, "in.ppm")
        with open(ppm, "wb") as f:
            f.write(f"P6 {w} {h} 255\n".encode())
            f.write(img.tobytes())
        big = os.path.join(tmp, "big.v")
        subprocess.run(["vips", "resize", ppm, big, str(1.0 / mpp), "--kernel", "linear"], check=True)
        out = os.path.join(tmp, "out.tif")
        px_per_mm = str(1e3 / mpp)  # libvips takes pixels per millimetre whatever --resunit says
        subprocess.run(
            ["vips", "tiffsave", big, out, "--tile", "--tile-width", "256", "--tile-height", "256", "--pyramid",
             "--compression", "jpeg", "--Q", "90", "--xres", px_per_mm, "--yres", px_per_mm, "--resunit", "cm"],
            check=True,
        )  # fmt: skip
        os.replace(out, path)


def make_slide(out_dir, sid, *, width=2560, height=2048, tumours=3, mpp=0.5, seed=0, group=None, split=None):
    """One phantom slide + annotations in out_dir; returns its dataset entry (paths relative)."""
    rng = np.random.default_rng([seed, int.from_bytes(sid.encode(), "little") % (2**32)])
    img, tissue, polys = draw(width, height, tumours, rng)
    scale = 1.0 / mpp  # 10x px -> level-0 px
    slide = os.path.join(out_dir, f"{sid}.tif")
    write_slide(slide, img, mpp)
    ys, xs = np.nonzero(tissue & ~rasterise(polys, width, height, 1.0, 1.0))
    k = len(xs) // 2
    stroma = [blob(xs[k], ys[k], 20, rng, 12)]  # a small non-tumour annotation, to be ignored
    features = [feature(p, "Tumor", [200, 0, 0], scale) for p in polys] + [
        feature(stroma, "Stroma", [0, 150, 0], scale)
    ]
    ann = os.path.join(out_dir, f"{sid}.geojson")
    with open(ann + ".partial", "w") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f)
    os.replace(ann + ".partial", ann)
    entry = {"id": sid, "slide": f"{sid}.tif", "annotations": f"{sid}.geojson", "mpp": mpp}
    if group:
        entry["group"] = group
    if split:
        entry["split"] = split
    return entry


def make_dataset(out_dir, slides=6, seed=1, mpp=0.5, name="phantom", width=2560, height=2048, splits=None):
    """`slides` phantoms in two groups; splits: list of split names per slide (default: the last one
    test, the one before val, the rest train). Returns the dataset file's path."""
    os.makedirs(out_dir, exist_ok=True)
    splits = splits or (["train"] * (slides - 2) + ["val", "test"])
    entries = [
        make_slide(out_dir, f"P{i:02d}", width=width, height=height, tumours=2 + i % 3, mpp=mpp, seed=seed,
                   group=f"grade-{1 + i % 2}", split=splits[i])
        for i in range(slides)
    ]  # fmt: skip
    path = os.path.join(out_dir, "dataset.json")
    with open(path + ".partial", "w") as f:
        json.dump(
            {"schemaVersion": 1, "name": name, "createdBy": "scripts/make_phantom_slides.py", "slides": entries},
            f,
            indent=2,
        )
    os.replace(path + ".partial", path)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--slides", type=int, default=6)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mpp", type=float, default=0.5)
    a = p.parse_args()
    if a.slides < 3:
        p.error("--slides must be at least 3 (train, val and test)")
    print(make_dataset(a.out, a.slides, a.seed, a.mpp))


if __name__ == "__main__":
    main()
