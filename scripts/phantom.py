"""Phantom H&E at 10x (1.0 um/px) from real tissue, for tests whose models must decide something.

"Tumour" texture: the BCSS breast-cancer crop ../shared/data/real/bcss/1008.jpg (dense carcinoma,
0.25 um/px, shrunk 4x). "Normal" texture: the tissue of ../shared/data/CMU-1-Small-Region.svs (skin,
0.5 um/px, shrunk 2x; the rectangle x 896, y 640, 704 x 2,304 px, which scripts/bench/make-bench-slide.sh
found to be 97 % tissue). Both are mirror-tiled to any size, so every patch is real tissue texture,
not a flat colour. Shared by scripts/make_phantom_slide.py and scripts/make_fitted_models.py; needs
numpy, Pillow and openslide-python (Debian: python3-numpy, python3-openslide, which pulls python3-pil).
"""

import os

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
CMU_TISSUE = (896, 640, 704, 2304)  # x, y, width, height at level 0 (20x)


def _shrink(img, factor):
    w, h = img.size
    return np.asarray(img.convert("RGB").resize((w // factor, h // factor), Image.BOX), np.uint8)


def load_textures(shared=SHARED):
    """{'tumour': uint8 HxWx3, 'normal': uint8 HxWx3}, both at 1.0 um/px."""
    import openslide

    tumour = _shrink(Image.open(os.path.join(shared, "real", "bcss", "1008.jpg")), 4)
    with openslide.OpenSlide(os.path.join(shared, "CMU-1-Small-Region.svs")) as slide:
        x, y, w, h = CMU_TISSUE
        normal = _shrink(slide.read_region((x, y), 0, (w, h)), 2)
    return {"tumour": tumour, "normal": normal}


def tiled(texture, width, height, offset):
    """`texture` mirror-tiled over width x height, starting at (dx, dy) inside the mirrored period."""
    th, tw = texture.shape[:2]
    period = np.concatenate([texture, texture[::-1]], axis=0)
    period = np.concatenate([period, period[:, ::-1]], axis=1)  # 2th x 2tw, seamless
    dx, dy = offset[0] % (2 * tw), offset[1] % (2 * th)
    reps_y = -(-(height + dy) // (2 * th))
    reps_x = -(-(width + dx) // (2 * tw))
    return np.tile(period, (reps_y, reps_x, 1))[dy:dy + height, dx:dx + width]


def crops(texture, count, size, rng):
    """`count` random size x size crops of the mirror-tiled texture."""
    big = tiled(texture, 4 * size, 4 * size, (int(rng.integers(1 << 16)), int(rng.integers(1 << 16))))
    out = np.empty((count, size, size, 3), np.uint8)
    for i in range(count):
        x, y = rng.integers(0, 3 * size, 2)
        out[i] = big[y:y + size, x:x + size]
    return out
