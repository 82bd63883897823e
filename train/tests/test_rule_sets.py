"""Training sees what inference sees under BOTH rule sets (`reference` fast and h2g): the pipeline's
own functions (dist/pipeline: rules.js planSlide, lowres.js, tissue.js, patch-reader.js,
rules.js makeRefinementImage and makeRefinementHeatmap) read a slide, and the trainer's readers (h2g_train.rules,
refine_inputs) must give the same tissue mask, grid patches and refinement inputs. Each comparison is
also made against the trainer under the OTHER rule set wherever the two rule sets differ on the
slide, so a trainer that followed the wrong rules fails."""

import json
import os

import numpy as np
import pytest

from conftest import SHARED_DATA, run_node, write_tiff
from h2g_train.refine_inputs import refinement_inputs
from h2g_train.rules import RulesError, lowres_level, plan_slide, read_lowres, read_patch
from h2g_train.slides import Slide, tissue_mask

CMU = os.path.join(SHARED_DATA, "CMU-1-Small-Region.svs")  # 20x, one level: FAST resamples by 2
CELLS = "0,0;1,2;1,1;2,1;4,3"  # those inside each slide's grid
TOLERANCE = 1e-6

# A heatmap wider than the refinement input (a large slide's grid): FAST's resizer blurs it, unequally
# on the two axes (its float kernel's misread mask rows), where the h2g rules only sample it.
HEAT_ROWS, HEAT_COLS = 1100, 2600

