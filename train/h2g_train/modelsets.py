"""Installed model sets as starting points for fine-tuning. A value with a '/' or starting with '.' or
'~' is a directory; any other value is a set installed in the h2g models home (`$H2G_MODELS_HOME`, else
`$XDG_CACHE_HOME/h2gnet/models`, else `~/.cache/h2gnet/models`), as `h2g segment --models` decides
(src/models/select.ts, store.ts)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .export import MANIFEST_FILE, PATCH_FILE, REFINE_FILE
from .runtime import log


@dataclass(frozen=True)
class ModelSet:
    directory: str
    patch: str
    refinement: str
    width: float
    refine_width: float
    manifest: dict | None


def models_home() -> str:
    if os.environ.get("H2G_MODELS_HOME"):
        return os.environ["H2G_MODELS_HOME"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "h2gnet", "models")


def resolve_model_set(value: str) -> ModelSet:
    looks_like_path = "/" in value or value.startswith((".", "~"))
    directory = os.path.expanduser(value) if looks_like_path else os.path.join(models_home(), value)
    if not os.path.isdir(directory):
        where = "no such directory" if looks_like_path else f"no installed model set '{value}' in {models_home()}"
        raise FileNotFoundError(f"cannot start from {value}: {where}")
    manifest = None
    files = {"patch": PATCH_FILE, "refinement": REFINE_FILE}
    mpath = os.path.join(directory, MANIFEST_FILE)
    if os.path.exists(mpath):
        with open(mpath) as f:
            manifest = json.load(f)
        files = {k: manifest["files"][k]["file"] for k in files}
    params = ((manifest or {}).get("training") or {}).get("parameters") or {}
    out = ModelSet(
        directory=directory,
        patch=os.path.join(directory, files["patch"]),
        refinement=os.path.join(directory, files["refinement"]),
        width=float(params.get("width", 1.0)),
        refine_width=float(params.get("refine_width", 1.0)),
        manifest=manifest,
    )
    for f in (out.patch, out.refinement):
        if not os.path.isfile(f):
            raise FileNotFoundError(f"model set {directory} lacks {os.path.basename(f)}")
    return out


def initialise(net, init: str, role: str, width: float, batches) -> None:
    """A network's starting point: with `init` (a model set), its `role` network ("patch" or
    "refinement") loaded into `net`, which must have the set's width; either way batch-norm statistics
    measured on `batches` (recalibrated so an installed network's function is kept)."""
    from .batchnorm import estimate_batch_norm, recalibrate_batch_norm
    from .onnx_import import load_onnx_weights

    if not init:
        estimate_batch_norm(net, batches)
        return
    ms = resolve_model_set(init)
    have, flag = (ms.width, "--width") if role == "patch" else (ms.refine_width, "--refine-width")
    if abs(have - width) > 1e-9:
        raise ValueError(f"{init} has a {role} network of width {have}; give {flag} {have}")
    path = ms.patch if role == "patch" else ms.refinement
    load_onnx_weights(net, path)
    recalibrate_batch_norm(net, batches)
    log.info("%s network: %s (fine-tuning)", role, path)
