"""Export to the published contract (src/models/contract.ts, scripts/make_test_models.py): NHWC float32
inputs and softmax outputs under the published tensor names, the patch model with a dynamic batch, plus
an `h2g-models.json` manifest (src/models/manifest.ts) that says how the set was trained."""

from __future__ import annotations

import datetime
import hashlib
import inspect
import json
import os
import warnings

import torch
import torch.nn as nn

from . import __version__
from .networks import PatchClassifier, RefinementUNet

PATCH_FILE = "patchwise_mobilenet_network_breast_cancer.onnx"
REFINE_FILE = "refinement_network_breast_cancer.onnx"
PATCH_IN, PATCH_OUT = "input_2:0", "dense_1/Softmax:0"
REF_IMG, REF_HEAT, REF_OUT = "input_1:0", "input_2:0", "refinement/Softmax:0"
MANIFEST_FILE = "h2g-models.json"
OPSET = 13  # what scripts/make_test_models.py writes; onnxruntime-node 1.30 loads it
TUMOUR_CHANNEL = 1


class PatchExport(nn.Module):
    def __init__(self, net: PatchClassifier):
        super().__init__()
        self.net = net

    def forward(self, x):  # (N, H, W, 3) -> (N, 2)
        return torch.softmax(self.net(x.permute(0, 3, 1, 2)), dim=-1)


class RefinementExport(nn.Module):
    def __init__(self, net: RefinementUNet):
        super().__init__()
        self.net = net

    def forward(self, image, heatmap):  # (1, S, S, 3), (1, S, S, 1) -> (1, S, S, 2)
        logits = self.net(image.permute(0, 3, 1, 2), heatmap.permute(0, 3, 1, 2))
        return torch.softmax(logits, dim=1).permute(0, 2, 3, 1)


def _export(module, args, path, input_names, output_names, dynamic_axes=None):
    module = module.cpu().eval()
    tmp = path + ".partial.onnx"
    # torch >= 2.9 defaults to the dynamo exporter; the TorchScript one is what 1.13 has and is tested.
    extra = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shape-inference chatter of the TorchScript exporter
        torch.onnx.export(
            module, args, tmp, input_names=input_names, output_names=output_names,
            dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True, **extra,
        )  # fmt: skip
    os.replace(tmp, path)


def export_patch(net: PatchClassifier, path: str, patch_size=256) -> None:
    dummy = torch.rand(1, patch_size, patch_size, 3)
    axes = {PATCH_IN: {0: "N"}, PATCH_OUT: {0: "N"}}
    _export(PatchExport(net), (dummy,), path, [PATCH_IN], [PATCH_OUT], axes)


def export_refinement(net: RefinementUNet, path: str, size=1024) -> None:
    args = (torch.rand(1, size, size, 3), torch.rand(1, size, size, 1))
    _export(RefinementExport(net), args, path, [REF_IMG, REF_HEAT], [REF_OUT])


def file_entry(directory: str, name: str) -> dict:
    path = os.path.join(directory, name)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"file": name, "sha256": h.hexdigest(), "size": os.path.getsize(path)}


def write_manifest(
    directory: str,
    name: str,
    *,
    training: dict | None,
    patch_size=256,
    patch_mpp=1.0,
    refinement_size=1024,
    description=None,
):
    """`training`: None for a set made only to run the pipeline (the heatmap stage's), else the record
    `trained:` sets carry (dataset, its digest, the parameters and results)."""
    manifest = {
        "schemaVersion": 1,
        "name": name,
        "description": description or f"H2G-Net trained by h2g-train {__version__}",
        "demo": False,
        "source": f"trained:{training['dataset']}" if training else "generated",
        "files": {"patch": file_entry(directory, PATCH_FILE), "refinement": file_entry(directory, REFINE_FILE)},
        "parameters": {
            "patchSize": patch_size, "patchMpp": patch_mpp, "refinementSize": refinement_size, "tumourChannel": TUMOUR_CHANNEL,
        },
    }  # fmt: skip
    if training:
        manifest["training"] = training
    tmp = os.path.join(directory, MANIFEST_FILE + ".partial")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(directory, MANIFEST_FILE))
    return manifest


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
