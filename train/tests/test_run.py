"""Runs: checkpoints and resume (a resumed run is the uninterrupted one, bit for bit on the CPU),
early stopping, what a resume may change, and the CLI's exit codes."""

import json
import os
import subprocess
import sys

import pytest
import torch

from h2g_train.config import TrainConfig
from h2g_train.run import RunError, run
from h2g_train.runtime import EarlyStopping, load_checkpoint

SMALL = dict(
    width=0.35, batch_size=4, steps_per_epoch=2, epochs=2, val_patches=8, cluster_sample=16, clusters=3, workers=0
)


@pytest.fixture(scope="module")
def with_val(block_slides):
    """The block slides with D as the validation slide."""
    d = json.load(open(block_slides))
    for s in d["slides"]:
        s["split"] = "val" if s["id"] == "D" else "train"
    path = os.path.join(os.path.dirname(block_slides), "with-val.json")
    json.dump(d, open(path, "w"))
    return path


def history(run_dir):
    return [json.loads(line) for line in open(os.path.join(run_dir, "patch", "history.jsonl"))]


def test_a_resumed_run_is_the_uninterrupted_one(with_val, tmp_path):
    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    run(with_val, straight, TrainConfig(**SMALL), stages=("patch",))
    run(with_val, resumed, TrainConfig(**{**SMALL, "epochs": 1}), stages=("patch",))
    assert len(history(resumed)) == 1
    run(with_val, resumed, TrainConfig(**SMALL), stages=("patch",), resume=True, given={"epochs"})
    a, b = history(straight), history(resumed)
    assert [h["epoch"] for h in b] == [0, 1]
    assert [h["train_loss"] for h in a] == [h["train_loss"] for h in b]
    assert [h["val_loss"] for h in a] == [h["val_loss"] for h in b] and 0 <= a[-1]["val_auc"] <= 1
    wa, wb = (
        load_checkpoint(os.path.join(straight, "patch", "last.pt"))["model"],
        load_checkpoint(os.path.join(resumed, "patch", "last.pt"))["model"],
    )
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert json.load(open(os.path.join(resumed, "config.json")))["config"]["epochs"] == 2


def test_early_stopping_counts_epochs_without_improvement():
    stop = EarlyStopping(patience=2)
    assert stop.update(0, 1.0) and not stop.update(1, 1.0) and not stop.stop
    assert stop.update(2, 0.5) and stop.bad_epochs == 0
    assert not stop.update(3, 0.7) and not stop.update(4, 0.6) and stop.stop
    assert (stop.best, stop.best_epoch) == (0.5, 2)


def test_a_run_stops_after_patience_epochs_and_keeps_the_best(with_val, tmp_path):
    r = str(tmp_path / "r")
    # lr at its minimum: the validation loss hardly moves, so some epoch fails to improve.
    results = run(with_val, r, TrainConfig(**{**SMALL, "epochs": 4, "patience": 1, "lr": 1e-7}), stages=("patch",))
    h = history(r)
    best = [e["epoch"] for e in h if e["best"]]
    assert len(h) == 4 or (not h[-1]["best"] and all(e["best"] for e in h[:-1]))  # stopped right after it
    assert results["patch"]["best_epoch"] == best[-1] + 1
    assert load_checkpoint(os.path.join(r, "patch", "best.pt"))["epoch"] == best[-1]
    assert min(e["val_loss"] for e in h) == h[best[-1]]["val_loss"]


def test_what_a_resume_may_change(with_val, tmp_path):
    r = str(tmp_path / "r")
    run(with_val, r, TrainConfig(**{**SMALL, "epochs": 1}), stages=("patch",))
    with pytest.raises(RunError, match="already holds a run: pass --resume"):
        run(with_val, r, TrainConfig(**SMALL), stages=("patch",))
    with pytest.raises(RunError, match="lr cannot change when resuming"):
        run(with_val, r, TrainConfig(**{**SMALL, "lr": 1e-3}), stages=("patch",), resume=True, given={"lr"})
    with pytest.raises(RunError, match="reference cannot change when resuming"):
        run(
            with_val,
            r,
            TrainConfig(**{**SMALL, "reference": "h2g"}),
            stages=("patch",),
            resume=True,
            given={"reference"},
        )


