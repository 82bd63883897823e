"""Export to the published contract: tensor names, NHWC layouts, dynamic batch, onnxruntime outputs
equal to PyTorch's (max abs diff <= 1e-4), and acceptance by h2g's own contract check and manifest
schema through `h2g models import`."""

import json
import os

import numpy as np
import onnxruntime as ort
import pytest
import torch

from conftest import run_h2g
from h2g_train.batchnorm import estimate_batch_norm
from h2g_train.export import (
    PATCH_FILE,
    REFINE_FILE,
    PatchExport,
    RefinementExport,
    export_patch,
    export_refinement,
    write_manifest,
)
from h2g_train.networks import PatchClassifier, RefinementUNet, count_parameters


def session(path):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def io(sess):
    return [(i.name, i.shape) for i in sess.get_inputs()], [(o.name, o.shape) for o in sess.get_outputs()]


def test_full_size_networks_have_the_published_parameter_counts():
    # Keras' trainable parameters (scripts/make_test_models.py, H2GNET.md: about 2.35 M and 11.56 M)
    assert count_parameters(PatchClassifier(1.0)) == 2_352_174
    assert count_parameters(RefinementUNet(1.0)) == 11_563_410


def trained_like(net, *shapes):
    """Non-trivial batch-norm statistics, so the export's folding is exercised."""
    torch.manual_seed(0)
    estimate_batch_norm(net, [tuple(torch.rand(*s) * 0.8 + 0.1 for s in shapes)])
    return net.eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    patch = trained_like(PatchClassifier(1.0), (8, 3, 256, 256))
    refine = trained_like(RefinementUNet(0.25), (2, 3, 1024, 1024), (2, 1, 1024, 1024))
    export_patch(patch, str(d / PATCH_FILE))
    export_refinement(refine, str(d / REFINE_FILE))
    return d, patch, refine


def test_patch_model_contract_and_outputs(exported):
    d, patch, _ = exported
    sess = session(str(d / PATCH_FILE))
    assert io(sess) == ([("input_2:0", ["N", 256, 256, 3])], [("dense_1/Softmax:0", ["N", 2])])
    rng = np.random.default_rng(1)
    for n in (1, 5):  # dynamic batch
        x = rng.random((n, 256, 256, 3), dtype=np.float32)
        got = sess.run(None, {"input_2:0": x})[0]
        want = PatchExport(patch)(torch.from_numpy(x)).detach().numpy()
        assert got.shape == (n, 2) and np.abs(got - want).max() <= 1e-4
        assert np.allclose(got.sum(1), 1, atol=1e-5) and (
            n == 1 or got[:, 1].std() > 0
        )  # a softmax that depends on the input


def test_refinement_model_contract_and_outputs(exported):
    d, _, refine = exported
    sess = session(str(d / REFINE_FILE))
    assert io(sess) == (
        [("input_1:0", [1, 1024, 1024, 3]), ("input_2:0", [1, 1024, 1024, 1])],
        [("refinement/Softmax:0", [1, 1024, 1024, 2])],
    )
    rng = np.random.default_rng(2)
    img, heat = rng.random((1, 1024, 1024, 3), dtype=np.float32), rng.random((1, 1024, 1024, 1), dtype=np.float32)
    got = sess.run(None, {"input_1:0": img, "input_2:0": heat})[0]
    want = RefinementExport(refine)(torch.from_numpy(img), torch.from_numpy(heat)).detach().numpy()
    assert np.abs(got - want).max() <= 1e-4
    other = sess.run(None, {"input_1:0": img, "input_2:0": 1 - heat})[0]
    assert np.abs(other - got).max() > 1e-3  # the heatmap input is used


def test_h2g_models_import_accepts_the_set_and_keeps_the_training_record(exported, tmp_path):
    d, _, _ = exported
    training = {
        "dataset": "unit",
        "datasetSha256": "ab" * 32,
        "trainer": "h2g-train test",
        "createdAt": "2026-12-01T00:00:00Z",
        "parameters": {"width": 1.0, "refine_width": 0.25},
    }
    write_manifest(str(d), "unit", training=training)
    home = tmp_path / "home"
    run_h2g("models", "import", str(d), "--name", "unit", env={"H2G_MODELS_HOME": str(home)})
    installed = json.loads((home / "unit" / "h2g-models.json").read_text())
    assert installed["source"] == "trained:unit"
    assert (
        installed["training"]["datasetSha256"] == "ab" * 32
        and installed["training"]["parameters"]["refine_width"] == 0.25
    )
    assert (
        installed["files"]["patch"]["sha256"]
        == json.loads((d / "h2g-models.json").read_text())["files"]["patch"]["sha256"]
    )
    r = run_h2g("models", "verify", "unit", env={"H2G_MODELS_HOME": str(home)})
    assert "unit" in r.stdout + r.stderr


def test_a_manifest_with_an_unknown_training_key_is_refused(exported, tmp_path):
    d, _, _ = exported
    manifest = json.loads((d / "h2g-models.json").read_text())
    manifest.setdefault("training", {})["typo"] = 1
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in (PATCH_FILE, REFINE_FILE):
        os.symlink(d / f, bad / f)
    (bad / "h2g-models.json").write_text(json.dumps(manifest))
    r = run_h2g(
        "models", "import", str(bad), "--name", "bad", env={"H2G_MODELS_HOME": str(tmp_path / "h")}, check=False
    )
    assert r.returncode == 1 and "training" in r.stderr
