"""Training under the h2g rules sees what inference sees: patches and the tissue mask as the independent
reference implementation of those rules reads them (test/reference/h2g_reference.py, which the
pipeline's own tests check). test_rule_sets.py compares the trainer with the pipeline itself under
both rule sets."""

import json
import os
import subprocess

import numpy as np
import pytest

from conftest import ROOT, SHARED_DATA, write_tiff
from h2g_train.slides import Slide, tissue_mask

CMU = os.path.join(SHARED_DATA, "CMU-1-Small-Region.svs")  # 20x, 0.499 um/px: 10x is resampled
REFERENCE = os.path.join(ROOT, "test", "reference", "h2g_reference.py")
PY = os.path.join(ROOT, ".venv", "bin", "python")


@pytest.fixture(scope="module")
def exact_slide(tmp_path_factory):
    """0.25 um/px with a libvips pyramid: the 10x level is read directly (downsample ~4)."""
    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(170, 50, (530, 670, 3)), 0, 255).astype(np.uint8)
    img[:, :150] = 255
    return write_tiff(
        str(tmp_path_factory.mktemp("exact") / "s.tif"), np.kron(img, np.ones((4, 4, 1), np.uint8))[:2100, :2650], 0.25
    )


def reference(slide, tmp_path, cells):
    out = str(tmp_path / "ref")
    subprocess.run([PY, REFERENCE, slide, out, "--cells", ";".join(f"{r},{c}" for r, c in cells)], check=True)
    with open(os.path.join(out, "grid.json")) as f:
        return out, json.load(f)


@pytest.mark.parametrize("which", ["resampled", "exact"])
def test_patches_and_tissue_match_the_reference(which, exact_slide, tmp_path):
    path = CMU if which == "resampled" else exact_slide
    cells = [(0, 0), (1, 2), (2, 1)] if which == "resampled" else [(0, 0), (1, 1), (2, 2)]
    out, grid = reference(path, tmp_path, cells)
    slide = Slide(path)
    level, scale, exact = slide.patch_plan(1.0)
    assert exact == (which == "exact") and abs(scale - grid["scale"]) < 1e-9
    for r, c in cells:
        ours = slide.read_patch(c * 256 * scale, r * 256 * scale, 256, 1.0) / 255
        ref = np.load(os.path.join(out, f"patch_{r}_{c}.npy"))
        assert np.abs(ours - ref).max() <= 1e-6, (r, c)
    tissue = tissue_mask(slide.read_lowres(1024))
    assert np.array_equal(tissue, np.load(os.path.join(out, "tissue.npy")) > 0)
