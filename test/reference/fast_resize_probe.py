"""FAST 4.18's ImageResizer (on pocl) on seeded random images, for test/pipeline/fast-resize.test.ts.

    fast_resize_probe.py OUTDIR

Writes OUTDIR/<case>.npy (the input) and OUTDIR/<case>_<w>x<h>.npy (FAST's output) for 8-bit images
(random 0..255, random 0/1 like a tissue mask) and float32 images (1 and 3 channels), to sizes that
shrink both axes, one axis only, or shrink one and grow the other; and OUTDIR/cases.txt listing them.
"""
import os
import sys

import numpy as np

import fast

CASES = {
    "u8": lambda g: g.integers(0, 256, (30, 40), dtype=np.uint8),
    "mask": lambda g: (g.random((300, 400)) < 0.5).astype(np.uint8),
    "f1": lambda g: g.random((30, 40)).astype(np.float32),
    "f3": lambda g: g.random((20, 30, 3)).astype(np.float32),
}
TARGETS = [(10, 7), (13, 9), (3, 2), (20, 20), (40, 30), (80, 45), (7, 60), (30, 10), (15, 20)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    fast.Reporter.setGlobalReportMethod(fast.Reporter.NONE)
    lines = []
    for name, make in CASES.items():
        arr = make(np.random.default_rng(7))
        np.save(os.path.join(out, f"{name}.npy"), arr)
        image = fast.Image.createFromArray(np.ascontiguousarray(arr if arr.ndim == 3 else arr[..., None]))
        for w, h in TARGETS:
            resized = np.asarray(fast.ImageResizer.create(w, h).connect(image).runAndGetOutputData())
            resized = resized.reshape(h, w, -1)
            np.save(os.path.join(out, f"{name}_{w}x{h}.npy"), np.ascontiguousarray(resized.squeeze(axis=2) if arr.ndim == 2 else resized))
            lines.append(f"{name} {w} {h}")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    os._exit(0)  # FAST 4.18 can crash in its static destructors at interpreter exit


if __name__ == "__main__":
    main()