def test_a_run_recorded_before_the_rule_set_resumes_under_the_h2g_rules(with_val, tmp_path):
    r = str(tmp_path / "r")
    run(with_val, r, TrainConfig(**{**SMALL, "epochs": 1}), stages=("patch",))
    cfg_file = os.path.join(r, "config.json")
    saved = json.load(open(cfg_file))
    assert saved["config"]["reference"] == "fast"  # the pipeline's default
    del saved["config"]["reference"]
    json.dump(saved, open(cfg_file, "w"))
    with pytest.raises(RunError, match="reference cannot change when resuming \\(the run has 'h2g'"):
        run(with_val, r, TrainConfig(**SMALL), stages=("patch",), resume=True, given={"reference"})
    run(with_val, r, TrainConfig(**SMALL), stages=("patch",), resume=True, given={"epochs"})
    assert json.load(open(cfg_file))["config"]["reference"] == "h2g"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "h2g_train", *args], capture_output=True, text=True)


def test_cli_check_and_exit_codes(with_val, tmp_path):
    r = cli("check", with_val, "--json")
    assert r.returncode == 0
    summary = json.loads(r.stdout)
    assert (
        summary["slides"] == 4
        and summary["splits"] == {"train": 3, "val": 1, "test": 0}
        and summary["groups"] == {"g1": 3, "g2": 1}
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"schemaVersion": 1, "name": "x", "slides": [], "extra": 1}')
    r = cli("check", str(bad))
    assert r.returncode == 2 and "unknown key(s) extra" in r.stderr and r.stderr.startswith("h2g-train: error:")
    r = cli("run", with_val, "--run", str(tmp_path / "x"), "--width", "5")
    assert r.returncode == 2 and "width must be between" in r.stderr
    r = cli("run", with_val, "--run", str(tmp_path / "x"), "--reference", "fast-exact")
    assert r.returncode == 2 and "invalid choice: 'fast-exact'" in r.stderr
    r = cli("run", with_val, "--run", str(tmp_path / "x"), "--stages", "patch,nope")
    assert r.returncode == 2 and "--stages" in r.stderr


def test_fine_tuning_starts_from_the_installed_models_outputs(with_val, tmp_path):
    import numpy as np
    import onnxruntime as ort

    from h2g_train.batchnorm import estimate_batch_norm
    from h2g_train.dataset import load_dataset
    from h2g_train.export import PATCH_FILE, REFINE_FILE, export_patch, export_refinement, write_manifest
    from h2g_train.networks import PatchClassifier, RefinementUNet
    from h2g_train.train_patch import build_sampler, start_network

    torch.manual_seed(5)
    installed = tmp_path / "set"
    installed.mkdir()
    net = PatchClassifier(0.35)
    estimate_batch_norm(net, [(torch.rand(8, 3, 256, 256),)])
    export_patch(net.eval(), str(installed / PATCH_FILE))
    export_refinement(RefinementUNet(0.25).eval(), str(installed / REFINE_FILE))
    params = {"width": 0.35, "refine_width": 0.25}
    write_manifest(
        str(installed),
        "set",
        training={"dataset": "x", "datasetSha256": "0" * 64, "trainer": "t", "createdAt": "now", "parameters": params},
    )
    cfg = TrainConfig(**{**SMALL, "init": str(installed)})
    sampler = build_sampler(
        [e for e in load_dataset(with_val).slides if e.split == "train"], cfg, str(tmp_path / "cache")
    )
    start = start_network(cfg, sampler)
    x = torch.rand(4, 3, 256, 256)
    want = ort.InferenceSession(str(installed / PATCH_FILE)).run(None, {"input_2:0": x.permute(0, 2, 3, 1).numpy()})[0]
    got = torch.softmax(start.eval()(x), 1).detach().numpy()
    assert np.abs(got - want).max() <= 1e-4
    with pytest.raises(ValueError, match="give --width 0.35"):
        start_network(TrainConfig(**{**SMALL, "init": str(installed), "width": 0.5}), sampler)
