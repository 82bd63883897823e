"""End to end on phantom slides with known tumour shapes: a reduced-width model set trained in a few
minutes (scripts/train_phantom_models.py, both stages, heatmaps through our pipeline), installed with
`h2g models import`, segments the held-out phantom with `h2g segment`, and `h2g evaluate` measures
Dice >= 0.9 against its annotation."""

import json
import os

import pytest

from conftest import run_h2g
from h2g_train.dataset import load_dataset
from train_phantom_models import PHANTOM_RECIPE, train_phantom


@pytest.mark.slow
def test_phantom_training_segments_a_held_out_slide(tmp_path):
    out = str(tmp_path / "phantom")
    results = train_phantom(out, seed=1)
    data = os.path.join(out, "data")
    dataset = load_dataset(os.path.join(data, "dataset.json"))
    test_ids = [s.id for s in dataset.slides if s.split == "test"]
    assert test_ids == ["P05"]

    manifest = json.load(open(os.path.join(out, "models", "h2g-models.json")))
    assert manifest["source"] == "trained:phantom"
    assert manifest["training"]["datasetSha256"] == dataset.digest()
    assert manifest["training"]["parameters"]["width"] == PHANTOM_RECIPE["width"]
    assert manifest["training"]["splits"] == {"train": 4, "val": 1, "test": 1}

    env = {"H2G_MODELS_HOME": str(tmp_path / "home")}
    run_h2g("models", "import", os.path.join(out, "models"), "--name", "phantom", env=env)
    pred = tmp_path / "pred"
    pred.mkdir()
    run_h2g("segment", dataset.slides[-1].slide, "--models", "phantom", "-o", str(pred / "P05.geojson"), env=env)
    r = run_h2g("evaluate", "--dataset", dataset.path, "--predictions", str(pred), "--split", "test", "--json", "-")
    report = json.loads(r.stdout)
    print("phantom:", json.dumps({"train": results, "test": report["slides"][0]}))
    assert report["slides"][0]["dice"] >= 0.9, report["slides"][0]
