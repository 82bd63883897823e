"""Training sees what inference sees: patches as the independent reference implementation of the
pipeline's rules reads them (test/reference/h2g_reference.py, which the pipeline's own tests check),
and the refinement inputs exactly as the pipeline's own `refinementInputs` (dist/pipeline/refine.js)
builds them from its own low-resolution read. If the pipeline changes its image normalisation, the
last test fails until h2g_train/refine_inputs.py's normalise_image follows."""

import json
import os
import subprocess

import numpy as np
import pytest

from conftest import ROOT, SHARED_DATA, run_node, write_tiff
from h2g_train.refine_inputs import normalise_image, stretch_heatmap, stretch_image
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


NODE_INPUTS = """
const { OpenSlide } = require('./dist/slide/openslide.js');
const { chooseLowResLevel } = require('./dist/pipeline/grid.js');
const { readLowRes } = require('./dist/pipeline/lowres.js');
const { refinementInputs } = require('./dist/pipeline/refine.js');
const { writeNpy } = require('./dist/output/npy.js');
(async () => {
  const [file, out, rows, cols] = process.argv.slice(1);
  const slide = await OpenSlide.open(file);
  const low = await readLowRes(slide, chooseLowResLevel(slide.levels, 1024));
  const values = new Float32Array(rows * cols).map((_, i) => ((i * 37) % 101) / 100);
  const inputs = refinementInputs(low, { rows: +rows, cols: +cols, patchSizeLevel0: 512, values }, 1024);
  await writeNpy(out + '-image.npy', inputs.image, [1024, 1024, 3]);
  await writeNpy(out + '-heatmap.npy', inputs.heatmap, [1024, 1024]);
  await slide.close();
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.parametrize("which", ["resampled", "exact"])
def test_refinement_inputs_are_the_pipelines(which, exact_slide, tmp_path):
    path = CMU if which == "resampled" else exact_slide
    rows, cols = 7, 5
    prefix = str(tmp_path / "node")
    run_node(NODE_INPUTS, path, prefix, str(rows), str(cols))
    heat = (((np.arange(rows * cols) * 37) % 101) / 100).astype(np.float32).reshape(rows, cols)
    slide = Slide(path)
    image = normalise_image(stretch_image(slide.read_lowres(1024), 1024))
    assert np.abs(image - np.load(prefix + "-image.npy")).max() <= 1e-6
    assert np.abs(stretch_heatmap(heat, 1024) - np.load(prefix + "-heatmap.npy")).max() <= 1e-6
