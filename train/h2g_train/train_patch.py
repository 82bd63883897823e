"""Stage 1: the MobileNetV2 patch classifier, on patches from the hierarchical sampler, with the
cluster-weighted cross-entropy. After each epoch the batch-norm statistics are measured afresh on a
fixed set of training patches (running averages lag the weights), then validation (a fixed seeded set
of patches from the validation slides); the best epoch by validation loss is kept, training stops
after `patience` epochs without improvement; `run/patch/last.pt` lets a run resume where it stopped."""

from __future__ import annotations

import copy
import os

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from .augment import augment_patch
from .batchnorm import estimate_batch_norm
from .clusters import Clusterer
from .config import TrainConfig
from .losses import cluster_weighted_ce
from .modelsets import initialise
from .networks import PatchClassifier
from .runtime import (
    EarlyStopping,
    Precision,
    Timer,
    best_metrics,
    end_epoch,
    load_checkpoint,
    log,
    progress,
    restore_rng,
    save_atomic,
)
from .sampler import HierarchicalSampler, PatchDataset, index_slide

# Sample streams besides the epochs (0, 1, ...): each its own reproducible sequence of draws.
STREAM_VAL, STREAM_CLUSTERS, STREAM_CALIBRATION = 10**6, 10**6 + 1, 10**6 + 2


def build_sampler(entries, cfg: TrainConfig, cache_dir: str) -> HierarchicalSampler | None:
    if not entries:
        return None
    return HierarchicalSampler(
        [index_slide(e, cache_dir, cfg.mask_um, cfg.refinement_size, cfg.reference) for e in entries]
    )


def loader(sampler, cfg: TrainConfig, n: int, stream: int, augment=None, device=None):
    ds = PatchDataset(sampler, n, cfg.seed, stream, cfg.patch_size, cfg.patch_mpp, augment, reference=cfg.reference)
    return torch.utils.data.DataLoader(
        ds, batch_size=cfg.batch_size, shuffle=False, num_workers=cfg.workers,
        pin_memory=device is not None and device.type == "cuda",
    )  # fmt: skip


def calibration(sampler, cfg: TrainConfig, device=None):
    """A fixed set of unaugmented training patches for batch-norm statistics (up to 4 batches)."""
    return (
        (x.to(device) if device else x,)
        for x, _, _ in loader(sampler, cfg, min(256, 4 * cfg.batch_size), STREAM_CALIBRATION)
    )


def start_network(cfg: TrainConfig, sampler) -> PatchClassifier:
    """The seeded initial network, or the installed one when fine-tuning; either way with batch-norm
    statistics measured on training patches, so its eval-mode features (the clusters') mean something."""
    torch.manual_seed(cfg.seed)
    net = PatchClassifier(cfg.width)
    initialise(net, cfg.init, "patch", cfg.width, list(calibration(sampler, cfg)))
    return net


@torch.no_grad()
def fit_clusters(feature_net, sampler, cfg: TrainConfig, device) -> Clusterer:
    feats = [
        feature_net.features(x.to(device)).float().cpu().numpy()
        for x, _, _ in loader(sampler, cfg, cfg.cluster_sample, STREAM_CLUSTERS)
    ]
    return Clusterer.fit(np.concatenate(feats), cfg.clusters, cfg.seed)


@torch.no_grad()
def validate(net, feature_net, clusterer, batches, device, precision) -> dict:
    net.eval()
    losses, probs, labels = [], [], []
    for x, y, _ in batches:
        x, y = x.to(device), y.to(device)
        with precision.autocast():
            logits = net(x)
        losses.append(
            (cluster_weighted_ce(logits, y, clusterer.assign(feature_net.features(x)), clusterer.k).item(), len(y))
        )
        probs.append(F.softmax(logits.float(), dim=1)[:, 1].cpu().numpy())
        labels.append(y.cpu().numpy())
    p, t = np.concatenate(probs), np.concatenate(labels)
    n = sum(k for _, k in losses)
    return {
        "val_loss": sum(v * k for v, k in losses) / n,
        "val_auc": float(roc_auc_score(t, p)) if len(set(t.tolist())) == 2 else None,
        "val_accuracy": float(((p > 0.5) == (t == 1)).mean()),
        "val_patches": int(n),
    }


def run_patch_stage(cfg: TrainConfig, train_entries, val_entries, run_dir: str, device, resume: bool) -> dict:
    pdir = os.path.join(run_dir, "patch")
    os.makedirs(pdir, exist_ok=True)
    cache = os.path.join(run_dir, "cache")
    train_sampler = build_sampler(train_entries, cfg, cache)
    val_sampler = build_sampler(val_entries, cfg, cache)
    precision = Precision(device, cfg.amp)
    last_file, start_file = os.path.join(pdir, "last.pt"), os.path.join(pdir, "start.pt")
    net = PatchClassifier(cfg.width)
    if resume and os.path.exists(last_file):
        state = load_checkpoint(last_file)
        net.load_state_dict(state["model"])
        start_epoch = state["epoch"] + 1
        stopper = EarlyStopping(cfg.patience, **state["stopper"])
        clusterer = Clusterer.from_state(state["clusters"])
        feature_net = PatchClassifier(cfg.width)
        feature_net.load_state_dict(load_checkpoint(start_file)["model"])
        log.info("patch stage: resuming after epoch %d", state["epoch"])
        restore_rng(state.get("rng"))
    else:
        net = start_network(cfg, train_sampler)
        feature_net = copy.deepcopy(net)
        save_atomic({"model": feature_net.state_dict()}, start_file)
        state, start_epoch, stopper = None, 0, EarlyStopping(cfg.patience)
        clusterer = None
    net.to(device)
    feature_net.to(device).eval()
    for p in feature_net.parameters():
        p.requires_grad_(False)
    if clusterer is None:
        timer = Timer()
        clusterer = fit_clusters(feature_net, train_sampler, cfg, device)
        log.info("clusters: k = %d fitted on %d patches in %.1f s", clusterer.k, cfg.cluster_sample, timer())
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
    val_batches = (
        loader(val_sampler, cfg, cfg.val_patches, STREAM_VAL, device=device)
        if val_sampler and cfg.val_patches
        else None
    )
    for epoch in range(start_epoch, cfg.epochs):
        if stopper.stop:
            break
        net.train()
        timer, total, seen = Timer(), 0.0, 0
        batches = loader(train_sampler, cfg, cfg.steps_per_epoch * cfg.batch_size, epoch, augment_patch, device)
        with progress(cfg.steps_per_epoch, f"patch epoch {epoch + 1}/{cfg.epochs}") as bar:
            for x, y, _ in batches:
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                with torch.no_grad():
                    q = clusterer.assign(feature_net.features(x))
                with precision.autocast():
                    loss = cluster_weighted_ce(net(x), y, q, clusterer.k)
                precision.backward(loss)
                precision.step(optimizer)
                total, seen = total + loss.item(), seen + 1
                bar.set_postfix(loss=f"{total / seen:.4f}")
                bar.update(1)
        record = {"epoch": epoch, "train_loss": total / max(seen, 1), "seconds": timer(), "steps_per_s": seen / timer()}
        # Running averages lag the weights (badly after few steps): measure the statistics the
        # epoch's final weights give instead, before validating and saving ("precise batch norm").
        estimate_batch_norm(net, calibration(train_sampler, cfg, device))
        if val_batches is not None:
            record.update(validate(net, feature_net, clusterer, val_batches, device, precision))
        end_epoch(pdir, "patch", record, stopper, net, optimizer, cfg.width, {"clusters": clusterer.state()})
    return best_metrics(pdir)
