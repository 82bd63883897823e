#!/usr/bin/python3
"""Write a phantom slide: real tissue texture in seeded shapes, tumour inside normal tissue on white.

    /usr/bin/python3 scripts/make_phantom_slide.py --seed 1 --out phantom-1.tif [--size 4096] [--truth t.png]

A pyramidal generic TIFF (256 px JPEG tiles, Q 90) at 1.0 um/px, i.e. level 0 is the pipeline's 10x:
size x size px, (size / 256)^2 grid patches. Tissue is the union of two ellipses (about half of the
slide), tumour three ellipses inside it, textures from scripts/phantom.py at seeded offsets. --truth
writes the tumour truth as a PNG (one pixel per 16 slide pixels, 255 = tumour).
Same seed and size -> same pixels. Needs libvips' `vips` command (libvips-tools).
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phantom import load_textures, tiled  # noqa: E402

TRUTH_STEP = 16


def ellipse(width, height, cx, cy, rx, ry, angle):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    u = ((x - cx) * c + (y - cy) * s) / rx
    v = (-(x - cx) * s + (y - cy) * c) / ry
    return u * u + v * v <= 1.0


def shapes(size, rng):
    """Boolean tissue and tumour masks (tumour inside tissue)."""
    tissue = np.zeros((size, size), bool)
    for _ in range(2):
        cx, cy = rng.uniform(0.35, 0.65, 2) * size
        rx, ry = rng.uniform(0.3, 0.45, 2) * size
        tissue |= ellipse(size, size, cx, cy, rx, ry, rng.uniform(0, np.pi))
    tumour = np.zeros_like(tissue)
    ys, xs = np.nonzero(tissue[::64, ::64])
    for _ in range(3):
        k = rng.integers(len(xs))
        rx, ry = rng.uniform(0.1, 0.2, 2) * size
        tumour |= ellipse(size, size, xs[k] * 64, ys[k] * 64, rx, ry, rng.uniform(0, np.pi))
    return tissue, tumour & tissue


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True, help="the .tif to write")
    ap.add_argument("--size", type=int, default=4096, help="side in pixels, a multiple of 256 [4096]")
    ap.add_argument("--truth", help="also write the tumour truth here (PNG, 1/16 of the slide's size)")
    args = ap.parse_args(argv)
    if args.size % 256 or args.size < 1024:
        ap.error("--size must be a multiple of 256, at least 1024")
    rng = np.random.default_rng([args.seed, 7])
    textures = load_textures()
    tissue, tumour = shapes(args.size, rng)
    image = np.full((args.size, args.size, 3), 255, np.uint8)
    for name, where in (("normal", tissue & ~tumour), ("tumour", tumour)):
        offset = tuple(int(v) for v in rng.integers(0, 1 << 16, 2))
        image[where] = tiled(textures[name], args.size, args.size, offset)[where]
    out_dir = os.path.dirname(os.path.abspath(args.out))
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        png = os.path.join(tmp, "phantom.png")
        Image.fromarray(image).save(png, compress_level=1)
        tif = os.path.join(tmp, "phantom.tif")
        # 1000 px/mm = 1.0 um/px
        subprocess.run(["vips", "tiffsave", png, tif, "--tile", "--tile-width", "256", "--tile-height", "256",
                        "--pyramid", "--compression", "jpeg", "--Q", "90", "--xres", "1000", "--yres", "1000",
                        "--resunit", "cm"], check=True)
        os.replace(tif, args.out)
    if args.truth:
        truth = tumour[TRUTH_STEP // 2::TRUTH_STEP, TRUTH_STEP // 2::TRUTH_STEP]
        Image.fromarray(np.where(truth, 255, 0).astype(np.uint8)).save(args.truth)
    print(f"{args.out}: {args.size} x {args.size} px at 1.0 um/px; tissue {tissue.mean():.1%}, "
          f"tumour {tumour.mean():.1%} of the slide")


if __name__ == "__main__":
    main()
