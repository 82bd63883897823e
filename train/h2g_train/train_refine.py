"""Stage 2: the refinement U-Net on (low-resolution image, heatmap from our pipeline) against the
annotation mask, with the Dice loss, batches of `refine_batch` and gradients accumulated over
`accumulation` batches (the paper: 6 x 4). One epoch is one pass over the training slides in a seeded
order; validation Dice loss on the validation slides picks the best epoch and stops the run after
`refine_patience` epochs without improvement."""

from __future__ import annotations

import os

import numpy as np
import torch

from .batchnorm import estimate_batch_norm
from .config import TrainConfig
from .geometry import read_tumour_polygons
from .losses import dice_loss, hard_dice
from .modelsets import initialise
from .networks import RefinementUNet
from .refine_inputs import augmented_inputs, refinement_inputs, target_mask
from .rules import plan_slide, read_lowres
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
)
from .sampler import sample_rng
from .slides import Slide

STREAM_VAL = 10**6


def cache_slide(entry, heatmap_file: str, cache_dir: str, cfg: TrainConfig) -> str:
    """The slide's stage-2 sample on disk: its low-resolution image (uint8, as the pipeline reads it
    under the run's rules), whose rules make its inputs ('steps'), the raw heatmap and the target on the
    refinement grid. Resizing happens per draw, so the cache holds the pipeline's own inputs, not a
    resampled copy."""
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"{entry.id}.npz")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(heatmap_file):
        return path
    size = cfg.refinement_size
    slide = Slide(entry.slide, entry.mpp)
    try:
        plan = plan_slide(slide, cfg.reference, cfg.patch_mpp, cfg.patch_size)
        lowres = read_lowres(slide, plan, size)
        width, height = slide.size
    finally:
        slide.close()
    target = target_mask(read_tumour_polygons(entry.annotations), width, height, size)
    tmp = path + ".partial.npz"
    heatmap = np.load(heatmap_file).astype(np.float32)
    np.savez_compressed(tmp, lowres=lowres, heatmap=heatmap, target=target, steps=np.array(plan.steps))
    os.replace(tmp, path)
    return path


class RefinementDataset(torch.utils.data.Dataset):
    def __init__(self, files: list[str], size: int, seed: int, stream: int, augment: bool):
        self.files, self.size, self.seed, self.stream, self.augment = files, size, seed, stream, augment

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with np.load(self.files[i]) as d:
            lowres, heatmap, target = d["lowres"], d["heatmap"], d["target"]
            # Caches written before the rules were recorded hold the h2g rules' low-resolution image.
            steps = str(d["steps"]) if "steps" in d else "h2g"
        if self.augment:
            rng = sample_rng(self.seed, self.stream, i)
            image, heat, target = augmented_inputs(steps, lowres, heatmap, target, self.size, rng)
        else:
            image, heat = refinement_inputs(steps, lowres, heatmap, self.size)
        to = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
        return to(image.transpose(2, 0, 1)), to(heat[None]), to(target)


def _loader(files, cfg, stream, augment, shuffle):
    ds = RefinementDataset(files, cfg.refinement_size, cfg.seed, stream, augment)
    g = torch.Generator().manual_seed(cfg.seed * 7919 + stream)
    return torch.utils.data.DataLoader(
        ds, batch_size=cfg.refine_batch, shuffle=shuffle, generator=g, num_workers=min(cfg.workers, len(files))
    )


def calibration(train_files, cfg: TrainConfig, device=None):
    """Unaugmented training slides (up to 16) for batch-norm statistics."""
    return (
        (img.to(device) if device else img, heat.to(device) if device else heat)
        for img, heat, _ in _loader(train_files[:16], cfg, STREAM_VAL, False, False)
    )


def start_network(cfg: TrainConfig, train_files) -> RefinementUNet:
    torch.manual_seed(cfg.seed + 1)
    net = RefinementUNet(cfg.refine_width)
    initialise(net, cfg.init, "refinement", cfg.refine_width, list(calibration(train_files, cfg)))
    return net


@torch.no_grad()
def validate(net, batches, device, precision) -> dict:
    net.eval()
    losses, dices = [], []
    for img, heat, target in batches:
        img, heat, target = img.to(device), heat.to(device), target.to(device)
        with precision.autocast():
            prob = torch.softmax(net(img, heat).float(), dim=1)[:, 1]
        losses.append(dice_loss(prob, target).item() * len(target))
        dices.extend(hard_dice(prob, target).cpu().tolist())
    return {"val_loss": sum(losses) / len(dices), "val_dice": float(np.mean(dices)), "val_slides": len(dices)}


def run_refine_stage(cfg: TrainConfig, train_files, val_files, run_dir: str, device, resume: bool) -> dict:
    rdir = os.path.join(run_dir, "refine")
    os.makedirs(rdir, exist_ok=True)
    last_file = os.path.join(rdir, "last.pt")
    precision = Precision(device, cfg.amp)
    if resume and os.path.exists(last_file):
        state = load_checkpoint(last_file)
        net = RefinementUNet(cfg.refine_width)
        net.load_state_dict(state["model"])
        start_epoch, stopper = state["epoch"] + 1, EarlyStopping(cfg.refine_patience, **state["stopper"])
        log.info("refinement stage: resuming after epoch %d", state["epoch"])
        restore_rng(state.get("rng"))
    else:
        net, state, start_epoch, stopper = start_network(cfg, train_files), None, 0, EarlyStopping(cfg.refine_patience)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.refine_lr)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
    val_batches = _loader(val_files, cfg, STREAM_VAL, False, False) if val_files else None
    for epoch in range(start_epoch, cfg.refine_epochs):
        if stopper.stop:
            break
        net.train()
        timer, total, seen, pending = Timer(), 0.0, 0, 0
        batches = _loader(train_files, cfg, epoch, True, True)
        with progress(len(batches), f"refine epoch {epoch + 1}/{cfg.refine_epochs}") as bar:
            for img, heat, target in batches:
                img, heat, target = img.to(device), heat.to(device), target.to(device)
                with precision.autocast():
                    prob = torch.softmax(net(img, heat).float(), dim=1)[:, 1]
                    loss = dice_loss(prob, target)
                precision.backward(loss / cfg.accumulation)
                pending += 1
                if pending == cfg.accumulation:
                    precision.step(optimizer)
                    pending = 0
                total, seen = total + loss.item(), seen + 1
                bar.set_postfix(loss=f"{total / seen:.4f}")
                bar.update(1)
        if pending:  # an epoch's last, partial accumulation still counts
            precision.step(optimizer)
        record = {"epoch": epoch, "train_loss": total / max(seen, 1), "seconds": timer()}
        estimate_batch_norm(net, calibration(train_files, cfg, device))  # as in the patch stage
        if val_batches is not None:
            record.update(validate(net, val_batches, device, precision))
        end_epoch(rdir, "refine", record, stopper, net, optimizer, cfg.refine_width)
    return best_metrics(rdir)
