"""Which patches FAST 4.18's PatchGenerator selects for given tissue masks, for fast-resize.test.ts.

    fast_selection_probe.py SLIDE OUTDIR

For seeded random blob masks (8-bit 0/1, a tenth of the slide's size per axis, spacing scaled so it
covers the slide as a tissue mask does) and thresholds 0.3, 0.5 and 0.7, writes OUTDIR/mask<i>.npy and
OUTDIR/selected<i>_<t>.npy (uint8 rows x cols, 1 = FAST generated that patch).
"""
import math
import os
import subprocess
import sys

import numpy as np

import fast

THRESHOLDS = (0.3, 0.5, 0.7)


def blobs(rng, h, w):
    """Smooth random 0/1 fields: tissue-like regions whose edges cross patches at every share."""
    noise = rng.random((h // 8 + 2, w // 8 + 2))
    yy = np.linspace(0, noise.shape[0] - 1.001, h)
    xx = np.linspace(0, noise.shape[1] - 1.001, w)
    y0, x0 = yy.astype(int), xx.astype(int)
    fy, fx = (yy - y0)[:, None], (xx - x0)[None, :]
    v = (noise[y0][:, x0] * (1 - fx) + noise[y0][:, x0 + 1] * fx) * (1 - fy) + \
        (noise[y0 + 1][:, x0] * (1 - fx) + noise[y0 + 1][:, x0 + 1] * fx) * fy
    return (v > 0.5).astype(np.uint8)


def select_one(slide, out, i, t):
    """One PatchGenerator per process: FAST 4.18 crashed when a second one streamed the same slide."""
    fast.Reporter.setGlobalReportMethod(fast.Reporter.NONE)
    wsi = fast.WholeSlideImageImporter.create(slide).runAndGetOutputData()
    w0, h0 = wsi.getFullWidth(), wsi.getFullHeight()
    mask = np.load(os.path.join(out, f"mask{i}.npy"))
    mh, mw = mask.shape
    image = fast.Image.createFromArray(np.ascontiguousarray(mask[..., None]))
    image.setSpacing(wsi.getSpacing()[0] * w0 / mw, wsi.getSpacing()[1] * h0 / mh, 1.0)
    generator = fast.PatchGenerator.create(256, 256, magnification=10, maskThreshold=float(t))
    generator.connect(0, wsi)
    generator.connect(1, image)
    picked, grid = [], None
    try:
        for patch in fast.DataStream(generator):
            fd = patch.getFrameData()
            picked.append((int(fd["patchid-y"]), int(fd["patchid-x"])))
            grid = grid or (math.ceil(float(fd["original-height"]) / 256), math.ceil(float(fd["original-width"]) / 256))
    except RuntimeError as e:  # FAST stops with an error when no patch passes
        if "No patches" not in str(e):
            raise
    sel = np.zeros(grid or (0, 0), np.uint8)
    for y, x in picked:
        sel[y, x] = 1
    np.save(os.path.join(out, f"selected{i}_{t}.npy"), sel)


def main():
    if sys.argv[1] == "--one":
        select_one(*sys.argv[2:6])
        sys.stdout.flush()
        os._exit(0)  # FAST 4.18 can crash in its static destructors at interpreter exit
    slide, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    import openslide  # only for the slide's size; FAST's own reader runs in the child processes
    w0, h0 = openslide.OpenSlide(slide).dimensions
    rng = np.random.default_rng(11)
    for i in range(3):
        np.save(os.path.join(out, f"mask{i}.npy"), np.ascontiguousarray(blobs(rng, h0 // 10, w0 // 10)))
        for t in THRESHOLDS:
            subprocess.run([sys.executable, __file__, "--one", slide, out, str(i), str(t)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