PIPELINE = """
const { OpenSlide } = require('./dist/slide/openslide.js');
const { planSlide, makeRefinementImage, makeRefinementHeatmap } = require('./dist/pipeline/rules.js');
const { readLowRes } = require('./dist/pipeline/lowres.js');
const { tissueMask } = require('./dist/pipeline/tissue.js');
const { readPatchesInto } = require('./dist/pipeline/patch-reader.js');
const { writeNpy } = require('./dist/output/npy.js');
(async () => {
  const [file, out, reference, cellList] = process.argv.slice(1);
  const slide = await OpenSlide.open(file);
  const params = { patchSize: 256, patchMpp: 1, refinementSize: 1024 };
  const plan = planSlide(slide, slide.pixelSize.x, params, reference, false);
  const low = await readLowRes(slide, plan.lowResLevel);
  const tissue = tissueMask(low);
  const g = plan.grid;
  const cells = cellList.split(';').map((s) => s.split(',').map(Number)).filter(([r, c]) => r < g.rows && c < g.cols);
  const patches = new Float32Array(cells.length * 256 * 256 * 3);
  await readPatchesInto(slide, g, cells.map(([r, c]) => r * g.cols + c), patches);
  const [rows, cols] = [HEAT_ROWS, HEAT_COLS];
  const values = new Float32Array(rows * cols).map((_, i) => ((i * 37) % 101) / 100);
  const inputs = {
    image: makeRefinementImage(plan.steps, low, 1024),
    heatmap: makeRefinementHeatmap(plan.steps, { rows, cols, patchSizeLevel0: 512, values }, 1024),
  };
  await writeNpy(out + '-patches.npy', patches, [cells.length, 256, 256, 3]);
  await writeNpy(out + '-tissue.npy', Float32Array.from(tissue.data), [tissue.height, tissue.width]);
  await writeNpy(out + '-image.npy', inputs.image, [1024, 1024, 3]);
  await writeNpy(out + '-heatmap.npy', inputs.heatmap, [1024, 1024]);
  const { fastResample, readLevel, scale, readDownsample } = g;
  process.stdout.write(JSON.stringify({ steps: plan.steps, lowResLevel: plan.lowResLevel, cells, readLevel,
    scale, readDownsample, fastResample: fastResample ?? null }));
  await slide.close();
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def slides(tmp_path_factory):
    """CMU (20x .svs); an exact-10x TIFF pyramid (0.25 um/px, downsample ~4: both rule sets read the
    10x level as it is); and a 40x TIFF under a name without '.tif', whose levels of 4 MiB or less FAST
    does not list: only level 0 is left, so FAST resamples it by 4 (blurred) where the h2g rules read
    the 10x level, and its low-resolution image is level 0 where the h2g rules take level 1."""
    d = tmp_path_factory.mktemp("rules")
    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(170, 50, (530, 670, 3)), 20, 255).astype(np.uint8)  # darkest 20: min-max differs
    img[:, :150] = 255
    exact = write_tiff(str(d / "exact.tif"), np.kron(img, np.ones((4, 4, 1), np.uint8))[:2100, :2650], 0.25)
    small = np.clip(rng.normal(160, 40, (450, 600, 3)), 30, 240).astype(np.uint8)
    small[:, :120] = 250
    unlisted = write_tiff(str(d / "u.tif"), np.kron(small, np.ones((4, 4, 1), np.uint8)), 0.25)
    os.rename(unlisted, str(d / "unlisted.slide"))
    return {"resampled": CMU, "exact": exact, "unlisted": str(d / "unlisted.slide")}


def pipeline(path: str, reference: str, prefix: str) -> dict:
    script = PIPELINE.replace("HEAT_ROWS", str(HEAT_ROWS)).replace("HEAT_COLS", str(HEAT_COLS))
    info = json.loads(run_node(script, path, prefix, reference, CELLS))
    return {**info, **{k: np.load(f"{prefix}-{k}.npy") for k in ("patches", "tissue", "image", "heatmap")}}


def trainer(path: str, reference: str, cells) -> dict:
    slide = Slide(path)
    try:
        plan = plan_slide(slide, reference, 1.0, 256)
        if plan.steps == "fast":
            ds = slide.levels[plan.read_level].downsample
            at = lambda i: int(np.float32(i * 256 * np.float32(plan.rf))) * ds  # noqa: E731  grid.ts patchRectLevel0
        else:
            at = lambda i: i * 256 * slide.patch_plan(1.0)[1]  # noqa: E731
        patches = np.stack([read_patch(slide, plan, at(c), at(r), 256, 1.0) / 255 for r, c in cells])
        lowres = read_lowres(slide, plan, 1024)
        heat = (((np.arange(HEAT_ROWS * HEAT_COLS) * 37) % 101) / 100).astype(np.float32).reshape(HEAT_ROWS, HEAT_COLS)
        image, heatmap = refinement_inputs(plan.steps, lowres, heat, 1024)
        return {"plan": plan, "lowResLevel": lowres_level(slide, plan, 1024), "patches": patches,
                "tissue": tissue_mask(lowres), "image": image, "heatmap": heatmap}  # fmt: skip
    finally:
        slide.close()


def gap(a, b) -> float:
    return float(np.abs(a - b).max()) if a.shape == b.shape else float("inf")


@pytest.mark.parametrize("which", ["resampled", "exact", "unlisted"])
@pytest.mark.parametrize("reference", ["fast", "h2g"])
def test_the_trainer_reads_what_the_pipeline_reads(reference, which, slides, tmp_path):
    path = slides[which]
    ours = pipeline(path, reference, str(tmp_path / "node"))
    mine = trainer(path, reference, ours["cells"])
    other = trainer(path, "h2g" if reference == "fast" else "fast", ours["cells"])
    assert mine["plan"].steps == ours["steps"] == reference and mine["lowResLevel"] == ours["lowResLevel"]
    assert len(ours["cells"]) >= 3
    assert gap(mine["patches"], ours["patches"]) <= TOLERANCE
    assert np.array_equal(mine["tissue"], ours["tissue"] > 0)
    assert gap(mine["image"], ours["image"]) <= TOLERANCE
    assert gap(mine["heatmap"], ours["heatmap"]) <= TOLERANCE
    # The other rule set's inputs differ: each comparison above could fail.
    assert gap(other["image"], ours["image"]) > 1e-3
    assert gap(other["heatmap"], ours["heatmap"]) > 1e-3
    if which != "exact":  # both rule sets read an exact 10x level as it is
        assert gap(other["patches"], ours["patches"]) > 1e-3
    if which == "unlisted":  # elsewhere both choose the same low-resolution level
        assert not np.array_equal(other["tissue"], ours["tissue"] > 0)


def test_a_slide_coarser_than_10x_is_refused_under_fast_rules_as_the_pipeline_refuses_it(tmp_path):
    path = write_tiff(str(tmp_path / "5x.tif"), np.full((300, 400, 3), 200, np.uint8), 2.0)
    slide = Slide(path)
    with pytest.raises(RulesError, match="FAST's rules need a level at 10x or finer; level 0 is 5x"):
        plan_slide(slide, "fast", 1.0, 256)
    assert plan_slide(slide, "h2g", 1.0, 256).steps == "h2g"
    with pytest.raises(AssertionError, match="FAST's rules need a level at 10x or finer"):
        run_node(PIPELINE, path, str(tmp_path / "node"), "fast", CELLS)
