"""A training run, in one directory: config.json (parameters, dataset digest, splits), then the stages
patch -> heatmaps -> refine -> export. Each stage leaves its results in the run directory, so a run
that stopped resumes (`resume=True`) with the stage and epoch where it was."""

from __future__ import annotations

import json
import os
import platform

import torch

from . import __version__
from .config import LEGACY_REFERENCE, TrainConfig
from .dataset import Dataset, assign_splits, load_dataset
from .export import PATCH_FILE, REFINE_FILE, export_patch, export_refinement, utc_now, write_manifest
from .heatmaps import h2g_command, heatmap_models, make_heatmaps
from .modelsets import resolve_model_set
from .networks import PatchClassifier, RefinementUNet
from .runtime import load_checkpoint, log, select_device
from .train_patch import run_patch_stage
from .train_refine import cache_slide, run_refine_stage

STAGES = ("patch", "heatmaps", "refine", "export")
# What a resumed run may change: how long it trains and where it runs, not what it learns from.
RESUMABLE = {"epochs", "patience", "refine_epochs", "refine_patience", "workers", "threads", "device", "amp"}


class RunError(ValueError):
    pass


def _write_json(path: str, obj) -> None:
    with open(path + ".partial", "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(path + ".partial", path)


def open_run(dataset_path: str, run_dir: str, cfg: TrainConfig, resume: bool, given=None):
    """(dataset, config, splits, digest): new runs record them; resumed runs must match them. `given`:
    the parameters the caller set (None = all of cfg); on resume those in RESUMABLE replace the saved
    ones, and any other that differs is refused."""
    dataset = load_dataset(dataset_path)
    digest = dataset.digest()
    cfg_file = os.path.join(run_dir, "config.json")
    if os.path.exists(cfg_file):
        if not resume:
            raise RunError(f"{run_dir} already holds a run: pass --resume to continue it, or choose another directory")
        with open(cfg_file) as f:
            saved = json.load(f)
        if saved["datasetSha256"] != digest:
            raise RunError(
                f"{dataset.path} (or its annotations) changed since the run in {run_dir} started; start a new run"
            )
        # A run recorded before `reference` existed was trained under the h2g rules: it resumes under them.
        merged = {"reference": LEGACY_REFERENCE, **saved["config"]}
        for name in cfg.to_dict() if given is None else given:
            new = getattr(cfg, name)
            if name in RESUMABLE:
                merged[name] = new
            elif new != merged[name]:
                raise RunError(
                    f"{name} cannot change when resuming (the run has {merged[name]!r}, got {new!r}); start a new run"
                )
        resumed = TrainConfig.from_dict(merged)
        if resumed.to_dict() != saved["config"]:
            _write_json(cfg_file, {**saved, "config": resumed.to_dict()})
        return dataset, resumed, saved["splits"], digest
    cfg.validate()
    os.makedirs(run_dir, exist_ok=True)
    splits = assign_splits(dataset, cfg.seed, cfg.val_share, cfg.test_share)
    if not any(v == "train" for v in splits.values()):
        raise RunError("no slide is in the training split")
    _write_json(
        cfg_file,
        {
            "dataset": dataset.path,
            "datasetSha256": digest,
            "config": cfg.to_dict(),
            "splits": splits,
            "trainer": __version__,
        },
    )
    _write_json(os.path.join(run_dir, "dataset.json"), with_splits(dataset, splits))
    return dataset, cfg, splits, digest


def with_splits(dataset: Dataset, splits: dict) -> dict:
    """The dataset file as the run used it: every split filled in, every path absolute (so
    `h2g evaluate --dataset RUN/dataset.json --split test` evaluates the slides the run held out)."""
    slides = []
    for s in dataset.slides:
        entry = {"id": s.id, "slide": s.slide, "annotations": s.annotations}
        if s.mpp is not None:
            entry["mpp"] = s.mpp
        if s.group:
            entry["group"] = s.group
        slides.append({**entry, "split": splits[s.id]})
    out = {
        "schemaVersion": 1,
        "name": dataset.name,
        "createdBy": f"h2g-train {__version__} (splits of the run)",
        "slides": slides,
    }
    return out


def _entries(dataset: Dataset, splits, split):
    return [s for s in dataset.slides if splits[s.id] == split]


def _load_best(path: str, net):
    net.load_state_dict(load_checkpoint(path)["model"])
    return net.eval()


def run(
    dataset_path: str,
    run_dir: str,
    cfg: TrainConfig,
    *,
    out_dir=None,
    resume=False,
    stages=STAGES,
    h2g=None,
    given=None,
) -> dict:
    dataset, cfg, splits, digest = open_run(dataset_path, run_dir, cfg, resume, given)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = select_device(cfg.device)
    log.info("run %s: dataset %s (%d slides), device %s", run_dir, dataset.name, len(dataset.slides), device)
    train, val = _entries(dataset, splits, "train"), _entries(dataset, splits, "val")
    results_file = os.path.join(run_dir, "results.json")
    results = json.load(open(results_file)) if os.path.exists(results_file) else {}
    if "patch" in stages:
        results["patch"] = run_patch_stage(cfg, train, val, run_dir, device, resume)
        _write_json(results_file, results)
    patch_best = os.path.join(run_dir, "patch", "best.pt")
    heat_dir = os.path.join(run_dir, "heatmaps")
    if "heatmaps" in stages:
        patch_net = _load_best(patch_best, PatchClassifier(cfg.width))
        torch.manual_seed(cfg.seed + 1)
        refine_src = resolve_model_set(cfg.init).refinement if cfg.init else RefinementUNet(cfg.refine_width)
        models = heatmap_models(os.path.join(heat_dir, "models"), patch_net, refine_src, cfg)
        make_heatmaps(train + val, heat_dir, models, h2g_command(h2g), cfg.reference)
    if "refine" in stages:
        cache = os.path.join(run_dir, "cache", "refine")
        files = lambda es: [cache_slide(e, os.path.join(heat_dir, f"{e.id}.npy"), cache, cfg) for e in es]  # noqa: E731
        results["refine"] = run_refine_stage(cfg, files(train), files(val), run_dir, device, resume)
        _write_json(results_file, results)
    if "export" in stages:
        out_dir = out_dir or os.path.join(run_dir, "export")
        export_models(cfg, dataset, digest, splits, run_dir, out_dir, results, device)
        results["export"] = out_dir
    return results


def export_models(cfg, dataset, digest, splits, run_dir, out_dir, results, device) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    patch_net = _load_best(os.path.join(run_dir, "patch", "best.pt"), PatchClassifier(cfg.width))
    refine_net = _load_best(os.path.join(run_dir, "refine", "best.pt"), RefinementUNet(cfg.refine_width))
    export_patch(patch_net, os.path.join(out_dir, PATCH_FILE), cfg.patch_size)
    export_refinement(refine_net, os.path.join(out_dir, REFINE_FILE), cfg.refinement_size)
    counts = {s: sum(1 for v in splits.values() if v == s) for s in ("train", "val", "test")}
    training = {
        "dataset": dataset.name,
        "datasetFile": dataset.path,
        "datasetSha256": digest,
        "trainer": f"h2g-train {__version__}",
        "createdAt": utc_now(),
        "parameters": cfg.to_dict(),
        "environment": {"torch": torch.__version__, "python": platform.python_version(), "device": str(device)},
        "splits": counts,
        "results": {k: v for k, v in results.items() if k in ("patch", "refine")},
    }
    return write_manifest(
        out_dir, dataset.name, training=training, patch_size=cfg.patch_size, patch_mpp=cfg.patch_mpp,
        refinement_size=cfg.refinement_size, description=f"H2G-Net trained on {dataset.name} by h2g-train {__version__}",
    )  # fmt: skip
