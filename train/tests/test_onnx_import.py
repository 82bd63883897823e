"""Fine-tuning starts: ONNX weights into the PyTorch networks (folded and unfolded batch norm, either
U-Net concatenation order), checked against onnxruntime on files this package did not write
(scripts/make_test_models.py), and batch-norm recalibration that keeps the function."""

import os
import subprocess

import numpy as np
import onnxruntime as ort
import pytest
import torch

from conftest import ROOT
from h2g_train.batchnorm import estimate_batch_norm, recalibrate_batch_norm
from h2g_train.export import PATCH_FILE, REFINE_FILE, PatchExport, RefinementExport, export_patch
from h2g_train.networks import PatchClassifier, RefinementUNet
from h2g_train.onnx_import import ImportError_, load_onnx_weights


@pytest.fixture(scope="module")
def generated_full(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("full"))
    subprocess.run(
        ["/usr/bin/python3", os.path.join(ROOT, "scripts", "make_test_models.py"), "--variant", "full", "--out", out],
        check=True,
        capture_output=True,
    )
    return out


def test_the_generated_published_architectures_load_and_agree_with_onnxruntime(generated_full):
    rng = np.random.default_rng(0)
    patch = PatchClassifier(1.0)
    load_onnx_weights(patch, os.path.join(generated_full, PATCH_FILE))
    x = rng.random((3, 256, 256, 3), dtype=np.float32)
    want = ort.InferenceSession(os.path.join(generated_full, PATCH_FILE)).run(None, {"input_2:0": x})[0]
    got = PatchExport(patch.eval())(torch.from_numpy(x)).detach().numpy()
    assert np.abs(got - want).max() <= 1e-4 and want[:, 1].std() > 1e-3
    # Its U-Net concatenates [upsampled, skip]; ours [skip, upsampled]: the import permutes.
    unet = RefinementUNet(1.0)
    load_onnx_weights(unet, os.path.join(generated_full, REFINE_FILE))
    img, heat = rng.random((1, 1024, 1024, 3), dtype=np.float32), rng.random((1, 1024, 1024, 1), dtype=np.float32)
    want = ort.InferenceSession(os.path.join(generated_full, REFINE_FILE)).run(
        None, {"input_1:0": img, "input_2:0": heat}
    )[0]
    got = RefinementExport(unet.eval())(torch.from_numpy(img), torch.from_numpy(heat)).detach().numpy()
    assert np.abs(got - want).max() <= 1e-4


def test_round_trip_through_our_own_export(tmp_path):
    torch.manual_seed(1)
    net = PatchClassifier(0.35)
    estimate_batch_norm(net, [(torch.rand(8, 3, 256, 256),)])
    net.eval()
    export_patch(net, str(tmp_path / PATCH_FILE))
    again = PatchClassifier(0.35)
    load_onnx_weights(again, str(tmp_path / PATCH_FILE))
    x = torch.rand(4, 3, 256, 256)
    assert torch.allclose(net(x), again.eval()(x), atol=1e-5)


def test_another_width_is_refused_with_a_reason(tmp_path):
    export_patch(PatchClassifier(0.35).eval(), str(tmp_path / PATCH_FILE))
    with pytest.raises(ImportError_, match="different width"):
        load_onnx_weights(PatchClassifier(1.0), str(tmp_path / PATCH_FILE))
    with pytest.raises(ImportError_, match="does not have this network's layers"):
        load_onnx_weights(RefinementUNet(0.25), str(tmp_path / PATCH_FILE))


def test_recalibration_keeps_the_function_and_measures_the_statistics(tmp_path):
    torch.manual_seed(2)
    net = PatchClassifier(0.35)
    estimate_batch_norm(net, [(torch.rand(8, 3, 256, 256),)])
    export_patch(net.eval(), str(tmp_path / PATCH_FILE))
    folded = PatchClassifier(0.35)
    load_onnx_weights(folded, str(tmp_path / PATCH_FILE))  # identity batch norm now
    calib = torch.rand(16, 3, 256, 256)
    before = folded.eval()(calib)
    recalibrate_batch_norm(folded, [(calib,)])
    assert torch.allclose(folded.eval()(calib), before, atol=1e-4)
    bn = folded.backbone[0][1]
    conv_out = folded.backbone[0][0](torch.nn.functional.pad(calib, (0, 1, 0, 1)))
    assert torch.allclose(bn.running_mean, conv_out.mean(dim=(0, 2, 3)), atol=1e-4)
    # Training mode (batch statistics) now starts from about the installed network's outputs.
    folded.train()
    folded.dropout.p = 0.0
    assert torch.allclose(folded(calib).softmax(1), before.softmax(1), atol=0.05)
