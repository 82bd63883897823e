"""The heatmaps the refinement network trains on, made by the trained patch model through OUR pipeline
(`h2g segment --save-heatmap`), so that training sees what inference will feed it: the same tissue
mask, patch grid, patch reading, batching and onnxruntime numerics."""

from __future__ import annotations

import os
import shutil
import subprocess

from .export import PATCH_FILE, REFINE_FILE, export_patch, export_refinement, file_entry, write_manifest
from .runtime import log

REPO_BIN = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "bin", "h2g.js"))


def h2g_command(explicit: str | None = None) -> list[str]:
    """How to run `h2g`: --h2g, else $H2G_BIN, else this checkout's bin/h2g.js, else `h2g` on PATH."""
    target = explicit or os.environ.get("H2G_BIN") or (REPO_BIN if os.path.exists(REPO_BIN) else shutil.which("h2g"))
    if not target:
        raise FileNotFoundError(
            "cannot find the h2g command: give --h2g PATH (bin/h2g.js of the sidecar) or set H2G_BIN"
        )
    return ["node", target] if target.endswith(".js") else [target]


def run_h2g(cmd: list[str], args: list[str]) -> None:
    result = subprocess.run(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"h2g {' '.join(args[:2])} failed (exit {result.returncode}):\n{tail}")


def heatmap_models(directory: str, patch_net, refine_source, cfg) -> str:
    """A model set holding the patch network to run, plus any refinement network of the contract (its
    output is not used here): `refine_source` is an ONNX file to copy or a RefinementUNet to export."""
    os.makedirs(directory, exist_ok=True)
    export_patch(patch_net, os.path.join(directory, PATCH_FILE), cfg.patch_size)
    target = os.path.join(directory, REFINE_FILE)
    if isinstance(refine_source, str):
        shutil.copyfile(refine_source, target)
    elif not os.path.exists(target):
        export_refinement(refine_source, target, cfg.refinement_size)
    write_manifest(
        directory, "heatmaps", training=None, patch_size=cfg.patch_size, patch_mpp=cfg.patch_mpp,
        refinement_size=cfg.refinement_size, description="h2g-train: the patch model being trained, for heatmaps",
    )  # fmt: skip
    return directory


def make_heatmaps(entries, out_dir: str, models_dir: str, h2g: list[str], reference: str) -> dict[str, str]:
    """{slide id: heatmap .npy} made under the rule set `reference` (`h2g segment --reference`); reuses
    heatmaps made with the same patch model file and rules."""
    os.makedirs(out_dir, exist_ok=True)
    digest = f"{file_entry(models_dir, PATCH_FILE)['sha256']} {reference}"
    stamp = os.path.join(out_dir, "patch-model.sha256")
    if not (os.path.exists(stamp) and open(stamp).read().strip() == digest):
        for f in os.listdir(out_dir):
            if f.endswith(".npy"):
                os.remove(os.path.join(out_dir, f))
        with open(stamp, "w") as f:
            f.write(digest + "\n")
    out = {}
    for i, e in enumerate(entries):
        path = os.path.join(out_dir, f"{e.id}.npy")
        if not os.path.exists(path):
            tmp = os.path.join(out_dir, f"{e.id}.partial.npy")
            args = [
                "segment",
                e.slide,
                "--models",
                models_dir,
                "--save-heatmap",
                tmp,
                "--reference",
                reference,
                "-o",
                os.path.join(out_dir, f"{e.id}.geojson"),
            ]
            if e.mpp is not None:
                args += ["--mpp", repr(e.mpp)]
            run_h2g(h2g, args)
            os.replace(tmp, path)
            log.info("heatmap %d/%d: %s", i + 1, len(entries), e.id)
        out[e.id] = path
    return out
